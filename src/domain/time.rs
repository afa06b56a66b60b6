//! Parsing the import's ISO 8601 times and writing instants the way each surface needs.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Timelike, Utc};

use super::Instant;

/// Accepts RFC 3339 / ISO 8601 date-times with `T` or a space, any number of fractional digits,
/// and an offset (`Z`, `+02:00`, `+0200`) or none (then UTC). Precision below a microsecond is
/// truncated, as the contract requires for 7-digit .NET fractions.
pub fn parse_instant(text: &str) -> Result<Instant, String> {
    let text = text.trim();
    let with_offset = [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
    ];
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(Instant::from_chrono(at.with_timezone(&Utc)));
    }
    for format in with_offset {
        if let Ok(at) = DateTime::parse_from_str(text, format) {
            return Ok(Instant::from_chrono(at.with_timezone(&Utc)));
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(Instant::from_chrono(at.and_utc()));
        }
    }
    Err(format!(
        "{text:?} is not an ISO 8601 date and time (expected e.g. 2026-03-06T14:50:50.7282163+00:00)"
    ))
}

impl Instant {
    /// RFC 3339 in UTC with a `Z`, fraction only as long as needed: the GraphQL `DateTime`.
    pub fn to_rfc3339(self) -> String {
        self.to_chrono()
            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    /// As Json.NET writes a UTC `DateTimeOffset` (`yyyy-MM-ddTHH:mm:ss.FFFFFFFK`): up to seven
    /// fractional digits with trailing zeros dropped (no dot when there is no fraction) and
    /// `+00:00`.
    pub fn to_json_net(self) -> String {
        let at = self.to_chrono();
        let mut out = at.format("%Y-%m-%dT%H:%M:%S").to_string();
        let ticks = at.nanosecond() / 100; // .NET ticks: 7 digits
        if ticks != 0 {
            let digits = format!("{ticks:07}");
            out.push('.');
            out.push_str(digits.trim_end_matches('0'));
        }
        out.push_str("+00:00");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Instant {
        parse_instant(text).unwrap()
    }

    #[test]
    fn offsets_become_utc_and_seven_digits_truncate_to_micros() {
        let utc = at("2026-03-06T14:50:50.7282163+00:00");
        assert_eq!(at("2026-03-06T16:50:50.7282163+02:00"), utc);
        assert_eq!(at("2026-03-06T16:50:50.7282169+0200"), utc);
        assert_eq!(at("2026-03-06 14:50:50.728216Z"), utc);
        assert_eq!(utc.to_json_net(), "2026-03-06T14:50:50.728216+00:00");
        assert_eq!(utc.to_rfc3339(), "2026-03-06T14:50:50.728216Z");
    }

    #[test]
    fn zone_less_times_are_utc() {
        assert_eq!(at("2026-03-06 14:50:50"), at("2026-03-06T14:50:50Z"));
        assert_eq!(at("2026-03-06T14:50"), at("2026-03-06T14:50:00+00:00"));
        assert_eq!(
            at("2026-03-06 14:50:50").to_json_net(),
            "2026-03-06T14:50:50+00:00"
        );
        assert_eq!(
            at("2026-03-06T14:50:50.5Z").to_json_net(),
            "2026-03-06T14:50:50.5+00:00"
        );
    }

    #[test]
    fn unix_seconds_round_toward_the_past() {
        assert_eq!(at("1970-01-01T00:00:01.9Z").unix_seconds(), 1);
        assert_eq!(at("1969-12-31T23:59:59.5Z").unix_seconds(), -1);
    }

    #[test]
    fn garbage_is_refused() {
        for text in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-03-06",
            "1741272650",
        ] {
            assert!(parse_instant(text).is_err(), "{text}");
        }
    }
}
