//! UTC calendar time from Unix milliseconds, for the timestamps the store layer writes
//! (catalog records, `dataset-YYMMDDTHHMMSS.manifest` names). No time zones, no clock: callers
//! pass the time in, so tests control it.

/// A UTC calendar time with millisecond precision (proleptic Gregorian calendar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    /// Year, e.g. 2026.
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
    /// Second, 0–59.
    pub second: u32,
    /// Millisecond, 0–999.
    pub millisecond: u32,
}

impl UtcTime {
    /// The calendar time of `unix_ms` milliseconds since 1970-01-01T00:00:00Z.
    pub fn from_unix_ms(unix_ms: i64) -> Self {
        let days = unix_ms.div_euclid(86_400_000);
        let ms_of_day = unix_ms.rem_euclid(86_400_000);
        let (year, month, day) = crate::formats::time::civil_from_days(days);
        Self {
            year,
            month,
            day,
            hour: (ms_of_day / 3_600_000) as u32,
            minute: (ms_of_day / 60_000 % 60) as u32,
            second: (ms_of_day / 1000 % 60) as u32,
            millisecond: (ms_of_day % 1000) as u32,
        }
    }

    /// ISO 8601 with milliseconds and `Z`: `2026-11-28T09:05:03.042Z`.
    pub fn iso8601(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millisecond
        )
    }

    /// `YYMMDDTHHMMSS`, the stamp in Ground Truth's `dataset-YYMMDDTHHMMSS.manifest` names.
    pub fn compact_stamp(&self) -> String {
        format!(
            "{:02}{:02}{:02}T{:02}{:02}{:02}",
            self.year.rem_euclid(100),
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_known_instants() {
        assert_eq!(UtcTime::from_unix_ms(0).iso8601(), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (leap day of a century leap year) 12:34:56.789.
        assert_eq!(UtcTime::from_unix_ms(951_827_696_789).iso8601(), "2000-02-29T12:34:56.789Z");
        assert_eq!(UtcTime::from_unix_ms(1_566_861_644_000).iso8601(), "2019-08-26T23:20:44.000Z");
        assert_eq!(UtcTime::from_unix_ms(1_566_861_644_000).compact_stamp(), "190826T232044");
        assert_eq!(UtcTime::from_unix_ms(-1).iso8601(), "1969-12-31T23:59:59.999Z");
        assert_eq!(UtcTime::from_unix_ms(4_102_444_800_000).iso8601(), "2100-01-01T00:00:00.000Z");
    }
}
