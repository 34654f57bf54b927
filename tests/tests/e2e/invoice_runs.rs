//! Invoice runs on the real services (Postgres, the Temporal dev server, an in-process worker):
//! a run over clients with every kind of cycle makes exactly the invoices the previews
//! showed, once each, with gapless numbers and a ledger that reconciles; asking twice at once
//! makes one run, asking again after it finished makes nothing new; a worker killed mid-run
//! leaves no client billed twice or missed; the saved history replays.

use psa_tests::{Parts, TestEnv, eventually, wf};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

async fn call(
    env: &TestEnv,
    method: Method,
    path: &str,
    key: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let r = env.req(method, path, key).json(body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

/// Every invoice of the tenant, following the pages.
async fn invoices(env: &TestEnv, key: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = env
            .ok(
                Method::GET,
                &format!("/v1/invoices?limit=200&cursor={cursor}"),
                key,
                &json!(null),
            )
            .await;
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return out,
        }
    }
}

/// Waits for the run to finish, and answers it.
async fn finished(env: &TestEnv, key: &str, run: &str) -> Value {
    eventually(Duration::from_secs(120), || async {
        let (status, v) = call(
            env,
            Method::GET,
            &format!("/v1/invoice-runs/{run}"),
            key,
            &json!(null),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        Ok(v["status"]
            .as_str()
            .is_some_and(|s| s.starts_with("completed"))
            .then_some(v))
    })
    .await
    .expect("the run finishes")
}

/// The numbers are INV-00001 … INV-n, each once.
fn assert_gapless(invoices: &[Value]) {
    let mut numbers: Vec<String> = invoices
        .iter()
        .filter_map(|i| i["number"].as_str().map(str::to_owned))
        .collect();
    numbers.sort();
    let want: Vec<String> = (1..=numbers.len()).map(|n| format!("INV-{n:05}")).collect();
    assert_eq!(numbers, want);
}

async fn assert_reconciled(env: &TestEnv, key: &str) {
    let r = env
        .ok(Method::GET, "/v1/ledger/reconciliation", key, &json!(null))
        .await;
    assert_eq!(r["mismatches"], json!([]), "{r}");
    assert_eq!(r["credit_mismatches"], json!([]), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_bills_every_cycle_once_as_previewed() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let key = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let s = &env.a.seeded;
    let ok = async |path: &str, body: Value| env.ok(Method::POST, path, &key, &body).await;

    let contract = id(&ok("/v1/contracts", json!({"name": "Managed desktops"})).await);
    let lines = format!("/v1/contracts/{contract}/lines");
    ok(
        &lines,
        json!({"type": "fixed", "description": "Monitoring", "terms": {"amount": "300.00", "prorate": true}}),
    )
    .await;
    ok(
        &lines,
        json!({"type": "hourly", "service_id": s.service_id, "terms": {}}),
    )
    .await;

    // Each cycle and timing; run over October 2026.
    let cases = [
        (
            "monthly calendar",
            "2026-01-01",
            None,
            "monthly",
            json!("calendar"),
            "arrears",
        ),
        (
            "anchored on the 15th",
            "2026-01-01",
            None,
            "monthly",
            json!(15),
            "arrears",
        ),
        (
            "quarterly in advance",
            "2026-01-01",
            None,
            "quarterly",
            json!("calendar"),
            "advance",
        ),
        (
            "weekly in arrears",
            "2026-09-07",
            None,
            "weekly",
            json!("calendar"),
            "arrears",
        ),
        (
            "joined mid-period",
            "2026-09-10",
            None,
            "monthly",
            json!("calendar"),
            "arrears",
        ),
        (
            "left in September",
            "2026-01-01",
            Some("2026-09-20"),
            "monthly",
            json!("calendar"),
            "arrears",
        ),
        (
            "starts next year",
            "2027-01-01",
            None,
            "monthly",
            json!("calendar"),
            "arrears",
        ),
    ];
    let mut clients = Vec::new();
    for (name, start, end, cycle, anchor, timing) in cases {
        // Clients are the admin's to make.
        let client = id(&env
            .ok(
                Method::POST,
                "/v1/clients",
                &env.a.key,
                &json!({"name": name}),
            )
            .await);
        ok(
            "/v1/client-contracts",
            json!({"client_id": client, "contract_id": contract, "start_date": start,
                "end_date": end, "currency": "USD", "billing_cycle": cycle, "anchor": anchor,
                "timing": timing}),
        )
        .await;
        clients.push(client);
    }
    // Approved time in September for the monthly client and the quarterly one (billed with Q4
    // in advance), and unapproved time that stays unbilled.
    let worker = s.technician_user_id;
    for (client, day, minutes) in [
        (&clients[0], "2026-09-14", 90),
        (&clients[0], "2026-09-15", 45),
        (&clients[2], "2026-09-16", 60),
    ] {
        ok(
            "/v1/time-entries",
            json!({"worker_id": worker, "client_id": client, "service_id": s.service_id,
                "work_date": day, "minutes": minutes}),
        )
        .await;
    }
    let sheet = id(&ok(
        "/v1/timesheets",
        json!({"worker_id": worker, "period_start": "2026-09-14", "period_end": "2026-09-21"}),
    )
    .await);
    ok(
        &format!("/v1/timesheets/{sheet}/submit"),
        json!({"approver_id": s.admin_user_id}),
    )
    .await;
    ok(&format!("/v1/timesheets/{sheet}/approve"), json!({})).await;
    let unapproved = id(&ok(
        "/v1/time-entries",
        json!({"worker_id": worker, "client_id": clients[0], "service_id": s.service_id,
            "work_date": "2026-09-22", "minutes": 30}),
    )
    .await);

    // The dry run lists every invoice due, computed as the previews compute them, and writes
    // nothing.
    let (status, dry) = call(
        &env,
        Method::POST,
        "/v1/invoice-runs",
        &key,
        &json!({"period": "2026-10", "dry_run": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    let due: Vec<(String, String)> = dry["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert_eq!(i["error"], Value::Null, "{i}");
            (
                i["client_id"].as_str().unwrap().to_owned(),
                i["period_start"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut want = vec![
        (clients[0].clone(), "2026-09-01".to_owned()),
        (clients[1].clone(), "2026-09-15".to_owned()),
        (clients[2].clone(), "2026-10-01".to_owned()),
        (clients[4].clone(), "2026-09-01".to_owned()),
        (clients[5].clone(), "2026-09-01".to_owned()),
    ];
    for week in ["2026-09-28", "2026-10-05", "2026-10-12", "2026-10-19"] {
        want.push((clients[3].clone(), week.to_owned()));
    }
    let mut sorted_due = due.clone();
    sorted_due.sort();
    want.sort();
    assert_eq!(sorted_due, want);
    assert_eq!(dry["total"], 9);
    assert_eq!(dry["truncated"], false);
    assert_eq!(
        invoices(&env, &key).await.len(),
        0,
        "a dry run writes nothing"
    );

    // Each due invoice as its client's preview shows it now.
    let mut previews = BTreeMap::new();
    for (client, start) in &due {
        let p = env
            .ok(
                Method::POST,
                &format!("/v1/clients/{client}/invoice-preview?period_start={start}&currency=USD"),
                &key,
                &json!({}),
            )
            .await;
        let shown = dry["invoices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["client_id"] == client.as_str() && i["period_start"] == start.as_str())
            .unwrap();
        assert_eq!(shown["invoice"], p, "the dry run shows the preview");
        previews.insert((client.clone(), start.clone()), p);
    }

    // Asked twice at once: one run.
    let body = json!({"period": "2026-10", "batch_size": 2, "parallel_batches": 2});
    let (a, b) = tokio::join!(
        call(&env, Method::POST, "/v1/invoice-runs", &key, &body),
        call(&env, Method::POST, "/v1/invoice-runs", &key, &body),
    );
    assert_eq!(a.0, StatusCode::ACCEPTED, "{}", a.1);
    assert_eq!(b.0, StatusCode::ACCEPTED, "{}", b.1);
    assert_eq!(a.1["id"], b.1["id"]);
    let run = id(&a.1);
    let workflow_id = a.1["workflow_id"].as_str().unwrap().to_owned();
    assert_eq!(workflow_id, format!("invoice-run:{}:2026-10", s.tenant_id));
    let done = finished(&env, &key, &run).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        (done["total"].as_u64(), done["done"].as_u64()),
        (Some(9), Some(9))
    );
    assert_eq!(done["failed"], json!([]));
    let temporal = env.temporal().await.unwrap();
    assert_eq!(wf::run_count(&temporal, &workflow_id).await.unwrap(), 1);

    // Item by item what the previews showed, numbered without gaps, finalized.
    let made = invoices(&env, &key).await;
    assert_eq!(made.len(), 9);
    for inv in &made {
        let k = (
            inv["client_id"].as_str().unwrap().to_owned(),
            inv["period_start"].as_str().unwrap().to_owned(),
        );
        let p = &previews[&k];
        assert_eq!(inv["source"], "run");
        assert_eq!(inv["status"], "finalized", "{inv}");
        assert_eq!(inv["total"], p["total"], "{inv}\n{p}");
        assert_eq!(inv["subtotal"], p["subtotal"]);
        assert_eq!(inv["period_end"], p["period"]["end"]);
        let amounts = |v: &Value, field: &str| -> Vec<Value> {
            v[field]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["amount"].clone())
                .collect()
        };
        assert_eq!(
            amounts(inv, "line_items"),
            amounts(p, "items"),
            "{inv}\n{p}"
        );
    }
    assert_gapless(&made);
    assert_reconciled(&env, &key).await;
    // Billed time is marked; unapproved time is not.
    let billed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM time_entries WHERE invoice_item_id IS NOT NULL")
            .fetch_one(&env.owner)
            .await
            .unwrap();
    assert_eq!(billed, 3);
    let entry = env
        .ok(
            Method::GET,
            &format!("/v1/time-entries/{unapproved}"),
            &key,
            &json!(null),
        )
        .await;
    assert_eq!(entry["invoice_item_id"], Value::Null, "{entry}");

    // Asked again after it finished: the run goes again and makes nothing new.
    let (status, again) = call(&env, Method::POST, "/v1/invoice-runs", &key, &body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_eq!(again["requests"], 3);
    eventually(Duration::from_secs(60), || async {
        Ok((wf::run_count(&temporal, &workflow_id).await? == 2).then_some(()))
    })
    .await
    .unwrap();
    let done = finished(&env, &key, &run).await;
    assert_eq!(
        (done["total"].as_u64(), done["done"].as_u64()),
        (Some(9), Some(9))
    );
    assert_eq!(invoices(&env, &key).await.len(), 9);

    // Runs are listed by the period they overlap.
    let listed = env
        .ok(
            Method::GET,
            "/v1/invoice-runs?period=2026-10-05",
            &key,
            &json!(null),
        )
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let listed = env
        .ok(
            Method::GET,
            "/v1/invoice-runs?period=2026-11",
            &key,
            &json!(null),
        )
        .await;
    assert_eq!(listed["items"], json!([]));

    // Voiding a run invoice gives its period back: the next run bills it afresh.
    let monthly = made
        .iter()
        .find(|i| i["client_id"] == clients[0].as_str())
        .unwrap();
    env.ok(
        Method::POST,
        &format!("/v1/invoices/{}/void", id(monthly)),
        &key,
        &json!({}),
    )
    .await;
    let (status, _) = call(
        &env,
        Method::POST,
        "/v1/invoice-runs",
        &key,
        &json!({"period": "2026-10-01"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let day_run = eventually(Duration::from_secs(60), || async {
        let page = env
            .ok(
                Method::GET,
                "/v1/invoice-runs?period=2026-10-01",
                &key,
                &json!(null),
            )
            .await;
        Ok(page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["period"] == "2026-10-01")
            .cloned())
    })
    .await
    .unwrap();
    let done = finished(&env, &key, &id(&day_run)).await;
    // Due on 1 October: the monthly, the quarterly, the mid-period and the departed client.
    assert_eq!(
        (done["total"].as_u64(), done["done"].as_u64()),
        (Some(4), Some(4)),
        "{done}"
    );
    let after = invoices(&env, &key).await;
    assert_eq!(after.len(), 10);
    let rebilled = after
        .iter()
        .find(|i| i["client_id"] == clients[0].as_str() && i["status"] == "finalized")
        .unwrap();
    assert_eq!(rebilled["total"], monthly["total"]);
    assert_gapless(&after);
    assert_reconciled(&env, &key).await;

    wf::check_replay(&temporal, &workflow_id, "invoice_run_month")
        .await
        .unwrap();

    // Only billing and admin keys start or read runs; another tenant sees none of them.
    let tech = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    let (status, _) = call(&env, Method::POST, "/v1/invoice-runs", &tech, &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &env,
        Method::GET,
        &format!("/v1/invoice-runs/{run}"),
        &env.b.key,
        &json!(null),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_periods_are_refused_and_nothing_is_recorded() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    for (body, field) in [
        (json!({"period": "2026-13"}), "period"),
        (json!({"period": "2026-02-30"}), "period"),
        (json!({"period": "2026-11", "batch_size": 0}), "batch_size"),
        (
            json!({"period": "2026-11", "parallel_batches": 99}),
            "parallel_batches",
        ),
        (
            json!({"period": "2026-11", "dry_run": true, "limit": 5000}),
            "limit",
        ),
        (json!({"period": "2026-11", "limit": 5}), "limit"),
    ] {
        let (status, v) = call(&env, Method::POST, "/v1/invoice-runs", &key, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_eq!(v["errors"][0]["field"], field, "{v}");
    }
    let (status, v) = call(
        &env,
        Method::POST,
        "/v1/invoice-runs",
        &key,
        &json!({"period": "2026-11\u{0}"}),
    )
    .await;
    assert!(status.is_client_error(), "{v}");
    assert_eq!(env.count("invoice_runs").await, 0);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_run_leaves_every_client_billed_once() {
    let mut env = TestEnv::start(Parts::ALL).await.unwrap();
    let key = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let contract = id(&env
        .ok(
            Method::POST,
            "/v1/contracts",
            &key,
            &json!({"name": "Flat"}),
        )
        .await);
    env.ok(
        Method::POST,
        &format!("/v1/contracts/{contract}/lines"),
        &key,
        &json!({"type": "fixed", "terms": {"amount": "99.00"}}),
    )
    .await;
    let n = 60;
    for k in 0..n {
        let client = id(&env
            .ok(
                Method::POST,
                "/v1/clients",
                &env.a.key,
                &json!({"name": format!("Client {k}")}),
            )
            .await);
        env.ok(
            Method::POST,
            "/v1/client-contracts",
            &key,
            &json!({"client_id": client, "contract_id": contract, "start_date": "2026-01-01",
                "currency": "USD", "billing_cycle": "monthly"}),
        )
        .await;
    }
    let (status, run) = call(
        &env,
        Method::POST,
        "/v1/invoice-runs",
        &key,
        &json!({"period": "2026-06", "batch_size": 1, "parallel_batches": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    // Killed once some invoices are in and others are not.
    eventually(Duration::from_secs(60), || async {
        Ok((env.count("invoices").await >= 5).then_some(()))
    })
    .await
    .unwrap();
    env.kill_worker().await;
    let at_kill = env.count("invoices").await;
    assert!(at_kill < n, "the run finished before the worker was killed");
    env.start_worker().await.unwrap();
    let done = finished(&env, &key, &id(&run)).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["done"].as_u64(), Some(n as u64));
    let made = invoices(&env, &key).await;
    assert_eq!(made.len(), n as usize);
    let clients: std::collections::BTreeSet<&str> = made
        .iter()
        .map(|i| i["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(clients.len(), n as usize, "one invoice per client");
    assert_gapless(&made);
    assert_reconciled(&env, &key).await;
    // Each invoice announced once (its billing e-mail comes from this event), though batches
    // were cut short and retried.
    let (events, announced): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT envelope->'payload'->>'invoice_id') FROM outbox
         WHERE event_type = 'invoice.generated'",
    )
    .fetch_one(&env.owner)
    .await
    .unwrap();
    assert_eq!((events, announced), (n, n));
    env.shutdown().await;
}

/// The zone a tenant Schedule fires in; `None` while it does not exist.
async fn schedule_zone(temporal: &temporalio_client::Client, id: &str) -> Option<String> {
    let d = temporal
        .get_schedule_handle(id)
        .describe(Default::default())
        .await
        .ok()?;
    d.raw()
        .schedule
        .as_ref()
        .and_then(|s| s.spec.as_ref())
        .map(|spec| spec.timezone_name.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_tenant_has_billing_schedules_in_its_zone_that_run_the_day() {
    use temporalio_client::schedules::ScheduleOverlapPolicy;
    let mut env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let mut config = env.worker_config();
    config.billing_schedules = true;
    env.start_worker_with(config).await.unwrap();
    let key = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let s = env.a.seeded.clone();
    let temporal = env.temporal().await.unwrap();
    let runs = format!("invoice-runs:{}", s.tenant_id);
    let upkeep = format!("billing-upkeep:{}", s.tenant_id);

    // Made for every tenant in UTC, rewritten when the tenant's zone changes.
    for id in [&runs, &upkeep] {
        eventually(Duration::from_secs(30), || async {
            Ok((schedule_zone(&temporal, id).await.as_deref() == Some("UTC")).then_some(()))
        })
        .await
        .unwrap_or_else(|_| panic!("{id} never appeared in UTC"));
    }
    let (status, v) = call(
        &env,
        Method::PATCH,
        "/v1/invoice-settings",
        &key,
        &json!({"timezone": "Mars/Olympus"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["field"], "timezone");
    let zone = "Pacific/Auckland";
    let settings = env
        .ok(
            Method::PATCH,
            "/v1/invoice-settings",
            &key,
            &json!({"timezone": zone}),
        )
        .await;
    assert_eq!(settings["timezone"], zone);
    for id in [&runs, &upkeep] {
        eventually(Duration::from_secs(30), || async {
            Ok((schedule_zone(&temporal, id).await.as_deref() == Some(zone)).then_some(()))
        })
        .await
        .unwrap_or_else(|_| panic!("{id} never moved to {zone}"));
    }

    // The upkeep: an invoice past its due date becomes overdue, an expired credit lapses.
    let invoice = env
        .ok(
            Method::POST,
            "/v1/invoices",
            &key,
            &json!({"client_id": s.client_id, "currency": "USD", "invoice_date": "2026-01-01",
                "items": [{"description": "Old work", "quantity": "1", "unit_price": "80.00"}]}),
        )
        .await;
    let invoice = id(&invoice);
    env.ok(
        Method::POST,
        &format!("/v1/invoices/{invoice}/finalize"),
        &key,
        &json!({}),
    )
    .await;
    let credit = id(&env
        .ok(
            Method::POST,
            "/v1/credits",
            &key,
            &json!({"client_id": s.client_id, "amount": "20.00", "currency": "EUR",
                "expires_on": "2026-02-01"}),
        )
        .await);
    temporal
        .get_schedule_handle(upkeep.as_str())
        .trigger(ScheduleOverlapPolicy::AllowAll, Default::default())
        .await
        .unwrap();
    eventually(Duration::from_secs(60), || async {
        let i = env
            .ok(
                Method::GET,
                &format!("/v1/invoices/{invoice}"),
                &key,
                &json!(null),
            )
            .await;
        Ok((i["status"] == "overdue").then_some(()))
    })
    .await
    .expect("the invoice becomes overdue");
    let c = env
        .ok(
            Method::GET,
            &format!("/v1/credits/{credit}"),
            &key,
            &json!(null),
        )
        .await;
    assert_eq!(c["remaining"], "0.00", "{c}");
    assert_reconciled(&env, &key).await;

    // The run: the day in the tenant's zone.
    let before = psa_domain::billing::run::day_in(chrono::Utc::now(), zone).to_string();
    temporal
        .get_schedule_handle(runs.as_str())
        .trigger(ScheduleOverlapPolicy::AllowAll, Default::default())
        .await
        .unwrap();
    let run = eventually(Duration::from_secs(60), || async {
        let page = env
            .ok(Method::GET, "/v1/invoice-runs", &key, &json!(null))
            .await;
        Ok(page["items"].as_array().unwrap().first().cloned())
    })
    .await
    .expect("the scheduled run is recorded");
    let after = psa_domain::billing::run::day_in(chrono::Utc::now(), zone).to_string();
    assert!(
        run["period"] == before.as_str() || run["period"] == after.as_str(),
        "{run}"
    );
    let done = finished(&env, &key, &id(&run)).await;
    assert_eq!(done["status"], "completed", "{done}");

    // Saved for the replay test: the Schedules' two workflows, as they ran here.
    for kind in ["invoice_run_scheduled", "billing_upkeep"] {
        let query = format!("WorkflowType = '{kind}' AND ExecutionStatus = 'Completed'");
        let tenant = s.tenant_id.to_string();
        let workflow_id = eventually(Duration::from_secs(30), || async {
            use futures::StreamExt;
            let mut found = temporal.list_workflows(query.clone(), Default::default());
            while let Some(w) = found.next().await {
                let w = w?;
                if w.id().contains(&tenant) {
                    return Ok(Some(w.id().to_owned()));
                }
            }
            Ok(None)
        })
        .await
        .unwrap_or_else(|_| panic!("no completed {kind} run is listed"));
        wf::check_replay(&temporal, &workflow_id, kind)
            .await
            .unwrap();
    }
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_whose_data_is_refused_is_reported_and_retried_alone() {
    let env = TestEnv::start_time_skipping(Parts::ALL).await.unwrap();
    let key = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let s = env.a.seeded.clone();
    let ok = async |path: &str, body: Value| env.ok(Method::POST, path, &key, &body).await;
    // Time by the hour at the service's rate, which it has in USD only.
    let contract = id(&ok("/v1/contracts", json!({"name": "Support by the hour"})).await);
    let lines = format!("/v1/contracts/{contract}/lines");
    ok(
        &lines,
        json!({"type": "fixed", "terms": {"amount": "10.00"}}),
    )
    .await;
    ok(
        &lines,
        json!({"type": "hourly", "service_id": s.service_id, "terms": {}}),
    )
    .await;
    let mut clients = Vec::new();
    for (name, currency) in [("Dollar client", "USD"), ("Euro client", "EUR")] {
        let client = id(&env
            .ok(
                Method::POST,
                "/v1/clients",
                &env.a.key,
                &json!({"name": name}),
            )
            .await);
        ok(
            "/v1/client-contracts",
            json!({"client_id": client, "contract_id": contract, "start_date": "2026-01-01",
                "currency": currency, "billing_cycle": "monthly"}),
        )
        .await;
        clients.push(client);
    }
    let (status, run) = call(
        &env,
        Method::POST,
        "/v1/invoice-runs",
        &key,
        &json!({"period": "2026-06"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    let run = id(&run);
    // The euro client fails with the line to fix; the other is billed meanwhile.
    let failing = eventually(Duration::from_secs(60), || async {
        let (_, v) = call(
            &env,
            Method::GET,
            &format!("/v1/invoice-runs/{run}"),
            &key,
            &json!(null),
        )
        .await;
        Ok((v["failed"].as_array().is_some_and(|f| !f.is_empty())).then_some(v))
    })
    .await
    .expect("the failure is reported");
    assert_eq!(failing["status"], "running", "{failing}");
    assert_eq!(failing["done"], 1);
    assert_eq!(failing["failed"][0]["client_id"], clients[1].as_str());
    let reason = failing["failed"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("no rate in EUR"), "{reason}");
    assert_eq!(invoices(&env, &key).await.len(), 1);

    // Fixed, and tried again after the run's wait: only the euro client is billed.
    env.ok(
        Method::PATCH,
        &format!("/v1/services/{}", s.service_id),
        &key,
        &json!({"rates": {"USD": "150.00", "EUR": "140.00"}}),
    )
    .await;
    env.clock().skip(Duration::from_secs(61)).await.unwrap();
    let done = finished(&env, &key, &run).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        (done["total"].as_u64(), done["done"].as_u64()),
        (Some(2), Some(2)),
        "{done}"
    );
    assert_eq!(done["failed"], json!([]));
    let made = invoices(&env, &key).await;
    assert_eq!(made.len(), 2);
    assert_gapless(&made);
    env.shutdown().await;
}
