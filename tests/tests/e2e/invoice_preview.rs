//! `POST /v1/invoices/preview` over HTTP: the contract's answer to the minor unit, refusals
//! naming their field, hostile numbers answered 400 (never 5xx), and a request at the
//! contract's size (1,000 lines, 10,000 entries, beyond the default body limit) answered.

use psa_tests::{Parts, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn preview(env: &TestEnv, key: &str, body: &Value) -> (StatusCode, Value) {
    let r = env
        .req(Method::POST, "/v1/invoices/preview", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preview_answers_the_contract_to_the_minor_unit() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let body = json!({
        "currency": "USD",
        "period": { "start": "2026-01-01", "end": "2026-02-01" },
        "lines": [
            { "id": "support", "type": "fixed", "amount": "500.00", "tax_region": "NY",
              "services": [{ "id": "helpdesk", "weight": "10000" }, { "id": "backup", "weight": "30000" }] },
            { "id": "onsite", "type": "hourly", "rate": "120", "minimum_minutes": 30,
              "round_up_to_minutes": 15, "tax_region": "NY" }
        ],
        "time_entries": [{ "id": "e1", "line": "onsite", "minutes": 70 }],
        "tax": { "regions": { "NY": [{ "name": "Sales tax", "rate": "8.875" }] } },
        "credits": [{ "id": "c1", "amount": "50.00", "currency": "USD" }]
    });
    // The billing role runs previews as the admin does.
    let billing = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let (status, draft) = preview(&env, &billing, &body).await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    // 70 minutes, 30-minute minimum, rounded up to 15: 75 minutes at 120/h = 150.00.
    assert_eq!(
        draft["items"],
        json!([
            { "line_id": "support", "kind": "fixed", "amount": "500.00",
              "allocations": [{ "service_id": "helpdesk", "amount": "125.00" },
                              { "service_id": "backup", "amount": "375.00" }] },
            { "line_id": "onsite", "kind": "time", "entry_id": "e1", "minutes": 75,
              "rate": "120", "amount": "150.00" }
        ])
    );
    assert_eq!(draft["subtotal"], "650.00");
    // 650.00 at 8.875% is 57.6875, rounded up: 57.69.
    assert_eq!(
        draft["tax"],
        json!([{ "region": "NY", "name": "Sales tax", "base": "650.00", "amount": "57.69" }])
    );
    assert_eq!(draft["total"], "707.69");
    assert_eq!(
        draft["credits_applied"],
        json!([{ "credit_id": "c1", "amount": "50.00" }])
    );
    assert_eq!(draft["amount_due"], "657.69");
    assert_eq!(draft["credit_created"], "0.00");
    assert_eq!(draft["reverse_charge"], false);
    assert_eq!(draft["buckets"], json!([]));
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_and_hostile_requests_are_400s_naming_their_field() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let base = json!({
        "currency": "USD",
        "period": { "start": "2026-01-01", "end": "2026-02-01" },
        "lines": [{ "id": "l", "type": "product", "unit_price": "2.50", "quantity": "4" }]
    });
    let with = |pointer: &str, value: Value| {
        let mut b = base.clone();
        *b.pointer_mut(pointer).unwrap() = value;
        b
    };
    let cases = [
        (with("/currency", json!("XYZ")), "currency"),
        (with("/period/end", json!("2026-01-01")), "period.end"),
        (with("/period/end", json!("2028-01-01")), "period.end"),
        (
            with("/lines/0/unit_price", json!(2.5)),
            "lines[0].unit_price",
        ),
        (
            with("/lines/0/unit_price", json!("1e3")),
            "lines[0].unit_price",
        ),
        (
            with("/lines/0/unit_price", json!("2.1234567")),
            "lines[0].unit_price",
        ),
        (with("/lines/0/quantity", json!("-1")), "lines[0].quantity"),
        (
            with("/lines/0/quantity", json!("79228162514264337593543950335")),
            "lines[0]",
        ),
        (
            with("/lines/0/type", json!("subscription")),
            "lines[0].type",
        ),
    ];
    for (body, expected) in cases {
        let (status, problem) = preview(&env, &env.a.key, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {problem}");
        assert!(
            field(&problem).starts_with(expected),
            "{body}: expected {expected}, got {problem}"
        );
    }
    // A NUL is refused before any field is read, as everywhere in the API (422).
    let (status, problem) = preview(&env, &env.a.key, &with("/lines/0/id", json!("a\u{0}b"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(field(&problem), "lines[0].id");
    // Money with more decimals than the currency has is refused; JPY has none.
    let mut jpy = with("/currency", json!("JPY"));
    jpy["lines"] = json!([{ "id": "f", "type": "fixed", "amount": "10.5" }]);
    let (status, problem) = preview(&env, &env.a.key, &jpy).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(field(&problem), "lines[0].amount");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_lines_and_ten_thousand_entries_are_answered_in_time() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let lines: Vec<Value> = (0..1000)
        .map(|i| {
            json!({ "id": format!("line-{i}"), "type": "hourly", "rate": "97.5",
                         "minimum_minutes": 15, "round_up_to_minutes": 6,
                         "overtime": { "after_minutes": 300, "rate": "140" } })
        })
        .collect();
    let entries: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({ "id": format!("entry-{i}"), "line": format!("line-{}", i % 1000),
                         "minutes": 17 + i % 90 })
        })
        .collect();
    let body = json!({
        "currency": "EUR",
        "period": { "start": "2026-03-01", "end": "2026-04-01" },
        "lines": lines,
        "time_entries": entries,
        "discounts": [{ "id": "volume", "type": "percentage", "percent": "3.5" }],
    });
    // Larger than the edge's default body limit: this operation takes bigger bodies.
    assert!(serde_json::to_vec(&body).unwrap().len() > 262_144);
    let (status, draft) = preview(&env, &env.a.key, &body).await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    // Ten entries per line, at most one of them crossing into overtime.
    let items = draft["items"].as_array().unwrap();
    assert!(items.len() >= 10_001, "{} items", items.len());
    assert_eq!(items.last().unwrap()["kind"], "discount");
    env.shutdown().await;
}
