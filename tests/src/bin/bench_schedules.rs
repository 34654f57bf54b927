//! `scripts/bench schedules`: how fast recurrence expands and the calendar answers. Prints
//! figures; asserts nothing.
//!
//! 1. expansion alone, one thread: a weekly rule (Monday, Wednesday, Friday) expanded over a
//!    year, `--iterations` times: occurrences per second; and the schedule preview's worst
//!    cases (rules that make nothing for centuries, a COUNT walked as far as it is walked and
//!    one asked past that, a series begun in year 1 read at the end of time): milliseconds
//!    each;
//! 2. the range query over HTTP on the harness's edge (a fresh database): `--technicians`
//!    technicians with `--series` weekly series each, one month read whole for everyone (every
//!    page) and for each technician in turn: milliseconds per query.

use chrono::{DateTime, TimeDelta, Utc};
use psa_domain::recurrence::preview::{PreviewRequest, preview};
use psa_domain::recurrence::{Rule, Series};
use psa_tests::bench::{arg, machine, percentile};
use psa_tests::{Parts, TestEnv};
use reqwest::Method;
use serde_json::json;
use std::time::Instant;

fn expansion(iterations: usize) -> anyhow::Result<()> {
    let start = chrono::NaiveDateTime::parse_from_str("2026-01-05T09:00:00", "%Y-%m-%dT%H:%M:%S")?;
    let rule = Rule::parse("FREQ=WEEKLY;BYDAY=MO,WE,FR").map_err(|e| anyhow::anyhow!("{e}"))?;
    let series = Series::new(
        start,
        chrono_tz::America::New_York,
        Some(rule),
        Default::default(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let from: DateTime<Utc> = "2026-01-01T00:00:00Z".parse()?;
    let to = from + TimeDelta::days(365);
    let per = series.window(from, to, 1_000).occurrences.len();
    let began = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(series.window(std::hint::black_box(from), to, 1_000));
    }
    let took = began.elapsed().as_secs_f64();
    println!(
        "expansion, weekly rule over a year ({per} occurrences), one thread: {iterations} years in {took:.2} s: {:.0} occurrences/s ({:.1} µs per year)",
        (iterations * per) as f64 / took,
        took * 1e6 / iterations as f64
    );
    let worst = [
        (
            "nothing for centuries (30 February, daily)",
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
            "0001-01-01T00:00:00",
            "9989-01-01T00:00:00Z",
        ),
        (
            "daily since year 1, read in 9989",
            "FREQ=DAILY",
            "0001-01-01T00:00:00",
            "9989-01-01T00:00:00Z",
        ),
        (
            "a COUNT walked 200,000 days (the most walked)",
            "FREQ=DAILY;COUNT=3000000",
            "2000-01-01T00:00:00",
            "2547-01-01T00:00:00Z",
        ),
        (
            "a COUNT past its walk, refused",
            "FREQ=DAILY;COUNT=3000000",
            "2000-01-01T00:00:00",
            "9989-01-01T00:00:00Z",
        ),
        (
            "last weekday of the month, 1,000 asked",
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
            "1900-01-01T00:00:00",
            "2026-01-01T00:00:00Z",
        ),
    ];
    for (what, rrule, start, from) in worst {
        let from: DateTime<Utc> = from.parse()?;
        let request: PreviewRequest = serde_json::from_value(json!({
            "start": start, "timezone": "America/New_York", "duration_minutes": 60, "rrule": rrule,
            "from": from.to_rfc3339(), "to": (from + TimeDelta::days(3_660)).to_rfc3339(), "limit": 1_000,
        }))?;
        let began = Instant::now();
        let answer = preview(&request);
        let ms = began.elapsed().as_secs_f64() * 1e3;
        match answer {
            Ok(answer) => println!(
                "preview worst case, {what}: {ms:.1} ms ({} occurrences)",
                answer.occurrences.len()
            ),
            Err(e) => println!("preview worst case, {what}: {ms:.1} ms ({e})"),
        }
    }
    Ok(())
}

async fn range_query(technicians: usize, series: usize) -> anyhow::Result<()> {
    let env = TestEnv::start(Parts::EDGE_ONLY).await?;
    let tenant = env.a.seeded.tenant_id;
    let mut users = Vec::with_capacity(technicians);
    for i in 0..technicians {
        let id = uuid::Uuid::now_v7();
        sqlx::query(
            "INSERT INTO users (tenant_id, id, email, display_name, kind) VALUES ($1, $2, $3, $4, 'internal')",
        )
        .bind(tenant)
        .bind(id)
        .bind(format!("tech{i}@msp.example"))
        .bind(format!("Technician {i}"))
        .execute(&env.owner)
        .await?;
        users.push(id);
    }
    let began = Instant::now();
    let days = ["MO", "TU", "WE", "TH", "FR"];
    for (i, user) in users.iter().enumerate() {
        for k in 0..series {
            let body = json!({
                "title": format!("Series {k} of technician {i}"), "assignees": [user],
                "start": format!("2026-01-0{}T{:02}:00:00", 5 + k % 5, 8 + k),
                "timezone": "America/New_York", "duration_minutes": 45,
                "rrule": format!("FREQ=WEEKLY;BYDAY={}", days[k % 5]),
            });
            env.ok(Method::POST, "/v1/schedule-entries", &env.a.key, &body)
                .await;
        }
    }
    let made = technicians * series;
    println!(
        "{made} series written through the API (each with its conflict check) in {:.1} s: {:.0}/s",
        began.elapsed().as_secs_f64(),
        made as f64 / began.elapsed().as_secs_f64()
    );
    let month = "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z";
    let mut whole = Vec::new();
    let mut count = 0;
    for _ in 0..5 {
        let began = Instant::now();
        let mut cursor = String::new();
        count = 0;
        loop {
            let page = env
                .ok(
                    Method::GET,
                    &format!("/v1/schedule-entries?{month}&limit=200{cursor}"),
                    &env.a.key,
                    &json!(null),
                )
                .await;
            count += page["items"].as_array().map_or(0, Vec::len);
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        whole.push(began.elapsed().as_secs_f64() * 1e3);
    }
    whole.sort_by(f64::total_cmp);
    println!(
        "one month for all {technicians} technicians ({count} occurrences, pages of 200): median {:.1} ms, best {:.1} ms",
        percentile(&whole, 50.0),
        whole[0]
    );
    let mut each = Vec::new();
    for user in &users {
        let began = Instant::now();
        env.ok(
            Method::GET,
            &format!("/v1/schedule-entries?{month}&assignee={user}"),
            &env.a.key,
            &json!(null),
        )
        .await;
        each.push(began.elapsed().as_secs_f64() * 1e3);
    }
    each.sort_by(f64::total_cmp);
    println!(
        "one month for one technician ({series} series): p50 {:.2} ms, p99 {:.2} ms over {} queries",
        percentile(&each, 50.0),
        percentile(&each, 99.0),
        each.len()
    );
    env.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    println!("{}", machine());
    expansion(arg(&args, "--iterations", 20_000))?;
    range_query(arg(&args, "--technicians", 200), arg(&args, "--series", 5)).await
}
