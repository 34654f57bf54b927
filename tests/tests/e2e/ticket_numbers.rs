//! Ticket numbers under concurrent creates: unique per tenant, drawn without a tenant-wide
//! lock, and each tenant counting on its own.

use futures::future::join_all;
use psa_tests::{Parts, TestEnv};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_in_one_tenant_get_distinct_numbers() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let creates = (0..60).map(|i| {
        env.req(Method::POST, "/v1/tickets", &env.a.key)
            .json(&json!({ "title": format!("Concurrent {i}") }))
            .send()
    });
    let mut numbers = Vec::new();
    for response in join_all(creates).await {
        let response = response.unwrap();
        assert_eq!(response.status(), 201);
        let body: serde_json::Value = response.json().await.unwrap();
        numbers.push(body["number"].as_i64().unwrap());
    }
    numbers.sort_unstable();
    // Nothing rolled back, so nothing was spent: exactly 1 to 60.
    assert_eq!(numbers, (1..=60).collect::<Vec<i64>>());

    // Another tenant's numbers are its own.
    let b = env
        .ok(
            Method::POST,
            "/v1/tickets",
            &env.b.key,
            &json!({ "title": "Tenant B's first" }),
        )
        .await;
    assert_eq!(b["number"], 1);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_needing_a_default_the_tenant_lacks_is_refused_and_spends_no_number() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    // Tenant A has no open status left to default to.
    sqlx::query("UPDATE statuses SET is_closed = true, is_default = false WHERE tenant_id = $1")
        .bind(env.a.seeded.tenant_id)
        .execute(&env.owner)
        .await
        .unwrap();
    let refused = env
        .req(Method::POST, "/v1/tickets", &env.a.key)
        .json(&json!({ "title": "No status to start in" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "status_id");

    // Naming one works, and gets the first number: the refused create drew none.
    let created = env
        .ok(
            Method::POST,
            "/v1/tickets",
            &env.a.key,
            &json!({ "title": "In a status", "status_id": env.a.seeded.status_new }),
        )
        .await;
    assert_eq!(created["number"], 1);
    assert_eq!(created["board_id"], env.a.seeded.board_id.to_string());
    assert_eq!(
        created["priority_id"],
        env.a.seeded.priority_ids[3].to_string()
    );
    env.shutdown().await;
}
