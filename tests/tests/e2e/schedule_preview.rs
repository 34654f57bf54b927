//! `POST /v1/schedules/preview` over HTTP: the example, one 400 naming the field for
//! every kind of bad input the contract lists, and hostile rules that must still be answered.
//! (Which roles may preview is checked by the role matrix in `roles.rs`.)

use psa_tests::{Parts, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn example() -> Value {
    json!({
        "start": "2026-03-02T09:00:00",
        "timezone": "America/New_York",
        "duration_minutes": 60,
        "rrule": "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10",
        "exdates": ["2026-03-04T09:00:00"],
        "from": "2026-03-01T00:00:00Z",
        "to": "2026-05-01T00:00:00Z",
        "limit": 100
    })
}

async fn preview(env: &TestEnv, key: &str, body: &Value) -> (StatusCode, Value) {
    let r = env
        .req(Method::POST, "/v1/schedules/preview", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn with(changes: Value) -> Value {
    let mut body = example();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            body.as_object_mut().unwrap().remove(k);
        } else {
            body[k] = v.clone();
        }
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_and_every_refusal_the_contract_lists() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key_with_role(&env.owner, "billing").await.unwrap();

    let (status, body) = preview(&env, &key, &example()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let occurrences = body["occurrences"].as_array().unwrap();
    assert_eq!(occurrences.len(), 9, "COUNT=10 less one exception: {body}");
    assert_eq!(body["truncated"], false);
    assert_eq!(
        occurrences[0],
        json!({"start": "2026-03-02T14:00:00Z", "end": "2026-03-02T15:00:00Z",
               "local_start": "2026-03-02T09:00:00"})
    );
    // New York moves to EDT on 8 March: 09:00 is then 13:00 UTC.
    assert_eq!(occurrences[1]["start"], "2026-03-09T13:00:00Z");

    // A time in the spring-forward gap moves forward by the gap; local_start says so.
    let gap = with(json!({"start": "2026-03-08T02:30:00", "rrule": null, "exdates": null}));
    let (status, body) = preview(&env, &key, &gap).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["occurrences"][0],
        json!({"start": "2026-03-08T07:30:00Z", "end": "2026-03-08T08:30:00Z",
               "local_start": "2026-03-08T03:30:00"})
    );

    // limit cuts the list and `truncated` says more lie in the window.
    let (_, body) = preview(&env, &key, &with(json!({"limit": 3}))).await;
    assert_eq!(body["occurrences"].as_array().unwrap().len(), 3);
    assert_eq!(body["truncated"], true);

    // A rule that makes nothing in the window is a 200 with no occurrences.
    let (status, body) = preview(
        &env,
        &key,
        &with(json!({"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["occurrences"], json!([]));

    let refusals: Vec<(Value, &str)> = vec![
        (with(json!({"start": null})), "start"),
        (with(json!({"duration_minutes": "60"})), "duration_minutes"),
        (with(json!({"timezone": "Mars/Olympus_Mons"})), "timezone"),
        (with(json!({"start": "2026-03-02T09:00:00Z"})), "start"),
        (with(json!({"start": "2026-03-02T09:00:00.000"})), "start"),
        (with(json!({"start": "2026-03-02 09:00:00"})), "start"),
        (
            with(json!({"exdates": ["2026-03-04T09:00:00+01:00"]})),
            "exdates",
        ),
        (with(json!({"from": "2026-03-01"})), "from"),
        (with(json!({"to": "tomorrow"})), "to"),
        (with(json!({"rrule": "FREQ=FORTNIGHTLY"})), "rrule"),
        (with(json!({"rrule": "FREQ=HOURLY"})), "rrule"),
        (with(json!({"rrule": "freq=weekly"})), "rrule"),
        (with(json!({"rrule": "RRULE:FREQ=WEEKLY"})), "rrule"),
        (with(json!({"rrule": "FREQ=WEEKLY;BYHOUR=9"})), "rrule"),
        (with(json!({"rrule": "FREQ=WEEKLY;BYDAY=1MO"})), "rrule"),
        (with(json!({"rrule": "FREQ=WEEKLY;BYMONTHDAY=1"})), "rrule"),
        (with(json!({"rrule": "FREQ=MONTHLY;BYSETPOS=1"})), "rrule"),
        (
            with(json!({"rrule": "FREQ=DAILY;COUNT=2;UNTIL=20260401T000000Z"})),
            "rrule",
        ),
        (with(json!({"rrule": "FREQ=DAILY;UNTIL=20260401"})), "rrule"),
        (
            with(json!({"rrule": "FREQ=DAILY;UNTIL=20260401T000000"})),
            "rrule",
        ),
        (with(json!({"rrule": "FREQ=DAILY;INTERVAL=0"})), "rrule"),
        (with(json!({"rrule": "FREQ=DAILY;COUNT=0"})), "rrule"),
        (with(json!({"rrule": "FREQ=DAILY;FREQ=WEEKLY"})), "rrule"),
        (
            with(json!({"rrule": "FREQ=MONTHLY;BYMONTHDAY=32"})),
            "rrule",
        ),
        (with(json!({"rrule": "FREQ=MONTHLY;BYDAY=0MO"})), "rrule"),
        (with(json!({"duration_minutes": 0})), "duration_minutes"),
        (
            with(json!({"duration_minutes": 10_081})),
            "duration_minutes",
        ),
        (with(json!({"duration_minutes": 1.5})), "duration_minutes"),
        (with(json!({"to": "2026-03-01T00:00:00Z"})), "to"),
        (with(json!({"to": "2036-03-09T00:00:00Z"})), "to"),
        (with(json!({"limit": 0})), "limit"),
        (with(json!({"limit": 1_001})), "limit"),
        (
            with(json!({"exdates": ["2026-03-04T09:00:00", 5]})),
            "exdates",
        ),
        (with(json!({"rrule": "FREQ=WEEKLY;BYDAY=MO\u{0}"})), "rrule"),
        (
            with(json!({"timezone": "America/New_York\u{0}"})),
            "timezone",
        ),
    ];
    for (body, field) in refusals {
        let (status, answer) = preview(&env, &key, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        let named: Vec<&str> = answer["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert!(
            named.contains(&field),
            "{body}: expected {field}, got {answer}"
        );
    }

    // The window may be exactly 3660 days wide.
    let (status, body) = preview(&env, &key, &with(json!({"to": "2036-03-08T00:00:00Z"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_rules_are_answered_not_abandoned() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    let far = |rrule: &str, start: &str, from: &str, to: &str| {
        json!({"start": start, "timezone": "Pacific/Apia", "duration_minutes": 10_080,
               "rrule": rrule, "from": from, "to": to, "limit": 1_000})
    };
    let cases = [
        // Nothing for centuries: 30 February.
        far(
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
            "0001-01-01T00:00:00",
            "9989-01-01T00:00:00Z",
            "9999-01-01T00:00:00Z",
        ),
        far(
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;BYSETPOS=-1",
            "1900-01-01T00:00:00",
            "2020-01-01T00:00:00Z",
            "2030-01-01T00:00:00Z",
        ),
        // Every day from year 1, read at the end of time.
        far(
            "FREQ=DAILY",
            "0001-01-01T00:00:00",
            "9989-12-31T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ),
        // A COUNT that can be reached only by walking millions of days.
        far(
            "FREQ=DAILY;COUNT=3000000",
            "2000-01-01T00:00:00",
            "9989-12-31T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ),
        far(
            "FREQ=DAILY;COUNT=4294967296",
            "2000-01-01T00:00:00",
            "2026-01-01T00:00:00Z",
            "2027-01-01T00:00:00Z",
        ),
        far(
            "FREQ=MONTHLY;INTERVAL=65535",
            "2000-01-31T00:00:00",
            "2000-01-01T00:00:00Z",
            "2010-01-01T00:00:00Z",
        ),
        far(
            "FREQ=YEARLY;BYDAY=-53MO,53SU;BYSETPOS=366,-366",
            "2000-01-31T00:00:00",
            "2000-01-01T00:00:00Z",
            "2010-01-01T00:00:00Z",
        ),
        far(
            "FREQ=WEEKLY;BYDAY=MO\u{0}",
            "2000-01-31T00:00:00",
            "2000-01-01T00:00:00Z",
            "2010-01-01T00:00:00Z",
        ),
        far(
            "FREQ=WEEKLY;BYDAY=\u{1F4A9}MO",
            "2000-01-31T00:00:00",
            "2000-01-01T00:00:00Z",
            "2010-01-01T00:00:00Z",
        ),
        far(
            "FREQ=DAILY;INTERVAL=99999999999999999999999",
            "2000-01-31T00:00:00",
            "2000-01-01T00:00:00Z",
            "2010-01-01T00:00:00Z",
        ),
    ];
    for body in cases {
        // A computation past the shared time limit would be abandoned with a 422; these must
        // all be answered (how fast is measured by `scripts/bench schedules`).
        let (status, answer) = preview(&env, &key, &body).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
            "{body} → {status} {answer}"
        );
    }
}
