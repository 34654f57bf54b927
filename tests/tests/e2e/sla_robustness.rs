//! The SLA clock against bad data and lost runs: stored configuration it cannot read, a run
//! that was terminated, a ticket closed before its clock started. Every clock must go on
//! counting (or wait and say why), recover by itself, and never be silenced for good.

use psa_domain::ids::sla_workflow_id;
use psa_tests::{Parts, TestEnv, eventually, wf};
use psa_workflows::search_attributes as sa;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use temporalio_client::{WorkflowExecutionStatus, WorkflowTerminateOptions};
use uuid::Uuid;

/// A schedule open every hour of every day (so real minutes are business minutes, and its
/// holidays are read), the tenant default; and the default policy on it: P1 60/240 minutes.
async fn every_day_policy(env: &TestEnv) -> Uuid {
    let s = &env.a.seeded;
    let schedule = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO business_hours_schedules (tenant_id, id, name, timezone, is_default)
         VALUES ($1, $2, 'Every day', 'UTC', true)",
    )
    .bind(s.tenant_id)
    .bind(schedule)
    .execute(&env.owner)
    .await
    .unwrap();
    for weekday in 1..=7i16 {
        sqlx::query(
            "INSERT INTO business_hours_windows (tenant_id, schedule_id, id, weekday, start_time, end_time)
             VALUES ($1, $2, $3, $4, '00:00', '24:00')",
        )
        .bind(s.tenant_id)
        .bind(schedule)
        .bind(Uuid::now_v7())
        .bind(weekday)
        .execute(&env.owner)
        .await
        .unwrap();
    }
    let policy = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO sla_policies (tenant_id, id, name, schedule_id, is_default)
         VALUES ($1, $2, 'Standard', $3, true)",
    )
    .bind(s.tenant_id)
    .bind(policy)
    .bind(schedule)
    .execute(&env.owner)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO sla_policy_targets (tenant_id, policy_id, priority_id, response_minutes, resolution_minutes, is_24x7)
         VALUES ($1, $2, $3, 60, 240, false)",
    )
    .bind(s.tenant_id)
    .bind(policy)
    .bind(s.priority_ids[0])
    .execute(&env.owner)
    .await
    .unwrap();
    schedule
}

/// A tenant-default policy: P1 60/240 minutes around the clock.
async fn around_the_clock_policy(env: &TestEnv) {
    super::sla_workflow::policy(env, 60, 240).await;
}

async fn create_ticket(env: &TestEnv, title: &str) -> Uuid {
    let body = json!({ "title": title, "priority_id": env.a.seeded.priority_ids[0] });
    let t = env.ok(Method::POST, "/v1/tickets", &env.a.key, &body).await;
    t["id"].as_str().unwrap().parse().unwrap()
}

/// Changes the title: one `ticket.updated`, which makes the clock read its configuration.
async fn touch(env: &TestEnv, ticket: Uuid, title: &str) {
    env.ok(
        Method::PATCH,
        &format!("/v1/tickets/{ticket}"),
        &env.a.key,
        &json!({ "title": title }),
    )
    .await;
}

/// Audit steps of a ticket as (step key, detail), in the order written.
async fn steps(env: &TestEnv, ticket: Uuid) -> Vec<(String, serde_json::Value)> {
    sqlx::query_as(
        "SELECT step_key, detail FROM sla_audit_log WHERE ticket_id = $1 ORDER BY recorded_at",
    )
    .bind(ticket)
    .fetch_all(&env.owner)
    .await
    .unwrap()
}

/// Waits up to `secs` for a step whose key starts with `prefix`; returns its detail.
async fn wait_step(env: &TestEnv, ticket: Uuid, prefix: &str, secs: u64) -> serde_json::Value {
    eventually(Duration::from_secs(secs), || async {
        Ok(steps(env, ticket)
            .await
            .into_iter()
            .find(|(k, _)| k.starts_with(prefix))
            .map(|(_, d)| d))
    })
    .await
    .unwrap_or_else(|_| panic!("no step {prefix}* for {ticket} within {secs} s"))
}

async fn wait_column(env: &TestEnv, ticket: Uuid, col: &str, want: &str, secs: u64) {
    eventually(Duration::from_secs(secs), || async {
        Ok((env.ticket_column(ticket, col).await.as_deref() == Some(want)).then_some(()))
    })
    .await
    .unwrap_or_else(|_| panic!("{ticket}: {col} never became {want}"));
}

