//! Builds and runs the Temporal worker until told to stop.

use crate::bus::Consumer;
use crate::config::WorkerConfig;
use psa_activities::EmailSender;
use psa_domain::sla::run::SlaLimits;
use psa_store::notifications::delivery::NotificationStore;
use psa_workflows::client::{connect, ensure_search_attributes};
use psa_workflows::notify_email::email_task_queue;
use psa_workflows::register::LOCAL_ACTIVITY_PATCHES;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;
use temporalio_sdk::workflows::WorkflowRegistrationError;
use temporalio_sdk::{PatchActivationInput, Runtime, Worker, WorkerOptions};
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("database: {0}")]
    Database(#[from] psa_store::DbError),
    #[error(transparent)]
    Temporal(#[from] psa_workflows::client::TemporalSetupError),
    #[error("worker: {0}")]
    Worker(String),
}

/// Postgres connections of the e-mail sender: the most sends in flight at once.
const EMAIL_CONNECTIONS: u32 = 4;

/// Runs the worker until `shutdown` resolves, then drains in-flight tasks and returns.
///
/// The future is not `Send` (the SDK's worker is not): run it on the main task or a
/// current-thread runtime, not with `tokio::spawn`.
pub async fn run_worker(
    config: WorkerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), WorkerError> {
    run_worker_with(config, shutdown, |_| Ok(())).await
}

/// Like [`run_worker`], with `extra` registering more workflows beside the system's on the
/// workflow task queue: a benchmark's baseline workflow runs on the very same worker.
pub async fn run_worker_with(
    config: WorkerConfig,
    shutdown: impl Future<Output = ()>,
    extra: impl FnOnce(&mut WorkerOptions) -> Result<(), WorkflowRegistrationError>,
) -> Result<(), WorkerError> {
    let pool = psa_store::connect(
        config.database_url.expose_secret(),
        10,
        Duration::from_secs(10),
    )
    .await?;
    let client = connect(
        &config.temporal_address,
        &config.temporal_namespace,
        "psa-worker",
    )
    .await?;
    ensure_search_attributes(&client, &config.temporal_namespace).await?;

    let runtime = Runtime::from_current_tokio(Default::default())
        .map_err(|e| WorkerError::Worker(e.to_string()))?;
    let worker_err = |e: &dyn std::fmt::Display| WorkerError::Worker(e.to_string());
    let mut options = WorkerOptions::new(config.task_queue.clone()).build();
    options.max_cached_workflows = config.max_cached_workflows;
    if config.max_cached_workflows == 0 {
        // Local activities need the run cached while they run: without a cache, new runs keep
        // their store work in activities (see `LOCAL_ACTIVITY_PATCHES`).
        options.patch_activation_callback = Some(Arc::new(|input: PatchActivationInput| {
            !LOCAL_ACTIVITY_PATCHES.contains(&input.patch_id.as_str())
        }));
    }
    psa_workflows::register::on_worker(&mut options).map_err(|e| worker_err(&e))?;
    extra(&mut options).map_err(|e| worker_err(&e))?;
    psa_activities::register::on_workflow_queue(
        &mut options,
        pool.clone(),
        SlaLimits {
            reopen_window_seconds: config.sla_reopen_window.as_secs(),
            continue_after_events: config.sla_continue_after_events,
        },
    );
    let mut worker = Worker::new(&runtime, client.clone(), options).map_err(|e| worker_err(&e))?;
    // SMTP sends run on a queue of their own, so their pace and failures never hold up the rest.
    // A send holds its log row's connection across the SMTP exchange (`claim_email`), so the
    // sender draws from a small pool of its own: a slow SMTP server then waits for these
    // connections, never for the ones SLA clocks and subscribers use.
    let email_pool = psa_store::connect(
        config.database_url.expose_secret(),
        EMAIL_CONNECTIONS,
        Duration::from_secs(10),
    )
    .await?;
    let sender = EmailSender::new(
        config.smtp_url.expose_secret(),
        &config.smtp_from,
        NotificationStore::new(email_pool),
    )
    .map_err(|e| worker_err(&e))?;
    let mut email_options = WorkerOptions::new(email_task_queue(&config.task_queue)).build();
    psa_activities::register::on_email_queue(&mut email_options, sender);
    let mut email_worker =
        Worker::new(&runtime, client.clone(), email_options).map_err(|e| worker_err(&e))?;
    let stop = worker.shutdown_handle();
    let stop_email = email_worker.shutdown_handle();

    let (http_stop_tx, http_stop_rx) = watch::channel(false);
    let consumer_name = format!("worker-{}", uuid::Uuid::new_v4().simple());
    let mut consumers = Vec::new();
    for handler in crate::subscribers::all(pool.clone(), client.clone(), config.task_queue.clone())
    {
        let consumer = Consumer::new(config.bus.clone(), handler, consumer_name.clone())
            .map_err(|e| WorkerError::Worker(format!("event consumer: {e}")))?;
        let stop = http_stop_rx.clone();
        consumers.push(tokio::spawn(async move { consumer.run(stop).await }));
    }
    let automation_schedules = tokio::spawn(crate::automation_schedules::keep(
        pool.clone(),
        client.clone(),
        config.task_queue.clone(),
        http_stop_rx.clone(),
    ));
    let schedules = config.billing_schedules.then(|| {
        tokio::spawn(crate::billing_schedules::keep(
            pool.clone(),
            client.clone(),
            config.task_queue.clone(),
            http_stop_rx.clone(),
        ))
    });
    if let Some(addr) = config.metrics_addr {
        let mut rx = http_stop_rx.clone();
        tokio::spawn(async move {
            let stopped = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            if let Err(e) = crate::health::serve(addr, stopped).await {
                tracing::error!(error = %e, %addr, "metrics server failed");
            }
        });
    }
    tracing::info!(task_queue = %config.task_queue, "worker started");

    let run = async {
        let (main, email) = tokio::join!(worker.run(), email_worker.run());
        main.and(email)
    };
    tokio::pin!(run);
    let result = tokio::select! {
        r = &mut run => r,
        () = shutdown => {
            tracing::info!("shutting down worker");
            stop();
            stop_email();
            run.await
        }
    };
    let _ = http_stop_tx.send(true);
    for c in consumers {
        let _ = c.await;
    }
    if let Some(s) = schedules {
        let _ = s.await;
    }
    let _ = automation_schedules.await;
    result.map_err(|e| WorkerError::Worker(e.to_string()))
}
