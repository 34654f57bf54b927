//! `POST /v1/clients/{id}/invoice-preview` against real Postgres: a client's stored contract,
//! approved time, usage, tax and credits make exactly the invoice the stateless preview makes
//! from the same data written out by hand, and what must not be billed (unapproved time,
//! another period's usage, another client's records) is not.

use psa_tests::{Parts, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn post(env: &TestEnv, path: &str, key: &str, body: &Value) -> (StatusCode, Value) {
    let r = env
        .req(Method::POST, path, key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stored_preview_is_the_stateless_preview_of_the_same_data() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let s = &env.a.seeded;
    let client = s.client_id;
    let ok = async |path: &str, body: Value| env.ok(Method::POST, path, &key, &body).await;

    // The seeded "Remote support" service bills 150.00 an hour in USD.
    let support = s.service_id.to_string();
    let backup = id(&ok(
        "/v1/services",
        json!({"name": "Backup", "unit": "GB", "rates": {"USD": "0.10"}}),
    )
    .await);
    let contract = id(&ok("/v1/contracts", json!({"name": "Managed IT"})).await);
    let lines = format!("/v1/contracts/{contract}/lines");
    let fee = id(&ok(
        &lines,
        json!({"type": "fixed", "terms": {"amount": "500.00", "prorate": true}}),
    )
    .await);
    let hourly = id(&ok(
        &lines,
        json!({"type": "hourly", "service_id": support,
        "terms": {"minimum_minutes": 30, "round_up_to_minutes": 15}}),
    )
    .await);
    let metered = id(&ok(&lines, json!({"type": "usage", "service_id": backup,
        "terms": {"tiers": [{"up_to": "100", "unit_price": "0.10"}, {"up_to": null, "unit_price": "0.05"}]}})).await);
    let licences = id(&ok(
        &lines,
        json!({"type": "product", "taxable": false,
        "terms": {"unit_price": "5.00", "quantity": "3"}}),
    )
    .await);
    // On the contract from 10 January: January is prorated, 22 of 31 days.
    ok(
        "/v1/client-contracts",
        json!({"client_id": client, "contract_id": contract,
        "start_date": "2026-01-10", "currency": "USD", "billing_cycle": "monthly"}),
    )
    .await;
    let region = id(&ok(
        "/v1/tax-regions",
        json!({"name": "NY", "components": [{"name": "Sales tax", "rate": "8.875"}]}),
    )
    .await);
    env.ok(
        Method::PUT,
        &format!("/v1/clients/{client}/tax-settings"),
        &key,
        &json!({"region_id": region}),
    )
    .await;
    let credit = id(&ok("/v1/credits", json!({"client_id": client, "amount": "50.00", "currency": "USD", "expires_on": "2026-12-31"})).await);
    // An expired one and one in another currency are left alone by the engine.
    ok("/v1/credits", json!({"client_id": client, "amount": "20.00", "currency": "USD", "expires_on": "2026-01-15"})).await;
    ok(
        "/v1/credits",
        json!({"client_id": client, "amount": "20.00", "currency": "EUR"}),
    )
    .await;

    for (n, (q, at)) in [
        ("120.5", "2026-01-12T10:00:00Z"),
        ("30", "2026-01-31T23:59:59Z"),
        ("999", "2026-02-01T00:00:00Z"),
    ]
    .iter()
    .enumerate()
    {
        ok(
            "/v1/usage",
            json!({"client_id": client, "service_id": backup, "quantity": q,
            "occurred_at": at, "external_id": format!("meter/{n}")}),
        )
        .await;
    }

    // The technician's time: two entries in an approved timesheet, one in a draft one.
    let worker = s.technician_user_id;
    let entry = async |date: &str, minutes: u32| {
        id(&ok(
            "/v1/time-entries",
            json!({"worker_id": worker, "client_id": client,
            "service_id": support, "work_date": date, "minutes": minutes}),
        )
        .await)
    };
    let e1 = entry("2026-01-12", 70).await;
    let e2 = entry("2026-01-13", 10).await;
    entry("2026-01-20", 600).await;
    let week = id(&ok(
        "/v1/timesheets",
        json!({"worker_id": worker, "period_start": "2026-01-12", "period_end": "2026-01-19"}),
    )
    .await);
    ok(
        "/v1/timesheets",
        json!({"worker_id": worker, "period_start": "2026-01-19", "period_end": "2026-01-26"}),
    )
    .await;
    ok(
        &format!("/v1/timesheets/{week}/submit"),
        json!({"approver_id": s.admin_user_id}),
    )
    .await;
    ok(&format!("/v1/timesheets/{week}/approve"), json!({})).await;

    let (status, stored) = post(
        &env,
        &format!("/v1/clients/{client}/invoice-preview?period_start=2026-01-01"),
        &key,
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stored}");

    let by_hand = json!({
        "currency": "USD",
        "period": {"start": "2026-01-01", "end": "2026-02-01"},
        "lines": [
            {"id": fee, "type": "fixed", "amount": "500.00", "prorate": true, "active_from": "2026-01-10", "taxable": true, "tax_region": "NY"},
            {"id": hourly, "type": "hourly", "rate": "150.00", "minimum_minutes": 30, "round_up_to_minutes": 15, "taxable": true, "tax_region": "NY"},
            {"id": metered, "type": "usage", "tiers": [{"up_to": "100", "unit_price": "0.10"}, {"up_to": null, "unit_price": "0.05"}], "taxable": true, "tax_region": "NY"},
            {"id": licences, "type": "product", "unit_price": "5.00", "quantity": "3", "taxable": false},
        ],
        "time_entries": [{"id": e1, "line": hourly, "minutes": 70}, {"id": e2, "line": hourly, "minutes": 10}],
        "usage": [{"line": metered, "quantity": "120.5"}, {"line": metered, "quantity": "30"}],
        "tax": {"regions": {"NY": [{"name": "Sales tax", "rate": "8.875"}]}},
        "credits": [{"id": credit, "amount": "50.00", "currency": "USD", "expires_on": "2026-12-31"}],
    });
    let (status, stateless) = post(&env, "/v1/invoices/preview", &key, &by_hand).await;
    assert_eq!(status, StatusCode::OK, "{stateless}");
    assert_eq!(stored, stateless);

    // And the figures themselves: 500.00 × 22/31 = 354.84; 70 min → 75 min and 10 → 30 at
    // 150.00/h = 187.50 and 75.00; 150.5 GB graduated = 10.00 + 2.525 → 12.53; 3 × 5.00.
    let amounts: Vec<&str> = stored["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["amount"].as_str().unwrap())
        .collect();
    assert_eq!(amounts, ["354.84", "187.50", "75.00", "12.53", "15.00"]);
    assert_eq!(stored["subtotal"], "644.87");
    // Tax on the taxable 629.87 at 8.875% = 55.9009…, rounded up.
    assert_eq!(stored["tax"][0]["base"], "629.87");
    assert_eq!(stored["tax"][0]["amount"], "55.91");
    assert_eq!(
        stored["credits_applied"],
        json!([{"credit_id": credit, "amount": "50.00"}])
    );
    assert_eq!(stored["amount_due"], "650.78");

    // A day that starts no period of the client is refused, naming the next one.
    let (status, problem) = post(
        &env,
        &format!("/v1/clients/{client}/invoice-preview?period_start=2026-01-02"),
        &key,
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "period_start");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2026-02-01"),
        "{problem}"
    );
    // February bills the whole fee and February's usage only.
    let (status, feb) = post(
        &env,
        &format!("/v1/clients/{client}/invoice-preview?period_start=2026-02-01"),
        &key,
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{feb}");
    let kinds: Vec<&str> = feb["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["fixed", "usage", "product"]);
    assert_eq!(feb["items"][0]["amount"], "500.00");
    // 999 GB graduated: 10.00 + 899 × 0.05 = 54.95.
    assert_eq!(feb["items"][1]["amount"], "54.95");

    // The client's data is the tenant's: another tenant finds no such client, and a
    // technician may not preview invoices.
    let (status, _) = post(
        &env,
        &format!("/v1/clients/{client}/invoice-preview?period_start=2026-01-01"),
        &env.b.key,
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let tech = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    let (status, _) = post(
        &env,
        &format!("/v1/clients/{client}/invoice-preview?period_start=2026-01-01"),
        &tech,
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_advance_contract_bills_this_period_s_fee_with_last_period_s_time() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key.clone();
    let s = &env.a.seeded;
    let ok = async |path: &str, body: Value| env.ok(Method::POST, path, &key, &body).await;
    let contract = id(&ok("/v1/contracts", json!({"name": "Quarterly care"})).await);
    let lines = format!("/v1/contracts/{contract}/lines");
    ok(
        &lines,
        json!({"type": "fixed", "terms": {"amount": "3000.00"}}),
    )
    .await;
    let hourly = id(&ok(&lines, json!({"type": "hourly", "terms": {"rate": "100"}})).await);
    ok(
        "/v1/client-contracts",
        json!({"client_id": s.client_id, "contract_id": contract,
        "start_date": "2026-01-01", "currency": "USD", "billing_cycle": "quarterly",
        "timing": "advance"}),
    )
    .await;
    let worker = s.technician_user_id;
    for (date, minutes) in [("2026-03-30", 60), ("2026-04-02", 30)] {
        ok(
            "/v1/time-entries",
            json!({"worker_id": worker, "client_id": s.client_id,
            "service_id": s.service_id, "work_date": date, "minutes": minutes}),
        )
        .await;
    }
    let sheet = id(&ok(
        "/v1/timesheets",
        json!({"worker_id": worker, "period_start": "2026-03-30", "period_end": "2026-04-06"}),
    )
    .await);
    ok(
        &format!("/v1/timesheets/{sheet}/submit"),
        json!({"approver_id": s.admin_user_id}),
    )
    .await;
    ok(&format!("/v1/timesheets/{sheet}/approve"), json!({})).await;
    let (status, q2) = post(
        &env,
        &format!(
            "/v1/clients/{}/invoice-preview?period_start=2026-04-01",
            s.client_id
        ),
        &key,
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{q2}");
    assert_eq!(
        q2["period"],
        json!({"start": "2026-04-01", "end": "2026-07-01"})
    );
    // The quarter's fee, and the first quarter's hour (30 March), not April's half hour.
    assert_eq!(
        q2["items"],
        json!([
            {"line_id": q2["items"][0]["line_id"], "kind": "fixed", "amount": "3000.00"},
            {"line_id": hourly, "kind": "time", "entry_id": q2["items"][1]["entry_id"], "minutes": 60, "rate": "100", "amount": "100.00"},
        ])
    );
    env.shutdown().await;
}