async fn sla_state_attribute(temporal: &temporalio_client::Client, id: &str) -> Option<String> {
    wf::describe(temporal, id)
        .await
        .and_then(|d| d.search_attributes().get(&sa::SLA_STATE))
}

async fn wait_attribute(temporal: &temporalio_client::Client, id: &str, want: &str, secs: u64) {
    eventually(Duration::from_secs(secs), || async {
        Ok((sla_state_attribute(temporal, id).await.as_deref() == Some(want)).then_some(()))
    })
    .await
    .unwrap_or_else(|_| panic!("{id}: SlaState never became {want}"));
}

/// The current run of a running clock.
async fn run_id(temporal: &temporalio_client::Client, id: &str) -> String {
    let run = wf::wait_status(temporal, id, WorkflowExecutionStatus::Running).await;
    run.run_id().to_owned()
}

async fn ticket_sla(env: &TestEnv, ticket: Uuid) -> serde_json::Value {
    env.ok(
        Method::GET,
        &format!("/v1/tickets/{ticket}/sla"),
        &env.a.key,
        &json!(null),
    )
    .await
}

async fn metrics(env: &TestEnv) -> String {
    env.http
        .get(env.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_outlives_configuration_it_cannot_read_and_recovers_by_itself() {
    // Its clocks read the fixed data on their own retry timers: on a time-skipping server the
    // test moves time to them instead of waiting them out.
    let env = TestEnv::start_time_skipping(Parts::ALL).await.unwrap();
    let s = env.a.seeded.clone();
    let temporal = env.temporal().await.unwrap();
    let schedule = every_day_policy(&env).await;
    let first = create_ticket(&env, "Running before the bad data").await;
    let first_id = sla_workflow_id(s.tenant_id, first);
    wait_column(&env, first, "sla_state", "on_track", 30).await;
    let first_run = run_id(&temporal, &first_id).await;

    // A holiday past year 9999 arrives by a route that does not validate (SQL, an old row),
    // next to a good one: the bad one is left out and reported, the good one applies.
    for date in ["10000-01-01", "2099-01-01"] {
        sqlx::query(
            "INSERT INTO holidays (tenant_id, id, schedule_id, name, date) VALUES ($1, $2, $3, 'Far', $4::date)",
        )
        .bind(s.tenant_id)
        .bind(Uuid::now_v7())
        .bind(schedule)
        .bind(date)
        .execute(&env.owner)
        .await
        .unwrap();
    }
    touch(&env, first, "Running with a holiday past 9999").await;
    let applied = wait_step(&env, first, "policy_applied:", 30).await;
    assert!(
        applied["ignored"].to_string().contains("10000-01-01"),
        "{applied}"
    );
    assert_eq!(
        wf::status(&temporal, &first_id).await,
        Some(WorkflowExecutionStatus::Running)
    );
    // A clock started now reads the same schedule.
    let second = create_ticket(&env, "Started with a holiday past 9999").await;
    wait_column(&env, second, "sla_state", "on_track", 30).await;

    // A schedule that cannot be used at all: the running clock keeps its last good one and
    // says so; a clock starting now waits for one.
    sqlx::query("UPDATE business_hours_schedules SET timezone = 'Mars/Olympus' WHERE id = $1")
        .bind(schedule)
        .execute(&env.owner)
        .await
        .unwrap();
    touch(&env, first, "Running on its last good configuration").await;
    let noted = wait_step(&env, first, "configuration_error:", 30).await;
    assert!(
        noted["configuration_error"]
            .as_str()
            .unwrap()
            .contains("Mars/Olympus"),
        "{noted}"
    );
    wait_attribute(&temporal, &first_id, "configuration_error", 30).await;
    let view = ticket_sla(&env, first).await;
    assert_eq!(view["source"], "workflow", "{view}");
    assert_eq!(view["clock"], "configuration_error", "{view}");
    assert!(
        view["configuration_error"]
            .as_str()
            .unwrap()
            .contains("Mars/Olympus")
    );
    assert_eq!(view["response"]["target_minutes"], 60, "{view}");
    let status = wf::query(&temporal, &first_id).await.unwrap();
    assert!(status.configuration_error.is_some());
    let third = create_ticket(&env, "Created while the schedule is unusable").await;
    let third_id = sla_workflow_id(s.tenant_id, third);
    wait_step(&env, third, "configuration_error:", 30).await;
    let third_run = run_id(&temporal, &third_id).await;
    wait_attribute(&temporal, &third_id, "configuration_error", 30).await;
    let view = ticket_sla(&env, third).await;
    assert_eq!(view["clock"], "configuration_error", "{view}");
    assert_eq!(view["source"], "pending", "{view}");

    // The data is fixed, and nobody tells the clocks: they read it again on their own.
    sqlx::query("UPDATE business_hours_schedules SET timezone = 'UTC' WHERE id = $1")
        .bind(schedule)
        .execute(&env.owner)
        .await
        .unwrap();
    // Each clock retries 30 s after it met the bad schedule, backing off after each failure;
    // five minutes covers several retries and comes nowhere near a threshold (the first is
    // half an hour in).
    env.clock().skip(Duration::from_secs(5 * 60)).await.unwrap();
    wait_step(&env, first, "configuration_recovered:", 30).await;
    wait_attribute(&temporal, &first_id, "on_track", 30).await;
    wait_step(&env, third, "started", 30).await;
    wait_column(&env, third, "sla_state", "on_track", 30).await;
    wait_attribute(&temporal, &third_id, "on_track", 30).await;
    let view = ticket_sla(&env, first).await;
    assert_eq!(view["clock"], "running", "{view}");
    assert!(view.get("configuration_error").is_none(), "{view}");
    // Each recovered in the run it began with.
    assert_eq!(run_id(&temporal, &first_id).await, first_run);
    assert_eq!(run_id(&temporal, &third_id).await, third_run);
    wf::check_replay(
        &temporal,
        &first_id,
        "ticket_sla_configuration_error_recovered",
    )
    .await
    .unwrap();
    wf::check_replay(
        &temporal,
        &third_id,
        "ticket_sla_configuration_error_at_start",
    )
    .await
    .unwrap();
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_clock_is_recreated_from_its_record_and_a_finished_one_is_not() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let s = env.a.seeded.clone();
    let temporal = env.temporal().await.unwrap();
    around_the_clock_policy(&env).await;
    let tech = env
        .a
        .key_for(&env.owner, "technician", Some(s.technician_user_id))
        .await
        .unwrap();
    let ticket = create_ticket(&env, "Clock lost").await;
    let id = sla_workflow_id(s.tenant_id, ticket);
    wait_column(&env, ticket, "sla_state", "on_track", 30).await;
    env.ok(
        Method::POST,
        &format!("/v1/tickets/{ticket}/comments"),
        &tech,
        &json!({ "body": "On it" }),
    )
    .await;
    wait_column(&env, ticket, "sla_response_met", "true", 30).await;
    let due = env.ticket_column(ticket, "sla_response_due_at").await;
    assert!(due.is_some());

    temporal
        .get_workflow_handle::<psa_workflows::ticket_sla::SlaTicketWorkflow>(id.as_str())
        .terminate(WorkflowTerminateOptions::default())
        .await
        .unwrap();
    wf::wait_status(&temporal, &id, WorkflowExecutionStatus::Terminated).await;
    let view = ticket_sla(&env, ticket).await;
    assert_eq!(view["clock"], "terminated", "{view}");
    assert_eq!(view["source"], "record", "{view}");
    // Operators see it without waiting for an event: the edge's metrics count it.
    eventually(Duration::from_secs(20), || async {
        let text = env
            .http
            .get(env.url("/metrics"))
            .send()
            .await?
            .text()
            .await?;
        let terminated = text
            .lines()
            .find(|l| l.starts_with("psa_sla_runs_ended_unfinished{status=\"Terminated\"}"))
            .and_then(|l| l.rsplit(' ').next()?.parse::<i64>().ok())
            .unwrap_or(0);
        Ok((terminated >= 1).then_some(()))
    })
    .await
    .expect("the terminated run is counted in psa_sla_runs_ended_unfinished");

    // The next event re-creates the clock, which goes on from what the lost run wrote.
    env.ok(
        Method::POST,
        &format!("/v1/tickets/{ticket}/status"),
        &env.a.key,
        &json!({ "status_id": s.status_waiting }),
    )
    .await;
    wait_column(&env, ticket, "sla_state", "paused", 30).await;
    assert_eq!(wf::run_count(&temporal, &id).await.unwrap(), 2);
    let keys: Vec<String> = steps(&env, ticket)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let count = |prefix: &str| keys.iter().filter(|k| k.starts_with(prefix)).count();
    assert_eq!(count("started"), 1, "{keys:?}");
    assert_eq!(count("responded:"), 1, "{keys:?}");
    assert_eq!(count("rebuilt:"), 1, "{keys:?}");
    assert_eq!(
        env.ticket_column(ticket, "sla_response_met")
            .await
            .as_deref(),
        Some("true")
    );
    assert_eq!(env.ticket_column(ticket, "sla_response_due_at").await, due);
    let tracker = wf::query(&temporal, &id).await.unwrap().tracker.unwrap();
    assert!(tracker.response.stopped_at.is_some());
    assert!(tracker.paused());
    let view = ticket_sla(&env, ticket).await;
    assert_eq!(view["clock"], "running", "{view}");
    assert_eq!(view["response"]["met"], true, "{view}");
    assert!(
        metrics(&env)
            .await
            .contains("psa_sla_runs_recreated_total{previous=\"terminated\"}")
    );
    wf::check_replay(&temporal, &id, "ticket_sla_local_recreated_after_terminate")
        .await
        .unwrap();

    // Closed, the run finishes (the tests' reopen window is a second). A late event is
    // delivered as done and starts nothing.
    env.ok(
        Method::POST,
        &format!("/v1/tickets/{ticket}/close"),
        &env.a.key,
        &json!({}),
    )
    .await;
    wf::wait_status(&temporal, &id, WorkflowExecutionStatus::Completed).await;
    env.ok(
        Method::POST,
        &format!("/v1/tickets/{ticket}/comments"),
        &tech,
        &json!({ "body": "Thanks, closing note", "is_internal": true }),
    )
    .await;
    eventually(Duration::from_secs(30), || async {
        Ok((env.outbox_count(false).await == 0).then_some(()))
    })
    .await
    .expect("the late event's row is recorded as delivered");
    assert_eq!(wf::run_count(&temporal, &id).await.unwrap(), 2);
    assert_eq!(
        wf::status(&temporal, &id).await,
        Some(WorkflowExecutionStatus::Completed)
    );
    assert!(
        metrics(&env)
            .await
            .contains("psa_sla_events_after_finish_total")
    );
    let view = ticket_sla(&env, ticket).await;
    assert_eq!(view["clock"], "finished", "{view}");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_closed_before_its_clock_started_records_its_close() {
    let mut env = TestEnv::start(Parts::ALL).await.unwrap();
    let s = env.a.seeded.clone();
    around_the_clock_policy(&env).await;
    // No worker: creation and close both reach Temporal before the clock's first step, as
    // when a ticket is closed a fraction of a second after it was created.
    env.kill_worker().await;
    let ticket = create_ticket(&env, "Closed at once").await;
    // The creation has reached Temporal (and the clock's start waits there) when the close
    // comes.
    eventually(Duration::from_secs(30), || async {
        Ok((env.outbox_count(false).await == 0).then_some(()))
    })
    .await
    .unwrap();
    env.ok(
        Method::POST,
        &format!("/v1/tickets/{ticket}/close"),
        &env.a.key,
        &json!({}),
    )
    .await;
    eventually(Duration::from_secs(30), || async {
        Ok((env.outbox_count(false).await == 0).then_some(()))
    })
    .await
    .unwrap();
    env.start_worker().await.unwrap();
    wait_column(&env, ticket, "sla_state", "met", 60).await;
    let keys: Vec<String> = steps(&env, ticket)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let kinds: Vec<&str> = keys.iter().map(|k| k.split(':').next().unwrap()).collect();
    assert_eq!(&kinds[..2], ["started", "resolved"], "{keys:?}");
    let (stopped_after_creation, gap): (bool, f64) = sqlx::query_as(
        "SELECT sla_resolution_at > created_at,
                abs(extract(epoch FROM sla_resolution_at - closed_at))::float8
           FROM tickets WHERE id = $1",
    )
    .bind(ticket)
    .fetch_one(&env.owner)
    .await
    .unwrap();
    assert!(stopped_after_creation, "stopped at the creation instant");
    assert!(gap < 1.0, "stopped {gap} s away from the close");
    let temporal = env.temporal().await.unwrap();
    let id = sla_workflow_id(s.tenant_id, ticket);
    // With no reopen window the run ends right after the close: the whole run is replayed,
    // and the worker is not stopped while the run still writes its last step.
    eventually(Duration::from_secs(30), || async {
        Ok(
            (wf::status(&temporal, &id).await == Some(WorkflowExecutionStatus::Completed))
                .then_some(()),
        )
    })
    .await
    .expect("the run ends after the close");
    wf::check_replay(&temporal, &id, "ticket_sla_local_closed_before_start")
        .await
        .unwrap();
    env.shutdown().await;
}
