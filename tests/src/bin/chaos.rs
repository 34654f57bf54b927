//! `scripts/chaos`: the fault suite's load, fault schedule and checks.
//!
//! `scripts/chaos` starts the stack as separate processes and runs this against it. A steady
//! load of ticket lifecycles (create, read it, assign to the technician, comment, close, read its
//! SLA view: six requests each) runs from start to end; after a baseline phase, one fault per phase is injected a few
//! seconds in, through `scripts/chaos --hook down|up COMPONENT`: kill -9 the worker, kill -9
//! the edge, restart Redis, restart the Temporal dev server, restart Postgres. Every request is
//! retried until it succeeds (creates and comments with their `Idempotency-Key`; assigning and
//! closing are no-ops when repeated), so what the client believes was committed is exact.
//!
//! Afterwards, once the outbox has drained (bounded by `--drain`), it checks that nothing was
//! lost or duplicated: tickets and comments against Postgres, one event of each kind per
//! ticket, every event handled by every subscriber and none dead-lettered, each expected
//! in-app row and each expected e-mail (counted by Message-ID on the SMTP sink) exactly once,
//! and exactly one SLA run per ticket with none failed or terminated. It prints the figures
//! per fault and exits 1 on any loss, duplicate, failure or backlog left.
//!
//! Settings come from the environment `scripts/chaos` exports (`PSA_EDGE_URL`,
//! `PSA_DEMO_API_KEY`, `MIGRATION_DATABASE_URL`, `REDIS_URL`, `TEMPORAL_ADDRESS`,
//! `TEMPORAL_NAMESPACE`, `PSA_MAILDIR`, `WORKER_METRICS_ADDR`, `PSA_CHAOS_HOOK`); timings from
//! `--baseline S --phase S --lead S --down S --rate REQUESTS_PER_S --drain S`.

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use psa_domain::events::Envelope;
use psa_domain::ids::sla_workflow_id;
use psa_domain::notifications::{self, Channel};
use psa_tests::bench::arg;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use temporalio_client::{WorkflowExecutionStatus, WorkflowListOptions};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use uuid::Uuid;

/// The components broken in turn, and how.
const FAULTS: [(&str, &str); 5] = [
    ("worker", "kill -9, restart"),
    ("edge", "kill -9, restart"),
    ("redis", "restart"),
    ("temporal", "restart"),
    ("postgres", "restart"),
];

/// Create, read it back, assign, comment, close, read its SLA: four writes (five events) and
/// two reads.
const REQUESTS_PER_LIFECYCLE: f64 = 6.0;

/// The subscriber whose success records are checked (`bus::subscribers`).
const HANDLER: &str = "notifications";

/// A lifecycle gives up on a request after this long: a component that has not recovered by
/// then is a finding, not something to wait out.
const GIVE_UP: Duration = Duration::from_secs(180);

struct Settings {
    baseline: Duration,
    phase: Duration,
    lead: Duration,
    down: Duration,
    /// Requests per second, in lifecycles of [`REQUESTS_PER_LIFECYCLE`].
    rate: f64,
    drain: Duration,
}

impl Settings {
    fn from_args() -> Self {
        let args: Vec<String> = std::env::args().collect();
        let secs = |name, default| Duration::from_secs(arg(&args, name, default) as u64);
        Self {
            baseline: secs("--baseline", 8),
            phase: secs("--phase", 20),
            lead: secs("--lead", 4),
            down: secs("--down", 3),
            rate: arg(&args, "--rate", 12).max(1) as f64,
            drain: secs("--drain", 150),
        }
    }
}

struct Stack {
    edge: String,
    key: String,
    owner_url: String,
    redis_url: String,
    temporal: String,
    namespace: String,
    maildir: PathBuf,
    hook: String,
    worker_health: String,
}

impl Stack {
    fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).with_context(|| format!("{name} is not set"));
        Ok(Self {
            edge: var("PSA_EDGE_URL")?,
            key: var("PSA_DEMO_API_KEY")?,
            owner_url: var("MIGRATION_DATABASE_URL")?,
            redis_url: var("REDIS_URL")?,
            temporal: var("TEMPORAL_ADDRESS")?,
            namespace: var("TEMPORAL_NAMESPACE").unwrap_or_else(|_| "default".into()),
            maildir: PathBuf::from(var("PSA_MAILDIR")?),
            hook: var("PSA_CHAOS_HOOK")?,
            worker_health: format!("http://{}/healthz", var("WORKER_METRICS_ADDR")?),
        })
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Ok,
    Throttled,
    Failed,
}

