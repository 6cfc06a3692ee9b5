//! Ground Truth timestamps to and from Unix epoch time, without a date library.
//!
//! Forms read (all UTC):
//! - `creation-date` in output metadata: `2018-10-18T22:18:13.527256` (microseconds, no zone);
//! - the variant seen in one video example: `2020-05-15T08:01:16+0000` (numeric offset);
//! - worker responses: `2020-12-28T18:59:15.191Z` (milliseconds, `Z`), also without fraction.
//!
//! Any fraction of 1–9 digits and any of `Z`, `±HHMM`, `±HH:MM` or no zone (= UTC) is accepted.
//! Writers use [`format_creation_date`] and [`format_worker_timestamp`]. The civil-date conversion
//! is Howard Hinnant's `days_from_civil` / `civil_from_days` (proleptic Gregorian calendar).
//!
//! Must not depend on any other module.

/// A timestamp string that is not one of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {text:?}: {reason}")]
pub struct TimestampError {
    /// The text that was read.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Days since 1970-01-01 for a proleptic Gregorian date (`month` 1–12, `day` 1–31).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `(year, month, day)` of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    // day and month are within the ranges noted above, so the casts are lossless.
    (year, month as u32, day as u32)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            if leap { 29 } else { 28 }
        }
    }
}

/// A cursor over the ASCII bytes of a timestamp.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let slice = self.bytes.get(self.pos..self.pos + n)?;
        let mut v = 0u32;
        for b in slice {
            if !b.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(b - b'0');
        }
        self.pos += n;
        Some(v)
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.bytes.get(self.pos) == Some(&c)).then(|| self.pos += 1)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }
}

/// Parses any accepted form into microseconds since the Unix epoch (UTC). Digits beyond
/// microseconds are truncated.
pub fn parse_timestamp_micros(text: &str) -> Result<i64, TimestampError> {
    let err = |reason| TimestampError { text: text.to_owned(), reason };
    let mut c = Cursor { bytes: text.as_bytes(), pos: 0 };
    let shape = "expected YYYY-MM-DDTHH:MM:SS";
    let year = c.digits(4).ok_or_else(|| err(shape))?;
    c.expect(b'-').ok_or_else(|| err(shape))?;
    let month = c.digits(2).ok_or_else(|| err(shape))?;
    c.expect(b'-').ok_or_else(|| err(shape))?;
    let day = c.digits(2).ok_or_else(|| err(shape))?;
    c.expect(b'T').ok_or_else(|| err(shape))?;
    let hour = c.digits(2).ok_or_else(|| err(shape))?;
    c.expect(b':').ok_or_else(|| err(shape))?;
    let minute = c.digits(2).ok_or_else(|| err(shape))?;
    c.expect(b':').ok_or_else(|| err(shape))?;
    let second = c.digits(2).ok_or_else(|| err(shape))?;
    let year = i64::from(year);
    if !(1..=12).contains(&month) {
        return Err(err("month out of range"));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(err("day out of range"));
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(err("time of day out of range"));
    }
    let mut micros = 0i64;
    if c.peek() == Some(b'.') {
        c.pos += 1;
        let start = c.pos;
        let mut scale = 100_000i64;
        while let Some(b) = c.peek().filter(u8::is_ascii_digit) {
            micros += i64::from(b - b'0') * scale;
            scale /= 10;
            c.pos += 1;
        }
        let n = c.pos - start;
        if n == 0 || n > 9 {
            return Err(err("fraction of a second must have 1 to 9 digits"));
        }
    }
    let offset_secs = match c.peek() {
        None => 0,
        Some(b'Z') => {
            c.pos += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            c.pos += 1;
            let zone = "zone offset must be ±HHMM or ±HH:MM";
            let h = c.digits(2).ok_or_else(|| err(zone))?;
            if c.peek() == Some(b':') {
                c.pos += 1;
            }
            let m = c.digits(2).ok_or_else(|| err(zone))?;
            if h > 23 || m > 59 {
                return Err(err(zone));
            }
            let secs = i64::from(h * 3600 + m * 60);
            if sign == b'+' { secs } else { -secs }
        }
        Some(_) => return Err(err("unexpected text after the time")),
    };
    if c.pos != c.bytes.len() {
        return Err(err("unexpected text after the zone"));
    }
    // A leap second (:60) is folded onto the next second, as Unix time does.
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset_secs;
    Ok(secs * 1_000_000 + micros)
}

