//! The walk behind every question: time from an instant on, cut into runs whose business time
//! is arithmetic.
//!
//! A run is a stretch of UTC time with one UTC offset throughout, no holiday among its local
//! dates (or lying wholly inside one holiday, then closed), and wholly inside or outside every
//! pause. Inside such a run the wall clock is UTC plus a constant, and without holidays the
//! schedule repeats weekly, so `weekly.rs` answers "how much business time" and "when has
//! this much elapsed" by arithmetic, whole weeks at once. A run ends at the first of: an offset
//! change (found through `zone.rs`), the next holiday's local midnight (or the end of the
//! holiday it starts in), a pause's start or end, the next UTC new year (which keeps run
//! lengths, and so the products in `weekly.rs`, small), the end of the walk, and the horizon.
//! The cost of a question therefore grows with the offset changes, holidays, pauses and
//! years it crosses, not with the days: a one-week target on a Monday-to-Friday schedule
//! crossing none of them is a single run.

use super::schedule::Calendar;
use super::weekly::Wall;
use super::zone::{Stretches, offset_at};
use super::{CalendarError, Interval, SEARCH_LIMIT_DAYS};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};

const NANOS: i64 = 1_000_000_000;

/// The wall-clock time of `t` at `offset` seconds from UTC.
fn wall(t: DateTime<Utc>, offset: i64) -> Wall {
    let nanos = i64::from(t.timestamp_subsec_nanos());
    Wall {
        // A leap second's nanoseconds (1e9 and up) carry into the next second.
        secs: t.timestamp() + offset + nanos / NANOS,
        nanos: nanos % NANOS,
    }
}

/// The UTC instant of wall-clock time `w` at `offset`.
fn instant(w: Wall, offset: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(w.secs - offset, u32::try_from(w.nanos).ok()?)
}

/// Nanoseconds in `[a, b)`; runs are at most a year long, far inside `i64`.
fn nanos_between(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (b - a).num_nanoseconds().unwrap_or(i64::MAX)
}

/// One run: `[from, to)` with `business` nanoseconds of business time in it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Run {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Outside every pause: its business time counts.
    pub counted: bool,
    pub business: i64,
    /// The wall clock's offset from UTC in seconds throughout the run; `None` when the
    /// calendar is open around the clock.
    offset: Option<i64>,
}

impl Run {
    /// The earliest instant at which `amount` (`0 < amount <= business`) nanoseconds of
    /// business time have elapsed since `from`.
    pub fn instant_after(&self, cal: &Calendar, amount: i64) -> DateTime<Utc> {
        let at = match self.offset {
            None => self.from.checked_add_signed(TimeDelta::nanoseconds(amount)),
            Some(o) => instant(cal.week.after(wall(self.from, o), amount), o),
        };
        // `amount` lies inside the run, so the instant exists.
        at.unwrap_or(self.to)
    }

    /// The earliest open instant of the run (`business > 0`).
    pub fn first_open(&self, cal: &Calendar) -> DateTime<Utc> {
        match self.offset {
            None => self.from,
            Some(o) => instant(cal.week.first_open(wall(self.from, o)), o).unwrap_or(self.from),
        }
    }
}

/// The runs from `from` on, up to `until` when given. Unbounded, the walk fails at the
/// horizon, or once [`SEARCH_LIMIT_DAYS`] days pass without the schedule opening.
pub(super) struct Runs<'a> {
    cal: &'a Calendar,
    /// Normalized, and none ending at or before `cursor`.
    pauses: &'a [Interval],
    cursor: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    /// The start, or the end of the last business time seen (pauses not considered): an
    /// unbounded walk searches for the next from here.
    closed_since: DateTime<Utc>,
    stretches: Stretches,
    done: bool,
}

impl<'a> Runs<'a> {
    pub fn new(
        cal: &'a Calendar,
        from: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        pauses: &'a [Interval],
    ) -> Self {
        Self {
            cal,
            pauses,
            cursor: from,
            until,
            closed_since: from,
            stretches: Stretches::new(cal.tz),
            done: false,
        }
    }

