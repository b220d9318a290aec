//! Time as KurrentDB writes it: .NET ticks (100 ns) since the Unix epoch
//! (a record's `created`, gossip's time stamps), and their text
//! (`$eventTimestamp`, the epoch record's `timeStamp`).

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in .NET ticks (100 ns) since the Unix epoch.
pub(crate) fn now_ticks() -> i64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_nanos() / 100) as i64
}

/// .NET ticks since the Unix epoch as `yyyy-MM-ddTHH:mm:ss.ffffffZ` (UTC), the
/// format of `$eventTimestamp`.
pub(crate) fn timestamp(ticks: i64) -> String {
    let micros = ticks.div_euclid(10);
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:06}Z",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_with_six_fraction_digits() {
        // 2021-03-04T05:06:07.123456Z
        let secs = 1_614_834_367i64;
        let ticks = secs * 10_000_000 + 1_234_560;
        assert_eq!(timestamp(ticks), "2021-03-04T05:06:07.123456Z");
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000000Z");
    }
}
