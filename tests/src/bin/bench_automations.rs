//! `scripts/bench automations`: what automations cost per event and per run. Prints figures;
//! asserts nothing.
//!
//! - matching: every event of a tenant goes through the automation subscriber, which looks up
//!   the tenant's enabled automations triggered by the event's type and evaluates each one's
//!   condition, so its cost grows with the number of automations. With `--automations` enabled
//!   automations triggered by `ticket.created`, each with a condition false for the benchmark's
//!   events (so no run starts and only matching is timed), `--events` envelopes go through
//!   `AutomationHandler::handle` (the Postgres lookup through the trigger index, the compiled
//!   definition cache, one CEL condition per candidate, the wait-index lookup): the first
//!   event (cold cache) apart, then one at a time (latency) and in batches of the consumer's
//!   read size at once, as the consumer hands them over. Beside it, the same conditions
//!   evaluated in-process alone (`triggered_by` over the compiled definitions, one thread): the
//!   part of the cost that is not Postgres.
//! - runs: `--runs` runs of a 10-step automation (5 `set`, 5 `tickets.find` actions, each an
//!   activity that records the run and acts as the automation's owner) started straight on the
//!   Temporal dev server, timed from the first start to the last run recorded `completed`;
//!   beside them, in the same process on the same worker and server, as many runs of a no-op
//!   workflow taking the same input, started the same way: the baseline the automation's
//!   figures are divided by (`--rounds` alternates the two that many times).

use futures::StreamExt;
use psa_domain::automations::Definition;
use psa_domain::automations::expr::event_to_cel;
use psa_domain::automations::run::{RunInput, RunOutcome, manual_event, triggered_by};
use psa_domain::automations::validate;
use psa_domain::events::{Actor, Envelope, Event, TicketSnapshot};
use psa_domain::ids::automation_run;
use psa_tests::bench::{arg, machine, percentile, rss_mib, start_worker};
use psa_tests::{Parts, TestEnv};
use psa_worker::bus::{BusConfig, Handler};
use psa_worker::subscribers::AutomationHandler;
use psa_workflows::automation_run::AutomationRunWorkflow;
use psa_workflows::search_attributes as sa;
use serde_json::{Value as Json, json};
use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};
use temporalio_client::{
    Client, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions,
};
use temporalio_common::search_attributes::SearchAttributes;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{WorkflowContext, WorkflowResult};
use uuid::Uuid;

/// The ticket number of every benchmark event; no condition names it.
const EVENT_NUMBER: i64 = 42;
/// Condition `i` compares the ticket number with this plus `i`: false for every event.
const FIRST_UNMATCHED: i64 = 1_000_000;

/// The baseline: a workflow that takes an automation run's input and ends at once, noting its
/// end in this process at the point where an automation run records `completed`.
#[workflow]
#[derive(Default)]
pub struct NoopAutomation;

#[workflow_methods]
impl NoopAutomation {
    #[run(name = "bench_noop_automation")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        _input: RunInput,
    ) -> WorkflowResult<RunOutcome> {
        if let Ok(mut ended) = NOOP_ENDED.lock() {
            ended.insert(ctx.workflow_id().to_owned());
        }
        Ok(RunOutcome {
            status: "completed".into(),
            result: None,
            error: None,
        })
    }
}

/// Workflow IDs of no-op runs that have ended (a set: a replayed run counts once).
static NOOP_ENDED: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Default::default);

/// The API key the seeded tenant's automations act as: its admin key.
async fn owner_key(env: &TestEnv) -> anyhow::Result<Uuid> {
    Ok(
        sqlx::query_scalar("SELECT id FROM api_keys WHERE tenant_id = $1 AND secret_hash = $2")
            .bind(env.a.seeded.tenant_id)
            .bind(psa_store::principal::hash_key(&env.a.key))
            .fetch_one(&env.owner)
            .await?,
    )
}

