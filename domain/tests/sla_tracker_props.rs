//! However late the workflow wakes, and whatever lands between wakes, the SLA clock fires the
//! same thresholds, breaches and escalations as a clock woken exactly on time, each once.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use psa_domain::calendar::{ScheduleSpec, WindowSpec};
use psa_domain::sla::{
    DEFAULT_ESCALATION_PERCENTS, SlaAction, SlaPolicySnapshot, SlaTracker, default_threshold_rules,
};

#[derive(Debug, Clone, Copy)]
enum Event {
    Pause,
    Resume,
    Respond,
    Resolve,
    Reopen,
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::Pause),
        Just(Event::Resume),
        Just(Event::Respond),
        Just(Event::Resolve),
        Just(Event::Reopen)
    ]
}

fn policy(is_24x7: bool) -> SlaPolicySnapshot {
    SlaPolicySnapshot {
        policy_id: None,
        schedule: ScheduleSpec {
            timezone: "Europe/London".into(),
            is_24x7,
            hours: (1..=5)
                .map(|d| WindowSpec {
                    weekday: d,
                    start: "08:00".into(),
                    end: "18:00".into(),
                })
                .collect(),
            holidays: vec![],
        },
        response_minutes: Some(120),
        resolution_minutes: Some(960),
        thresholds: default_threshold_rules(),
        escalation_percents: DEFAULT_ESCALATION_PERCENTS,
        pause_while_awaiting_client: false,
    }
}

fn key(a: &SlaAction) -> String {
    format!("{a:?}")
}

/// Runs the events, waking at `wake(next_wake)` each time; returns the fired actions.
fn run(
    is_24x7: bool,
    events: &[(i64, Event)],
    lateness: &[i64],
    end: DateTime<Utc>,
) -> Vec<String> {
    let start = Utc.with_ymd_and_hms(2026, 3, 27, 15, 0, 0).unwrap();
    let mut t = SlaTracker::new(policy(is_24x7), start);
    let cal = t.calendar().unwrap();
    t.start(&cal, false, false).unwrap();
    let mut fired = Vec::new();
    let mut late = lateness.iter().cycle();
    let mut pending = events
        .iter()
        .map(|(m, e)| (start + TimeDelta::minutes(*m), *e))
        .peekable();
    let mut now = start;
    loop {
        let wake = t
            .next_wake(&cal)
            .unwrap()
            .map(|w| w + TimeDelta::minutes(*late.next().unwrap_or(&0)));
        let next_event = pending.peek().map(|(at, _)| *at);
        match (wake, next_event) {
            (Some(w), e) if e.is_none_or(|e| w <= e) && w <= end => {
                now = w.max(now);
                fired.extend(t.due(&cal, now).unwrap().iter().map(key));
            }
            (_, Some(e)) if e <= end => {
                let (_, ev) = pending.next().unwrap();
                now = e.max(now);
                match ev {
                    Event::Pause => t.set_pausing(&cal, now, true, false).unwrap(),
                    Event::Resume => t.set_pausing(&cal, now, false, false).unwrap(),
                    Event::Respond => t.respond(&cal, now).unwrap(),
                    Event::Resolve => t.resolve(&cal, now).unwrap(),
                    Event::Reopen => t.reopen(&cal, now).unwrap(),
                }
                // The workflow checks for anything due after every event.
                fired.extend(t.due(&cal, now).unwrap().iter().map(key));
            }
            _ => break,
        }
    }
    fired.extend(t.due(&cal, end).unwrap().iter().map(key));
    fired
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn late_wakes_fire_the_same_actions_once(
        is_24x7 in any::<bool>(),
        mut events in prop::collection::vec((0i64..6000, event()), 0..12),
        lateness in prop::collection::vec(0i64..300, 1..6),
    ) {
        events.sort_by_key(|(m, _)| *m);
        let end = Utc.with_ymd_and_hms(2026, 4, 20, 0, 0, 0).unwrap();
        let on_time = run(is_24x7, &events, &[0], end);
        let late = run(is_24x7, &events, &lateness, end);
        let mut a = on_time.clone();
        let mut b = late.clone();
        a.sort();
        b.sort();
        prop_assert_eq!(&a, &b);
        let mut dedup = a.clone();
        dedup.dedup();
        prop_assert_eq!(dedup.len(), a.len(), "fired twice: {:?}", on_time);
    }
}
