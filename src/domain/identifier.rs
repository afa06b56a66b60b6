//! `UserIdentifier` (contract §4): a GUID in any of the accepted forms, `me`, or a login.

use std::fmt;

/// Longest identifier accepted, in characters, after trimming.
pub const MAX_IDENTIFIER_CHARS: usize = 256;

/// A user's id. Always printed lowercase and hyphenated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub uuid::Uuid);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// A login, normalised for comparison: Unicode lower case, computed here in Rust so that
/// SQLite and PostgreSQL compare exactly the same keys whatever their collation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Login(String);

impl Login {
    pub fn from_raw(raw: &str) -> Self {
        Self(raw.to_lowercase())
    }

    /// The comparison key stored in `users.login_key`.
    pub fn key(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserIdentifier {
    Me,
    Id(UserId),
    Login(Login),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("the user identifier is empty")]
    Empty,
    #[error("the user identifier is longer than {MAX_IDENTIFIER_CHARS} characters")]
    TooLong,
    #[error("the user identifier contains a control character")]
    ControlCharacter,
}

impl UserIdentifier {
    pub fn parse(raw: &str) -> Result<Self, IdentifierError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(IdentifierError::Empty);
        }
        if trimmed.chars().count() > MAX_IDENTIFIER_CHARS {
            return Err(IdentifierError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(IdentifierError::ControlCharacter);
        }
        if trimmed.eq_ignore_ascii_case("me") {
            return Ok(Self::Me);
        }
        if let Some(id) = parse_guid(trimmed) {
            return Ok(Self::Id(UserId(id)));
        }
        Ok(Self::Login(Login::from_raw(trimmed)))
    }
}

/// Accepts exactly the .NET forms named by the contract: `N` (32 digits), `D` (hyphenated),
/// and `D` wrapped in `{}` (`B`) or `()` (`P`). Anything else is not a GUID.
pub fn parse_guid(text: &str) -> Option<uuid::Uuid> {
    let inner = match text.as_bytes() {
        [b'{', .., b'}'] | [b'(', .., b')'] => &text[1..text.len() - 1],
        _ => text,
    };
    let wrapped = inner.len() != text.len();
    let well_formed = match inner.len() {
        32 => !wrapped && inner.bytes().all(|b| b.is_ascii_hexdigit()),
        36 => inner.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        }),
        _ => false,
    };
    if !well_formed {
        return None;
    }
    uuid::Uuid::try_parse(inner).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "5f0c2a3e-8b1d-4c6e-9a7f-1d2e3f4a5b6c";

    fn id() -> UserIdentifier {
        UserIdentifier::Id(UserId(uuid::Uuid::parse_str(ID).unwrap()))
    }

    #[test]
    fn every_guid_form_in_any_case_names_the_same_user() {
        for form in [
            ID.to_string(),
            ID.to_uppercase(),
            ID.replace('-', ""),
            ID.replace('-', "").to_uppercase(),
            format!("{{{ID}}}"),
            format!("({})", ID.to_uppercase()),
            format!("  \t{ID}\n"),
        ] {
            assert_eq!(UserIdentifier::parse(&form), Ok(id()), "{form}");
        }
    }

    #[test]
    fn near_guids_are_logins() {
        for form in [
            format!("{{{}}}", ID.replace('-', "")),
            format!("{{{ID})"),
            format!("urn:uuid:{ID}"),
            ID[..35].to_string(),
            format!("{ID}0"),
            ID.replacen('-', "", 1),
        ] {
            assert!(
                matches!(UserIdentifier::parse(&form), Ok(UserIdentifier::Login(_))),
                "{form}"
            );
        }
    }

    #[test]
    fn me_in_any_case() {
        for form in ["me", "ME", "Me", " mE "] {
            assert_eq!(UserIdentifier::parse(form), Ok(UserIdentifier::Me));
        }
    }

    #[test]
    fn logins_compare_by_unicode_lower_case() {
        assert_eq!(
            UserIdentifier::parse(" ÁNA.K "),
            Ok(UserIdentifier::Login(Login::from_raw("ána.k")))
        );
        // 'İ' lower-cases to two code points in Rust; the key must keep them.
        assert_eq!(Login::from_raw("İ").key(), "i\u{307}");
    }

    #[test]
    fn malformed_identifiers_are_refused() {
        assert_eq!(UserIdentifier::parse(""), Err(IdentifierError::Empty));
        assert_eq!(UserIdentifier::parse(" \t "), Err(IdentifierError::Empty));
        assert_eq!(
            UserIdentifier::parse(&"a".repeat(257)),
            Err(IdentifierError::TooLong)
        );
        assert!(UserIdentifier::parse(&"é".repeat(256)).is_ok());
        assert_eq!(
            UserIdentifier::parse("ana\u{0}k"),
            Err(IdentifierError::ControlCharacter)
        );
        assert_eq!(
            UserIdentifier::parse("ana\u{85}k"),
            Err(IdentifierError::ControlCharacter)
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn guid_text() -> impl Strategy<Value = (uuid::Uuid, String)> {
        (
            any::<u128>(),
            0..4usize,
            any::<bool>(),
            "[ \t\n]{0,3}",
            "[ \t\n]{0,3}",
        )
            .prop_map(|(bits, form, upper, lead, trail)| {
                let id = uuid::Uuid::from_u128(bits);
                let text = match form {
                    0 => id.simple().to_string(),
                    1 => id.hyphenated().to_string(),
                    2 => format!("{{{}}}", id.hyphenated()),
                    _ => format!("({})", id.hyphenated()),
                };
                let text = if upper { text.to_uppercase() } else { text };
                (id, format!("{lead}{text}{trail}"))
            })
    }

    proptest! {
        #[test]
        fn every_accepted_guid_form_parses_to_its_id((id, text) in guid_text()) {
            prop_assert_eq!(UserIdentifier::parse(&text), Ok(UserIdentifier::Id(UserId(id))));
        }

        #[test]
        fn any_input_parses_or_is_refused_for_a_stated_reason(text in any::<String>()) {
            let trimmed = text.trim();
            match UserIdentifier::parse(&text) {
                Ok(UserIdentifier::Login(login)) => {
                    prop_assert_eq!(login.key(), trimmed.to_lowercase());
                    prop_assert!(parse_guid(trimmed).is_none());
                    prop_assert!(!trimmed.eq_ignore_ascii_case("me"));
                }
                Ok(UserIdentifier::Me) => prop_assert!(trimmed.eq_ignore_ascii_case("me")),
                Ok(UserIdentifier::Id(UserId(id))) => prop_assert_eq!(parse_guid(trimmed), Some(id)),
                Err(IdentifierError::Empty) => prop_assert!(trimmed.is_empty()),
                Err(IdentifierError::TooLong) => prop_assert!(trimmed.chars().count() > MAX_IDENTIFIER_CHARS),
                Err(IdentifierError::ControlCharacter) => prop_assert!(trimmed.chars().any(char::is_control)),
            }
        }

        #[test]
        fn logins_are_case_insensitive(text in "[a-zA-Z0-9._@ÄÖÜäöüÉé-]{1,40}") {
            prop_assert_eq!(UserIdentifier::parse(&text.to_lowercase()), UserIdentifier::parse(&text.to_uppercase()));
        }
    }
}