/// Stores `definitions` as enabled automations of tenant A at version 1, as creating,
/// publishing and enabling them through the API would (straight to Postgres: a thousand
/// publishes through the API would time the API, not matching); their IDs.
async fn store_automations(
    env: &TestEnv,
    owner_key: Uuid,
    definitions: &[Json],
) -> anyhow::Result<Vec<Uuid>> {
    let s = &env.a.seeded;
    let ids: Vec<Uuid> = definitions.iter().map(|_| Uuid::now_v7()).collect();
    let version_ids: Vec<Uuid> = definitions.iter().map(|_| Uuid::now_v7()).collect();
    let names: Vec<String> = definitions
        .iter()
        .map(|d| d["name"].as_str().unwrap_or("Benchmark").to_owned())
        .collect();
    let mut tx = env.owner.begin().await?;
    sqlx::query(
        "INSERT INTO automations
                (tenant_id, id, name, draft, owner_key_id, latest_version, enabled)
         SELECT $1, id, name, draft, $2, 1, true
           FROM unnest($3::uuid[], $4::text[], $5::jsonb[]) AS t (id, name, draft)",
    )
    .bind(s.tenant_id)
    .bind(owner_key)
    .bind(&ids)
    .bind(&names)
    .bind(definitions)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO automation_versions
                (tenant_id, id, automation_id, version, definition, published_by)
         SELECT $1, id, automation_id, 1, definition, $2
           FROM unnest($3::uuid[], $4::uuid[], $5::jsonb[]) AS t (id, automation_id, definition)",
    )
    .bind(s.tenant_id)
    .bind(s.admin_user_id)
    .bind(&version_ids)
    .bind(&ids)
    .bind(definitions)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // The planner should see the new rows as a running system would.
    sqlx::query("ANALYZE automations, automation_versions")
        .execute(&env.owner)
        .await?;
    Ok(ids)
}

/// Compiles `json` as publishing does; a definition that does not validate is a bug here.
fn compile(json: &Json) -> anyhow::Result<Definition> {
    validate(json, |_| true).map_err(|issues| {
        let first = issues
            .first()
            .map_or(String::new(), |i| format!("{} {}", i.pointer, i.reason));
        anyhow::anyhow!("a benchmark definition does not validate: {first}")
    })
}

/// Automation `i` of the matching benchmark: triggered by `ticket.created`, never for the
/// benchmark's events.
fn unmatched(i: usize) -> anyhow::Result<Json> {
    Ok(json!({
        "name": format!("Benchmark {i}"),
        "trigger": {
            "event": "ticket.created",
            "condition": format!(
                "event.payload.ticket.number == {}",
                FIRST_UNMATCHED + i64::try_from(i)?
            ),
        },
        "steps": [{"id": "seen", "type": "set", "name": "seen", "value": "true"}],
    }))
}

/// `n` `ticket.created` envelopes of tenant A, as the edge raises them (fresh event IDs).
fn events(env: &TestEnv, owner_key: Uuid, n: usize) -> Vec<Envelope> {
    let s = &env.a.seeded;
    (0..n)
        .map(|_| Envelope {
            event_id: Uuid::now_v7(),
            tenant_id: s.tenant_id,
            occurred_at: chrono::Utc::now(),
            actor: Actor::ApiKey {
                key_id: owner_key,
                user_id: Some(s.admin_user_id),
            },
            event: Event::TicketCreated {
                ticket: TicketSnapshot {
                    ticket_id: Uuid::now_v7(),
                    number: EVENT_NUMBER,
                    title: "Benchmark".into(),
                    client_id: Some(s.client_id),
                    board_id: s.board_id,
                    priority_id: s.priority_ids[0],
                    priority_name: "P1".into(),
                    status_id: s.status_new,
                    status_is_closed: false,
                    status_pauses_sla: false,
                    assignee_id: None,
                },
            },
        })
        .collect()
}

