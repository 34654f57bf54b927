//! `scripts/bench billing`: how fast invoice previews are computed. Prints figures; asserts
//! nothing. One client's period: 50 contract lines of every kind and 2,000 time entries (plus
//! usage, two discounts, compound tax and credits).
//!
//! 1. engine alone, one thread: `--iterations` previews from the request JSON
//!    (`psa_domain::billing::preview`: reading, validating, computing, writing the answer), and
//!    the computation alone from the read input (`compute`);
//! 2. over HTTP: `POST /v1/invoices/preview` on the harness's edge (a fresh database, the
//!    tenant's admin key), driven by oha (`$PSA_BENCH_OHA`) for `--duration` seconds with
//!    `--connections` connections, closed loop: previews per second and latency p50/p99;
//! 3. the same over the stored path: `POST /v1/clients/{id}/invoice-preview` for a client on a
//!    contract of 50 lines with `--entries` approved time entries and 100 usage records in
//!    Postgres, each preview reading them all and running the same engine.

use psa_domain::billing::{compute, preview, read_request};
use psa_tests::bench::{arg, machine};
use psa_tests::{Parts, TestEnv};
use serde_json::{Value, json};
use std::time::Instant;

/// One client's month: 50 lines, 2,000 entries on its hourly and bucket lines.
fn request(entries: usize) -> Value {
    let mut lines = Vec::new();
    for i in 0..20 {
        lines.push(
            json!({ "id": format!("hourly-{i}"), "type": "hourly", "rate": "135.50",
            "minimum_minutes": 15, "round_up_to_minutes": 6, "tax_region": "ON",
            "overtime": { "after_minutes": 2400, "rate": "180" } }),
        );
    }
    for i in 0..10 {
        lines.push(
            json!({ "id": format!("bucket-{i}"), "type": "bucket", "included_minutes": 600,
            "fee": "900.00", "overage_rate": "120", "rollover_minutes": 45,
            "max_rollover_minutes": 120, "round_up_to_minutes": 15, "tax_region": "ON" }),
        );
    }
    for i in 0..10 {
        lines.push(
            json!({ "id": format!("fixed-{i}"), "type": "fixed", "amount": "1249.99",
            "active_from": "2026-03-10", "prorate": true, "tax_region": "ON",
            "services": [{ "id": "helpdesk", "weight": "3" }, { "id": "backup", "weight": "2" },
                         { "id": "monitoring", "weight": "1" }] }),
        );
    }
    for i in 0..5 {
        lines.push(json!({ "id": format!("usage-{i}"), "type": "usage", "tax_region": "ON",
            "tiers": [{ "up_to": "100", "unit_price": "1.20" }, { "up_to": "1000", "unit_price": "0.95" },
                      { "up_to": null, "unit_price": "0.70" }] }));
    }
    for i in 0..5 {
        lines.push(json!({ "id": format!("product-{i}"), "type": "product",
            "unit_price": "89.95", "quantity": "3", "tax_region": "ON" }));
    }
    let time_entries: Vec<Value> = (0..entries)
        .map(|k| {
            let line = if k % 3 == 0 {
                format!("bucket-{}", k % 10)
            } else {
                format!("hourly-{}", k % 20)
            };
            json!({ "id": format!("entry-{k}"), "line": line, "minutes": 10 + (k * 37) % 170,
                    "billable": k % 17 != 0 })
        })
        .collect();
    let usage: Vec<Value> = (0..50)
        .map(|k| json!({ "line": format!("usage-{}", k % 5), "quantity": format!("{}.5", 40 + k) }))
        .collect();
    json!({
        "currency": "CAD",
        "period": { "start": "2026-03-01", "end": "2026-04-01" },
        "lines": lines,
        "time_entries": time_entries,
        "usage": usage,
        "discounts": [
            { "id": "loyalty", "type": "percentage", "percent": "5" },
            { "id": "goodwill", "type": "fixed", "amount": "250.00", "lines": ["fixed-0", "fixed-1"] }
        ],
        "tax": { "regions": { "ON": [
            { "name": "GST", "rate": "5" },
            { "name": "PST", "rate": "8", "compound": true }
        ] } },
        "credits": [
            { "id": "c1", "amount": "500.00", "currency": "CAD", "expires_on": "2026-12-31" },
            { "id": "c2", "amount": "75.00", "currency": "CAD" }
        ]
    })
}

