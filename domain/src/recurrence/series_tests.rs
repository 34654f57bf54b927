use super::*;
use crate::recurrence::rule::Rule;
use chrono::NaiveDate;
use proptest::prelude::*;

fn local(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").expect("test date-time")
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("test instant")
        .with_timezone(&Utc)
}

fn series(start: &str, zone: Tz, rule: &str, exdates: &[&str]) -> Series {
    let rule = (!rule.is_empty()).then(|| Rule::parse(rule).expect("test rule"));
    Series::new(
        local(start),
        zone,
        rule,
        exdates.iter().map(|e| local(e)).collect(),
    )
    .expect("test series")
}

fn locals(window: &Window) -> Vec<String> {
    window
        .occurrences
        .iter()
        .map(|o| o.local.format("%Y-%m-%dT%H:%M:%S").to_string())
        .collect()
}

const NY: Tz = chrono_tz::America::New_York;

#[test]
fn the_issue_example_counts_before_the_exception_and_crosses_dst() {
    let s = series(
        "2026-03-02T09:00:00",
        NY,
        "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10",
        &["2026-03-04T09:00:00"],
    );
    let w = s.window(
        utc("2026-01-01T00:00:00Z"),
        utc("2027-01-01T00:00:00Z"),
        100,
    );
    assert_eq!(w.occurrences.len(), 9);
    assert!(!w.truncated);
    assert_eq!(w.occurrences[0].start, utc("2026-03-02T14:00:00Z"));
    // After 8 March New York is on EDT: 09:00 local is 13:00 UTC.
    assert_eq!(w.occurrences[1].local, local("2026-03-09T09:00:00"));
    assert_eq!(w.occurrences[1].start, utc("2026-03-09T13:00:00Z"));
    assert_eq!(
        locals(&w).last().map(String::as_str),
        Some("2026-04-01T09:00:00")
    );
}

#[test]
fn the_start_is_an_occurrence_only_when_the_rule_produces_it() {
    // 2026-03-03 is a Tuesday; the rule makes Mondays and Wednesdays.
    let s = series(
        "2026-03-03T09:00:00",
        NY,
        "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=2",
        &[],
    );
    let w = s.window(
        utc("2026-01-01T00:00:00Z"),
        utc("2027-01-01T00:00:00Z"),
        100,
    );
    assert_eq!(locals(&w), ["2026-03-04T09:00:00", "2026-03-09T09:00:00"]);
}

#[test]
fn a_day_missing_from_a_month_is_skipped_never_moved() {
    let s = series("2026-01-31T10:00:00", NY, "FREQ=MONTHLY;COUNT=4", &[]);
    let w = s.window(
        utc("2026-01-01T00:00:00Z"),
        utc("2027-01-01T00:00:00Z"),
        100,
    );
    assert_eq!(
        locals(&w),
        [
            "2026-01-31T10:00:00",
            "2026-03-31T10:00:00",
            "2026-05-31T10:00:00",
            "2026-07-31T10:00:00"
        ]
    );
}

#[test]
fn negative_month_days_and_ordinal_weekdays_count_from_the_end() {
    let s = series(
        "2026-01-01T08:00:00",
        NY,
        "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3",
        &[],
    );
    let w = s.window(
        utc("2026-01-01T00:00:00Z"),
        utc("2027-01-01T00:00:00Z"),
        100,
    );
    assert_eq!(
        locals(&w),
        [
            "2026-01-31T08:00:00",
            "2026-02-28T08:00:00",
            "2026-03-31T08:00:00"
        ]
    );
    let s = series(
        "2026-01-01T08:00:00",
        NY,
        "FREQ=MONTHLY;BYDAY=-1FR;COUNT=2",
        &[],
    );
    let w = s.window(
        utc("2026-01-01T00:00:00Z"),
        utc("2027-01-01T00:00:00Z"),
        100,
    );
    assert_eq!(locals(&w), ["2026-01-30T08:00:00", "2026-02-27T08:00:00"]);
}

