//! Reminders of schedule entries end to end: the edge writes an entry, the relay starts and
//! signals its run `schedule:{tenant}:{entry}`, and the worker's run sleeps on durable timers
//! of a time-skipping test server of its own, reminding each assignee once per occurrence, by
//! e-mail at the SMTP sink and in the app. The run outlives a worker restart, follows an edit
//! that moves the next occurrence (never reminding the old time), and ends with its series, on
//! deletion, or at once when reminders are off.

use crate::mail;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use psa_domain::ids::{notify_workflow_id, schedule_workflow_id};
use psa_domain::scheduling::reminders::ReminderStatus;
use psa_tests::time_skipping::ServerClock;
use psa_tests::{Parts, TestEnv, eventually, wf};
use psa_workflows::schedule_reminders::ScheduleReminderWorkflow;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use temporalio_client::{Client, WorkflowExecutionStatus, WorkflowQueryOptions};
use temporalio_common::protos::temporal::api::enums::v1::EventType;
use uuid::Uuid;

/// The first whole hour at least `hours` hours after the server's now.
async fn hours_ahead(clock: &ServerClock, hours: i64) -> DateTime<Utc> {
    clock
        .now()
        .await
        .unwrap()
        .duration_trunc(TimeDelta::hours(1))
        .unwrap()
        + TimeDelta::hours(hours)
}

