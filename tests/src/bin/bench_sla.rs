//! `scripts/bench sla`: the SLA engine's speed and footprint. Prints figures; asserts nothing.
//!
//! - deadlines: due instants of 10,080-minute (one week) targets on a Mon-Fri 09:00-17:00
//!   Europe/London schedule with holidays, from starts spread over a year; per second, one
//!   thread (also with the 50/75/90/100 thresholds computed in the same walk);
//! - workflows: `--workflows` tickets' SLA runs started (ticket created), then closed, until
//!   every run has ended, on the test harness's stack (in-process worker, Temporal dev server);
//! - open: `--open` SLA runs waiting on their timers at once; resident memory of the worker.

use chrono::{TimeDelta, TimeZone, Utc};
use futures::StreamExt;
use psa_domain::calendar::{Calendar, HolidaySpec, ScheduleSpec, WindowSpec};
use psa_domain::commands::WorkflowCommand;
use psa_domain::ids::sla_workflow_id;
use psa_domain::sla::{normalize_thresholds, plan_phase};
use psa_tests::bench::{arg, peak_rss_mib, rss_mib};
use psa_tests::{Parts, TestEnv};
use psa_workflows::ticket_sla::{TicketSignal, TicketSignalKind, TicketWorkflowInput};
use std::time::{Duration, Instant};
use uuid::Uuid;

fn deadlines(n: usize) -> anyhow::Result<()> {
    let spec = ScheduleSpec {
        timezone: "Europe/London".into(),
        is_24x7: false,
        hours: (1..=5)
            .map(|d| WindowSpec {
                weekday: d,
                start: "09:00".into(),
                end: "17:00".into(),
            })
            .collect(),
        holidays: ["2026-12-25", "2026-12-26", "2027-01-01", "2027-04-05"]
            .iter()
            .map(|d| HolidaySpec {
                date: (*d).into(),
                recurring: true,
            })
            .collect(),
    };
    let cal = Calendar::new(&spec, "").map_err(|e| anyhow::anyhow!("{e}"))?;
    let base = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("base"))?;
    let target = TimeDelta::minutes(10_080);
    let start = |i: usize| base + TimeDelta::minutes((i as i64 * 37) % (365 * 1440));
    let clock = Instant::now();
    let mut last = base;
    for i in 0..n {
        last = last.max(cal.instant_after(start(i), target, &[])?);
    }
    let took = clock.elapsed();
    println!(
        "deadlines: {n} one-week (10,080 min) targets on Mon-Fri 09-17 Europe/London: {:.0} per second ({:.1} µs each)",
        n as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / n as f64
    );
    let percents = normalize_thresholds(&[50, 75, 90], "").map_err(|e| anyhow::anyhow!("{e}"))?;
    let clock = Instant::now();
    for i in 0..n {
        plan_phase(&cal, start(i), 10_080, &percents, &[])?;
    }
    let took = clock.elapsed();
    println!(
        "deadlines with thresholds 50/75/90/100 in one walk: {:.0} per second",
        n as f64 / took.as_secs_f64()
    );
    std::hint::black_box(last);
    Ok(())
}

/// Inserts `n` tickets of tenant A (P1, default status) and returns (id, number) of each.
async fn tickets(env: &TestEnv, n: usize, first_number: i64) -> anyhow::Result<Vec<(Uuid, i64)>> {
    let s = &env.a.seeded;
    Ok(sqlx::query_as(
        "INSERT INTO tickets (tenant_id, id, number, title, board_id, priority_id, status_id)
         SELECT $1, gen_random_uuid(), $6 + g, 'Benchmark ' || g, $2, $3, $4 FROM generate_series(1, $5) g
         RETURNING id, number",
    )
    .bind(s.tenant_id)
    .bind(s.board_id)
    .bind(s.priority_ids[0])
    .bind(s.status_new)
    .bind(i64::try_from(n)?)
    .bind(first_number)
    .fetch_all(&env.owner)
    .await?)
}

