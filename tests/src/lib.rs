//! The shared test harness: the real stack, per test.
//!
//! Each [`TestEnv`] gets a fresh database (migrated as the owner, used through the non-owner
//! application role, exactly as in production), two seeded tenants, an in-process edge on
//! ephemeral ports and an in-process worker on a task queue of its own, against the private
//! Redis and Temporal that `scripts/test` started. Nothing is mocked.

pub mod bench;
pub mod time_skipping;

use anyhow::Context;
use psa_edge::config::{EdgeConfig, RelayConfig, RequestLimits};
use psa_edge::serve::{RunningEdge, start};
use psa_store::seed::{SeededTenant, seed_tenant};
use psa_worker::WorkerConfig;
use sqlx::PgPool;
use std::time::Duration;
use temporalio_client::Client;
use uuid::Uuid;

/// Settings `scripts/test` exports; the defaults match it.
pub struct Services {
    pub pg_admin_url: String,
    pub redis_url: String,
    pub temporal_address: String,
    pub smtp_url: String,
    /// Where the SMTP sink stores what it received (a Maildir).
    pub maildir: std::path::PathBuf,
}

impl Services {
    pub fn from_env() -> Self {
        let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
        Self {
            pg_admin_url: var(
                "PSA_TEST_PG_ADMIN_URL",
                "postgres://postgres@127.0.0.1:5432/postgres",
            ),
            redis_url: var("PSA_TEST_REDIS_URL", "redis://127.0.0.1:6390"),
            temporal_address: var("PSA_TEST_TEMPORAL_ADDRESS", "127.0.0.1:7243"),
            smtp_url: var("PSA_TEST_SMTP_URL", "smtp://127.0.0.1:2526"),
            maildir: var("PSA_TEST_MAILDIR", ".dev/test/maildir").into(),
        }
    }
}

/// A tenant with its admin key.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub key: String,
    pub seeded: SeededTenant,
}

impl Tenant {
    async fn seed(owner: &PgPool, slug: &str, name: &str) -> anyhow::Result<Self> {
        let key = psa_store::principal::generate_key();
        let seeded = seed_tenant(owner, slug, name, &key).await?;
        Ok(Self { key, seeded })
    }

    /// A new key of `role` in this tenant (client keys are bound to the seeded client).
    pub async fn key_with_role(&self, owner: &PgPool, role: &str) -> anyhow::Result<String> {
        self.key_for(owner, role, None).await
    }

    /// A new key of `role` acting for `user`.
    pub async fn key_for(
        &self,
        owner: &PgPool,
        role: &str,
        user: Option<Uuid>,
    ) -> anyhow::Result<String> {
        let key = psa_store::principal::generate_key();
        let client = (role == "client").then_some(self.seeded.client_id);
        psa_store::seed::add_api_key(owner, self.seeded.tenant_id, &key, role, user, client)
            .await?;
        Ok(key)
    }
}

pub struct TestEnv {
    pub db_name: String,
    /// Connected as the schema owner (bypasses row-level security): for assertions only.
    pub owner: PgPool,
    pub app_database_url: String,
    pub services: Services,
    pub task_queue: String,
    /// The events stream of this test's edge and worker, so parallel tests never see each
    /// other's events.
    pub events_stream: String,
    pub a: Tenant,
    pub b: Tenant,
    pub edge: Option<RunningEdge>,
    worker: Option<WorkerHandle>,
    pub http: reqwest::Client,
    /// This test's own time-skipping Temporal server, when it runs on one (`time_skipping.rs`);
    /// stopped when the environment is dropped.
    time_skipping: Option<time_skipping::TimeSkippingServer>,
}

struct WorkerHandle {
    stop: tokio::sync::oneshot::Sender<()>,
    kill: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

/// Which parts a test wants running.
#[derive(Debug, Clone, Copy)]
pub struct Parts {
    pub edge: bool,
    pub relay: bool,
    pub worker: bool,
}

impl Parts {
    pub const ALL: Parts = Parts {
        edge: true,
        relay: true,
        worker: true,
    };
    pub const EDGE_ONLY: Parts = Parts {
        edge: true,
        relay: false,
        worker: false,
    };
    pub const WORKER_ONLY: Parts = Parts {
        edge: false,
        relay: false,
        worker: true,
    };
    pub const EDGE_AND_RELAY: Parts = Parts {
        edge: true,
        relay: true,
        worker: false,
    };
    pub const NONE: Parts = Parts {
        edge: false,
        relay: false,
        worker: false,
    };
}

fn with_db(url: &str, db: &str) -> anyhow::Result<String> {
    let mut u = url::Url::parse(url)?;
    u.set_path(&format!("/{db}"));
    Ok(u.to_string())
}

fn with_user(url: &str, user: &str) -> anyhow::Result<String> {
    let mut u = url::Url::parse(url)?;
    u.set_username(user)
        .map_err(|()| anyhow::anyhow!("bad url"))?;
    Ok(u.to_string())
}

impl TestEnv {
    pub async fn start(parts: Parts) -> anyhow::Result<Self> {
        Self::start_with(parts, |_| {}).await
    }

