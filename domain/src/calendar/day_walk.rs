//! The day walk: the calendar's first implementation, kept as the reference the walk in
//! `walk.rs` is tested against (`walk_tests.rs`). It finds the open intervals one
//! constant-offset stretch of at most a day at a time, so its cost grows with the days a
//! question spans; the walk's runs skip whole weeks instead.
//!
//! Time is walked in stretches of constant UTC offset. Inside one stretch local time is UTC
//! plus a fixed offset, so each local window maps to a UTC interval by subtracting it; the
//! stretch boundaries (DST changes) are where a window loses or gains time. Offset changes are
//! found by probing every six hours and bisecting to the second between two probes that
//! disagree, which assumes no zone changes its offset and back within six hours (true of every
//! zone in the tz database).

use super::schedule::Calendar;
use super::{CalendarError, Interval, SEARCH_LIMIT_DAYS};
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

/// Open intervals from `from` on with the (normalized) pauses cut out.
struct Counted<'a> {
    open: OpenSpans<'a>,
    pauses: &'a [Interval],
    /// Part of an open interval still to be cut by later pauses.
    rest: Option<Span>,
}

impl Iterator for Counted<'_> {
    type Item = Result<Span, CalendarError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (mut start, end) = match self.rest.take() {
                Some(r) => r,
                None => match self.open.next()? {
                    Ok(s) => s,
                    Err(e) => return Some(Err(e)),
                },
            };
            // Pauses wholly before this interval can never matter again.
            while self.pauses.first().is_some_and(|p| p.to <= start) {
                self.pauses = &self.pauses[1..];
            }
            match self.pauses.first() {
                Some(p) if p.from < end => {
                    if p.from > start {
                        self.rest = (p.to < end).then_some((p.to, end));
                        return Some(Ok((start, p.from)));
                    }
                    start = p.to;
                    if start < end {
                        self.rest = Some((start, end));
                    }
                }
                _ => return Some(Ok((start, end))),
            }
        }
    }
}

fn counted<'a>(
    cal: &'a Calendar,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    pauses: &'a [Interval],
) -> Counted<'a> {
    Counted {
        open: OpenSpans::new(cal, from, until),
        pauses,
        rest: None,
    }
}

/// [`Calendar::is_open`], by the day walk.
pub(super) fn is_open(cal: &Calendar, t: DateTime<Utc>) -> bool {
    matches!(
        OpenSpans::new(cal, t, Some(t + TimeDelta::seconds(1))).next(),
        Some(Ok((start, _))) if start == t
    )
}

/// [`Calendar::next_open`], by the day walk.
pub(super) fn next_open(cal: &Calendar, t: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
    match OpenSpans::new(cal, t, None).next() {
        Some(Ok((start, _))) => Ok(start),
        Some(Err(e)) => Err(e),
        None => Err(CalendarError::NoBusinessTime { from: t }),
    }
}

/// [`Calendar::business_time`], by the day walk.
pub(super) fn business_time(
    cal: &Calendar,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    pauses: &[Interval],
) -> TimeDelta {
    if to <= from {
        return TimeDelta::zero();
    }
    // Bounded by `to`, the walk cannot fail.
    counted(cal, from, Some(to), pauses)
        .filter_map(Result::ok)
        .map(|(s, e)| e - s)
        .sum()
}

/// [`Calendar::instants_after`], by the day walk.
pub(super) fn instants_after(
    cal: &Calendar,
    from: DateTime<Utc>,
    amounts: &[TimeDelta],
    pauses: &[Interval],
) -> Result<Vec<DateTime<Utc>>, CalendarError> {
    let mut out = Vec::with_capacity(amounts.len());
    let mut pending = amounts.iter().copied().peekable();
    while pending.peek().is_some_and(|a| *a <= TimeDelta::zero()) {
        pending.next();
        out.push(from);
    }
    if pending.peek().is_none() {
        return Ok(out);
    }
    let mut elapsed = TimeDelta::zero();
    for span in counted(cal, from, None, pauses) {
        let (start, end) = span?;
        let after = elapsed + (end - start);
        while let Some(amount) = pending.next_if(|a| *a <= after) {
            out.push(start + (amount - elapsed));
        }
        if pending.peek().is_none() {
            return Ok(out);
        }
        elapsed = after;
    }
    Err(CalendarError::NoBusinessTime { from })
}
