//! The UTC intervals during which a calendar is open, in order, found lazily.
//!
//! Time is walked in stretches of constant UTC offset. Inside one stretch local time is UTC
//! plus a fixed offset, so each local window maps to a UTC interval by subtracting it; the
//! stretch boundaries (DST changes) are where a window loses or gains time. Offset changes are
//! found by probing every six hours and bisecting to the second between two probes that
//! disagree, which assumes no zone changes its offset and back within six hours (true of every
//! zone in the tz database).

use super::schedule::Calendar;
use super::{CalendarError, SEARCH_LIMIT_DAYS};
use chrono::{DateTime, Days, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc};
use std::collections::VecDeque;

const PROBE: TimeDelta = TimeDelta::hours(6);
const PROBES_PER_STRETCH: i32 = 4;

/// Local minus UTC, in seconds, at `t`.
fn offset_at(cal: &Calendar, t: DateTime<Utc>) -> i32 {
    cal.tz
        .offset_from_utc_datetime(&t.naive_utc())
        .fix()
        .local_minus_utc()
}

/// The end of the constant-offset stretch starting at `from`: the first instant with another
/// offset, or `from` + 24 h when there is none before that.
fn stretch_end(cal: &Calendar, from: DateTime<Utc>) -> DateTime<Utc> {
    let offset = offset_at(cal, from);
    let mut before = from;
    for _ in 0..PROBES_PER_STRETCH {
        let probe = before + PROBE;
        if offset_at(cal, probe) != offset {
            return first_change(cal, before, probe, offset);
        }
        before = probe;
    }
    before
}

/// The first whole second in `(lo, hi]` whose offset is not `offset`; `offset_at(lo) ==
/// offset` and `offset_at(hi) != offset`. Zone changes happen on whole seconds.
fn first_change(
    cal: &Calendar,
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
    offset: i32,
) -> DateTime<Utc> {
    let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).unwrap_or(hi);
    let mut lo = lo.timestamp();
    let mut hi = if hi.timestamp_subsec_nanos() > 0 {
        hi.timestamp() + 1
    } else {
        hi.timestamp()
    };
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if offset_at(cal, at(mid)) == offset {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    at(hi)
}

/// An interval `[start, end)` of UTC time.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

/// Open intervals from `from` on (the first clipped to start at `from`), stopping at `until`
/// when given. Unbounded, it fails once a whole [`SEARCH_LIMIT_DAYS`] pass without opening.
pub struct OpenSpans<'a> {
    cal: &'a Calendar,
    cursor: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    /// Where the current search for an opening began (the start, or the last interval's end).
    searching_since: DateTime<Utc>,
    queue: VecDeque<Span>,
    done: bool,
}

impl<'a> OpenSpans<'a> {
    pub fn new(cal: &'a Calendar, from: DateTime<Utc>, until: Option<DateTime<Utc>>) -> Self {
        Self {
            cal,
            cursor: from,
            until,
            searching_since: from,
            queue: VecDeque::new(),
            done: false,
        }
    }

    /// Fills the queue with the open intervals of the next constant-offset stretch.
    fn fill(&mut self) {
        let a = self.cursor;
        let mut b = stretch_end(self.cal, a).min(super::horizon());
        if let Some(u) = self.until {
            b = b.min(u);
        }
        self.cursor = b;
        if self.cal.always_open {
            self.queue.push_back((a, b));
            return;
        }
        let offset = TimeDelta::seconds(i64::from(offset_at(self.cal, a)));
        let (la, lb) = (a.naive_utc() + offset, b.naive_utc() + offset);
        let mut date = la.date();
        while date <= lb.date() {
            let midnight = NaiveDateTime::new(date, NaiveTime::MIN);
            for &(s, e) in self.cal.windows_on(date) {
                let ls = midnight + TimeDelta::seconds(i64::from(s));
                let le = midnight + TimeDelta::seconds(i64::from(e));
                let (start, end) = (ls.max(la), le.min(lb));
                if start < end {
                    self.queue
                        .push_back(((start - offset).and_utc(), (end - offset).and_utc()));
                }
            }
            match date.checked_add_days(Days::new(1)) {
                Some(d) => date = d,
                None => break,
            }
        }
    }
}

impl Iterator for OpenSpans<'_> {
    type Item = Result<Span, CalendarError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.queue.is_empty() && !self.done {
            if self.until.is_some_and(|u| self.cursor >= u) {
                self.done = true;
                break;
            }
            if self.cursor >= super::horizon() {
                self.done = true;
                return Some(Err(CalendarError::BeyondHorizon));
            }
            if self.until.is_none()
                && self.cursor - self.searching_since > TimeDelta::days(SEARCH_LIMIT_DAYS)
            {
                self.done = true;
                return Some(Err(CalendarError::NoBusinessTime {
                    from: self.searching_since,
                }));
            }
            self.fill();
        }
        let span = self.queue.pop_front()?;
        self.searching_since = span.1;
        Some(Ok(span))
    }
}
