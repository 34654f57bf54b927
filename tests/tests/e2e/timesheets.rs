//! Time entries and timesheets over HTTP: the approval flow (draft → submitted → approved or
//! rejected, back to draft by reopening), what each state refuses, who may do what, and the
//! notifications each step sends (to the approver on submit, to the worker on a decision).

use crate::mail::{handled, last_event, mail_for, received};
use psa_tests::{Parts, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

async fn call(
    env: &TestEnv,
    method: Method,
    path: &str,
    key: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut r = env.req(method, path, key);
    if let Some(b) = body {
        r = r.json(b);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The fields a 422 problem names.
fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

/// Creates an entry of `worker`'s time for the seeded client and service.
async fn entry(env: &TestEnv, key: &str, worker: Uuid, date: &str, minutes: u32) -> Value {
    let s = &env.a.seeded;
    env.ok(
        Method::POST,
        "/v1/time-entries",
        key,
        &json!({"worker_id": worker, "client_id": s.client_id, "service_id": s.service_id,
            "work_date": date, "minutes": minutes}),
    )
    .await
}

async fn timesheet(env: &TestEnv, key: &str, worker: Uuid, start: &str, end: &str) -> Value {
    env.ok(
        Method::POST,
        "/v1/timesheets",
        key,
        &json!({"worker_id": worker, "period_start": start, "period_end": end}),
    )
    .await
}

/// `POST /v1/timesheets/{sheet}/{step}` with `body`.
async fn step(
    env: &TestEnv,
    key: &str,
    sheet: &str,
    step: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    call(
        env,
        Method::POST,
        &format!("/v1/timesheets/{sheet}/{step}"),
        key,
        body,
    )
    .await
}

async fn get(env: &TestEnv, key: &str, path: &str) -> Value {
    env.ok(Method::GET, path, key, &Value::Null).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_approval_flow_and_what_each_state_refuses() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let s = &env.a.seeded;
    let key = &env.a.key; // admin, acting for the seeded admin user
    let tech = s.technician_user_id;

    let e1 = entry(&env, key, tech, "2026-02-02", 60).await;
    let e2 = entry(&env, key, tech, "2026-02-04", 30).await;
    assert_eq!(e1["status"], "draft");
    assert!(e1["timesheet_id"].is_null());
    let (e1, e2) = (id(&e1), id(&e2));
    let sheet = timesheet(&env, key, tech, "2026-02-02", "2026-02-09").await;
    assert_eq!(sheet["status"], "draft");
    assert_eq!(
        (sheet["entries"].as_i64(), sheet["minutes"].as_i64()),
        (Some(2), Some(90))
    );
    let sid = id(&sheet);
    let sheet_path = format!("/v1/timesheets/{sid}");
    let e1_path = format!("/v1/time-entries/{e1}");
    let covered = get(&env, key, &e1_path).await;
    assert_eq!(covered["timesheet_id"].as_str(), Some(sid.as_str()));
    assert_eq!(covered["status"], "draft");

    // A draft can only be submitted.
    for (name, body) in [
        ("approve", json!({})),
        ("reject", json!({"reason": "Too early"})),
        ("reopen", json!({})),
    ] {
        let (status, problem) = step(&env, key, &sid, name, Some(&body)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{name} of a draft: {problem}");
    }
    let now = get(&env, key, &sheet_path).await;
    assert_eq!(now["status"], "draft");
    assert!(now["decided_at"].is_null() && now["reason"].is_null());

    // Nothing to submit: refused, naming the entries.
    let empty = id(&timesheet(&env, key, tech, "2026-03-02", "2026-03-09").await);
    let (status, problem) = step(
        &env,
        key,
        &empty,
        "submit",
        Some(&json!({"approver_id": s.admin_user_id})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["entries"], "{problem}");
    assert_eq!(
        get(&env, key, &format!("/v1/timesheets/{empty}")).await["status"],
        "draft"
    );

    // The approver must be a user of this tenant.
    for approver in [Uuid::now_v7(), env.b.seeded.admin_user_id] {
        let (status, problem) = step(
            &env,
            key,
            &sid,
            "submit",
            Some(&json!({"approver_id": approver})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["approver_id"], "{problem}");
    }
    assert_eq!(get(&env, key, &sheet_path).await["status"], "draft");

    let submit = json!({"approver_id": s.admin_user_id});
    let (status, submitted) = step(&env, key, &sid, "submit", Some(&submit)).await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(submitted["approver_id"], json!(s.admin_user_id));
    assert!(submitted["submitted_at"].is_string());
    assert!(submitted["decided_at"].is_null());
    let (status, problem) = step(&env, key, &sid, "submit", Some(&submit)).await;
    assert_eq!(status, StatusCode::CONFLICT, "submit again: {problem}");

    // While submitted, the period's time stays as it is.
    let (status, problem) = call(
        &env,
        Method::PATCH,
        &e1_path,
        key,
        Some(&json!({"minutes": 45})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "edit while submitted: {problem}"
    );
    let (status, problem) = call(
        &env,
        Method::DELETE,
        &format!("/v1/time-entries/{e2}"),
        key,
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "delete while submitted: {problem}"
    );
    let s_entry = |date: &str| {
        json!({"worker_id": tech, "client_id": s.client_id, "service_id": s.service_id,
            "work_date": date, "minutes": 15})
    };
    let (status, problem) = call(
        &env,
        Method::POST,
        "/v1/time-entries",
        key,
        Some(&s_entry("2026-02-05")),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "create inside: {problem}");
    // The last day of the period is inside it; the period's end is not.
    let (status, problem) = call(
        &env,
        Method::POST,
        "/v1/time-entries",
        key,
        Some(&s_entry("2026-02-08")),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "create on the last day: {problem}"
    );
    let (status, outside) = call(
        &env,
        Method::POST,
        "/v1/time-entries",
        key,
        Some(&s_entry("2026-02-09")),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "create after the period: {outside}"
    );
    assert!(outside["timesheet_id"].is_null());
    let unchanged = get(&env, key, &e1_path).await;
    assert_eq!(unchanged["minutes"], 60);
    assert_eq!(unchanged["status"], "submitted");
    let now = get(&env, key, &sheet_path).await;
    assert_eq!(
        (now["entries"].as_i64(), now["minutes"].as_i64()),
        (Some(2), Some(90))
    );

    // Roles: a technician reads time but neither records nor decides it; a client reads none.
    let tech_key = env
        .a
        .key_for(&env.owner, "technician", Some(tech))
        .await
        .unwrap();
    for path in [
        "/v1/time-entries",
        "/v1/timesheets",
        sheet_path.as_str(),
        e1_path.as_str(),
    ] {
        let (status, body) = call(&env, Method::GET, path, &tech_key, None).await;
        assert_eq!(status, StatusCode::OK, "technician GET {path}: {body}");
    }
    let (status, _) = call(
        &env,
        Method::POST,
        "/v1/time-entries",
        &tech_key,
        Some(&s_entry("2026-02-20")),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "technician records time");
    for (name, body) in [
        ("approve", json!({})),
        ("reject", json!({"reason": "No"})),
        ("reopen", json!({})),
    ] {
        let (status, _) = step(&env, &tech_key, &sid, name, Some(&body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "technician {name}");
    }
    let client_key = env.a.key_with_role(&env.owner, "client").await.unwrap();
    for path in ["/v1/time-entries", "/v1/timesheets"] {
        let (status, _) = call(&env, Method::GET, path, &client_key, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "client GET {path}");
    }
    assert_eq!(get(&env, key, &sheet_path).await["status"], "submitted");

    // Rejecting takes a reason.
    let (status, problem) = step(&env, key, &sid, "reject", None).await;
    assert!(
        status.is_client_error(),
        "reject without a body: {status} {problem}"
    );
    let (status, problem) = step(&env, key, &sid, "reject", Some(&json!({}))).await;
    assert!(
        status.is_client_error(),
        "reject without a reason: {status} {problem}"
    );
    let (status, problem) = step(&env, key, &sid, "reject", Some(&json!({"reason": "  "}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["reason"], "{problem}");
    assert_eq!(get(&env, key, &sheet_path).await["status"], "submitted");
    let (status, rejected) = step(
        &env,
        key,
        &sid,
        "reject",
        Some(&json!({"reason": "Add notes to Monday"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rejected}");
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reason"], "Add notes to Monday");
    assert_eq!(rejected["decided_by"], json!(s.admin_user_id));
    assert!(rejected["decided_at"].is_string());
    assert_eq!(get(&env, key, &e1_path).await["status"], "rejected");
    // A rejected timesheet cannot be approved, but its time can be corrected.
    let (status, _) = step(&env, key, &sid, "approve", Some(&json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "approve a rejected timesheet");
    let edited = env
        .ok(
            Method::PATCH,
            &e1_path,
            key,
            &json!({"minutes": 45, "note": "Patched the server"}),
        )
        .await;
    assert_eq!(edited["minutes"], 45);
    assert_eq!(edited["status"], "rejected");

    let (status, reopened) = step(&env, key, &sid, "reopen", Some(&json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{reopened}");
    assert_eq!(reopened["status"], "draft");
    assert!(reopened["reason"].is_null() && reopened["approver_id"].is_null());
    assert!(reopened["decided_by"].is_null() && reopened["submitted_at"].is_null());
    assert_eq!(reopened["minutes"].as_i64(), Some(75));

    // Submitted again and approved: the entries read approved, the decision is the admin's.
    let (status, body) = step(&env, key, &sid, "submit", Some(&submit)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["reason"].is_null());
    let (status, approved) = step(&env, key, &sid, "approve", None).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decided_by"], json!(s.admin_user_id));
    assert!(approved["decided_at"].is_string());
    assert_eq!(get(&env, key, &sheet_path).await["status"], "approved");
    for e in [&e1, &e2] {
        let got = get(&env, key, &format!("/v1/time-entries/{e}")).await;
        assert_eq!(got["status"], "approved", "{got}");
    }
    let listed = get(&env, key, &format!("/v1/time-entries?timesheet_id={sid}")).await;
    let statuses: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["approved", "approved"]);
    let listed = get(&env, key, "/v1/time-entries?status=approved").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    let listed = get(&env, key, "/v1/timesheets?status=approved").await;
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [sid.as_str()]);
    let (status, _) = step(&env, key, &sid, "approve", Some(&json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "approve twice");
    let (status, _) = call(
        &env,
        Method::PATCH,
        &e1_path,
        key,
        Some(&json!({"minutes": 50})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "edit while approved");

    // An approved timesheet (nothing invoiced) reopens to draft; its time can change again.
    let (status, reopened) = step(&env, key, &sid, "reopen", Some(&json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{reopened}");
    assert_eq!(reopened["status"], "draft");
    assert!(reopened["decided_by"].is_null());
    assert_eq!(get(&env, key, &e1_path).await["status"], "draft");
    let (status, body) = call(
        &env,
        Method::DELETE,
        &format!("/v1/time-entries/{e2}"),
        key,
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "delete after reopening: {body}"
    );

    // One worker's periods never overlap; another worker's may.
    let (status, problem) = call(
        &env,
        Method::POST,
        "/v1/timesheets",
        key,
        Some(&json!({"worker_id": tech, "period_start": "2026-02-08", "period_end": "2026-02-15"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["period_start"], "{problem}");
    let other = timesheet(&env, key, s.admin_user_id, "2026-02-08", "2026-02-15").await;
    assert_eq!(other["status"], "draft");
    let tech_sheets = get(&env, key, &format!("/v1/timesheets?worker_id={tech}")).await;
    assert_eq!(tech_sheets["items"].as_array().unwrap().len(), 2);

    env.shutdown().await;
}

/// Titles of the in-app notifications of `key`'s user, as `(subtype, title)`.
async fn in_app(env: &TestEnv, key: &str) -> Vec<(String, String)> {
    let list = get(env, key, "/v1/notifications").await;
    let mut out: Vec<(String, String)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["subtype"].as_str().unwrap().to_owned(),
                n["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_approver_and_the_worker_are_told_by_email_and_in_app() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let s = &env.a.seeded;
    let (admin, tech) = (s.admin_user_id, s.technician_user_id);
    let key = &env.a.key;
    // A billing clerk acting for no user, and one acting for a third user: neither is the
    // approver nor the worker, so nobody's own action is being filtered out.
    let billing = env.a.key_for(&env.owner, "billing", None).await.unwrap();
    let bea = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO users (tenant_id, id, email, display_name, kind)
         VALUES ($1, $2, 'bea@alpha.example', 'Bea Billing', 'internal')",
    )
    .bind(s.tenant_id)
    .bind(bea)
    .execute(&env.owner)
    .await
    .unwrap();
    let bea_key = env
        .a
        .key_for(&env.owner, "billing", Some(bea))
        .await
        .unwrap();
    let tech_key = env
        .a
        .key_for(&env.owner, "technician", Some(tech))
        .await
        .unwrap();

    entry(&env, &billing, tech, "2026-01-05", 60).await;
    entry(&env, &billing, tech, "2026-01-07", 30).await;
    entry(&env, &billing, tech, "2026-01-13", 45).await;
    let week1 = id(&timesheet(&env, &billing, tech, "2026-01-05", "2026-01-12").await);
    let week2 = id(&timesheet(&env, &billing, tech, "2026-01-12", "2026-01-19").await);
    let to_admin = json!({"approver_id": admin});

    // Submitted by a key acting for nobody: the approver is told.
    let (status, body) = step(&env, &billing, &week1, "submit", Some(&to_admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let submitted1 = last_event(&env, "time_entry.submitted").await;
    let mail = mail_for(&env, submitted1, admin, "submitted, to the approver").await;
    assert!(
        mail.contains("Subject: Timesheet submitted: 2026-01-05 to 2026-01-12"),
        "{mail}"
    );
    assert!(mail.contains("To: admin@alpha.example"), "{mail}");
    assert!(mail.contains("(2 entries, 90 minutes)"), "{mail}");

    // Submitted by a third user: the approver is told again.
    let (status, body) = step(&env, &bea_key, &week2, "submit", Some(&to_admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let submitted2 = last_event(&env, "time_entry.submitted").await;
    assert_ne!(submitted1, submitted2);
    let mail = mail_for(&env, submitted2, admin, "second submitted, to the approver").await;
    assert!(
        mail.contains("Subject: Timesheet submitted: 2026-01-12 to 2026-01-19"),
        "{mail}"
    );
    assert!(mail.contains("(1 entries, 45 minutes)"), "{mail}");

    // Approved by the third user: the worker is told.
    let (status, approved) = step(&env, &bea_key, &week1, "approve", Some(&json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["decided_by"], json!(bea));
    let approved_event = last_event(&env, "time_entry.approved").await;
    let mail = mail_for(&env, approved_event, tech, "approved, to the worker").await;
    assert!(
        mail.contains("Subject: Timesheet approved: 2026-01-05 to 2026-01-12"),
        "{mail}"
    );
    assert!(mail.contains("To: tech@alpha.example"), "{mail}");

    // Rejected by a key acting for nobody: the worker is told why.
    let reason = "Ticket notes missing on the 13th";
    let (status, rejected) = step(
        &env,
        &billing,
        &week2,
        "reject",
        Some(&json!({"reason": reason})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rejected}");
    assert!(rejected["decided_by"].is_null(), "{rejected}");
    let rejected_event = last_event(&env, "time_entry.rejected").await;
    let mail = mail_for(&env, rejected_event, tech, "rejected, to the worker").await;
    assert!(
        mail.contains("Subject: Timesheet returned: 2026-01-12 to 2026-01-19"),
        "{mail}"
    );
    assert!(mail.contains("To: tech@alpha.example"), "{mail}");
    assert!(mail.contains(reason), "{mail}");

    // Only the one recipient of each event heard of it: no e-mail to the other party.
    for (event, other) in [
        (submitted1, tech),
        (submitted2, tech),
        (approved_event, admin),
        (rejected_event, admin),
    ] {
        handled(&env, event).await;
        assert!(received(&env, &format!("<{event}.{other}@psa>")).is_empty());
    }

    // The same, in-app.
    let for_admin = in_app(&env, key).await;
    assert_eq!(
        for_admin,
        [
            (
                "time_entry.submitted".to_owned(),
                "Timesheet submitted: 2026-01-05 to 2026-01-12".to_owned()
            ),
            (
                "time_entry.submitted".to_owned(),
                "Timesheet submitted: 2026-01-12 to 2026-01-19".to_owned()
            ),
        ]
    );
    let for_tech = in_app(&env, &tech_key).await;
    assert_eq!(
        for_tech,
        [
            (
                "time_entry.approved".to_owned(),
                "Timesheet approved: 2026-01-05 to 2026-01-12".to_owned()
            ),
            (
                "time_entry.rejected".to_owned(),
                "Timesheet returned: 2026-01-12 to 2026-01-19".to_owned()
            ),
        ]
    );
    assert!(in_app(&env, &bea_key).await.is_empty());

    // Nobody is told of their own action: the admin submitting to themselves gets nothing.
    step(&env, key, &week2, "reopen", Some(&json!({}))).await;
    let (status, body) = step(&env, key, &week2, "submit", Some(&to_admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let own = last_event(&env, "time_entry.submitted").await;
    assert_ne!(own, submitted2);
    handled(&env, own).await;
    let told: i64 = sqlx::query_scalar("SELECT count(*) FROM notification_log WHERE event_id = $1")
        .bind(own)
        .fetch_one(&env.owner)
        .await
        .unwrap();
    assert_eq!(told, 0, "the admin is told of their own submit");
    assert!(received(&env, &format!("<{own}.{admin}@psa>")).is_empty());
    assert_eq!(in_app(&env, key).await.len(), 2);

    env.shutdown().await;
}
