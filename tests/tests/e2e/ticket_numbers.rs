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
