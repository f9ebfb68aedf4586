//! How times read: on a page (one formatter, two lengths) and in JSON (RFC 3339).

/// Unix seconds as a UTC date and time a person reads, e.g. "24 Nov 2026, 18:05 UTC".
pub fn human_time(unix: i64) -> String {
    format(
        unix,
        time::macros::format_description!(
            "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
        ),
    )
}

/// Unix seconds as a date, e.g. "24 Nov 2026".
pub fn human_date(unix: i64) -> String {
    format(unix, time::macros::format_description!("[day padding:none] [month repr:short] [year]"))
}

/// Unix seconds as an RFC 3339 UTC timestamp, for JSON answers.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

fn format(unix: i64, description: &[time::format_description::BorrowedFormatItem<'_>]) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(description).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_read_as_day_month_year() {
        assert_eq!(super::human_date(0), "1 Jan 1970");
        assert_eq!(super::human_time(1_764_007_500), "24 Nov 2025, 18:05 UTC");
    }
}
