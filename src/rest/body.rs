//! The Web API JSON shape (`TeacherSessionViewModel`), written byte for byte as Json.NET did:
//! keys in declaration order, `null` for missing strings, Json.NET's string escaping.

use crate::domain::TeacherSession;

/// `{"Message":"…"}`.
pub fn message(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 16);
    out.extend_from_slice(b"{\"Message\":");
    string(&mut out, text);
    out.push(b'}');
    out
}

pub fn sessions(sessions: &[TeacherSession]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + sessions.len() * 512);
    out.push(b'[');
    for (i, s) in sessions.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"Name\":");
        optional(&mut out, s.teacher_name.as_deref());
        out.extend_from_slice(b",\"Contact\":");
        optional(&mut out, s.teacher_contact.as_deref());
        out.extend_from_slice(b",\"Photo\":");
        optional(&mut out, s.teacher_photo.as_deref());
        out.extend_from_slice(b",\"StartDate\":");
        out.extend_from_slice(s.start.unix_seconds().to_string().as_bytes());
        out.extend_from_slice(b",\"EndDate\":");
        out.extend_from_slice(s.end.unix_seconds().to_string().as_bytes());
        out.extend_from_slice(b",\"PartnerId\":");
        guid(&mut out, &s.partner_id);
        out.extend_from_slice(b",\"ContentItemId\":");
        guid(&mut out, &s.content_item_id);
        out.extend_from_slice(b",\"TeacherId\":");
        guid(&mut out, &s.teacher_id);
        out.extend_from_slice(b",\"MeetingUrl\":");
        string(&mut out, &s.meeting_url);
        out.extend_from_slice(b",\"StartDateTime\":");
        string(&mut out, &s.start.to_json_net());
        out.extend_from_slice(b",\"EndDateTime\":");
        string(&mut out, &s.end.to_json_net());
        out.push(b'}');
    }
    out.push(b']');
    out
}

fn guid(out: &mut Vec<u8>, id: &uuid::Uuid) {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    out.push(b'"');
    out.extend_from_slice(id.hyphenated().encode_lower(&mut buf).as_bytes());
    out.push(b'"');
}

fn optional(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => string(out, text),
        None => out.extend_from_slice(b"null"),
    }
}

/// Json.NET's default escaping: quote, backslash and control characters (short forms where
/// JSON has them), plus U+0085, U+2028 and U+2029; everything else as UTF-8.
fn string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let escape: Option<&[u8]> = match c {
            '"' => Some(b"\\\""),
            '\\' => Some(b"\\\\"),
            '\n' => Some(b"\\n"),
            '\r' => Some(b"\\r"),
            '\t' => Some(b"\\t"),
            '\u{8}' => Some(b"\\b"),
            '\u{c}' => Some(b"\\f"),
            _ => None,
        };
        let needs_unicode = matches!(c, '\u{0}'..='\u{1f}' | '\u{85}' | '\u{2028}' | '\u{2029}');
        if escape.is_none() && !needs_unicode {
            continue;
        }
        out.extend_from_slice(&text.as_bytes()[start..i]);
        match escape {
            Some(bytes) => out.extend_from_slice(bytes),
            None => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
        }
        start = i + c.len_utf8();
    }
    out.extend_from_slice(&text.as_bytes()[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parse_instant;

    #[test]
    fn escapes_as_json_net_does() {
        let mut out = Vec::new();
        string(&mut out, "a\"b\\c\n\u{1}é\u{2028}/<>");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""a\"b\\c\n\u0001é\u2028/<>""#
        );
    }

    #[test]
    fn one_session_in_key_order_with_nulls() {
        let id = uuid::Uuid::parse_str("420F29C2-A0C1-4F10-86B5-3A52C6382360").unwrap();
        let session = TeacherSession {
            teacher_name: Some("Ana".into()),
            teacher_contact: None,
            teacher_photo: None,
            start: parse_instant("2026-03-06T14:50:50.7282163+00:00").unwrap(),
            end: parse_instant("2026-03-06T15:50:50Z").unwrap(),
            partner_id: id,
            content_item_id: id,
            teacher_id: id,
            meeting_url: "https://meet/1".into(),
        };
        let g = "420f29c2-a0c1-4f10-86b5-3a52c6382360";
        assert_eq!(
            String::from_utf8(sessions(&[session])).unwrap(),
            format!(
                r#"[{{"Name":"Ana","Contact":null,"Photo":null,"StartDate":1772808650,"EndDate":1772812250,"PartnerId":"{g}","ContentItemId":"{g}","TeacherId":"{g}","MeetingUrl":"https://meet/1","StartDateTime":"2026-03-06T14:50:50.728216+00:00","EndDateTime":"2026-03-06T15:50:50+00:00"}}]"#
            )
        );
        assert_eq!(sessions(&[]), b"[]");
        assert_eq!(message("x"), br#"{"Message":"x"}"#);
    }
}