/// The conditions alone, in-process: compiling the definitions, then each event (as JSON, as
/// the subscriber makes it) against every one, on this thread.
fn in_process(definitions: &[Json], events: &[Envelope]) -> anyhow::Result<()> {
    let clock = Instant::now();
    let compiled = definitions
        .iter()
        .map(compile)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let compiled_in = clock.elapsed();
    let clock = Instant::now();
    let mut matched = 0_usize;
    for e in events {
        let json = serde_json::to_value(e)?;
        for d in &compiled {
            // An error in a condition is a no, as in the subscriber.
            if triggered_by(d, &json) == Ok(true) {
                matched += 1;
            }
        }
    }
    let took = clock.elapsed().as_secs_f64().max(f64::EPSILON);
    // `triggered_by` turns the envelope into a CEL value for every condition it evaluates: how
    // much of the figure above that conversion is.
    let clock = Instant::now();
    for e in events {
        let json = serde_json::to_value(e)?;
        for _ in &compiled {
            std::hint::black_box(event_to_cel(std::hint::black_box(&json)));
        }
    }
    let converting = clock.elapsed().as_secs_f64();
    let n = compiled.len();
    println!(
        "  in-process, one thread: {n} definitions compiled in {:.0} ms ({:.0} µs each); \
         {} events against all {n} conditions: {:.1} events/s, {:.0} conditions/s \
         ({:.2} µs each, of which {:.2} µs turning the envelope into CEL); {matched} matched",
        compiled_in.as_secs_f64() * 1e3,
        compiled_in.as_secs_f64() * 1e6 / n.max(1) as f64,
        events.len(),
        events.len() as f64 / took,
        (events.len() * n) as f64 / took,
        took * 1e6 / (events.len() * n).max(1) as f64,
        converting * 1e6 / (events.len() * n).max(1) as f64,
    );
    Ok(())
}

/// The subscriber's path for every event: the first alone with a cold definition cache, the
/// rest one at a time, then all again in batches handled at once, as the consumer does.
async fn through_handler(
    env: &TestEnv,
    handler: &AutomationHandler,
    events: &[Envelope],
    automations: usize,
) -> anyhow::Result<()> {
    let Some((first, rest)) = events.split_first() else {
        return Ok(());
    };
    let handle = |e: &Envelope| {
        let e = e.clone();
        async move {
            handler
                .handle(&e)
                .await
                .map_err(|err| anyhow::anyhow!("handling {}: {err}", e.event_id))
        }
    };
    let clock = Instant::now();
    handle(first).await?;
    let cold = clock.elapsed().as_secs_f64() * 1e3;

    let mut latencies = Vec::with_capacity(rest.len());
    let clock = Instant::now();
    for e in rest {
        let one = Instant::now();
        handle(e).await?;
        latencies.push(one.elapsed().as_secs_f64() * 1e3);
    }
    let sequential = clock.elapsed().as_secs_f64().max(f64::EPSILON);
    latencies.sort_by(f64::total_cmp);

    // The consumer reads up to a batch of entries and handles them all at once.
    let batch = BusConfig::new(env.services.redis_url.clone()).batch.max(1);
    // Fresh event IDs: the handler does not de-duplicate, but a real redelivery is not timed.
    let again: Vec<Envelope> = events
        .iter()
        .map(|e| Envelope {
            event_id: Uuid::now_v7(),
            ..e.clone()
        })
        .collect();
    let clock = Instant::now();
    for chunk in again.chunks(batch) {
        for r in futures::future::join_all(chunk.iter().map(handle)).await {
            r?;
        }
    }
    let concurrent = clock.elapsed().as_secs_f64().max(f64::EPSILON);

    let started: i64 = sqlx::query_scalar("SELECT count(*) FROM automation_runs")
        .fetch_one(&env.owner)
        .await?;
    println!(
        "  through AutomationHandler::handle: first event (cold definition cache) {cold:.1} ms; \
         warm, one at a time: {} events, {:.1} events/s, {:.0} conditions/s, latency p50 \
         {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        rest.len(),
        rest.len() as f64 / sequential,
        (rest.len() * automations) as f64 / sequential,
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or_default(),
    );
    println!(
        "  warm, in batches of up to {batch} at once (as the consumer hands them over): {} \
         events, {:.1} events/s, {:.0} conditions/s; runs started: {started}",
        again.len(),
        again.len() as f64 / concurrent,
        (again.len() * automations) as f64 / concurrent,
    );
    Ok(())
}

/// The run benchmark's automation: 10 steps, 5 of them `tickets.find` actions on `ticket`.
fn ten_steps(ticket: Uuid) -> Json {
    let steps: Vec<Json> = (0..5)
        .flat_map(|i| {
            [
                json!({"id": format!("set{i}"), "type": "set", "name": format!("v{i}"),
                       "value": i.to_string()}),
                json!({"id": format!("find{i}"), "type": "action", "action": "tickets.find",
                       "input": {"ticket_id": format!("'{ticket}'")}}),
            ]
        })
        .collect();
    json!({"name": "Benchmark ten steps", "trigger": {"manual": {}}, "steps": steps})
}