#[test]
fn bysetpos_picks_within_each_period() {
    // The last weekday of each month.
    let s = series(
        "2026-01-01T17:00:00",
        NY,
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=3",
        &[],
    );
    let w = s.window(
        utc("2026-01-01T00:00:00Z"),
        utc("2027-01-01T00:00:00Z"),
        100,
    );
    assert_eq!(
        locals(&w),
        [
            "2026-01-30T17:00:00",
            "2026-02-27T17:00:00",
            "2026-03-31T17:00:00"
        ]
    );
}

#[test]
fn a_gap_moves_the_occurrence_and_a_fold_takes_the_earlier_instant() {
    let s = series("2026-03-07T02:30:00", NY, "FREQ=DAILY;COUNT=3", &[]);
    let w = s.window(
        utc("2026-01-01T00:00:00Z"),
        utc("2027-01-01T00:00:00Z"),
        100,
    );
    assert_eq!(w.occurrences[1].local, local("2026-03-08T02:30:00"));
    assert_eq!(w.occurrences[1].start, utc("2026-03-08T07:30:00Z"));
    let s = series("2026-10-31T01:30:00", NY, "FREQ=DAILY;COUNT=2", &[]);
    let w = s.window(
        utc("2026-01-01T00:00:00Z"),
        utc("2027-01-01T00:00:00Z"),
        100,
    );
    assert_eq!(w.occurrences[1].start, utc("2026-11-01T05:30:00Z"));
}

#[test]
fn until_is_an_inclusive_instant() {
    let s = series(
        "2026-03-02T09:00:00",
        NY,
        "FREQ=DAILY;UNTIL=20260304T140000Z",
        &[],
    );
    let w = s.window(
        utc("2026-01-01T00:00:00Z"),
        utc("2027-01-01T00:00:00Z"),
        100,
    );
    assert_eq!(w.occurrences.len(), 3);
    let s = series(
        "2026-03-02T09:00:00",
        NY,
        "FREQ=DAILY;UNTIL=20260304T135959Z",
        &[],
    );
    let w = s.window(
        utc("2026-01-01T00:00:00Z"),
        utc("2027-01-01T00:00:00Z"),
        100,
    );
    assert_eq!(w.occurrences.len(), 2);
}

#[test]
fn limit_truncates_and_says_so() {
    let s = series("2026-03-02T09:00:00", NY, "FREQ=DAILY", &[]);
    // 2 to 6 March: five occurrences.
    let w = s.window(utc("2026-03-01T00:00:00Z"), utc("2026-03-07T00:00:00Z"), 4);
    assert_eq!(w.occurrences.len(), 4);
    assert!(w.truncated);
    let w = s.window(utc("2026-03-01T00:00:00Z"), utc("2026-03-07T00:00:00Z"), 5);
    assert_eq!(w.occurrences.len(), 5);
    assert!(!w.truncated);
}

#[test]
fn a_single_occurrence_takes_exceptions_too() {
    let s = series("2026-03-02T09:00:00", NY, "", &[]);
    let w = s.window(utc("2026-03-01T00:00:00Z"), utc("2026-03-06T00:00:00Z"), 10);
    assert_eq!(w.occurrences.len(), 1);
    let s = series("2026-03-02T09:00:00", NY, "", &["2026-03-02T09:00:00"]);
    let w = s.window(utc("2026-03-01T00:00:00Z"), utc("2026-03-06T00:00:00Z"), 10);
    assert!(w.occurrences.is_empty());
}

#[test]
fn a_rule_that_never_produces_ends() {
    let s = series(
        "2026-01-01T09:00:00",
        NY,
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        &[],
    );
    let w = s.window(utc("2026-01-01T00:00:00Z"), utc("2036-01-01T00:00:00Z"), 10);
    assert!(w.occurrences.is_empty());
    let s = series(
        "2026-01-01T09:00:00",
        NY,
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        &[],
    );
    assert_eq!(s.from(utc("2026-01-01T00:00:00Z")).next(), None);
}

