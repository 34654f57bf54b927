//! Worked examples of the calendar rules; `domain/tests/calendar_oracle.rs` checks the same
//! rules against a minute-by-minute oracle on random schedules.

use super::*;
use chrono::{TimeDelta, TimeZone};
use chrono_tz::Tz;

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
    Calendar::new(&spec(zone, hours, holidays), "schedule").expect("valid schedule")
}

fn weekdays(start: &'static str, end: &'static str) -> Vec<(i64, &'static str, &'static str)> {
    (1..=5).map(|d| (d, start, end)).collect()
}

/// `local` wall-clock time in `zone`, as UTC (the earlier one when ambiguous).
fn at(zone: &str, local: &str) -> DateTime<Utc> {
    let tz: Tz = zone.parse().unwrap();
    let naive = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
    tz.from_local_datetime(&naive)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn hours(h: i64) -> TimeDelta {
    TimeDelta::hours(h)
}

fn utc(local: &str) -> DateTime<Utc> {
    at("UTC", local)
}

#[test]
fn a_full_day_target_ends_at_closing_time_the_same_day() {
    let c = cal("UTC", &weekdays("09:00", "17:00"), &[]);
    // 2026-11-23 is a Monday.
    let start = utc("2026-11-23 09:00");
    assert_eq!(
        c.instant_after(start, hours(8), &[]).unwrap(),
        utc("2026-11-23 17:00")
    );
    assert_eq!(
        c.instant_after(start, hours(9), &[]).unwrap(),
        utc("2026-11-24 10:00")
    );
}

#[test]
fn a_deadline_skips_the_weekend() {
    let c = cal("Europe/London", &weekdays("09:00", "17:00"), &[]);
    let friday = at("Europe/London", "2026-11-27 16:00");
    assert_eq!(
        c.instant_after(friday, hours(2), &[]).unwrap(),
        at("Europe/London", "2026-11-30 10:00")
    );
    assert_eq!(
        c.business_time(friday, at("Europe/London", "2026-11-30 10:00"), &[]),
        hours(2)
    );
}

#[test]
fn starting_outside_hours_counts_from_the_next_opening() {
    let c = cal("UTC", &weekdays("09:00", "17:00"), &[]);
    let saturday = utc("2026-11-28 12:00");
    assert!(!c.is_open(saturday));
    assert_eq!(c.next_open(saturday).unwrap(), utc("2026-11-30 09:00"));
    assert_eq!(
        c.instant_after(saturday, TimeDelta::minutes(30), &[])
            .unwrap(),
        utc("2026-11-30 09:30")
    );
    assert!(c.is_open(utc("2026-11-30 09:00")));
    assert!(!c.is_open(utc("2026-11-30 17:00")));
}

#[test]
fn a_zero_target_is_due_at_the_start() {
    let c = cal("UTC", &weekdays("09:00", "17:00"), &[]);
    let sunday = utc("2026-11-29 03:00");
    assert_eq!(
        c.instant_after(sunday, TimeDelta::zero(), &[]).unwrap(),
        sunday
    );
}

#[test]
fn the_spring_forward_hour_is_lost_and_the_fall_back_hour_gained() {
    // America/New_York: 2026-03-08 02:00 -> 03:00, 2026-11-01 02:00 -> 01:00 (both Sundays).
    let c = cal("America/New_York", &[(7, "00:00", "06:00")], &[]);
    let spring = at("America/New_York", "2026-03-08 00:00");
    assert_eq!(c.business_time(spring, spring + hours(24), &[]), hours(5));
    let fall = at("America/New_York", "2026-11-01 00:00");
    assert_eq!(c.business_time(fall, fall + hours(24), &[]), hours(7));
    // Six business hours from midnight end at local 06:00 either way.
    assert_eq!(
        c.instant_after(fall, hours(6), &[]).unwrap(),
        fall + hours(6)
    );
    assert_eq!(
        c.instant_after(fall, hours(7), &[]).unwrap(),
        at("America/New_York", "2026-11-01 06:00")
    );
}

#[test]
fn a_window_inside_the_repeated_hour_counts_twice() {
    // 01:15-01:45 happens twice on the fall-back night.
    let c = cal("America/New_York", &[(7, "01:15", "01:45")], &[]);
    let day = at("America/New_York", "2026-11-01 00:00");
    assert_eq!(
        c.business_time(day, day + hours(24), &[]),
        TimeDelta::minutes(60)
    );
    // The first half hour ends at 01:45 EDT; the second run starts at 01:15 EST.
    assert_eq!(
        c.instant_after(day, TimeDelta::minutes(31), &[]).unwrap(),
        Utc.with_ymd_and_hms(2026, 11, 1, 6, 16, 0).unwrap()
    );
}

#[test]
fn half_hour_and_odd_offsets_are_exact() {
    // Lord Howe falls back half an hour (02:00 -> 01:30) on 2026-04-05.
    let c = cal("Australia/Lord_Howe", &[(7, "00:00", "04:00")], &[]);
    let day = at("Australia/Lord_Howe", "2026-04-05 00:00");
    assert_eq!(
        c.business_time(day, day + hours(24), &[]),
        TimeDelta::minutes(270)
    );
    // Chatham springs forward 02:45 -> 03:45 on 2026-09-27.
    let c = cal("Pacific/Chatham", &[(7, "02:00", "05:00")], &[]);
    let day = at("Pacific/Chatham", "2026-09-27 00:00");
    assert_eq!(c.business_time(day, day + hours(24), &[]), hours(2));
    // Kolkata: no DST, +05:30.
    let c = cal("Asia/Kolkata", &weekdays("09:30", "18:00"), &[]);
    let monday = at("Asia/Kolkata", "2026-11-23 09:30");
    assert_eq!(monday, Utc.with_ymd_and_hms(2026, 11, 23, 4, 0, 0).unwrap());
    assert_eq!(
        c.instant_after(monday, TimeDelta::minutes(510), &[])
            .unwrap(),
        at("Asia/Kolkata", "2026-11-23 18:00")
    );
}

#[test]
fn windows_past_midnight_belong_to_the_date_they_fall_on() {
    // Friday 22:00 to Saturday 02:00.
    let c = cal("UTC", &[(5, "22:00", "02:00")], &[]);
    let from = utc("2026-11-27 23:00");
    assert_eq!(
        c.business_time(from, utc("2026-11-28 03:00"), &[]),
        hours(3)
    );
    // Saturday a holiday: only Friday's part counts.
    let c = cal("UTC", &[(5, "22:00", "02:00")], &[("2026-11-28", false)]);
    assert_eq!(
        c.business_time(from, utc("2026-11-28 03:00"), &[]),
        hours(1)
    );
    // Ending at midnight exactly puts nothing on the next day.
    let c = cal("UTC", &[(5, "22:00", "00:00")], &[]);
    assert_eq!(
        c.business_time(from, utc("2026-11-28 03:00"), &[]),
        hours(1)
    );
}

#[test]
fn holidays_close_whole_days_and_recurring_ones_every_year() {
    let all_week: Vec<_> = (1..=7).map(|d| (d, "00:00", "24:00")).collect();
    let c = cal(
        "Europe/London",
        &all_week,
        &[("2024-12-25", true), ("2026-12-31", false)],
    );
    let xmas = at("Europe/London", "2030-12-25 00:00");
    assert_eq!(
        c.business_time(xmas, xmas + hours(24), &[]),
        TimeDelta::zero()
    );
    assert_eq!(c.next_open(xmas).unwrap(), xmas + hours(24));
    let nye = at("Europe/London", "2026-12-31 00:00");
    assert_eq!(c.business_time(nye, nye + hours(48), &[]), hours(24));
    let nye_later = at("Europe/London", "2027-12-31 00:00");
    assert_eq!(
        c.business_time(nye_later, nye_later + hours(24), &[]),
        hours(24)
    );
}

#[test]
fn twenty_four_seven_counts_every_second_and_ignores_hours() {
    let mut s = spec(
        "America/New_York",
        &[(1, "09:00", "10:00")],
        &[("2026-03-08", true)],
    );
    s.is_24x7 = true;
    let c = Calendar::new(&s, "").unwrap();
    let from = at("America/New_York", "2026-03-07 12:00");
    assert_eq!(c.business_time(from, from + hours(48), &[]), hours(48));
    assert_eq!(
        c.instant_after(from, hours(30), &[]).unwrap(),
        from + hours(30)
    );
}

#[test]
fn pauses_do_not_count() {
    let c = cal("UTC", &weekdays("09:00", "17:00"), &[]);
    let start = utc("2026-11-23 09:00");
    let pauses = normalize_pauses(&[
        Interval {
            from: utc("2026-11-23 12:00"),
            to: utc("2026-11-23 13:00"),
        },
        // Overlapping and outside hours: merged, and only its business part counts.
        Interval {
            from: utc("2026-11-23 12:30"),
            to: utc("2026-11-23 20:00"),
        },
        Interval {
            from: utc("2026-11-24 10:00"),
            to: utc("2026-11-24 10:00"),
        },
    ]);
    assert_eq!(pauses.len(), 1);
    assert_eq!(
        c.business_time(start, utc("2026-11-24 09:00"), &pauses),
        hours(3)
    );
    assert_eq!(
        c.instant_after(start, hours(4), &pauses).unwrap(),
        utc("2026-11-24 10:00")
    );
    assert_eq!(
        c.remaining(start, hours(2), utc("2026-11-24 10:00"), &pauses),
        hours(-2)
    );
}

#[test]
fn several_amounts_come_from_one_walk() {
    let c = cal("UTC", &weekdays("09:00", "17:00"), &[]);
    let start = utc("2026-11-23 09:00");
    let got = c
        .instants_after(
            start,
            &[TimeDelta::zero(), hours(4), hours(8), hours(12)],
            &[],
        )
        .unwrap();
    assert_eq!(
        got,
        [
            start,
            utc("2026-11-23 13:00"),
            utc("2026-11-23 17:00"),
            utc("2026-11-24 13:00")
        ]
    );
}

#[test]
fn a_schedule_that_never_opens_is_an_error_not_a_hang() {
    let c = cal("UTC", &[], &[]);
    let from = utc("2026-11-23 09:00");
    assert_eq!(
        c.instant_after(from, hours(1), &[]),
        Err(CalendarError::NoBusinessTime { from })
    );
    assert!(c.next_open(from).is_err());
    assert_eq!(
        c.business_time(from, from + hours(1000), &[]),
        TimeDelta::zero()
    );
    // Open only on a day that is always a holiday.
    let c = cal("UTC", &[(1, "09:00", "17:00")], &[("2026-11-23", false)]);
    assert_eq!(c.next_open(from).unwrap(), utc("2026-11-30 09:00"));
}

#[test]
fn sub_second_instants_are_exact() {
    let c = cal("UTC", &weekdays("09:00", "17:00"), &[]);
    let start = utc("2026-11-23 16:59") + TimeDelta::milliseconds(59_500);
    assert_eq!(
        c.instant_after(start, TimeDelta::seconds(1), &[]).unwrap(),
        utc("2026-11-24 09:00") + TimeDelta::milliseconds(500)
    );
}

fn errors_of(s: &ScheduleSpec) -> Vec<(String, String)> {
    Calendar::new(s, "schedule")
        .unwrap_err()
        .0
        .into_iter()
        .map(|e| (e.field, e.message))
        .collect()
}

#[test]
fn bad_schedules_are_refused_naming_each_field() {
    let bad = spec(
        "Mars/Olympus",
        &[
            (0, "09:00", "17:00"),
            (8, "09:00", "17:00"),
            (1, "9:00", "17:00"),
            (1, "09:00", "24:01"),
            (1, "24:00", "10:00"),
            (1, "12:60", "13:00"),
            (2, "10:00", "10:00"),
        ],
        &[("2026-02-30", false), ("25/12/2026", true)],
    );
    let fields: Vec<String> = errors_of(&bad).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        [
            "schedule.timezone",
            "schedule.hours[0].weekday",
            "schedule.hours[1].weekday",
            "schedule.hours[2].start",
            "schedule.hours[3].end",
            "schedule.hours[4].start",
            "schedule.hours[5].start",
            "schedule.hours[6].end",
            "schedule.holidays[0].date",
            "schedule.holidays[1].date",
        ]
    );
}