/// `at` as the wall-clock form entries take, in UTC.
fn local(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

async fn status(temporal: &Client, id: &str) -> anyhow::Result<ReminderStatus> {
    Ok(temporal
        .get_workflow_handle::<ScheduleReminderWorkflow>(id)
        .query(
            ScheduleReminderWorkflow::query_status,
            (),
            WorkflowQueryOptions::default(),
        )
        .await?)
}

/// Waits up to 30 s for the run to wait for a reminder of the occurrence at `start`.
async fn waits_for(temporal: &Client, id: &str, start: DateTime<Utc>, what: &str) {
    eventually(Duration::from_secs(30), || async {
        let st = status(temporal, id).await?;
        Ok((st.state == "waiting" && st.next_occurrence == Some(start)).then_some(()))
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: the run never waited for the occurrence at {start}"));
}

/// Whether a run with this history sleeps on a timer with nothing else in flight: a timer
/// pending, no activity pending, and the last workflow task completed.
fn asleep(kinds: &[i32]) -> bool {
    let n = |kind: EventType| kinds.iter().filter(|k| **k == kind as i32).count();
    let timer_pending =
        n(EventType::TimerStarted) > n(EventType::TimerFired) + n(EventType::TimerCanceled);
    let activities_done = n(EventType::ActivityTaskScheduled)
        == n(EventType::ActivityTaskCompleted)
            + n(EventType::ActivityTaskFailed)
            + n(EventType::ActivityTaskTimedOut)
            + n(EventType::ActivityTaskCanceled);
    let settled = matches!(
        kinds.last().and_then(|k| EventType::try_from(*k).ok()),
        Some(EventType::TimerStarted | EventType::WorkflowTaskCompleted)
    );
    timer_pending && activities_done && settled
}

async fn count_of(temporal: &Client, id: &str, kind: EventType) -> usize {
    let kind = kind as i32;
    wf::history(temporal, id)
        .await
        .into_iter()
        .filter(|t| *t == kind)
        .count()
}

/// The reminded occurrences of `entry`, ascending.
async fn reminded(env: &TestEnv, entry: Uuid) -> Vec<DateTime<Utc>> {
    sqlx::query_scalar(
        "SELECT occurrence_start FROM schedule_reminders WHERE entry_id = $1 ORDER BY occurrence_start",
    )
    .bind(entry)
    .fetch_all(&env.owner)
    .await
    .unwrap()
}

/// The `schedule.reminder` events of `entry`, in the order they were raised.
async fn reminder_events(env: &TestEnv, entry: Uuid) -> Vec<Uuid> {
    sqlx::query_scalar(
        "SELECT event_id FROM outbox WHERE event_type = 'schedule.reminder'
            AND envelope->'payload'->>'entry_id' = $1 ORDER BY id",
    )
    .bind(entry.to_string())
    .fetch_all(&env.owner)
    .await
    .unwrap()
}

async fn create(env: &TestEnv, body: serde_json::Value) -> Uuid {
    let e = env
        .ok(Method::POST, "/v1/schedule-entries", &env.a.key, &body)
        .await;
    e["id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_occurrence_is_reminded_once_across_a_restart_an_edit_and_a_deletion() {
    let mut env = TestEnv::start_time_skipping(Parts::ALL).await.unwrap();
    let s = env.a.seeded.clone();
    let dispatcher = crate::sla_workflow::user(&env, "dispatch").await;
    let clock = env.clock();
    let temporal = env.temporal().await.unwrap();
    let people = [s.technician_user_id, dispatcher];

    // Daily at a whole hour, three times, the first a few hours ahead; reminded 15 minutes
    // before each.
    let first = hours_ahead(&clock, 3).await;
    let entry = create(
        &env,
        json!({
            "title": "Backup check", "assignees": people,
            "start": local(first), "timezone": "UTC", "duration_minutes": 30,
            "rrule": "FREQ=DAILY;COUNT=3", "reminder_minutes": 15,
        }),
    )
    .await;
    let id = schedule_workflow_id(s.tenant_id, entry);
    wf::wait_status(&temporal, &id, WorkflowExecutionStatus::Running).await;
    waits_for(&temporal, &id, first, "after the creation").await;

    // The assignees heard of the booking; nothing else is in flight when the worker dies (an
    // activity it held would hold the server's clock until its timeout).
    let created = mail::last_event(&env, "schedule.entry_created").await;
    wf::wait_status(
        &temporal,
        &notify_workflow_id(s.tenant_id, created),
        WorkflowExecutionStatus::Completed,
    )
    .await;
    for u in people {
        let m = mail::mail_for(&env, created, u, "booking").await;
        assert!(m.contains("Appointment booked: Backup check"), "{m}");
    }
    let sleeping = eventually(Duration::from_secs(60), || async {
        Ok(asleep(&wf::history(&temporal, &id).await).then_some(()))
    })
    .await;
    if sleeping.is_err() {
        let kinds: Vec<String> = wf::history(&temporal, &id)
            .await
            .into_iter()
            .map(|k| format!("{:?}", EventType::try_from(k)))
            .collect();
        panic!("the run does not sleep on its timer; its history: {kinds:?}");
    }

    // The worker dies before the first reminder is due, and the clock passes it meanwhile:
    // the timer fires, the wake waits for a worker.
    env.kill_worker().await;
    let skip = tokio::spawn({
        let clock = clock.clone();
        async move { clock.skip_to(first - TimeDelta::minutes(10)).await }
    });
    eventually(Duration::from_secs(30), || async {
        Ok((count_of(&temporal, &id, EventType::TimerFired).await == 1).then_some(()))
    })
    .await
    .expect("the reminder's timer fires while the worker is down");
    assert!(
        reminded(&env, entry).await.is_empty(),
        "no worker, no reminder"
    );
    env.start_worker().await.unwrap();
    skip.await.unwrap().unwrap();
    let day2 = first + TimeDelta::days(1);
    waits_for(&temporal, &id, day2, "after the first reminder").await;
    assert_eq!(reminded(&env, entry).await, [first]);
    let events = reminder_events(&env, entry).await;
    assert_eq!(events.len(), 1);
    for u in people {
        let m = mail::mail_for(&env, events[0], u, "first reminder").await;
        assert!(
            m.contains(&format!(
                "Subject: Reminder: Backup check at {} (UTC)",
                local(first)
            )),
            "{m}"
        );
        assert!(m.contains("starts in 15 minutes"), "{m}");
    }

    // The series moves three hours later from the second day on: the next occurrence is
    // reminded at its new time, never at its old one.
    let moved = day2 + TimeDelta::hours(3);
    env.ok(
        Method::PATCH,
        &format!("/v1/schedule-entries/{entry}"),
        &env.a.key,
        &json!({ "start": local(moved), "rrule": "FREQ=DAILY;COUNT=2" }),
    )
    .await;
    waits_for(&temporal, &id, moved, "after the edit").await;
    let day3 = moved + TimeDelta::days(1);
    clock.skip_to(day2 + TimeDelta::minutes(30)).await.unwrap();
    assert_eq!(
        reminded(&env, entry).await,
        [first],
        "nothing at the old time"
    );
    clock.skip_to(day3 + TimeDelta::hours(1)).await.unwrap();
    let done = wf::wait_status(&temporal, &id, WorkflowExecutionStatus::Completed).await;
    assert_eq!(done.status(), WorkflowExecutionStatus::Completed);
    assert_eq!(reminded(&env, entry).await, [first, moved, day3]);
    let events = reminder_events(&env, entry).await;
    assert_eq!(events.len(), 3, "one reminder per occurrence");
    for (event, start) in events.iter().zip([first, moved, day3]) {
        for u in people {
            let m = mail::mail_for(&env, *event, u, "reminder").await;
            assert!(m.contains(&local(start)), "{m}");
        }
    }
    let in_app: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM in_app_notifications WHERE user_id = $1 AND subtype_code = 'appointment.reminder'",
    )
    .bind(dispatcher)
    .fetch_one(&env.owner)
    .await
    .unwrap();
    assert_eq!(in_app, 3);
    wf::check_replay(&temporal, &id, "schedule_reminders_restart_and_edit")
        .await
        .unwrap();

    // A deleted entry's run ends without reminding anyone.
    let later = hours_ahead(&clock, 5).await;
    let gone = create(
        &env,
        json!({
            "title": "Cancelled visit", "assignees": [s.technician_user_id],
            "start": local(later), "timezone": "UTC", "duration_minutes": 30,
        }),
    )
    .await;
    let gone_id = schedule_workflow_id(s.tenant_id, gone);
    waits_for(&temporal, &gone_id, later, "the single entry").await;
    let deleted = env
        .req(
            Method::DELETE,
            &format!("/v1/schedule-entries/{gone}"),
            &env.a.key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), reqwest::StatusCode::NO_CONTENT);
    wf::wait_status(&temporal, &gone_id, WorkflowExecutionStatus::Completed).await;
    clock.skip_to(later + TimeDelta::hours(1)).await.unwrap();
    assert!(reminder_events(&env, gone).await.is_empty());

    // Without reminders the run ends at once; switching them on starts a new one.
    let quiet_at = later + TimeDelta::days(2);
    let quiet = create(
        &env,
        json!({
            "title": "Quiet visit", "assignees": [s.technician_user_id],
            "start": local(quiet_at), "timezone": "UTC", "duration_minutes": 30,
            "reminder_minutes": null,
        }),
    )
    .await;
    let quiet_id = schedule_workflow_id(s.tenant_id, quiet);
    wf::wait_status(&temporal, &quiet_id, WorkflowExecutionStatus::Completed).await;
    assert_eq!(
        count_of(&temporal, &quiet_id, EventType::TimerStarted).await,
        0
    );
    env.ok(
        Method::PATCH,
        &format!("/v1/schedule-entries/{quiet}"),
        &env.a.key,
        &json!({ "reminder_minutes": 60 }),
    )
    .await;
    // The first run had ended: only a new one can be waiting.
    waits_for(&temporal, &quiet_id, quiet_at, "reminders switched on").await;
    clock.skip_to(quiet_at).await.unwrap();
    wf::wait_status(&temporal, &quiet_id, WorkflowExecutionStatus::Completed).await;
    assert_eq!(reminded(&env, quiet).await, [quiet_at]);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_without_end_continues_as_new_and_keeps_its_history_short() {
    let env = TestEnv::start_time_skipping(Parts::ALL).await.unwrap();
    let s = env.a.seeded.clone();
    // Nobody needs two hundred messages to see the run go on.
    sqlx::query(
        "INSERT INTO tenant_notification_categories (tenant_id, category, enabled) VALUES ($1, 'appointments', false)",
    )
    .bind(s.tenant_id)
    .execute(&env.owner)
    .await
    .unwrap();
    let clock = env.clock();
    let temporal = env.temporal().await.unwrap();
    let first = hours_ahead(&clock, 2).await;
    let entry = create(
        &env,
        json!({
            "title": "Daily stand-up", "assignees": [s.technician_user_id],
            "start": local(first), "timezone": "UTC", "duration_minutes": 15,
            "rrule": "FREQ=DAILY", "reminder_minutes": 15,
        }),
    )
    .await;
    let id = schedule_workflow_id(s.tenant_id, entry);
    waits_for(&temporal, &id, first, "after the creation").await;

    // 205 days' reminders, a few weeks per skip (each skip must end within its real-time
    // limit); the run continues as new after its 200th.
    let last = first + TimeDelta::days(204);
    let mut at = first;
    while at < last {
        at = (at + TimeDelta::days(25)).min(last);
        clock.skip_to(at - TimeDelta::minutes(10)).await.unwrap();
    }
    waits_for(&temporal, &id, last + TimeDelta::days(1), "after 205 days").await;
    let st = status(&temporal, &id).await.unwrap();
    assert_eq!(st.reminders_sent, 205);
    let days = reminded(&env, entry).await;
    assert_eq!(days.len(), 205);
    assert!(
        days.iter()
            .zip(0..)
            .all(|(d, k)| *d == first + TimeDelta::days(k)),
        "one reminder per day, in order"
    );
    let kinds = wf::history(&temporal, &id).await;
    assert!(
        kinds.len() < 100,
        "the current run's history is short: {} events",
        kinds.len()
    );
    assert_eq!(
        count_of(&temporal, &id, EventType::ActivityTaskCompleted).await,
        6
    );
    wf::check_replay(&temporal, &id, "schedule_reminders_continued_as_new")
        .await
        .unwrap();
    env.shutdown().await;
}
