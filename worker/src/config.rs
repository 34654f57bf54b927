//! Worker configuration, from defaults and then the environment (DESIGN.md §4).

use crate::bus::BusConfig;
use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub temporal_address: String,
    pub temporal_namespace: String,
    pub task_queue: String,
    /// The application role's URL; row-level security applies to every query.
    pub database_url: String,
    /// `/healthz` and `/metrics`; `None` serves neither (tests).
    pub metrics_addr: Option<SocketAddr>,
    /// The event stream consumers.
    pub bus: BusConfig,
    /// Where e-mail goes (`SMTP_URL`, lettre's URL form).
    pub smtp_url: String,
    /// Sender of e-mail when the tenant set none (`SMTP_FROM`).
    pub smtp_from: String,
    /// How long a closed ticket's SLA run waits for a reopening before it ends
    /// (`SLA_REOPEN_WINDOW_SECONDS`, default 7 days). A reopening after that is not timed.
    pub sla_reopen_window: std::time::Duration,
    /// Events one SLA run applies before it continues as new (`SLA_CONTINUE_AS_NEW_EVENTS`,
    /// default 1000).
    pub sla_continue_after_events: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

impl WorkerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |name: &'static str, default: &str| {
            std::env::var(name).unwrap_or_else(|_| default.to_owned())
        };
        let metrics = var("WORKER_METRICS_ADDR", "127.0.0.1:9464");
        let metrics_addr = metrics
            .parse()
            .map_err(|e: std::net::AddrParseError| ConfigError {
                name: "WORKER_METRICS_ADDR",
                reason: e.to_string(),
            })?;
        let mut bus = BusConfig::new(var("REDIS_URL", "redis://127.0.0.1:6379"));
        // A count that must be at least one.
        let count = |name: &'static str, default: &str| {
            var(name, default)
                .parse()
                .ok()
                .filter(|n: &u32| *n >= 1)
                .ok_or_else(|| ConfigError {
                    name,
                    reason: "must be a whole number of at least 1".into(),
                })
        };
        bus.max_deliveries = count("EVENT_MAX_DELIVERIES", "10")?;
        let reopen = var("SLA_REOPEN_WINDOW_SECONDS", "604800")
            .parse()
            .map_err(|_| ConfigError {
                name: "SLA_REOPEN_WINDOW_SECONDS",
                reason: "must be a whole number of seconds".into(),
            })?;
        Ok(Self {
            bus,
            sla_continue_after_events: count("SLA_CONTINUE_AS_NEW_EVENTS", "1000")?,
            sla_reopen_window: std::time::Duration::from_secs(reopen),
            smtp_url: var("SMTP_URL", "smtp://127.0.0.1:2525"),
            smtp_from: var("SMTP_FROM", "PSA <psa@localhost>"),
            temporal_address: var("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
            temporal_namespace: var("TEMPORAL_NAMESPACE", "default"),
            task_queue: var("TEMPORAL_TASK_QUEUE", psa_workflows::DEFAULT_TASK_QUEUE),
            database_url: var("DATABASE_URL", "postgres://psa_app@127.0.0.1:5432/psa"),
            metrics_addr: Some(metrics_addr),
        })
    }
}
