//! Which invoices fall due in an invoice run's period.
//!
//! A run bills a period named by a month (`2026-11`) or a day (`2026-11-30`): every client
//! invoice whose billing day lies in it. An invoice is one client's billing period (its start,
//! in one currency), made from every assignment with a period starting that day. Its billing
//! day is the latest of theirs:
//! - `arrears`: the day after the period's last day (its exclusive end), when it has closed;
//! - `advance`: the period's first day, or the assignment's start when the first period began
//!   before it (an assignment is never billed before it starts).
//!
//! Taking the latest means an invoice mixing timings waits for its arrears part to close, so
//! no time or usage of the period is left out of it. Pure, and total: dates outside chrono's
//! range are skipped, never a panic.

use super::cycle::{Anchor, BillingCycle, Timing, period_containing, period_starting};
use chrono::{Datelike, Days, Months, NaiveDate};
use std::collections::BTreeMap;

/// A run's period, `[start, end)`, parsed from its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunPeriod {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl RunPeriod {
    /// `YYYY-MM` (the month) or `YYYY-MM-DD` (the day), exactly; `None` otherwise.
    pub fn parse(key: &str) -> Option<RunPeriod> {
        let b = key.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        match b.len() {
            7 if digits(0..4) && b[4] == b'-' && digits(5..7) => {
                let start = NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d").ok()?;
                let end = start.checked_add_months(Months::new(1))?;
                Some(RunPeriod { start, end })
            }
            10 if digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10) => {
                let start = NaiveDate::parse_from_str(key, "%Y-%m-%d").ok()?;
                let end = start.checked_add_days(Days::new(1))?;
                Some(RunPeriod { start, end })
            }
            _ => None,
        }
    }

    /// The key that names this period (`YYYY-MM` for a whole month, else `YYYY-MM-DD`).
    pub fn key(&self) -> String {
        let whole_month = self.start.day() == 1
            && self.start.checked_add_months(Months::new(1)) == Some(self.end);
        if whole_month {
            self.start.format("%Y-%m").to_string()
        } else {
            self.start.format("%Y-%m-%d").to_string()
        }
    }
}

/// One assignment's terms, as far as billing days go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentTerms {
    pub start: NaiveDate,
    /// The last day covered (inclusive); none: open-ended.
    pub last: Option<NaiveDate>,
    pub currency: String,
    pub cycle: BillingCycle,
    pub anchor: Anchor,
    pub timing: Timing,
}

/// An invoice due in a run: the client's period starting on `period_start` in `currency`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueInvoice {
    pub period_start: NaiveDate,
    pub currency: String,
    /// The day it is billed on (the latest of its assignments').
    pub billing_day: NaiveDate,
}

/// How far back a period can begin and still be billed in the run: the longest cycle (a year)
/// and a day.
const LOOK_BACK_DAYS: u64 = 367;
/// More periods than any assignment has between the look-back and a run's end.
const MAX_PERIODS: usize = 200;

/// The invoices one client's assignments make due in `run`, by period start and currency.
pub fn invoices_due(assignments: &[AssignmentTerms], run: RunPeriod) -> Vec<DueInvoice> {
    let mut days: BTreeMap<(NaiveDate, String), NaiveDate> = BTreeMap::new();
    let since = run
        .start
        .checked_sub_days(Days::new(LOOK_BACK_DAYS))
        .unwrap_or(NaiveDate::MIN);
    for a in assignments {
        for (start, end) in periods(a, since, run.end) {
            let day = match a.timing {
                Timing::Arrears => end,
                Timing::Advance => start.max(a.start),
            };
            let entry = days.entry((start, a.currency.clone())).or_insert(day);
            *entry = (*entry).max(day);
        }
    }
    days.into_iter()
        .filter(|(_, day)| run.start <= *day && *day < run.end)
        .map(|((period_start, currency), billing_day)| DueInvoice {
            period_start,
            currency,
            billing_day,
        })
        .collect()
}

