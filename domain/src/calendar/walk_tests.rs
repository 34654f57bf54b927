//! The walk (`walk.rs`, whole weeks at once) against the day walk it replaced (`day_walk.rs`,
//! a day at a time): the same answers, to the nanosecond, on random schedules, zones, holidays,
//! pauses and starts from 1971 to the horizon, for targets from a minute to a year.

use super::*;
use chrono::{Datelike, TimeDelta, TimeZone};
use chrono_tz::Tz;
use proptest::prelude::*;

/// Zones with DST (London, New York, Lord Howe's half hour, Apia which also skipped a whole
/// day, São Paulo changing at midnight, Chatham at 02:45) and without (Tokyo, Kolkata, UTC).
const ZONES: &[&str] = &[
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "UTC",
];

fn hhmm(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn window(weekday: i64, start: u32, end: u32) -> WindowSpec {
    WindowSpec {
        weekday,
        start: hhmm(start),
        end: if end == 1440 {
            "24:00".into()
        } else {
            hhmm(end)
        },
    }
}

/// Random weekly hours: up to two windows a day, sometimes one past midnight; or a single
/// short window a week; or around the clock.
fn hours() -> impl Strategy<Value = (bool, Vec<WindowSpec>)> {
    let day = (0usize..=2, prop::collection::btree_set(0u32..=1440, 4));
    let weekly = (
        prop::collection::vec(day, 7),
        prop::option::weighted(0.3, (1i64..=7, 1200u32..1440, 1u32..300)),
    )
        .prop_map(|(days, overnight)| {
            let mut hours = Vec::new();
            for (weekday, (count, cuts)) in (1i64..).zip(days) {
                let cuts: Vec<u32> = cuts.into_iter().collect();
                for w in 0..count {
                    hours.push(window(weekday, cuts[2 * w], cuts[2 * w + 1]));
                }
            }
            if let Some((weekday, start, end)) = overnight {
                hours.push(window(weekday, start, end));
            }
            (false, hours)
        });
    let sparse = (1i64..=7, 0u32..1430, 1u32..=10)
        .prop_map(|(weekday, start, len)| (false, vec![window(weekday, start, start + len)]));
    prop_oneof![
        8 => weekly,
        2 => sparse,
        1 => Just((true, Vec::new())),
    ]
}

/// Where a case starts: any time from 1971 to the horizon, often close to one of the zone's
/// offset changes (inside a skipped or repeated hour), sometimes in the horizon's last year.
#[derive(Debug, Clone, Copy)]
enum Near {
    Anywhere,
    Change,
    Horizon,
}

#[derive(Debug, Clone)]
struct Case {
    spec: ScheduleSpec,
    from: DateTime<Utc>,
    /// Ascending, positive.
    amounts: Vec<TimeDelta>,
    pauses: Vec<Interval>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(ZONES),
        hours(),
        prop_oneof![
            3 => Just(Near::Anywhere),
            3 => Just(Near::Change),
            1 => Just(Near::Horizon),
        ],
        1971i32..2100,
        0i64..(366 * 86_400),
        0u32..1_000_000_000,
        // Target minutes, from one to a year, spread over the orders of magnitude.
        (0u32..=19, 0.0f64..1.0),
        prop::collection::btree_set(1u16..=1000, 0..4),
        // Holidays: days from the start (one-off or recurring), and recurring 29 Februaries.
        prop::collection::vec((-10i64..400, any::<bool>()), 0..6),
        any::<bool>(),
        // Pauses: start (minutes from the start) and length (minutes).
        prop::collection::vec((0i64..200_000, 1i64..20_000), 0..4),
    )
        .prop_map(
            |(
                zone,
                (is_24x7, hours),
                near,
                year,
                second,
                nanos,
                (scale, frac),
                percents,
                holidays,
                feb29,
                pauses,
            )| {
                let tz: Tz = zone.parse().unwrap();
                let year_start = Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).unwrap();
                let mut from = year_start + TimeDelta::seconds(second);
                match near {
                    Near::Anywhere => {}
                    Near::Change => {
                        // The zone's offset change nearest the drawn instant, give or take a day.
                        let changes = super::zone::changes_in(tz, from.year());
                        if let Some(c) =
                            changes.iter().min_by_key(|c| (*c - from.timestamp()).abs())
                        {
                            from = DateTime::from_timestamp(*c, 0).unwrap()
                                + TimeDelta::seconds(second % (2 * 86_400) - 86_400);
                        }
                    }
                    Near::Horizon => {
                        from = horizon() - TimeDelta::seconds(second % (200 * 86_400));
                    }
                }
                let from = from + TimeDelta::nanoseconds(i64::from(nanos));
                let minutes = (525_600f64.powf((f64::from(scale) + frac) / 20.0)).ceil() as i64;
                let mut amounts: Vec<TimeDelta> = percents
                    .iter()
                    .map(|p| TimeDelta::seconds(minutes * 60 * i64::from(*p) / 100))
                    .chain([TimeDelta::minutes(minutes)])
                    .filter(|a| *a > TimeDelta::zero())
                    .collect();
                amounts.sort();
                let local = from.with_timezone(&tz).date_naive();
                let mut holidays: Vec<HolidaySpec> = holidays
                    .iter()
                    .filter_map(|(days, recurring)| {
                        let date = local.checked_add_signed(TimeDelta::days(*days))?;
                        Some(HolidaySpec {
                            date: date.format("%Y-%m-%d").to_string(),
                            recurring: *recurring,
                        })
                    })
                    .collect();
                if feb29 {
                    holidays.push(HolidaySpec {
                        date: "2024-02-29".into(),
                        recurring: true,
                    });
                }
                let pauses = pauses
                    .iter()
                    .map(|(start, len)| Interval {
                        from: from + TimeDelta::minutes(*start),
                        to: from + TimeDelta::minutes(start + len),
                    })
                    .collect::<Vec<_>>();
                Case {
                    spec: ScheduleSpec {
                        timezone: zone.into(),
                        is_24x7,
                        hours,
                        holidays,
                    },
                    from,
                    amounts,
                    pauses: normalize_pauses(&pauses),
                }
            },
        )
        // Overnight windows may overlap the next day's: those are refused, not tested here.
        .prop_filter("valid schedule", |c| Calendar::new(&c.spec, "").is_ok())
}

