//! `scripts/bench email`: how fast events become e-mails that reached the SMTP server.
//!
//! Prints figures; asserts nothing. Runs the real path on the test harness's stack (a fresh
//! database, an in-process worker, the Redis, Temporal dev server and SMTP sink that
//! `scripts/bench` started): N `ticket.assigned` events go on the stream at once; the
//! notifications subscriber writes the in-app row and starts one `notify:{tenant}:{event}`
//! workflow per event, which plans, reserves a send slot, sends through lettre and records
//! the outcome. Figures:
//! - events/s: N divided by the time from the first publish to the last `sent` record;
//! - end-to-end latency per e-mail: event time to the `sent` record, p50/p99/max;
//! - peak resident memory of this process, which is the whole worker plus a small publisher.

use chrono::Utc;
use psa_domain::events::Envelope;
use psa_tests::bench::{arg, peak_rss_mib, percentile};
use psa_tests::{Parts, TestEnv};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Waits until every event of `batch` has a final e-mail record; returns the event-to-send
/// latencies (ms, sorted), the number failed and the last send time.
async fn wait_sent(
    env: &TestEnv,
    batch: &[Envelope],
) -> anyhow::Result<(Vec<f64>, usize, Option<chrono::DateTime<Utc>>)> {
    let occurred: HashMap<Uuid, chrono::DateTime<Utc>> =
        batch.iter().map(|e| (e.event_id, e.occurred_at)).collect();
    let ids: Vec<Uuid> = occurred.keys().copied().collect();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let rows: Vec<(Uuid, String, Option<chrono::DateTime<Utc>>)> = sqlx::query_as(
            "SELECT event_id, status, sent_at FROM notification_log
              WHERE channel = 'email' AND status <> 'queued' AND event_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&env.owner)
        .await?;
        if rows.len() >= batch.len() || Instant::now() > deadline {
            let failed = rows.iter().filter(|r| r.1 == "failed").count();
            let last = rows.iter().filter_map(|r| r.2).max();
            let mut lat: Vec<f64> = rows
                .iter()
                .filter_map(|(id, _, sent)| Some((*sent)? - *occurred.get(id)?))
                .map(|d| d.num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0)
                .collect();
            lat.sort_by(f64::total_cmp);
            return Ok((lat, failed, last));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let events = arg(&args, "--events", 500);
    let rate = arg(&args, "--rate", 20).max(1);
    let latency_events = arg(&args, "--latency-events", 200);
    let env = TestEnv::start(Parts::WORKER_ONLY).await?;
    // A budget that never binds: this measures the pipeline, not the tenant's rate limit.
    sqlx::query(
        "INSERT INTO tenant_notification_settings (tenant_id, rate_limit_per_minute) VALUES ($1, 1000000)",
    )
    .bind(env.a.seeded.tenant_id)
    .execute(&env.owner)
    .await?;

    // Throughput: a burst, drained as fast as the pipeline goes.
    let burst: Vec<Envelope> = (1..=events as i64)
        .map(|n| env.ticket_assigned(n))
        .collect();
    let started_at = Utc::now();
    env.publish(&burst).await?;
    let (_, failed, last) = wait_sent(&env, &burst).await?;
    let span = last.map_or(Duration::ZERO, |t| {
        (t - started_at).to_std().unwrap_or_default()
    });
    println!(
        "e-mail throughput: {events} ticket.assigned events in one burst: {:.1} events/s ({:.2} s from first publish to last send, {failed} failed)",
        (events - failed) as f64 / span.as_secs_f64().max(f64::EPSILON),
        span.as_secs_f64()
    );

    // Latency: a steady trickle, as in normal operation.
    let mut trickle = Vec::with_capacity(latency_events);
    let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    for n in 0..latency_events {
        interval.tick().await;
        let e = env.ticket_assigned((events + n + 1) as i64);
        env.publish(std::slice::from_ref(&e)).await?;
        trickle.push(e);
    }
    let (lat, failed, _) = wait_sent(&env, &trickle).await?;
    println!(
        "e-mail latency: {latency_events} events at {rate}/s, publish to SMTP accepted: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({failed} failed)",
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        percentile(&lat, 100.0)
    );
    let mails = std::fs::read_dir(env.services.maildir.join("new"))
        .map(|d| d.count())
        .unwrap_or(0);
    println!("SMTP sink holds {mails} messages");
    println!(
        "peak RSS (worker: bus consumers + Temporal workers, in one process): {:.1} MiB",
        peak_rss_mib()
    );
    env.shutdown().await;
    Ok(())
}