/// Which workflow a batch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Automation,
    Noop,
}

/// One batch of runs from the first start: until every start was accepted, and until every
/// run had ended.
#[derive(Debug, Clone, Copy, Default)]
struct Batch {
    runs: usize,
    started: Duration,
    ended: Duration,
}

impl Batch {
    fn add(self, other: Batch) -> Batch {
        Batch {
            runs: self.runs + other.runs,
            started: self.started + other.started,
            ended: self.ended + other.ended,
        }
    }

    fn per_second(&self) -> f64 {
        self.runs as f64 / self.ended.as_secs_f64().max(f64::EPSILON)
    }
}

/// Starts `n` runs of `kind` with the call, options and input the subscriber uses (fresh
/// trigger event IDs, so fresh workflow IDs), 64 at a time, and waits until all have ended.
async fn batch(
    env: &TestEnv,
    client: &Client,
    kind: Kind,
    automation: Uuid,
    n: usize,
) -> anyhow::Result<Batch> {
    let tenant = env.a.seeded.tenant_id;
    let inputs: Vec<(String, RunInput)> = (0..n)
        .map(|_| {
            let event_id = Uuid::now_v7();
            let input = RunInput {
                tenant_id: tenant,
                automation_id: automation,
                version: 1,
                event: manual_event(tenant, event_id, chrono::Utc::now(), json!({})),
                carry: None,
            };
            (
                automation_run::workflow_id(tenant, automation, event_id),
                input,
            )
        })
        .collect();
    let ids: Vec<String> = inputs.iter().map(|(id, _)| id.clone()).collect();
    let clock = Instant::now();
    let results: Vec<anyhow::Result<()>> =
        futures::stream::iter(inputs.into_iter().map(|(workflow_id, input)| {
            let options = WorkflowStartOptions::new(env.task_queue.as_str(), workflow_id.as_str())
                .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
                .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
                .search_attributes(SearchAttributes::new([
                    sa::TENANT_ID.value_set(input.tenant_id.to_string()),
                    sa::AUTOMATION_ID.value_set(input.automation_id.to_string()),
                    sa::AUTOMATION_VERSION.value_set(i64::from(input.version)),
                ]))
                .static_summary("Benchmark (version 1)".to_owned())
                .build();
            async move {
                match kind {
                    Kind::Automation => client
                        .start_workflow(AutomationRunWorkflow::run, input, options)
                        .await
                        .map(|_| ())?,
                    Kind::Noop => client
                        .start_workflow(NoopAutomation::run, input, options)
                        .await
                        .map(|_| ())?,
                }
                Ok(())
            }
        }))
        .buffer_unordered(64)
        .collect()
        .await;
    for r in results {
        r?;
    }
    let started = clock.elapsed();
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let ended = match kind {
            Kind::Automation => completed(env, &ids).await?,
            Kind::Noop => NOOP_ENDED
                .lock()
                .map(|s| ids.iter().filter(|id| s.contains(*id)).count())
                .unwrap_or(0),
        };
        if ended >= n {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "gave up waiting for {n} {kind:?} runs ({ended} ended)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(Batch {
        runs: n,
        started,
        ended: clock.elapsed(),
    })
}

/// How many of the runs `ids` are recorded `completed`; a failed one stops the benchmark, as
/// its figures would time something else.
async fn completed(env: &TestEnv, ids: &[String]) -> anyhow::Result<usize> {
    let (done, failed, error): (i64, i64, Option<Json>) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'completed'),
                count(*) FILTER (WHERE status = 'failed'),
                (array_agg(error) FILTER (WHERE status = 'failed'))[1]
           FROM automation_runs WHERE tenant_id = $1 AND workflow_id = ANY($2)",
    )
    .bind(env.a.seeded.tenant_id)
    .bind(ids)
    .fetch_one(&env.owner)
    .await?;
    anyhow::ensure!(
        failed == 0,
        "{failed} automation runs failed, the first with {}",
        error.unwrap_or_default()
    );
    Ok(usize::try_from(done)?)
}

