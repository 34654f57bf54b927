//! The walk (`walk.rs`, whole weeks at once) against the day walk it replaced (`day_walk.rs`,
//! a day at a time): the same answers, to the nanosecond, on random schedules, zones, holidays,
//! pauses and starts from 1971 to the horizon, for targets from a minute to a year.

use super::walk::Runs;
use super::*;
use chrono::{Datelike, NaiveDate, TimeDelta, TimeZone};
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

fn spec(zone: &str, hours: &[(i64, &str, &str)], holidays: &[(&str, bool)]) -> ScheduleSpec {
    ScheduleSpec {
        timezone: zone.into(),
        is_24x7: false,
        hours: hours
            .iter()
            .map(|(weekday, start, end)| WindowSpec {
                weekday: *weekday,
                start: (*start).into(),
                end: (*end).into(),
            })
            .collect(),
        holidays: holidays
            .iter()
            .map(|(date, recurring)| HolidaySpec {
                date: (*date).into(),
                recurring: *recurring,
            })
            .collect(),
    }
}

fn cal(zone: &str, hours: &[(i64, &str, &str)], holidays: &[(&str, bool)]) -> Calendar {
    Calendar::new(&spec(zone, hours, holidays), "").unwrap()
}

fn weekdays(start: &'static str, end: &'static str) -> Vec<(i64, &'static str, &'static str)> {
    (1..=5).map(|d| (d, start, end)).collect()
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Both walks agree on `amounts` from `from`; returns the answer.
fn agreed(
    cal: &Calendar,
    from: DateTime<Utc>,
    amounts: &[TimeDelta],
    pauses: &[Interval],
) -> Result<Vec<DateTime<Utc>>, CalendarError> {
    let fast = cal.instants_after(from, amounts, pauses);
    assert_eq!(
        fast,
        day_walk::instants_after(cal, from, amounts, pauses),
        "from {from}"
    );
    fast
}

/// How many runs the walk takes to reach `amount` from `from`.
fn runs_to(cal: &Calendar, from: DateTime<Utc>, amount: TimeDelta) -> usize {
    let mut left = amount.num_nanoseconds().unwrap();
    let mut runs = 0;
    for run in Runs::new(cal, from, None, &[]) {
        runs += 1;
        left -= run.unwrap().business;
        if left <= 0 {
            break;
        }
    }
    runs
}

#[test]
fn weeks_without_changes_or_holidays_are_one_run() {
    let c = cal("Europe/London", &weekdays("09:00", "17:00"), &[]);
    // A one-week target (10,080 business minutes: four weeks and a fifth of one) between
    // the spring and autumn changes.
    let from = utc("2026-05-04T08:00:00Z");
    assert_eq!(runs_to(&c, from, TimeDelta::minutes(10_080)), 1);
    let due = agreed(&c, from, &[TimeDelta::minutes(10_080)], &[]).unwrap();
    assert_eq!(due, [utc("2026-06-01T16:00:00Z")]);
    // A year's worth crosses two changes, a holiday and a new year: a handful of runs, not
    // hundreds of days.
    let c = cal(
        "Europe/London",
        &weekdays("09:00", "17:00"),
        &[("2026-12-25", true)],
    );
    assert!(runs_to(&c, from, TimeDelta::minutes(8 * 60 * 260)) <= 8);
    agreed(&c, from, &[TimeDelta::minutes(8 * 60 * 260)], &[]).unwrap();
}

#[test]
fn a_week_across_a_change_matches_the_day_walk() {
    for zone in ZONES {
        let c = cal(zone, &weekdays("09:00", "17:00"), &[]);
        for from in [
            "2026-03-02T11:30:00Z",
            "2026-03-27T00:00:00Z",
            "2026-09-20T12:00:00Z",
            "2026-10-23T23:59:59Z",
            "2011-12-26T12:00:00Z",
        ] {
            let amounts: Vec<TimeDelta> = [50, 75, 90, 100]
                .iter()
                .map(|p| TimeDelta::minutes(10_080 * p / 100))
                .collect();
            agreed(&c, utc(from), &amounts, &[]).unwrap();
        }
    }
}

#[test]
fn starts_inside_a_skipped_or_repeated_hour() {
    let c = cal(
        "America/New_York",
        &[(7, "00:00", "06:00"), (1, "09:00", "17:00")],
        &[],
    );
    // 2026-03-08 02:00-03:00 is skipped (07:00Z is 03:00 EDT); 2026-11-01 01:00-02:00 repeats.
    for from in [
        "2026-03-08T06:59:59Z",
        "2026-03-08T07:00:00Z",
        "2026-11-01T05:30:00Z",
        "2026-11-01T06:30:00Z",
    ] {
        for minutes in [1, 30, 90, 600, 10_080] {
            agreed(&c, utc(from), &[TimeDelta::minutes(minutes)], &[]).unwrap();
        }
    }
    // Lord Howe's half hour: 2026-04-05 02:00 -> 01:30, 2026-10-04 02:00 -> 02:30.
    let c = cal("Australia/Lord_Howe", &[(7, "01:00", "03:00")], &[]);
    for from in ["2026-04-04T14:45:00Z", "2026-10-03T15:00:00Z"] {
        agreed(&c, utc(from), &[TimeDelta::minutes(100)], &[]).unwrap();
    }
}

#[test]
fn recurring_29_february_closes_leap_days_only() {
    let all_week: Vec<_> = (1..=7).map(|d| (d, "00:00", "24:00")).collect();
    let c = cal("Europe/London", &all_week, &[("2024-02-29", true)]);
    let day = |d: &str| {
        let from = utc(&format!("{d}T00:00:00Z"));
        c.business_time(from, from + TimeDelta::days(1), &[])
    };
    assert_eq!(day("2028-02-29"), TimeDelta::zero());
    assert_eq!(day("2027-02-28"), TimeDelta::days(1));
    assert_eq!(day("2027-03-01"), TimeDelta::days(1));
    // 2100 is no leap year: 2096 has the only 29 February before the horizon.
    let from = utc("2095-01-01T00:00:00Z");
    assert_eq!(
        c.business_time(from, horizon(), &[]),
        horizon() - from - TimeDelta::days(1)
    );
    assert_eq!(
        c.business_time(from, horizon(), &[]),
        day_walk::business_time(&c, from, horizon(), &[])
    );
    agreed(
        &c,
        utc("2027-12-01T00:00:00Z"),
        &[TimeDelta::days(100)],
        &[],
    )
    .unwrap();
}

#[test]
fn one_short_window_a_week() {
    let c = cal("America/New_York", &[(3, "10:00", "10:05")], &[]);
    let from = utc("2026-01-01T00:00:00Z");
    // Sixty weeks of five minutes.
    let due = agreed(&c, from, &[TimeDelta::minutes(300)], &[]).unwrap();
    assert_eq!(due, [utc("2027-02-24T15:05:00Z")]);
    // A year of business minutes would take millennia: refused at the horizon.
    assert_eq!(
        c.instant_after(from, TimeDelta::days(365), &[]),
        Err(CalendarError::BeyondHorizon)
    );
}

#[test]
fn windows_past_midnight_and_holidays_agree() {
    let c = cal(
        "Europe/London",
        &[(5, "22:00", "02:00"), (7, "23:00", "01:00")],
        &[("2026-10-24", false), ("2026-12-26", true)],
    );
    let from = utc("2026-10-01T00:00:00Z");
    agreed(
        &c,
        from,
        &[TimeDelta::minutes(1), TimeDelta::hours(30)],
        &[],
    )
    .unwrap();
    for span in [1, 7, 30, 90] {
        let to = from + TimeDelta::days(span);
        assert_eq!(
            c.business_time(from, to, &[]),
            day_walk::business_time(&c, from, to, &[])
        );
    }
}

#[test]
fn pauses_split_runs_exactly() {
    let c = cal("UTC", &weekdays("09:00", "17:00"), &[]);
    let from = utc("2026-11-23T09:00:00Z");
    let pauses = normalize_pauses(&[
        Interval {
            from: utc("2026-11-23T12:00:00Z"),
            to: utc("2026-11-23T13:00:00Z"),
        },
        Interval {
            from: utc("2026-12-01T00:00:00Z"),
            to: utc("2027-01-10T00:00:00Z"),
        },
    ]);
    let amounts: Vec<TimeDelta> = [3, 4, 40, 48, 100].map(TimeDelta::hours).to_vec();
    let due = agreed(&c, from, &amounts, &pauses).unwrap();
    // Three hours end where the first pause starts.
    assert_eq!(due[0], utc("2026-11-23T12:00:00Z"));
}

#[test]
fn near_the_horizon() {
    let c = cal("Europe/London", &weekdays("09:00", "17:00"), &[]);
    let from = utc("2099-12-21T09:00:00Z");
    assert_eq!(
        agreed(&c, from, &[TimeDelta::hours(8), TimeDelta::hours(80)], &[]),
        Err(CalendarError::BeyondHorizon)
    );
    assert_eq!(
        agreed(&c, from, &[TimeDelta::hours(40)], &[]),
        Ok(vec![utc("2099-12-25T17:00:00Z")])
    );
    let mut always = spec("Pacific/Apia", &[], &[]);
    always.is_24x7 = true;
    let always = Calendar::new(&always, "").unwrap();
    let hour_before = horizon() - TimeDelta::hours(1);
    assert_eq!(
        agreed(&always, hour_before, &[TimeDelta::hours(1)], &[]),
        Ok(vec![horizon()])
    );
    assert!(!always.is_open(horizon()));
    assert_eq!(
        always.next_open(horizon()),
        Err(CalendarError::BeyondHorizon)
    );
}

#[test]
fn around_the_clock_is_arithmetic() {
    let mut s = spec("Europe/London", &[], &[]);
    s.is_24x7 = true;
    let c = Calendar::new(&s, "").unwrap();
    let from = utc("2026-03-28T12:34:56.789Z");
    // A year of minutes: one run per calendar year crossed, DST changes play no part.
    assert!(runs_to(&c, from, TimeDelta::days(365)) <= 2);
    assert_eq!(
        agreed(&c, from, &[TimeDelta::days(365)], &[]),
        Ok(vec![from + TimeDelta::days(365)])
    );
}

#[test]
fn a_schedule_closed_for_a_year_finds_nothing() {
    // Only Mondays, and every Monday of 2027 a holiday, one by one.
    let mondays: Vec<String> = (0..53)
        .filter_map(|w| {
            NaiveDate::from_ymd_opt(2027, 1, 4)
                .and_then(|d| d.checked_add_signed(TimeDelta::weeks(w)))
                .filter(|d| d.year() == 2027)
                .map(|d| d.format("%Y-%m-%d").to_string())
        })
        .collect();
    let holidays: Vec<(&str, bool)> = mondays.iter().map(|d| (d.as_str(), false)).collect();
    let c = cal("UTC", &[(1, "09:00", "17:00")], &holidays);
    // Last open on 2026-12-28; the next Monday not a holiday is 2028-01-03, 371 days on.
    let from = utc("2026-12-29T00:00:00Z");
    assert_eq!(
        c.next_open(from),
        Err(CalendarError::NoBusinessTime { from })
    );
    assert_eq!(
        c.instant_after(utc("2026-12-28T10:00:00Z"), TimeDelta::hours(8), &[]),
        Err(CalendarError::NoBusinessTime {
            from: utc("2026-12-28T17:00:00Z")
        })
    );
}
