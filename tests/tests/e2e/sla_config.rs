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

/// A problem's field names (`errors[].field`).
pub(crate) fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
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
    let schedule = &schedules["items"][0];
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
    let ticket: uuid::Uuid = t["id"].as_str().unwrap().parse().unwrap();
    let due = eventually(Duration::from_secs(30), || async {
        Ok(env.ticket_column(ticket, "sla_resolution_due_at").await)
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
    // The API gives instants to the millisecond (so the preview started at the creation
    // truncated) while the clock counts from the stored microsecond: during business hours
    // the two dues differ below a millisecond.
    use chrono::SubsecRound;
    assert_eq!(
        got.trunc_subsecs(3),
        expected,
        "the live clock and the preview agree"
    );

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
        let due = env.ticket_column(ticket, "sla_response_due_at").await;
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
            (env.ticket_column(ticket, "sla_state").await.as_deref() == Some("paused"))
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
    assert!(theirs["items"].as_array().unwrap().is_empty());

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_report_groups_rates_and_trend() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key.clone();
    let s = env.a.seeded.clone();
    // (priority, started, response met, response minutes, resolution met, resolution minutes,
    //  closed, state, response due)
    let cases = [
        (
            0,
            "2026-11-02T10:00:00Z",
            Some(true),
            Some(10),
            Some(true),
            Some(100),
            true,
            "met",
            "2026-11-02T10:15:00Z",
        ),
        (
            0,
            "2026-11-03T10:00:00Z",
            Some(false),
            Some(40),
            Some(false),
            Some(300),
            true,
            "breached",
            "2026-11-03T10:15:00Z",
        ),
        (
            1,
            "2026-11-03T12:00:00Z",
            None,
            None,
            None,
            None,
            false,
            "at_risk",
            "2026-11-03T12:30:00Z",
        ),
        (
            1,
            "2026-10-01T12:00:00Z",
            Some(true),
            Some(5),
            None,
            None,
            false,
            "on_track",
            "2026-10-01T12:30:00Z",
        ),
    ];
    for (priority, started, r_met, r_min, s_met, s_min, closed, state, due) in cases {
        let t = env
            .ok(
                Method::POST,
                "/v1/tickets",
                &key,
                &json!({ "title": "T", "priority_id": s.priority_ids[priority] }),
            )
            .await;
        sqlx::query(
            "UPDATE tickets SET sla_started_at = $2::timestamptz, sla_response_met = $3, sla_response_minutes = $4,
                    sla_response_at = CASE WHEN $3 IS NULL THEN NULL ELSE $2::timestamptz END,
                    sla_resolution_met = $5, sla_resolution_minutes = $6,
                    sla_resolution_at = CASE WHEN $5 IS NULL THEN NULL ELSE $2::timestamptz END,
                    closed_at = CASE WHEN $7 THEN $2::timestamptz END, sla_state = $8,
                    sla_response_due_at = $9::timestamptz, sla_resolution_due_at = '2099-01-01'
              WHERE id = $1::uuid",
        )
        .bind(t["id"].as_str().unwrap())
        .bind(started)
        .bind(r_met)
        .bind(r_min)
        .bind(s_met)
        .bind(s_min)
        .bind(closed)
        .bind(state)
        .bind(due)
        .execute(&env.owner)
        .await
        .unwrap();
    }
    let (status, r) = send(
        &env,
        Method::GET,
        "/v1/sla/compliance?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&group_by=priority",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["totals"]["tickets"], 3);
    assert_eq!(
        r["totals"]["breaches"], 3,
        "two ended late, one running past due"
    );
    assert_eq!(r["totals"]["active"], 1);
    assert_eq!(r["totals"]["at_risk"], 1);
    let p1 = &r["groups"][0];
    assert_eq!(p1["label"], "P1");
    assert_eq!(p1["tickets"], 2);
    assert_eq!(p1["response"]["met"], 1);
    assert_eq!(p1["response"]["breached"], 1);
    assert_eq!(p1["response"]["rate"], 0.5);
    assert_eq!(p1["response"]["average_minutes"], 25.0);
    assert_eq!(p1["resolution"]["average_minutes"], 200.0);
    let p2 = &r["groups"][1];
    assert_eq!(p2["label"], "P2");
    assert_eq!(p2["response"]["breached"], 1);
    assert!(p2["response"]["rate"].as_f64() == Some(0.0));
    assert!(p2["resolution"]["rate"].is_null(), "nothing ended yet");
    assert_eq!(
        r["trend"],
        json!([
            { "date": "2026-11-02", "response_met": 1, "response_breached": 0, "resolution_met": 1, "resolution_breached": 0 },
            { "date": "2026-11-03", "response_met": 0, "response_breached": 2, "resolution_met": 0, "resolution_breached": 1 },
        ])
    );
    // Another tenant sees none of it.
    let (_, theirs) = send(
        &env,
        Method::GET,
        "/v1/sla/compliance?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z",
        &env.b.key,
        Value::Null,
    )
    .await;
    assert_eq!(theirs["totals"]["tickets"], 0);
    // Bad periods and groupings.
    for (query, field) in [
        (
            "from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z",
            Some("to"),
        ),
        (
            "from=2020-01-01T00:00:00Z&to=2026-11-01T00:00:00Z",
            Some("to"),
        ),
        (
            "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&group_by=weather",
            None,
        ),
        ("to=2026-12-01T00:00:00Z", None),
        ("from=yesterday&to=2026-12-01T00:00:00Z", None),
    ] {
        let (status, problem) = send(
            &env,
            Method::GET,
            &format!("/v1/sla/compliance?{query}"),
            &key,
            Value::Null,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {problem}");
        if let Some(field) = field {
            assert_eq!(fields(&problem), [field]);
        }
    }
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_changes_retime_open_tickets_through_one_job_not_the_request() {
    // No relay: the job and the outbox stay where the request left them until run here.
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = &env.a.key;
    for i in 0..3 {
        env.ok(
            Method::POST,
            "/v1/tickets",
            key,
            &json!({"title": format!("T{i}")}),
        )
        .await;
    }
    let closed: Value = env
        .ok(
            Method::POST,
            "/v1/tickets",
            key,
            &json!({"title": "Closed"}),
        )
        .await;
    env.ok(
        Method::POST,
        &format!("/v1/tickets/{}/close", closed["id"].as_str().unwrap()),
        key,
        &json!({}),
    )
    .await;
    let retimes = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM outbox WHERE envelope->'payload'->'changed' ? 'sla_policy'",
        )
        .fetch_one(&env.owner)
        .await
        .unwrap()
    };
    // A burst of five changes: each request writes one job row, not one event per ticket.
    for day in 1..=5 {
        let (status, _) = send(
            &env,
            Method::POST,
            "/v1/sla/holidays",
            key,
            json!({"name": format!("Day {day}"), "date": format!("2026-12-{day:02}")}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    assert_eq!(retimes().await, 0);
    assert_eq!(env.count("sla_retime_jobs").await, 1);
    // One run of the job re-times each open ticket once (the closed one not at all).
    let pool = &env.edge().state.pool;
    assert!(psa_store::sla::retime::round(pool).await.unwrap());
    assert_eq!(retimes().await, 3);
    assert_eq!(env.count("sla_retime_jobs").await, 0);
    assert!(!psa_store::sla::retime::round(pool).await.unwrap());

    // A change that came in during a pass: the pass finishes, the job waits for its next
    // claim, and that claim runs one more pass from the start.
    let first_open: uuid::Uuid = sqlx::query_scalar(
        "SELECT min(id::text)::uuid FROM tickets WHERE tenant_id = $1 AND closed_at IS NULL",
    )
    .bind(env.a.seeded.tenant_id)
    .fetch_one(&env.owner)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO sla_retime_jobs (tenant_id, generation, pass_generation, requested_by, after_ticket)
         VALUES ($1, 2, 1, $2, $3)",
    )
    .bind(env.a.seeded.tenant_id)
    .bind(uuid::Uuid::now_v7())
    .bind(first_open)
    .execute(&env.owner)
    .await
    .unwrap();
    assert!(psa_store::sla::retime::round(pool).await.unwrap());
    assert_eq!(retimes().await, 3 + 2, "the rest of the pass");
    let waiting: (Option<uuid::Uuid>, bool) =
        sqlx::query_as("SELECT after_ticket, lease_until IS NULL FROM sla_retime_jobs")
            .fetch_one(&env.owner)
            .await
            .unwrap();
    assert_eq!(waiting, (None, true), "waits, unleased, to start over");
    assert!(psa_store::sla::retime::round(pool).await.unwrap());
    assert_eq!(retimes().await, 3 + 2 + 3, "one more whole pass");
    assert_eq!(env.count("sla_retime_jobs").await, 0);

    // Tenant B's tickets were never touched by A's changes.
    let b_retimes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE tenant_id = $1 AND envelope->'payload'->'changed' ? 'sla_policy'",
    )
    .bind(env.b.seeded.tenant_id)
    .fetch_one(&env.owner)
    .await
    .unwrap();
    assert_eq!(b_retimes, 0);
    env.shutdown().await;
}
