//! The ticket workflow's store activities against real Postgres: idempotent on their step
//! keys and confined to the step's tenant.

use chrono::Utc;
use psa_store::sla::clock::SlaStore;
use psa_tests::{Parts, TestEnv, lock_waiter};
use psa_workflows::ticket_sla::{SlaContextRequest, SlaStartRequest, SlaStep, start};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_step_writes_once_per_step_key() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let ticket: Value = env
        .req(Method::POST, "/v1/tickets", &env.a.key)
        .json(&json!({ "title": "Audit me" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ticket_id = ticket["id"].as_str().unwrap().parse().unwrap();
    let app_pool = PgPoolOptions::new()
        .connect(&env.app_database_url)
        .await
        .unwrap();
    let store = SlaStore::new(
        app_pool.clone(),
        psa_workflows::ticket_sla::SlaLimits {
            reopen_window_seconds: 0,
            continue_after_events: 1000,
        },
    );
    let step = SlaStep {
        tenant_id: env.a.seeded.tenant_id,
        ticket_id,
        step_key: "started".into(),
        event: "started".into(),
        detail: json!({ "ticket_number": 1 }),
        occurred_at: Utc::now(),
    };
    // A retried activity (its first reply lost) writes the same step again.
    store.write_step(&step).await.unwrap();
    store.write_step(&step).await.unwrap();
    assert_eq!(env.count("sla_audit_log").await, 1);

    // The same step claimed for another tenant cannot reach this tenant's ticket.
    let foreign = SlaStep {
        tenant_id: env.b.seeded.tenant_id,
        step_key: "smuggled".into(),
        ..step
    };
    assert!(store.write_step(&foreign).await.is_err());
    assert_eq!(env.count("sla_audit_log").await, 1);
    app_pool.close().await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_attempted_again_decides_as_its_first_attempt_did() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let ticket: Value = env
        .ok(
            Method::POST,
            "/v1/tickets",
            &env.a.key,
            &json!({ "title": "Start me" }),
        )
        .await;
    let ticket_id = ticket["id"].as_str().unwrap().parse().unwrap();
    let app_pool = PgPoolOptions::new()
        .connect(&env.app_database_url)
        .await
        .unwrap();
    let store = SlaStore::new(
        app_pool.clone(),
        psa_workflows::ticket_sla::SlaLimits {
            reopen_window_seconds: 0,
            continue_after_events: 1000,
        },
    );
    let t0 = Utc::now();
    let start = |run: &str, seconds: i64| {
        let request = SlaStartRequest {
            tenant_id: env.a.seeded.tenant_id,
            ticket_id,
            ticket_number: 1,
            run_id: run.into(),
            created: Some((false, false)),
            recovered: false,
            now: t0 + chrono::TimeDelta::seconds(seconds),
        };
        let store = store.clone();
        async move {
            let context = SlaContextRequest {
                tenant_id: request.tenant_id,
                ticket_id: request.ticket_id,
                with_record: true,
            };
            store
                .start_clock(context, &request.run_id, |c| start::decide(c, &request))
                .await
                .unwrap()
                .1
                .unwrap()
        }
    };
    let steps = || async {
        sqlx::query_as::<_, (String, Option<String>)>(
            "SELECT step_key, detail->>'run_id' FROM sla_audit_log WHERE ticket_id = $1
              ORDER BY recorded_at, step_key",
        )
        .bind(ticket_id)
        .fetch_all(&env.owner)
        .await
        .unwrap()
    };
    let first = start("run-1", 0).await;
    let started = vec![("started".to_owned(), Some("run-1".to_owned()))];
    assert_eq!(steps().await, started);

    // Its reply lost after the commit, the same run's start runs again in a later workflow
    // task: what it wrote the first time is no earlier run's clock to go on from.
    let again = start("run-1", 1).await;
    assert_eq!(again, first);
    assert_eq!(steps().await, started);

    // A run re-created after that one failed goes on from what it wrote.
    let next = start("run-2", 2).await;
    assert_eq!(next.started_at, first.started_at);
    let rebuilt = format!(
        "rebuilt:{}",
        (t0 + chrono::TimeDelta::seconds(2)).timestamp_millis()
    );
    assert_eq!(
        steps().await,
        [started[0].clone(), (rebuilt, Some("run-2".to_owned()))]
    );
    app_pool.close().await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_e_mail_claimed_by_one_send_attempt_is_not_sent_by_another() {
    let env = TestEnv::start(Parts::NONE).await.unwrap();
    let app_pool = PgPoolOptions::new()
        .connect(&env.app_database_url)
        .await
        .unwrap();
    let store = psa_store::notifications::delivery::NotificationStore::new(app_pool.clone());
    let (tenant, recipient, event) = (
        env.a.seeded.tenant_id,
        env.a.seeded.technician_user_id,
        uuid::Uuid::now_v7(),
    );
    sqlx::query(
        "INSERT INTO notification_log (tenant_id, id, event_id, recipient_id, channel, subtype_code,
                                       template_source, template_version, status)
         VALUES ($1, $2, $3, $4, 'email', 'ticket.assigned', 'system', 1, 'queued')",
    )
    .bind(tenant)
    .bind(uuid::Uuid::now_v7())
    .bind(event)
    .bind(recipient)
    .execute(&env.owner)
    .await
    .unwrap();
    let job = psa_workflows::notify_email::EmailJob {
        tenant_id: tenant,
        event_id: event,
        recipient_id: recipient,
        to: "tech@example.com".into(),
        from: None,
        subject: "s".into(),
        html: "h".into(),
        text: "t".into(),
        message_id: "m@psa".into(),
    };
    let status = || async {
        sqlx::query_scalar::<_, String>("SELECT status FROM notification_log WHERE event_id = $1")
            .bind(event)
            .fetch_one(&env.owner)
            .await
            .unwrap()
    };
    // A refused send drops its claim: the message is still to be sent.
    let refused = store
        .claim_email(&job)
        .await
        .unwrap()
        .expect("not sent yet");
    drop(refused);
    assert_eq!(status().await, "queued");

    // While one attempt is between its claim and the server's answer, another waits for it
    // instead of sending beside it, then finds the message sent.
    let first = store
        .claim_email(&job)
        .await
        .unwrap()
        .expect("not sent yet");
    let second = tokio::spawn({
        let (store, job) = (store.clone(), job.clone());
        async move { store.claim_email(&job).await.map(|c| c.is_some()) }
    });
    lock_waiter(&env, "FOR UPDATE", std::time::Duration::from_secs(4))
        .await
        .expect("the second attempt waits on the first's claim");
    assert!(
        !second.is_finished(),
        "the second attempt must wait on the first"
    );
    first.commit().await.unwrap();
    assert!(
        !second.await.unwrap().unwrap(),
        "the second attempt sends nothing"
    );
    assert_eq!(status().await, "sent");
    app_pool.close().await;
    env.shutdown().await;
}
