//! A recurring series (start, zone, rule, exceptions) and its occurrences.
//!
//! Expansion runs on local wall-clock date-times, as RFC 5545 and python-dateutil do: the
//! `rrule` crate expands the rule with the start's wall-clock time written as if it were UTC,
//! so no DST rule of the crate's can interfere, and each produced date-time then becomes an
//! instant through [`zone::instant`]. COUNT is counted by the crate on produced date-times;
//! UNTIL (an instant) and the exceptions (produced date-times) are applied here, after it.
//!
//! Only a rule's first period is tied to the start, so a rule without COUNT is expanded from
//! the first period that can reach the asked window rather than from its start: a series begun
//! in 1900 costs the same to read in 2026 as one begun last week.

use super::rule::{ByDay, Freq, Rule, RuleError};
use super::zone;
use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use rrule::{Frequency, NWeekday, RRule, RRuleSet, Unvalidated};
use std::collections::BTreeSet;

/// More occurrences than a daily rule makes from year 0 to 9999: a COUNT this high can never
/// bind, so it is treated as no COUNT (which lets expansion skip ahead).
const COUNT_NEVER_BINDS: u32 = 3_653_000;

/// Most date-times walked to reach a window: a rule with a binding COUNT must be expanded from
/// its start (COUNT counts from there), and one with a COUNT this large is refused a window
/// further out (see [`Series::reaches`]), so no request walks millions of them.
pub const MAX_WALK: usize = 200_000;

/// How far before an instant its wall-clock time in any zone can lie: the largest negative
/// offset (12 h) plus the longest gap a time can be moved across (a day).
const LOCAL_SLACK: TimeDelta = TimeDelta::days(2);

/// One occurrence: the date-time the rule produced and the instant it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// The produced wall-clock date-time, before any DST move; the occurrence's identity.
    pub local: NaiveDateTime,
    pub start: DateTime<Utc>,
}

/// The occurrences of a window, at most the asked number; `truncated` when more lie in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub occurrences: Vec<Occurrence>,
    pub truncated: bool,
}

/// A series as stored: only its master, from which every occurrence is computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub start: NaiveDateTime,
    pub zone: Tz,
    pub rule: Option<Rule>,
    pub exdates: BTreeSet<NaiveDateTime>,
}

impl Series {
    /// Checks that the expansion engine takes `rule` with `start`; every rule [`Rule::parse`]
    /// accepts should pass, so a failure here is reported as a fault of the rule.
    pub fn new(
        start: NaiveDateTime,
        zone: Tz,
        rule: Option<Rule>,
        exdates: BTreeSet<NaiveDateTime>,
    ) -> Result<Series, RuleError> {
        if let Some(rule) = &rule {
            engine_rule(rule, start)
                .validate(as_utc(start))
                .map_err(|e| RuleError(format!("cannot be expanded: {e}")))?;
        }
        Ok(Series {
            start,
            zone,
            rule,
            exdates,
        })
    }

    /// Whether a window from `from` can be answered without walking more than [`MAX_WALK`]
    /// produced date-times: always, unless a COUNT above that must be walked past them.
    pub fn reaches(&self, from: DateTime<Utc>) -> bool {
        let Some(count) = self.rule.as_ref().and_then(|r| r.count) else {
            return true;
        };
        if count < COUNT_NEVER_BINDS && count as usize > MAX_WALK {
            let near = from.naive_utc() - LOCAL_SLACK;
            return self
                .produced(self.start)
                .nth(MAX_WALK)
                .is_none_or(|far| far >= near);
        }
        true
    }

    /// Occurrences starting in `[from, to)`, ascending, at most `limit`.
    pub fn window(&self, from: DateTime<Utc>, to: DateTime<Utc>, limit: usize) -> Window {
        let mut occurrences: Vec<Occurrence> = self
            .from(from)
            .take_while(|o| o.start < to)
            .take(limit.saturating_add(1))
            .collect();
        let truncated = occurrences.len() > limit;
        occurrences.truncate(limit);
        Window {
            occurrences,
            truncated,
        }
    }