fn engine(body: &Value, iterations: usize) -> anyhow::Result<()> {
    let answer = preview(body).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "request: {} bytes of JSON, {} items in the answer, total {} {}",
        serde_json::to_vec(body)?.len(),
        answer["items"].as_array().map_or(0, Vec::len),
        answer["total"].as_str().unwrap_or("?"),
        answer["currency"].as_str().unwrap_or("?"),
    );
    let started = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(
            preview(std::hint::black_box(body)).map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "engine, from request JSON to answer JSON, one thread: {iterations} previews in {took:.2} s: {:.0}/s ({:.2} ms each)",
        iterations as f64 / took,
        took * 1000.0 / iterations as f64
    );
    let input = read_request(body).map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(
            compute(std::hint::black_box(&input)).map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "engine, computing from the read input, one thread: {:.0}/s ({:.2} ms each)",
        iterations as f64 / took,
        took * 1000.0 / iterations as f64
    );
    Ok(())
}

/// Drives `POST url` with `body` for `duration` seconds and prints previews per second.
async fn oha(
    env: &TestEnv,
    what: &str,
    url: &str,
    body: &Value,
    duration: usize,
    connections: usize,
) -> anyhow::Result<()> {
    let oha = std::env::var("PSA_BENCH_OHA").unwrap_or_else(|_| "oha".into());
    let file = std::env::temp_dir().join(format!("psa-bench-billing-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_vec(body)?)?;
    let output = tokio::process::Command::new(&oha)
        .args(["--no-tui", "--output-format", "json"])
        .args(["-z", &format!("{duration}s")])
        .args(["-c", &connections.to_string()])
        .args(["-m", "POST", "-T", "application/json"])
        .args(["-H", &format!("Authorization: Bearer {}", env.a.key)])
        .arg("-D")
        .arg(&file)
        .arg(url)
        .kill_on_drop(true)
        .output()
        .await;
    let _ = std::fs::remove_file(&file);
    let output = output.map_err(|e| anyhow::anyhow!("cannot run {oha} (PSA_BENCH_OHA): {e}"))?;
    anyhow::ensure!(
        output.status.success(),
        "oha failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout)?;
    let ms = |p: &str| report["latencyPercentiles"][p].as_f64().unwrap_or(f64::NAN) * 1000.0;
    println!(
        "{what} (edge on this machine, {connections} connections, closed loop, {duration} s): {:.0} previews/s, latency p50 {:.1} ms, p99 {:.1} ms; statuses {}",
        report["summary"]["requestsPerSec"].as_f64().unwrap_or(0.0),
        ms("p50"),
        ms("p99"),
        report["statusCodeDistribution"]
    );
    Ok(())
}

/// A client on a contract of 50 lines (10 fixed, 20 hourly and 10 bucket lines each of its own
/// service, 5 usage, 5 product), with `entries` approved March time entries spread over the
/// hourly and bucket services and 100 usage records. Written straight to the tables: the
/// bench measures reading and billing them, not writing them.
async fn seed_stored(env: &TestEnv, entries: usize) -> anyhow::Result<uuid::Uuid> {
    let s = &env.a.seeded;
    let sql = format!(
        r#"
        WITH contract AS (
            INSERT INTO contracts (tenant_id, id, name) VALUES ($1, gen_random_uuid(), 'Bench')
            RETURNING id),
        services AS (
            INSERT INTO services (tenant_id, id, name, unit, rates)
            SELECT $1, gen_random_uuid(), 'Bench service ' || n, 'hour', '{{"USD": "135.50"}}'
            FROM generate_series(1, 45) n RETURNING id, name),
        numbered AS (
            SELECT id, (regexp_replace(name, '\D', '', 'g'))::int AS n FROM services),
        lines AS (
            INSERT INTO contract_lines (tenant_id, id, contract_id, position, kind, service_id, terms)
            SELECT $1, gen_random_uuid(), contract.id, n,
                   CASE WHEN n <= 20 THEN 'hourly' WHEN n <= 30 THEN 'bucket' ELSE 'usage' END,
                   numbered.id,
                   CASE WHEN n <= 20 THEN '{{"minimum_minutes": 15, "round_up_to_minutes": 6,
                                            "overtime": {{"after_minutes": 2400, "rate": "180"}}}}'
                        WHEN n <= 30 THEN '{{"included_minutes": 600, "fee": "900.00",
                                            "overage_rate": "120", "round_up_to_minutes": 15}}'
                        ELSE '{{"tiers": [{{"up_to": "100", "unit_price": "0.25"}},
                                          {{"up_to": null, "unit_price": "0.10"}}]}}' END::jsonb
            FROM numbered, contract
            UNION ALL
            SELECT $1, gen_random_uuid(), contract.id, 45 + n,
                   CASE WHEN n <= 5 THEN 'product' ELSE 'fixed' END, NULL,
                   CASE WHEN n <= 5 THEN '{{"unit_price": "12.00", "quantity": "25"}}'
                        ELSE '{{"amount": "1249.99", "prorate": true}}' END::jsonb
            FROM generate_series(1, 15) n, contract
            RETURNING 1),
        assignment AS (
            INSERT INTO client_contracts (tenant_id, id, client_id, contract_id, start_date,
                currency, billing_cycle, timing)
            SELECT $1, gen_random_uuid(), $2, contract.id, '2026-03-10', 'USD', 'monthly', 'arrears'
            FROM contract RETURNING 1),
        sheet AS (
            INSERT INTO timesheets (tenant_id, id, worker_id, period_start, period_end, status,
                approver_id)
            VALUES ($1, gen_random_uuid(), $3, '2026-03-01', '2026-04-01', 'approved', $4)
            RETURNING 1),
        time AS (
            INSERT INTO time_entries (tenant_id, id, worker_id, client_id, service_id, work_date, minutes)
            SELECT $1, gen_random_uuid(), $3, $2, numbered.id,
                   DATE '2026-03-10' + (i % 22), 10 + (i * 7) % 170
            FROM generate_series(0, {entries} - 1) i
            JOIN numbered ON numbered.n = 1 + i % 30
            RETURNING 1),
        usage AS (
            INSERT INTO usage_records (tenant_id, id, client_id, service_id, quantity, occurred_at, external_id)
            SELECT $1, gen_random_uuid(), $2, numbered.id, 12.5 + i, TIMESTAMPTZ '2026-03-15 12:00Z',
                   'bench/' || i
            FROM generate_series(0, 99) i JOIN numbered ON numbered.n = 31 + i % 15
            RETURNING 1)
        SELECT (SELECT count(*) FROM lines) + (SELECT count(*) FROM assignment)
             + (SELECT count(*) FROM sheet) + (SELECT count(*) FROM time)
             + (SELECT count(*) FROM usage)"#
    );
    let rows: i64 = sqlx::query_scalar(&sql)
        .bind(s.tenant_id)
        .bind(s.client_id)
        .bind(s.technician_user_id)
        .bind(s.admin_user_id)
        .fetch_one(&env.owner)
        .await?;
    anyhow::ensure!(
        rows == 60 + 1 + 1 + entries as i64 + 100,
        "seeded {rows} rows"
    );
    Ok(s.client_id)
}

