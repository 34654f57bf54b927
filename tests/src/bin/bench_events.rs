//! `scripts/bench events`: how fast the event bus moves events to a handler.
//!
//! Prints figures; asserts nothing (targets are judged by people reading them, never by timed
//! tests). Measures, against the Redis at `PSA_BENCH_REDIS_URL`:
//! - throughput: N events already on the stream, drained by one consumer process running
//!   `--consumers` consumers of a no-op handler's group;
//! - latency: events published at a steady `--rate` while consumers run, publish-to-handler;
//! - peak resident memory of this process (publisher and consumers together).

use chrono::Utc;
use futures::future::BoxFuture;
use psa_domain::events::{Actor, Envelope, Event, ProjectCreated, stream};
use psa_tests::bench::{arg, peak_rss_mib, percentile};
use psa_worker::bus::{BusConfig, Consumer, Handler, HandlerError};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

struct NoOp {
    name: String,
    seen: AtomicUsize,
    /// Publish-to-handler latencies in microseconds, when measuring latency.
    latencies: Mutex<Vec<f64>>,
}

impl Handler for NoOp {
    fn name(&self) -> &str {
        &self.name
    }

    fn handle<'a>(&'a self, event: &'a Envelope) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            self.seen.fetch_add(1, Ordering::Relaxed);
            let micros = (Utc::now() - event.occurred_at)
                .num_microseconds()
                .unwrap_or(i64::MAX);
            if let Ok(mut l) = self.latencies.lock() {
                l.push(micros as f64 / 1000.0);
            }
            Ok(())
        })
    }
}

fn envelope() -> Envelope {
    Envelope {
        event_id: Uuid::now_v7(),
        tenant_id: Uuid::nil(),
        occurred_at: Utc::now(),
        actor: Actor::System,
        event: Event::ProjectCreated(ProjectCreated {
            project_id: Uuid::now_v7(),
            client_id: Uuid::nil(),
            name: "Benchmark".into(),
        }),
    }
}

async fn publish(
    conn: &mut redis::aio::MultiplexedConnection,
    stream_name: &str,
    n: usize,
) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    for _ in 0..n {
        let e = envelope();
        pipe.cmd("XADD")
            .arg(stream_name)
            .arg("*")
            .arg(stream::FIELD_EVENT_ID)
            .arg(e.event_id.to_string())
            .arg(stream::FIELD_ENVELOPE)
            .arg(serde_json::to_string(&e).unwrap_or_default())
            .ignore();
    }
    pipe.query_async(conn).await
}

/// Runs `consumers` consumers of `handler` until `target` events were seen; returns the time.
async fn drain(cfg: &BusConfig, handler: &Arc<NoOp>, consumers: usize, target: usize) -> Duration {
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..consumers {
        let consumer = match Consumer::new(cfg.clone(), handler.clone(), format!("bench-{i}")) {
            Ok(c) => c,
            Err(e) => panic!("consumer: {e}"),
        };
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move { consumer.run(stop).await }));
    }
    while handler.seen.load(Ordering::Relaxed) < target {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = start.elapsed();
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    elapsed
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let events = arg(&args, "--events", 200_000);
    let consumers = arg(&args, "--consumers", 2);
    let rate = arg(&args, "--rate", 5_000);
    let latency_events = arg(&args, "--latency-events", 50_000);
    let redis_url =
        std::env::var("PSA_BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6391".into());
    let tag = Uuid::new_v4().simple().to_string();
    let mut cfg = BusConfig::new(redis_url.clone());
    cfg.stream = format!("bench:{tag}");
    cfg.dead_letter_stream = format!("bench:{tag}:dead-letter");
    cfg.start_id = "0".into();
    cfg.batch = 500;
    cfg.block = Duration::from_millis(50);
    let mut conn = redis::Client::open(redis_url.as_str())?
        .get_multiplexed_async_connection()
        .await?;

    // Throughput: a backlog drained as fast as the consumers go.
    for chunk in (0..events).step_by(5_000) {
        publish(&mut conn, &cfg.stream, 5_000.min(events - chunk)).await?;
    }
    let handler = Arc::new(NoOp {
        name: format!("bench-noop-{tag}"),
        seen: AtomicUsize::new(0),
        latencies: Mutex::new(Vec::with_capacity(events)),
    });
    let took = drain(&cfg, &handler, consumers, events).await;
    println!(
        "throughput: {events} events, {consumers} consumers, no-op handler: {:.0} events/s ({:.2} s)",
        events as f64 / took.as_secs_f64(),
        took.as_secs_f64()
    );

    // Latency: a steady publisher while consumers run.
    let latency_handler = Arc::new(NoOp {
        name: format!("bench-latency-{tag}"),
        seen: AtomicUsize::new(0),
        latencies: Mutex::new(Vec::with_capacity(latency_events)),
    });
    let mut lat_cfg = cfg.clone();
    lat_cfg.stream = format!("bench:{tag}:latency");
    lat_cfg.start_id = "$".into();
    {
        // Create the group first so no event published below is missed.
        let c = Consumer::new(lat_cfg.clone(), latency_handler.clone(), "bench-setup")?;
        let mut setup = c.connect().await?;
        c.ensure_group(&mut setup).await?;
    }
    let publisher = {
        let stream_name = lat_cfg.stream.clone();
        let mut conn = conn.clone();
        tokio::spawn(async move {
            let tick = Duration::from_millis(10);
            let per_tick = (rate / 100).max(1);
            let mut sent = 0;
            let mut interval = tokio::time::interval(tick);
            while sent < latency_events {
                interval.tick().await;
                let n = per_tick.min(latency_events - sent);
                if publish(&mut conn, &stream_name, n).await.is_err() {
                    break;
                }
                sent += n;
            }
        })
    };
    drain(&lat_cfg, &latency_handler, consumers, latency_events).await;
    let _ = publisher.await;
    let mut lat = latency_handler
        .latencies
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    lat.sort_by(f64::total_cmp);
    println!(
        "latency: {latency_events} events at {rate}/s, publish to handler: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        percentile(&lat, 100.0)
    );
    println!(
        "peak RSS (publisher + consumers in one process): {:.1} MiB",
        peak_rss_mib()
    );

    let _: () = redis::cmd("DEL")
        .arg(&cfg.stream)
        .arg(&lat_cfg.stream)
        .query_async(&mut conn)
        .await?;
    Ok(())
}
