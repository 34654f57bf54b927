//! The business calendar: when the clock of an SLA runs.
//!
//! A schedule is an IANA zone plus either "always open" (24x7) or weekly opening windows, less
//! holidays. The rule is per real instant: an instant is business time when its local wall-clock
//! time lies in an open window of its local weekday and its local date is not a holiday. Across a
//! DST change a window therefore loses the skipped hour or gains the repeated one, exactly as a
//! person at the desk would experience it.
//!
//! Everything is computed from the UTC instants at which the calendar opens and closes, found
//! one constant-offset stretch of time at a time, so the cost of any question grows with the
//! number of days it spans, never with minutes or seconds. Results are exact to the nanosecond.
//!
//! Workflows compute their timers with this module, so it must stay deterministic: no clock,
//! no I/O, no randomness. The zone rules are those compiled into `chrono-tz`.

mod clock;
mod intervals;
mod schedule;
mod weekday;

pub use clock::{Interval, normalize_pauses};
pub use schedule::{Calendar, HolidaySpec, ScheduleSpec, WindowSpec};
pub use weekday::{Weekday, WeekdayError};

use chrono::{DateTime, Utc};

/// How far a search for business time looks before it gives up.
pub const SEARCH_LIMIT_DAYS: i64 = 366;

/// The first year the calendar does not compute in. A walk stops there, so the cost of any
/// answer is bounded by the years before it, however sparse the schedule (one open minute a
/// week would otherwise take millennia to add up a year of business minutes).
pub const HORIZON_YEAR: i32 = 2100;

/// `HORIZON_YEAR`-01-01T00:00:00Z.
pub fn horizon() -> DateTime<Utc> {
    chrono::NaiveDate::from_ymd_opt(HORIZON_YEAR, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc())
}

/// A question the calendar cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The schedule never opens in the year after `from` (no hours, or all of them holidays).
    #[error("the schedule has no business time within {SEARCH_LIMIT_DAYS} days of {from}")]
    NoBusinessTime { from: DateTime<Utc> },
    /// The answer lies in or after [`HORIZON_YEAR`]: the schedule opens too rarely for the
    /// amount of business time asked.
    #[error(
        "the schedule opens too rarely: the answer would fall in {HORIZON_YEAR} or later, past the years the calendar computes"
    )]
    BeyondHorizon,
}

#[cfg(test)]
mod tests;
