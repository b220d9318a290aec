//! RFC 3339 timestamps (UTC, microseconds) for the `created_at` metadata key,
//! without a date-time dependency: the conversion between days since the Unix
//! epoch and a proleptic Gregorian date is done here.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Cuts a time to whole microseconds, the precision `created_at` is stored with,
/// so that a time survives a round trip through the store unchanged.
pub(crate) fn truncate_to_micros(time: SystemTime) -> SystemTime {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => UNIX_EPOCH + Duration::new(since.as_secs(), since.subsec_micros() * 1_000),
        Err(_) => UNIX_EPOCH,
    }
}

/// Formats a time as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (times before 1970 are
/// written as the epoch).
pub(crate) fn format_rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (year, month, day) = date_from_days((secs / 86_400) as i64);
    let in_day = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        in_day / 3_600,
        in_day % 3_600 / 60,
        in_day % 60,
        since.subsec_micros()
    )
}

/// Parses what [`format_rfc3339`] writes, and more generally
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00)`; `None` for anything else.
pub(crate) fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let text = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))?;
    let (date, clock) = text.split_once(['T', 't', ' '])?;
    let mut date_parts = date.splitn(3, '-');
    let year: i64 = date_parts.next()?.parse().ok()?;
    let month: i64 = date_parts.next()?.parse().ok()?;
    let day: i64 = date_parts.next()?.parse().ok()?;
    let (clock, fraction) = match clock.split_once('.') {
        Some((clock, fraction)) => (clock, fraction),
        None => (clock, ""),
    };
    let mut clock_parts = clock.splitn(3, ':');
    let hour: u64 = clock_parts.next()?.parse().ok()?;
    let minute: u64 = clock_parts.next()?.parse().ok()?;
    let second: u64 = clock_parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos: u32 = 0;
    for (i, digit) in fraction.bytes().take(9).enumerate() {
        nanos += u32::from(digit - b'0') * 10u32.pow(8 - i as u32);
    }
    let days = u64::try_from(days_from_date(year, month, day)).ok()?;
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// The (year, month, day) of a count of days since 1970-01-01.
fn date_from_days(days: i64) -> (i64, u32, u32) {
    // Count from 0000-03-01 so that the leap day ends a year, in 400-year eras.
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The count of days since 1970-01-01 of a date (the inverse of
/// [`date_from_days`]).
fn days_from_date(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(format_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let leap = UNIX_EPOCH + Duration::new(951_782_400 + 3_723, 5_000);
        assert_eq!(format_rfc3339(leap), "2000-02-29T01:02:03.000005Z");
        assert_eq!(parse_rfc3339("2000-02-29T01:02:03.000005Z"), Some(leap));
        assert_eq!(
            parse_rfc3339("2000-02-29T01:02:03.000005+00:00"),
            Some(leap)
        );
        assert_eq!(parse_rfc3339("2000-02-29 01:02:03"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn round_trips_every_day_for_centuries() {
        for days in (-1_000..200_000).step_by(7) {
            let (y, m, d) = date_from_days(days);
            assert_eq!(days_from_date(y, i64::from(m), i64::from(d)), days);
        }
        let now = truncate_to_micros(SystemTime::now());
        assert_eq!(parse_rfc3339(&format_rfc3339(now)), Some(now));
    }
}