    /// Like [`TestEnv::start`], with the worker's settings changed by `worker` first.
    pub async fn start_with(
        parts: Parts,
        worker: impl FnOnce(&mut WorkerConfig),
    ) -> anyhow::Result<Self> {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
            )
            .with_test_writer()
            .try_init();
        let services = Services::from_env();
        let db_name = format!("psa_test_{}", Uuid::new_v4().simple());
        let owner_url = with_db(&services.pg_admin_url, &db_name)?;
        let owner = psa_store::migrate::migrate(&owner_url)
            .await
            .context("migrate")?;
        let app_database_url = with_user(&owner_url, "psa_app")?;
        let a = Tenant::seed(&owner, "alpha", "Alpha MSP").await?;
        let b = Tenant::seed(&owner, "bravo", "Bravo MSP").await?;
        let mut env = TestEnv {
            db_name,
            owner,
            app_database_url,
            services,
            task_queue: format!("psa-test-{}", Uuid::new_v4().simple()),
            events_stream: format!("test:events:{}", Uuid::new_v4().simple()),
            a,
            b,
            edge: None,
            worker: None,
            http: reqwest::Client::new(),
            time_skipping: None,
        };
        if parts.worker {
            let mut config = env.worker_config();
            worker(&mut config);
            env.start_worker_with(config).await?;
        }
        if parts.edge {
            env.start_edge(parts.relay).await?;
        }
        Ok(env)
    }

    pub fn edge_config(&self, relay: bool) -> EdgeConfig {
        EdgeConfig {
            http_addr: ([127, 0, 0, 1], 0).into(),
            grpc_addr: ([127, 0, 0, 1], 0).into(),
            database_url: self.app_database_url.clone().into(),
            redis_url: self.services.redis_url.clone().into(),
            events_stream: self.events_stream.clone(),
            temporal_address: self.services.temporal_address.clone(),
            temporal_namespace: "default".into(),
            task_queue: self.task_queue.clone(),
            body_limit: 64 * 1024,
            // Tests send bursts from one key; the limits have tests of their own.
            limits: RequestLimits {
                rate_per_second: 100_000,
                rate_burst: 100_000,
                ..RequestLimits::default()
            },
            relay: RelayConfig {
                enabled: relay,
                idle_poll: Duration::from_millis(50),
                verify_after: Duration::from_secs(1),
                ..RelayConfig::default()
            },
        }
    }

    pub async fn start_edge(&mut self, relay: bool) -> anyhow::Result<()> {
        self.edge = Some(start(self.edge_config(relay)).await?);
        Ok(())
    }

