//! Questions a calendar answers: is it open, when does it open, how much business time lies
//! between two instants, and when a given amount of it will have elapsed. Pauses (an SLA on
//! hold) are subtracted: business time inside a pause does not count.

use super::CalendarError;
use super::intervals::{OpenSpans, Span};
use super::schedule::Calendar;
use chrono::{DateTime, TimeDelta, Utc};

/// A half-open interval `[from, to)` of UTC time, e.g. a pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Sorts `pauses`, drops empty ones and merges those that touch or overlap.
pub fn normalize_pauses(pauses: &[Interval]) -> Vec<Interval> {
    let mut sorted: Vec<Interval> = pauses.iter().copied().filter(|p| p.to > p.from).collect();
    sorted.sort_unstable();
    let mut merged: Vec<Interval> = Vec::with_capacity(sorted.len());
    for p in sorted {
        match merged.last_mut() {
            Some(last) if p.from <= last.to => last.to = last.to.max(p.to),
            _ => merged.push(p),
        }
    }
    merged
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

impl Calendar {
    fn counted<'a>(
        &'a self,
        from: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        pauses: &'a [Interval],
    ) -> Counted<'a> {
        Counted {
            open: OpenSpans::new(self, from, until),
            pauses,
            rest: None,
        }
    }

    /// Whether `t` is business time.
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        matches!(
            OpenSpans::new(self, t, Some(t + TimeDelta::seconds(1))).next(),
            Some(Ok((start, _))) if start == t
        )
    }

    /// The earliest business instant at or after `t` (`t` itself when open).
    pub fn next_open(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
        match OpenSpans::new(self, t, None).next() {
            Some(Ok((start, _))) => Ok(start),
            Some(Err(e)) => Err(e),
            None => Err(CalendarError::NoBusinessTime { from: t }),
        }
    }

    /// Business time in `[from, to)`, less the business time inside `pauses` (which must be
    /// normalized, see [`normalize_pauses`]). Zero when `to` is not after `from`.
    pub fn business_time(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        pauses: &[Interval],
    ) -> TimeDelta {
        if to <= from {
            return TimeDelta::zero();
        }
        // Bounded by `to`, the walk cannot fail.
        self.counted(from, Some(to), pauses)
            .filter_map(Result::ok)
            .map(|(s, e)| e - s)
            .sum()
    }

    /// For each of `amounts` (ascending, none negative), the earliest instant at which that much
    /// business time has elapsed since `from`, pauses not counting. An amount of zero is
    /// `from` itself. One walk answers them all.
    pub fn instants_after(
        &self,
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
        for span in self.counted(from, None, pauses) {
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

    /// The earliest instant at which `amount` of business time has elapsed since `from`.
    pub fn instant_after(
        &self,
        from: DateTime<Utc>,
        amount: TimeDelta,
        pauses: &[Interval],
    ) -> Result<DateTime<Utc>, CalendarError> {
        self.instants_after(from, &[amount], pauses)?
            .pop()
            .ok_or(CalendarError::NoBusinessTime { from })
    }

    /// `target` less the business time elapsed from `from` to `now`: negative once overdue.
    pub fn remaining(
        &self,
        from: DateTime<Utc>,
        target: TimeDelta,
        now: DateTime<Utc>,
        pauses: &[Interval],
    ) -> TimeDelta {
        target - self.business_time(from, now, pauses)
    }
}
