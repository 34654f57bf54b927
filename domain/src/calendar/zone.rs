//! Where a zone's UTC offset changes (DST and any other change of the zone's rules).
//!
//! `chrono-tz` answers "what is the offset at this instant" but does not list its changes, so
//! they are found by probing every six hours and bisecting to the second between two probes
//! that disagree. That assumes no zone changes its offset and back within six hours (true of
//! every zone in the tz database).
//!
//! Probing costs a lookup per six hours, so a zone's changes in one UTC year are found once
//! and remembered for the thread: after that, where the current constant-offset stretch ends
//! is a binary search. The memory is a cache only: it never changes an answer, so the
//! calendar stays deterministic.

use chrono::{DateTime, Datelike, NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

const PROBE_SECONDS: i64 = 6 * 3600;
/// Zone-years remembered per thread before the memory is emptied and refilled.
const REMEMBERED: usize = 4096;

/// Local minus UTC, in seconds, at UTC second `t`.
pub(crate) fn offset_at(tz: Tz, t: i64) -> i64 {
    DateTime::from_timestamp(t, 0).map_or(0, |t| {
        i64::from(
            tz.offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc(),
        )
    })
}

/// The first second in `(lo, hi]` whose offset is not `offset`, given `offset_at(lo) ==
/// offset != offset_at(hi)`.
fn first_change(tz: Tz, mut lo: i64, mut hi: i64, offset: i64) -> i64 {
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if offset_at(tz, mid) == offset {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// `year`-01-01T00:00:00Z in seconds, if chrono has that year.
fn new_year(year: i32) -> Option<i64> {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
}

/// The seconds in `(start of year, start of next year]` at which the offset changes.
fn find_changes(tz: Tz, year: i32) -> Rc<[i64]> {
    let (Some(lo), Some(hi)) = (new_year(year), new_year(year.saturating_add(1))) else {
        return Rc::from([]);
    };
    let mut changes = Vec::new();
    let mut before = lo;
    let mut offset = offset_at(tz, lo);
    while before < hi {
        let probe = (before + PROBE_SECONDS).min(hi);
        let next = offset_at(tz, probe);
        if next != offset {
            changes.push(first_change(tz, before, probe, offset));
            offset = next;
        }
        before = probe;
    }
    Rc::from(changes)
}

/// Offset changes of a zone in one UTC year, in UTC seconds.
type YearChanges = HashMap<(Tz, i32), Rc<[i64]>>;

thread_local! {
    static KNOWN: RefCell<YearChanges> = RefCell::new(HashMap::new());
}

/// The changes of `tz` in UTC `year`, remembered.
pub(super) fn changes_in(tz: Tz, year: i32) -> Rc<[i64]> {
    if let Some(known) = KNOWN.with_borrow(|k| k.get(&(tz, year)).cloned()) {
        return known;
    }
    let found = find_changes(tz, year);
    KNOWN.with_borrow_mut(|k| {
        if k.len() >= REMEMBERED {
            k.clear();
        }
        k.insert((tz, year), found.clone());
    });
    found
}

/// Answers "where does this constant-offset stretch end" along one walk, holding the
/// current year's changes.
pub(crate) struct Stretches {
    tz: Tz,
    /// `[from, to)` in UTC seconds: the year whose changes are held.
    year: (i64, i64),
    changes: Rc<[i64]>,
}

impl Stretches {
    pub fn new(tz: Tz) -> Self {
        Self {
            tz,
            year: (0, 0),
            changes: Rc::from([]),
        }
    }

    /// The first UTC second after `t` at which the offset changes, or the next UTC new year
    /// if that comes first: `t`'s offset holds on `[t, answer)`.
    pub fn end(&mut self, t: i64) -> i64 {
        if !(self.year.0..self.year.1).contains(&t) {
            let year = DateTime::from_timestamp(t, 0).map(|d| d.year());
            let bounds = year.and_then(|y| Some((y, new_year(y)?, new_year(y.checked_add(1)?)?)));
            let Some((year, lo, hi)) = bounds.filter(|(_, lo, hi)| (*lo..*hi).contains(&t)) else {
                // Outside chrono's years (no instant the calendar is asked about).
                return t.saturating_add(PROBE_SECONDS);
            };
            self.year = (lo, hi);
            self.changes = changes_in(self.tz, year);
        }
        let i = self.changes.partition_point(|&c| c <= t);
        self.changes.get(i).copied().unwrap_or(self.year.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn secs(s: &str) -> i64 {
        s.parse::<DateTime<Utc>>().unwrap().timestamp()
    }

    #[test]
    fn finds_each_change_to_the_second() {
        let london: Tz = "Europe/London".parse().unwrap();
        assert_eq!(
            &*find_changes(london, 2026),
            [secs("2026-03-29T01:00:00Z"), secs("2026-10-25T01:00:00Z")]
        );
        let mut s = Stretches::new(london);
        assert_eq!(
            s.end(secs("2026-01-10T00:00:00Z")),
            secs("2026-03-29T01:00:00Z")
        );
        // At the change itself the new offset holds until the next one.
        assert_eq!(
            s.end(secs("2026-03-29T01:00:00Z")),
            secs("2026-10-25T01:00:00Z")
        );
        // After the year's last change: the new year.
        assert_eq!(
            s.end(secs("2026-11-01T00:00:00Z")),
            secs("2027-01-01T00:00:00Z")
        );
        // Apia skipped 30 December 2011 (a change of 24 hours).
        let apia: Tz = "Pacific/Apia".parse().unwrap();
        assert!(find_changes(apia, 2011).contains(&secs("2011-12-30T10:00:00Z")));
        // Tokyo has no DST.
        assert!(find_changes("Asia/Tokyo".parse().unwrap(), 2026).is_empty());
    }

    #[test]
    fn the_memory_answers_like_a_fresh_search() {
        let zone: Tz = "Australia/Lord_Howe".parse().unwrap();
        let fresh = find_changes(zone, 2030);
        assert_eq!(fresh.len(), 2);
        assert_eq!(changes_in(zone, 2030), fresh);
        assert_eq!(changes_in(zone, 2030), fresh);
    }
}
