//! The SLA clock's decisions, event by event.

use super::*;
use crate::calendar::{Calendar, ScheduleSpec, WindowSpec};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};

fn policy(response: Option<i64>, resolution: Option<i64>, is_24x7: bool) -> SlaPolicySnapshot {
    SlaPolicySnapshot {
        policy_id: None,
        schedule: ScheduleSpec {
            timezone: "UTC".into(),
            is_24x7,
            hours: (1..=5)
                .map(|d| WindowSpec {
                    weekday: d,
                    start: "09:00".into(),
                    end: "17:00".into(),
                })
                .collect(),
            holidays: vec![],
        },
        response_minutes: response,
        resolution_minutes: resolution,
        thresholds: default_threshold_rules(),
        escalation_percents: DEFAULT_ESCALATION_PERCENTS,
        pause_while_awaiting_client: false,
    }
}

/// Monday 2026-11-23 09:00 UTC.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

fn min(m: i64) -> DateTime<Utc> {
    t0() + TimeDelta::minutes(m)
}

fn started(p: SlaPolicySnapshot) -> (SlaTracker, Calendar) {
    let mut t = SlaTracker::new(p, t0());
    let cal = t.calendar().unwrap();
    t.start(&cal, false, false).unwrap();
    (t, cal)
}

/// Actions as short labels: `response:50`, `response:breached`, `resolution:escalated:2`.
fn labels(actions: &[SlaAction]) -> Vec<String> {
    let name = |p: &Phase| match p {
        Phase::Response => "response",
        Phase::Resolution => "resolution",
    };
    actions
        .iter()
        .map(|a| match a {
            SlaAction::Threshold { phase, rule, .. } => format!("{}:{}", name(phase), rule.percent),
            SlaAction::Breached { phase, .. } => format!("{}:breached", name(phase)),
            SlaAction::Escalated { phase, level } => format!("{}:escalated:{level}", name(phase)),
        })
        .collect()
}

#[test]
fn wakes_at_each_threshold_and_fires_each_once() {
    let (mut t, cal) = started(policy(Some(60), Some(240), true));
    assert_eq!(t.response.due_at, Some(min(60)));
    assert_eq!(t.resolution.due_at, Some(min(240)));
    let mut wakes = Vec::new();
    let mut fired = Vec::new();
    while let Some(at) = t.next_wake(&cal).unwrap() {
        wakes.push(at);
        fired.extend(labels(&t.due(&cal, at).unwrap()));
        assert!(t.due(&cal, at).unwrap().is_empty(), "nothing fires twice");
        if wakes.len() > 20 {
            panic!("too many wakes: {wakes:?}");
        }
    }
    assert_eq!(
        wakes,
        [30, 42, 45, 54, 60, 66, 120, 180, 216, 240].map(min),
        "response 50/70/75/90/100/110, resolution 50/75/90/100"
    );
    assert_eq!(
        fired,
        [
            "response:50",
            "response:escalated:1",
            "response:75",
            "response:90",
            "response:escalated:2",
            "response:100",
            "response:breached",
            "response:escalated:3",
            "resolution:50",
            "resolution:75",
            "resolution:90",
            "resolution:100",
            "resolution:breached",
        ]
    );
    // Resolution reached 70/90/110 too, but the ticket's level was already higher: no repeat.
    assert_eq!(t.escalation_level, 3);
    assert_eq!(t.state(), SlaState::Breached);
}

#[test]
fn a_late_wake_fires_everything_passed_in_order() {
    let (mut t, cal) = started(policy(Some(60), Some(240), true));
    let all = labels(&t.due(&cal, min(1000)).unwrap());
    assert_eq!(all.len(), 15 - 2, "{all:?}");
    assert_eq!(all[0], "response:50");
    assert!(all.contains(&"resolution:breached".to_owned()));
    assert!(t.due(&cal, min(2000)).unwrap().is_empty());
    assert_eq!(t.next_wake(&cal).unwrap(), None);
}

