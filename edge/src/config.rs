//! Edge configuration: every environment variable the edge reads, listed once in [`VARS`]
//! with its default and meaning, parsed and checked once at start (DESIGN.md §4).
//!
//! A bad value stops the process with an error naming the variable, instead of surfacing
//! later as a strange failure or being quietly replaced by a default. Credentials (database
//! and Redis URLs, the demo API key) are held as [`SecretString`], whose `Debug` prints
//! `[REDACTED]`, so logging a configuration never leaks them. The README's configuration
//! table is checked against [`VARS`] by a test below.
//!
//! How a value is read and checked, and the variables the worker reads too, are shared with
//! the worker through [`psa_domain::settings`]; this file holds what only the edge reads.

pub use psa_domain::settings::{ConfigError, EnvVar, Lookup};
use psa_domain::settings::{Env, schemes};
use secrecy::SecretString;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

/// The variables, one constant each so the parser and [`VARS`] share their defaults.
pub mod vars {
    use super::EnvVar;
    /// Read by the worker too: defined once, with the README row both are checked against.
    pub use psa_domain::settings::common::{
        DATABASE_URL, RUST_LOG, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE,
    };

    pub const MIGRATION_DATABASE_URL: EnvVar = EnvVar {
        name: "MIGRATION_DATABASE_URL",
        used_by: "edge (`migrate`, `seed-demo`)",
        default: Some("postgres://postgres@127.0.0.1:5432/psa"),
        meaning: "the schema owner; creates the database and the `psa_app` role; a credential, never printed",
    };
    pub const PSA_DEMO_API_KEY: EnvVar = EnvVar {
        name: "PSA_DEMO_API_KEY",
        used_by: "edge (`seed-demo`)",
        default: None,
        meaning: "the demo tenant's admin API key `seed-demo` creates; required there; a credential, never printed",
    };
    pub const REDIS_URL: EnvVar = EnvVar {
        name: "REDIS_URL",
        used_by: "edge",
        default: Some("redis://127.0.0.1:6379"),
        meaning: "events go to stream `psa:events`; may carry a password, never printed",
    };
    pub const EDGE_HTTP_ADDR: EnvVar = EnvVar {
        name: "EDGE_HTTP_ADDR",
        used_by: "edge",
        default: Some("127.0.0.1:8080"),
        meaning: "REST, `/healthz`, `/readyz`, `/metrics`, `/openapi.json`",
    };
    pub const EDGE_GRPC_ADDR: EnvVar = EnvVar {
        name: "EDGE_GRPC_ADDR",
        used_by: "edge",
        default: Some("127.0.0.1:50051"),
        meaning: "gRPC",
    };
    pub const EDGE_BODY_LIMIT_BYTES: EnvVar = EnvVar {
        name: "EDGE_BODY_LIMIT_BYTES",
        used_by: "edge",
        default: Some("262144"),
        meaning: "larger request bodies get 413",
    };
    pub const EDGE_RELAY: EnvVar = EnvVar {
        name: "EDGE_RELAY",
        used_by: "edge",
        default: Some("on"),
        meaning: "`on` or `off`; `off` runs an edge without the outbox relay (and without the SLA re-time job runner)",
    };
    pub const EDGE_RELAY_BATCH: EnvVar = EnvVar {
        name: "EDGE_RELAY_BATCH",
        used_by: "edge",
        default: Some("256"),
        meaning: "outbox rows the relay claims at once; their events go to Redis in one pipeline and their outcomes to Postgres in one statement",
    };
    pub const EDGE_RELAY_CONCURRENCY: EnvVar = EnvVar {
        name: "EDGE_RELAY_CONCURRENCY",
        used_by: "edge",
        default: Some("64"),
        meaning: "Temporal calls the relay makes at once (one workflow's commands always go one after the other, in order)",
    };
    pub const EDGE_REQUEST_TIMEOUT_MS: EnvVar = EnvVar {
        name: "EDGE_REQUEST_TIMEOUT_MS",
        used_by: "edge",
        default: Some("10000"),
        meaning: "a request still running after this gets 503 with `Retry-After` (gRPC `CANCELLED`) and its transaction rolls back",
    };
    pub const EDGE_MAX_IN_FLIGHT: EnvVar = EnvVar {
        name: "EDGE_MAX_IN_FLIGHT",
        used_by: "edge",
        default: Some("512"),
        meaning: "requests in progress at once per protocol; more are refused at once with 503 and `Retry-After` (gRPC `RESOURCE_EXHAUSTED`); the probes are outside the cap",
    };
    pub const EDGE_RATE_LIMIT_PER_SECOND: EnvVar = EnvVar {
        name: "EDGE_RATE_LIMIT_PER_SECOND",
        used_by: "edge",
        default: Some("100"),
        meaning: "average requests per second one API key may make, HTTP and gRPC together; beyond it 429 with `Retry-After` (gRPC `RESOURCE_EXHAUSTED`)",
    };
    pub const EDGE_RATE_LIMIT_BURST: EnvVar = EnvVar {
        name: "EDGE_RATE_LIMIT_BURST",
        used_by: "edge",
        default: Some("200"),
        meaning: "requests one API key may make at once above that average",
    };
}

