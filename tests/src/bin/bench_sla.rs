//! `scripts/bench sla`: the SLA engine's speed and footprint. Prints figures; asserts nothing.
//!
//! - deadlines: due instants of 10,080-minute (one week) targets on a Mon-Fri 09:00-17:00
//!   Europe/London schedule with holidays, from starts spread over a year; per second, one
//!   thread (also with the 50/75/90/100 thresholds computed in the same walk);
//! - workflows: `--workflows` tickets' SLA runs started (ticket created), then closed, until
//!   every run has ended, on the test harness's stack (in-process worker, Temporal dev server);
//!   beside them, in the same run on the same server and worker, as many runs of a no-op
//!   workflow started, signalled and ended the same way: the baseline the SLA figures are
//!   divided by (`--rounds` alternates the two that many times);
//! - open: `--open` SLA runs waiting on their timers at once; resident memory of the worker.

use chrono::{TimeDelta, TimeZone, Utc};
use futures::StreamExt;
use psa_domain::calendar::{Calendar, HolidaySpec, ScheduleSpec, WindowSpec};
use psa_domain::commands::WorkflowCommand;
use psa_domain::ids::sla_workflow_id;
use psa_domain::sla::{normalize_thresholds, plan_phase};
use psa_tests::bench::{arg, peak_rss_mib, rss_mib, start_worker};
use psa_tests::{Parts, TestEnv};
use psa_workflows::search_attributes as sa;
use psa_workflows::ticket_sla::{TicketSignal, TicketSignalKind, TicketWorkflowInput};
use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};
use temporalio_client::{
    Client, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions,
};
use temporalio_common::search_attributes::SearchAttributes;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowResult};
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

/// The baseline: a workflow that does nothing but wait for its second event, then ends. It
/// takes the SLA run's input and signal, so both are started and signalled with the same
/// payloads; its first activation and its end are noted in this process, at the points where
/// an SLA run writes its `started` and `finished` steps.
#[workflow]
#[derive(Default)]
pub struct NoopRun {
    events: u32,
}

#[workflow_methods]
impl NoopRun {
    #[run(name = "bench_noop")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        _input: TicketWorkflowInput,
    ) -> WorkflowResult<()> {
        note(&NOOP_STARTED, ctx.workflow_id());
        ctx.wait_condition(|s| s.events >= 2).await?;
        note(&NOOP_ENDED, ctx.workflow_id());
        Ok(())
    }

    #[signal(name = "ticket_event")]
    pub fn ticket_event(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _signal: TicketSignal) {
        self.events += 1;
    }
}

/// Workflow IDs of no-op runs that were activated / have ended (sets: a replayed run counts once).
static NOOP_STARTED: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Default::default);
static NOOP_ENDED: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Default::default);

fn note(set: &Mutex<HashSet<String>>, id: &str) {
    if let Ok(mut s) = set.lock() {
        s.insert(id.to_owned());
    }
}

