//! The range of SLA inputs the engine answers for, so every computation's cost is bounded by
//! validation rather than by what a caller sends.
//!
//! Business-time arithmetic walks the calendar a day (or a constant-offset stretch) at a time,
//! so its cost grows with the span of time it covers. Targets are capped at one year of
//! minutes and instants to the years 2000–2099, and the calendar itself stops at the end of
//! 2099 (`calendar::HORIZON_YEAR`), however sparse the schedule: the longest walk covers a
//! century, a fraction of a second of work, and no date arithmetic can overflow.

use crate::validation::ValidationErrors;
use chrono::{DateTime, NaiveDate, Utc};

/// Longest target, in business minutes: 366 days of round-the-clock time.
pub const MAX_TARGET_MINUTES: i64 = 366 * 24 * 60;
/// Most opening windows, or holidays, one schedule may list.
pub const MAX_SCHEDULE_ENTRIES: usize = 1000;
/// Most pauses one preview may list.
pub const MAX_PAUSES: usize = 1000;
/// First year an SLA instant may fall in.
pub const FIRST_YEAR: i32 = 2000;
/// Last year an SLA instant may fall in.
pub const LAST_YEAR: i32 = crate::calendar::HORIZON_YEAR - 1;

/// Checks a target: whole minutes from 0 to [`MAX_TARGET_MINUTES`].
pub fn check_target(errors: &mut ValidationErrors, field: &str, minutes: i64) {
    if minutes < 0 {
        errors.push(
            field,
            format!("{minutes} is negative; a target is whole minutes, 0 or more"),
        );
    } else if minutes > MAX_TARGET_MINUTES {
        errors.push(
            field,
            format!("must be at most {MAX_TARGET_MINUTES} minutes (366 days)"),
        );
    }
}

/// Checks that an instant falls in the years [`FIRST_YEAR`] to [`LAST_YEAR`].
pub fn check_instant(errors: &mut ValidationErrors, field: &str, at: DateTime<Utc>) {
    if !instant_in_range(at) {
        errors.push(
            field,
            format!("must fall in the years {FIRST_YEAR} to {LAST_YEAR} (UTC)"),
        );
    }
}

/// Checks that a calendar date (a holiday) falls in the years [`FIRST_YEAR`] to [`LAST_YEAR`].
pub fn check_date(errors: &mut ValidationErrors, field: &str, date: NaiveDate) {
    use chrono::Datelike;
    if !(FIRST_YEAR..=LAST_YEAR).contains(&date.year()) {
        errors.push(
            field,
            format!("must fall in the years {FIRST_YEAR} to {LAST_YEAR}"),
        );
    }
}

pub fn instant_in_range(at: DateTime<Utc>) -> bool {
    use chrono::Datelike;
    (FIRST_YEAR..=LAST_YEAR).contains(&at.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(f: impl FnOnce(&mut ValidationErrors)) -> Vec<String> {
        let mut e = ValidationErrors::default();
        f(&mut e);
        e.0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn bounds_are_inclusive() {
        assert!(errors(|e| check_target(e, "t", 0)).is_empty());
        assert!(errors(|e| check_target(e, "t", MAX_TARGET_MINUTES)).is_empty());
        assert_eq!(
            errors(|e| check_target(e, "t", MAX_TARGET_MINUTES + 1)),
            ["t"]
        );
        assert_eq!(errors(|e| check_target(e, "t", i64::MAX)), ["t"]);
        assert_eq!(errors(|e| check_target(e, "t", -1)), ["t"]);
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert!(errors(|e| check_instant(e, "a", at("2000-01-01T00:00:00Z"))).is_empty());
        assert!(errors(|e| check_instant(e, "a", at("2099-12-31T23:59:59Z"))).is_empty());
        assert_eq!(
            errors(|e| check_instant(e, "a", at("2100-01-01T00:00:00Z"))),
            ["a"]
        );
        assert_eq!(
            errors(|e| check_instant(e, "a", at("1999-12-31T23:59:59Z"))),
            ["a"]
        );
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(errors(|e| check_date(e, "d", d(2099, 12, 31))).is_empty());
        assert_eq!(errors(|e| check_date(e, "d", d(9999, 1, 1))), ["d"]);
    }
}
