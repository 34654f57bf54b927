//! Questions a calendar answers: is it open, when does it open, how much business time lies
//! between two instants, and when a given amount of it will have elapsed. Pauses (an SLA on
//! hold) are subtracted: business time inside a pause does not count. Each answer is one walk
//! over the runs of `walk.rs`.

use super::CalendarError;
use super::schedule::Calendar;
use super::walk::{self, Runs};
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

/// `d` in nanoseconds (`TimeDelta` holds at most about 292 million years: `i128` is ample).
fn nanos(d: TimeDelta) -> i128 {
    i128::from(d.num_seconds()) * 1_000_000_000 + i128::from(d.subsec_nanos())
}

impl Calendar {
    /// Whether `t` is business time.
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        walk::is_open(self, t)
    }

    /// The earliest business instant at or after `t` (`t` itself when open).
    pub fn next_open(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
        for run in Runs::new(self, t, None, &[]) {
            let run = run?;
            if run.business > 0 {
                return Ok(run.first_open(self));
            }
        }
        Err(CalendarError::NoBusinessTime { from: t })
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
        let total: i128 = Runs::new(self, from, Some(to), pauses)
            .filter_map(Result::ok)
            .filter(|run| run.counted)
            .map(|run| i128::from(run.business))
            .sum();
        let secs = i64::try_from(total / 1_000_000_000).unwrap_or(i64::MAX);
        // `total % 1e9` is below 1e9: it fits.
        let subsec = u32::try_from(total % 1_000_000_000).unwrap_or(0);
        TimeDelta::new(secs, subsec).unwrap_or(TimeDelta::MAX)
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
        let mut elapsed: i128 = 0;
        for run in Runs::new(self, from, None, pauses) {
            let run = run?;
            if !run.counted || run.business == 0 {
                continue;
            }
            let after = elapsed + i128::from(run.business);
            while let Some(amount) = pending.next_if(|a| nanos(*a) <= after) {
                // Within this run: `0 < amount - elapsed <= run.business`.
                let into = i64::try_from(nanos(amount) - elapsed).unwrap_or(run.business);
                out.push(run.instant_after(self, into));
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
