//! The weekly opening pattern as arithmetic on wall-clock time.
//!
//! Without holidays a schedule repeats every seven local days, so the business time from any
//! fixed local Monday 00:00 up to a wall-clock time `w` is `weeks × (a week's business time) +
//! (business time of w's week before w)`. The second term is a lookup in the week's windows,
//! so the business time between two wall-clock times, and the wall-clock time at which a given
//! amount of it has elapsed, cost a binary search whatever the distance: whole weeks are
//! skipped by multiplication. The walk (`walk.rs`) only applies this where the wall clock runs
//! at a constant offset from UTC and no date is a holiday.

use chrono::{Datelike, NaiveDate};

use super::schedule::DAY_SECONDS;

const NANOS: i64 = 1_000_000_000;
const DAY: i64 = DAY_SECONDS as i64;
pub(crate) const WEEK_SECONDS: i64 = 7 * DAY;
/// 1970-01-01 was a Thursday: the Monday before it is three days earlier.
const MONDAY_BEFORE_EPOCH: i64 = 3 * DAY;
/// `NaiveDate::num_days_from_ce` of 1970-01-01.
const EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// A wall-clock (local) time: seconds since 1970-01-01T00:00 on the local clock, and
/// nanoseconds of that second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Wall {
    pub secs: i64,
    /// `0..1_000_000_000`.
    pub nanos: i64,
}

impl Wall {
    /// The local midnight starting `date`.
    pub fn midnight(date: NaiveDate) -> Wall {
        let days = i64::from(date.num_days_from_ce()) - EPOCH_DAYS_FROM_CE;
        Wall {
            secs: days * DAY,
            nanos: 0,
        }
    }

    /// The local date this wall-clock time falls on (`None` only outside chrono's years).
    pub fn date(self) -> Option<NaiveDate> {
        day_number(self.secs.div_euclid(DAY))
    }

    /// The last local date touched by a span ending (exclusively) at this time.
    pub fn date_before(self) -> Option<NaiveDate> {
        let day = if self.nanos == 0 && self.secs.rem_euclid(DAY) == 0 {
            self.secs.div_euclid(DAY) - 1
        } else {
            self.secs.div_euclid(DAY)
        };
        day_number(day)
    }

    /// Index of the week (counted from the Monday before 1970-01-01) and second within it.
    fn week_and_second(self) -> (i64, i64) {
        let s = self.secs + MONDAY_BEFORE_EPOCH;
        (s.div_euclid(WEEK_SECONDS), s.rem_euclid(WEEK_SECONDS))
    }

    /// The time `nanos` nanoseconds into week `week`.
    fn in_week(week: i64, nanos: i64) -> Wall {
        Wall {
            secs: week * WEEK_SECONDS - MONDAY_BEFORE_EPOCH + nanos.div_euclid(NANOS),
            nanos: nanos.rem_euclid(NANOS),
        }
    }
}

fn day_number(days_since_epoch: i64) -> Option<NaiveDate> {
    i32::try_from(days_since_epoch + EPOCH_DAYS_FROM_CE)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// The schedule's windows laid end to end over one Monday-to-Sunday week.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Week {
    /// `[start, end)` seconds from Monday 00:00, sorted and disjoint (windows may touch).
    windows: Vec<(i64, i64)>,
    /// Business nanoseconds of the week up to the end of each window.
    ends: Vec<i64>,
}

impl Week {
    /// From per-weekday windows (index 0 = Monday; seconds of the day, sorted, disjoint).
    pub fn new(days: &[Vec<(u32, u32)>; 7]) -> Week {
        let mut week = Week::default();
        let mut total = 0;
        for (day, windows) in (0i64..).zip(days) {
            for &(s, e) in windows {
                let (s, e) = (day * DAY + i64::from(s), day * DAY + i64::from(e));
                total += (e - s) * NANOS;
                week.windows.push((s, e));
                week.ends.push(total);
            }
        }
        week
    }

    /// Business nanoseconds in a whole week.
    pub fn total(&self) -> i64 {
        self.ends.last().copied().unwrap_or(0)
    }

    /// `(week, business nanoseconds of that week before w)`.
    fn position(&self, w: Wall) -> (i64, i64) {
        let (week, second) = w.week_and_second();
        // The last window starting at or before `second`.
        let i = self.windows.partition_point(|&(s, _)| s <= second);
        let Some(i) = i.checked_sub(1) else {
            return (week, 0);
        };
        let (_, end) = self.windows[i];
        let within = if second < end {
            (end - second) * NANOS - w.nanos
        } else {
            0
        };
        (week, self.ends[i] - within)
    }

    /// Business nanoseconds in `[a, b)`, `a <= b`. The caller keeps the span to a few years,
    /// so the product stays far inside `i64`.
    pub fn between(&self, a: Wall, b: Wall) -> i64 {
        let ((wa, fa), (wb, fb)) = (self.position(a), self.position(b));
        (wb - wa) * self.total() + fb - fa
    }

