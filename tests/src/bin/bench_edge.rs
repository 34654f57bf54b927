//! `scripts/bench edge`: how fast the edge takes tickets and hands them to Temporal. Prints
//! figures; asserts nothing. Runs on the test harness's stack (a fresh database per phase, the
//! private Redis and in-memory Temporal dev server `scripts/bench` started; no worker: the
//! server only has to accept the workflows).
//!
//! 1. server baseline: `--signals` signal-with-starts of `ticket_sla` runs (business-key IDs,
//!    through `psa_edge::relay::temporal::execute` as the relay does) from `--callers`
//!    concurrent callers on one client, per second;
//! 2. relay: `--rows` tickets created through the API with the relay off, then the relay
//!    (`psa_edge::relay::Relay`, the harness's relay settings, `--relay-concurrency` and
//!    `--relay-batch` when given) started; rows per second until every outbox row is done, and
//!    the ratio to the baseline;
//! 3. ticket creates at fixed rates for `--duration` seconds each, by oha (`$PSA_BENCH_OHA`):
//!    open loop, latency corrected for coordinated omission, `--connections` connections, one
//!    tenant's key; per rate the rate achieved, latency p50/p99 and errors. `--rates` and half
//!    the baseline run with the relay on, and add the outbox lag (row created to its
//!    signal-with-start recorded) of the rows done during the run and of those done in the
//!    drain after it; `--sweep` runs with the relay off, for what the edge and Postgres take
//!    alone (more than any one Temporal server here could start). Then, for each, the highest
//!    rate sustained.

use chrono::{DateTime, Utc};
use psa_domain::commands::WorkflowCommand;
use psa_domain::ids::sla_workflow_id;
use psa_domain::sla::run::{TicketSignal, TicketSignalKind, TicketWorkflowInput};
use psa_edge::config::EdgeConfig;
use psa_edge::relay::{self, Relay, temporal};
use psa_edge::state::AppState;
use psa_tests::bench::{arg, list_arg, machine, percentile};
use psa_tests::{Parts, TestEnv};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long any wait for the relay may take before the benchmark gives up on it.
const DRAIN_LIMIT: Duration = Duration::from_secs(600);

struct Options {
    signals: usize,
    callers: usize,
    rows: usize,
    relay_concurrency: Option<usize>,
    relay_batch: Option<usize>,
    rates: Vec<usize>,
    sweep: Vec<usize>,
    half_baseline: bool,
    duration: usize,
    connections: usize,
    oha: String,
}

impl Options {
    fn parse() -> Self {
        let args: Vec<String> = std::env::args().collect();
        let optional = |name: &str| Some(arg(&args, name, 0)).filter(|&n| n > 0);
        Self {
            signals: arg(&args, "--signals", 2000).max(1),
            callers: arg(&args, "--callers", 64).max(1),
            rows: arg(&args, "--rows", 2000).max(1),
            relay_concurrency: optional("--relay-concurrency"),
            relay_batch: optional("--relay-batch"),
            rates: list_arg(&args, "--rates", &[50, 100, 200]),
            sweep: list_arg(&args, "--sweep", &[500, 1000, 1500]),
            half_baseline: arg(&args, "--half-baseline", 1) != 0,
            duration: arg(&args, "--duration", 10).max(1),
            connections: arg(&args, "--connections", 128).max(1),
            oha: std::env::var("PSA_BENCH_OHA").unwrap_or_else(|_| "oha".into()),
        }
    }

    /// The harness's edge settings with the relay on or off, and this run's relay options.
    fn edge_config(&self, env: &TestEnv, relay: bool) -> anyhow::Result<EdgeConfig> {
        let mut config = env.edge_config(relay);
        if let Some(n) = self.relay_concurrency {
            config.relay.concurrency = n;
        }
        if let Some(n) = self.relay_batch {
            config.relay.batch = i32::try_from(n)?;
        }
        Ok(config)
    }

    fn relay_settings(&self, env: &TestEnv) -> anyhow::Result<String> {
        let r = self.edge_config(env, true)?.relay;
        Ok(format!(
            "relay batch {}, concurrency {}, idle poll {} ms",
            r.batch,
            r.concurrency,
            r.idle_poll.as_millis()
        ))
    }
}

/// Runs `phase` on a fresh environment of `parts` and drops the environment whatever happens.
async fn with_env<T>(
    parts: Parts,
    phase: impl AsyncFnOnce(&mut TestEnv) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let mut env = TestEnv::start(parts).await?;
    let result = phase(&mut env).await;
    env.shutdown().await;
    result
}

