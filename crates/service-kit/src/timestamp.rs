//! Times as the services show and store them, written once.
//!
//! - [`rfc3339`]: what an API answer shows (`time`'s RFC 3339, fraction as needed);
//!   notification's answers show their stored [`sortable`] text instead, as its
//!   contract always has.
//! - [`sortable`]: what a document stores when the store sorts by it: RFC 3339 in UTC
//!   with exactly nine fractional digits. The fixed width is the point: the store sorts
//!   strings, and `time`'s own RFC 3339 output trims trailing zeros (`...:05.1Z` sorts
//!   after `...:05.12Z`), so only a fixed-width form makes text order equal time order.

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// The RFC 3339 text of `at`, as API answers show times.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .expect("a four-digit-year time always formats")
}

/// `#[serde(with = "service_kit::timestamp::sortable")]` for a time the store sorts by.
pub mod sortable {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::{
        OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339,
        macros::format_description,
    };

    const FIXED: &[time::format_description::BorrowedFormatItem<'static>] =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z");

    /// The fixed-width UTC text of `at`, whatever offset it was read with.
    pub fn format(at: OffsetDateTime) -> String {
        at.to_offset(UtcOffset::UTC)
            .format(FIXED)
            .expect("a four-digit-year UTC time always formats")
    }

    pub fn serialize<S: Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(*at))
    }

    /// Reads any RFC 3339 time, so documents written in another form still load.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::{sortable::format, *};

    #[test]
    fn text_order_is_time_order_even_when_fractions_differ_in_length() {
        let earlier = datetime!(2024-05-01 10:00:05.1 UTC);
        let later = datetime!(2024-05-01 10:00:05.12 UTC);
        assert!(format(earlier) < format(later));
        assert_eq!(format(earlier), "2024-05-01T10:00:05.100000000Z");
    }

    #[test]
    fn other_offsets_are_written_in_utc_and_read_back_as_the_same_instant() {
        let paris = datetime!(2024-05-01 12:00:00 +02:00);
        let text = format(paris);
        assert_eq!(text, "2024-05-01T10:00:00.000000000Z");
        assert_eq!(OffsetDateTime::parse(&text, &Rfc3339).unwrap(), paris);
    }

    #[test]
    fn answers_show_plain_rfc3339() {
        assert_eq!(
            rfc3339(datetime!(2024-05-01 10:00:05.5 UTC)),
            "2024-05-01T10:00:05.5Z"
        );
    }
}