    /// Occurrences starting at or after `from`, ascending; ends when the series does.
    pub fn from(&self, from: DateTime<Utc>) -> impl Iterator<Item = Occurrence> + '_ {
        let near = from.naive_utc() - LOCAL_SLACK;
        // A date-time that early starts before `from` in any zone; skipping it before its
        // instant is computed keeps a COUNT walked from a distant start cheap. (Instants
        // ascend, so skipping cannot hide an UNTIL that ends the series.)
        self.produced(near)
            .skip_while(move |local| *local < near)
            .filter(|local| !self.exdates.contains(local))
            .map(|local| Occurrence {
                local,
                start: zone::instant(self.zone, local),
            })
            .take_while(|o| {
                let until = self.rule.as_ref().and_then(|r| r.until);
                until.is_none_or(|until| o.start <= until)
            })
            .filter(move |o| o.start >= from)
    }

    /// Every date-time the rule produces from its start, COUNT applied, exceptions not.
    pub fn produced_from_start(&self) -> impl Iterator<Item = NaiveDateTime> + '_ {
        self.produced(self.start)
    }

    /// Whether the rule produces `local` (an exception still counts as produced).
    pub fn produces(&self, local: NaiveDateTime) -> bool {
        self.produced(local - TimeDelta::days(1))
            .take_while(|l| *l <= local)
            .any(|l| l == local)
    }

    /// The date-times the rule produces (COUNT applied, nothing else), ascending, none much
    /// earlier than `near` when the rule allows skipping there.
    fn produced(&self, near: NaiveDateTime) -> Box<dyn Iterator<Item = NaiveDateTime> + '_> {
        let Some(rule) = &self.rule else {
            return Box::new(std::iter::once(self.start));
        };
        let binding_count = rule.count.filter(|c| *c < COUNT_NEVER_BINDS);
        let mut engine = engine_rule(rule, self.start);
        let mut dt_start = self.start;
        match binding_count {
            Some(count) => engine = engine.count(count),
            None => {
                if let Some(skipped) = period_start_near(rule, self.start, near) {
                    dt_start = skipped;
                }
            }
        }
        match engine.validate(as_utc(dt_start)) {
            Ok(valid) => {
                let set = RRuleSet::new(as_utc(dt_start)).rrule(valid).limit();
                Box::new(set.into_iter().map(|d| d.naive_utc()))
            }
            // `Series::new` validated the rule with its own start; a later period's start
            // cannot make it invalid, but should it, the series yields nothing rather than
            // failing whoever reads it.
            Err(_) => Box::new(std::iter::empty()),
        }
    }
}

fn as_utc(local: NaiveDateTime) -> DateTime<rrule::Tz> {
    local.and_utc().with_timezone(&rrule::Tz::UTC)
}

/// The crate's rule for ours, with every default dateutil takes from the start (the weekday,
/// month day, month and time of day) written out, so that expanding from a later period's
/// start produces the same date-times. COUNT and UNTIL are left to the caller.
fn engine_rule(rule: &Rule, start: NaiveDateTime) -> RRule<Unvalidated> {
    let mut by_day = rule.by_day.clone();
    let mut by_month_day = rule.by_month_day.clone();
    let mut by_month = rule.by_month.clone();
    if by_day.is_empty() && by_month_day.is_empty() {
        match rule.freq {
            Freq::Yearly => {
                if by_month.is_empty() {
                    by_month.push(start.month() as u8);
                }
                by_month_day.push(start.day() as i8);
            }
            Freq::Monthly => by_month_day.push(start.day() as i8),
            Freq::Weekly => by_day.push(ByDay {
                nth: None,
                weekday: start.weekday(),
            }),
            Freq::Daily => {}
        }
    }
    let months: Vec<chrono::Month> = by_month
        .iter()
        .filter_map(|m| chrono::Month::try_from(*m).ok())
        .collect();
    RRule::new(match rule.freq {
        Freq::Daily => Frequency::Daily,
        Freq::Weekly => Frequency::Weekly,
        Freq::Monthly => Frequency::Monthly,
        Freq::Yearly => Frequency::Yearly,
    })
    .interval(rule.interval)
    .week_start(rule.wkst)
    .by_weekday(
        by_day
            .iter()
            .map(|d| match d.nth {
                Some(n) => NWeekday::Nth(i16::from(n), d.weekday),
                None => NWeekday::Every(d.weekday),
            })
            .collect(),
    )
    .by_month_day(by_month_day)
    .by_month(&months)
    .by_set_pos(rule.by_set_pos.iter().map(|p| i32::from(*p)).collect())
    .by_hour(vec![start.hour() as u8])
    .by_minute(vec![start.minute() as u8])
    .by_second(vec![start.second() as u8])
}

/// The first instant (00:00) of the latest period of `rule` that begins a whole number of
/// intervals after the start's period and no later than `near`; `None` when that is the
/// start's own period.
fn period_start_near(
    rule: &Rule,
    start: NaiveDateTime,
    near: NaiveDateTime,
) -> Option<NaiveDateTime> {
    if near <= start {
        return None;
    }
    let interval = i64::from(rule.interval);
    let (s, n) = (start.date(), near.date());
    let first: NaiveDate = match rule.freq {
        Freq::Daily => {
            let periods = (n - s).num_days() / interval;
            s.checked_add_signed(TimeDelta::days(periods.checked_mul(interval)?))?
        }
        Freq::Weekly => {
            let week_of = |d: NaiveDate| {
                let back =
                    (7 + d.weekday().num_days_from_monday() - rule.wkst.num_days_from_monday()) % 7;
                d - TimeDelta::days(i64::from(back))
            };
            let (ws, wn) = (week_of(s), week_of(n));
            let periods = (wn - ws).num_days() / 7 / interval;
            ws.checked_add_signed(TimeDelta::days(periods.checked_mul(interval * 7)?))?
        }
        Freq::Monthly => {
            let months =
                i64::from(n.year() - s.year()) * 12 + i64::from(n.month()) - i64::from(s.month());
            let periods = months / interval;
            let add = u32::try_from(periods.checked_mul(interval)?).ok()?;
            s.with_day(1)?.checked_add_months(Months::new(add))?
        }
        Freq::Yearly => {
            let periods = i64::from(n.year() - s.year()) / interval;
            let year = i64::from(s.year()) + periods.checked_mul(interval)?;
            NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, 1, 1)?
        }
    };
    let first = first.and_hms_opt(0, 0, 0)?;
    (first > start).then_some(first)
}

#[cfg(test)]
#[path = "series_tests.rs"]
mod tests;
