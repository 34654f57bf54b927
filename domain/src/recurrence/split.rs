//! Cutting a series at one of its occurrences: the edit of "this and the following ones". The
//! earlier part keeps the master's identity and ends before the cut; the later part starts at
//! the cut with what is left of the rule. Together they produce exactly what the series did.

use super::rule::Rule;
use super::series::Series;
use super::zone;
use chrono::{NaiveDateTime, TimeDelta};
use std::collections::BTreeSet;

/// The two parts of a series cut at a produced date-time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// The series up to the cut; `None` when the cut is its first produced date-time.
    pub before: Option<Series>,
    /// The series from the cut on.
    pub after: Series,
}

/// Cuts `series` at `at`, which the caller has checked the series produces. A single
/// appointment (no rule) has nothing before its one occurrence.
pub fn cut(series: &Series, at: NaiveDateTime) -> Cut {
    let Some(rule) = &series.rule else {
        return Cut {
            before: None,
            after: series.clone(),
        };
    };
    let earlier = series.produced_from_start().take_while(|l| *l < at).count();
    let earlier = u32::try_from(earlier).unwrap_or(u32::MAX);
    let (before_ex, after_ex): (BTreeSet<_>, BTreeSet<_>) =
        series.exdates.iter().partition(|e| **e < at);
    let after_rule = Rule {
        count: rule.count.map(|c| c.saturating_sub(earlier).max(1)),
        ..rule.clone()
    };
    let after = Series {
        start: at,
        zone: series.zone,
        rule: Some(after_rule),
        exdates: after_ex,
    };
    if earlier == 0 {
        return Cut {
            before: None,
            after,
        };
    }
    let mut before_rule = rule.clone();
    match rule.count {
        Some(_) => before_rule.count = Some(earlier),
        None => {
            // Every occurrence before the cut starts before the cut's instant (occurrences keep
            // one time of day, so their instants ascend with their dates).
            let last = zone::instant(series.zone, at) - TimeDelta::seconds(1);
            before_rule.until = Some(rule.until.map_or(last, |u| u.min(last)));
        }
    }
    Cut {
        before: Some(Series {
            start: series.start,
            zone: series.zone,
            rule: Some(before_rule),
            exdates: before_ex,
        }),
        after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn local(text: &str) -> NaiveDateTime {
        zone::parse_local(text).expect("test date-time")
    }

    fn all(series: &Series) -> Vec<NaiveDateTime> {
        let from = DateTime::<Utc>::from_timestamp(0, 0).expect("epoch");
        series
            .window(from, from + TimeDelta::days(365 * 80), 1_000)
            .occurrences
            .iter()
            .map(|o| o.local)
            .collect()
    }

    fn series(rule: &str, exdates: &[&str]) -> Series {
        Series::new(
            local("2026-03-02T09:00:00"),
            chrono_tz::America::New_York,
            Some(Rule::parse(rule).expect("rule")),
            exdates.iter().map(|e| local(e)).collect(),
        )
        .expect("series")
    }

    #[test]
    fn the_parts_together_are_the_series() {
        for rule in [
            "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10",
            "FREQ=DAILY;INTERVAL=3;UNTIL=20260501T000000Z",
            "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-1;COUNT=12",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;UNTIL=20270101T000000Z",
        ] {
            let s = series(rule, &["2026-03-04T09:00:00"]);
            let whole = all(&s);
            for at in whole.iter().copied() {
                let cut = cut(&s, at);
                let mut joined = cut.before.as_ref().map(all).unwrap_or_default();
                assert!(joined.iter().all(|l| *l < at), "{rule} at {at}");
                joined.extend(all(&cut.after));
                assert_eq!(joined, whole, "{rule} cut at {at}");
            }
        }
    }

    #[test]
    fn cutting_at_the_first_occurrence_leaves_nothing_before() {
        let s = series("FREQ=DAILY;COUNT=5", &[]);
        let cut = cut(&s, local("2026-03-02T09:00:00"));
        assert_eq!(cut.before, None);
        assert_eq!(all(&cut.after).len(), 5);
    }
}