    pub fn edge(&self) -> &RunningEdge {
        self.edge.as_ref().expect("this test started an edge")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.edge().http_addr, path)
    }

    /// The worker settings of this test: its task queue and events stream, the test services.
    pub fn worker_config(&self) -> WorkerConfig {
        WorkerConfig {
            temporal_address: self.services.temporal_address.clone(),
            temporal_namespace: "default".into(),
            task_queue: self.task_queue.clone(),
            database_url: self.app_database_url.clone().into(),
            metrics_addr: None,
            smtp_url: self.services.smtp_url.clone().into(),
            smtp_from: "PSA Tests <psa@tests.example>".into(),
            // Runs end right after a close unless a test needs reopening.
            sla_reopen_window: Duration::ZERO,
            sla_continue_after_events: 1000,
            max_cached_workflows: time_skipping::max_cached_workflows(self),
            billing_schedules: false,
            bus: psa_worker::bus::BusConfig {
                stream: self.events_stream.clone(),
                dead_letter_stream: format!("{}:dead-letter", self.events_stream),
                block: Duration::from_millis(200),
                claim_idle: Duration::from_millis(500),
                // The stream is this test's own: read it from the start, so events published
                // before the consumer joined are not missed.
                start_id: "0".into(),
                ..psa_worker::bus::BusConfig::new(self.services.redis_url.clone())
            },
        }
    }

    pub async fn start_worker(&mut self) -> anyhow::Result<()> {
        self.start_worker_with(self.worker_config()).await
    }

    pub async fn start_worker_with(&mut self, config: WorkerConfig) -> anyhow::Result<()> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (kill, killed) = tokio::sync::oneshot::channel::<()>();
        // The SDK's worker future is not Send: it gets a runtime of its own on its own thread.
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("worker runtime");
            rt.block_on(async {
                let run = psa_worker::run_worker(config, async {
                    let _ = stopped.await;
                });
                tokio::select! {
                    r = run => if let Err(e) = r {
                        tracing::error!(error = %e, "test worker failed");
                    },
                    // Dropping the worker mid-flight, as a crash would: nothing is drained,
                    // acknowledged or reported after this.
                    Ok(()) = killed => {}
                }
            });
            rt.shutdown_background();
        });
        self.worker = Some(WorkerHandle { stop, kill, thread });
        Ok(())
    }

    /// Stops the worker the way a crash does: in-flight work is abandoned, not drained.
    pub async fn kill_worker(&mut self) {
        if let Some(w) = self.worker.take() {
            let _ = w.kill.send(());
            let _ = tokio::task::spawn_blocking(move || w.thread.join()).await;
        }
    }

    /// Publishes `events` straight to this test's events stream, as the relay would.
    pub async fn publish(&self, events: &[psa_domain::events::Envelope]) -> anyhow::Result<()> {
        use psa_domain::events::stream;
        let mut redis = self.redis().await;
        for chunk in events.chunks(500) {
            let mut pipe = redis::pipe();
            for e in chunk {
                pipe.cmd("XADD")
                    .arg(&self.events_stream)
                    .arg("*")
                    .arg(stream::FIELD_EVENT_ID)
                    .arg(e.event_id.to_string())
                    .arg(stream::FIELD_ENVELOPE)
                    .arg(serde_json::to_string(e)?)
                    .ignore();
            }
            let _: () = pipe.query_async(&mut redis).await?;
        }
        Ok(())
    }

    /// A `ticket.assigned` event of tenant A for ticket number `number`, assigned to the
    /// seeded technician by the system (so the technician is a recipient).
    pub fn ticket_assigned(&self, number: i64) -> psa_domain::events::Envelope {
        use psa_domain::events::Event;
        let mut e = psa_domain::notifications::sample_event("ticket.assigned")
            .expect("a sample ticket.assigned event");
        e.event_id = Uuid::now_v7();
        e.tenant_id = self.a.seeded.tenant_id;
        e.occurred_at = chrono::Utc::now();
        if let Event::TicketAssigned { ticket, .. } = &mut e.event {
            ticket.ticket_id = Uuid::now_v7();
            ticket.number = number;
            ticket.title = format!("Ticket {number}");
            ticket.assignee_id = Some(self.a.seeded.technician_user_id);
        }
        e
    }

    pub async fn temporal(&self) -> anyhow::Result<Client> {
        Ok(
            psa_workflows::client::connect(&self.services.temporal_address, "default", "psa-tests")
                .await?,
        )
    }

    /// Stops everything and drops the database.
    pub async fn shutdown(mut self) {
        if let Some(edge) = self.edge.take() {
            edge.shutdown().await;
        }
        if let Some(w) = self.worker.take() {
            let _ = w.stop.send(());
            let _ = tokio::task::spawn_blocking(move || w.thread.join()).await;
            drop(w.kill);
        }
        self.owner.close().await;
        if let Ok(admin) = PgPool::connect(&self.services.pg_admin_url).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.db_name
            ))
            .execute(&admin)
            .await;
        }
    }

    /// An authorised request builder.
    pub fn req(&self, method: reqwest::Method, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(key)
    }

    /// Sends `body` as JSON and returns the answer's JSON, failing the test on an error status.
    pub async fn ok(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: &serde_json::Value,
    ) -> serde_json::Value {
        let response = self
            .req(method.clone(), path, key)
            .json(body)
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let json: serde_json::Value = response.json().await.expect("JSON answer");
        assert!(status.is_success(), "{method} {path}: {status} {json}");
        json
    }

    /// A connection to this run's Redis.
    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.services.redis_url.as_str())
            .expect("redis URL")
            .get_multiplexed_async_connection()
            .await
            .expect("redis connection")
    }

    /// Outbox rows delivered (`true`) or still pending (`false`).
    pub async fn outbox_count(&self, delivered: bool) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE (done_at IS NOT NULL) = $1")
            .bind(delivered)
            .fetch_one(&self.owner)
            .await
            .expect("count outbox")
    }

    /// A column of a ticket, as text (`None` when NULL): for waiting on what workflows write.
    pub async fn ticket_column(&self, ticket: Uuid, col: &str) -> Option<String> {
        sqlx::query_scalar(&format!("SELECT {col}::text FROM tickets WHERE id = $1"))
            .bind(ticket)
            .fetch_one(&self.owner)
            .await
            .expect("ticket column")
    }

    /// Rows in `table` for all tenants (owner view).
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&self.owner)
            .await
            .expect("count")
    }
}

