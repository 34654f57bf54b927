//! In-app notifications, end to end: a ticket event on the stream becomes exactly one
//! notification for the assignee, honouring tenant switches and user preferences.

use psa_domain::events::Envelope;
use psa_store::notifications::delivery::NotificationStore;
use psa_tests::{Parts, TestEnv, eventually, wf};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use std::time::Duration;

/// Waits up to 30 s for the caller of `key` to have any notification; returns the list.
async fn some_notifications(env: &TestEnv, key: &str, what: &str) -> Value {
    eventually(Duration::from_secs(30), || async {
        let list: Value = env
            .req(Method::GET, "/v1/notifications", key)
            .send()
            .await?
            .json()
            .await?;
        Ok((list["items"].as_array().map_or(0, Vec::len) > 0).then_some(list))
    })
    .await
    .expect(what)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assignee_gets_one_in_app_notification_per_event() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let s = &env.a.seeded;
    let tech = env
        .a
        .key_for(&env.owner, "technician", Some(s.technician_user_id))
        .await
        .unwrap();
    env.ok(
        Method::POST,
        "/v1/tickets",
        &env.a.key,
        &json!({ "title": "Printer on fire", "assignee_id": s.technician_user_id }),
    )
    .await;

    let list: Value = some_notifications(&env, &tech, "notification arrives").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["subtype"], "ticket.created");
    assert_eq!(items[0]["title"], "[#1] Ticket created: Printer on fire");
    assert!(items[0]["read_at"].is_null());

    // The admin who created it is not the assignee: nothing for them.
    let admin: Value = env
        .ok(Method::GET, "/v1/notifications", &env.a.key, &Value::Null)
        .await;
    assert_eq!(admin["items"].as_array().unwrap().len(), 0);

    // Delivered again (an at-least-once redelivery): the store adds nothing.
    let envelope: Value =
        sqlx::query_scalar("SELECT envelope FROM outbox WHERE event_type = 'ticket.created'")
            .fetch_one(&env.owner)
            .await
            .unwrap();
    let envelope: Envelope = serde_json::from_value(envelope).unwrap();
    let app = PgPoolOptions::new()
        .connect(&env.app_database_url)
        .await
        .unwrap();
    let store = NotificationStore::new(app.clone());
    assert_eq!(store.deliver_in_app(&envelope).await.unwrap(), 0);
    assert_eq!(env.count("in_app_notifications").await, 1);
    // (The e-mail workflow logs its own row, on its own time.)
    let log: Vec<(String, String)> =
        sqlx::query_as("SELECT channel, status FROM notification_log WHERE channel = 'in_app'")
            .fetch_all(&env.owner)
            .await
            .unwrap();
    assert_eq!(log, [("in_app".to_owned(), "sent".to_owned())]);

    // Read it; the unread filter then shows nothing.
    let id = items[0]["id"].as_str().unwrap();
    let read = env
        .ok(
            Method::POST,
            &format!("/v1/notifications/{id}/read"),
            &tech,
            &Value::Null,
        )
        .await;
    assert!(read["read_at"].is_string());
    let unread: Value = env
        .ok(
            Method::GET,
            "/v1/notifications?unread=true",
            &tech,
            &Value::Null,
        )
        .await;
    assert_eq!(unread["items"].as_array().unwrap().len(), 0);
    // Another user's notification is not found, not forbidden.
    let r = env
        .req(
            Method::POST,
            &format!("/v1/notifications/{id}/read"),
            &env.a.key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A key acting for no user has no notifications to read.
    let nobody = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    let r = env
        .req(Method::GET, "/v1/notifications", &nobody)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Switches: a disabled category silences its subtypes; so does a user's preference.
    let mut second = envelope.clone();
    second.event_id = uuid::Uuid::now_v7();
    sqlx::query("INSERT INTO tenant_notification_categories (tenant_id, category, enabled) VALUES ($1, 'tickets', false)")
        .bind(s.tenant_id)
        .execute(&env.owner)
        .await
        .unwrap();
    assert_eq!(store.deliver_in_app(&second).await.unwrap(), 0);
    sqlx::query("DELETE FROM tenant_notification_categories")
        .execute(&env.owner)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO user_notification_preferences (tenant_id, user_id, subtype_code, email, in_app)
         VALUES ($1, $2, 'ticket.created', true, false)",
    )
    .bind(s.tenant_id)
    .bind(s.technician_user_id)
    .execute(&env.owner)
    .await
    .unwrap();
    assert_eq!(store.deliver_in_app(&second).await.unwrap(), 0);
    sqlx::query("DELETE FROM user_notification_preferences")
        .execute(&env.owner)
        .await
        .unwrap();
    assert_eq!(store.deliver_in_app(&second).await.unwrap(), 1);

    // A tenant's own template is used, and its version recorded.
    sqlx::query(
        "INSERT INTO tenant_email_templates (tenant_id, subtype_code, subject, html, text, version)
         VALUES ($1, 'ticket.created', 'New: {{ticket.title}}', '<p>x</p>', 'x', 3)",
    )
    .bind(s.tenant_id)
    .execute(&env.owner)
    .await
    .unwrap();
    let mut third = envelope.clone();
    third.event_id = uuid::Uuid::now_v7();
    assert_eq!(store.deliver_in_app(&third).await.unwrap(), 1);
    let (title, source, version): (String, String, i32) = sqlx::query_as(
        "SELECT n.title, l.template_source, l.template_version FROM in_app_notifications n
         JOIN notification_log l ON l.event_id = n.event_id WHERE n.event_id = $1",
    )
    .bind(third.event_id)
    .fetch_one(&env.owner)
    .await
    .unwrap();
    assert_eq!(
        (title.as_str(), source.as_str(), version),
        ("New: Printer on fire", "tenant", 3)
    );
    app.close().await;
    env.shutdown().await;
}

