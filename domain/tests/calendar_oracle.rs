//! The business calendar against an independent oracle that walks time minute by minute.
//!
//! The oracle knows nothing of stretches, offsets or intervals: for each UTC minute it asks
//! chrono-tz for the local wall-clock time and checks the rule directly (open window of the
//! local weekday, local date not a holiday). Schedules use whole minutes and every zone here
//! changes offset on a whole minute, so each UTC minute is wholly in or out and counting
//! minutes is exact. Spans are drawn around DST changes of the zones under test.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use psa_domain::calendar::{
    Calendar, HolidaySpec, Interval, ScheduleSpec, WindowSpec, normalize_pauses,
};

const ZONES: &[&str] = &[
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "UTC",
];

/// Days with a DST change in at least one of the zones (and a few without).
const AROUND: &[(i32, u32, u32)] = &[
    (2026, 3, 8),   // New York springs forward
    (2026, 11, 1),  // New York falls back
    (2026, 3, 29),  // London springs forward
    (2026, 10, 25), // London falls back
    (2026, 4, 5),   // Lord Howe and Chatham fall back
    (2026, 10, 4),  // Lord Howe springs forward
    (2026, 9, 27),  // Chatham springs forward
    (2018, 11, 4),  // São Paulo springs forward at midnight
    (2019, 2, 17),  // São Paulo falls back at midnight
    (2026, 6, 15),
    (2026, 12, 24),
];