fn command(env: &TestEnv, ticket: Uuid, number: i64, kind: TicketSignalKind) -> WorkflowCommand {
    let s = &env.a.seeded;
    WorkflowCommand::TicketSignalWithStart {
        workflow_id: sla_workflow_id(s.tenant_id, ticket),
        input: TicketWorkflowInput {
            tenant_id: s.tenant_id,
            ticket_id: ticket,
            ticket_number: number,
            board_id: s.board_id,
            priority: "P1".into(),
            opened_at: Utc::now(),
            carry: None,
        },
        signal: TicketSignal {
            event_id: Uuid::now_v7(),
            occurred_at: Utc::now(),
            kind,
        },
        summary: format!("Benchmark ticket #{number}"),
    }
}

/// Sends `kind` to every ticket's run, 64 at a time.
async fn signal_all(
    env: &TestEnv,
    all: &[(Uuid, i64)],
    kind: TicketSignalKind,
) -> anyhow::Result<()> {
    let client = env.temporal().await?;
    let results: Vec<_> = futures::stream::iter(all.iter().map(|(id, number)| {
        let cmd = command(env, *id, *number, kind.clone());
        let client = client.clone();
        let queue = env.task_queue.clone();
        async move { psa_edge::relay::temporal::execute(&cmd, &client, &queue).await }
    }))
    .buffer_unordered(64)
    .collect()
    .await;
    for r in results {
        r?;
    }
    Ok(())
}

async fn steps(env: &TestEnv, key: &str) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM sla_audit_log WHERE step_key = $1")
            .bind(key)
            .fetch_one(&env.owner)
            .await?,
    )
}

async fn wait_steps(env: &TestEnv, key: &str, n: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(1800);
    while steps(env, key).await? < i64::try_from(n)? {
        anyhow::ensure!(
            Instant::now() < deadline,
            "gave up waiting for {n} `{key}` steps"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    deadlines(arg(&args, "--deadlines", 100_000))?;

    let env = TestEnv::start(Parts::WORKER_ONLY).await?;
    // A tenant-default policy: P1 has one hour to respond and four to resolve, around the clock.
    let s = env.a.seeded.clone();
    let policy = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO sla_policies (tenant_id, id, name, is_default) VALUES ($1, $2, 'Bench', true)",
    )
    .bind(s.tenant_id)
    .bind(policy)
    .execute(&env.owner)
    .await?;
    sqlx::query(
        "INSERT INTO sla_policy_targets (tenant_id, policy_id, priority_id, response_minutes, resolution_minutes, is_24x7)
         VALUES ($1, $2, $3, 60, 240, true)",
    )
    .bind(s.tenant_id)
    .bind(policy)
    .bind(s.priority_ids[0])
    .execute(&env.owner)
    .await?;
    let created = TicketSignalKind::Created {
        status_id: s.status_new,
        is_closed: false,
        pauses_sla: false,
    };

    let n = arg(&args, "--workflows", 500);
    let batch = tickets(&env, n, 1_000_000).await?;
    let clock = Instant::now();
    signal_all(&env, &batch, created.clone()).await?;
    wait_steps(&env, "started", n).await?;
    let started = clock.elapsed();
    signal_all(&env, &batch, TicketSignalKind::Closed).await?;
    wait_steps(&env, "finished", n).await?;
    let done = clock.elapsed();
    println!(
        "workflows: {n} SLA runs started in {:.1} s ({:.1}/s); started, closed and ended in {:.1} s ({:.1}/s end to end; each run ends 1 s after its close)",
        started.as_secs_f64(),
        n as f64 / started.as_secs_f64(),
        done.as_secs_f64(),
        n as f64 / done.as_secs_f64()
    );

    let open = arg(&args, "--open", 10_000);
    let before = rss_mib();
    let waiting = tickets(&env, open, 2_000_000).await?;
    let clock = Instant::now();
    signal_all(&env, &waiting, created).await?;
    wait_steps(&env, "started", n + open).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    println!(
        "open: {open} SLA runs waiting on timers (started in {:.0} s); worker process RSS {:.1} MiB (before: {:.1} MiB), peak {:.1} MiB",
        clock.elapsed().as_secs_f64(),
        rss_mib(),
        before,
        peak_rss_mib()
    );
    env.shutdown().await;
    Ok(())
}
