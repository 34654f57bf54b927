//! The SLA engine end to end: tickets over the API, the `sla:{tenant}:{ticket}` workflow on
//! Temporal, the audit log, the ticket's SLA columns, and the notifications that reach people.
//! Targets are minutes on a 24x7 schedule. The clock that has to run out its targets does so on
//! a time-skipping test server of its own (`psa_tests::time_skipping`): minutes pass in a
//! moment, and a worker restart lands exactly where the test puts it. The others run on the
//! shared dev server.

use psa_domain::ids::{notify_workflow_id, sla_workflow_id};
use psa_tests::{Parts, TestEnv, eventually, wf};
use psa_workflows::search_attributes as sa;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use temporalio_client::{Client, WorkflowExecutionStatus};
use temporalio_common::protos::temporal::api::enums::v1::EventType;
use uuid::Uuid;

/// A tenant-default policy: P1 has the given targets around the clock.
pub(crate) async fn policy(env: &TestEnv, response: i32, resolution: i32) -> Uuid {
    let s = &env.a.seeded;
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO sla_policies (tenant_id, id, name, is_default) VALUES ($1, $2, 'Standard', true)")
        .bind(s.tenant_id)
        .bind(id)
        .execute(&env.owner)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO sla_policy_targets (tenant_id, policy_id, priority_id, response_minutes, resolution_minutes, is_24x7)
         VALUES ($1, $2, $3, $4, $5, true)",
    )
    .bind(s.tenant_id)
    .bind(id)
    .bind(s.priority_ids[0])
    .bind(response)
    .bind(resolution)
    .execute(&env.owner)
    .await
    .unwrap();
    id
}

/// A user of tenant A, for manager roles (and other tests' second people).
pub(crate) async fn user(env: &TestEnv, name: &str) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO users (tenant_id, id, email, display_name, kind) VALUES ($1, $2, $3, $4, 'internal')")
        .bind(env.a.seeded.tenant_id)
        .bind(id)
        .bind(format!("{name}@alpha.example"))
        .bind(name)
        .execute(&env.owner)
        .await
        .unwrap();
    id
}

async fn steps(env: &TestEnv, ticket: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT step_key FROM sla_audit_log WHERE ticket_id = $1 ORDER BY recorded_at",
    )
    .bind(ticket)
    .fetch_all(&env.owner)
    .await
    .unwrap()
}

/// Timers that fired in the current run of `id`.
async fn timers_fired(temporal: &Client, id: &str) -> usize {
    let fired = EventType::TimerFired as i32;
    wf::history(temporal, id)
        .await
        .into_iter()
        .filter(|t| *t == fired)
        .count()
}

/// The type of the latest event in the current run of `id`.
async fn last_event(temporal: &Client, id: &str) -> i32 {
    wf::history(temporal, id)
        .await
        .last()
        .copied()
        .unwrap_or_default()
}

async fn create_ticket(env: &TestEnv, body: serde_json::Value) -> Uuid {
    let t = env.ok(Method::POST, "/v1/tickets", &env.a.key, &body).await;
    t["id"].as_str().unwrap().parse().unwrap()
}

