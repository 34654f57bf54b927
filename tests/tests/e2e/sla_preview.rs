//! `POST /v1/sla/preview`: the what-if computed with the live calendar code, over HTTP.

use psa_tests::{Parts, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Monday to Friday 09:00-17:00 in New York; 2026-11-23 is a Monday (EST, UTC-5).
fn request() -> Value {
    json!({
        "schedule": {
            "timezone": "America/New_York",
            "is_24x7": false,
            "hours": (1..=5).map(|d| json!({"weekday": d, "start": "09:00", "end": "17:00"})).collect::<Vec<_>>(),
            "holidays": [{"date": "2024-12-25", "recurring": true}]
        },
        "started_at": "2026-11-23T14:00:00Z",
        "targets": {"response_minutes": 60, "resolution_minutes": 960}
    })
}

async fn preview(env: &TestEnv, key: &str, body: &Value) -> (StatusCode, Value) {
    let r = env
        .req(Method::POST, "/v1/sla/preview", key)
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

fn instants(phase: &Value) -> Vec<(u64, String)> {
    phase["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["percent"].as_u64().unwrap(),
                t["at"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(u64, &str)]) -> Vec<(u64, String)> {
    list.iter().map(|(p, at)| (*p, (*at).to_owned())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_dates_thresholds_and_elapsed_time() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key_with_role(&env.owner, "technician").await.unwrap();

    let (status, body) = preview(&env, &key, &request()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["due_at"], "2026-11-23T15:00:00Z");
    assert_eq!(
        instants(&body["response"]),
        pairs(&[
            (50, "2026-11-23T14:30:00Z"),
            (75, "2026-11-23T14:45:00Z"),
            (90, "2026-11-23T14:54:00Z"),
            (100, "2026-11-23T15:00:00Z"),
        ])
    );
    // 16 business hours: Monday's 8, then Tuesday's 8.
    assert_eq!(body["resolution"]["due_at"], "2026-11-24T22:00:00Z");
    assert_eq!(
        instants(&body["resolution"]),
        pairs(&[
            (50, "2026-11-23T22:00:00Z"),
            (75, "2026-11-24T18:00:00Z"),
            (90, "2026-11-24T20:24:00Z"),
            (100, "2026-11-24T22:00:00Z"),
        ])
    );
    // Without `at`, no elapsed or remaining time.
    assert!(body["response"].get("elapsed_minutes").is_none());

    // A pause on Monday 10:00-11:00 local, elapsed and remaining at Tuesday 10:00 local, and
    // thresholds of our own (unordered, repeated, one past due).
    let mut r = request();
    r["pauses"] = json!([{"from": "2026-11-23T15:00:00Z", "to": "2026-11-23T16:00:00Z"}]);
    r["at"] = json!("2026-11-24T15:00:00Z");
    r["thresholds"] = json!([120, 50, 50]);
    let (status, body) = preview(&env, &key, &r).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        instants(&body["resolution"]),
        pairs(&[
            (50, "2026-11-24T15:00:00Z"),
            (100, "2026-11-25T15:00:00Z"),
            // 1152 minutes: Monday 7 h, Tuesday 8 h, Wednesday 4 h 12 min.
            (120, "2026-11-25T18:12:00Z"),
        ])
    );
    assert_eq!(body["resolution"]["elapsed_minutes"], 480);
    assert_eq!(body["resolution"]["remaining_minutes"], 480);
    assert_eq!(body["response"]["elapsed_minutes"], 480);
    assert_eq!(body["response"]["remaining_minutes"], -420);

    // `at` before the start: nothing elapsed.
    r["at"] = json!("2026-11-20T15:00:00Z");
    let (_, body) = preview(&env, &key, &r).await;
    assert_eq!(body["response"]["elapsed_minutes"], 0);
    assert_eq!(body["response"]["remaining_minutes"], 60);

    // A recurring holiday on Tuesday moves Tuesday's hours to Wednesday.
    let mut r = request();
    r["schedule"]["holidays"] = json!([{"date": "2020-11-24", "recurring": true}]);
    let (_, body) = preview(&env, &key, &r).await;
    assert_eq!(body["resolution"]["due_at"], "2026-11-25T22:00:00Z");

    // A 24x7 schedule counts every minute; a zero target is due at the start.
    let mut r = request();
    r["schedule"]["is_24x7"] = json!(true);
    r["targets"]["response_minutes"] = json!(0);
    let (_, body) = preview(&env, &key, &r).await;
    assert_eq!(body["response"]["due_at"], "2026-11-23T14:00:00Z");
    assert_eq!(body["resolution"]["due_at"], "2026-11-24T06:00:00Z");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_schedule_by_id_answers_like_the_same_schedule_inline() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let tenant = env.a.seeded.tenant_id;
    let id = uuid::Uuid::now_v7();
    sqlx::query("INSERT INTO business_hours_schedules (tenant_id, id, name, timezone) VALUES ($1, $2, 'NY', 'America/New_York')")
        .bind(tenant)
        .bind(id)
        .execute(&env.owner)
        .await
        .unwrap();
    for d in 1..=5i16 {
        sqlx::query("INSERT INTO business_hours_windows (tenant_id, schedule_id, id, weekday, start_time, end_time) VALUES ($1, $2, $3, $4, '09:00', '17:00')")
            .bind(tenant)
            .bind(id)
            .bind(uuid::Uuid::now_v7())
            .bind(d)
            .execute(&env.owner)
            .await
            .unwrap();
    }
    // A global holiday applies to every schedule.
    sqlx::query("INSERT INTO holidays (tenant_id, id, name, date, recurring) VALUES ($1, $2, 'Thanksgiving', '2026-11-24', false)")
        .bind(tenant)
        .bind(uuid::Uuid::now_v7())
        .execute(&env.owner)
        .await
        .unwrap();
    let mut by_id = request();
    by_id.as_object_mut().unwrap().remove("schedule");
    by_id["schedule_id"] = json!(id);
    let (status, stored) = preview(&env, &env.a.key, &by_id).await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    let mut inline = request();
    inline["schedule"]["holidays"] = json!([{"date": "2026-11-24"}]);
    let (_, expected) = preview(&env, &env.a.key, &inline).await;
    assert_eq!(stored, expected);
    assert_eq!(stored["resolution"]["due_at"], "2026-11-25T22:00:00Z");

    // Another tenant's schedule does not exist for this one.
    let (status, body) = preview(&env, &env.b.key, &by_id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "schedule_id");
    // Clients may not run previews.
    let client = env.a.key_with_role(&env.owner, "client").await.unwrap();
    let (status, _) = preview(&env, &client, &request()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_400_naming_the_field() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    type Change = fn(&mut Value);
    let cases: Vec<(&str, Change)> = vec![
        ("started_at", |r| {
            r.as_object_mut().unwrap().remove("started_at");
        }),
        ("started_at", |r| r["started_at"] = json!("yesterday")),
        ("at", |r| r["at"] = json!("2026-13-01T00:00:00Z")),
        ("schedule.timezone", |r| {
            r["schedule"]["timezone"] = json!("Mars/Olympus")
        }),
        ("schedule.hours[0].start", |r| {
            r["schedule"]["hours"][0]["start"] = json!("9am")
        }),
        ("schedule.hours[0].start", |r| {
            r["schedule"]["hours"][0]["start"] = json!("24:00")
        }),
        ("schedule.hours[0].end", |r| {
            r["schedule"]["hours"][0]["end"] = json!("17:60")
        }),
        ("schedule.hours[0].end", |r| {
            r["schedule"]["hours"][0]["end"] = json!("09:00")
        }),
        ("schedule.hours[0].weekday", |r| {
            r["schedule"]["hours"][0]["weekday"] = json!(8)
        }),
        ("schedule.hours[0].weekday", |r| {
            r["schedule"]["hours"][0]["weekday"] = json!("Mon")
        }),
        ("schedule.hours[5]", |r| {
            r["schedule"]["hours"]
                .as_array_mut()
                .unwrap()
                .push(json!({"weekday": 1, "start": "16:00", "end": "18:00"}));
        }),
        ("schedule.holidays[0].date", |r| {
            r["schedule"]["holidays"][0]["date"] = json!("2024-02-30")
        }),
        ("schedule", |r| r["schedule"]["hours"] = json!([])),
        ("schedule", |r| {
            r["schedule_id"] = json!(uuid::Uuid::now_v7());
        }),
        ("schedule", |r| {
            r.as_object_mut().unwrap().remove("schedule");
        }),
        ("targets.response_minutes", |r| {
            r["targets"]["response_minutes"] = json!(-5)
        }),
        ("targets.resolution_minutes", |r| {
            r["targets"]["resolution_minutes"] = json!(1.5)
        }),
        ("targets.resolution_minutes", |r| {
            r["targets"]
                .as_object_mut()
                .unwrap()
                .remove("resolution_minutes");
        }),
        ("thresholds[1]", |r| r["thresholds"] = json!([50, 0])),
        ("thresholds[0]", |r| r["thresholds"] = json!([1001])),
        ("thresholds[0]", |r| r["thresholds"] = json!([12.5])),
        ("pauses[0].to", |r| {
            r["pauses"] = json!([{"from": "2026-11-23T16:00:00Z", "to": "2026-11-23T15:00:00Z"}]);
        }),
        ("pauses[0].from", |r| {
            r["pauses"] = json!([{"to": "2026-11-23T15:00:00Z"}])
        }),
        // Bounds that keep the computation's cost bounded (i64::MAX once ran for 77 s).
        ("targets.resolution_minutes", |r| {
            r["targets"]["resolution_minutes"] = json!(i64::MAX)
        }),
        ("targets.response_minutes", |r| {
            r["targets"]["response_minutes"] = json!(366 * 24 * 60 + 1)
        }),
        // One open minute a week would need ten thousand years for a year of minutes: the
        // calendar stops at the end of 2099 instead of walking there.
        ("schedule", |r| {
            r["schedule"]["hours"] = json!([{"weekday": 1, "start": "00:00", "end": "00:01"}]);
            r["targets"]["resolution_minutes"] = json!(366 * 24 * 60);
        }),
        ("at", |r| r["at"] = json!("9999-12-31T00:00:00Z")),
        ("started_at", |r| {
            r["started_at"] = json!("1970-01-01T00:00:00Z")
        }),
        ("pauses[0].to", |r| {
            r["pauses"] = json!([{"from": "2026-11-23T16:00:00Z", "to": "9999-01-01T00:00:00Z"}]);
        }),
        ("colour", |r| r["colour"] = json!("blue")),
        ("schedule.hours[0].colour", |r| {
            r["schedule"]["hours"][0]["colour"] = json!("blue")
        }),
    ];
    for (field, change) in cases {
        let mut body = request();
        change(&mut body);
        let (status, problem) = preview(&env, &env.a.key, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {problem}");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{field}: {problem}"))
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "expected {field} in {problem}");
        assert_eq!(problem["status"], 400);
    }
    env.shutdown().await;
}