#[test]
fn a_series_started_long_ago_is_read_from_the_window() {
    let s = series(
        "1900-01-01T09:00:00",
        NY,
        "FREQ=WEEKLY;INTERVAL=3;BYDAY=TU,TH",
        &[],
    );
    let w = s.window(
        utc("2026-03-01T00:00:00Z"),
        utc("2026-04-01T00:00:00Z"),
        100,
    );
    // 1900-01-01 was a Monday; its week's Tuesday is the first occurrence, and every third
    // week from it repeats.
    let first = NaiveDate::from_ymd_opt(1900, 1, 2).expect("date");
    for o in &w.occurrences {
        let weeks = (o.local.date() - first).num_days().div_euclid(7);
        assert_eq!(weeks % 3, 0, "{o:?}");
    }
    assert!(!w.occurrences.is_empty());
}

#[test]
fn produces_tells_a_produced_date_time_from_another() {
    let s = series(
        "2026-03-02T09:00:00",
        NY,
        "FREQ=WEEKLY;BYDAY=MO,WE",
        &["2026-03-04T09:00:00"],
    );
    assert!(s.produces(local("2026-03-04T09:00:00")));
    assert!(s.produces(local("2027-03-03T09:00:00")));
    assert!(!s.produces(local("2026-03-05T09:00:00")));
    assert!(!s.produces(local("2026-03-04T10:00:00")));
}

const ZONES: [Tz; 6] = [
    chrono_tz::America::New_York,
    chrono_tz::Europe::London,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Australia::Sydney,
    chrono_tz::America::Santiago,
    chrono_tz::Asia::Kolkata,
];

fn rule_text() -> impl Strategy<Value = String> {
    let days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
    (
        0usize..4,
        1u16..4,
        proptest::collection::vec(0usize..7, 0..3),
        proptest::collection::vec(prop_oneof![1i8..=28, -28i8..=-1], 0..2),
        proptest::collection::vec(1u8..=12, 0..2),
        proptest::option::of(prop_oneof![1i16..=2, -2i16..=-1]),
    )
        .prop_map(
            move |(f, interval, by_day, by_month_day, by_month, setpos)| {
                let freq = ["DAILY", "WEEKLY", "MONTHLY", "YEARLY"][f];
                let mut text = format!("FREQ={freq};INTERVAL={interval}");
                if !by_day.is_empty() {
                    let d: Vec<&str> = by_day.iter().map(|i| days[*i]).collect();
                    text.push_str(&format!(";BYDAY={}", d.join(",")));
                }
                if !by_month_day.is_empty() && freq != "WEEKLY" {
                    let d: Vec<String> = by_month_day.iter().map(i8::to_string).collect();
                    text.push_str(&format!(";BYMONTHDAY={}", d.join(",")));
                }
                if !by_month.is_empty() {
                    let m: Vec<String> = by_month.iter().map(u8::to_string).collect();
                    text.push_str(&format!(";BYMONTH={}", m.join(",")));
                }
                if let Some(p) = setpos.filter(|_| !by_day.is_empty()) {
                    text.push_str(&format!(";BYSETPOS={p}"));
                }
                text
            },
        )
}