/// Every variable the edge reads, in the README's order.
pub const VARS: &[EnvVar] = &[
    vars::DATABASE_URL,
    vars::MIGRATION_DATABASE_URL,
    vars::PSA_DEMO_API_KEY,
    vars::REDIS_URL,
    vars::TEMPORAL_ADDRESS,
    vars::TEMPORAL_NAMESPACE,
    vars::TEMPORAL_TASK_QUEUE,
    vars::EDGE_HTTP_ADDR,
    vars::EDGE_GRPC_ADDR,
    vars::EDGE_BODY_LIMIT_BYTES,
    vars::EDGE_RELAY,
    vars::EDGE_RELAY_BATCH,
    vars::EDGE_RELAY_CONCURRENCY,
    vars::EDGE_REQUEST_TIMEOUT_MS,
    vars::EDGE_MAX_IN_FLIGHT,
    vars::EDGE_RATE_LIMIT_PER_SECOND,
    vars::EDGE_RATE_LIMIT_BURST,
    vars::RUST_LOG,
];

/// `psa-edge serve`'s configuration.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    pub http_addr: SocketAddr,
    pub grpc_addr: SocketAddr,
    /// The application role's URL: row-level security applies to every query.
    pub database_url: SecretString,
    /// May carry a password.
    pub redis_url: SecretString,
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The same values as [`VARS`]' defaults (a test holds them together), for code that builds
/// limits without an environment.
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

#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Off only in tests that need a committed-but-undelivered outbox (`EDGE_RELAY=off`).
    pub enabled: bool,
    /// Rows claimed per round.
    pub batch: i32,
    /// Temporal calls in flight at once.
    pub concurrency: usize,
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
            batch: 256,
            concurrency: 64,
            lease: Duration::from_secs(30),
            idle_poll: Duration::from_millis(200),
            verify_after: Duration::from_secs(5),
        }
    }
}

/// What `psa-edge migrate` and `seed-demo` read: the schema owner's URL and the demo key.
#[derive(Debug, Clone)]
pub struct SetupConfig {
    /// The schema owner's URL (`MIGRATION_DATABASE_URL`).
    pub owner_database_url: SecretString,
    /// `PSA_DEMO_API_KEY`, when set: see [`SetupConfig::demo_api_key`].
    demo_api_key: Option<SecretString>,
}

fn process_env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

impl EdgeConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&process_env)
    }

    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let relay = match env.required(&vars::EDGE_RELAY)?.trim() {
            "on" => true,
            "off" => false,
            other => {
                return Err(ConfigError::new(
                    &vars::EDGE_RELAY,
                    format!("must be `on` or `off`, not {other:?}"),
                ));
            }
        };
        Ok(Self {
            http_addr: env.parse(&vars::EDGE_HTTP_ADDR, "an address as ip:port")?,
            grpc_addr: env.parse(&vars::EDGE_GRPC_ADDR, "an address as ip:port")?,
            database_url: env.secret_url(&vars::DATABASE_URL, schemes::POSTGRES)?,
            redis_url: env.secret_url(&vars::REDIS_URL, schemes::REDIS)?,
            events_stream: psa_domain::events::stream::EVENTS.to_owned(),
            temporal_address: env.temporal_address(&vars::TEMPORAL_ADDRESS)?,
            temporal_namespace: env.required(&vars::TEMPORAL_NAMESPACE)?,
            task_queue: env.required(&vars::TEMPORAL_TASK_QUEUE)?,
            body_limit: env.positive(&vars::EDGE_BODY_LIMIT_BYTES)?,
            limits: RequestLimits {
                timeout: Duration::from_millis(env.positive(&vars::EDGE_REQUEST_TIMEOUT_MS)?),
                max_in_flight: env.positive(&vars::EDGE_MAX_IN_FLIGHT)?,
                rate_per_second: env.positive(&vars::EDGE_RATE_LIMIT_PER_SECOND)?,
                rate_burst: env.positive(&vars::EDGE_RATE_LIMIT_BURST)?,
            },
            relay: RelayConfig {
                enabled: relay,
                batch: env.positive(&vars::EDGE_RELAY_BATCH)?,
                concurrency: env.positive(&vars::EDGE_RELAY_CONCURRENCY)?,
                ..RelayConfig::default()
            },
        })
    }
}