/// Messages the SMTP sink received whose Message-ID is `message_id`.
fn received(maildir: &std::path::Path, message_id: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(maildir.join("new")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .filter(|m| {
            m.lines().any(|l| {
                l.to_ascii_lowercase().starts_with("message-id:") && l.contains(message_id)
            })
        })
        .collect()
}

async fn email_statuses(env: &TestEnv) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT status FROM notification_log WHERE channel = 'email' ORDER BY created_at",
    )
    .fetch_all(&env.owner)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assigned_technician_gets_exactly_one_email() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let s = &env.a.seeded;
    env.ok(
        Method::POST,
        "/v1/tickets",
        &env.a.key,
        &json!({ "title": "Printer on fire", "assignee_id": s.technician_user_id }),
    )
    .await;
    let event_id: uuid::Uuid =
        sqlx::query_scalar("SELECT event_id FROM outbox WHERE event_type = 'ticket.created'")
            .fetch_one(&env.owner)
            .await
            .unwrap();
    let message_id = format!("<{event_id}.{}@psa>", s.technician_user_id);
    let mail = eventually(Duration::from_secs(30), || async {
        let got = received(&env.services.maildir, &message_id);
        Ok((!got.is_empty()).then_some(got))
    })
    .await
    .expect("the e-mail arrives at the SMTP sink");
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0].contains("Subject: [#1] Ticket created: Printer on fire"),
        "{}",
        mail[0]
    );
    assert!(mail[0].contains("To: tech@alpha.example"), "{}", mail[0]);
    eventually(Duration::from_secs(10), || async {
        Ok((email_statuses(&env).await == ["sent"]).then_some(()))
    })
    .await
    .expect("logged as sent");
    let temporal = env.temporal().await.unwrap();
    let notify_id = psa_workflows::notify_email::workflow_id(s.tenant_id, event_id);
    let first_run = wf::wait_status(
        &temporal,
        &notify_id,
        temporalio_client::WorkflowExecutionStatus::Completed,
    )
    .await
    .run_id()
    .to_owned();
    wf::check_replay(
        &temporal,
        &notify_id,
        "notification_email_local_one_recipient",
    )
    .await
    .unwrap();

    // The event handled again (a redelivery or a replayed dead letter) sends nothing more.
    let handler = psa_worker::subscribers::NotificationHandler::new(
        PgPoolOptions::new()
            .connect(&env.app_database_url)
            .await
            .unwrap(),
        temporal.clone(),
        env.task_queue.clone(),
    );
    let envelope: Value = sqlx::query_scalar("SELECT envelope FROM outbox WHERE event_id = $1")
        .bind(event_id)
        .fetch_one(&env.owner)
        .await
        .unwrap();
    let envelope: Envelope = serde_json::from_value(envelope).unwrap();
    psa_worker::bus::Handler::handle(&handler, &envelope)
        .await
        .unwrap();
    // The handler returns once it has started (or declined to start) the e-mail run, so a
    // second run would already be the current one here: the finished run stays current.
    let after = wf::describe(&temporal, &notify_id)
        .await
        .expect("the e-mail run still exists");
    assert_eq!(
        (after.run_id(), after.status()),
        (
            first_run.as_str(),
            temporalio_client::WorkflowExecutionStatus::Completed
        ),
        "no second e-mail run"
    );
    assert_eq!(received(&env.services.maildir, &message_id).len(), 1);
    assert_eq!(email_statuses(&env).await, ["sent"]);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_rate_limit_email_waits_instead_of_dropping() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let s = &env.a.seeded;
    sqlx::query("INSERT INTO tenant_notification_settings (tenant_id, rate_limit_per_minute) VALUES ($1, 1)")
        .bind(s.tenant_id)
        .execute(&env.owner)
        .await
        .unwrap();
    for title in ["First", "Second"] {
        env.ok(
            Method::POST,
            "/v1/tickets",
            &env.a.key,
            &json!({ "title": title, "assignee_id": s.technician_user_id }),
        )
        .await;
    }
    // Within one minute: one sent, the other queued behind its workflow's timer. Across a
    // minute boundary both may go, which is also within the limit.
    let statuses = eventually(Duration::from_secs(30), || async {
        let mut st = email_statuses(&env).await;
        st.sort();
        Ok((st.len() == 2 && st.contains(&"sent".to_owned())).then_some(st))
    })
    .await
    .expect("both planned, at least one sent");
    assert!(
        statuses == ["queued", "sent"] || statuses == ["sent", "sent"],
        "{statuses:?}"
    );
    assert!(!statuses.contains(&"failed".to_owned()));
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switches_and_preferences_over_the_api() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let s = &env.a.seeded;
    let key = &env.a.key;
    let tech = env
        .a
        .key_for(&env.owner, "technician", Some(s.technician_user_id))
        .await
        .unwrap();

    for (body, field) in [
        (json!({ "from_address": "not an address" }), "from_address"),
        (
            json!({ "rate_limit_per_minute": 0 }),
            "rate_limit_per_minute",
        ),
    ] {
        let r = env
            .req(Method::PATCH, "/v1/notification-settings", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], field);
    }
    let settings = env
        .ok(
            Method::PATCH,
            "/v1/notification-settings",
            key,
            &json!({ "from_address": "desk@alpha.example" }),
        )
        .await;
    assert_eq!(settings["from_address"], "desk@alpha.example");
    assert_eq!(settings["rate_limit_per_minute"], 60);
    let r = env
        .req(
            Method::PUT,
            "/v1/notification-settings/categories/tickets",
            &tech,
        )
        .json(&json!({ "enabled": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = env
        .req(
            Method::PUT,
            "/v1/notification-settings/categories/weather",
            key,
        )
        .json(&json!({ "enabled": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Category off: its subtypes are off in effect, whatever their own switch.
    let off = env
        .ok(
            Method::PUT,
            "/v1/notification-settings/categories/tickets",
            key,
            &json!({ "enabled": false }),
        )
        .await;
    let created = off["subtypes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "ticket.created")
        .unwrap();
    assert_eq!(
        (created["enabled"].as_bool(), created["effective"].as_bool()),
        (Some(true), Some(false))
    );
    let sla = off["subtypes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "sla.breached")
        .unwrap();
    assert_eq!(sla["effective"], true);

    let assigned = |title: &str| json!({ "title": title, "assignee_id": s.technician_user_id });
    env.ok(
        Method::POST,
        "/v1/tickets",
        key,
        &assigned("While silenced"),
    )
    .await;
    // Switches apply when the event is handled: wait until the notifications subscriber has.
    let silenced: uuid::Uuid =
        sqlx::query_scalar("SELECT event_id FROM outbox WHERE event_type = 'ticket.created'")
            .fetch_one(&env.owner)
            .await
            .unwrap();
    crate::mail::handled(&env, silenced).await;
    assert_eq!(env.count("in_app_notifications").await, 0);
    env.ok(
        Method::PUT,
        "/v1/notification-settings/categories/tickets",
        key,
        &json!({ "enabled": true }),
    )
    .await;
    // The technician keeps in-app for new tickets but turns their e-mail off.
    let prefs = env
        .ok(
            Method::PUT,
            "/v1/me/notification-preferences/ticket.created",
            &tech,
            &json!({ "email": false, "in_app": true }),
        )
        .await;
    let mine = prefs
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["subtype"] == "ticket.created")
        .unwrap();
    assert_eq!(
        (mine["email"].as_bool(), mine["in_app"].as_bool()),
        (Some(false), Some(true))
    );
    env.ok(Method::POST, "/v1/tickets", key, &assigned("After"))
        .await;

    // The first event, handled while silenced, made none.
    let list = some_notifications(&env, &tech, "notification for the second ticket").await;
    let titles: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["[#2] Ticket created: After"]);
    env.shutdown().await;
}

/// Pending entries of the notifications subscriber's consumer group.
async fn notifications_pending(env: &TestEnv) -> i64 {
    let mut redis = env.redis().await;
    let summary: redis::Value = redis::cmd("XPENDING")
        .arg(&env.events_stream)
        .arg("psa:notifications")
        .query_async(&mut redis)
        .await
        .unwrap();
    // A summary of another shape must not read as "nothing pending".
    match &summary {
        redis::Value::Array(parts) => match parts.first() {
            Some(redis::Value::Int(n)) => *n,
            _ => panic!("unexpected XPENDING summary: {summary:?}"),
        },
        _ => panic!("unexpected XPENDING summary: {summary:?}"),
    }
}

async fn email_log(env: &TestEnv, status: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM notification_log WHERE channel = 'email' AND status = $1",
    )
    .bind(status)
    .fetch_one(&env.owner)
    .await
    .unwrap()
}

/// A worker dies with e-mails in every stage: some events handled and their e-mail workflows
/// waiting out an SMTP outage, others read by the consumer but not yet handled. The next
/// worker finishes all of it: every event gets its in-app row and its e-mail exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice() {
    // Nothing listens on the first worker's SMTP port: every send fails and is retried.
    let mut env = TestEnv::start_with(Parts::WORKER_ONLY, |c| {
        c.smtp_url = "smtp://127.0.0.1:9".into();
    })
    .await
    .unwrap();
    let tech = env.a.seeded.technician_user_id;

    // First half: handled, e-mails planned, sends failing.
    let first: Vec<_> = (1..=5).map(|n| env.ticket_assigned(n)).collect();
    env.publish(&first).await.unwrap();
    eventually(Duration::from_secs(30), || async {
        Ok((email_log(&env, "queued").await == 5).then_some(()))
    })
    .await
    .expect("the first five e-mails are planned");
    assert_eq!(env.count("in_app_notifications").await, 5);

    // Second half: the consumer has read some of it (however many its read returned) and is
    // stuck handling them (in-app inserts wait on a lock); the rest is not read yet.
    let mut lock = env.owner.begin().await.unwrap();
    sqlx::query("LOCK TABLE in_app_notifications IN EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let second: Vec<_> = (6..=10).map(|n| env.ticket_assigned(n)).collect();
    env.publish(&second).await.unwrap();
    eventually(Duration::from_secs(30), || async {
        Ok((notifications_pending(&env).await >= 1).then_some(()))
    })
    .await
    .expect("part of the second five is read and in flight");

    env.kill_worker().await;
    lock.rollback().await.unwrap();
    assert_eq!(email_log(&env, "sent").await, 0);
    assert!(received_any(&env, &first).is_empty());

    // A new worker, SMTP back: it takes over the dead consumer's entries and the workflows.
    env.start_worker().await.unwrap();
    eventually(Duration::from_secs(120), || async {
        Ok((email_log(&env, "sent").await == 10).then_some(()))
    })
    .await
    .expect("all ten e-mails sent");
    // Nothing is left that could send again: every e-mail run has finished and the consumer
    // group holds no entry for a redelivery.
    let temporal = env.temporal().await.unwrap();
    for e in first.iter().chain(&second) {
        let notify_id = psa_workflows::notify_email::workflow_id(e.tenant_id, e.event_id);
        wf::wait_status(
            &temporal,
            &notify_id,
            temporalio_client::WorkflowExecutionStatus::Completed,
        )
        .await;
    }
    eventually(Duration::from_secs(30), || async {
        Ok((notifications_pending(&env).await == 0).then_some(()))
    })
    .await
    .expect("every entry acknowledged");
    for e in first.iter().chain(&second) {
        let message_id = format!("<{}.{tech}@psa>", e.event_id);
        assert_eq!(
            received(&env.services.maildir, &message_id).len(),
            1,
            "{message_id}"
        );
    }
    assert_eq!(email_log(&env, "sent").await, 10);
    assert_eq!(env.count("notification_log").await, 20);
    assert_eq!(env.count("in_app_notifications").await, 10);
    let dead: i64 = redis::cmd("XLEN")
        .arg(format!("{}:dead-letter", env.events_stream))
        .query_async(&mut env.redis().await)
        .await
        .unwrap();
    assert_eq!(dead, 0);
    env.shutdown().await;
}

/// Messages at the SMTP sink for any of `events` (to the seeded technician).
fn received_any(env: &TestEnv, events: &[Envelope]) -> Vec<String> {
    let tech = env.a.seeded.technician_user_id;
    events
        .iter()
        .flat_map(|e| {
            received(
                &env.services.maildir,
                &format!("<{}.{tech}@psa>", e.event_id),
            )
        })
        .collect()
}