/// One HTTP attempt, timed from the start of the run.
struct Attempt {
    start: Duration,
    end: Duration,
    outcome: Outcome,
    /// What was asked (`create`, `assign`, …) and, for a failure, what went wrong.
    op: &'static str,
    cause: Option<String>,
}

/// What the clients saw and believe was committed.
#[derive(Default)]
struct Ledger {
    attempts: Vec<Attempt>,
    /// Tickets whose create was answered with 201: lifecycle number → ticket.
    tickets: BTreeMap<usize, Uuid>,
    comments: HashSet<Uuid>,
    /// Lifecycles that ran to the end (so their ticket must carry all five events).
    completed: HashSet<Uuid>,
    /// Requests given up on, or refused with a 4xx: each is a failure of the run.
    abandoned: Vec<String>,
}

struct Load {
    t0: Instant,
    http: reqwest::Client,
    stack: Arc<Stack>,
    technician: Uuid,
    ledger: Mutex<Ledger>,
}

impl Load {
    fn note(&self, start: Duration, outcome: Outcome, op: &'static str, cause: Option<String>) {
        let end = self.t0.elapsed();
        if let Ok(mut l) = self.ledger.lock() {
            l.attempts.push(Attempt {
                start,
                end,
                outcome,
                op,
                cause,
            });
        }
    }

    /// Sends until a 2xx answer, retrying errors, timeouts and 5xx, and waiting out 429s.
    async fn call(
        &self,
        op: &'static str,
        method: Method,
        path: &str,
        body: &Value,
        idempotency_key: Option<Uuid>,
    ) -> Result<Value, String> {
        let give_up = Instant::now() + GIVE_UP;
        let mut backoff = Duration::from_millis(200);
        loop {
            let start = self.t0.elapsed();
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.stack.edge))
                .bearer_auth(&self.stack.key);
            if method != Method::GET {
                req = req.json(body);
            }
            if let Some(k) = idempotency_key {
                req = req.header("Idempotency-Key", k.to_string());
            }
            let mut wait = backoff;
            match req.send().await {
                Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                    Ok(v) => {
                        self.note(start, Outcome::Ok, op, None);
                        return Ok(v);
                    }
                    Err(_) => {
                        self.note(start, Outcome::Failed, op, Some("unreadable answer".into()))
                    }
                },
                Ok(r) if r.status() == StatusCode::TOO_MANY_REQUESTS => {
                    self.note(start, Outcome::Throttled, op, None);
                    wait = r
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok())
                        .map_or(Duration::from_secs(1), Duration::from_secs);
                }
                Ok(r)
                    if r.status().is_server_error()
                        || r.status() == StatusCode::REQUEST_TIMEOUT =>
                {
                    let status = r.status().as_u16();
                    let body = r.text().await.unwrap_or_default();
                    let cause = format!("{status} {}", short(&body));
                    self.note(start, Outcome::Failed, op, Some(cause));
                }
                Ok(r) => {
                    let status = r.status();
                    self.note(start, Outcome::Failed, op, Some(status.to_string()));
                    let text = r.text().await.unwrap_or_default();
                    return Err(format!("{method} {path}: {status} {text}"));
                }
                Err(e) => {
                    let cause = if e.is_timeout() {
                        "no answer within 10 s"
                    } else if e.is_connect() {
                        "connection refused"
                    } else {
                        "connection broken"
                    };
                    self.note(start, Outcome::Failed, op, Some(cause.into()));
                }
            }
            if Instant::now() + wait > give_up {
                return Err(format!(
                    "{method} {path}: no success within {}s",
                    GIVE_UP.as_secs()
                ));
            }
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }

    /// Create, read, assign to the technician, comment, close, read the SLA view.
    async fn lifecycle(&self, n: usize) -> Result<(), String> {
        let created = self
            .call(
                "create",
                Method::POST,
                "/v1/tickets",
                &json!({ "title": format!("chaos ticket {n}") }),
                Some(Uuid::now_v7()),
            )
            .await?;
        let id = uuid_of(&created)?;
        if let Ok(mut l) = self.ledger.lock() {
            l.tickets.insert(n, id);
        }
        self.call(
            "read",
            Method::GET,
            &format!("/v1/tickets/{id}"),
            &Value::Null,
            None,
        )
        .await?;
        self.call(
            "assign",
            Method::POST,
            &format!("/v1/tickets/{id}/assign"),
            &json!({ "assignee_id": self.technician }),
            None,
        )
        .await?;
        let comment = self
            .call(
                "comment",
                Method::POST,
                &format!("/v1/tickets/{id}/comments"),
                &json!({ "body": format!("chaos comment on {n}") }),
                Some(Uuid::now_v7()),
            )
            .await?;
        let comment = uuid_of(&comment)?;
        if let Ok(mut l) = self.ledger.lock() {
            l.comments.insert(comment);
        }
        self.call(
            "close",
            Method::POST,
            &format!("/v1/tickets/{id}/close"),
            &json!({}),
            None,
        )
        .await?;
        self.call(
            "read sla",
            Method::GET,
            &format!("/v1/tickets/{id}/sla"),
            &Value::Null,
            None,
        )
        .await?;
        if let Ok(mut l) = self.ledger.lock() {
            l.completed.insert(id);
        }
        Ok(())
    }
}

