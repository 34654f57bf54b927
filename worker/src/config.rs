//! Worker configuration: every environment variable the worker reads, listed once in
//! [`VARS`] with its default and meaning, parsed and checked once at start (DESIGN.md §4).
//!
//! A bad value stops the process with an error naming the variable, instead of surfacing
//! later as a strange failure or being quietly replaced by a default. Credentials (database,
//! Redis and SMTP URLs) are held as [`SecretString`], whose `Debug` prints `[REDACTED]`, so
//! logging a configuration never leaks them. The README's configuration table is checked
//! against [`VARS`] by a test below.
//!
//! The variables the edge reads too (`DATABASE_URL`, `TEMPORAL_*`, `RUST_LOG`) are listed in
//! both binaries' configurations; the README has one row for each, which both are checked
//! against, so the two lists cannot drift apart.

use crate::bus::BusConfig;
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
    /// What an unset variable means; `None`: the process refuses to start without it.
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
    pub const WORKER_METRICS_ADDR: EnvVar = EnvVar {
        name: "WORKER_METRICS_ADDR",
        used_by: "worker",
        default: Some("127.0.0.1:9464"),
        meaning: "`/healthz` and `/metrics`",
    };
    pub const REDIS_URL: EnvVar = EnvVar {
        name: "REDIS_URL",
        used_by: "worker",
        default: Some("redis://127.0.0.1:6379"),
        meaning: "event stream consumers and the dead letters; may carry a password, never printed",
    };
    pub const EVENT_MAX_DELIVERIES: EnvVar = EnvVar {
        name: "EVENT_MAX_DELIVERIES",
        used_by: "worker",
        default: Some("10"),
        meaning: "attempts per (event, handler) before the entry moves to `psa:events:dead-letter`",
    };
    pub const SMTP_URL: EnvVar = EnvVar {
        name: "SMTP_URL",
        used_by: "worker",
        default: Some("smtp://127.0.0.1:2525"),
        meaning: "lettre's URL form: `smtp://host:port`, `smtp://host?tls=required` (STARTTLS), `smtps://user:pass@host`; a credential, never printed",
    };
    pub const SMTP_FROM: EnvVar = EnvVar {
        name: "SMTP_FROM",
        used_by: "worker",
        default: Some("PSA <psa@localhost>"),
        meaning: "sender when the tenant set no `from_address`",
    };
    pub const SLA_REOPEN_WINDOW_SECONDS: EnvVar = EnvVar {
        name: "SLA_REOPEN_WINDOW_SECONDS",
        used_by: "worker",
        default: Some("604800"),
        meaning: "how long a closed ticket's SLA run waits for a reopening before it ends",
    };
    pub const SLA_CONTINUE_AS_NEW_EVENTS: EnvVar = EnvVar {
        name: "SLA_CONTINUE_AS_NEW_EVENTS",
        used_by: "worker",
        default: Some("1000"),
        meaning: "ticket events one SLA run applies before it continues as new (bounded histories)",
    };
    pub const RUST_LOG: EnvVar = EnvVar {
        name: "RUST_LOG",
        used_by: "edge, worker",
        default: Some("info"),
        meaning: "tracing filter, e.g. `info,psa_edge=debug`",
    };
}

/// Every variable the worker reads, in the README's order.
pub const VARS: &[EnvVar] = &[
    vars::DATABASE_URL,
    vars::TEMPORAL_ADDRESS,
    vars::TEMPORAL_NAMESPACE,
    vars::TEMPORAL_TASK_QUEUE,
    vars::WORKER_METRICS_ADDR,
    vars::REDIS_URL,
    vars::EVENT_MAX_DELIVERIES,
    vars::SMTP_URL,
    vars::SMTP_FROM,
    vars::SLA_REOPEN_WINDOW_SECONDS,
    vars::SLA_CONTINUE_AS_NEW_EVENTS,
    vars::RUST_LOG,
];

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub temporal_address: String,
    pub temporal_namespace: String,
    pub task_queue: String,
    /// The application role's URL; row-level security applies to every query.
    pub database_url: SecretString,
    /// `/healthz` and `/metrics`; `None` serves neither (tests).
    pub metrics_addr: Option<SocketAddr>,
    /// The event stream consumers (`REDIS_URL`, `EVENT_MAX_DELIVERIES`).
    pub bus: BusConfig,
    /// Where e-mail goes (`SMTP_URL`, lettre's URL form; may hold a password).
    pub smtp_url: SecretString,
    /// Sender of e-mail when the tenant set none (`SMTP_FROM`).
    pub smtp_from: String,
    /// How long a closed ticket's SLA run waits for a reopening before it ends
    /// (`SLA_REOPEN_WINDOW_SECONDS`). A reopening after that is not timed.
    pub sla_reopen_window: Duration,
    /// Events one SLA run applies before it continues as new (`SLA_CONTINUE_AS_NEW_EVENTS`).
    pub sla_continue_after_events: u32,
    /// Workflow runs kept in memory between their tasks ([`DEFAULT_MAX_CACHED_WORKFLOWS`]).
    /// `0` keeps none: every task replays its run's history, and goes to the task queue all
    /// workers poll rather than to this worker's own (sticky) queue. The tests' time-skipping
    /// server needs that across a worker restart: unlike a real server it never moves a task
    /// off a dead worker's sticky queue. Not read from the environment.
    pub max_cached_workflows: usize,
}

