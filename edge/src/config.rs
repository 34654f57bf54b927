//! Edge configuration: every environment variable the edge reads, listed once in [`VARS`]
//! with its default and meaning, parsed and checked once at start (DESIGN.md §4).
//!
//! A bad value stops the process with an error naming the variable, instead of surfacing
//! later as a strange failure or being quietly replaced by a default. Credentials (database
//! and Redis URLs, the demo API key) are held as [`SecretString`], whose `Debug` prints
//! `[REDACTED]`, so logging a configuration never leaks them. The README's configuration
//! table is checked against [`VARS`] by a test below.

use secrecy::SecretString;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

/// One environment variable: its row in the README's configuration table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    pub name: &'static str,
    /// The README's "used by" column.
    pub used_by: &'static str,
    /// What an unset variable means; `None`: the command that needs it refuses to start.
    pub default: Option<&'static str>,
    /// The README's "meaning" column.
    pub meaning: &'static str,
}

/// The variables, one constant each so the parser and [`VARS`] share their defaults.
pub mod vars {
    use super::EnvVar;

    pub const DATABASE_URL: EnvVar = EnvVar {
        name: "DATABASE_URL",
        used_by: "edge, worker",
        default: Some("postgres://psa_app@127.0.0.1:5432/psa"),
        meaning: "the application role (not the table owner: row-level security applies); a credential, never printed",
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
    pub const TEMPORAL_ADDRESS: EnvVar = EnvVar {
        name: "TEMPORAL_ADDRESS",
        used_by: "edge, worker",
        default: Some("127.0.0.1:7233"),
        meaning: "Temporal frontend: `host:port`, or an `http://` / `https://` URL",
    };
    pub const TEMPORAL_NAMESPACE: EnvVar = EnvVar {
        name: "TEMPORAL_NAMESPACE",
        used_by: "edge, worker",
        default: Some("default"),
        meaning: "the Temporal namespace workflows run in",
    };
    pub const TEMPORAL_TASK_QUEUE: EnvVar = EnvVar {
        name: "TEMPORAL_TASK_QUEUE",
        used_by: "edge, worker",
        default: Some(psa_domain::ids::DEFAULT_TASK_QUEUE),
        meaning: "the queue the worker polls (and `<queue>-email` for e-mail sends) and the edge starts workflows on",
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
    pub const RUST_LOG: EnvVar = EnvVar {
        name: "RUST_LOG",
        used_by: "edge, worker",
        default: Some("info"),
        meaning: "tracing filter, e.g. `info,psa_edge=debug`",
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

/// What `psa-edge migrate` and `seed-demo` read: the schema owner's URL and the demo key.
#[derive(Debug, Clone)]
pub struct SetupConfig {
    /// The schema owner's URL (`MIGRATION_DATABASE_URL`).
    pub owner_database_url: SecretString,
    /// `PSA_DEMO_API_KEY`, when set: see [`SetupConfig::demo_api_key`].
    demo_api_key: Option<SecretString>,
}

/// A variable whose value cannot be used. The message names the variable, and shows the
/// value only when it is no credential.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

impl ConfigError {
    fn new(var: &EnvVar, reason: impl Into<String>) -> Self {
        ConfigError {
            name: var.name,
            reason: reason.into(),
        }
    }
}

/// Where values come from: the process environment, or a map in tests (which must not set
/// the process's environment: tests run in parallel).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<OsString>;

fn process_env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// Reads variables through a [`Lookup`], falling back to their defaults.
struct Env<'a>(Lookup<'a>);

impl Env<'_> {
    /// The value as set, else the default; `None` when neither.
    fn text(&self, var: &EnvVar) -> Result<Option<String>, ConfigError> {
        let Some(value) = (self.0)(var.name) else {
            return Ok(var.default.map(str::to_owned));
        };
        let value = value
            .into_string()
            .map_err(|_| ConfigError::new(var, "is not valid UTF-8"))?;
        if value.trim().is_empty() {
            return Err(ConfigError::new(
                var,
                "is set but empty (unset it to use the default)",
            ));
        }
        Ok(Some(value))
    }

    /// The value or default; an error when it has neither.
    fn required(&self, var: &EnvVar) -> Result<String, ConfigError> {
        self.text(var)?
            .ok_or_else(|| ConfigError::new(var, "is not set"))
    }

    /// Parsed as `T`; the error shows the value (never use this for a credential).
    fn parse<T: FromStr>(&self, var: &EnvVar, expected: &str) -> Result<T, ConfigError> {
        let value = self.required(var)?;
        value
            .trim()
            .parse()
            .map_err(|_| ConfigError::new(var, format!("must be {expected}, not {value:?}")))
    }

    /// A whole number of at least 1.
    fn positive<T: TryFrom<u64>>(&self, var: &EnvVar) -> Result<T, ConfigError> {
        let n: u64 = self.parse(var, "a whole number of at least 1")?;
        if n == 0 {
            return Err(ConfigError::new(
                var,
                "must be a whole number of at least 1, not 0",
            ));
        }
        T::try_from(n).map_err(|_| ConfigError::new(var, format!("{n} is too large")))
    }

    /// A credential-bearing URL with one of `schemes`; the error never shows the value.
    fn secret_url(&self, var: &EnvVar, schemes: &[&str]) -> Result<SecretString, ConfigError> {
        let value = self.required(var)?;
        if !schemes
            .iter()
            .any(|s| value.starts_with(&format!("{s}://")))
        {
            return Err(ConfigError::new(
                var,
                format!(
                    "must be a URL starting with {} (value not shown: it may hold a password)",
                    schemes
                        .iter()
                        .map(|s| format!("{s}://"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            ));
        }
        Ok(SecretString::from(value))
    }

    /// Temporal's frontend: `host:port`, or an `http://` / `https://` URL.
    fn temporal_address(&self, var: &EnvVar) -> Result<String, ConfigError> {
        let value = self.required(var)?;
        let ok = match value.split_once("://") {
            Some((scheme, rest)) => matches!(scheme, "http" | "https") && !rest.is_empty(),
            None => value
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok()),
        };
        if ok {
            Ok(value)
        } else {
            Err(ConfigError::new(
                var,
                format!("must be host:port or an http(s):// URL, not {value:?}"),
            ))
        }
    }
}

/// Postgres URL schemes sqlx accepts.
const POSTGRES: &[&str] = &["postgres", "postgresql"];
/// Redis URL schemes the redis crate accepts.
const REDIS: &[&str] = &["redis", "rediss", "redis+unix", "unix"];

impl EdgeConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&process_env)
    }

    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Self, ConfigError> {
        let env = Env(lookup);
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
            database_url: env.secret_url(&vars::DATABASE_URL, POSTGRES)?,
            redis_url: env.secret_url(&vars::REDIS_URL, REDIS)?,
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
        let env = Env(lookup);
        Ok(Self {
            owner_database_url: env.secret_url(&vars::MIGRATION_DATABASE_URL, POSTGRES)?,
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
    let value = Env(lookup).required(&vars::RUST_LOG)?;
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
    use secrecy::ExposeSecret;
    use std::cell::RefCell;
    use std::collections::{BTreeSet, HashMap};

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
        let read = RefCell::new(BTreeSet::new());
        let record = |name: &str| -> Option<OsString> {
            read.borrow_mut().insert(name.to_owned());
            None
        };
        EdgeConfig::from_lookup(&record).unwrap();
        SetupConfig::from_lookup(&record).unwrap();
        log_filter_from(&record).unwrap();
        let listed: BTreeSet<String> = VARS.iter().map(|v| v.name.to_owned()).collect();
        assert_eq!(read.into_inner(), listed);
        assert_eq!(listed.len(), VARS.len(), "a variable is listed twice");
    }

    /// The README's configuration table has a row for each variable the edge reads, with the
    /// same "used by", default and meaning, and no row for one it does not.
    #[test]
    fn readme_table_matches_vars() {
        let readme = include_str!("../../README.md");
        let rows = readme_rows(readme);
        assert!(!rows.is_empty(), "no configuration table in README.md");
        for row in &rows {
            assert!(
                row.used_by.contains("edge") || row.used_by.contains("worker"),
                "README row {} is used by neither binary: {:?}",
                row.name,
                row.used_by
            );
        }
        let documented: Vec<&ReadmeRow> =
            rows.iter().filter(|r| r.used_by.contains("edge")).collect();
        for var in VARS {
            let row = documented
                .iter()
                .find(|r| r.name == var.name)
                .unwrap_or_else(|| panic!("README has no edge row for {}", var.name));
            assert_eq!(row.used_by, var.used_by, "{}: used by", var.name);
            assert_eq!(row.default.as_deref(), var.default, "{}: default", var.name);
            assert_eq!(row.meaning, var.meaning, "{}: meaning", var.name);
        }
        for row in documented {
            assert!(
                VARS.iter().any(|v| v.name == row.name),
                "README documents {} for the edge, which does not read it",
                row.name
            );
        }
    }

    struct ReadmeRow {
        name: String,
        used_by: String,
        default: Option<String>,
        meaning: String,
    }

    /// Rows of the table under `## Configuration`: `` | `NAME` | used by | `default` … | meaning | ``.
    /// The default is the first code span of its cell (what follows explains it); `—` is none.
    fn readme_rows(readme: &str) -> Vec<ReadmeRow> {
        let section = readme
            .split("\n## Configuration\n")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .unwrap_or_default();
        let code = |cell: &str| cell.split('`').nth(1).map(str::to_owned);
        section
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(|line| {
                let cells: Vec<&str> = line
                    .trim()
                    .trim_matches('|')
                    .split(" | ")
                    .map(str::trim)
                    .collect();
                assert_eq!(cells.len(), 4, "README row with other than 4 cells: {line}");
                ReadmeRow {
                    name: code(cells[0]).unwrap_or_default(),
                    used_by: cells[1].to_owned(),
                    default: code(cells[2]),
                    meaning: cells[3].to_owned(),
                }
            })
            .collect()
    }
}
