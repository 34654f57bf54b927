//! A time-skipping Temporal server of one test's own, for tests about time.
//!
//! An SLA clock's thresholds lie minutes or hours ahead; on the shared dev server a test can
//! only wait them out. The time-skipping test server (`temporal-test-server`, which
//! `scripts/test` installs and names in `PSA_TEST_TEMPORAL_TEST_SERVER_BIN`) keeps time like a
//! real server until a test skips: then it jumps from one timer to the next, but never while a
//! workflow task or an activity is outstanding (time then runs at real speed), so every due
//! instant is handled by the worker, in order, at its own instant, in a fraction of a second of
//! real time. A workflow task waiting for a worker that is down holds skipping too, so a wake
//! that came due during a worker restart is handled by the next worker, never skipped over.
//! So does an activity a killed worker was running, until its timeout: kill a worker when
//! nothing but timers is pending.
//!
//! Its time is one for the whole server, so each test that skips starts its own.
//!
//! The test server never moves a workflow task off the sticky queue of a worker that died (a
//! real server does after a few seconds), so the workers of these tests keep no workflow cache:
//! with none, every task goes to the task queue all workers poll, and a restarted worker gets
//! the wake its predecessor missed.

use crate::{Parts, TestEnv};
use anyhow::Context;
use chrono::{DateTime, Utc};
use psa_worker::WorkerConfig;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use temporalio_client::Client;
use temporalio_common::protos::temporal::api::testservice::v1::SleepRequest;

/// How long the server may take to answer after its start.
const START_LIMIT: Duration = Duration::from_secs(10);

/// How long a skip may take in real time: work in flight holds the server's clock, and a skip
/// across a worker restart waits for the new worker.
const SKIP_REAL_TIME_LIMIT: Duration = Duration::from_secs(60);

/// The test server process; killed when dropped (with its [`TestEnv`]), pass or fail.
pub struct TimeSkippingServer {
    address: String,
    clock: ServerClock,
    _process: tokio::process::Child,
}

impl TimeSkippingServer {
    /// Starts a test server on a free port and registers the project's search attributes, as
    /// `scripts/test` does on the dev server.
    pub async fn start() -> anyhow::Result<Self> {
        let binary = binary();
        anyhow::ensure!(
            binary.exists(),
            "no time-skipping test server at {} (scripts/test installs it)",
            binary.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut process = tokio::process::Command::new(&binary)
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        let address = format!("127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + START_LIMIT;
        let clock = loop {
            if let Some(status) = process.try_wait()? {
                anyhow::bail!("{} exited at start: {status}", binary.display());
            }
            if let Ok(client) =
                psa_workflows::client::connect(&address, "default", "psa-tests").await
            {
                let clock = ServerClock { client };
                if clock.now().await.is_ok() {
                    break clock;
                }
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "the test server on {address} did not answer within {START_LIMIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        psa_workflows::client::ensure_search_attributes(&clock.client, "default").await?;
        Ok(Self {
            address,
            clock,
            _process: process,
        })
    }

    /// `host:port` of its frontend.
    pub fn address(&self) -> &str {
        &self.address
    }
}

/// The binary `scripts/test` names, else where it installs it.
fn binary() -> PathBuf {
    std::env::var_os("PSA_TEST_TEMPORAL_TEST_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../.dev/tools/venv/bin/temporal-test-server")
        })
}

/// Reads and moves a test server's clock; cheap to clone, so a skip can run beside the test.
#[derive(Clone)]
pub struct ServerClock {
    client: Client,
}

impl ServerClock {
    /// The server's time: what workflows see as now.
    pub async fn now(&self) -> anyhow::Result<DateTime<Utc>> {
        let mut service = self.client.connection().test_service();
        let time = service
            .get_current_time(tonic::Request::new(()))
            .await?
            .into_inner()
            .time
            .context("the test server sent no time")?;
        DateTime::from_timestamp(time.seconds, u32::try_from(time.nanos)?)
            .context("the test server's time is out of range")
    }

    /// Moves the server's time on by `by`, handling every timer due on the way in order, and
    /// returns when the server's clock has got there. Between skips time runs at real speed.
    pub async fn skip(&self, by: Duration) -> anyhow::Result<()> {
        let mut request = tonic::Request::new(SleepRequest {
            duration: Some(by.try_into()?),
        });
        request.set_timeout(SKIP_REAL_TIME_LIMIT);
        // Unlocks skipping, and locks it again when the server's clock reaches now + `by`:
        // one call keeps the server's lock count balanced.
        self.client
            .connection()
            .test_service()
            .unlock_time_skipping_with_sleep(request)
            .await
            .context("skipping time")?;
        Ok(())
    }

    /// Skips to `instant` (which must still be ahead).
    pub async fn skip_to(&self, instant: DateTime<Utc>) -> anyhow::Result<()> {
        let by = (instant - self.now().await?)
            .to_std()
            .with_context(|| format!("{instant} has already passed on the server"))?;
        self.skip(by).await
    }
}

/// The workflow cache of this test's workers: none on a time-skipping server (see the module's
/// doc), the production default otherwise.
pub(crate) fn max_cached_workflows(env: &TestEnv) -> usize {
    if env.time_skipping.is_some() {
        0
    } else {
        psa_worker::config::DEFAULT_MAX_CACHED_WORKFLOWS
    }
}

impl TestEnv {
    /// Like [`TestEnv::start`], with Temporal a [`TimeSkippingServer`] of this test's own
    /// instead of the shared dev server (see the module's doc for what it is for).
    pub async fn start_time_skipping(parts: Parts) -> anyhow::Result<Self> {
        Self::start_time_skipping_with(parts, |_| {}).await
    }

    /// Like [`TestEnv::start_with`], on a time-skipping server of this test's own.
    pub async fn start_time_skipping_with(
        parts: Parts,
        worker: impl FnOnce(&mut WorkerConfig),
    ) -> anyhow::Result<Self> {
        let server = TimeSkippingServer::start().await?;
        let mut env = Self::start_with(Parts::NONE, |_| {}).await?;
        env.services.temporal_address = server.address().to_owned();
        env.time_skipping = Some(server);
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

    /// The clock of this test's time-skipping server.
    pub fn clock(&self) -> ServerClock {
        self.time_skipping
            .as_ref()
            .expect("this test runs on a time-skipping server (TestEnv::start_time_skipping)")
            .clock
            .clone()
    }
}