/// How many of `ids` are in `set`.
fn noted(set: &Mutex<HashSet<String>>, ids: &[String]) -> usize {
    set.lock()
        .map(|s| ids.iter().filter(|id| s.contains(*id)).count())
        .unwrap_or(0)
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

fn input(env: &TestEnv, ticket: Uuid, number: i64) -> TicketWorkflowInput {
    let s = &env.a.seeded;
    TicketWorkflowInput {
        tenant_id: s.tenant_id,
        ticket_id: ticket,
        ticket_number: number,
        board_id: s.board_id,
        priority: "P1".into(),
        opened_at: Utc::now(),
        carry: None,
    }
}

fn signal(kind: TicketSignalKind) -> TicketSignal {
    TicketSignal {
        event_id: Uuid::now_v7(),
        occurred_at: Utc::now(),
        kind,
    }
}

fn command(env: &TestEnv, ticket: Uuid, number: i64, kind: TicketSignalKind) -> WorkflowCommand {
    WorkflowCommand::TicketSignalWithStart {
        workflow_id: sla_workflow_id(env.a.seeded.tenant_id, ticket),
        input: input(env, ticket, number),
        signal: signal(kind),
        summary: format!("Benchmark ticket #{number}"),
    }
}

/// Sends `kind` to every ticket's SLA run through the relay's code, 64 at a time.
async fn signal_all(
    env: &TestEnv,
    client: &Client,
    all: &[(Uuid, i64)],
    kind: TicketSignalKind,
) -> anyhow::Result<()> {
    let results: Vec<_> = futures::stream::iter(all.iter().map(|(id, number)| {
        let cmd = command(env, *id, *number, kind.clone());
        let queue = env.task_queue.clone();
        async move { psa_edge::relay::temporal::execute(&cmd, client, &queue).await }
    }))
    .buffer_unordered(64)
    .collect()
    .await;
    for r in results {
        r?;
    }
    Ok(())
}

/// Sends `kind` to every no-op run, 64 at a time, with the call and options the relay uses
/// for an SLA run (signal-with-start, the same search attributes and summary).
async fn signal_all_noop(
    env: &TestEnv,
    client: &Client,
    all: &[(String, Uuid, i64)],
    kind: TicketSignalKind,
) -> anyhow::Result<()> {
    let results: Vec<_> = futures::stream::iter(all.iter().map(|(workflow_id, ticket, number)| {
        let input = input(env, *ticket, *number);
        let signal = signal(kind.clone());
        let options = WorkflowStartOptions::new(env.task_queue.clone(), workflow_id.clone())
            .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
            .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
            .search_attributes(SearchAttributes::new([
                sa::TENANT_ID.value_set(input.tenant_id.to_string()),
                sa::TICKET_ID.value_set(input.ticket_id.to_string()),
                sa::BOARD_ID.value_set(input.board_id.to_string()),
                sa::PRIORITY.value_set(input.priority.clone()),
            ]))
            .static_summary(format!("Benchmark ticket #{number}"))
            .build();
        async move {
            client
                .signal_with_start_workflow(
                    NoopRun::run,
                    input,
                    NoopRun::ticket_event,
                    signal,
                    options,
                )
                .await
        }
    }))
    .buffer_unordered(64)
    .collect()
    .await;
    for r in results {
        r?;
    }
    Ok(())
}

/// How many of `tickets` have the audit step `key`.
async fn steps(env: &TestEnv, key: &str, tickets: &[Uuid]) -> anyhow::Result<usize> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sla_audit_log WHERE step_key = $1 AND ticket_id = ANY($2)",
    )
    .bind(key)
    .bind(tickets)
    .fetch_one(&env.owner)
    .await?;
    Ok(usize::try_from(n)?)
}