/// Polls `f` until it yields `Some`, for up to `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last_err = None;
    loop {
        match f().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_err = Some(e),
        }
        if tokio::time::Instant::now() > deadline {
            return Err(
                last_err.unwrap_or_else(|| anyhow::anyhow!("condition not met within {timeout:?}"))
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Temporal helpers for assertions about the ticket workflow.
pub mod wf {
    use psa_workflows::ticket_sla::{SlaTicketWorkflow, TicketWorkflowStatus};
    use temporalio_client::{
        Client, WorkflowDescribeOptions, WorkflowExecutionDescription, WorkflowExecutionStatus,
        WorkflowQueryOptions,
    };

    /// Describes the current run of `workflow_id`; `None` while it does not exist.
    pub async fn describe(
        client: &Client,
        workflow_id: &str,
    ) -> Option<WorkflowExecutionDescription> {
        client
            .get_workflow_handle::<SlaTicketWorkflow>(workflow_id)
            .describe(WorkflowDescribeOptions::default())
            .await
            .ok()
    }

    pub async fn status(client: &Client, workflow_id: &str) -> Option<WorkflowExecutionStatus> {
        describe(client, workflow_id).await.map(|d| d.status())
    }

    /// Waits up to 30 s for the current run of `workflow_id` to be in `want`, and describes it.
    pub async fn wait_status(
        client: &Client,
        workflow_id: &str,
        want: WorkflowExecutionStatus,
    ) -> WorkflowExecutionDescription {
        super::eventually(std::time::Duration::from_secs(30), || async {
            Ok(describe(client, workflow_id)
                .await
                .filter(|d| d.status() == want))
        })
        .await
        .unwrap_or_else(|_| panic!("{workflow_id} never became {want:?}"))
    }

    pub async fn query(client: &Client, workflow_id: &str) -> anyhow::Result<TicketWorkflowStatus> {
        Ok(client
            .get_workflow_handle::<SlaTicketWorkflow>(workflow_id)
            .query(
                SlaTicketWorkflow::query_status,
                (),
                WorkflowQueryOptions::default(),
            )
            .await?)
    }

    /// Fetches the run's history and checks it replays against the current code; with
    /// `PSA_RECORD_HISTORIES=1` also saves it for the server-free replay test in `workflows/`.
    pub async fn check_replay(
        client: &Client,
        workflow_id: &str,
        save_as: &str,
    ) -> anyhow::Result<()> {
        use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};
        let history = client
            .get_workflow_handle::<SlaTicketWorkflow>(workflow_id)
            .fetch_history(temporalio_client::WorkflowFetchHistoryOptions::default());
        let json = history.to_json().await?;
        if std::env::var_os("PSA_RECORD_HISTORIES").is_some() {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../workflows/tests/histories");
            std::fs::write(dir.join(format!("{save_as}.json")), &json)?;
        }
        let mut options = WorkflowReplayerOptions::new().build();
        psa_workflows::register::on_replayer(&mut options)?;
        let replayer = WorkflowReplayer::new(options)?;
        replayer
            .replay_workflow(temporalio_client::WorkflowHistory::from_json(&json)?)
            .await?;
        Ok(())
    }

    /// The types of the current run's history events of `workflow_id`, in order.
    pub async fn history(client: &Client, workflow_id: &str) -> Vec<i32> {
        client
            .get_workflow_handle::<SlaTicketWorkflow>(workflow_id)
            .fetch_history(temporalio_client::WorkflowFetchHistoryOptions::default())
            .into_events()
            .await
            .map(|events| events.iter().map(|e| e.event_type).collect())
            .unwrap_or_default()
    }

    /// How many runs (open or closed) carry `workflow_id`.
    pub async fn run_count(client: &Client, workflow_id: &str) -> anyhow::Result<usize> {
        Ok(client
            .count_workflows(
                format!("WorkflowId = '{workflow_id}'"),
                temporalio_client::WorkflowCountOptions::default(),
            )
            .await?
            .count())
    }
}

/// A gRPC request carrying `key` as a bearer token.
pub fn authed<T>(key: &str, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    if let Ok(v) = format!("Bearer {key}").parse() {
        r.metadata_mut().insert("authorization", v);
    }
    r
}

/// Waits up to `timeout` until a session of this test's database is blocked on a lock while
/// running a statement containing `statement`: proof that it reached the lock and waits there.
pub async fn lock_waiter(env: &TestEnv, statement: &str, timeout: Duration) -> anyhow::Result<()> {
    eventually(timeout, || async {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'
               AND strpos(query, $1) > 0",
        )
        .bind(statement)
        .fetch_one(&env.owner)
        .await?;
        Ok((waiting > 0).then_some(()))
    })
    .await
}
