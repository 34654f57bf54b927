//! Automation runs end to end against the real services: a published automation triggered by
//! a real API call runs as `automation:{tenant}:{automation}:{event}` on the worker, acting
//! through the real store as its owner; its trace in the read model equals the dry run's for
//! the same event; a wait for an event is fed by a real ticket update and times out without
//! one; a run waiting while version 2 is published finishes on version 1; a worker killed
//! mid-run loses and repeats no action; a run's saved history replays; another tenant's events
//! trigger nothing and its keys read nothing; each example from the catalogue runs as its
//! trigger starts it; messages reach users and contacts at the SMTP sink; a webhook reaches a
//! private address only once the tenant allows its network.

use psa_domain::events::Envelope;
use psa_domain::ids::automation_run;
use psa_tests::{Parts, TestEnv, eventually, wf};
use psa_workflows::search_attributes as sa;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use std::time::Duration;
use temporalio_client::WorkflowExecutionStatus;
use uuid::Uuid;

const EXAMPLE_ACKNOWLEDGE: &str =
    include_str!("../../../domain/src/automations/examples/acknowledge_p1.json");

async fn send(
    env: &TestEnv,
    key: &str,
    method: Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = env.req(method, path, key).json(&body).send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Creates, publishes and enables an automation of tenant A; its ID.
async fn publish(env: &TestEnv, definition: &Value) -> Uuid {
    let key = &env.a.key;
    let name = definition["name"].as_str().unwrap_or("Automation");
    let a = env
        .ok(
            Method::POST,
            "/v1/automations",
            key,
            &json!({"name": name, "draft": definition}),
        )
        .await;
    let id = a["id"].as_str().unwrap().to_owned();
    let (status, body) = send(
        env,
        key,
        Method::POST,
        &format!("/v1/automations/{id}/versions"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    env.ok(
        Method::POST,
        &format!("/v1/automations/{id}/enable"),
        key,
        &json!({}),
    )
    .await;
    id.parse().unwrap()
}

/// Publishes `definition` as the automation's next version.
async fn publish_again(env: &TestEnv, id: Uuid, definition: &Value) {
    let (status, body) = send(
        env,
        &env.a.key,
        Method::POST,
        &format!("/v1/automations/{id}/versions"),
        json!({"definition": definition}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn ticket(env: &TestEnv, key: &str, title: &str, priority: Uuid) -> Uuid {
    let t = env
        .ok(
            Method::POST,
            "/v1/tickets",
            key,
            &json!({"title": title, "priority_id": priority}),
        )
        .await;
    t["id"].as_str().unwrap().parse().unwrap()
}

/// The automation's runs, as the API lists them.
async fn runs(env: &TestEnv, key: &str, automation: Uuid) -> Vec<Value> {
    let page = env
        .ok(
            Method::GET,
            &format!("/v1/automations/{automation}/runs"),
            key,
            &Value::Null,
        )
        .await;
    page["items"].as_array().cloned().unwrap_or_default()
}

/// Waits until the automation has `n` runs and all have ended; their details, oldest first.
async fn ended_runs(env: &TestEnv, automation: Uuid, n: usize) -> Vec<Value> {
    let key = env.a.key.clone();
    let list = eventually(Duration::from_secs(60), || async {
        let list = runs(env, &key, automation).await;
        let ended = list
            .iter()
            .all(|r| ["completed", "failed"].contains(&r["status"].as_str().unwrap_or("")));
        Ok((list.len() == n && ended).then_some(list))
    })
    .await
    .unwrap_or_else(|_| panic!("{automation} never had {n} ended runs"));
    let mut out = Vec::new();
    for r in list.iter().rev() {
        let id = r["id"].as_str().unwrap();
        out.push(detail(env, id).await);
    }
    out
}

/// One run with its trace, as the API answers it.
async fn detail(env: &TestEnv, id: &str) -> Value {
    env.ok(
        Method::GET,
        &format!("/v1/automation-runs/{id}"),
        &env.a.key,
        &Value::Null,
    )
    .await
}

async fn comments(env: &TestEnv, ticket: Uuid) -> Vec<(String, bool)> {
    sqlx::query_as(
        "SELECT body, is_internal FROM ticket_comments WHERE ticket_id = $1 ORDER BY created_at",
    )
    .bind(ticket)
    .fetch_all(&env.owner)
    .await
    .unwrap()
}

/// A trace without its instants: what a dry run and a live run must agree on.
fn timeless(trace: &Value) -> Vec<Value> {
    trace
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.as_object_mut().unwrap().remove("at");
            e
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_runs_on_a_real_ticket_as_the_dry_run_said_once_per_event() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let s = env.a.seeded.clone();
    let temporal = env.temporal().await.unwrap();
    let definition: Value = serde_json::from_str(EXAMPLE_ACKNOWLEDGE).unwrap();
    let automation = publish(&env, &definition).await;

    // A P1 ticket triggers it; a P2 ticket does not (the condition); another tenant's P1 ticket
    // does not either.
    let p1 = ticket(&env, &env.a.key, "Server down", s.priority_ids[0]).await;
    let p2 = ticket(&env, &env.a.key, "Mouse squeaks", s.priority_ids[1]).await;
    let other = ticket(&env, &env.b.key, "Elsewhere", env.b.seeded.priority_ids[0]).await;
    let done = ended_runs(&env, automation, 1).await;
    let run = &done[0];
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["version"], 1);
    let number = env.ticket_column(p1, "number").await.unwrap();
    assert_eq!(
        comments(&env, p1).await,
        [(
            format!("We received ticket #{number} and are on it."),
            false
        )]
    );
    assert_eq!(
        env.ticket_column(p1, "status_id").await.unwrap(),
        s.status_in_progress.to_string()
    );
    assert!(comments(&env, p2).await.is_empty());
    assert!(comments(&env, other).await.is_empty());

    // The owner (the user of the key that made the automation) hears how the run ended.
    let finished = crate::mail::last_event(&env, "automation.run_completed").await;
    let m = crate::mail::mail_for(&env, finished, s.admin_user_id, "the run's end").await;
    assert!(
        m.contains("Subject: Automation completed: Acknowledge P1 tickets"),
        "{m}"
    );

    // The run is the trigger event's business key, with its search attributes.
    let event_id: Uuid = run["trigger_event"]["event_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let workflow_id = automation_run::workflow_id(s.tenant_id, automation, event_id);
    assert_eq!(run["workflow_id"], workflow_id.as_str());
    let desc = wf::describe(&temporal, &workflow_id).await.unwrap();
    let attrs = desc.search_attributes();
    assert_eq!(attrs.get(&sa::AUTOMATION_ID), Some(automation.to_string()));
    assert_eq!(attrs.get(&sa::AUTOMATION_VERSION), Some(1));

    // The dry run of the same event shows the same trace.
    let (status, dry) = send(
        &env,
        &env.a.key,
        Method::POST,
        "/v1/automations/dry-run",
        json!({"definition": definition, "event": run["trigger_event"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(timeless(&dry["trace"]), timeless(&run["trace"]));
    assert_eq!(dry["status"], run["status"]);

    // The event handled again (a redelivery after a crash) starts nothing new.
    let handler = psa_worker::subscribers::AutomationHandler::new(
        PgPoolOptions::new()
            .connect(&env.app_database_url)
            .await
            .unwrap(),
        temporal.clone(),
        env.task_queue.clone(),
    );
    let envelope: Envelope = serde_json::from_value(run["trigger_event"].clone()).unwrap();
    psa_worker::bus::Handler::handle(&handler, &envelope)
        .await
        .unwrap();
    assert_eq!(wf::run_count(&temporal, &workflow_id).await.unwrap(), 1);
    assert_eq!(runs(&env, &env.a.key, automation).await.len(), 1);
    assert_eq!(
        comments(&env, p1).await.len(),
        1,
        "the comment is added once"
    );

    // Tenant B can neither list nor read A's runs.
    let run_id = run["id"].as_str().unwrap();
    let (status, _) = send(
        &env,
        &env.b.key,
        Method::GET,
        &format!("/v1/automation-runs/{run_id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(
        &env,
        &env.b.key,
        Method::GET,
        &format!("/v1/automations/{automation}/runs"),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    env.shutdown().await;
}

/// Waits for the ticket's update; comments with the version's tag.
fn follow_up(tag: &str, timeout: &str) -> Value {
    json!({
        "name": "Follow up",
        "trigger": {"event": "ticket.created"},
        "steps": [
            {"id": "hold", "type": "wait_for_event", "event": "ticket.updated",
             "where": "incoming.payload.ticket.ticket_id == event.payload.ticket.ticket_id",
             "timeout": timeout, "save_as": "change"},
            {"id": "note", "type": "action", "action": "tickets.add_comment",
             "input": {"ticket_id": "event.payload.ticket.ticket_id",
                       "body": format!("'{tag}: ' + (has(vars.change) ? vars.change.payload.ticket.title : 'no change')")}}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_run_takes_a_real_update_on_its_own_version_and_another_times_out() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let s = env.a.seeded.clone();
    let temporal = env.temporal().await.unwrap();
    let automation = publish(&env, &follow_up("v1", "PT5M")).await;
    let watched = ticket(&env, &env.a.key, "Printer", s.priority_ids[2]).await;

    // The run waits for the update, registered in the index.
    let key = env.a.key.clone();
    let waiting = eventually(Duration::from_secs(60), || async {
        let list = runs(&env, &key, automation).await;
        Ok(list
            .first()
            .filter(|r| r["status"] == "running" && r["current_step"] == "hold")
            .cloned())
    })
    .await
    .expect("the run waits in its wait_for_event step");
    let workflow_id = waiting["workflow_id"].as_str().unwrap().to_owned();
    let registered: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM automation_waits WHERE workflow_id = $1 AND event_type = 'ticket.updated'",
    )
    .bind(&workflow_id)
    .fetch_one(&env.owner)
    .await
    .unwrap();
    assert_eq!(registered, 1);

    // Version 2 is published meanwhile; another ticket's update is not the one it waits for.
    publish_again(&env, automation, &follow_up("v2", "PT5M")).await;
    let unrelated = ticket(&env, &env.a.key, "Unrelated", s.priority_ids[2]).await;
    env.ok(
        Method::PATCH,
        &format!("/v1/tickets/{unrelated}"),
        &key,
        &json!({"title": "Still unrelated"}),
    )
    .await;
    env.ok(
        Method::PATCH,
        &format!("/v1/tickets/{watched}"),
        &key,
        &json!({"title": "Printer on fire"}),
    )
    .await;
    wf::wait_status(&temporal, &workflow_id, WorkflowExecutionStatus::Completed).await;
    let run = detail(&env, waiting["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(
        run["version"], 1,
        "a run stays on the version it started with"
    );
    assert_eq!(run["trace"][0]["outcome"], "ok", "{run}");
    assert_eq!(
        comments(&env, watched).await,
        [("v1: Printer on fire".to_owned(), true)]
    );
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM automation_waits WHERE workflow_id = $1")
            .bind(&workflow_id)
            .fetch_one(&env.owner)
            .await
            .unwrap();
    assert_eq!(left, 0, "an ended wait leaves the index");
    wf::check_replay(&temporal, &workflow_id, "automation_run_wait_for_event")
        .await
        .unwrap();

    // The unrelated ticket's run (version 2, started by its creation) times out.
    publish_again(&env, automation, &follow_up("v3", "PT2S")).await;
    let quiet = ticket(&env, &env.a.key, "Quiet", s.priority_ids[2]).await;
    eventually(Duration::from_secs(60), || async {
        Ok((comments(&env, quiet).await == [("v3: no change".to_owned(), true)]).then_some(()))
    })
    .await
    .expect("the quiet ticket's run times out and goes on");
    let all = runs(&env, &key, automation).await;
    let quiet_run = all
        .iter()
        .find(|r| r["version"] == 3)
        .expect("a version 3 run");
    let quiet_run = detail(&env, quiet_run["id"].as_str().unwrap()).await;
    assert_eq!(quiet_run["trace"][0]["outcome"], "timeout", "{quiet_run}");
    env.shutdown().await;
}

/// Every step kind in one definition, for the replay test and the kill test.
fn every_step(callee: Uuid) -> Value {
    json!({
        "name": "Every step",
        "trigger": {"manual": {}},
        "steps": [
            {"id": "start", "type": "set", "name": "ticket", "value": "event.payload.ticket_id"},
            {"id": "first", "type": "action", "action": "tickets.add_comment",
             "input": {"ticket_id": "vars.ticket", "body": "'first'"}},
            {"id": "pause", "type": "wait", "duration": "PT3S"},
            {"id": "each", "type": "for_each", "items": "[1, 2]", "as": "n", "steps": [
                {"id": "guard", "type": "try", "steps": [
                    {"id": "numbered", "type": "action", "action": "tickets.add_comment",
                     "input": {"ticket_id": "vars.ticket", "body": "'item ' + string(vars.n)"}}
                ], "catch": [{"id": "noted", "type": "set", "name": "failed", "value": "true"}]}
            ]},
            {"id": "check", "type": "if", "condition": "has(vars.failed)",
             "then": [{"id": "bad", "type": "return", "value": "'failed'"}]},
            {"id": "hold", "type": "wait_for_event", "event": "ticket.closed",
             "where": "incoming.payload.ticket.ticket_id == vars.ticket", "timeout": "PT1S"},
            {"id": "delegate", "type": "call", "automation": callee.to_string(),
             "input": {"ticket_id": "vars.ticket"}, "save_as": "called"},
            {"id": "done", "type": "return", "value": "vars.called"}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_run_repeats_and_loses_no_action_and_the_history_replays() {
    let mut env = TestEnv::start(Parts::ALL).await.unwrap();
    let s = env.a.seeded.clone();
    let temporal = env.temporal().await.unwrap();
    let callee = publish(
        &env,
        &json!({
            "name": "Callee", "trigger": {"manual": {}},
            "steps": [
                {"id": "last", "type": "action", "action": "tickets.add_comment",
                 "input": {"ticket_id": "event.payload.ticket_id", "body": "'called'"}},
                {"id": "answer", "type": "return", "value": "{'ok': true}"}
            ]
        }),
    )
    .await;
    let automation = publish(&env, &every_step(callee)).await;
    let target = ticket(&env, &env.a.key, "Many steps", s.priority_ids[3]).await;

    // A manual run, asked for twice with one key: one run.
    let path = format!("/v1/automations/{automation}/runs");
    let start = |env: &TestEnv| {
        env.req(Method::POST, &path, &env.a.key)
            .header("Idempotency-Key", "once")
            .json(&json!({"input": {"ticket_id": target}}))
            .send()
    };
    let first = start(&env).await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: Value = first.json().await.unwrap();
    let again: Value = start(&env).await.unwrap().json().await.unwrap();
    assert_eq!(first["id"], again["id"]);
    let workflow_id = first["workflow_id"].as_str().unwrap().to_owned();

    // The worker dies while the run sleeps in `pause`, after its first action.
    eventually(Duration::from_secs(60), || async {
        let run = detail(&env, first["id"].as_str().unwrap()).await;
        Ok((run["current_step"] == "pause").then_some(()))
    })
    .await
    .expect("the run sleeps in its wait step");
    env.kill_worker().await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    env.start_worker().await.unwrap();

    wf::wait_status(&temporal, &workflow_id, WorkflowExecutionStatus::Completed).await;
    let run = detail(&env, first["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["result"], json!({"ok": true}));
    let bodies: Vec<String> = comments(&env, target)
        .await
        .into_iter()
        .map(|(b, _)| b)
        .collect();
    assert_eq!(
        bodies,
        ["first", "item 1", "item 2", "called"],
        "each action once, in order"
    );
    let kinds: Vec<&str> = run["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for kind in [
        "set",
        "action",
        "wait",
        "for_each",
        "try",
        "if",
        "wait_for_event",
        "call",
        "return",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    wf::check_replay(&temporal, &workflow_id, "automation_run_every_step")
        .await
        .unwrap();
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_run_continues_as_new_with_its_state_and_keeps_its_whole_trace() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let temporal = env.temporal().await.unwrap();
    let items: Vec<u32> = (0..110).collect();
    let automation = publish(
        &env,
        &json!({
            "name": "Long", "trigger": {"manual": {}},
            "steps": [
                {"id": "zero", "type": "set", "name": "total", "value": "0"},
                {"id": "each", "type": "for_each", "items": serde_json::to_string(&items).unwrap(),
                 "as": "n", "max_items": 200, "steps": [
                    {"id": "add", "type": "set", "name": "total", "value": "vars.total + vars.n"},
                    {"id": "last", "type": "set", "name": "last", "value": "vars.n"},
                    {"id": "tick", "type": "wait", "duration": "PT0.01S"}
                ]},
                {"id": "sum", "type": "return", "value": "vars.total"}
            ]
        }),
    )
    .await;
    let started = env
        .ok(
            Method::POST,
            &format!("/v1/automations/{automation}/runs"),
            &env.a.key,
            &json!({}),
        )
        .await;
    assert_eq!(started["status"], "pending");
    let workflow_id = started["workflow_id"].as_str().unwrap().to_owned();
    let run = &ended_runs(&env, automation, 1).await[0];
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["result"], json!(items.iter().sum::<u32>()));
    assert_eq!(run["vars"]["last"], 109);
    assert_eq!(run["steps_executed"], 333);
    let trace = run["trace"].as_array().unwrap();
    assert_eq!(trace.len(), 333, "the whole trace, across runs");
    assert_eq!(trace[331]["step"], "tick");
    assert_eq!(trace[331]["iterations"], json!([109]));
    assert!(
        wf::run_count(&temporal, &workflow_id).await.unwrap() >= 2,
        "the run continued as new past 100 effects"
    );
    wf::check_replay(&temporal, &workflow_id, "automation_run_continued_as_new")
        .await
        .unwrap();
    env.shutdown().await;
}

const EXAMPLE_WEEKLY: &str =
    include_str!("../../../domain/src/automations/examples/weekly_stale_cleanup.json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_weekly_example_runs_from_its_temporal_schedule_kept_with_the_automation() {
    use temporalio_client::schedules::{ScheduleError, ScheduleOverlapPolicy};
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let s = env.a.seeded.clone();
    let key = env.a.key.clone();
    let temporal = env.temporal().await.unwrap();
    // Two tickets waiting on their client: one untouched for 40 days, one touched today.
    let mut waiting = Vec::new();
    for title in ["Stale printer", "Fresh printer"] {
        let t = ticket(&env, &key, title, s.priority_ids[2]).await;
        env.ok(
            Method::POST,
            &format!("/v1/tickets/{t}/status"),
            &key,
            &json!({"status_id": s.status_waiting}),
        )
        .await;
        waiting.push(t);
    }
    let (stale, fresh) = (waiting[0], waiting[1]);
    sqlx::query("UPDATE tickets SET updated_at = now() - interval '40 days' WHERE id = $1")
        .bind(stale)
        .execute(&env.owner)
        .await
        .unwrap();
    let scheduled: Value = serde_json::from_str(EXAMPLE_WEEKLY).unwrap();
    let automation = publish(&env, &scheduled).await;
    let handle = temporal.get_schedule_handle(automation_run::schedule_id(s.tenant_id, automation));

    // The worker writes the Schedule: running, on its own calendar.
    let described = eventually(Duration::from_secs(30), || async {
        Ok(handle.describe(Default::default()).await.ok())
    })
    .await
    .expect("the automation's Schedule exists");
    assert!(!described.paused());
    let temporalio_client::schedules::ScheduleDescriptionAction::StartWorkflow(action) =
        described.action()
    else {
        panic!("the Schedule starts a workflow");
    };
    assert_eq!(
        action.workflow_id(),
        automation_run::scheduled_workflow_id(s.tenant_id, automation)
    );
    assert_eq!(action.workflow_type(), automation_run::WORKFLOW_TYPE);

    // Triggered now (as on a Monday morning), it starts a run that takes the Schedule's
    // instant as its event's: the stale ticket is told and closed, the fresh one left alone.
    handle
        .trigger(ScheduleOverlapPolicy::AllowAll, Default::default())
        .await
        .unwrap();
    let run = &ended_runs(&env, automation, 1).await[0];
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["result"], json!({"closed": 1}), "{run}");
    assert_eq!(run["trigger_event"]["type"], "automation.scheduled");
    assert!(run["workflow_id"].as_str().unwrap().starts_with(
        &automation_run::scheduled_workflow_id(s.tenant_id, automation)
    ));
    assert_eq!(
        env.ticket_column(stale, "status_id").await.unwrap(),
        s.status_closed.to_string()
    );
    assert_eq!(
        env.ticket_column(fresh, "status_id").await.unwrap(),
        s.status_waiting.to_string()
    );
    let notes = comments(&env, stale).await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].0.starts_with("Closing this ticket after 30 days"));
    assert!(!notes[0].1, "the note is public");
    assert!(comments(&env, fresh).await.is_empty());

    // Disabled: paused. A version triggered otherwise: deleted.
    env.ok(
        Method::POST,
        &format!("/v1/automations/{automation}/disable"),
        &env.a.key,
        &json!({}),
    )
    .await;
    eventually(Duration::from_secs(30), || async {
        Ok(handle
            .describe(Default::default())
            .await
            .ok()
            .filter(|d| d.paused()))
    })
    .await
    .expect("the Schedule pauses with the automation");
    let mut manual = scheduled.clone();
    manual["trigger"] = json!({"manual": {}});
    publish_again(&env, automation, &manual).await;
    eventually(Duration::from_secs(30), || async {
        Ok(match handle.describe(Default::default()).await {
            Err(ScheduleError::Rpc(s)) if s.code() == tonic::Code::NotFound => Some(()),
            _ => None,
        })
    })
    .await
    .expect("the Schedule goes with the schedule trigger");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_stops_before_its_next_step() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let s = env.a.seeded.clone();
    let temporal = env.temporal().await.unwrap();
    let target = ticket(&env, &env.a.key, "Cancel me", s.priority_ids[3]).await;
    let automation = publish(
        &env,
        &json!({
            "name": "Slow", "trigger": {"manual": {}},
            "steps": [
                {"id": "nap", "type": "wait", "duration": "PT1H"},
                {"id": "late", "type": "action", "action": "tickets.add_comment",
                 "input": {"ticket_id": "event.payload.ticket_id", "body": "'too late'"}}
            ]
        }),
    )
    .await;
    let key = env.a.key.clone();
    let run = env
        .ok(
            Method::POST,
            &format!("/v1/automations/{automation}/runs"),
            &key,
            &json!({"input": {"ticket_id": target}}),
        )
        .await;
    let id = run["id"].as_str().unwrap().to_owned();
    eventually(Duration::from_secs(60), || async {
        let r = detail(&env, &id).await;
        Ok((r["current_step"] == "nap").then_some(()))
    })
    .await
    .expect("the run sleeps");
    // Another tenant cannot cancel it; its own admin can.
    let (status, _) = send(
        &env,
        &env.b.key,
        Method::POST,
        &format!("/v1/automation-runs/{id}/cancel"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = send(
        &env,
        &key,
        Method::POST,
        &format!("/v1/automation-runs/{id}/cancel"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    wf::wait_status(
        &temporal,
        run["workflow_id"].as_str().unwrap(),
        WorkflowExecutionStatus::Completed,
    )
    .await;
    let done = detail(&env, &id).await;
    assert_eq!(done["status"], "cancelled", "{done}");
    assert!(
        comments(&env, target).await.is_empty(),
        "nothing after the cancel"
    );
    let (status, _) = send(
        &env,
        &key,
        Method::POST,
        &format!("/v1/automation-runs/{id}/cancel"),
        json!({}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an ended run cannot be cancelled"
    );
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_is_retried_from_its_failed_step_keeping_what_went_before() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let s = env.a.seeded.clone();
    let key = env.a.key.clone();
    let target = ticket(&env, &key, "Escalate me", s.priority_ids[0]).await;
    let automation = publish(
        &env,
        &json!({
            "name": "Escalate", "trigger": {"manual": {}},
            "steps": [
                {"id": "before", "type": "action", "action": "tickets.add_comment",
                 "input": {"ticket_id": "event.payload.ticket_id", "body": "'before'"}},
                {"id": "escalate", "type": "action", "action": "tickets.change_status",
                 "input": {"ticket_id": "event.payload.ticket_id", "status": "'Escalated'"}},
                {"id": "after", "type": "action", "action": "tickets.add_comment",
                 "input": {"ticket_id": "event.payload.ticket_id", "body": "'after'"}}
            ]
        }),
    )
    .await;
    env.ok(
        Method::POST,
        &format!("/v1/automations/{automation}/runs"),
        &key,
        &json!({"input": {"ticket_id": target}}),
    )
    .await;
    // No status is called "Escalated": the run fails at that step, as its owner is told.
    let failed = ended_runs(&env, automation, 1).await.remove(0);
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["error"]["step"], "escalate", "{failed}");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Escalated"),
        "{failed}"
    );
    let told = crate::mail::last_event(&env, "automation.run_failed").await;
    let m = crate::mail::mail_for(&env, told, s.admin_user_id, "the failure").await;
    assert!(m.contains("Subject: Automation failed: Escalate"), "{m}");

    // A completed run cannot be retried; the failed one can, once its cause is fixed.
    let failed_id = failed["id"].as_str().unwrap();
    env.ok(
        Method::POST,
        "/v1/statuses",
        &key,
        &json!({"name": "Escalated", "position": 9}),
    )
    .await;
    let (status, retry) = send(
        &env,
        &key,
        Method::POST,
        &format!("/v1/automation-runs/{failed_id}/retry"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{retry}");
    assert!(
        retry["workflow_id"].as_str().unwrap().ends_with(":retry-1"),
        "{retry}"
    );
    let both = ended_runs(&env, automation, 2).await;
    let retried = both.iter().find(|r| r["id"] == retry["id"]).unwrap();
    assert_eq!(retried["status"], "completed", "{retried}");
    let bodies: Vec<String> = comments(&env, target)
        .await
        .into_iter()
        .map(|(b, _)| b)
        .collect();
    assert_eq!(
        bodies,
        ["before", "after"],
        "the step before the failure is not done again"
    );
    let steps: Vec<&str> = retried["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["escalate", "after"],
        "the retry starts at the failed step"
    );
    let retried_id = retried["id"].as_str().unwrap();
    let (status, _) = send(
        &env,
        &key,
        Method::POST,
        &format!("/v1/automation-runs/{retried_id}/retry"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_actions_act_through_the_store_as_the_owner_and_refusals_say_why() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let s = env.a.seeded.clone();
    let key = env.a.key.clone();
    let target = env
        .ok(
            Method::POST,
            "/v1/tickets",
            &key,
            &json!({"title": "Billable work", "client_id": s.client_id}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .parse::<Uuid>()
        .unwrap();
    let automation = publish(
        &env,
        &json!({
            "name": "Book the work", "trigger": {"manual": {}},
            "steps": [
                {"id": "client", "type": "action", "action": "clients.find",
                 "input": {"name": "'acme'"}, "save_as": "clients"},
                {"id": "people", "type": "action", "action": "contacts.find",
                 "input": {"client_id": "vars.clients.clients[0].client_id"}, "save_as": "contacts"},
                {"id": "time", "type": "action", "action": "time_entries.create",
                 "input": {"user_id": "event.payload.tech", "work_date": "'2026-11-30'", "minutes": 45,
                           "ticket_id": "event.payload.ticket_id", "service_id": "event.payload.service",
                           "notes": "'Booked by an automation'"}, "save_as": "time"},
                {"id": "visit", "type": "action", "action": "schedule_entries.create",
                 "input": {"title": "'Site visit'", "assignees": "[event.payload.tech]",
                           "start": "'2027-03-01T10:00:00'", "timezone": "'Europe/London'",
                           "duration_minutes": 60, "ticket_id": "event.payload.ticket_id"},
                 "save_as": "visit"},
                {"id": "tell", "type": "action", "action": "notifications.send_contact_email",
                 "input": {"contact_id": "vars.contacts.contacts[0].contact_id",
                           "subject": "'Site visit booked'",
                           "body": "'We will visit on 1 March at 10:00.'"}, "save_as": "told"},
                {"id": "stranger", "type": "action", "action": "tickets.assign",
                 "input": {"ticket_id": "event.payload.ticket_id", "user_id": "'0190d9a0-0000-7000-8000-000000000000'"},
                 "on_error": "continue"},
                {"id": "out", "type": "return",
                 "value": "{'client': vars.clients.clients[0].name, 'contacts': size(vars.contacts.contacts)}"}
            ]
        }),
    )
    .await;
    let input = json!({"tech": s.technician_user_id, "ticket_id": target, "service": s.service_id});
    env.ok(
        Method::POST,
        &format!("/v1/automations/{automation}/runs"),
        &key,
        &json!({"input": input}),
    )
    .await;
    let run = ended_runs(&env, automation, 1).await.remove(0);
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(
        run["result"],
        json!({"client": "Acme Corp", "contacts": 1}),
        "{run}"
    );
    let minutes: i64 =
        sqlx::query_scalar("SELECT minutes::bigint FROM time_entries WHERE ticket_id = $1")
            .bind(target)
            .fetch_one(&env.owner)
            .await
            .unwrap();
    assert_eq!(minutes, 45);
    let entry: Uuid = run["vars"]["visit"]["entry_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let title: String = sqlx::query_scalar("SELECT title FROM schedule_entries WHERE id = $1")
        .bind(entry)
        .fetch_one(&env.owner)
        .await
        .unwrap();
    assert_eq!(title, "Site visit");
    let refused = run["trace"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["step"] == "stranger")
        .unwrap();
    assert_eq!(refused["outcome"], "failed", "{refused}");
    assert_eq!(refused["attempts"], 1, "a refusal is not retried");
    // The client's contact gets the e-mail at its own address.
    let told: Uuid = run["vars"]["told"]["notification_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let m = crate::mail::mail_for(&env, told, s.contact_id, "the contact's e-mail").await;
    assert!(m.contains("Subject: Site visit booked"), "{m}");
    assert!(m.contains("To: dana@acme.example"), "{m}");
    assert!(m.contains("We will visit on 1 March at 10:00."), "{m}");
    env.shutdown().await;
}

const EXAMPLE_ESCALATE: &str =
    include_str!("../../../domain/src/automations/examples/escalate_without_reply.json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_escalation_example_waits_business_hours_then_reassigns_and_mails_the_lead() {
    let env = TestEnv::start_time_skipping(Parts::ALL).await.unwrap();
    let s = env.a.seeded.clone();
    let key = env.a.key.clone();
    let clock = env.clock();
    let hours: Vec<Value> = (1..=5)
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "17:00"}))
        .collect();
    let schedule = env
        .ok(
            Method::POST,
            "/v1/sla/schedules",
            &key,
            &json!({"name": "Office", "timezone": "Europe/London", "hours": hours}),
        )
        .await;
    // The example with this tenant's lead (the technician) and office hours.
    let definition: Value = serde_json::from_str(
        &EXAMPLE_ESCALATE
            .replace(
                "0193c1d0-0000-7000-8000-00000000beef",
                &s.technician_user_id.to_string(),
            )
            .replace(
                "0193c1d0-0000-7000-8000-00000000cafe",
                schedule["id"].as_str().unwrap(),
            ),
    )
    .unwrap();
    let automation = publish(&env, &definition).await;
    let unanswered = ticket(&env, &key, "Nobody answers", s.priority_ids[1]).await;
    let run = eventually(Duration::from_secs(60), || async {
        let list = runs(&env, &key, automation).await;
        Ok(list
            .first()
            .filter(|r| r["current_step"] == "window")
            .cloned())
    })
    .await
    .expect("the run waits four business hours");

    // A week later on the server's clock the window has passed: nobody replied.
    let later = clock.now().await.unwrap() + chrono::TimeDelta::days(8);
    clock.skip_to(later).await.unwrap();
    let done = eventually(Duration::from_secs(60), || async {
        let r = detail(&env, run["id"].as_str().unwrap()).await;
        Ok((r["status"] != "running" && r["status"] != "pending").then_some(r))
    })
    .await
    .expect("the run ends");
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        env.ticket_column(unanswered, "assignee_id").await.unwrap(),
        s.technician_user_id.to_string()
    );
    let message = crate::mail::last_event(&env, "automation.message").await;
    let number = env.ticket_column(unanswered, "number").await.unwrap();
    let m = crate::mail::mail_for(&env, message, s.technician_user_id, "the lead's e-mail").await;
    assert!(
        m.contains(&format!("Subject: Unanswered: #{number}")),
        "{m}"
    );
    assert!(m.contains("had no reply within 4 business hours"), "{m}");
    env.shutdown().await;
}

/// What a local webhook receiver saw: each request's `Idempotency-Key` and body.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>;

/// A webhook receiver on loopback that answers its first request 503 and later ones 200.
async fn webhook_sink() -> (std::net::SocketAddr, Seen) {
    use axum::http::{HeaderMap, StatusCode as Code};
    let seen: Seen = Default::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let log = log.clone();
            async move {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let mut log = log.lock().unwrap();
                log.push((key, body.0));
                match log.len() {
                    1 => (Code::SERVICE_UNAVAILABLE, axum::Json(json!({"busy": true}))),
                    n => (Code::OK, axum::Json(json!({"ok": true, "seen": n}))),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_reaches_a_private_address_only_once_the_tenant_allows_its_network() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let key = env.a.key.clone();
    let (addr, seen) = webhook_sink().await;
    let automation = publish(
        &env,
        &json!({
            "name": "Tell the bridge", "trigger": {"manual": {}},
            "steps": [
                {"id": "hook", "type": "action", "action": "http.request",
                 "input": {"method": "'POST'", "url": format!("'http://{addr}/hook'"),
                           "body": "{'ticket': event.payload.n}"},
                 "retry": {"max_attempts": 3, "initial_interval": "PT1S"}, "save_as": "hook"},
                {"id": "out", "type": "return", "value": "vars.hook.body"}
            ]
        }),
    )
    .await;
    let start = |n: i64| {
        let (env, key) = (&env, key.clone());
        async move {
            env.ok(
                Method::POST,
                &format!("/v1/automations/{automation}/runs"),
                &key,
                &json!({"input": {"n": n}}),
            )
            .await
        }
    };

    // Loopback is refused while the tenant allows no network: at once, without a request.
    start(1).await;
    let refused = ended_runs(&env, automation, 1).await.remove(0);
    assert_eq!(refused["status"], "failed", "{refused}");
    let step = &refused["trace"][0];
    assert_eq!(step["attempts"], 1, "{step}");
    assert_eq!(refused["error"]["step"], "hook", "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1, which is not a public address"),
        "{refused}"
    );
    assert!(seen.lock().unwrap().is_empty());

    // Settings: nonsense and "everything" are refused; loopback alone is allowed.
    for bad in [
        json!(["intranet"]),
        json!(["0.0.0.0/0"]),
        json!(["10.0.0.0/8\u{0}"]),
    ] {
        let (status, body) = send(
            &env,
            &key,
            Method::PATCH,
            "/v1/automation-settings",
            json!({"http_allowed_networks": bad}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    let saved = env
        .ok(
            Method::PATCH,
            "/v1/automation-settings",
            &key,
            &json!({"http_allowed_networks": ["127.0.0.1"]}),
        )
        .await;
    assert_eq!(saved["http_allowed_networks"], json!(["127.0.0.1/32"]));
    let other = env
        .ok(
            Method::GET,
            "/v1/automation-settings",
            &env.b.key,
            &Value::Null,
        )
        .await;
    assert_eq!(other["http_allowed_networks"], json!([]), "tenant B's own");

    // Allowed: the first answer (503) is retried, with the same key both times.
    start(2).await;
    let done = ended_runs(&env, automation, 2).await.remove(1);
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"], json!({"ok": true, "seen": 2}), "{done}");
    assert_eq!(done["trace"][0]["attempts"], 2, "{done}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0], seen[1], "one key and body for both attempts");
    assert!(
        seen[0].0.starts_with(done["workflow_id"].as_str().unwrap()),
        "{seen:?}"
    );
    assert_eq!(seen[0].1, json!({"ticket": 2}));
    env.shutdown().await;
}