/// A `ticket.created` signal-with-start for a new ticket of tenant A, as the outbox holds it.
fn created_command(env: &TestEnv, number: i64) -> WorkflowCommand {
    let s = &env.a.seeded;
    let ticket = Uuid::now_v7();
    WorkflowCommand::TicketSignalWithStart {
        workflow_id: sla_workflow_id(s.tenant_id, ticket),
        input: TicketWorkflowInput {
            tenant_id: s.tenant_id,
            ticket_id: ticket,
            ticket_number: number,
            board_id: s.board_id,
            priority: "P4".into(),
            opened_at: Utc::now(),
            carry: None,
        },
        signal: TicketSignal {
            event_id: Uuid::now_v7(),
            occurred_at: Utc::now(),
            kind: TicketSignalKind::Created {
                status_id: s.status_new,
                is_closed: false,
                pauses_sla: false,
            },
        },
        summary: format!("Benchmark ticket #{number}"),
    }
}

/// `n` signal-with-starts of new runs from `callers` tasks sharing one client, numbered from
/// `first`; returns how many failed.
async fn signal_with_starts(
    env: &TestEnv,
    client: &temporalio_client::Client,
    n: usize,
    callers: usize,
    first: usize,
) -> anyhow::Result<usize> {
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let commands: Arc<Vec<WorkflowCommand>> = Arc::new(
        (0..n)
            .map(|i| created_command(env, i64::try_from(first + i).unwrap_or(i64::MAX)))
            .collect(),
    );
    let tasks: Vec<_> = (0..callers.min(n))
        .map(|_| {
            let (next, failed, commands) = (next.clone(), failed.clone(), commands.clone());
            let client = client.clone();
            let queue = env.task_queue.clone();
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(cmd) = commands.get(i) else { break };
                    if let Err(e) = temporal::execute(cmd, &client, &queue).await
                        && failed.fetch_add(1, Ordering::Relaxed) == 0
                    {
                        eprintln!("signal-with-start failed: {e}");
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    Ok(failed.load(Ordering::Relaxed))
}

/// Phase 1: the Temporal server's parallel signal-with-start rate.
async fn baseline(o: &Options, env: &mut TestEnv) -> anyhow::Result<f64> {
    let client = temporal::connect(&env.services.temporal_address, "default").await?;
    // Warm-up: the connection, the namespace's caches, the task queue.
    signal_with_starts(env, &client, o.callers, o.callers, 0).await?;
    let clock = Instant::now();
    let failed = signal_with_starts(env, &client, o.signals, o.callers, o.callers).await?;
    let took = clock.elapsed().as_secs_f64();
    let rate = (o.signals - failed) as f64 / took.max(f64::EPSILON);
    println!(
        "server baseline: {} signal-with-starts of new ticket_sla runs (business-key IDs, relay::temporal::execute) from {} concurrent callers on one client: {rate:.0}/s ({took:.2} s, {failed} failed)",
        o.signals, o.callers
    );
    Ok(rate)
}

/// Creates `n` tickets of tenant A through the API, `concurrency` requests at a time; returns
/// how many were refused.
async fn create_tickets(env: &TestEnv, n: usize, concurrency: usize) -> anyhow::Result<usize> {
    use futures::StreamExt;
    let refused = futures::stream::iter(0..n)
        .map(|i| async move {
            let response = env
                .req(reqwest::Method::POST, "/v1/tickets", &env.a.key)
                .json(&serde_json::json!({ "title": format!("Benchmark ticket {i}") }))
                .send()
                .await;
            !matches!(response, Ok(r) if r.status().is_success())
        })
        .buffer_unordered(concurrency)
        .filter(|refused| std::future::ready(*refused))
        .count()
        .await;
    Ok(refused)
}

async fn outbox_rows(env: &TestEnv, done: Option<bool>) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE $1::boolean IS NULL OR (done_at IS NOT NULL) = $1",
    )
    .bind(done)
    .fetch_one(&env.owner)
    .await?)
}