    /// The earliest wall-clock time at which `amount` (> 0) business nanoseconds have elapsed
    /// since `a`. The week must have business time.
    pub fn after(&self, a: Wall, amount: i64) -> Wall {
        let total = self.total().max(1);
        let (week, before) = self.position(a);
        let reach = before + amount;
        // Whole weeks first: the rest, in (0, total], is reached inside the week after them.
        let weeks = (reach - 1).div_euclid(total);
        let rest = reach - weeks * total;
        let i = self
            .ends
            .partition_point(|&end| end < rest)
            .min(self.windows.len().saturating_sub(1));
        let (start, _) = self.windows.get(i).copied().unwrap_or_default();
        let window_before = i.checked_sub(1).map_or(0, |j| self.ends[j]);
        Wall::in_week(week + weeks, start * NANOS + (rest - window_before))
    }

    /// The earliest open wall-clock time at or after `a`. The week must have business time.
    pub fn first_open(&self, a: Wall) -> Wall {
        let (week, second) = a.week_and_second();
        let i = self.windows.partition_point(|&(_, e)| e <= second);
        match self.windows.get(i) {
            Some(&(s, _)) if s <= second => a,
            Some(&(s, _)) => Wall::in_week(week, s * NANOS),
            None => Wall::in_week(
                week + 1,
                self.windows.first().map_or(0, |&(s, _)| s) * NANOS,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wall(date: &str, h: i64, m: i64) -> Wall {
        let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
        let mut w = Wall::midnight(d);
        w.secs += h * 3600 + m * 60;
        w
    }

    /// Monday to Friday 09:00-17:00, and Sunday 22:00-24:00.
    fn week() -> Week {
        let mut days: [Vec<(u32, u32)>; 7] = Default::default();
        for d in days.iter_mut().take(5) {
            d.push((9 * 3600, 17 * 3600));
        }
        days[6].push((22 * 3600, 24 * 3600));
        Week::new(&days)
    }

    const HOUR: i64 = 3600 * NANOS;

    #[test]
    fn dates_and_midnights_round_trip() {
        for date in [
            "1969-12-29",
            "1970-01-01",
            "2026-11-23",
            "1600-02-29",
            "2099-12-31",
        ] {
            let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
            let m = Wall::midnight(d);
            assert_eq!(m.date(), Some(d));
            assert_eq!(m.date_before(), d.pred_opt());
            let later = Wall {
                secs: m.secs,
                nanos: 1,
            };
            assert_eq!(later.date_before(), Some(d));
        }
        // 1969-12-29 and 2026-11-23 are Mondays: both start a week.
        assert_eq!(wall("1969-12-29", 0, 0).week_and_second(), (0, 0));
        assert_eq!(wall("2026-11-23", 0, 0).week_and_second().1, 0);
    }

    #[test]
    fn business_between_counts_whole_weeks_and_parts() {
        let w = week();
        assert_eq!(w.total(), 42 * HOUR);
        // Monday 10:00 to Monday 10:00 four weeks later.
        let a = wall("2026-11-23", 10, 0);
        let b = wall("2026-12-21", 10, 0);
        assert_eq!(w.between(a, b), 4 * 42 * HOUR);
        // Saturday noon to Monday 09:30: Sunday's two hours and half an hour.
        assert_eq!(
            w.between(wall("2026-11-28", 12, 0), wall("2026-11-30", 9, 30)),
            2 * HOUR + HOUR / 2
        );
        assert_eq!(w.between(a, a), 0);
    }

    #[test]
    fn after_is_the_earliest_time_the_amount_is_reached() {
        let w = week();
        let monday = wall("2026-11-23", 9, 0);
        // Exactly a day's hours end at closing time, not at the next opening.
        assert_eq!(w.after(monday, 8 * HOUR), wall("2026-11-23", 17, 0));
        assert_eq!(w.after(monday, 8 * HOUR + 1).nanos, 1);
        // A whole week from Monday opening ends at Sunday midnight (the last window's end).
        assert_eq!(w.after(monday, 42 * HOUR), wall("2026-11-30", 0, 0));
        assert_eq!(w.after(monday, 43 * HOUR), wall("2026-11-30", 10, 0));
        // From a closed time the count starts at the next opening.
        assert_eq!(
            w.after(wall("2026-11-28", 3, 0), HOUR),
            wall("2026-11-29", 23, 0)
        );
        for minutes in [1, 59, 480, 2520, 10_080, 525_600] {
            let amount = minutes * 60 * NANOS;
            assert_eq!(w.between(monday, w.after(monday, amount)), amount);
        }
    }

    #[test]
    fn first_open_is_the_next_window_start_or_now() {
        let w = week();
        let inside = wall("2026-11-23", 12, 0);
        assert_eq!(w.first_open(inside), inside);
        assert_eq!(
            w.first_open(wall("2026-11-23", 17, 0)),
            wall("2026-11-24", 9, 0)
        );
        assert_eq!(
            w.first_open(wall("2026-11-29", 23, 0)),
            wall("2026-11-29", 23, 0)
        );
        // Past the week's last window: the first of the next week.
        let mut days: [Vec<(u32, u32)>; 7] = Default::default();
        days[0].push((3600, 7200));
        let w = Week::new(&days);
        assert_eq!(
            w.first_open(wall("2026-11-23", 2, 0)),
            wall("2026-11-30", 1, 0)
        );
    }
}