/// The assignment's periods that cover one of its days, from the one holding `since` (or its
/// first) to the last starting before `until`.
fn periods(a: &AssignmentTerms, since: NaiveDate, until: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let Ok(mut period) = period_containing(a.cycle, a.anchor, a.start, since.max(a.start)) else {
        return out;
    };
    while period.0 < until && out.len() < MAX_PERIODS {
        if a.last.is_some_and(|last| period.0 > last) {
            break;
        }
        out.push(period);
        match period_starting(a.cycle, a.anchor, a.start, period.1) {
            Ok(next) => period = next,
            Err(_) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn terms(start: &str, cycle: BillingCycle, anchor: Anchor, timing: Timing) -> AssignmentTerms {
        AssignmentTerms {
            start: d(start),
            last: None,
            currency: "USD".into(),
            cycle,
            anchor,
            timing,
        }
    }

    fn due(a: &[AssignmentTerms], key: &str) -> Vec<(NaiveDate, NaiveDate)> {
        invoices_due(a, RunPeriod::parse(key).unwrap())
            .into_iter()
            .map(|i| (i.period_start, i.billing_day))
            .collect()
    }

    #[test]
    fn period_keys_are_a_month_or_a_day() {
        let m = RunPeriod::parse("2026-11").unwrap();
        assert_eq!((m.start, m.end), (d("2026-11-01"), d("2026-12-01")));
        assert_eq!(m.key(), "2026-11");
        let day = RunPeriod::parse("2026-12-31").unwrap();
        assert_eq!((day.start, day.end), (d("2026-12-31"), d("2027-01-01")));
        assert_eq!(day.key(), "2026-12-31");
        for bad in [
            "2026-13",
            "2026-02-30",
            "2026-1",
            "26-11",
            "2026/11",
            "2026-11-",
            "2026-11-1",
            "",
            "２０２６-11",
            "2026-11-30T00:00:00",
            "+2026-11",
        ] {
            assert_eq!(RunPeriod::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn monthly_arrears_is_billed_the_day_after_the_period() {
        let a = [terms(
            "2026-01-01",
            BillingCycle::Monthly,
            Anchor::Calendar,
            Timing::Arrears,
        )];
        // November's run bills October (closed on 1 November).
        assert_eq!(due(&a, "2026-11"), vec![(d("2026-10-01"), d("2026-11-01"))]);
        assert_eq!(
            due(&a, "2026-11-01"),
            vec![(d("2026-10-01"), d("2026-11-01"))]
        );
        assert_eq!(due(&a, "2026-11-02"), vec![]);
    }

    #[test]
    fn anchored_and_advance_periods() {
        let anchored = [terms(
            "2026-01-01",
            BillingCycle::Monthly,
            Anchor::Day(15),
            Timing::Arrears,
        )];
        assert_eq!(
            due(&anchored, "2026-11"),
            vec![(d("2026-10-15"), d("2026-11-15"))]
        );
        let quarterly = [terms(
            "2026-01-01",
            BillingCycle::Quarterly,
            Anchor::Calendar,
            Timing::Advance,
        )];
        assert_eq!(
            due(&quarterly, "2026-10"),
            vec![(d("2026-10-01"), d("2026-10-01"))]
        );
        assert_eq!(due(&quarterly, "2026-11"), vec![]);
    }

    #[test]
    fn weekly_arrears_bills_every_week_closing_in_the_month() {
        // Weeks from Monday 2026-11-02.
        let a = [terms(
            "2026-11-02",
            BillingCycle::Weekly,
            Anchor::Calendar,
            Timing::Arrears,
        )];
        let starts: Vec<NaiveDate> = due(&a, "2026-11").into_iter().map(|x| x.0).collect();
        assert_eq!(
            starts,
            vec![
                d("2026-11-02"),
                d("2026-11-09"),
                d("2026-11-16"),
                d("2026-11-23")
            ]
        );
    }

    #[test]
    fn a_start_mid_period_and_an_end_are_respected() {
        // Starts mid-month, advance: billed on its start day, not on the 1st before it.
        let mut a = terms(
            "2026-11-10",
            BillingCycle::Monthly,
            Anchor::Calendar,
            Timing::Advance,
        );
        assert_eq!(
            due(&[a.clone()], "2026-11"),
            vec![(d("2026-11-01"), d("2026-11-10"))]
        );
        assert_eq!(due(&[a.clone()], "2026-11-01"), vec![]);
        // Ended in October, arrears: October is billed in November, nothing after.
        a = terms(
            "2026-01-01",
            BillingCycle::Monthly,
            Anchor::Calendar,
            Timing::Arrears,
        );
        a.last = Some(d("2026-10-15"));
        assert_eq!(
            due(&[a.clone()], "2026-11"),
            vec![(d("2026-10-01"), d("2026-11-01"))]
        );
        assert_eq!(due(&[a], "2026-12"), vec![]);
    }

    #[test]
    fn mixed_timings_wait_for_the_arrears_part() {
        let a = [
            terms(
                "2026-01-01",
                BillingCycle::Monthly,
                Anchor::Calendar,
                Timing::Advance,
            ),
            terms(
                "2026-01-01",
                BillingCycle::Monthly,
                Anchor::Calendar,
                Timing::Arrears,
            ),
        ];
        // November's period is billed on 1 December, once, for both.
        assert_eq!(due(&a, "2026-11"), vec![(d("2026-10-01"), d("2026-11-01"))]);
        assert_eq!(due(&a, "2026-12"), vec![(d("2026-11-01"), d("2026-12-01"))]);
    }

    #[test]
    fn currencies_make_separate_invoices() {
        let mut eur = terms(
            "2026-01-01",
            BillingCycle::Monthly,
            Anchor::Calendar,
            Timing::Arrears,
        );
        eur.currency = "EUR".into();
        let usd = terms(
            "2026-01-01",
            BillingCycle::Monthly,
            Anchor::Calendar,
            Timing::Arrears,
        );
        let got = invoices_due(&[usd, eur], RunPeriod::parse("2026-11").unwrap());
        let currencies: Vec<&str> = got.iter().map(|i| i.currency.as_str()).collect();
        assert_eq!(currencies, vec!["EUR", "USD"]);
    }

    fn cycle() -> impl Strategy<Value = (BillingCycle, Anchor)> {
        prop_oneof![
            Just((BillingCycle::Weekly, Anchor::Calendar)),
            Just((BillingCycle::BiWeekly, Anchor::Calendar)),
            (1u8..=28).prop_map(|d| (BillingCycle::Monthly, Anchor::Day(d))),
            Just((BillingCycle::Monthly, Anchor::Calendar)),
            Just((BillingCycle::Quarterly, Anchor::Calendar)),
            Just((BillingCycle::SemiAnnual, Anchor::Calendar)),
            (1u8..=28).prop_map(|d| (BillingCycle::Annual, Anchor::Day(d))),
        ]
    }

    proptest! {
        /// Day runs over a month bill exactly what the month's run bills: every invoice falls
        /// due on one day, so a missed day's run is made good by the month's, never doubled.
        #[test]
        fn the_days_of_a_month_add_up_to_the_month(
            (c, anchor) in cycle(),
            start_offset in 0i64..800,
            timing in prop_oneof![Just(Timing::Advance), Just(Timing::Arrears)],
            month in 0u32..24,
        ) {
            let start = d("2025-01-01") + chrono::TimeDelta::days(start_offset);
            let a = [AssignmentTerms { start, last: None, currency: "USD".into(), cycle: c,
                anchor, timing }];
            let m = d("2025-06-01").checked_add_months(Months::new(month)).unwrap();
            let run = RunPeriod::parse(&m.format("%Y-%m").to_string()).unwrap();
            let whole = invoices_due(&a, run);
            let mut by_day = Vec::new();
            let mut day = run.start;
            while day < run.end {
                by_day.extend(invoices_due(&a, RunPeriod::parse(&day.to_string()).unwrap()));
                day = day.succ_opt().unwrap();
            }
            prop_assert_eq!(whole.clone(), by_day);
            for i in &whole {
                prop_assert!(run.start <= i.billing_day && i.billing_day < run.end);
                prop_assert!(i.billing_day >= start);
            }
        }
    }
}