#[test]
fn a_pause_stops_the_clock_and_counts_as_paused_business_time() {
    let (mut t, cal) = started(policy(Some(60), Some(240), true));
    t.set_pausing(&cal, min(20), true, false).unwrap();
    assert_eq!(t.state(), SlaState::Paused);
    assert_eq!(t.next_wake(&cal).unwrap(), None);
    // A wake that was already scheduled for minute 30 finds nothing to do.
    assert!(t.due(&cal, min(30)).unwrap().is_empty());
    t.set_pausing(&cal, min(80), false, false).unwrap();
    assert_eq!(t.next_wake(&cal).unwrap(), Some(min(90)));
    assert_eq!(t.response.due_at, Some(min(120)));
    let v = t.view(&cal, min(85));
    assert_eq!(v.paused_minutes, 60);
    assert_eq!(v.response.elapsed_minutes, 25);
    assert_eq!(v.response.remaining_minutes, Some(35));
}

#[test]
fn a_threshold_passed_before_an_event_still_fires_once() {
    let (mut t, cal) = started(policy(Some(60), Some(240), true));
    // The reply lands at minute 40; the 30-minute wake had not run yet.
    t.respond(&cal, min(40)).unwrap();
    assert_eq!(labels(&t.due(&cal, min(40)).unwrap()), ["response:50"]);
    assert_eq!(t.view(&cal, min(40)).response.met, Some(true));
    assert_eq!(
        t.next_wake(&cal).unwrap(),
        Some(min(120)),
        "resolution 50 % next"
    );
}

#[test]
fn closing_ends_both_phases_and_reopening_counts_on() {
    let (mut t, cal) = started(policy(Some(60), Some(240), true));
    t.due(&cal, min(30)).unwrap();
    t.resolve(&cal, min(40)).unwrap();
    assert!(t.due(&cal, min(40)).unwrap().is_empty());
    assert_eq!(t.state(), SlaState::Met);
    assert_eq!(t.next_wake(&cal).unwrap(), None);
    assert_eq!(t.response.stopped_at, Some(min(40)));
    // Reopened a day later: resolution goes on from 40 minutes.
    t.reopen(&cal, min(1490)).unwrap();
    assert_eq!(t.state(), SlaState::OnTrack);
    assert_eq!(t.next_wake(&cal).unwrap(), Some(min(1490 + 80)));
    assert_eq!(t.resolution.due_at, Some(min(1490 + 200)));
    // The response phase stays ended.
    assert_eq!(t.view(&cal, min(1500)).response.met, Some(true));
}

#[test]
fn created_closed_or_paused() {
    let mut t = SlaTracker::new(policy(Some(60), Some(240), true), t0());
    let cal = t.calendar().unwrap();
    t.start(&cal, false, true).unwrap();
    assert_eq!(t.state(), SlaState::Met);
    assert_eq!(t.next_wake(&cal).unwrap(), None);
    let mut t = SlaTracker::new(policy(Some(60), Some(240), true), t0());
    t.start(&cal, true, false).unwrap();
    assert_eq!(t.state(), SlaState::Paused);
    assert_eq!(t.paused_since, Some(t0()));
    assert_eq!(t.next_wake(&cal).unwrap(), None);
}

#[test]
fn a_shorter_target_fires_what_it_has_passed_and_escalation_never_falls() {
    let (mut t, cal) = started(policy(Some(600), Some(6000), true));
    t.due(&cal, min(450)).unwrap(); // response at 75 %: level 1
    assert_eq!(t.escalation_level, 1);
    let urgent = policy(Some(60), Some(240), true);
    t.change_policy(&cal, &cal, urgent, min(450)).unwrap();
    let fired = labels(&t.due(&cal, min(450)).unwrap());
    assert!(fired.contains(&"response:breached".to_owned()), "{fired:?}");
    assert!(
        fired.contains(&"response:escalated:3".to_owned()),
        "{fired:?}"
    );
    assert!(
        !fired.contains(&"response:50".to_owned()),
        "fired before: {fired:?}"
    );
    // A longer target again: the level stays at 3, nothing fires again.
    t.change_policy(&cal, &cal, policy(Some(6000), Some(60000), true), min(451))
        .unwrap();
    assert!(t.due(&cal, min(452)).unwrap().is_empty());
    assert_eq!(t.escalation_level, 3);
}