/// `amounts` capped so the day walk stays affordable: no more than about two years of days to
/// walk, however sparse the schedule (a schedule with no hours at all fails within a year).
fn affordable(cal: &Calendar, amounts: &[TimeDelta]) -> Vec<TimeDelta> {
    let week = TimeDelta::nanoseconds(cal.week.total());
    if cal.always_open || week.is_zero() {
        return amounts.to_vec();
    }
    amounts.iter().map(|a| (*a).min(week * 100)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn deadlines_match_the_day_walk(c in case()) {
        let cal = Calendar::new(&c.spec, "").unwrap();
        let amounts = affordable(&cal, &c.amounts);
        let fast = cal.instants_after(c.from, &amounts, &c.pauses);
        let slow = day_walk::instants_after(&cal, c.from, &amounts, &c.pauses);
        prop_assert_eq!(&fast, &slow);
        if let Ok(instants) = fast {
            // And each instant is where exactly its amount has elapsed.
            for (amount, at) in amounts.iter().zip(&instants) {
                prop_assert_eq!(cal.business_time(c.from, *at, &c.pauses), *amount);
            }
        }
    }

    #[test]
    fn business_time_matches_the_day_walk(c in case(), span in 0i64..(800 * 86_400)) {
        let cal = Calendar::new(&c.spec, "").unwrap();
        let to = c.from + TimeDelta::seconds(span);
        prop_assert_eq!(
            cal.business_time(c.from, to, &c.pauses),
            day_walk::business_time(&cal, c.from, to, &c.pauses)
        );
        prop_assert_eq!(
            cal.business_time(to, c.from, &c.pauses),
            TimeDelta::zero()
        );
    }

    #[test]
    fn is_open_and_next_open_match_the_day_walk(c in case(), probes in prop::collection::vec(0i64..(60 * 86_400), 8)) {
        let cal = Calendar::new(&c.spec, "").unwrap();
        for p in probes {
            let t = c.from + TimeDelta::seconds(p);
            prop_assert_eq!(cal.is_open(t), day_walk::is_open(&cal, t), "at {}", t);
            prop_assert_eq!(cal.next_open(t), day_walk::next_open(&cal, t), "from {}", t);
        }
    }
}
