//! Manual invoices against real Postgres: a draft priced by the engine, finalization taking
//! the tenant's next gapless number (also under concurrent finalizations), credits drawn down
//! and given back on void, the ledger agreeing with every invoice, and what a client-portal
//! key may see.

use psa_tests::{Parts, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

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

fn draft_body(client: uuid::Uuid) -> Value {
    json!({"client_id": client, "currency": "USD", "invoice_date": "2026-03-01",
        "items": [{"description": "Server rebuild", "quantity": "3", "unit_price": "95.50"},
                  {"description": "Cables", "quantity": "2", "unit_price": "4.995", "taxable": false}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_invoice_is_priced_numbered_credited_and_voided() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let s = &env.a.seeded;
    let region = env
        .ok(
            Method::POST,
            "/v1/tax-regions",
            &key,
            &json!({"name": "NY", "components": [{"name": "Sales tax", "rate": "8.875"}]}),
        )
        .await;
    env.ok(
        Method::PUT,
        &format!("/v1/clients/{}/tax-settings", s.client_id),
        &key,
        &json!({"region_id": region["id"]}),
    )
    .await;
    let credit = env
        .ok(
            Method::POST,
            "/v1/credits",
            &key,
            &json!({"client_id": s.client_id, "amount": "100.00", "currency": "USD"}),
        )
        .await;

    let draft = env
        .ok(Method::POST, "/v1/invoices", &key, &draft_body(s.client_id))
        .await;
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["number"], Value::Null);
    // 3 × 95.50 = 286.50; 2 × 4.995 = 9.99 (rounded once); tax 8.875% of 286.50 = 25.43 (up).
    let amounts: Vec<&str> = draft["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["amount"].as_str().unwrap())
        .collect();
    assert_eq!(amounts, ["286.50", "9.99"]);
    assert_eq!(draft["tax_total"], "25.43");
    assert_eq!(draft["total"], "321.92");
    assert_eq!(draft["due_date"], "2026-03-31", "30 days' terms by default");
    let id = draft["id"].as_str().unwrap().to_owned();

    // A client-portal key sees no draft.
    let portal = env.a.key_with_role(&env.owner, "client").await.unwrap();
    let (status, _) = call(
        &env,
        Method::GET,
        &format!("/v1/invoices/{id}"),
        &portal,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let patched = env
        .ok(
            Method::PATCH,
            &format!("/v1/invoices/{id}"),
            &key,
            &json!({"note": "March work"}),
        )
        .await;
    assert_eq!(patched["note"], "March work");
    let fin = env
        .ok(
            Method::POST,
            &format!("/v1/invoices/{id}/finalize"),
            &key,
            &json!({}),
        )
        .await;
    assert_eq!(fin["number"], "INV-00001");
    assert_eq!(fin["status"], "finalized");
    assert_eq!(fin["credits_applied"], "100.00");
    assert_eq!(fin["amount_due"], "221.92");
    let c = env
        .ok(
            Method::GET,
            &format!("/v1/credits/{}", credit["id"].as_str().unwrap()),
            &key,
            &json!(null),
        )
        .await;
    assert_eq!(c["remaining"], "0.00");
    // Finalized invoices do not change, and finalize twice is refused.
    let (status, _) = call(
        &env,
        Method::PATCH,
        &format!("/v1/invoices/{id}"),
        &key,
        Some(&json!({"note": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = call(
        &env,
        Method::POST,
        &format!("/v1/invoices/{id}/finalize"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Now the portal sees it, and only its own client's.
    let (status, seen) = call(
        &env,
        Method::GET,
        &format!("/v1/invoices/{id}"),
        &portal,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    let (status, page) = call(&env, Method::GET, "/v1/invoices", &portal, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (status, _) = call(
        &env,
        Method::POST,
        &format!("/v1/invoices/{id}/void"),
        &portal,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Void gives the credit back and leaves nothing owed; the ledger agrees.
    let void = env
        .ok(
            Method::POST,
            &format!("/v1/invoices/{id}/void"),
            &key,
            &json!({}),
        )
        .await;
    assert_eq!(void["status"], "void");
    assert_eq!(
        void["number"], "INV-00001",
        "a void invoice keeps its number"
    );
    assert_eq!(void["amount_due"], "0.00");
    let c = env
        .ok(
            Method::GET,
            &format!("/v1/credits/{}", credit["id"].as_str().unwrap()),
            &key,
            &json!(null),
        )
        .await;
    assert_eq!(c["remaining"], "100.00");
    let (status, _) = call(
        &env,
        Method::POST,
        &format!("/v1/invoices/{id}/void"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let rec = env
        .ok(Method::GET, "/v1/ledger/reconciliation", &key, &json!(null))
        .await;
    assert_eq!(rec["mismatches"], json!([]), "{rec}");
    // Nobody outside the tenant sees it.
    let (status, _) = call(
        &env,
        Method::GET,
        &format!("/v1/invoices/{id}"),
        &env.b.key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_finalizations_take_every_number_once_with_no_gap() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key.clone();
    let s = &env.a.seeded;
    // The numbering starts where the tenant's old system stopped, before any invoice.
    let settings = env
        .ok(
            Method::PATCH,
            "/v1/invoice-settings",
            &key,
            &json!({"prefix": "A-", "padding": 4, "next_number": 998}),
        )
        .await;
    assert_eq!(settings["next_number"], 998);
    let mut ids = Vec::new();
    for _ in 0..24 {
        let d = env
            .ok(Method::POST, "/v1/invoices", &key, &draft_body(s.client_id))
            .await;
        ids.push(d["id"].as_str().unwrap().to_owned());
    }
    let paths: Vec<String> = ids
        .iter()
        .map(|id| format!("/v1/invoices/{id}/finalize"))
        .collect();
    let finals = futures::future::join_all(
        paths
            .iter()
            .map(|path| call(&env, Method::POST, path, &key, None)),
    )
    .await;
    let mut numbers = BTreeSet::new();
    for (status, inv) in finals {
        assert_eq!(status, StatusCode::OK, "{inv}");
        assert!(
            numbers.insert(inv["number"].as_str().unwrap().to_owned()),
            "repeated: {inv}"
        );
    }
    let expected: BTreeSet<String> = (998..998 + 24).map(|n| format!("A-{n:04}")).collect();
    assert_eq!(numbers, expected);
    // With invoices numbered, the counter cannot move any more.
    let (status, _) = call(
        &env,
        Method::PATCH,
        "/v1/invoice-settings",
        &key,
        Some(&json!({"next_number": 5000})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = call(
        &env,
        Method::PATCH,
        "/v1/invoice-settings",
        &key,
        Some(&json!({"prefix": "B-"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Another tenant numbers from its own 1.
    let b = env
        .ok(
            Method::POST,
            "/v1/invoices",
            &env.b.key,
            &draft_body(env.b.seeded.client_id),
        )
        .await;
    let b = env
        .ok(
            Method::POST,
            &format!("/v1/invoices/{}/finalize", b["id"].as_str().unwrap()),
            &env.b.key,
            &json!({}),
        )
        .await;
    assert_eq!(b["number"], "INV-00001");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_manual_invoices_are_refused_naming_the_field() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key.clone();
    let client = env.a.seeded.client_id;
    let item = |q: &str, p: &str| json!({"description": "x", "quantity": q, "unit_price": p});
    for (body, field) in [
        (
            json!({"client_id": client, "currency": "USD", "items": []}),
            "items",
        ),
        (
            json!({"client_id": client, "currency": "usd", "items": [item("1", "1")]}),
            "currency",
        ),
        (
            json!({"client_id": client, "currency": "USD", "items": [item("1", "1e3")]}),
            "items[0]",
        ),
        (
            json!({"client_id": client, "currency": "USD", "items": [item("-1", "1")]}),
            "items[0]",
        ),
        (
            json!({"client_id": uuid::Uuid::now_v7(), "currency": "USD", "items": [item("1", "1")]}),
            "client_id",
        ),
        (
            json!({"client_id": client, "currency": "USD", "invoice_date": "2026-03-02", "due_date": "2026-03-01", "items": [item("1", "1")]}),
            "due_date",
        ),
    ] {
        let (status, problem) = call(&env, Method::POST, "/v1/invoices", &key, Some(&body)).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        let named = problem["errors"][0]["field"].as_str().unwrap_or("");
        assert!(named.starts_with(field), "{body}: {problem}");
    }
    assert_eq!(env.count("invoices").await, 0);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_over_payment_and_refunds_keep_invoice_and_ledger_in_step() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let client = env.a.seeded.client_id;
    let draft = env
        .ok(Method::POST, "/v1/invoices", &key, &draft_body(client))
        .await;
    let id = draft["id"].as_str().unwrap().to_owned();
    let inv = env
        .ok(
            Method::POST,
            &format!("/v1/invoices/{id}/finalize"),
            &key,
            &json!({}),
        )
        .await;
    // Untaxed client: 286.50 + 9.99.
    assert_eq!(inv["total"], "296.49");
    let pay = |amount: &str| {
        json!({"client_id": client, "invoice_id": id, "amount": amount, "currency": "USD",
               "received_on": "2026-03-10", "method": "bank_transfer"})
    };
    let first = env
        .ok(Method::POST, "/v1/payments", &key, &pay("100.00"))
        .await;
    let inv = env
        .ok(
            Method::GET,
            &format!("/v1/invoices/{id}"),
            &key,
            &json!(null),
        )
        .await;
    assert_eq!(inv["status"], "partially_paid");
    assert_eq!(inv["amount_due"], "196.49");
    // Paying more than is due: the rest is the client's credit.
    let second = env
        .ok(Method::POST, "/v1/payments", &key, &pay("250.00"))
        .await;
    assert_eq!(second["applied"], "196.49");
    let credit = second["credit_id"]
        .as_str()
        .expect("an over-payment credit")
        .to_owned();
    let c = env
        .ok(
            Method::GET,
            &format!("/v1/credits/{credit}"),
            &key,
            &json!(null),
        )
        .await;
    assert_eq!(c["remaining"], "53.51");
    assert_eq!(c["source"], "overpayment");
    let inv = env
        .ok(
            Method::GET,
            &format!("/v1/invoices/{id}"),
            &key,
            &json!(null),
        )
        .await;
    assert_eq!(inv["status"], "paid");
    assert_eq!(inv["amount_due"], "0.00");
    // A paid invoice cannot be voided; a refund cannot exceed what was paid.
    let (status, _) = call(
        &env,
        Method::POST,
        &format!("/v1/invoices/{id}/void"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let first_id = first["id"].as_str().unwrap();
    let (status, problem) = call(
        &env,
        Method::POST,
        &format!("/v1/payments/{first_id}/refunds"),
        &key,
        Some(&json!({"amount": "100.01"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    env.ok(
        Method::POST,
        &format!("/v1/payments/{first_id}/refunds"),
        &key,
        &json!({"amount": "40.00"}),
    )
    .await;
    let inv = env
        .ok(
            Method::GET,
            &format!("/v1/invoices/{id}"),
            &key,
            &json!(null),
        )
        .await;
    assert_eq!(inv["status"], "partially_paid");
    assert_eq!(inv["amount_due"], "40.00");
    // The ledger agrees with every invoice and credit.
    let rec = env
        .ok(Method::GET, "/v1/ledger/reconciliation", &key, &json!(null))
        .await;
    assert_eq!(rec["mismatches"], json!([]), "{rec}");
    assert_eq!(rec["credit_mismatches"], json!([]), "{rec}");
    let balance = env
        .ok(
            Method::GET,
            &format!("/v1/clients/{client}/balance"),
            &key,
            &json!(null),
        )
        .await;
    let usd = &balance["balances"][0];
    assert_eq!(usd["currency"], "USD");
    assert_eq!(usd["receivable"], "40.00", "{balance}");
    assert_eq!(usd["credit"], "53.51", "{balance}");
    env.shutdown().await;
}
