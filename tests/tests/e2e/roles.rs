//! Roles decide what a key may do; a client-portal key sees only its own client's tickets and
//! never internal notes.

use psa_tests::{Parts, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_enforced() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let s = &env.a.seeded;
    let tech = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    let billing = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let client = env.a.key_with_role(&env.owner, "client").await.unwrap();
    let post =
        |key: &str, path: &str, body: Value| env.req(Method::POST, path, key).json(&body).send();

    // A ticket for the seeded client and one without a client.
    let mine: Value = post(
        &env.a.key,
        "/v1/tickets",
        json!({ "title": "Acme's", "contact_id": s.contact_id }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        mine["client_id"],
        s.client_id.to_string(),
        "client taken from the contact"
    );
    let internal: Value = post(&env.a.key, "/v1/tickets", json!({ "title": "Internal" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine_id = mine["id"].as_str().unwrap();

    // Technicians work tickets but cannot change reference data.
    assert_eq!(
        post(&tech, "/v1/boards", json!({ "name": "Ops" }))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let r = post(
        &tech,
        &format!("/v1/tickets/{mine_id}/assign"),
        json!({ "assignee_id": s.technician_user_id }),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = post(
        &tech,
        &format!("/v1/tickets/{mine_id}/comments"),
        json!({ "body": "Internal note", "is_internal": true }),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = post(
        &tech,
        &format!("/v1/tickets/{mine_id}/comments"),
        json!({ "body": "We're on it" }),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    // Billing reads but does not write tickets.
    assert_eq!(
        env.req(Method::GET, "/v1/tickets", &billing)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        post(&billing, "/v1/tickets", json!({ "title": "x" }))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );

    // The client sees its own ticket only, and no internal notes.
    let list: Value = env
        .req(Method::GET, "/v1/tickets", &client)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [mine_id]);
    let r = env
        .req(
            Method::GET,
            &format!("/v1/tickets/{}", internal["id"].as_str().unwrap()),
            &client,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let comments: Value = env
        .req(
            Method::GET,
            &format!("/v1/tickets/{mine_id}/comments"),
            &client,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bodies: Vec<&str> = comments["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["We're on it"]);
    let staff_view: Value = env
        .req(
            Method::GET,
            &format!("/v1/tickets/{mine_id}/comments"),
            &tech,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(staff_view["items"].as_array().unwrap().len(), 2);

    // The client may open tickets for itself and reply, but not manage them.
    let created: Value = post(&client, "/v1/tickets", json!({ "title": "Portal ticket" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["client_id"], s.client_id.to_string());
    let r = post(
        &client,
        &format!("/v1/tickets/{mine_id}/comments"),
        json!({ "body": "Thanks" }),
    )
    .await
    .unwrap();
    let reply: Value = r.json().await.unwrap();
    assert_eq!(reply["author_kind"], "client");
    for (path, body) in [
        (format!("/v1/tickets/{mine_id}/close"), json!({})),
        (
            format!("/v1/tickets/{mine_id}/assign"),
            json!({ "assignee_id": null }),
        ),
        (
            format!("/v1/tickets/{mine_id}/comments"),
            json!({ "body": "psst", "is_internal": true }),
        ),
        (
            "/v1/tickets".to_owned(),
            json!({ "title": "x", "priority_id": s.priority_ids[0] }),
        ),
    ] {
        assert_eq!(
            post(&client, &path, body).await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert_eq!(
        env.req(Method::GET, "/v1/boards", &client)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_lifecycle_and_pagination() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let s = &env.a.seeded;
    let key = &env.a.key;
    let mut ids = Vec::new();
    for i in 0..5 {
        let t: Value = env
            .req(Method::POST, "/v1/tickets", key)
            .json(&json!({ "title": format!("T{i}") }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(t["id"].as_str().unwrap().to_owned());
        assert_eq!(t["number"], i + 1);
    }
    // Pages of two, in creation order, until no cursor.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Value = env
            .req(
                Method::GET,
                &format!("/v1/tickets?limit=2&cursor={cursor}"),
                key,
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    // Change fields, status, assignee; close; filter open/closed.
    let t = &ids[0];
    let patched: Value = env
        .req(Method::PATCH, &format!("/v1/tickets/{t}"), key)
        .json(&json!({ "title": "Renamed", "priority_id": s.priority_ids[1] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["title"], "Renamed");
    assert_eq!(patched["priority_id"], s.priority_ids[1].to_string());
    let r: Value = env
        .req(Method::POST, &format!("/v1/tickets/{t}/status"), key)
        .json(&json!({ "status_id": s.status_waiting }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status_id"], s.status_waiting.to_string());
    let r = env
        .req(Method::POST, &format!("/v1/tickets/{t}/assign"), key)
        .json(&json!({ "assignee_id": s.technician_user_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = env
        .req(Method::POST, &format!("/v1/tickets/{t}/close"), key)
        .json(&json!({ "status_id": s.status_new }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "an open status cannot close"
    );
    env.req(Method::POST, &format!("/v1/tickets/{t}/close"), key)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let open: Value = env
        .req(Method::GET, "/v1/tickets?open=true", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(open["items"].as_array().unwrap().len(), 4);
    let closed: Value = env
        .req(
            Method::GET,
            &format!(
                "/v1/tickets?open=false&assignee_id={}",
                s.technician_user_id
            ),
            key,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(closed["items"][0]["id"], t.as_str());

    let events: Vec<String> =
        sqlx::query_scalar("SELECT event_type FROM outbox ORDER BY id OFFSET 5")
            .fetch_all(&env.owner)
            .await
            .unwrap();
    assert_eq!(
        events,
        [
            "ticket.updated",
            "ticket.status_changed",
            "ticket.assigned",
            "ticket.status_changed",
            "ticket.closed"
        ]
    );

    // Closing again changes nothing and emits nothing.
    env.req(Method::POST, &format!("/v1/tickets/{t}/close"), key)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    assert_eq!(env.count("outbox").await, 10);

    // The OpenAPI document names every route.
    let doc: Value = env
        .http
        .get(env.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/v1/tickets",
        "/v1/tickets/{id}/close",
        "/v1/clients",
        "/v1/statuses/{id}",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path}");
    }
    env.shutdown().await;
}