fn hhmm(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// Up to two windows a day from sorted cut points, sometimes one past midnight.
fn schedule() -> impl Strategy<Value = ScheduleSpec> {
    let day = (0usize..=2, prop::collection::btree_set(0u32..=1440, 4));
    (
        prop::sample::select(ZONES),
        prop::collection::vec(day, 7),
        prop::option::weighted(0.3, (1i64..=7, 1200u32..1440, 1u32..300)),
        prop::collection::vec((0i64..40, any::<bool>()), 0..4),
        prop::sample::select(AROUND),
    )
        .prop_map(|(zone, days, overnight, holidays, around)| {
            let mut hours = Vec::new();
            for (i, (count, cuts)) in days.into_iter().enumerate() {
                let cuts: Vec<u32> = cuts.into_iter().collect();
                for w in 0..count {
                    let (s, e) = (cuts[2 * w], cuts[2 * w + 1]);
                    hours.push(WindowSpec {
                        weekday: i as i64 + 1,
                        start: hhmm(s),
                        end: if e == 1440 { "24:00".into() } else { hhmm(e) },
                    });
                }
            }
            if let Some((weekday, start, end)) = overnight {
                hours.push(WindowSpec {
                    weekday,
                    start: hhmm(start),
                    end: hhmm(end),
                });
            }
            let base = NaiveDate::from_ymd_opt(around.0, around.1, around.2).unwrap();
            let holidays = holidays
                .into_iter()
                .map(|(offset, recurring)| HolidaySpec {
                    date: (base + TimeDelta::days(offset - 20))
                        .format("%Y-%m-%d")
                        .to_string(),
                    recurring,
                })
                .collect();
            ScheduleSpec {
                timezone: zone.to_string(),
                is_24x7: false,
                hours,
                holidays,
            }
        })
        // Overnight windows may overlap the next day's: those are refused, not tested here.
        .prop_filter("valid schedule", |s| Calendar::new(s, "").is_ok())
}

/// The schedule, and a span of up to six days starting near one of the `AROUND` days.
fn case() -> impl Strategy<Value = (ScheduleSpec, DateTime<Utc>, i64)> {
    (
        schedule(),
        prop::sample::select(AROUND),
        -3i64..3,
        0i64..1440,
        0i64..(6 * 1440),
    )
        .prop_map(|(s, around, days, minute, span)| {
            let base = NaiveDate::from_ymd_opt(around.0, around.1, around.2)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc();
            (
                s,
                base + TimeDelta::days(days) + TimeDelta::minutes(minute),
                span,
            )
        })
}

/// The rule, asked of one instant.
fn oracle_open(spec: &ScheduleSpec, t: DateTime<Utc>) -> bool {
    let tz: Tz = spec.timezone.parse().unwrap();
    let local = t.with_timezone(&tz).naive_local();
    let date = local.date();
    let holiday = spec.holidays.iter().any(|h| {
        let d = NaiveDate::parse_from_str(&h.date, "%Y-%m-%d").unwrap();
        if h.recurring {
            (d.month(), d.day()) == (date.month(), date.day())
        } else {
            d == date
        }
    });
    if holiday {
        return false;
    }
    let minute = local.hour() * 60 + local.minute();
    let weekday = date.weekday().number_from_monday() as i64;
    let mins = |s: &str| -> u32 {
        let (h, m) = s.split_once(':').unwrap();
        h.parse::<u32>().unwrap() * 60 + m.parse::<u32>().unwrap()
    };
    spec.hours.iter().any(|w| {
        let (s, e) = (mins(&w.start), mins(&w.end));
        if e > s {
            w.weekday == weekday && (s..e).contains(&minute)
        } else {
            // Past midnight: the rest of its own day, then the start of the next.
            (w.weekday == weekday && minute >= s) || (w.weekday % 7 + 1 == weekday && minute < e)
        }
    })
}

/// Open minutes of `[from, from + span minutes)`, as flags.
fn oracle_minutes(spec: &ScheduleSpec, from: DateTime<Utc>, span: i64) -> Vec<bool> {
    (0..span)
        .map(|m| oracle_open(spec, from + TimeDelta::minutes(m)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn business_time_matches_the_oracle((spec, from, span) in case()) {
        let cal = Calendar::new(&spec, "").unwrap();
        let open = oracle_minutes(&spec, from, span);
        let expected = open.iter().filter(|o| **o).count() as i64;
        let to = from + TimeDelta::minutes(span);
        prop_assert_eq!(cal.business_time(from, to, &[]), TimeDelta::minutes(expected));

        // The instant each whole number of open minutes has elapsed: the end of that minute.
        let mut count = 0;
        let mut targets = Vec::new();
        let mut expected_at = Vec::new();
        for (m, o) in open.iter().enumerate() {
            if *o {
                count += 1;
                if count % 97 == 1 || m + 1 == open.len() {
                    targets.push(TimeDelta::minutes(count));
                    expected_at.push(from + TimeDelta::minutes(m as i64 + 1));
                }
            }
        }
        if !targets.is_empty() {
            prop_assert_eq!(cal.instants_after(from, &targets, &[]).unwrap(), expected_at);
        }
    }

    #[test]
    fn is_open_and_next_open_match_the_oracle((spec, from, span) in case(), probes in prop::collection::vec(0i64..(6 * 1440), 8)) {
        let cal = Calendar::new(&spec, "").unwrap();
        let open = oracle_minutes(&spec, from, span);
        for p in probes.into_iter().filter(|p| *p < span) {
            let t = from + TimeDelta::minutes(p);
            prop_assert_eq!(cal.is_open(t), open[p as usize], "at {}", t);
            if let Some(next) = open[p as usize..].iter().position(|o| *o) {
                prop_assert_eq!(cal.next_open(t).unwrap(), t + TimeDelta::minutes(next as i64));
            }
        }
    }

    #[test]
    fn pauses_match_the_oracle((spec, from, span) in case(), raw in prop::collection::vec((0i64..(6 * 1440), 0i64..600), 0..5)) {
        let cal = Calendar::new(&spec, "").unwrap();
        let pauses: Vec<Interval> = raw
            .iter()
            .map(|(start, len)| Interval {
                from: from + TimeDelta::minutes(*start),
                to: from + TimeDelta::minutes(start + len),
            })
            .collect();
        let paused = |m: i64| raw.iter().any(|(s, l)| (*s..s + l).contains(&m));
        let open = oracle_minutes(&spec, from, span);
        let counted: Vec<bool> = open.iter().enumerate().map(|(m, o)| *o && !paused(m as i64)).collect();
        let expected = counted.iter().filter(|c| **c).count() as i64;
        let pauses = normalize_pauses(&pauses);
        let to = from + TimeDelta::minutes(span);
        prop_assert_eq!(cal.business_time(from, to, &pauses), TimeDelta::minutes(expected));
        if let Some(last) = counted.iter().rposition(|c| *c) {
            prop_assert_eq!(
                cal.instant_after(from, TimeDelta::minutes(expected), &pauses).unwrap(),
                from + TimeDelta::minutes(last as i64 + 1)
            );
        }
    }
}

#[test]
fn twenty_four_seven_matches_wall_clock_time() {
    let spec = ScheduleSpec {
        timezone: "Pacific/Chatham".into(),
        is_24x7: true,
        hours: vec![],
        holidays: vec![],
    };
    let cal = Calendar::new(&spec, "").unwrap();
    let from = NaiveDate::from_ymd_opt(2026, 9, 26)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    for hours in [0, 1, 13, 24, 49, 24 * 400] {
        let to = from + TimeDelta::hours(hours);
        assert_eq!(cal.business_time(from, to, &[]), TimeDelta::hours(hours));
        assert_eq!(
            cal.instant_after(from, TimeDelta::hours(hours), &[])
                .unwrap(),
            to
        );
    }
}
