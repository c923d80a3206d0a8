//! Usage-plan quota periods on UTC calendar boundaries: DAY (midnight), WEEK (Monday
//! midnight, ISO), MONTH (the 1st, midnight), and the plan's `offset`, subtracted from the
//! limit in the period that contains the plan's creation (AWS's `QuotaSettings.offset`).
//!
//! One crate for both planes because they must agree: the data plane names a key's quota
//! counter in Redis after the period start, and the control plane reads and resets that
//! counter (GetUsage, UpdateUsage) and computes `remaining` from the same rules.

use time::{Date, Duration, Month, OffsetDateTime};

/// How long a data-plane node may refuse a key on its own after Redis said the key's quota
/// for the period is used up (no Redis call meanwhile). The memo is timed from before the
/// call that read the counter, so a change to the counter (UpdateUsage) is in effect on every
/// node this long after it was written: UpdateUsage answers only then.
pub const USED_UP_MEMO: std::time::Duration = std::time::Duration::from_secs(1);

/// A quota period unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// A UTC day.
    Day,
    /// A UTC ISO week, Monday to Sunday.
    Week,
    /// A UTC calendar month.
    Month,
}

impl Period {
    /// Parses `DAY` / `WEEK` / `MONTH`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "DAY" => Some(Period::Day),
            "WEEK" => Some(Period::Week),
            "MONTH" => Some(Period::Month),
            _ => None,
        }
    }

    /// The first day of the period containing `day`.
    pub fn start_of(self, day: Date) -> Date {
        match self {
            Period::Day => day,
            Period::Week => {
                day - Duration::days(i64::from(day.weekday().number_days_from_monday()))
            }
            Period::Month => day.replace_day(1).unwrap_or(day),
        }
    }

    /// The first day after the period containing `day`.
    pub fn end_of(self, day: Date) -> Date {
        let start = self.start_of(day);
        match self {
            Period::Day => start + Duration::days(1),
            Period::Week => start + Duration::days(7),
            Period::Month => {
                let (y, m) = match start.month() {
                    Month::December => (start.year() + 1, Month::January),
                    m => (start.year(), m.next()),
                };
                Date::from_calendar_date(y, m, 1).unwrap_or(start + Duration::days(31))
            }
        }
    }
}

/// Epoch seconds of a day's midnight UTC.
pub fn midnight_epoch(day: Date) -> i64 {
    day.midnight().assume_utc().unix_timestamp()
}

/// The UTC day of an epoch-seconds instant.
pub fn day_of(epoch: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(epoch)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .date()
}

/// `YYYY-MM-DD`.
pub fn day_text(d: Date) -> String {
    DayText(d).to_string()
}

/// Displays a date as `YYYY-MM-DD` (written straight into a Redis argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayText(pub Date);

impl std::fmt::Display for DayText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
    }
}

/// The limit in the period starting `start`: `limit - offset` in the period containing the
/// plan's creation, `limit` afterwards.
pub fn effective_limit(period: Period, limit: i64, offset: i64, created: i64, start: Date) -> i64 {
    if period.start_of(day_of(created)) == start {
        (limit - offset).max(0)
    } else {
        limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn boundaries_and_day_text() {
        let d = date!(2026 - 11 - 22); // Sunday
        assert_eq!(Period::Week.start_of(d), date!(2026 - 11 - 16));
        assert_eq!(Period::Week.end_of(d), date!(2026 - 11 - 23));
        assert_eq!(Period::Month.start_of(d), date!(2026 - 11 - 01));
        assert_eq!(
            Period::Month.end_of(date!(2026 - 12 - 05)),
            date!(2027 - 01 - 01)
        );
        assert_eq!(
            Period::Day.end_of(date!(2028 - 02 - 28)),
            date!(2028 - 02 - 29)
        );
        assert_eq!(day_text(date!(2026 - 01 - 02)), "2026-01-02");
        assert_eq!(day_of(midnight_epoch(d)), d);
        assert_eq!(day_of(midnight_epoch(d) - 1), date!(2026 - 11 - 21));
    }

    #[test]
    fn offset_applies_to_the_first_period_only() {
        let created = midnight_epoch(date!(2026 - 11 - 18)) + 60;
        assert_eq!(
            effective_limit(Period::Week, 100, 40, created, date!(2026 - 11 - 16)),
            60
        );
        assert_eq!(
            effective_limit(Period::Week, 100, 40, created, date!(2026 - 11 - 23)),
            100
        );
    }

    #[test]
    fn calendar_boundaries() {
        let d = date!(2026 - 11 - 22); // a Sunday
        assert_eq!(Period::Day.start_of(d), d);
        assert_eq!(Period::Day.end_of(d), date!(2026 - 11 - 23));
        assert_eq!(Period::Week.start_of(d), date!(2026 - 11 - 16));
        assert_eq!(Period::Week.end_of(d), date!(2026 - 11 - 23));
        assert_eq!(
            Period::Week.start_of(date!(2026 - 11 - 23)),
            date!(2026 - 11 - 23)
        );
        assert_eq!(Period::Month.start_of(d), date!(2026 - 11 - 01));
        assert_eq!(
            Period::Month.end_of(date!(2026 - 12 - 31)),
            date!(2027 - 01 - 01)
        );
        assert_eq!(midnight_epoch(date!(1970 - 01 - 02)), 86_400);
        assert_eq!(day_of(86_399), date!(1970 - 01 - 01));
    }

    #[test]
    fn offset_only_in_the_first_period() {
        let created = midnight_epoch(date!(2026 - 11 - 18)) + 3600;
        let first = Period::Month.start_of(date!(2026 - 11 - 18));
        assert_eq!(effective_limit(Period::Month, 100, 30, created, first), 70);
        let next = Period::Month.end_of(first);
        assert_eq!(effective_limit(Period::Month, 100, 30, created, next), 100);
        assert_eq!(
            effective_limit(Period::Day, 10, 20, created, date!(2026 - 11 - 18)),
            0
        );
    }
}
