//! The `Accept` header as a list of media ranges with their quality, in the order sent. Both
//! surfaces negotiate from this; each decides what it offers.

use axum::http::{header, HeaderMap};

pub struct MediaRange {
    /// Lower-cased `type/subtype`, parameters other than `q` dropped.
    pub media: String,
    pub q: f32,
}

/// Every range of every `Accept` header; `None` when there is no `Accept` header at all.
/// Unreadable values and empty items are skipped; a malformed `q` counts as 1.
pub fn ranges(headers: &HeaderMap) -> Option<Vec<MediaRange>> {
    let mut values = headers.get_all(header::ACCEPT).iter().peekable();
    values.peek()?;
    let mut ranges = Vec::new();
    for value in values {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            if media.is_empty() {
                continue;
            }
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .filter(|q| (0.0..=1.0).contains(q))
                .unwrap_or(1.0);
            ranges.push(MediaRange { media, q });
        }
    }
    Some(ranges)
}