#[test]
fn business_hours_carry_over_the_weekend() {
    let mut t = SlaTracker::new(policy(None, Some(240), false), min(4 * 1440 + 420)); // Fri 16:00
    let cal = t.calendar().unwrap();
    t.start(&cal, false, false).unwrap();
    let monday = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
    assert_eq!(t.resolution.due_at, Some(monday));
    assert_eq!(t.response.due_at, None);
    // 50 % is Monday 10:00.
    assert_eq!(
        t.next_wake(&cal).unwrap(),
        Some(Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap())
    );
}

#[test]
fn waiting_on_the_client_pauses_only_when_the_tenant_says_so() {
    let (mut t, cal) = started(policy(Some(60), Some(240), true));
    t.set_pausing(&cal, min(10), false, true).unwrap();
    assert!(!t.paused());
    let mut p = policy(Some(60), Some(240), true);
    p.pause_while_awaiting_client = true;
    t.change_policy(&cal, &cal, p, min(20)).unwrap();
    assert!(t.paused());
    assert_eq!(t.paused_since, Some(min(20)));
    t.set_pausing(&cal, min(50), false, false).unwrap();
    assert_eq!(t.view(&cal, min(50)).response.elapsed_minutes, 20);
}

#[test]
fn no_targets_means_no_timers() {
    let (t, cal) = started(policy(None, None, true));
    assert_eq!(t.next_wake(&cal).unwrap(), None);
    assert_eq!(t.state(), SlaState::OnTrack);
    assert_eq!(t.view(&cal, min(10)).resolution.remaining_minutes, None);
}

#[test]
fn events_out_of_order_never_move_the_clock_back() {
    let (mut t, cal) = started(policy(Some(60), Some(240), true));
    t.set_pausing(&cal, min(20), true, false).unwrap();
    // An older event arriving late applies at the latest instant seen.
    t.set_pausing(&cal, min(10), false, false).unwrap();
    assert_eq!(t.view(&cal, min(20)).response.elapsed_minutes, 20);
    assert_eq!(t.settled_at, min(20));
}

#[test]
fn an_ended_phase_keeps_its_record_when_the_policy_is_applied_again() {
    let (mut t, cal) = started(policy(Some(60), Some(240), true));
    t.respond(&cal, min(10)).unwrap();
    assert_eq!(t.response.due_at, Some(min(60)));
    // The ticket leaves its policy for one without targets, then the policy is applied again.
    t.change_policy(&cal, &cal, policy(None, None, true), min(20))
        .unwrap();
    t.change_policy(&cal, &cal, policy(Some(60), Some(240), true), min(30))
        .unwrap();
    let v = t.view(&cal, min(30));
    assert_eq!(v.response.met, Some(true));
    assert_eq!(v.response.due_at, Some(min(60)));
    assert_eq!(v.response.target_minutes, Some(60));
    // A reopened resolution takes the target in force when it reopens.
    t.resolve(&cal, min(40)).unwrap();
    t.change_policy(&cal, &cal, policy(Some(60), Some(120), true), min(50))
        .unwrap();
    assert_eq!(t.resolution.target_minutes, Some(240), "ended: unchanged");
    t.reopen(&cal, min(60)).unwrap();
    assert_eq!(t.resolution.target_minutes, Some(120));
    assert_eq!(t.resolution.due_at, Some(min(60 + 120 - 40)));
}