impl SetupConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&process_env)
    }

    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        Ok(Self {
            owner_database_url: env.secret_url(&vars::MIGRATION_DATABASE_URL, schemes::POSTGRES)?,
            demo_api_key: env.text(&vars::PSA_DEMO_API_KEY)?.map(SecretString::from),
        })
    }

    /// The demo tenant's admin key; an error naming the variable when it is not set, since
    /// only `seed-demo` needs it.
    pub fn demo_api_key(&self) -> Result<&SecretString, ConfigError> {
        self.demo_api_key.as_ref().ok_or_else(|| {
            ConfigError::new(&vars::PSA_DEMO_API_KEY, "is not set (`seed-demo` needs it)")
        })
    }
}

/// The tracing filter (`RUST_LOG`), read before anything else so every later message,
/// including a configuration error, is logged with it.
pub fn log_filter() -> Result<EnvFilter, ConfigError> {
    log_filter_from(&process_env)
}

pub fn log_filter_from(lookup: Lookup<'_>) -> Result<EnvFilter, ConfigError> {
    let value = Env::new(lookup).required(&vars::RUST_LOG)?;
    EnvFilter::try_new(&value).map_err(|e| {
        ConfigError::new(
            &vars::RUST_LOG,
            format!("is not a tracing filter ({e}): {value:?}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use psa_domain::settings::{readme_table_problems, vars_listing_problems};
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn lookup_in(map: &HashMap<&str, &str>) -> impl Fn(&str) -> Option<OsString> {
        move |name| map.get(name).map(OsString::from)
    }

    fn edge(pairs: &[(&str, &str)]) -> Result<EdgeConfig, ConfigError> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        EdgeConfig::from_lookup(&lookup_in(&map))
    }

    #[test]
    fn defaults_parse_to_the_documented_values() {
        let c = edge(&[]).unwrap();
        assert_eq!(c.http_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.grpc_addr.to_string(), "127.0.0.1:50051");
        assert_eq!(
            c.database_url.expose_secret(),
            "postgres://psa_app@127.0.0.1:5432/psa"
        );
        assert_eq!(c.redis_url.expose_secret(), "redis://127.0.0.1:6379");
        assert_eq!(c.task_queue, "psa");
        assert_eq!(c.body_limit, 262_144);
        assert!(c.relay.enabled);
        assert_eq!(c.limits, RequestLimits::default());
        let setup = SetupConfig::from_lookup(&|_| None).unwrap();
        assert_eq!(
            setup.owner_database_url.expose_secret(),
            "postgres://postgres@127.0.0.1:5432/psa"
        );
        assert_eq!(
            setup.demo_api_key().unwrap_err().name,
            "PSA_DEMO_API_KEY",
            "the demo key has no default"
        );
        log_filter_from(&|_| None).unwrap();
    }

    #[test]
    fn values_from_the_environment_win() {
        let c = edge(&[
            ("EDGE_HTTP_ADDR", "0.0.0.0:9000"),
            ("EDGE_RELAY", "off"),
            ("EDGE_REQUEST_TIMEOUT_MS", "250"),
            ("EDGE_RATE_LIMIT_BURST", " 7 "),
            ("TEMPORAL_ADDRESS", "https://temporal.example:7233"),
        ])
        .unwrap();
        assert_eq!(c.http_addr.port(), 9000);
        assert!(!c.relay.enabled);
        assert_eq!(c.limits.timeout, Duration::from_millis(250));
        assert_eq!(c.limits.rate_burst, 7);
        assert_eq!(c.temporal_address, "https://temporal.example:7233");
    }

    #[test]
    fn a_bad_value_is_an_error_naming_its_variable() {
        for (name, value) in [
            ("EDGE_HTTP_ADDR", "localhost"),
            ("EDGE_GRPC_ADDR", "127.0.0.1:99999"),
            ("EDGE_BODY_LIMIT_BYTES", "0"),
            ("EDGE_BODY_LIMIT_BYTES", "-1"),
            ("EDGE_RELAY", "yes"),
            ("EDGE_REQUEST_TIMEOUT_MS", "10s"),
            ("EDGE_MAX_IN_FLIGHT", ""),
            ("EDGE_RATE_LIMIT_PER_SECOND", "4294967296"),
            ("EDGE_RATE_LIMIT_BURST", "0"),
            ("DATABASE_URL", "mysql://root@db/psa"),
            ("REDIS_URL", "127.0.0.1:6379"),
            ("TEMPORAL_ADDRESS", "temporal"),
            ("TEMPORAL_ADDRESS", "grpc://temporal:7233"),
            ("TEMPORAL_NAMESPACE", "  "),
        ] {
            let e = edge(&[(name, value)]).unwrap_err();
            assert_eq!(e.name, name, "{value:?}: {e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("environment variable {name}: "))
            );
        }
        let bad_filter = log_filter_from(&|n| (n == "RUST_LOG").then(|| "info,[".into()));
        assert_eq!(bad_filter.unwrap_err().name, "RUST_LOG");
    }

    #[cfg(unix)]
    #[test]
    fn a_value_that_is_not_utf8_is_an_error() {
        use std::os::unix::ffi::OsStringExt;
        let e = EdgeConfig::from_lookup(&|n| {
            (n == "TEMPORAL_NAMESPACE").then(|| OsString::from_vec(vec![0xff]))
        })
        .unwrap_err();
        assert_eq!(e.name, "TEMPORAL_NAMESPACE");
    }

    const PASSWORD: &str = "hunter2-s3cret";

    #[test]
    fn credentials_never_print() {
        let db = format!("postgres://psa_app:{PASSWORD}@db:5432/psa");
        let redis = format!("redis://:{PASSWORD}@redis:6379");
        let c = edge(&[("DATABASE_URL", &db), ("REDIS_URL", &redis)]).unwrap();
        assert_eq!(c.database_url.expose_secret(), db);
        for shown in [format!("{c:?}"), format!("{c:#?}")] {
            assert!(!shown.contains(PASSWORD), "{shown}");
            assert!(shown.contains("REDACTED"));
        }
        let owner = format!("postgres://postgres:{PASSWORD}@db/psa");
        let setup = SetupConfig::from_lookup(&|n| match n {
            "MIGRATION_DATABASE_URL" => Some(owner.clone().into()),
            "PSA_DEMO_API_KEY" => Some(PASSWORD.into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(setup.demo_api_key().unwrap().expose_secret(), PASSWORD);
        assert!(!format!("{setup:?}").contains(PASSWORD));
    }

    #[test]
    fn errors_about_credentials_do_not_show_them() {
        let db = format!("mysql://root:{PASSWORD}@db/psa");
        let e = edge(&[("DATABASE_URL", &db)]).unwrap_err();
        assert_eq!(e.name, "DATABASE_URL");
        assert!(!e.to_string().contains(PASSWORD), "{e}");
        assert!(!format!("{e:?}").contains(PASSWORD));
    }

    /// Every variable the edge reads is in [`VARS`], and every one listed is read: the list
    /// is the whole truth the README is checked against.
    #[test]
    fn vars_lists_exactly_what_is_read() {
        let problems = vars_listing_problems(VARS, |lookup| {
            EdgeConfig::from_lookup(lookup).unwrap();
            SetupConfig::from_lookup(lookup).unwrap();
            log_filter_from(lookup).unwrap();
        });
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// The README's configuration table has a row for each variable the edge reads, with the
    /// same "used by", default and meaning, and no row for one it does not.
    #[test]
    fn readme_table_matches_vars() {
        let readme = include_str!("../../README.md");
        let problems = readme_table_problems(readme, "edge", VARS);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