async fn http(
    body: &Value,
    entries: usize,
    duration: usize,
    connections: usize,
) -> anyhow::Result<()> {
    let env = TestEnv::start(Parts::EDGE_ONLY).await?;
    let run = async {
        oha(
            &env,
            "stateless over HTTP",
            &env.url("/v1/invoices/preview"),
            body,
            duration,
            connections,
        )
        .await?;
        let client = seed_stored(&env, entries).await?;
        let url = env.url(&format!(
            "/v1/clients/{client}/invoice-preview?period_start=2026-03-01"
        ));
        let check = env
            .ok(
                reqwest::Method::POST,
                &format!("/v1/clients/{client}/invoice-preview?period_start=2026-03-01"),
                &env.a.key,
                &json!({}),
            )
            .await;
        println!(
            "stored client: {} items, total {} {}",
            check["items"].as_array().map_or(0, Vec::len),
            check["total"],
            check["currency"]
        );
        oha(
            &env,
            "stored over HTTP",
            &url,
            &json!({}),
            duration,
            connections,
        )
        .await
    };
    let out = run.await;
    env.shutdown().await;
    out
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let iterations = arg(&args, "--iterations", 2000).max(1);
    let entries = arg(&args, "--entries", 2000);
    let duration = arg(&args, "--duration", 10).max(1);
    let connections = arg(&args, "--connections", 8).max(1);
    println!("machine: {}", machine());
    let body = request(entries);
    engine(&body, iterations)?;
    http(&body, entries, duration, connections).await
}