/// Waits until no outbox row is pending, for at most [`DRAIN_LIMIT`]; returns whether none is.
async fn drained(env: &TestEnv) -> anyhow::Result<bool> {
    let deadline = Instant::now() + DRAIN_LIMIT;
    loop {
        if outbox_rows(env, Some(false)).await? == 0 {
            return Ok(true);
        }
        if Instant::now() > deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Phase 2: the relay's rate through a backlog, against the baseline.
async fn relay_throughput(o: &Options, env: &mut TestEnv, baseline: f64) -> anyhow::Result<()> {
    let clock = Instant::now();
    let refused = create_tickets(env, o.rows, 32).await?;
    let rows = outbox_rows(env, None).await?;
    println!(
        "relay: {} tickets created through the API with the relay off in {:.1} s (32 at a time, {refused} refused): {rows} outbox rows pending",
        o.rows,
        clock.elapsed().as_secs_f64()
    );
    let config = o.edge_config(env, true)?;
    let pool = psa_store::connect(&env.app_database_url, 20, Duration::from_secs(5)).await?;
    let state = AppState::new(pool, config);
    // Connected before the clock starts, as in a relay that has been running.
    state.temporal().await?;
    state.redis().await?;
    let (stop, stopped) = relay::stop_channel();
    let started: DateTime<Utc> = Utc::now();
    let running = tokio::spawn(Relay::new(state.clone()).run(stopped));
    let all_done = drained(env).await?;
    let _ = stop.send(true);
    let _ = tokio::time::timeout(relay::SHUTDOWN_GRACE, running).await;
    state.pool.close().await;
    let (done, last): (i64, Option<DateTime<Utc>>) =
        sqlx::query_as("SELECT count(*), max(done_at) FROM outbox WHERE done_at IS NOT NULL")
            .fetch_one(&env.owner)
            .await?;
    let took = last.map_or(0.0, |t| (t - started).as_seconds_f64());
    let rate = done as f64 / took.max(f64::EPSILON);
    println!(
        "relay throughput: {done} of {rows} rows done{} in {took:.2} s from relay start to the last done_at ({}): {rate:.0} rows/s; relay/server baseline = {:.2} (target >= 0.9)",
        if all_done { "" } else { " (gave up waiting)" },
        o.relay_settings(env)?,
        rate / baseline.max(f64::EPSILON)
    );
    Ok(())
}

/// What oha reported for one fixed-rate run.
struct Load {
    rate: usize,
    sent: u64,
    ok: u64,
    errors: u64,
    error_kinds: String,
    achieved: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Load {
    fn sustained(&self) -> bool {
        self.errors == 0 && self.achieved >= 0.95 * self.rate as f64 && self.p99_ms <= 1000.0
    }
}

/// Runs oha against `url` at `rate` per second for `o.duration` seconds.
async fn oha(o: &Options, url: &str, key: &str, rate: usize) -> anyhow::Result<Load> {
    let output = tokio::process::Command::new(&o.oha)
        .args([
            "--no-tui",
            "--output-format",
            "json",
            "--latency-correction",
        ])
        .args(["--wait-ongoing-requests-after-deadline"])
        .args(["-z", &format!("{}s", o.duration)])
        .args(["-q", &rate.to_string()])
        .args(["-c", &o.connections.to_string()])
        .args(["-m", "POST", "-T", "application/json"])
        .args(["-H", &format!("Authorization: Bearer {key}")])
        .args(["-d", r#"{"title":"Load-generated ticket"}"#])
        .arg(url)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| anyhow::anyhow!("cannot run {} (PSA_BENCH_OHA): {e}", o.oha))?;
    anyhow::ensure!(
        output.status.success(),
        "oha failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let count = |v: &serde_json::Value| -> Vec<(String, u64)> {
        v.as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let statuses = count(&report["statusCodeDistribution"]);
    let failures = count(&report["errorDistribution"]);
    let ok: u64 = statuses
        .iter()
        .filter(|(code, _)| code.starts_with('2'))
        .map(|(_, n)| n)
        .sum();
    let sent: u64 =
        statuses.iter().map(|(_, n)| n).sum::<u64>() + failures.iter().map(|(_, n)| n).sum::<u64>();
    let error_kinds = statuses
        .iter()
        .filter(|(code, _)| !code.starts_with('2'))
        .chain(failures.iter())
        .map(|(what, n)| format!("{what}: {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let total = report["summary"]["total"].as_f64().unwrap_or(0.0);
    let ms = |p: &str| report["latencyPercentiles"][p].as_f64().unwrap_or(f64::NAN) * 1000.0;
    Ok(Load {
        rate,
        sent,
        ok,
        errors: sent - ok,
        error_kinds,
        achieved: ok as f64 / total.max(f64::EPSILON),
        p50_ms: ms("p50"),
        p99_ms: ms("p99"),
    })
}

/// Outbox lag in ms (created to signalled) of done rows after `after_id` with a workflow
/// command, split into those signalled by `end` and those signalled after it; each sorted.
async fn lags(
    env: &TestEnv,
    after_id: i64,
    end: DateTime<Utc>,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let rows: Vec<(f64, bool)> = sqlx::query_as(
        "SELECT (extract(epoch FROM signalled_at - created_at) * 1000)::float8, signalled_at <= $2
           FROM outbox WHERE id > $1 AND done_at IS NOT NULL AND workflow_command IS NOT NULL",
    )
    .bind(after_id)
    .bind(end)
    .fetch_all(&env.owner)
    .await?;
    let (mut during, mut after): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    for (lag, by_end) in rows {
        if by_end { &mut during } else { &mut after }.push(lag);
    }
    during.sort_by(f64::total_cmp);
    after.sort_by(f64::total_cmp);
    Ok((during, after))
}

fn lag_text(lags: &[f64]) -> String {
    if lags.is_empty() {
        return "none".into();
    }
    format!(
        "{} rows, p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        lags.len(),
        percentile(lags, 50.0),
        percentile(lags, 99.0),
        percentile(lags, 100.0)
    )
}

/// Phase 3, one rate: oha against a fresh edge, then (with the relay on) the drain. With the
/// relay off the figures are the edge's and Postgres's alone: the rows wait in the outbox.
async fn creates_at(
    o: &Options,
    env: &mut TestEnv,
    (rate, label): (usize, &str),
    relay: bool,
) -> anyhow::Result<Load> {
    env.edge = Some(psa_edge::serve::start(o.edge_config(env, relay)?).await?);
    // One request first, so the run does not pay for connecting to Temporal and Redis.
    create_tickets(env, 1, 1).await?;
    if relay {
        drained(env).await?;
    }
    let warm_up: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM outbox")
        .fetch_one(&env.owner)
        .await?;
    let load = oha(o, &env.url("/v1/tickets"), &env.a.key, rate).await?;
    let end = Utc::now();
    println!(
        "creates at {rate}/s{label}, relay {}, for {} s ({} connections, oha open loop, latency corrected): achieved {:.0}/s ({} of {} sent answered 2xx), latency p50 {:.1} ms, p99 {:.1} ms, errors {}{}",
        if relay { "on" } else { "off" },
        o.duration,
        o.connections,
        load.achieved,
        load.ok,
        load.sent,
        load.p50_ms,
        load.p99_ms,
        load.errors,
        if load.errors > 0 {
            format!(" ({})", load.error_kinds)
        } else {
            String::new()
        }
    );
    if !relay {
        return Ok(load);
    }
    let all_done = drained(env).await?;
    let last: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT max(done_at) FROM outbox WHERE done_at IS NOT NULL")
            .fetch_one(&env.owner)
            .await?;
    let drain = last.map_or(0.0, |t| (t - end).as_seconds_f64().max(0.0));
    let (during, after) = lags(env, warm_up, end).await?;
    println!(
        "  outbox lag (created_at to signalled_at): during the run {}; drain after the run {:.2} s{}: {}",
        lag_text(&during),
        drain,
        if all_done { "" } else { " (gave up waiting)" },
        lag_text(&after)
    );
    Ok(load)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let o = Options::parse();
    println!("machine: {}", machine());
    let baseline = with_env(Parts::NONE, async |env| baseline(&o, env).await).await?;
    let settings = with_env(Parts::EDGE_ONLY, async |env| {
        relay_throughput(&o, env, baseline).await?;
        o.relay_settings(env)
    })
    .await?;

    let half = (baseline / 2.0).round() as usize;
    // With the relay on: the creates and the outbox lag at rates the server can take.
    let mut with_relay: Vec<(usize, &str)> = o.rates.iter().map(|&r| (r, "")).collect();
    if o.half_baseline && half > 0 {
        with_relay.push((half, " (half the server baseline)"));
    }
    with_relay.sort();
    with_relay.dedup_by_key(|r| r.0);
    // With the relay off: what the edge and Postgres take, beyond what any one Temporal
    // server here could start (the rows wait in the outbox).
    let mut alone: Vec<(usize, &str)> = o.sweep.iter().map(|&r| (r, "")).collect();
    alone.sort();
    alone.dedup_by_key(|r| r.0);
    println!(
        "ticket creates: POST /v1/tickets with one tenant's admin key, edge with {settings}, pool 20, no worker"
    );
    for (runs, relay) in [(with_relay, true), (alone, false)] {
        let mut loads = Vec::new();
        for run in runs {
            loads.push(
                with_env(Parts::NONE, async |env| {
                    creates_at(&o, env, run, relay).await
                })
                .await?,
            );
        }
        summarise(&loads, if relay { "relay on" } else { "relay off" });
    }
    Ok(())
}

/// The highest rate sustained among `loads`, and the highest within the latency target.
fn summarise(loads: &[Load], relay: &str) {
    if loads.is_empty() {
        return;
    }
    match loads
        .iter()
        .filter(|l| l.sustained())
        .max_by_key(|l| l.rate)
    {
        Some(l) => println!(
            "max sustained create rate, one tenant, {relay} (no errors, >= 95% of the asked rate, p99 <= 1 s): {}/s with p99 {:.1} ms (target >= 1000/s with p99 <= 50 ms)",
            l.rate, l.p99_ms
        ),
        None => println!("max sustained create rate, one tenant, {relay}: none of the rates tried"),
    }
    match loads
        .iter()
        .filter(|l| l.sustained() && l.p99_ms <= 50.0)
        .max_by_key(|l| l.rate)
    {
        Some(l) => println!(
            "max create rate with p99 <= 50 ms, {relay}: {}/s (p99 {:.1} ms)",
            l.rate, l.p99_ms
        ),
        None => println!("max create rate with p99 <= 50 ms, {relay}: none of the rates tried"),
    }
}
