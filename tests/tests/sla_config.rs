//! SLA configuration over the API, and the live clocks that follow it: the ITIL setup, schedules
//! and policies with their validation, assignments, the waiting-on-client setting, and a
//! priority change re-timing a running ticket.

use psa_tests::{Parts, TestEnv, eventually};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

async fn send(
    env: &TestEnv,
    method: Method,
    path: &str,
    key: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = env.req(method, path, key).json(&body).send().await.unwrap();
    let status = r.status();
    let json = if status == StatusCode::NO_CONTENT {
        Value::Null
    } else {
        r.json().await.unwrap()
    };
    (status, json)
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn ticket_column(env: &TestEnv, ticket: &str, col: &str) -> Option<String> {
    sqlx::query_scalar::<_, Option<String>>(&format!(
        "SELECT {col}::text FROM tickets WHERE id = $1::uuid"
    ))
    .bind(ticket)
    .fetch_one(&env.owner)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn itil_setup_times_tickets_and_a_priority_change_retimes_them() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let key = env.a.key.clone();
    let (status, policy) = send(
        &env,
        Method::POST,
        "/v1/sla/itil-setup",
        &key,
        json!({ "timezone": "Europe/London" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{policy}");
    assert_eq!(policy["is_default"], true);
    assert_eq!(policy["targets"].as_array().unwrap().len(), 5);
    assert_eq!(policy["escalation_percents"], json!([70, 90, 110]));
    let (_, again) = send(&env, Method::POST, "/v1/sla/itil-setup", &key, json!({})).await;
    assert_eq!(again["id"], policy["id"], "a second call changes nothing");
    let (_, schedules) = send(&env, Method::GET, "/v1/sla/schedules", &key, Value::Null).await;
    let schedule = &schedules[0];
    assert_eq!(schedule["is_default"], true);
    assert_eq!(schedule["timezone"], "Europe/London");
    assert_eq!(schedule["hours"].as_array().unwrap().len(), 5);

    // The seeded P2 is the ITIL P2: 30 minutes to respond, 4 business hours to resolve.
    let p2 = env.a.seeded.priority_ids[1];
    let t = env
        .ok(
            Method::POST,
            "/v1/tickets",
            &key,
            &json!({ "title": "Laptop slow", "priority_id": p2 }),
        )
        .await;
    let ticket = t["id"].as_str().unwrap().to_owned();
    let due = eventually(Duration::from_secs(30), || async {
        Ok(ticket_column(&env, &ticket, "sla_resolution_due_at").await)
    })
    .await
    .expect("the resolution due time is set");
    let created: chrono::DateTime<chrono::Utc> = t["created_at"].as_str().unwrap().parse().unwrap();
    let (_, preview) = send(
        &env,
        Method::POST,
        "/v1/sla/preview",
        &key,
        json!({
            "schedule_id": schedule["id"],
            "started_at": created,
            "targets": { "response_minutes": 30, "resolution_minutes": 240 }
        }),
    )
    .await;
    let expected: chrono::DateTime<chrono::Utc> = preview["resolution"]["due_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let got: chrono::DateTime<chrono::Utc> =
        chrono::DateTime::parse_from_str(&due, "%Y-%m-%d %H:%M:%S%.f%#z")
            .unwrap()
            .into();
    assert_eq!(got, expected, "the live clock and the preview agree");

    // P1 is around the clock, 15 minutes to respond: the running clock is re-timed.
    let p1 = env.a.seeded.priority_ids[0];
    env.ok(
        Method::PATCH,
        &format!("/v1/tickets/{ticket}"),
        &key,
        &json!({ "priority_id": p1 }),
    )
    .await;
    let retimed = eventually(Duration::from_secs(30), || async {
        let due = ticket_column(&env, &ticket, "sla_response_due_at").await;
        Ok(due.filter(|d| {
            let d: chrono::DateTime<chrono::Utc> =
                chrono::DateTime::parse_from_str(d, "%Y-%m-%d %H:%M:%S%.f%#z")
                    .unwrap()
                    .into();
            d - created <= chrono::TimeDelta::minutes(16)
        }))
    })
    .await;
    assert!(retimed.is_ok(), "P1's 15-minute response target applies");

    // Waiting on the client stops the clock once the tenant says it should.
    let (status, _) = send(
        &env,
        Method::PUT,
        "/v1/sla/settings",
        &key,
        json!({ "pause_while_awaiting_client": true }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    env.ok(
        Method::PATCH,
        &format!("/v1/tickets/{ticket}"),
        &key,
        &json!({ "awaiting_client": true }),
    )
    .await;
    eventually(Duration::from_secs(30), || async {
        Ok(
            (ticket_column(&env, &ticket, "sla_state").await.as_deref() == Some("paused"))
                .then_some(()),
        )
    })
    .await
    .expect("paused while waiting on the client");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_policies_and_assignments_are_validated() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key.clone();
    let hours = |extra: Value| {
        let mut h: Vec<Value> = (1..=5)
            .map(|d| json!({ "weekday": d, "start": "09:00", "end": "17:00" }))
            .collect();
        if !extra.is_null() {
            h.push(extra);
        }
        h
    };
    let (status, problem) = send(
        &env,
        Method::POST,
        "/v1/sla/schedules",
        &key,
        json!({ "name": "Bad", "timezone": "Mars/Olympus", "hours": hours(json!({ "weekday": 1, "start": "16:00", "end": "18:00" })) }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["timezone", "hours[5]"]);
    let (status, problem) = send(
        &env,
        Method::POST,
        "/v1/sla/schedules",
        &key,
        json!({ "name": "Empty", "timezone": "UTC" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["hours"]);

    let (status, schedule) = send(
        &env,
        Method::POST,
        "/v1/sla/schedules",
        &key,
        json!({ "name": "NY", "timezone": "America/New_York", "hours": hours(Value::Null),
                "holidays": [{ "name": "Christmas", "date": "2026-12-25", "recurring": true }] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{schedule}");
    let sid = schedule["id"].as_str().unwrap().to_owned();
    assert_eq!(schedule["holidays"][0]["name"], "Christmas");
    let (status, replaced) = send(
        &env,
        Method::PUT,
        &format!("/v1/sla/schedules/{sid}"),
        &key,
        json!({ "name": "NY late", "timezone": "America/New_York", "hours": [{ "weekday": 5, "start": "22:00", "end": "02:00" }] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["hours"].as_array().unwrap().len(), 1);
    assert!(replaced["holidays"].as_array().unwrap().is_empty());

    let (status, problem) = send(
        &env,
        Method::POST,
        "/v1/sla/policies",
        &key,
        json!({
            "name": "Broken",
            "escalation_percents": [90, 70, 110],
            "targets": [{ "priority_id": env.a.seeded.priority_ids[0], "response_minutes": -1, "resolution_minutes": 60 }],
            "thresholds": [{ "percent": 0 }, { "percent": 50, "channels": ["sms"] }]
        }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&problem),
        [
            "escalation_percents",
            "targets[0].response_minutes",
            "thresholds[0].percent",
            "thresholds[1].channels"
        ]
    );
    let (status, policy) = send(
        &env,
        Method::POST,
        "/v1/sla/policies",
        &key,
        json!({ "name": "Gold", "schedule_id": sid,
                "targets": [{ "priority_id": env.a.seeded.priority_ids[0], "response_minutes": 30, "resolution_minutes": 120 }] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{policy}");
    assert_eq!(
        policy["thresholds"].as_array().unwrap().len(),
        4,
        "default thresholds"
    );
    let pid = policy["id"].as_str().unwrap().to_owned();

    // Assignments.
    let client = env.a.seeded.client_id;
    let (status, _) = send(
        &env,
        Method::PUT,
        &format!("/v1/clients/{client}/sla"),
        &key,
        json!({ "policy_id": pid }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, problem) = send(
        &env,
        Method::PUT,
        &format!("/v1/clients/{client}/sla"),
        &key,
        json!({ "policy_id": uuid::Uuid::now_v7() }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["policy_id"]);
    let board = env.a.seeded.board_id;
    let (status, b) = send(
        &env,
        Method::PUT,
        &format!("/v1/boards/{board}/sla"),
        &key,
        json!({ "policy_id": pid, "manager_id": env.a.seeded.admin_user_id,
                "escalation_managers": [{ "level": 1, "user_id": env.a.seeded.technician_user_id }] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(b["escalation_managers"][0]["level"], 1);
    let (status, _) = send(
        &env,
        Method::PUT,
        &format!("/v1/boards/{board}/sla"),
        &key,
        json!({ "escalation_managers": [{ "level": 4, "user_id": env.a.seeded.technician_user_id }] }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // In use: neither the schedule nor the policy can go.
    let (status, _) = send(
        &env,
        Method::DELETE,
        &format!("/v1/sla/schedules/{sid}"),
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = send(
        &env,
        Method::DELETE,
        &format!("/v1/sla/policies/{pid}"),
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Technicians read the configuration but do not change it; other tenants see nothing.
    let tech = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    let (status, _) = send(
        &env,
        Method::GET,
        &format!("/v1/sla/policies/{pid}"),
        &tech,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(
        &env,
        Method::PUT,
        "/v1/sla/settings",
        &tech,
        json!({ "pause_while_awaiting_client": true }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(
        &env,
        Method::GET,
        &format!("/v1/sla/schedules/{sid}"),
        &env.b.key,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, theirs) = send(
        &env,
        Method::GET,
        "/v1/sla/policies",
        &env.b.key,
        Value::Null,
    )
    .await;
    assert!(theirs.as_array().unwrap().is_empty());

    // Global holidays.
    let (status, h) = send(
        &env,
        Method::POST,
        "/v1/sla/holidays",
        &key,
        json!({ "name": "New Year", "date": "2027-01-01" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{h}");
    let (status, _) = send(
        &env,
        Method::POST,
        "/v1/sla/holidays",
        &key,
        json!({ "date": "2027-13-01" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = send(
        &env,
        Method::DELETE,
        &format!("/v1/sla/holidays/{}", h["id"].as_str().unwrap()),
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    env.shutdown().await;
}
