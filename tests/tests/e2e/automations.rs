//! Automations over HTTP against the real database: drafts, publishing immutable numbered
//! versions (concurrent publishes never share a number), every validation error listed at
//! once with its pointer, compare and roll back, enable and disable, the action catalogue and
//! the dry run with business time on a stored schedule. Roles and tenant isolation are walked
//! for every operation by `roles` and `tenant_isolation`.

use psa_tests::{Parts, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

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

fn definition(body: &str) -> Value {
    json!({
        "name": "Acknowledge",
        "trigger": {"event": "ticket.created", "condition": "event.payload.ticket.priority_name == 'P1'"},
        "steps": [{"id": "ack", "type": "action", "action": "tickets.add_comment",
                   "input": {"ticket_id": "event.payload.ticket.ticket_id", "body": body}}]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_are_numbered_immutable_compared_and_rolled_back() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let admin = env.a.key.clone();
    let tech = env.a.key_with_role(&env.owner, "technician").await.unwrap();

    let (status, a) = send(
        &env,
        &admin,
        Method::POST,
        "/v1/automations",
        json!({"name": "Acknowledge P1", "draft": definition("'Seen'")}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let id = a["id"].as_str().unwrap().to_owned();
    assert_eq!(a["latest_version"], Value::Null);
    assert_eq!(a["enabled"], false);

    // Nothing published yet: nothing to enable.
    let (status, _) = send(
        &env,
        &admin,
        Method::POST,
        &format!("/v1/automations/{id}/enable"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The draft, then a definition sent with the publish.
    let (status, v1) = send(
        &env,
        &admin,
        Method::POST,
        &format!("/v1/automations/{id}/versions"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v1}");
    assert_eq!(v1["version"], 1);
    let (_, v2) = send(
        &env,
        &admin,
        Method::POST,
        &format!("/v1/automations/{id}/versions"),
        json!({"definition": definition("'On it'")}),
    )
    .await;
    assert_eq!(v2["version"], 2);

    // Technicians read but do not publish.
    let (status, _) = send(
        &env,
        &tech,
        Method::POST,
        &format!("/v1/automations/{id}/versions"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, listed) = send(
        &env,
        &tech,
        Method::GET,
        &format!("/v1/automations/{id}/versions"),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let numbers: Vec<i64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1], "newest first");

    let (_, diff) = send(
        &env,
        &tech,
        Method::GET,
        &format!("/v1/automations/{id}/diff?from=1&to=2"),
        Value::Null,
    )
    .await;
    assert_eq!(
        diff["changes"],
        json!([{"op": "replace", "path": "/steps/0/input/body", "value": "'On it'"}])
    );

    // Roll back to 1: published again as 3, the same definition.
    let (status, v3) = send(
        &env,
        &admin,
        Method::POST,
        &format!(
            "/v1/automation-versions/{}/rollback",
            v1["id"].as_str().unwrap()
        ),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v3}");
    assert_eq!(v3["version"], 3);
    assert_eq!(v3["rolled_back_from"], 1);
    assert_eq!(v3["definition"], v1["definition"]);
    let (_, again) = send(
        &env,
        &tech,
        Method::GET,
        &format!("/v1/automation-versions/{}", v2["id"].as_str().unwrap()),
        Value::Null,
    )
    .await;
    assert_eq!(
        again["definition"],
        definition("'On it'"),
        "versions never change"
    );

    // Enabled, it runs the newest; disabled, nothing new starts.
    let (status, on) = send(
        &env,
        &admin,
        Method::POST,
        &format!("/v1/automations/{id}/enable"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{on}");
    assert_eq!(
        (on["enabled"].as_bool(), on["latest_version"].as_i64()),
        (Some(true), Some(3))
    );
    let (_, off) = send(
        &env,
        &admin,
        Method::POST,
        &format!("/v1/automations/{id}/disable"),
        json!({}),
    )
    .await;
    assert_eq!(off["enabled"], false);

    // Concurrent publishes take distinct numbers.
    let publishes = (0..8).map(|_| {
        let (env, admin, id) = (&env, admin.clone(), id.clone());
        async move {
            send(
                env,
                &admin,
                Method::POST,
                &format!("/v1/automations/{id}/versions"),
                json!({}),
            )
            .await
        }
    });
    let mut got: Vec<i64> = futures::future::join_all(publishes)
        .await
        .into_iter()
        .map(|(status, v)| {
            assert_eq!(status, StatusCode::CREATED, "{v}");
            v["version"].as_i64().unwrap()
        })
        .collect();
    got.sort_unstable();
    assert_eq!(got, (4..=11).collect::<Vec<_>>());

    let events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE event_type = 'automation.published'")
            .fetch_one(&env.owner)
            .await
            .unwrap();
    assert_eq!(events, 11, "every publish raises automation.published");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_definition_is_refused_with_every_error_and_its_pointer() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let admin = env.a.key.clone();
    let (_, a) = send(
        &env,
        &admin,
        Method::POST,
        "/v1/automations",
        json!({"name": "Broken"}),
    )
    .await;
    let id = a["id"].as_str().unwrap();
    let bad = json!({
        "name": "Broken",
        "trigger": {"event": "ticket.created"},
        "steps": [
            {"id": "a", "type": "action", "action": "tickets.add_comment", "input": {"ticket_id": "'x'"}},
            {"id": "a", "type": "call", "automation": "0193c1d0-0000-7000-8000-000000000001"},
            {"id": "c", "type": "if", "condition": "1 + 1", "then": [
                {"id": "d", "type": "wait", "duration": "soon"}
            ]}
        ]
    });
    let (status, problem) = send(
        &env,
        &admin,
        Method::POST,
        &format!("/v1/automations/{id}/versions"),
        json!({"definition": bad}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let mut pointers: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    pointers.sort_unstable();
    assert_eq!(
        pointers,
        [
            "/steps/0/input/body",
            "/steps/1/automation",
            "/steps/1/id",
            "/steps/2/condition",
            "/steps/2/then/0/duration",
        ]
    );
    assert!(problem["errors"][0]["reason"].is_string());
    // Nothing was stored.
    let (_, versions) = send(
        &env,
        &admin,
        Method::GET,
        &format!("/v1/automations/{id}/versions"),
        Value::Null,
    )
    .await;
    assert_eq!(versions["items"], json!([]));

    // The dry run refuses the same definition with the same list.
    let (status, dry) = send(&env, &admin, Method::POST, "/v1/automations/dry-run", json!({
        "definition": bad, "event": {"type": "ticket.created", "occurred_at": "2026-01-05T09:00:00Z"}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(dry["errors"], problem["errors"]);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dry_run_counts_business_time_on_a_stored_schedule_and_calls_published_automations() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let tech = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    let admin = env.a.key.clone();
    let hours: Vec<Value> = (1..=5)
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "17:00"}))
        .collect();
    let (status, schedule) = send(
        &env,
        &admin,
        Method::POST,
        "/v1/sla/schedules",
        json!({
            "name": "Office", "timezone": "Europe/London", "hours": hours,
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{schedule}");
    let (_, callee) = send(
        &env,
        &admin,
        Method::POST,
        "/v1/automations",
        json!({"name": "Callee", "draft": definition("'x'")}),
    )
    .await;
    let callee = callee["id"].as_str().unwrap().to_owned();
    send(
        &env,
        &admin,
        Method::POST,
        &format!("/v1/automations/{callee}/versions"),
        json!({}),
    )
    .await;

    let body = json!({
        "definition": {
            "name": "Business wait",
            "trigger": {"manual": {}},
            "steps": [
                {"id": "wait", "type": "wait", "duration": "PT4H", "business_schedule_id": schedule["id"]},
                {"id": "sub", "type": "call", "automation": callee, "input": {"n": "1"}, "save_as": "sub"},
                {"id": "done", "type": "return", "value": "vars.sub"}
            ]
        },
        // Friday 15:00 London (winter): two hours left that day, two more on Monday.
        "event": {"type": "ticket.created", "occurred_at": "2026-01-09T15:00:00Z"},
        "actions": {"sub": [{"output": {"ok": true}}]}
    });
    let (status, answer) = send(&env, &tech, Method::POST, "/v1/automations/dry-run", body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "completed");
    assert_eq!(answer["result"], json!({"ok": true}));
    assert_eq!(answer["trace"][1]["at"], "2026-01-12T11:00:00Z");
    assert_eq!(answer["trace"][1]["input"], json!({"n": 1}));
    assert_eq!(answer["ended_at"], "2026-01-12T11:00:00Z");

    // A request that cannot be read is a 422 pointing into it; billing keys may not dry-run.
    let (status, problem) = send(
        &env,
        &tech,
        Method::POST,
        "/v1/automations/dry-run",
        json!({"definition": definition("'x'"), "event": {"type": "ticket.created"}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["pointer"], "/event/occurred_at");
    let (status, problem) = send(
        &env,
        &tech,
        Method::POST,
        "/v1/automations/dry-run",
        json!({"event": {"type": "ticket.created", "occurred_at": "2026-01-05T09:00:00Z"}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["errors"],
        json!([{"pointer": "/definition", "reason": "is required"}])
    );
    let billing = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let (status, _) = send(
        &env,
        &billing,
        Method::POST,
        "/v1/automations/dry-run",
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The catalogue draws the editor's palette.
    let (status, actions) = send(
        &env,
        &tech,
        Method::GET,
        "/v1/automation-actions",
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let comment = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "tickets.add_comment")
        .expect("tickets.add_comment");
    assert_eq!(comment["input"]["required"], json!(["ticket_id", "body"]));
    env.shutdown().await;
}
