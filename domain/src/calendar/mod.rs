//! The business calendar: when the clock of an SLA runs.
//!
//! A schedule is an IANA zone plus either "always open" (24x7) or weekly opening windows, less
//! holidays. The rule is per real instant: an instant is business time when its local wall-clock
//! time lies in an open window of its local weekday and its local date is not a holiday. Across a
//! DST change a window therefore loses the skipped hour or gains the repeated one, exactly as a
//! person at the desk would experience it.
//!
//! Every question is answered by one walk (`walk.rs`) over *runs*: stretches of time with one
//! UTC offset throughout, no holiday among their local dates, and wholly inside or outside
//! each pause. Inside a run the wall clock is UTC plus a constant and the weekly hours repeat
//! exactly every seven days, so a whole week holds the same business time, computed once per
//! calendar (`weekly.rs`). The business time of a run, and the instant a given amount of it
//! has elapsed, are then arithmetic: runs of whole weeks are skipped by multiplying, and the
//! part week by a binary search over the week's windows. The walk did this a day at a time
//! before (`day_walk.rs`, kept as the reference the tests compare against): a one-week target
//! on office hours, walked over some thirty days, cost microseconds on every SLA plan, and
//! the cost grew with the days. Now it grows with the offset changes, holidays and pauses
//! crossed (and the UTC years, at which runs are cut so the arithmetic stays small), and a
//! 24x7 calendar is arithmetic throughout. Results are exact to the nanosecond and the same as
//! the day walk's; only a search that finds no opening now gives up exactly
//! [`SEARCH_LIMIT_DAYS`] after the last one (the day walk stopped somewhere in the day after).
//!
//! The skip relies on: the offset changes being found exactly (`zone.rs`: probes six hours
//! apart, so no zone may change its offset and back within six hours, the assumption the day
//! walk made too; found once per zone and year and remembered per thread, which changes no
//! answer); holidays being whole local dates, and windows past midnight being split onto the
//! next weekday (`schedule.rs`), so a week without holidays is exactly the weekly pattern;
//! and runs never straddling a pause's start or end.
//!
//! Workflows compute their timers with this module, so it must stay deterministic: no clock,
//! no I/O, no randomness. The zone rules are those compiled into `chrono-tz`.

mod clock;
#[cfg(test)]
mod day_walk;
mod schedule;
mod walk;
mod weekday;
mod weekly;
mod zone;

pub use clock::{Interval, normalize_pauses};
pub use schedule::{Calendar, HolidaySpec, ScheduleSpec, WindowSpec};
pub use weekday::{Weekday, WeekdayError};

use chrono::{DateTime, Utc};

/// How far a search for business time looks before it gives up: a walk with no end fails once
/// the schedule has stayed closed this many days since its start or its last opening.
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
#[cfg(test)]
mod walk_tests;