/// The problem's title or detail, enough to tell causes apart in the summary.
fn short(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("detail")
                .or_else(|| v.get("title"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| body.chars().take(80).collect())
}

fn uuid_of(v: &Value) -> Result<Uuid, String> {
    v.get("id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("answer without an id: {v}"))
}

/// One phase of the run: a fault (or none) and when it happened.
struct Phase {
    name: &'static str,
    how: &'static str,
    start: Duration,
    end: Duration,
    injected: Option<Duration>,
    restored: Option<Duration>,
    hook_error: Option<String>,
    /// Outbox rows not yet delivered when the phase ended.
    backlog: Option<i64>,
    /// Until every event written before the restore was delivered and notified.
    caught_up: Option<tokio::task::JoinHandle<Option<Duration>>>,
}

async fn backlog(owner: &PgPool) -> Option<i64> {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE done_at IS NULL")
        .fetch_one(owner)
        .await
        .ok()
}

async fn hook(stack: &Stack, action: &str, component: &str) -> anyhow::Result<()> {
    let status = tokio::process::Command::new(&stack.hook)
        .args(["--hook", action, component])
        .status()
        .await
        .with_context(|| format!("running {} --hook", stack.hook))?;
    if status.success() {
        Ok(())
    } else {
        Err(anyhow!("hook {action} {component} failed: {status}"))
    }
}

// ---- what should exist, and what does ----------------------------------------------------

struct Event {
    envelope: Envelope,
    done: bool,
    verified: bool,
}

/// Every outbox event (optionally only those written before `before`).
async fn events(owner: &PgPool, before: Option<DateTime<Utc>>) -> anyhow::Result<Vec<Event>> {
    let rows: Vec<(String, bool, bool)> = sqlx::query_as(
        "SELECT envelope::text, done_at IS NOT NULL, verified_at IS NOT NULL FROM outbox
          WHERE $1::timestamptz IS NULL OR created_at < $1 ORDER BY id",
    )
    .bind(before)
    .fetch_all(owner)
    .await?;
    rows.into_iter()
        .map(|(raw, done, verified)| {
            Ok(Event {
                envelope: Envelope::from_json(&raw).map_err(|e| anyhow!("outbox envelope: {e}"))?,
                done,
                verified,
            })
        })
        .collect()
}

/// (event, user) pairs the notification rules call for on `channel`. Preferences and
/// switches are the defaults (everything on), so the rules alone decide.
fn expected(events: &[Event], channel: Channel) -> HashSet<(Uuid, Uuid)> {
    events
        .iter()
        .map(|e| &e.envelope)
        .filter(|env| {
            notifications::subtype_for(&env.event).is_some()
                && notifications::channel_allowed(env, channel)
        })
        .flat_map(|env| {
            notifications::direct_recipients(env)
                .into_iter()
                .map(|u| (env.event_id, u))
        })
        .collect()
}

async fn in_app_rows(owner: &PgPool) -> anyhow::Result<HashMap<(Uuid, Uuid), i64>> {
    let rows: Vec<(Uuid, Uuid, i64)> = sqlx::query_as(
        "SELECT event_id, user_id, count(*) FROM in_app_notifications GROUP BY 1, 2",
    )
    .fetch_all(owner)
    .await?;
    Ok(rows.into_iter().map(|(e, u, n)| ((e, u), n)).collect())
}

/// Message-ID → when each message carrying it reached the sink (its file's time).
fn mails(maildir: &std::path::Path) -> HashMap<String, Vec<SystemTime>> {
    let mut out: HashMap<String, Vec<SystemTime>> = HashMap::new();
    for sub in ["new", "cur"] {
        let Ok(dir) = std::fs::read_dir(maildir.join(sub)) else {
            continue;
        };
        for entry in dir.flatten() {
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            let at = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            // Headers end at the first empty line.
            let id = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                .map(|l| l["message-id:".len()..].trim().to_owned());
            out.entry(id.unwrap_or_default()).or_default().push(at);
        }
    }
    for times in out.values_mut() {
        times.sort();
    }
    out
}

/// Whether a message that reached the sink at `first` was in SMTP's commit window when the
/// worker was killed: accepted by the server, not yet recorded as sent. SMTP has no way to
/// send exactly once, so the retry after such a kill sends it again (same Message-ID); the
/// product keeps that window to one commit round trip (`claim_email`). Such resends are
/// reported on their own, not as duplicates; any other second copy is a duplicate.
fn in_commit_window(first: SystemTime, worker_killed: Option<SystemTime>) -> bool {
    worker_killed.is_some_and(|kill| {
        let gap = match first.duration_since(kill) {
            Ok(after) => after,
            Err(before) => before.duration(),
        };
        gap <= Duration::from_millis(500)
    })
}

fn message_id(event: Uuid, user: Uuid) -> String {
    format!("<{event}.{user}@psa>")
}

/// Polls until every event written before `restored` is delivered and its in-app rows exist;
/// the time from `injected` to then, or `None` if not by `deadline`.
async fn watch_catch_up(
    owner: PgPool,
    t0: Instant,
    injected: Duration,
    restored: DateTime<Utc>,
    deadline: Instant,
) -> Option<Duration> {
    while Instant::now() < deadline {
        let ok = async {
            let evs = events(&owner, Some(restored)).await?;
            let rows = in_app_rows(&owner).await?;
            anyhow::Ok(
                evs.iter().all(|e| e.done)
                    && expected(&evs, Channel::InApp)
                        .iter()
                        .all(|k| rows.contains_key(k)),
            )
        }
        .await
        .unwrap_or(false);
        if ok {
            return Some(t0.elapsed().saturating_sub(injected));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    None
}

/// One line of the verdict: what was checked, how many, how many lost and duplicated.
struct Check {
    what: &'static str,
    total: usize,
    lost: usize,
    duplicated: usize,
    note: String,
}

struct Verdict {
    checks: Vec<Check>,
    /// Failed, terminated, timed-out or cancelled runs, dead letters, invalid events.
    failures: Vec<String>,
    /// Which items were lost or duplicated (the first few of each check).
    details: Vec<String>,
    pending_outbox: i64,
}

impl Verdict {
    /// Whatever is still missing: zero once everything arrived.
    fn missing(&self) -> usize {
        self.checks.iter().map(|c| c.lost).sum::<usize>() + self.pending_outbox as usize
    }
}

async fn verdict(
    stack: &Stack,
    owner: &PgPool,
    temporal: &temporalio_client::Client,
    tenant: Uuid,
    ledger: &Ledger,
    worker_killed: Option<SystemTime>,
) -> anyhow::Result<Verdict> {
    let mut checks = Vec::new();
    let mut failures = Vec::new();

    // Tickets: what clients were told was created, against Postgres (titles are unique per
    // lifecycle, so a second row for one lifecycle is a duplicate).
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, title FROM tickets WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_all(owner)
            .await?;
    let in_db: HashSet<Uuid> = rows.iter().map(|r| r.0).collect();
    let acknowledged: HashSet<Uuid> = ledger.tickets.values().copied().collect();
    let mut per_title: HashMap<&str, usize> = HashMap::new();
    for (_, t) in &rows {
        *per_title.entry(t.as_str()).or_insert(0) += 1;
    }
    checks.push(Check {
        what: "tickets (client-acknowledged vs Postgres)",
        total: acknowledged.len(),
        lost: acknowledged.difference(&in_db).count(),
        duplicated: in_db.difference(&acknowledged).count()
            + per_title
                .values()
                .map(|n| n.saturating_sub(1))
                .sum::<usize>(),
        note: String::new(),
    });

    let comments_db: HashSet<Uuid> =
        sqlx::query_scalar::<_, Uuid>("SELECT id FROM ticket_comments WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_all(owner)
            .await?
            .into_iter()
            .collect();
    checks.push(Check {
        what: "comments (client-acknowledged vs Postgres)",
        total: ledger.comments.len(),
        lost: ledger.comments.difference(&comments_db).count(),
        duplicated: comments_db.difference(&ledger.comments).count(),
        note: String::new(),
    });

    // Events: one of each kind per finished lifecycle, written once by the edge.
    let evs = events(owner, None).await?;
    let mut kinds: HashMap<(Uuid, &str), usize> = HashMap::new();
    for e in &evs {
        if let Some(t) = e.envelope.event.ticket_id() {
            *kinds.entry((t, e.envelope.event_type())).or_insert(0) += 1;
        }
    }
    let lifecycle_kinds = [
        "ticket.created",
        "ticket.assigned",
        "comment.added",
        "ticket.status_changed",
        "ticket.closed",
    ];
    let (mut lost, mut dup) = (0, 0);
    for t in &ledger.completed {
        for k in lifecycle_kinds {
            match kinds.get(&(*t, k)).copied().unwrap_or(0) {
                0 => lost += 1,
                1 => {}
                n => dup += n - 1,
            }
        }
    }
    checks.push(Check {
        what: "events written (5 per finished lifecycle)",
        total: ledger.completed.len() * lifecycle_kinds.len(),
        lost,
        duplicated: dup,
        note: format!("{} outbox rows in all", evs.len()),
    });

    let pending_outbox = evs.iter().filter(|e| !e.done || !e.verified).count() as i64;

    // Subscribers: each event's success record, and nothing dead-lettered.
    let mut redis = redis::Client::open(stack.redis_url.as_str())?
        .get_multiplexed_async_connection()
        .await?;
    let mut pipe = redis::pipe();
    for e in &evs {
        pipe.exists(format!("psa:handled:{HANDLER}:{}", e.envelope.event_id));
    }
    let handled: Vec<bool> = if evs.is_empty() {
        Vec::new()
    } else {
        pipe.query_async(&mut redis).await?
    };
    let stream_len: usize = redis::cmd("XLEN")
        .arg(psa_domain::events::stream::EVENTS)
        .query_async(&mut redis)
        .await?;
    let dead: usize = redis::cmd("XLEN")
        .arg(psa_domain::events::stream::DEAD_LETTERS)
        .query_async(&mut redis)
        .await?;
    if dead > 0 {
        failures.push(format!("{dead} dead-lettered event(s)"));
    }
    checks.push(Check {
        what: "events handled by the `notifications` subscriber",
        total: evs.len(),
        lost: handled.iter().filter(|h| !**h).count(),
        duplicated: 0,
        note: format!("{stream_len} stream entries, {dead} dead letters"),
    });

    // In-app rows: exactly the ones the rules call for (the table's unique key makes a second
    // row impossible, so a duplicate shows as a row nobody expected).
    let want = expected(&evs, Channel::InApp);
    let rows = in_app_rows(owner).await?;
    checks.push(Check {
        what: "in-app notifications",
        total: want.len(),
        lost: want.iter().filter(|k| !rows.contains_key(k)).count(),
        duplicated: rows
            .iter()
            .map(|(k, n)| {
                if want.contains(k) {
                    *n as usize - 1
                } else {
                    *n as usize
                }
            })
            .sum(),
        note: String::new(),
    });

    // E-mail: each expected Message-ID exactly once on the sink.
    let want: HashSet<String> = expected(&evs, Channel::Email)
        .into_iter()
        .map(|(e, u)| message_id(e, u))
        .collect();
    let got = mails(&stack.maildir);
    let resent: HashSet<&String> = got
        .iter()
        .filter(|(m, times)| {
            times.len() == 2 && want.contains(*m) && in_commit_window(times[0], worker_killed)
        })
        .map(|(m, _)| m)
        .collect();
    let mut details: Vec<String> = want
        .iter()
        .filter(|m| !got.contains_key(*m))
        .take(10)
        .map(|m| format!("e-mail never arrived: {m}"))
        .collect();
    details.extend(
        got.iter()
            .filter(|(m, t)| (t.len() > 1 && !resent.contains(m)) || !want.contains(*m))
            .take(10)
            .map(|(m, t)| {
                format!(
                    "e-mail {m} arrived {} time(s), expected {}",
                    t.len(),
                    u8::from(want.contains(m))
                )
            }),
    );
    checks.push(Check {
        what: "e-mails on the SMTP sink (by Message-ID)",
        total: want.len(),
        lost: want.iter().filter(|m| !got.contains_key(*m)).count(),
        duplicated: got
            .iter()
            .filter(|(m, _)| !resent.contains(m))
            .map(|(m, t)| {
                if want.contains(m) {
                    t.len() - 1
                } else {
                    t.len()
                }
            })
            .sum(),
        note: format!(
            "{} messages; {} resent after the worker's kill in SMTP's commit window",
            got.values().map(Vec::len).sum::<usize>(),
            resent.len()
        ),
    });

    // SLA runs: one per ticket in Postgres, none failed; no workflow failed at all.
    let mut runs: HashMap<String, Vec<WorkflowExecutionStatus>> = HashMap::new();
    let mut list = temporal.list_workflows("", WorkflowListOptions::default());
    while let Some(w) = list.next().await {
        let w = w?;
        let status = w.status();
        if matches!(
            status,
            WorkflowExecutionStatus::Failed
                | WorkflowExecutionStatus::Terminated
                | WorkflowExecutionStatus::TimedOut
                | WorkflowExecutionStatus::Canceled
        ) {
            failures.push(format!("workflow {} is {status:?}", w.id()));
        }
        if status != WorkflowExecutionStatus::ContinuedAsNew {
            runs.entry(w.id().to_owned()).or_default().push(status);
        }
    }
    let want: HashSet<String> = in_db.iter().map(|t| sla_workflow_id(tenant, *t)).collect();
    let prefix = format!("sla:{tenant}:");
    checks.push(Check {
        what: "SLA runs (one per ticket in Postgres)",
        total: want.len(),
        lost: want.iter().filter(|id| !runs.contains_key(*id)).count(),
        duplicated: runs
            .iter()
            .filter(|(id, _)| id.starts_with(&prefix))
            .map(|(id, r)| {
                if want.contains(id) {
                    r.len() - 1
                } else {
                    r.len()
                }
            })
            .sum(),
        note: format!("{} workflows in all", runs.len()),
    });

    Ok(Verdict {
        checks,
        failures,
        details,
        pending_outbox,
    })
}

// ---- the run ---------------------------------------------------------------------------------

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_args();
    let stack = Arc::new(Stack::from_env()?);
    let owner = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(5))
        .connect(&stack.owner_url)
        .await
        .context("connecting to Postgres as the owner")?;
    let tenant: Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'demo'")
        .fetch_one(&owner)
        .await
        .context("the demo tenant (seed-demo)")?;
    let technician: Uuid = sqlx::query_scalar(
        "SELECT id FROM users WHERE tenant_id = $1 AND lower(email) = 'tech@demo.example'",
    )
    .bind(tenant)
    .fetch_one(&owner)
    .await
    .context("the demo technician")?;
    // A send budget that never binds: this measures delivery under faults, not the tenant's
    // per-minute e-mail limit.
    sqlx::query(
        "INSERT INTO tenant_notification_settings (tenant_id, rate_limit_per_minute) VALUES ($1, 1000000)
         ON CONFLICT (tenant_id) DO UPDATE SET rate_limit_per_minute = excluded.rate_limit_per_minute",
    )
    .bind(tenant)
    .execute(&owner)
    .await?;

    let load = Arc::new(Load {
        t0: Instant::now(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(2))
            .build()?,
        stack: stack.clone(),
        technician,
        ledger: Mutex::new(Ledger::default()),
    });

    let total = settings.baseline + settings.phase * FAULTS.len() as u32;
    let drain_deadline = Instant::now() + total + settings.drain;
    println!(
        "chaos: {:.0} requests/s (ticket lifecycles of {REQUESTS_PER_LIFECYCLE} requests) for {}s: baseline {}s, then {} faults, {}s apart (injected {}s in, down {}s)",
        settings.rate,
        total.as_secs(),
        settings.baseline.as_secs(),
        FAULTS.len(),
        settings.phase.as_secs(),
        settings.lead.as_secs(),
        settings.down.as_secs()
    );

    // The load: a lifecycle started every 1/rate s until the end of the last phase.
    let load_end = load.t0 + total;
    let spawner = {
        let load = load.clone();
        let rate = settings.rate;
        tokio::spawn(async move {
            let limit = Arc::new(Semaphore::new(512));
            let mut tasks = JoinSet::new();
            let mut tick =
                tokio::time::interval(Duration::from_secs_f64(REQUESTS_PER_LIFECYCLE / rate));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut n = 0;
            while Instant::now() < load_end {
                tick.tick().await;
                let Ok(permit) = limit.clone().acquire_owned().await else {
                    break;
                };
                n += 1;
                let load = load.clone();
                tasks.spawn(async move {
                    if let Err(e) = load.lifecycle(n).await
                        && let Ok(mut l) = load.ledger.lock()
                    {
                        l.abandoned.push(format!("lifecycle {n}: {e}"));
                    }
                    drop(permit);
                });
            }
            while tasks.join_next().await.is_some() {}
            n
        })
    };

    // The faults, one per phase.
    let mut phases = Vec::new();
    tokio::time::sleep(settings.baseline).await;
    phases.push(Phase {
        name: "none (baseline)",
        how: "-",
        start: Duration::ZERO,
        end: load.t0.elapsed(),
        injected: None,
        restored: None,
        hook_error: None,
        backlog: backlog(&owner).await,
        caught_up: None,
    });
    let mut worker_killed = None;
    for (name, how) in FAULTS {
        let start = load.t0.elapsed();
        tokio::time::sleep(settings.lead).await;
        let injected = load.t0.elapsed();
        println!("[{}] {name}: {how}", secs(injected));
        if name == "worker" {
            worker_killed = Some(SystemTime::now());
        }
        let mut hook_error = hook(&stack, "down", name)
            .await
            .err()
            .map(|e| e.to_string());
        tokio::time::sleep(settings.down).await;
        if let Err(e) = hook(&stack, "up", name).await {
            hook_error.get_or_insert(e.to_string());
        }
        let restored = load.t0.elapsed();
        println!("[{}] {name}: back", secs(restored));
        let caught_up = tokio::spawn(watch_catch_up(
            owner.clone(),
            load.t0,
            injected,
            Utc::now(),
            drain_deadline,
        ));
        let end = start + settings.phase;
        tokio::time::sleep(end.saturating_sub(load.t0.elapsed())).await;
        phases.push(Phase {
            name,
            how,
            start,
            end: load.t0.elapsed(),
            injected: Some(injected),
            restored: Some(restored),
            hook_error,
            backlog: backlog(&owner).await,
            caught_up: Some(caught_up),
        });
    }
    let lifecycles = spawner.await.unwrap_or(0);
    let load_secs = load.t0.elapsed();
    println!(
        "[{}] load over: {lifecycles} lifecycles started; waiting for the pipeline to drain (up to {}s)",
        secs(load_secs),
        drain_deadline
            .saturating_duration_since(Instant::now())
            .as_secs()
    );

    // Drain: wait until nothing is missing (bounded), then a little longer so late duplicates
    // are counted too.
    let temporal =
        psa_workflows::client::connect(&stack.temporal, &stack.namespace, "chaos").await?;
    let ledger = std::mem::take(&mut *load.ledger.lock().map_err(|_| anyhow!("ledger"))?);
    let drain_started = Instant::now();
    let mut last = None;
    while Instant::now() < drain_deadline {
        match verdict(&stack, &owner, &temporal, tenant, &ledger, worker_killed).await {
            Ok(v) if v.missing() == 0 => {
                last = Some(v);
                break;
            }
            Ok(v) => last = Some(v),
            Err(e) => eprintln!("check failed (retrying): {e:#}"),
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let drained_in = drain_started.elapsed();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let verdict = match verdict(&stack, &owner, &temporal, tenant, &ledger, worker_killed).await {
        Ok(v) => v,
        Err(e) => last.ok_or(e)?,
    };
    let alive = hook(&stack, "alive", "all").await.is_ok()
        && load
            .http
            .get(&stack.worker_health)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        && load
            .http
            .get(format!("{}/readyz", stack.edge))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());

    // ---- figures ----
    println!();
    println!(
        "{:<16} {:<17} {:>9} {:>7} {:>5} {:>8} {:>9} {:>11} {:>10} {:>8}",
        "fault",
        "how",
        "requests",
        "errors",
        "429s",
        "slowest",
        "down for",
        "clients ok",
        "caught up",
        "backlog"
    );
    let mut ok = true;
    for p in &mut phases {
        let in_phase: Vec<&Attempt> = ledger
            .attempts
            .iter()
            .filter(|a| a.start >= p.start && a.start < p.end)
            .collect();
        let errors: Vec<&&Attempt> = in_phase
            .iter()
            .filter(|a| a.outcome == Outcome::Failed)
            .collect();
        let throttled = in_phase
            .iter()
            .filter(|a| a.outcome == Outcome::Throttled)
            .count();
        // Clients recovered: the first success of a request sent after the last failure,
        // counted from the injection.
        let recovered = match (p.injected, errors.iter().map(|a| a.start).max()) {
            (Some(inj), Some(last_err)) => ledger
                .attempts
                .iter()
                .filter(|a| a.outcome == Outcome::Ok && a.start > last_err)
                .map(|a| a.end)
                .min()
                .map_or("never".to_owned(), |e| secs(e.saturating_sub(inj))),
            (Some(_), None) => "no errors".to_owned(),
            (None, _) => "-".to_owned(),
        };
        let caught_up = match p.caught_up.take() {
            Some(h) => match h.await.ok().flatten() {
                Some(d) => secs(d),
                None => {
                    ok = false;
                    "never".to_owned()
                }
            },
            None => "-".to_owned(),
        };
        let down = match (p.injected, p.restored) {
            (Some(i), Some(r)) => secs(r.saturating_sub(i)),
            _ => "-".to_owned(),
        };
        let slowest = in_phase
            .iter()
            .map(|a| a.end.saturating_sub(a.start))
            .max()
            .unwrap_or_default();
        println!(
            "{:<16} {:<17} {:>9} {:>7} {:>5} {:>8} {:>9} {:>11} {:>10} {:>8}",
            p.name,
            p.how,
            in_phase.len(),
            errors.len(),
            throttled,
            secs(slowest),
            down,
            recovered,
            caught_up,
            p.backlog.map_or("-".to_owned(), |b| b.to_string())
        );
        let mut causes: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for a in &errors {
            *causes
                .entry((a.op, a.cause.as_deref().unwrap_or("?")))
                .or_insert(0) += 1;
        }
        for ((op, cause), n) in causes {
            println!("    {n:>5} x {op}: {cause}");
        }
        if let Some(e) = &p.hook_error {
            ok = false;
            println!("  !! {e}");
        }
    }
    let sent = ledger.attempts.len();
    let failed = ledger
        .attempts
        .iter()
        .filter(|a| a.outcome == Outcome::Failed)
        .count();
    println!(
        "{sent} requests in {}, {failed} answered with an error or not at all, all retried; {} tickets, {} lifecycles finished",
        secs(load_secs),
        ledger.tickets.len(),
        ledger.completed.len()
    );
    println!(
        "\"slowest\": the longest single attempt; \"down for\": injection to the component serving again; \"clients ok\": injection to the first success after the last client error; \"caught up\": injection to every event written before the restore delivered and its in-app rows written; \"backlog\": outbox rows not yet delivered at the end of the phase"
    );

    println!();
    println!(
        "{:<50} {:>8} {:>6} {:>11}  note",
        "check", "expected", "lost", "duplicated"
    );
    let (mut lost, mut dup) = (0, 0);
    for c in &verdict.checks {
        println!(
            "{:<50} {:>8} {:>6} {:>11}  {}",
            c.what, c.total, c.lost, c.duplicated, c.note
        );
        lost += c.lost;
        dup += c.duplicated;
    }
    println!(
        "outbox rows not delivered and confirmed: {} (waited {} for the drain)",
        verdict.pending_outbox,
        secs(drained_in)
    );
    for f in verdict.failures.iter().chain(&verdict.details) {
        println!("  !! {f}");
    }
    for a in ledger.abandoned.iter().take(20) {
        println!("  !! abandoned: {a}");
    }
    if !alive {
        println!("  !! not every process is running and healthy at the end");
    }
    println!("TOTAL: {lost} lost, {dup} duplicated");
    ok &= lost == 0
        && dup == 0
        && verdict.pending_outbox == 0
        && verdict.failures.is_empty()
        && ledger.abandoned.is_empty()
        && alive;
    if ok {
        println!("chaos: PASS");
        Ok(())
    } else {
        println!("chaos: FAIL");
        std::process::exit(1);
    }
}