/// Polls `count` until it reaches `n`; both kinds of run are polled the same way.
async fn wait_for<F, Fut>(what: &str, n: usize, mut count: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<usize>>,
{
    let deadline = Instant::now() + Duration::from_secs(1800);
    while count().await? < n {
        anyhow::ensure!(Instant::now() < deadline, "gave up waiting for {n} {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// One batch of runs from their first start: until every one has started, and until every
/// one has been closed and has ended.
#[derive(Debug, Clone, Copy, Default)]
struct Lifecycle {
    runs: usize,
    started: Duration,
    ended: Duration,
}

impl Lifecycle {
    fn add(self, other: Lifecycle) -> Lifecycle {
        Lifecycle {
            runs: self.runs + other.runs,
            started: self.started + other.started,
            ended: self.ended + other.ended,
        }
    }

    fn starts_per_second(&self) -> f64 {
        self.runs as f64 / self.started.as_secs_f64().max(f64::EPSILON)
    }

    fn lifecycles_per_second(&self) -> f64 {
        self.runs as f64 / self.ended.as_secs_f64().max(f64::EPSILON)
    }
}

/// `n` tickets' SLA runs: created (signal-with-start), then closed, until each has written
/// its `finished` step.
async fn sla_batch(
    env: &TestEnv,
    client: &Client,
    n: usize,
    first_number: i64,
) -> anyhow::Result<Lifecycle> {
    let s = &env.a.seeded;
    let created = TicketSignalKind::Created {
        status_id: s.status_new,
        is_closed: false,
        pauses_sla: false,
    };
    let batch = tickets(env, n, first_number).await?;
    let ids: Vec<Uuid> = batch.iter().map(|(id, _)| *id).collect();
    let clock = Instant::now();
    signal_all(env, client, &batch, created).await?;
    wait_for("`started` steps", n, || steps(env, "started", &ids)).await?;
    let started = clock.elapsed();
    signal_all(env, client, &batch, TicketSignalKind::Closed).await?;
    wait_for("`finished` steps", n, || steps(env, "finished", &ids)).await?;
    Ok(Lifecycle {
        runs: n,
        started,
        ended: clock.elapsed(),
    })
}

/// `n` no-op runs: started with the same call and payloads, then signalled once, until each
/// has ended.
async fn noop_batch(env: &TestEnv, client: &Client, n: usize) -> anyhow::Result<Lifecycle> {
    let s = &env.a.seeded;
    let created = TicketSignalKind::Created {
        status_id: s.status_new,
        is_closed: false,
        pauses_sla: false,
    };
    let batch: Vec<(String, Uuid, i64)> = (0..n)
        .map(|i| {
            let ticket = Uuid::now_v7();
            (format!("bench-noop:{ticket}"), ticket, i as i64)
        })
        .collect();
    let ids: Vec<String> = batch.iter().map(|(id, _, _)| id.clone()).collect();
    let clock = Instant::now();
    signal_all_noop(env, client, &batch, created).await?;
    wait_for("no-op starts", n, || async {
        Ok(noted(&NOOP_STARTED, &ids))
    })
    .await?;
    let started = clock.elapsed();
    signal_all_noop(env, client, &batch, TicketSignalKind::Closed).await?;
    wait_for("no-op ends", n, || async { Ok(noted(&NOOP_ENDED, &ids)) }).await?;
    Ok(Lifecycle {
        runs: n,
        started,
        ended: clock.elapsed(),
    })
}

fn report(label: &str, l: &Lifecycle) {
    println!(
        "  {label}: {} runs started in {:.2} s ({:.1}/s); started, closed and ended in {:.2} s ({:.1}/s)",
        l.runs,
        l.started.as_secs_f64(),
        l.starts_per_second(),
        l.ended.as_secs_f64(),
        l.lifecycles_per_second()
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    deadlines(arg(&args, "--deadlines", 100_000))?;

    let env = TestEnv::start(Parts::NONE).await?;
    let worker = start_worker(&env, |options| {
        options.register_workflow::<NoopRun>()?;
        Ok(())
    });
    let client = env.temporal().await?;
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

    let n = arg(&args, "--workflows", 500);
    let rounds = arg(&args, "--rounds", 2).max(1);
    // Warm-up, not counted: connections, caches and the server's task queues in place.
    noop_batch(&env, &client, 20).await?;
    sla_batch(&env, &client, 20, 100_000).await?;
    println!(
        "workflows: {n} runs per batch, {rounds} round(s) alternating no-op and SLA batches; an SLA run ends after its reopen window (the harness's, {} s), a no-op run at its second signal",
        env.worker_config().sla_reopen_window.as_secs()
    );
    let (mut noop, mut sla) = (Lifecycle::default(), Lifecycle::default());
    let mut numbers = 1_000_000;
    for round in 0..rounds {
        // Alternate which goes first, so neither always meets the fuller server.
        let (a, b) = if round % 2 == 0 {
            let a = noop_batch(&env, &client, n).await?;
            let b = sla_batch(&env, &client, n, numbers).await?;
            (a, b)
        } else {
            let b = sla_batch(&env, &client, n, numbers).await?;
            let a = noop_batch(&env, &client, n).await?;
            (a, b)
        };
        numbers += i64::try_from(n)?;
        println!("round {}:", round + 1);
        report("no-op", &a);
        report("SLA  ", &b);
        noop = noop.add(a);
        sla = sla.add(b);
    }
    println!("all rounds:");
    report("no-op", &noop);
    report("SLA  ", &sla);
    println!(
        "SLA / no-op: starts {:.2}, full lifecycles (start, close, end) {:.2}",
        sla.starts_per_second() / noop.starts_per_second(),
        sla.lifecycles_per_second() / noop.lifecycles_per_second()
    );

    let created = TicketSignalKind::Created {
        status_id: s.status_new,
        is_closed: false,
        pauses_sla: false,
    };
    let open = arg(&args, "--open", 10_000);
    let before = rss_mib();
    let waiting = tickets(&env, open, 2_000_000).await?;
    let waiting_ids: Vec<Uuid> = waiting.iter().map(|(id, _)| *id).collect();
    let clock = Instant::now();
    signal_all(&env, &client, &waiting, created).await?;
    wait_for("`started` steps", open, || {
        steps(&env, "started", &waiting_ids)
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    println!(
        "open: {open} SLA runs waiting on timers (started in {:.0} s); worker process RSS {:.1} MiB (before: {:.1} MiB), peak {:.1} MiB",
        clock.elapsed().as_secs_f64(),
        rss_mib(),
        before,
        peak_rss_mib()
    );
    worker.stop().await;
    env.shutdown().await;
    Ok(())
}
