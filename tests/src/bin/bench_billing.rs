//! `scripts/bench billing`: how fast invoice previews are computed. Prints figures; asserts
//! nothing. One client's period: 50 contract lines of every kind and 2,000 time entries (plus
//! usage, two discounts, compound tax and credits).
//!
//! 1. engine alone, one thread: `--iterations` previews from the request JSON
//!    (`psa_domain::billing::preview`: reading, validating, computing, writing the answer), and
//!    the computation alone from the read input (`compute`);
//! 2. over HTTP: `POST /v1/invoices/preview` on the harness's edge (a fresh database, the
//!    tenant's admin key), driven by oha (`$PSA_BENCH_OHA`) for `--duration` seconds with
//!    `--connections` connections, closed loop: previews per second and latency p50/p99.

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

async fn http(body: &Value, duration: usize, connections: usize) -> anyhow::Result<()> {
    let oha = std::env::var("PSA_BENCH_OHA").unwrap_or_else(|_| "oha".into());
    let env = TestEnv::start(Parts::EDGE_ONLY).await?;
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
        .arg(env.url("/v1/invoices/preview"))
        .kill_on_drop(true)
        .output()
        .await;
    let _ = std::fs::remove_file(&file);
    env.shutdown().await;
    let output = output.map_err(|e| anyhow::anyhow!("cannot run {oha} (PSA_BENCH_OHA): {e}"))?;
    anyhow::ensure!(
        output.status.success(),
        "oha failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout)?;
    let ms = |p: &str| report["latencyPercentiles"][p].as_f64().unwrap_or(f64::NAN) * 1000.0;
    println!(
        "over HTTP (edge on this machine, {connections} connections, closed loop, {duration} s): {:.0} previews/s, latency p50 {:.1} ms, p99 {:.1} ms; statuses {}",
        report["summary"]["requestsPerSec"].as_f64().unwrap_or(0.0),
        ms("p50"),
        ms("p99"),
        report["statusCodeDistribution"]
    );
    Ok(())
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
    http(&body, duration, connections).await
}
