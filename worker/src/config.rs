//! Worker configuration: every environment variable the worker reads, listed once in
//! [`VARS`] with its default and meaning, parsed and checked once at start (DESIGN.md §4).
//!
//! A bad value stops the process with an error naming the variable, instead of surfacing
//! later as a strange failure or being quietly replaced by a default. Credentials (database,
//! Redis and SMTP URLs) are held as [`SecretString`], whose `Debug` prints `[REDACTED]`, so
//! logging a configuration never leaks them. The README's configuration table is checked
//! against [`VARS`] by a test below.
//!
//! How a value is read and checked, and the variables the edge reads too (`DATABASE_URL`,
//! `TEMPORAL_*`, `RUST_LOG`), are shared with the edge through [`psa_domain::settings`]: one
//! definition each, in both binaries' [`VARS`], checked against one README row.

use crate::bus::BusConfig;
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
    /// Read by the edge too: defined once, with the README row both are checked against.
    pub use psa_domain::settings::common::{
        DATABASE_URL, RUST_LOG, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE,
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
    /// Keep every tenant's billing Schedules in Temporal (`billing_schedules.rs`). Always on
    /// in a deployment; the tests turn it on where they check it, so Schedules left behind by
    /// other tests never start runs in theirs. Not read from the environment.
    pub billing_schedules: bool,
}

/// The SDK's default workflow cache.
pub const DEFAULT_MAX_CACHED_WORKFLOWS: usize = 1000;

fn process_env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// SMTP URL schemes lettre accepts.
const SMTP: &[&str] = &["smtp", "smtps"];

impl WorkerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&process_env)
    }

    pub fn from_lookup(lookup: Lookup<'_>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let mut bus = BusConfig::new(env.secret_url(&vars::REDIS_URL, schemes::REDIS)?);
        bus.max_deliveries = env.positive(&vars::EVENT_MAX_DELIVERIES)?;
        Ok(Self {
            temporal_address: env.temporal_address(&vars::TEMPORAL_ADDRESS)?,
            temporal_namespace: env.required(&vars::TEMPORAL_NAMESPACE)?,
            task_queue: env.required(&vars::TEMPORAL_TASK_QUEUE)?,
            database_url: env.secret_url(&vars::DATABASE_URL, schemes::POSTGRES)?,
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
            billing_schedules: true,
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
        let problems = vars_listing_problems(VARS, |lookup| {
            WorkerConfig::from_lookup(lookup).unwrap();
            log_filter_from(lookup).unwrap();
        });
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// The README's configuration table has a row for each variable the worker reads, with
    /// the same "used by", default and meaning, and no row for one it does not.
    #[test]
    fn readme_table_matches_vars() {
        let readme = include_str!("../../README.md");
        let problems = readme_table_problems(readme, "worker", VARS);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