fn start_time() -> impl Strategy<Value = NaiveDateTime> {
    (0i64..3_000, 0u32..24, prop_oneof![Just(0u32), Just(30)]).prop_map(|(day, h, m)| {
        let d = NaiveDate::from_ymd_opt(2020, 1, 1).expect("date") + TimeDelta::days(day);
        d.and_hms_opt(h, m, 0).expect("time")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn occurrences_keep_the_start_time_of_day_unless_a_gap_moves_them(
        rule in rule_text(), start in start_time(), zone in 0usize..ZONES.len()
    ) {
        let zone = ZONES[zone];
        let s = Series::new(start, zone, Some(Rule::parse(&rule).expect("rule")), BTreeSet::new())
            .expect("series");
        let from = start.and_utc() - TimeDelta::days(1);
        let w = s.window(from, from + TimeDelta::days(800), 300);
        for o in &w.occurrences {
            prop_assert_eq!(o.local.time(), start.time());
            let back = zone::local(zone, o.start);
            let exists = !matches!(
                chrono::TimeZone::offset_from_local_datetime(&zone, &o.local),
                chrono::LocalResult::None
            );
            if exists {
                prop_assert_eq!(back, o.local);
            } else {
                prop_assert!(back > o.local);
            }
        }
        for pair in w.occurrences.windows(2) {
            prop_assert!(pair[0].start <= pair[1].start);
            prop_assert!(pair[0].local < pair[1].local);
        }
    }

    #[test]
    fn count_n_yields_n_occurrences_before_exceptions(
        n in 1u32..40, days in proptest::collection::vec(0usize..7, 1..4),
        start in start_time(), zone in 0usize..ZONES.len()
    ) {
        let codes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
        let d: Vec<&str> = days.iter().map(|i| codes[*i]).collect();
        let rule = format!("FREQ=WEEKLY;BYDAY={};COUNT={n}", d.join(","));
        let s = Series::new(start, ZONES[zone], Some(Rule::parse(&rule).expect("rule")), BTreeSet::new())
            .expect("series");
        let from = start.and_utc() - TimeDelta::days(2);
        let all = s.window(from, from + TimeDelta::days(3_000), 1_000);
        prop_assert_eq!(all.occurrences.len(), n as usize);
        // Taking one out leaves the rest where they were.
        let gone = all.occurrences[(n as usize) / 2].local;
        let mut without = s.clone();
        without.exdates.insert(gone);
        let rest = without.window(from, from + TimeDelta::days(3_000), 1_000);
        prop_assert_eq!(rest.occurrences.len(), n as usize - 1);
        prop_assert!(rest.occurrences.iter().all(|o| o.local != gone));
    }

    #[test]
    fn a_window_is_the_union_of_its_halves(
        rule in rule_text(), start in start_time(), zone in 0usize..ZONES.len(),
        a in 0i64..2_000, ab in 0i64..400, bc in 1i64..400
    ) {
        let s = Series::new(start, ZONES[zone], Some(Rule::parse(&rule).expect("rule")), BTreeSet::new())
            .expect("series");
        let base = NaiveDate::from_ymd_opt(2020, 1, 1).expect("date").and_hms_opt(0, 0, 0).expect("t").and_utc();
        let a = base + TimeDelta::hours(a * 13);
        let b = a + TimeDelta::hours(ab * 7);
        let c = b + TimeDelta::hours(bc * 11);
        let whole = s.window(a, c, 1_000);
        let mut halves = s.window(a, b, 1_000).occurrences;
        halves.extend(s.window(b, c, 1_000).occurrences);
        prop_assert_eq!(whole.occurrences, halves);
    }

    #[test]
    fn skipping_ahead_changes_nothing(
        rule in rule_text(), start in start_time(), zone in 0usize..ZONES.len(),
        later in 0i64..4_000
    ) {
        // A COUNT too high to be reached before the window keeps expansion at the start.
        let counted = format!("{rule};COUNT={}", COUNT_NEVER_BINDS - 1);
        let skipping = Series::new(start, ZONES[zone], Some(Rule::parse(&rule).expect("rule")), BTreeSet::new())
            .expect("series");
        let walking = Series::new(start, ZONES[zone], Some(Rule::parse(&counted).expect("rule")), BTreeSet::new())
            .expect("series");
        let from = start.and_utc() + TimeDelta::days(later);
        let to = from + TimeDelta::days(200);
        prop_assert_eq!(skipping.window(from, to, 500), walking.window(from, to, 500));
    }
}

#[test]
fn a_large_count_is_walked_only_so_far() {
    let s = series("2000-01-01T09:00:00", NY, "FREQ=DAILY;COUNT=3000000", &[]);
    // 200,000 days from 2000 is about 2547.
    assert!(s.reaches(utc("2500-01-01T00:00:00Z")));
    assert!(!s.reaches(utc("2600-01-01T00:00:00Z")));
    let w = s.window(utc("2500-01-01T00:00:00Z"), utc("2500-01-03T00:00:00Z"), 10);
    assert_eq!(locals(&w), ["2500-01-01T09:00:00", "2500-01-02T09:00:00"]);
    // Without COUNT, or with one that never binds, any window is reached by skipping ahead.
    assert!(
        series("2000-01-01T09:00:00", NY, "FREQ=DAILY", &[]).reaches(utc("9000-01-01T00:00:00Z"))
    );
    assert!(
        series("2000-01-01T09:00:00", NY, "FREQ=DAILY;COUNT=4000000", &[])
            .reaches(utc("9000-01-01T00:00:00Z"))
    );
}