/// The SDK's default workflow cache.
pub const DEFAULT_MAX_CACHED_WORKFLOWS: usize = 1000;

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

/// SMTP URL schemes lettre accepts.
const SMTP: &[&str] = &["smtp", "smtps"];

impl WorkerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&process_env)
    }

    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Self, ConfigError> {
        let env = Env(lookup);
        let mut bus = BusConfig::new(env.secret_url(&vars::REDIS_URL, REDIS)?);
        bus.max_deliveries = env.positive(&vars::EVENT_MAX_DELIVERIES)?;
        Ok(Self {
            temporal_address: env.temporal_address(&vars::TEMPORAL_ADDRESS)?,
            temporal_namespace: env.required(&vars::TEMPORAL_NAMESPACE)?,
            task_queue: env.required(&vars::TEMPORAL_TASK_QUEUE)?,
            database_url: env.secret_url(&vars::DATABASE_URL, POSTGRES)?,
            metrics_addr: Some(env.parse(&vars::WORKER_METRICS_ADDR, "an address as ip:port")?),
            bus,
            smtp_url: env.secret_url(&vars::SMTP_URL, SMTP)?,
            smtp_from: env.required(&vars::SMTP_FROM)?,
            sla_reopen_window: Duration::from_secs(env.parse(
                &vars::SLA_REOPEN_WINDOW_SECONDS,
                "a whole number of seconds",
            )?),
            sla_continue_after_events: env.positive(&vars::SLA_CONTINUE_AS_NEW_EVENTS)?,
            max_cached_workflows: DEFAULT_MAX_CACHED_WORKFLOWS,
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

    fn worker(pairs: &[(&str, &str)]) -> Result<WorkerConfig, ConfigError> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        WorkerConfig::from_lookup(&|name| map.get(name).map(OsString::from))
    }

    #[test]
    fn defaults_parse_to_the_documented_values() {
        let c = worker(&[]).unwrap();
        assert_eq!(
            c.metrics_addr.map(|a| a.to_string()).as_deref(),
            Some("127.0.0.1:9464")
        );
        assert_eq!(
            c.database_url.expose_secret(),
            "postgres://psa_app@127.0.0.1:5432/psa"
        );
        assert_eq!(c.bus.redis_url.expose_secret(), "redis://127.0.0.1:6379");
        assert_eq!(c.smtp_url.expose_secret(), "smtp://127.0.0.1:2525");
        assert_eq!(c.smtp_from, "PSA <psa@localhost>");
        assert_eq!(c.task_queue, "psa");
        assert_eq!(c.sla_reopen_window, Duration::from_secs(7 * 24 * 3600));
        assert_eq!(c.sla_continue_after_events, 1000);
        // The bus's own default and the variable's agree.
        assert_eq!(
            c.bus.max_deliveries,
            BusConfig::new("redis://x").max_deliveries
        );
        log_filter_from(&|_| None).unwrap();
    }

    #[test]
    fn values_from_the_environment_win() {
        let c = worker(&[
            ("EVENT_MAX_DELIVERIES", "3"),
            ("SLA_REOPEN_WINDOW_SECONDS", "0"),
            ("SLA_CONTINUE_AS_NEW_EVENTS", "50"),
            ("SMTP_URL", "smtps://mailer.example"),
            ("TEMPORAL_ADDRESS", "temporal-frontend:7233"),
        ])
        .unwrap();
        assert_eq!(c.bus.max_deliveries, 3);
        assert_eq!(c.sla_reopen_window, Duration::ZERO);
        assert_eq!(c.sla_continue_after_events, 50);
        assert_eq!(c.smtp_url.expose_secret(), "smtps://mailer.example");
        assert_eq!(c.temporal_address, "temporal-frontend:7233");
    }

    #[test]
    fn a_bad_value_is_an_error_naming_its_variable() {
        for (name, value) in [
            ("WORKER_METRICS_ADDR", "9464"),
            ("EVENT_MAX_DELIVERIES", "0"),
            ("EVENT_MAX_DELIVERIES", "ten"),
            ("EVENT_MAX_DELIVERIES", "4294967296"),
            ("SLA_REOPEN_WINDOW_SECONDS", "-1"),
            ("SLA_REOPEN_WINDOW_SECONDS", "7d"),
            ("SLA_CONTINUE_AS_NEW_EVENTS", "0"),
            ("SMTP_URL", "mail.example:25"),
            ("SMTP_FROM", ""),
            ("DATABASE_URL", "postgres:/psa"),
            ("REDIS_URL", "http://redis:6379"),
            ("TEMPORAL_ADDRESS", "temporal:port"),
        ] {
            let e = worker(&[(name, value)]).unwrap_err();
            assert_eq!(e.name, name, "{value:?}: {e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("environment variable {name}: "))
            );
        }
        let bad_filter = log_filter_from(&|n| (n == "RUST_LOG").then(|| "psa=loudest".into()));
        assert_eq!(bad_filter.unwrap_err().name, "RUST_LOG");
    }

    const PASSWORD: &str = "hunter2-s3cret";

    #[test]
    fn credentials_never_print() {
        let db = format!("postgres://psa_app:{PASSWORD}@db:5432/psa");
        let redis = format!("redis://:{PASSWORD}@redis:6379");
        let smtp = format!("smtps://mailer:{PASSWORD}@smtp.example");
        let c = worker(&[
            ("DATABASE_URL", &db),
            ("REDIS_URL", &redis),
            ("SMTP_URL", &smtp),
        ])
        .unwrap();
        assert_eq!(c.smtp_url.expose_secret(), smtp);
        for shown in [format!("{c:?}"), format!("{c:#?}")] {
            assert!(!shown.contains(PASSWORD), "{shown}");
            assert!(shown.contains("REDACTED"));
        }
        let bad = format!("smtq://mailer:{PASSWORD}@smtp.example");
        let e = worker(&[("SMTP_URL", &bad)]).unwrap_err();
        assert_eq!(e.name, "SMTP_URL");
        assert!(!e.to_string().contains(PASSWORD), "{e}");
    }

    /// Every variable the worker reads is in [`VARS`], and every one listed is read: the
    /// list is the whole truth the README is checked against.
    #[test]
    fn vars_lists_exactly_what_is_read() {
        let read = RefCell::new(BTreeSet::new());
        let record = |name: &str| -> Option<OsString> {
            read.borrow_mut().insert(name.to_owned());
            None
        };
        WorkerConfig::from_lookup(&record).unwrap();
        log_filter_from(&record).unwrap();
        let listed: BTreeSet<String> = VARS.iter().map(|v| v.name.to_owned()).collect();
        assert_eq!(read.into_inner(), listed);
        assert_eq!(listed.len(), VARS.len(), "a variable is listed twice");
    }

    /// The README's configuration table has a row for each variable the worker reads, with
    /// the same "used by", default and meaning, and no row for one it does not.
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
        let documented: Vec<&ReadmeRow> = rows
            .iter()
            .filter(|r| r.used_by.contains("worker"))
            .collect();
        for var in VARS {
            let row = documented
                .iter()
                .find(|r| r.name == var.name)
                .unwrap_or_else(|| panic!("README has no worker row for {}", var.name));
            assert_eq!(row.used_by, var.used_by, "{}: used by", var.name);
            assert_eq!(row.default.as_deref(), var.default, "{}: default", var.name);
            assert_eq!(row.meaning, var.meaning, "{}: meaning", var.name);
        }
        for row in documented {
            assert!(
                VARS.iter().any(|v| v.name == row.name),
                "README documents {} for the worker, which does not read it",
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