/// Parses any accepted form into milliseconds since the Unix epoch (UTC), rounding down.
pub fn parse_timestamp_ms(text: &str) -> Result<i64, TimestampError> {
    parse_timestamp_micros(text).map(|us| us.div_euclid(1000))
}

fn split_micros(micros: i64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000) as u32; // [0, 999_999]
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32; // [0, 86_399]
    let (y, mo, d) = civil_from_days(days);
    (y, mo, d, sod / 3600, sod / 60 % 60, sod % 60, frac)
}

/// `creation-date` form from microseconds: `YYYY-MM-DDTHH:MM:SS.ffffff` (UTC, no zone).
pub fn format_creation_date_micros(micros: i64) -> String {
    let (y, mo, d, h, mi, s, us) = split_micros(micros);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}")
}

/// `creation-date` form from milliseconds: `YYYY-MM-DDTHH:MM:SS.ffffff` (UTC, no zone).
pub fn format_creation_date(ms: i64) -> String {
    format_creation_date_micros(ms.saturating_mul(1000))
}

/// Worker-response form: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_worker_timestamp(ms: i64) -> String {
    let (y, mo, d, h, mi, s, us) = split_micros(ms.saturating_mul(1000));
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z", us / 1000)
}

/// Worker-response file name as observed under `annotations/worker-response/iteration-<n>/<id>/`:
/// `YYYY-MM-DD_HH:MM:SS.json` (UTC, whole seconds).
pub fn worker_response_file_name(ms: i64) -> String {
    let (y, mo, d, h, mi, s, _) = split_micros(ms.saturating_mul(1000));
    format!("{y:04}-{mo:02}-{d:02}_{h:02}:{mi:02}:{s:02}.json")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn civil_round_trip_over_a_wide_range() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for days in (-800_000..800_000).step_by(37) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn parses_every_ground_truth_form() {
        // 2018-10-18T22:18:13Z = 1539901093 s (checked with `date -u -d @1539901093`).
        assert_eq!(
            parse_timestamp_micros("2018-10-18T22:18:13.527256").unwrap(),
            1_539_901_093_527_256
        );
        assert_eq!(parse_timestamp_ms("2018-10-18T22:18:13.527256").unwrap(), 1_539_901_093_527);
        assert_eq!(parse_timestamp_ms("2020-05-15T08:01:16+0000").unwrap(), 1_589_529_676_000);
        assert_eq!(parse_timestamp_ms("2020-05-15T10:01:16+02:00").unwrap(), 1_589_529_676_000);
        assert_eq!(parse_timestamp_ms("2020-05-15T07:01:16-0100").unwrap(), 1_589_529_676_000);
        assert_eq!(parse_timestamp_ms("2020-12-28T18:59:15.191Z").unwrap(), 1_609_181_955_191);
        assert_eq!(parse_timestamp_ms("2019-04-18T16:11:15Z").unwrap(), 1_555_603_875_000);
        assert_eq!(parse_timestamp_ms("1969-12-31T23:59:59.999Z").unwrap(), -1);
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for bad in [
            "",
            "2018-10-18",
            "2018-10-18 22:18:13",
            "2018-13-01T00:00:00",
            "2019-02-29T00:00:00",
            "2018-10-18T24:00:00",
            "2018-10-18T22:18:13.",
            "2018-10-18T22:18:13.1234567890",
            "2018-10-18T22:18:13+00",
            "2018-10-18T22:18:13Zjunk",
            "２018-10-18T22:18:13",
        ] {
            assert!(parse_timestamp_micros(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(parse_timestamp_micros("2020-02-29T00:00:00").is_ok());
    }

    #[test]
    fn formats_and_round_trips() {
        let ms = 1_609_181_955_191;
        assert_eq!(format_worker_timestamp(ms), "2020-12-28T18:59:15.191Z");
        assert_eq!(format_creation_date(ms), "2020-12-28T18:59:15.191000");
        assert_eq!(
            format_creation_date_micros(1_539_901_093_527_256),
            "2018-10-18T22:18:13.527256"
        );
        assert_eq!(worker_response_file_name(ms), "2020-12-28_18:59:15.json");
        assert_eq!(format_worker_timestamp(-1), "1969-12-31T23:59:59.999Z");
        let mut ms = -5_000_000_000_000i64;
        while ms < 5_000_000_000_000 {
            assert_eq!(parse_timestamp_ms(&format_worker_timestamp(ms)).unwrap(), ms);
            assert_eq!(parse_timestamp_ms(&format_creation_date(ms)).unwrap(), ms);
            ms += 7_919_993_377;
        }
    }
}
