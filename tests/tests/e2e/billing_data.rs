//! The billing records over HTTP against real Postgres: services, contracts and lines, client
//! contracts, tax, credits and usage. Who may read and write them, what is refused (naming the
//! field), tenant isolation, and usage recorded once per meter reading.

use psa_tests::{Parts, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

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

fn field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billing_records_are_written_by_admin_and_billing_and_refused_to_others() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let billing = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let tech = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    let client = env.a.key_with_role(&env.owner, "client").await.unwrap();
    let service = env
        .ok(
            Method::POST,
            "/v1/services",
            &billing,
            &json!({"name": "Onsite support", "unit": "hour", "rates": {"USD": "120.00", "EUR": "110"}}),
        )
        .await;
    assert_eq!(service["rates"], json!({"EUR": "110", "USD": "120.00"}));
    assert_eq!(service["taxable"], true);
    let sid = service["id"].as_str().unwrap().to_owned();

    for key in [&tech, &client] {
        for (method, path, body) in [
            (
                Method::POST,
                "/v1/services".to_owned(),
                Some(json!({"name": "X", "unit": "each"})),
            ),
            (Method::GET, "/v1/services".to_owned(), None),
            (Method::GET, format!("/v1/services/{sid}"), None),
            (Method::GET, "/v1/contracts".to_owned(), None),
            (Method::GET, "/v1/credits".to_owned(), None),
            (Method::GET, "/v1/usage".to_owned(), None),
            (Method::GET, "/v1/tax-regions".to_owned(), None),
            (Method::GET, "/v1/client-contracts".to_owned(), None),
        ] {
            let (status, _) = call(&env, method.clone(), &path, key, body.as_ref()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
        }
    }

    // The admin reads and changes what billing wrote.
    let patched = env
        .ok(
            Method::PATCH,
            &format!("/v1/services/{sid}"),
            &env.a.key,
            &json!({"taxable": false, "rates": {"USD": "125"}}),
        )
        .await;
    assert_eq!(patched["taxable"], false);
    assert_eq!(patched["rates"], json!({"USD": "125"}));

    // The other tenant sees none of it.
    let (status, _) = call(
        &env,
        Method::GET,
        &format!("/v1/services/{sid}"),
        &env.b.key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, page) = call(&env, Method::GET, "/v1/services", &env.b.key, None).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Remote support"], "only its own seeded service");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_billing_records_are_refused_naming_the_field_and_change_nothing() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key.clone();
    let client_id = env.a.seeded.client_id;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/v1/services",
            json!({"name": "A", "unit": "hour", "rates": {"USD": "1e3"}}),
            "rates.USD",
        ),
        (
            "/v1/services",
            json!({"name": "A", "unit": "hour", "rates": {"XXY": "1"}}),
            "rates.XXY",
        ),
        (
            "/v1/services",
            json!({"name": "A", "unit": "hour", "rates": {"USD": "-1"}}),
            "rates.USD",
        ),
        (
            "/v1/services",
            json!({"name": "A\u{0}", "unit": "hour"}),
            "name",
        ),
        (
            "/v1/tax-regions",
            json!({"name": "NY", "components": [{"name": "Sales", "rate": "x"}]}),
            "components[0].rate",
        ),
        (
            "/v1/tax-regions",
            json!({"name": "NY", "components": []}),
            "components",
        ),
        (
            "/v1/tax-regions",
            json!({"name": "NY", "components": [{"name": "S", "rate": "5", "brackets": []}]}),
            "components[0]",
        ),
        (
            "/v1/credits",
            json!({"client_id": client_id, "amount": "10.500", "currency": "USD"}),
            "amount",
        ),
        (
            "/v1/credits",
            json!({"client_id": client_id, "amount": "0", "currency": "USD"}),
            "amount",
        ),
        (
            "/v1/credits",
            json!({"client_id": client_id, "amount": "10", "currency": "usd"}),
            "currency",
        ),
        (
            "/v1/credits",
            json!({"client_id": uuid::Uuid::now_v7(), "amount": "10", "currency": "USD"}),
            "client_id",
        ),
        (
            "/v1/usage",
            json!({"client_id": client_id, "service_id": uuid::Uuid::now_v7(), "quantity": "1", "occurred_at": "2026-01-05T10:00:00Z", "external_id": "m-1"}),
            "service_id",
        ),
    ];
    for (path, body, expected) in cases {
        let (status, problem) = call(&env, Method::POST, path, &key, Some(&body)).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {body}: {problem}"
        );
        assert!(
            field(&problem).starts_with(expected),
            "{path} {body}: {problem}"
        );
    }
    // Only the seeded "Remote support" of each tenant.
    assert_eq!(env.count("services").await, 2);
    assert_eq!(env.count("tax_regions").await, 0);
    assert_eq!(env.count("credits").await, 0);
    assert_eq!(env.count("usage_records").await, 0);

    // Line terms are the engine's, checked by it; a price a line leaves out needs a service.
    let contract = env
        .ok(
            Method::POST,
            "/v1/contracts",
            &key,
            &json!({"name": "Gold"}),
        )
        .await;
    let lines = format!("/v1/contracts/{}/lines", contract["id"].as_str().unwrap());
    for (body, expected) in [
        (
            json!({"type": "hourly", "terms": {"rate": "-1"}}),
            "terms.rate",
        ),
        (json!({"type": "hourly", "terms": {}}), "terms.rate"),
        (
            json!({"type": "fixed", "terms": {"amount": "10.0001"}}),
            "terms.amount",
        ),
        (
            json!({"type": "fixed", "terms": {"amount": "1", "id": "x"}}),
            "terms.id",
        ),
        (
            json!({"type": "usage", "terms": {"unit_price": "1"}}),
            "service_id",
        ),
        (
            json!({"type": "bucket", "terms": {"included_minutes": 60, "fee": "1", "overage_rate": "1", "max_rollover_minutes": -1}}),
            "terms.max_rollover_minutes",
        ),
        (json!({"type": "weekly", "terms": {}}), "type"),
    ] {
        let (status, problem) = call(&env, Method::POST, &lines, &key, Some(&body)).await;
        assert!(status.is_client_error(), "{body}: {status} {problem}");
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            assert!(field(&problem).starts_with(expected), "{body}: {problem}");
        }
    }
    // Only the seeded contract's two lines in each tenant.
    assert_eq!(env.count("contract_lines").await, 4);

    // A fixed fee in cents cannot be billed in yen: refused when the client is put on it.
    env.ok(
        Method::POST,
        &lines,
        &key,
        &json!({"type": "fixed", "terms": {"amount": "10.50"}}),
    )
    .await;
    let assign = |currency: &str, cycle: &str, anchor: Value| {
        json!({"client_id": client_id, "contract_id": contract["id"], "start_date": "2026-01-01",
               "currency": currency, "billing_cycle": cycle, "anchor": anchor})
    };
    let (status, problem) = call(
        &env,
        Method::POST,
        "/v1/client-contracts",
        &key,
        Some(&assign("JPY", "monthly", json!("calendar"))),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(field(&problem), "currency");
    let (status, problem) = call(
        &env,
        Method::POST,
        "/v1/client-contracts",
        &key,
        Some(&assign("USD", "weekly", json!(5))),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(field(&problem), "anchor");
    let (status, _) = call(
        &env,
        Method::POST,
        "/v1/client-contracts",
        &key,
        Some(&assign("USD", "monthly", json!(29))),
    )
    .await;
    assert!(status.is_client_error());
    assert_eq!(env.count("client_contracts").await, 0);
    // Once on it, the same client cannot be put on it again for the same days.
    env.ok(
        Method::POST,
        "/v1/client-contracts",
        &key,
        &assign("USD", "monthly", json!(15)),
    )
    .await;
    let (status, problem) = call(
        &env,
        Method::POST,
        "/v1/client-contracts",
        &key,
        Some(&assign("USD", "monthly", json!(15))),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(field(&problem), "start_date");
    // And a line the contract's clients could not be billed is refused too.
    let (status, problem) = call(
        &env,
        Method::POST,
        &lines,
        &key,
        Some(&json!({"type": "fixed", "terms": {"amount": "10.505"}})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(field(&problem), "terms.amount");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meter_reading_posted_twice_counts_once() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let service = env
        .ok(
            Method::POST,
            "/v1/services",
            &key,
            &json!({"name": "Backup", "unit": "GB"}),
        )
        .await;
    let reading = json!({"client_id": env.a.seeded.client_id, "service_id": service["id"],
        "quantity": "120.5", "occurred_at": "2026-01-31T23:00:00Z", "external_id": "meter-7/2026-01-31"});
    let (status, first) = call(&env, Method::POST, "/v1/usage", &key, Some(&reading)).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["quantity"], "120.5");
    let (status, again) = call(&env, Method::POST, "/v1/usage", &key, Some(&reading)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "answered as the first post was: {again}"
    );
    assert_eq!(again["id"], first["id"]);
    let mut other = reading.clone();
    other["quantity"] = json!("121");
    let (status, problem) = call(&env, Method::POST, "/v1/usage", &key, Some(&other)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(env.count("usage_records").await, 1);
    // The same external id is another tenant's own.
    let b_service = env
        .ok(
            Method::POST,
            "/v1/services",
            &env.b.key,
            &json!({"name": "Backup", "unit": "GB"}),
        )
        .await;
    let mut theirs = reading.clone();
    theirs["client_id"] = json!(env.b.seeded.client_id);
    theirs["service_id"] = b_service["id"].clone();
    let (status, _) = call(&env, Method::POST, "/v1/usage", &env.b.key, Some(&theirs)).await;
    assert_eq!(status, StatusCode::CREATED);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_tax_settings_default_to_untaxed_and_are_saved_whole() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key.clone();
    let path = format!("/v1/clients/{}/tax-settings", env.a.seeded.client_id);
    let (status, settings) = call(&env, Method::GET, &path, &key, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["region_id"], Value::Null);
    assert_eq!(settings["exempt"], false);
    let region = env
        .ok(Method::POST, "/v1/tax-regions", &key,
            &json!({"name": "BC", "components": [{"name": "GST", "rate": "5"}, {"name": "PST", "rate": "7"}]}))
        .await;
    let saved = env
        .ok(
            Method::PUT,
            &path,
            &key,
            &json!({"region_id": region["id"], "reverse_charge": true}),
        )
        .await;
    assert_eq!(saved["region_id"], region["id"]);
    assert_eq!(saved["reverse_charge"], true);
    let (status, problem) = call(
        &env,
        Method::PUT,
        &path,
        &key,
        Some(&json!({"region_id": uuid::Uuid::now_v7()})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(field(&problem), "region_id");
    let (status, _) = call(
        &env,
        Method::GET,
        &format!("/v1/clients/{}/tax-settings", uuid::Uuid::now_v7()),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Another tenant's client is no client of ours.
    let (status, _) = call(&env, Method::PUT, &path, &env.b.key, Some(&json!({}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_billing_input_is_a_4xx_never_a_5xx() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key.clone();
    let s = &env.a.seeded;
    let contract = s.contract_id;
    let lines = format!("/v1/contracts/{contract}/lines");
    let mut deep = json!("1");
    for _ in 0..200 {
        deep = json!({ "x": deep });
    }
    let many: Vec<Value> = (0..5_000)
        .map(|i| json!({"name": format!("C{i}"), "rate": "1"}))
        .collect();
    let posts: Vec<(String, Value)> = vec![
        (lines.clone(), json!({"type": "fixed", "terms": deep})),
        (lines.clone(), json!({"type": "fixed", "terms": []})),
        (
            lines.clone(),
            json!({"type": "fixed", "terms": {"amount": "9".repeat(400)}}),
        ),
        (
            lines.clone(),
            json!({"type": "fixed", "terms": {"amount": "1\u{0}"}}),
        ),
        (
            lines.clone(),
            json!({"type": "fixed", "terms": {"amount": "1", "n\u{0}": 1}}),
        ),
        (
            lines.clone(),
            json!({"type": "hourly", "terms": {"rate": "1", "minimum_minutes": 1e300}}),
        ),
        (
            lines.clone(),
            json!({"type": "fixed", "terms": {"amount": "1", "active_from": "+275760-09-13"}}),
        ),
        (
            "/v1/tax-regions".into(),
            json!({"name": "R", "components": {"name": "x"}}),
        ),
        (
            "/v1/tax-regions".into(),
            json!({"name": "R", "components": many}),
        ),
        (
            "/v1/tax-regions".into(),
            json!({"name": "R", "components": [{"name": "x", "brackets": [{"up_to": "1e9", "rate": "1"}]}]}),
        ),
        (
            "/v1/credits".into(),
            json!({"client_id": s.client_id, "amount": "1".repeat(60), "currency": "USD"}),
        ),
        (
            "/v1/credits".into(),
            json!({"client_id": s.client_id, "amount": "5", "currency": "USD", "expires_on": "262143-12-31"}),
        ),
        (
            "/v1/usage".into(),
            json!({"client_id": s.client_id, "service_id": s.service_id, "quantity": "1", "occurred_at": "9999-12-31T23:59:59Z", "external_id": "x".repeat(300)}),
        ),
        (
            "/v1/usage".into(),
            json!({"client_id": s.client_id, "service_id": s.service_id, "quantity": "0.0000001", "occurred_at": "2026-01-01T00:00:00Z", "external_id": "a"}),
        ),
        (
            "/v1/client-contracts".into(),
            json!({"client_id": s.client_id, "contract_id": contract, "start_date": "262000-01-01", "currency": "USD", "billing_cycle": "monthly"}),
        ),
        (
            "/v1/services".into(),
            json!({"name": "S", "unit": "h", "rates": (0..100).map(|i| (format!("{i}"), "1")).collect::<std::collections::BTreeMap<_, _>>()}),
        ),
    ];
    for (path, body) in &posts {
        let (status, answer) = call(&env, Method::POST, path, &key, Some(body)).await;
        assert!(status.is_client_error(), "POST {path}: {status} {answer}");
    }
    let client = s.client_id;
    for query in [
        "period_start=9999-12-31",
        "period_start=0001-01-01",
        "period_start=%2B262143-12-31",
        "period_start=2026-01-01&currency=%00",
        "period_start=2026-13-01",
        "period_start=2026-01-01&currency=ZZZZ",
    ] {
        let path = format!("/v1/clients/{client}/invoice-preview?{query}");
        let (status, answer) = call(&env, Method::POST, &path, &key, None).await;
        assert!(status.is_client_error(), "POST {path}: {status} {answer}");
    }
    // Nothing of it was written.
    assert_eq!(env.count("tax_regions").await, 0);
    assert_eq!(env.count("credits").await, 0);
    assert_eq!(env.count("usage_records").await, 0);
    assert_eq!(env.count("client_contracts").await, 0);
    assert_eq!(env.count("contract_lines").await, 4);
    env.shutdown().await;
}