#[test]
fn overlapping_windows_are_refused_and_touching_ones_accepted() {
    let e = errors_of(&spec(
        "UTC",
        &[(1, "09:00", "12:00"), (1, "11:00", "17:00")],
        &[],
    ));
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].0, "schedule.hours[1]");
    assert!(
        e[0].1.contains("overlaps hours[0] on weekday 1"),
        "{}",
        e[0].1
    );
    // Sunday night into Monday morning overlaps Monday's window.
    let e = errors_of(&spec(
        "UTC",
        &[(1, "01:00", "05:00"), (7, "22:00", "02:00")],
        &[],
    ));
    assert_eq!(e[0].0, "schedule.hours[1]");
    assert!(
        Calendar::new(
            &spec("UTC", &[(1, "09:00", "12:00"), (1, "12:00", "17:00")], &[]),
            ""
        )
        .is_ok()
    );
    assert!(Calendar::new(&spec("UTC", &[(1, "00:00", "24:00")], &[]), "").is_ok());
}

#[test]
fn unreadable_holidays_are_taken_out_and_the_rest_is_kept() {
    let mut s = spec(
        "UTC",
        &[(1, "09:00", "17:00")],
        &[
            ("2026-02-30", false),
            ("2026-12-25", true),
            ("10000-01-01", false),
        ],
    );
    assert!(Calendar::new(&s, "schedule").is_err());
    let bad = s.take_unreadable_holidays();
    assert_eq!(bad.len(), 2);
    assert_eq!(s.holidays.len(), 1);
    assert_eq!(s.holidays[0].date, "2026-12-25");
    assert!(Calendar::new(&s, "schedule").is_ok());
}

#[test]
fn a_schedule_too_sparse_for_the_amount_stops_at_the_horizon() {
    // One open minute a week: a year of business minutes would take ten thousand years.
    let sparse = cal("UTC", &[(1, "00:00", "00:01")], &[]);
    let from = at("UTC", "2026-03-02 00:00");
    assert_eq!(
        sparse.instant_after(from, TimeDelta::minutes(366 * 24 * 60), &[]),
        Err(CalendarError::BeyondHorizon)
    );
    // An amount that fits before the horizon is still answered exactly.
    assert_eq!(
        sparse.instant_after(from, TimeDelta::minutes(2), &[]),
        Ok(at("UTC", "2026-03-09 00:01"))
    );
    // Business time up to an instant past the horizon is refused, not walked.
    let always = Calendar::new(
        &ScheduleSpec {
            timezone: "UTC".into(),
            is_24x7: true,
            hours: vec![],
            holidays: vec![],
        },
        "schedule",
    )
    .unwrap();
    assert_eq!(
        always.instant_after(
            horizon() - TimeDelta::minutes(1),
            TimeDelta::minutes(2),
            &[]
        ),
        Err(CalendarError::BeyondHorizon)
    );
}