/// Waits up to 30 s for the ticket's `col` to read `want`.
async fn wait_column(env: &TestEnv, ticket: Uuid, col: &str, want: &str, what: &str) {
    eventually(Duration::from_secs(30), || async {
        Ok((env.ticket_column(ticket, col).await.as_deref() == Some(want)).then_some(()))
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: {col} never became {want}"));
}

/// In-app notifications of `user` by subtype, for this ticket's SLA events.
async fn in_app(env: &TestEnv, user: Uuid) -> Vec<String> {
    let mut v: Vec<String> = sqlx::query_scalar(
        "SELECT subtype_code FROM in_app_notifications WHERE user_id = $1 AND subtype_code LIKE 'sla.%'",
    )
    .bind(user)
    .fetch_all(&env.owner)
    .await
    .unwrap();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thresholds_breaches_and_escalations_fire_once_across_a_worker_restart() {
    let mut env = TestEnv::start_time_skipping(Parts::ALL).await.unwrap();
    let s = env.a.seeded.clone();
    policy(&env, 1, 2).await;
    let manager = user(&env, "manager").await;
    let escalation: Vec<Uuid> = [
        user(&env, "lead").await,
        user(&env, "head").await,
        user(&env, "ceo").await,
    ]
    .to_vec();
    sqlx::query("UPDATE boards SET manager_id = $1 WHERE id = $2")
        .bind(manager)
        .bind(s.board_id)
        .execute(&env.owner)
        .await
        .unwrap();
    for (level, u) in escalation.iter().enumerate() {
        sqlx::query("INSERT INTO board_escalation_managers (tenant_id, board_id, level, user_id) VALUES ($1, $2, $3, $4)")
            .bind(s.tenant_id)
            .bind(s.board_id)
            .bind(level as i16 + 1)
            .bind(u)
            .execute(&env.owner)
            .await
            .unwrap();
    }
    let ticket = create_ticket(
        &env,
        json!({ "title": "Server down", "priority_id": s.priority_ids[0], "assignee_id": s.technician_user_id }),
    )
    .await;
    let temporal = env.temporal().await.unwrap();
    let id = sla_workflow_id(s.tenant_id, ticket);
    wf::wait_status(&temporal, &id, WorkflowExecutionStatus::Running).await;
    eventually(Duration::from_secs(30), || async {
        let due: Option<chrono::DateTime<chrono::Utc>> =
            sqlx::query_scalar("SELECT sla_response_due_at FROM tickets WHERE id = $1")
                .bind(ticket)
                .fetch_one(&env.owner)
                .await?;
        Ok(due.map(|_| ()))
    })
    .await
    .expect("the response due time is recorded at start");
    let created: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT created_at FROM tickets WHERE id = $1")
            .bind(ticket)
            .fetch_one(&env.owner)
            .await
            .unwrap();
    let clock = env.clock();
    let first_threshold = created + chrono::TimeDelta::seconds(30);
    // Nothing else is in flight when the worker dies (an activity it held would hold the
    // server's clock until the activity's timeout): the creation's e-mail has gone out, and
    // the clock sleeps on its timer.
    let creation: Uuid =
        sqlx::query_scalar("SELECT event_id FROM outbox WHERE event_type = 'ticket.created'")
            .fetch_one(&env.owner)
            .await
            .unwrap();
    wf::wait_status(
        &temporal,
        &notify_workflow_id(s.tenant_id, creation),
        WorkflowExecutionStatus::Completed,
    )
    .await;
    eventually(Duration::from_secs(30), || async {
        Ok((last_event(&temporal, &id).await == EventType::TimerStarted as i32).then_some(()))
    })
    .await
    .expect("the clock sleeps on its timer");

    // The worker dies before the first threshold (half the one-minute response target)...
    env.kill_worker().await;
    assert!(
        clock.now().await.unwrap() < first_threshold,
        "the worker is down before the first threshold"
    );
    let fired_before = timers_fired(&temporal, &id).await;
    // ...and the clock moves past it while no worker runs: its timer fires, and the wake waits
    // for a worker. Meanwhile the server's time only runs at real speed, so this skip ends once
    // a worker has handled the wake.
    let skip = tokio::spawn({
        let clock = clock.clone();
        async move {
            clock
                .skip_to(created + chrono::TimeDelta::seconds(36))
                .await
        }
    });
    eventually(Duration::from_secs(30), || async {
        Ok((timers_fired(&temporal, &id).await > fired_before).then_some(()))
    })
    .await
    .expect("the first threshold's timer fires while the worker is down");
    assert_eq!(
        steps(&env, ticket).await,
        ["started"],
        "nothing fires without a worker"
    );
    env.start_worker().await.unwrap();
    skip.await.unwrap().unwrap();
    assert_eq!(
        steps(&env, ticket).await,
        ["started", "threshold:response:50"],
        "the next worker fires the threshold it missed, once"
    );

    // The rest of both targets, each instant handled as it comes.
    clock
        .skip_to(created + chrono::TimeDelta::seconds(150))
        .await
        .unwrap();
    let all = eventually(Duration::from_secs(30), || async {
        let st = steps(&env, ticket).await;
        Ok(st.iter().any(|k| k == "breached:resolution").then_some(st))
    })
    .await
    .expect("the resolution phase breaches");
    let mut fired: Vec<&str> = all
        .iter()
        .map(String::as_str)
        .filter(|k| *k != "started")
        .collect();
    fired.sort_unstable();
    assert_eq!(
        fired,
        [
            "breached:resolution",
            "breached:response",
            "escalated:1",
            "escalated:2",
            "escalated:3",
            "threshold:resolution:100",
            "threshold:resolution:50",
            "threshold:resolution:75",
            "threshold:resolution:90",
            "threshold:response:100",
            "threshold:response:50",
            "threshold:response:75",
            "threshold:response:90",
        ]
    );
    let (state, level): (String, i16) =
        sqlx::query_as("SELECT sla_state, sla_escalation_level FROM tickets WHERE id = $1")
            .bind(ticket)
            .fetch_one(&env.owner)
            .await
            .unwrap();
    assert_eq!((state.as_str(), level), ("breached", 3));
    let desc = wf::wait_status(&temporal, &id, WorkflowExecutionStatus::Running).await;
    assert_eq!(
        desc.search_attributes().get(&sa::SLA_STATE),
        Some("breached".to_owned())
    );

    // People heard of it once each: the assignee of every warning and both breaches, the board
    // manager of the breaches, each escalation manager of their level.
    let tech_expected = [
        "sla.breached",
        "sla.breached",
        "sla.warning",
        "sla.warning",
        "sla.warning",
        "sla.warning",
        "sla.warning",
        "sla.warning",
    ];
    let got = eventually(Duration::from_secs(30), || async {
        let got = in_app(&env, s.technician_user_id).await;
        Ok((got.len() >= tech_expected.len()).then_some(got))
    })
    .await
    .expect("the assignee is told");
    assert_eq!(got, tech_expected);
    eventually(Duration::from_secs(30), || async {
        Ok((in_app(&env, manager).await == ["sla.breached", "sla.breached"]).then_some(()))
    })
    .await
    .expect("the board manager hears of both breaches");
    for u in &escalation {
        eventually(Duration::from_secs(30), || async {
            Ok((in_app(&env, *u).await == ["sla.escalated"]).then_some(()))
        })
        .await
        .expect("each escalation manager hears of their level once");
    }
    // And by e-mail, once per message.
    let manager_mail = eventually(Duration::from_secs(60), || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM notification_log WHERE recipient_id = $1 AND channel = 'email' AND status = 'sent'",
        )
        .bind(manager)
        .fetch_one(&env.owner)
        .await?;
        Ok((n == 2).then_some(n))
    })
    .await
    .expect("the manager's two breach e-mails are sent");
    assert_eq!(manager_mail, 2);
    let delivered = std::fs::read_dir(env.services.maildir.join("new"))
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .filter(|m| m.contains("To: manager@alpha.example") && m.contains(&ticket.to_string()))
        .count();
    assert_eq!(delivered, 2);

    env.ok(
        Method::POST,
        &format!("/v1/tickets/{ticket}/close"),
        &env.a.key,
        &json!({}),
    )
    .await;
    let done = wf::wait_status(&temporal, &id, WorkflowExecutionStatus::Completed).await;
    assert_eq!(
        done.search_attributes().get(&sa::SLA_STATE),
        Some("breached".to_owned())
    );
    wf::check_replay(&temporal, &id, "ticket_sla_engine_breached_across_restart")
        .await
        .unwrap();
    // The run has ended: the API answers from the last recorded step.
    let sla = env
        .ok(
            Method::GET,
            &format!("/v1/tickets/{ticket}/sla"),
            &env.a.key,
            &json!(null),
        )
        .await;
    assert_eq!(sla["source"], "record");
    assert_eq!(sla["state"], "breached");
    assert_eq!(sla["escalation_level"], 3);
    assert_eq!(sla["response"]["met"], false);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pauses_responses_closing_and_reopening_move_the_clock() {
    let env = TestEnv::start_with(Parts::ALL, |c| {
        c.sla_reopen_window = Duration::from_secs(3600)
    })
    .await
    .unwrap();
    let s = env.a.seeded.clone();
    policy(&env, 60, 240).await;
    let tech = env
        .a
        .key_for(&env.owner, "technician", Some(s.technician_user_id))
        .await
        .unwrap();
    let temporal = env.temporal().await.unwrap();

    // Created already waiting (a pausing status): paused from the start.
    let ticket = create_ticket(
        &env,
        json!({ "title": "Waiting", "priority_id": s.priority_ids[0], "status_id": s.status_waiting }),
    )
    .await;
    let id = sla_workflow_id(s.tenant_id, ticket);
    wait_column(&env, ticket, "sla_state", "paused", "paused from the start").await;
    assert!(
        env.ticket_column(ticket, "sla_paused_since")
            .await
            .is_some()
    );

    // Resumed, then answered by the technician in public: the response phase is met.
    env.ok(
        Method::POST,
        &format!("/v1/tickets/{ticket}/status"),
        &env.a.key,
        &json!({ "status_id": s.status_in_progress }),
    )
    .await;
    wait_column(&env, ticket, "sla_state", "on_track", "resumed").await;
    env.ok(
        Method::POST,
        &format!("/v1/tickets/{ticket}/comments"),
        &tech,
        &json!({ "body": "On it" }),
    )
    .await;
    wait_column(&env, ticket, "sla_response_met", "true", "response met").await;

    // Closed: met. Reopened within the window: the same run counts on.
    env.ok(
        Method::POST,
        &format!("/v1/tickets/{ticket}/close"),
        &env.a.key,
        &json!({}),
    )
    .await;
    wait_column(&env, ticket, "sla_state", "met", "met on close").await;
    env.ok(
        Method::POST,
        &format!("/v1/tickets/{ticket}/status"),
        &env.a.key,
        &json!({ "status_id": s.status_in_progress }),
    )
    .await;
    wait_column(&env, ticket, "sla_state", "on_track", "reopened").await;
    assert!(
        env.ticket_column(ticket, "sla_resolution_met")
            .await
            .is_none()
    );
    let st = steps(&env, ticket).await;
    let kinds: Vec<&str> = st.iter().map(|k| k.split(':').next().unwrap()).collect();
    assert_eq!(
        kinds,
        ["started", "resumed", "responded", "resolved", "reopened"],
        "{st:?}"
    );
    assert_eq!(wf::run_count(&temporal, &id).await.unwrap(), 1);
    let status = wf::query(&temporal, &id).await.unwrap();
    let tracker = status.tracker.expect("the query carries the clock");
    assert!(!tracker.closed);
    assert!(tracker.response.stopped_at.is_some());
    wf::check_replay(
        &temporal,
        &id,
        "ticket_sla_local_pause_respond_close_reopen",
    )
    .await
    .unwrap();

    // Over the API: live from the clock, with business minutes computed now.
    let sla = env
        .ok(
            Method::GET,
            &format!("/v1/tickets/{ticket}/sla"),
            &tech,
            &json!(null),
        )
        .await;
    assert_eq!(sla["source"], "workflow");
    assert_eq!(sla["state"], "on_track");
    assert_eq!(sla["response"]["met"], true);
    assert_eq!(sla["resolution"]["target_minutes"], 240);
    assert!(sla["resolution"]["remaining_minutes"].as_i64().unwrap() <= 240);
    let audit = env
        .ok(
            Method::GET,
            &format!("/v1/tickets/{ticket}/sla/audit"),
            &tech,
            &json!(null),
        )
        .await;
    assert_eq!(audit.as_array().unwrap().len(), 5);
    assert_eq!(audit[2]["event"], "responded");
    // Another tenant's ticket does not exist; a client may not read SLA internals.
    let r = env
        .req(
            Method::GET,
            &format!("/v1/tickets/{ticket}/sla"),
            &env.b.key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND);
    let client = env.a.key_with_role(&env.owner, "client").await.unwrap();
    let r = env
        .req(
            Method::GET,
            &format!("/v1/tickets/{ticket}/sla/audit"),
            &client,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_paused_and_resumed_many_times_continues_as_new_with_its_clock() {
    let env = TestEnv::start_with(Parts::ALL, |c| c.sla_continue_after_events = 3)
        .await
        .unwrap();
    let s = env.a.seeded.clone();
    policy(&env, 60, 240).await;
    let ticket = create_ticket(
        &env,
        json!({ "title": "Flapping", "priority_id": s.priority_ids[0] }),
    )
    .await;
    let id = sla_workflow_id(s.tenant_id, ticket);
    wait_column(&env, ticket, "sla_state", "on_track", "started").await;
    for round in 0..4 {
        for (status, state) in [
            (s.status_waiting, "paused"),
            (s.status_in_progress, "on_track"),
        ] {
            env.ok(
                Method::POST,
                &format!("/v1/tickets/{ticket}/status"),
                &env.a.key,
                &json!({ "status_id": status }),
            )
            .await;
            wait_column(&env, ticket, "sla_state", state, &format!("round {round}")).await;
        }
    }
    let temporal = env.temporal().await.unwrap();
    let runs = eventually(Duration::from_secs(30), || async {
        let n = wf::run_count(&temporal, &id).await?;
        Ok((n >= 3).then_some(n))
    })
    .await
    .expect("the run continued as new");
    assert!(runs >= 3, "{runs} runs for 9 events at 3 per run");
    let status = wf::query(&temporal, &id).await.unwrap();
    assert_eq!(
        status.events_applied, 9,
        "created + 8 status changes, counted across runs"
    );
    let tracker = status.tracker.unwrap();
    assert!(!tracker.paused());
    assert!(tracker.response.due_at.is_some());
    let kinds: Vec<String> = steps(&env, ticket)
        .await
        .iter()
        .map(|k| k.split(':').next().unwrap().to_owned())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "paused").count(), 4);
    assert_eq!(kinds.iter().filter(|k| *k == "resumed").count(), 4);
    assert_eq!(
        kinds.iter().filter(|k| *k == "started").count(),
        1,
        "a continued run does not start again"
    );
    wf::check_replay(&temporal, &id, "ticket_sla_local_continued_as_new")
        .await
        .unwrap();
    env.shutdown().await;
}
