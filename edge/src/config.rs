//! Edge configuration, from defaults and then the environment (DESIGN.md §4).

use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct EdgeConfig {
    pub http_addr: SocketAddr,
    pub grpc_addr: SocketAddr,
    /// The application role's URL: row-level security applies to every query.
    pub database_url: String,
    pub redis_url: String,
    /// The stream events are published to (`psa:events`).
    pub events_stream: String,
    pub temporal_address: String,
    pub temporal_namespace: String,
    pub task_queue: String,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    pub relay: RelayConfig,
}

#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Off only in tests that need a committed-but-undelivered outbox.
    pub enabled: bool,
    /// Rows claimed per round.
    pub batch: i32,
    /// How long a claimed row stays with this relay before another may take it.
    pub lease: Duration,
    /// Sleep between rounds when there was nothing to do.
    pub idle_poll: Duration,
    /// How long after publishing an entry the relay checks Redis still has it: longer than
    /// Redis's fsync interval, so a confirmed entry is on disk.
    pub verify_after: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            batch: 100,
            lease: Duration::from_secs(30),
            idle_poll: Duration::from_millis(200),
            verify_after: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

fn var(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn addr(name: &'static str, default: &str) -> Result<SocketAddr, ConfigError> {
    var(name, default)
        .parse()
        .map_err(|e: std::net::AddrParseError| ConfigError {
            name,
            reason: e.to_string(),
        })
}

impl EdgeConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let body_limit = var("EDGE_BODY_LIMIT_BYTES", "262144").parse().map_err(
            |e: std::num::ParseIntError| ConfigError {
                name: "EDGE_BODY_LIMIT_BYTES",
                reason: e.to_string(),
            },
        )?;
        Ok(Self {
            http_addr: addr("EDGE_HTTP_ADDR", "127.0.0.1:8080")?,
            grpc_addr: addr("EDGE_GRPC_ADDR", "127.0.0.1:50051")?,
            database_url: var("DATABASE_URL", "postgres://psa_app@127.0.0.1:5432/psa"),
            redis_url: var("REDIS_URL", "redis://127.0.0.1:6379"),
            events_stream: psa_domain::events::stream::EVENTS.to_owned(),
            temporal_address: var("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
            temporal_namespace: var("TEMPORAL_NAMESPACE", "default"),
            task_queue: var("TEMPORAL_TASK_QUEUE", psa_workflows::DEFAULT_TASK_QUEUE),
            body_limit,
            relay: RelayConfig {
                enabled: var("EDGE_RELAY", "on") != "off",
                ..RelayConfig::default()
            },
        })
    }
}

/// The owner's URL used by `migrate` and `seed-demo`.
pub fn migration_database_url() -> String {
    var(
        "MIGRATION_DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/psa",
    )
}
