//! The ticket workflow's store activity against real Postgres: idempotent on its step key and
//! confined to the step's tenant.

use chrono::Utc;
use psa_activities::SlaStore;
use psa_tests::{Parts, TestEnv};
use psa_workflows::ticket_sla::SlaStep;
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
