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
    pub limits: RequestLimits,
    pub relay: RelayConfig,
}

/// What one caller, and all callers together, may ask of the edge at once, so a hostile or
/// careless client cannot stop or slow it for the others.
#[derive(Debug, Clone)]
pub struct RequestLimits {
    /// A request still running after this is answered 503 and its work dropped (its
    /// transaction rolls back).
    pub timeout: Duration,
    /// Requests in flight per protocol; beyond it new ones are answered 503 at once.
    pub max_in_flight: usize,
    /// Requests per second one API key may make on average (429 beyond it).
    pub rate_per_second: u32,
    /// Requests one API key may make in a burst above that average.
    pub rate_burst: u32,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_in_flight: 512,
            rate_per_second: 100,
            rate_burst: 200,
        }
    }
}

impl RequestLimits {
    fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            timeout: Duration::from_millis(positive(
                "EDGE_REQUEST_TIMEOUT_MS",
                d.timeout.as_millis() as u64,
            )?),
            max_in_flight: positive("EDGE_MAX_IN_FLIGHT", d.max_in_flight as u64)? as usize,
            rate_per_second: positive("EDGE_RATE_LIMIT_PER_SECOND", d.rate_per_second.into())?
                .try_into()
                .map_err(|_| too_big("EDGE_RATE_LIMIT_PER_SECOND"))?,
            rate_burst: positive("EDGE_RATE_LIMIT_BURST", d.rate_burst.into())?
                .try_into()
                .map_err(|_| too_big("EDGE_RATE_LIMIT_BURST"))?,
        })
    }
}

fn too_big(name: &'static str) -> ConfigError {
    ConfigError {
        name,
        reason: "is too large".into(),
    }
}

/// A whole number of at least 1, or `default` when unset.
fn positive(name: &'static str, default: u64) -> Result<u64, ConfigError> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(ConfigError {
                name,
                reason: format!("must be a whole number of at least 1, not {v:?}"),
            }),
        },
    }
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
            task_queue: var("TEMPORAL_TASK_QUEUE", psa_domain::ids::DEFAULT_TASK_QUEUE),
            body_limit,
            limits: RequestLimits::from_env()?,
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