    /// The next run, ending no later than `end`.
    fn run(&mut self, mut end: DateTime<Utc>, counted: bool) -> Run {
        let from = self.cursor;
        let at = |secs: i64| DateTime::from_timestamp(secs, 0);
        if self.cal.always_open {
            if let Some(new_year) =
                NaiveDate::from_ymd_opt(from.year() + 1, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0))
            {
                end = end.min(new_year.and_utc());
            }
            return Run {
                from,
                to: end,
                counted,
                business: nanos_between(from, end),
                offset: None,
            };
        }
        let offset = offset_at(self.cal.tz, from.timestamp());
        if let Some(change) = at(self.stretches.end(from.timestamp())) {
            end = end.min(change);
        }
        let start = wall(from, offset);
        let midnight = |date: NaiveDate| instant(Wall::midnight(date), offset);
        let (Some(date), Some(next_day)) = (start.date(), start.date().and_then(|d| d.succ_opt()))
        else {
            return self.closed_run(end, counted, offset);
        };
        if self.cal.is_holiday(date) {
            if let Some(m) = midnight(next_day) {
                end = end.min(m);
            }
            return self.closed_run(end, counted, offset);
        }
        if let Some(last) = wall(end, offset).date_before()
            && let Some(holiday) = self.cal.next_holiday(next_day, last)
            && let Some(m) = midnight(holiday)
        {
            end = end.min(m);
        }
        Run {
            from,
            to: end,
            counted,
            business: self.cal.week.between(start, wall(end, offset)),
            offset: Some(offset),
        }
    }

    fn closed_run(&self, end: DateTime<Utc>, counted: bool, offset: i64) -> Run {
        Run {
            from: self.cursor,
            to: end,
            counted,
            business: 0,
            offset: Some(offset),
        }
    }
}

impl Iterator for Runs<'_> {
    type Item = Result<Run, CalendarError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.until.is_some_and(|u| self.cursor >= u) {
            self.done = true;
            return None;
        }
        let horizon = super::horizon();
        if self.cursor >= horizon {
            self.done = true;
            return Some(Err(CalendarError::BeyondHorizon));
        }
        let mut end = self.until.map_or(horizon, |u| u.min(horizon));
        if self.until.is_none() {
            let deadline = self.closed_since + TimeDelta::days(SEARCH_LIMIT_DAYS);
            if self.cursor >= deadline {
                self.done = true;
                return Some(Err(CalendarError::NoBusinessTime {
                    from: self.closed_since,
                }));
            }
            end = end.min(deadline);
        }
        while self.pauses.first().is_some_and(|p| p.to <= self.cursor) {
            self.pauses = &self.pauses[1..];
        }
        let counted = match self.pauses.first() {
            Some(p) if p.from <= self.cursor => {
                end = end.min(p.to);
                false
            }
            Some(p) => {
                end = end.min(p.from);
                true
            }
            None => true,
        };
        let run = self.run(end, counted);
        if self.until.is_none() && run.business > 0 {
            self.closed_since = run.instant_after(self.cal, run.business);
        }
        self.cursor = run.to;
        Some(Ok(run))
    }
}

/// Whether `t` is business time: its local date is no holiday and its local time lies in one
/// of that weekday's windows. Nothing is open from the horizon on.
pub(super) fn is_open(cal: &Calendar, t: DateTime<Utc>) -> bool {
    if t >= super::horizon() {
        return false;
    }
    if cal.always_open {
        return true;
    }
    let local = wall(t, offset_at(cal.tz, t.timestamp()));
    let Some(date) = local.date() else {
        return false;
    };
    let second = local.secs - Wall::midnight(date).secs;
    cal.windows_on(date)
        .iter()
        .any(|&(s, e)| (i64::from(s)..i64::from(e)).contains(&second))
}