fn report(label: &str, b: &Batch) {
    println!(
        "  {label}: {} runs started in {:.2} s; started and ended in {:.2} s ({:.1} runs/s)",
        b.runs,
        b.started.as_secs_f64(),
        b.ended.as_secs_f64(),
        b.per_second()
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let automations = arg(&args, "--automations", 1000).max(1);
    let n_events = arg(&args, "--events", 200).max(2);
    let runs = arg(&args, "--runs", 200).max(1);
    let rounds = arg(&args, "--rounds", 2).max(1);
    println!("{}", machine());
    // Set before the harness's own (which then stands aside): the batch phase queues events on
    // the subscriber's pool as the consumer does, and the pool warns of every slow acquire;
    // that queueing is what the phase measures, not a fault to print a line for each time.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("warn,sqlx::pool::acquire=error")
            }),
        )
        .with_writer(std::io::stderr)
        .try_init();

    let env = TestEnv::start(Parts::NONE).await?;
    let s = env.a.seeded.clone();
    let key = owner_key(&env).await?;

    // Matching, before the worker starts, so its pollers share nothing with it.
    let definitions = (0..automations)
        .map(unmatched)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let bench_events = events(&env, key, n_events);
    println!(
        "matching: {automations} enabled automations on `ticket.created` in one tenant, each with \
         a condition false for the events (`event.payload.ticket.number == N`)"
    );
    in_process(&definitions, &bench_events)?;
    store_automations(&env, key, &definitions).await?;
    // The worker's pool: the subscriber's lookups draw from as many connections.
    let pool = psa_store::connect(&env.app_database_url, 10, Duration::from_secs(10)).await?;
    let client = env.temporal().await?;
    let handler = AutomationHandler::new(pool.clone(), client.clone(), env.task_queue.clone());
    through_handler(&env, &handler, &bench_events, automations).await?;
    pool.close().await;

    // Runs, on a worker with the system's workflows and activities and the no-op beside them.
    let ticket: Uuid = sqlx::query_scalar(
        "INSERT INTO tickets (tenant_id, id, number, title, board_id, priority_id, status_id)
         VALUES ($1, gen_random_uuid(), 1, 'Benchmark', $2, $3, $4) RETURNING id",
    )
    .bind(s.tenant_id)
    .bind(s.board_id)
    .bind(s.priority_ids[0])
    .bind(s.status_new)
    .fetch_one(&env.owner)
    .await?;
    let definition = ten_steps(ticket);
    compile(&definition)?;
    let automation = store_automations(&env, key, &[definition])
        .await?
        .first()
        .copied()
        .ok_or_else(|| anyhow::anyhow!("the run benchmark's automation was not stored"))?;
    // The no-op's workflow IDs name an automation of their own, so the two never share one.
    let noop_automation = Uuid::now_v7();
    let rss_before = rss_mib();
    let worker = start_worker(&env, |options| {
        options.register_workflow::<NoopAutomation>()?;
        Ok(())
    });
    // Warm-up, not counted: connections, caches and the server's task queues in place.
    batch(&env, &client, Kind::Noop, noop_automation, 20).await?;
    batch(&env, &client, Kind::Automation, automation, 20).await?;
    println!(
        "runs: {runs} per batch, {rounds} round(s) alternating no-op and automation batches; \
         the automation has 10 steps (5 `set`, 5 `tickets.find` actions), started directly \
         with the subscriber's options, ended when recorded `completed`; the no-op returns at \
         once"
    );
    let (mut noop, mut auto) = (Batch::default(), Batch::default());
    for round in 0..rounds {
        // Alternate which goes first, so neither always meets the fuller server.
        let (a, b) = if round % 2 == 0 {
            let a = batch(&env, &client, Kind::Noop, noop_automation, runs).await?;
            let b = batch(&env, &client, Kind::Automation, automation, runs).await?;
            (a, b)
        } else {
            let b = batch(&env, &client, Kind::Automation, automation, runs).await?;
            let a = batch(&env, &client, Kind::Noop, noop_automation, runs).await?;
            (a, b)
        };
        println!("round {}:", round + 1);
        report("no-op     ", &a);
        report("automation", &b);
        noop = noop.add(a);
        auto = auto.add(b);
    }
    println!("all rounds:");
    report("no-op     ", &noop);
    report("automation", &auto);
    println!(
        "automation / no-op: runs per second {:.2}; process RSS {:.1} MiB (before the worker: \
         {rss_before:.1} MiB)",
        auto.per_second() / noop.per_second(),
        rss_mib()
    );
    worker.stop().await;
    env.shutdown().await;
    Ok(())
}
