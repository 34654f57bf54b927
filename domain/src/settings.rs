//! Reading a binary's settings from its environment, shared by the edge and the worker so
//! both check values the same way and word their errors alike (DESIGN.md §4).
//!
//! Pure: the values come through an injected [`Lookup`], which each binary points at its
//! process environment and tests point at a map. Each binary keeps its own list of the
//! variables it reads (its `config::VARS`) and builds its own configuration with [`Env`];
//! this module holds what is the same for both: the variable's description ([`EnvVar`]),
//! the error naming it ([`ConfigError`]), the checked readers, the variables both read
//! ([`common`]), and the checks that a binary's list is exactly what it reads
//! ([`vars_listing_problems`]) and what the README's configuration table says
//! ([`readme_table_problems`]).

use secrecy::SecretString;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::str::FromStr;

/// One environment variable: its row in the README's configuration table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    pub name: &'static str,
    /// The README's "used by" column.
    pub used_by: &'static str,
    /// What an unset variable means; `None`: whatever needs it refuses to start.
    pub default: Option<&'static str>,
    /// The README's "meaning" column.
    pub meaning: &'static str,
}

/// The variables both binaries read. One definition each, since the README has one row for
/// each that both binaries are checked against.
pub mod common {
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
        default: Some(crate::ids::DEFAULT_TASK_QUEUE),
        meaning: "the queue the worker polls (and `<queue>-email` for e-mail sends) and the edge starts workflows on",
    };
    pub const RUST_LOG: EnvVar = EnvVar {
        name: "RUST_LOG",
        used_by: "edge, worker",
        default: Some("info"),
        meaning: "tracing filter, e.g. `info,psa_edge=debug`",
    };
}

/// URL schemes the clients behind credential-bearing URLs accept.
pub mod schemes {
    /// Postgres URL schemes sqlx accepts.
    pub const POSTGRES: &[&str] = &["postgres", "postgresql"];
    /// Redis URL schemes the redis crate accepts.
    pub const REDIS: &[&str] = &["redis", "rediss", "redis+unix", "unix"];
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
    pub fn new(var: &EnvVar, reason: impl Into<String>) -> Self {
        ConfigError {
            name: var.name,
            reason: reason.into(),
        }
    }
}

/// Where values come from: the process environment, or a map in tests (which must not set
/// the process's environment: tests run in parallel).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// Reads variables through a [`Lookup`], falling back to their defaults.
pub struct Env<'a>(Lookup<'a>);

impl<'a> Env<'a> {
    pub fn new(lookup: Lookup<'a>) -> Self {
        Env(lookup)
    }

    /// The value as set, else the default; `None` when neither.
    pub fn text(&self, var: &EnvVar) -> Result<Option<String>, ConfigError> {
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
    pub fn required(&self, var: &EnvVar) -> Result<String, ConfigError> {
        self.text(var)?
            .ok_or_else(|| ConfigError::new(var, "is not set"))
    }

    /// Parsed as `T`; the error shows the value (never use this for a credential).
    pub fn parse<T: FromStr>(&self, var: &EnvVar, expected: &str) -> Result<T, ConfigError> {
        let value = self.required(var)?;
        value
            .trim()
            .parse()
            .map_err(|_| ConfigError::new(var, format!("must be {expected}, not {value:?}")))
    }

    /// A whole number of at least 1.
    pub fn positive<T: TryFrom<u64>>(&self, var: &EnvVar) -> Result<T, ConfigError> {
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
    pub fn secret_url(&self, var: &EnvVar, schemes: &[&str]) -> Result<SecretString, ConfigError> {
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
    pub fn temporal_address(&self, var: &EnvVar) -> Result<String, ConfigError> {
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

/// Where `vars` and what `read` looks up (with every variable unset) disagree: a variable
/// read but not listed, listed but not read, or listed twice; empty when they agree, so the
/// list is the whole truth the README is checked against.
pub fn vars_listing_problems(vars: &[EnvVar], read: impl FnOnce(Lookup<'_>)) -> Vec<String> {
    let names = RefCell::new(BTreeSet::new());
    read(&|name: &str| -> Option<OsString> {
        names.borrow_mut().insert(name.to_owned());
        None
    });
    let read = names.into_inner();
    let listed: BTreeSet<String> = vars.iter().map(|v| v.name.to_owned()).collect();
    let mut problems: Vec<String> = read
        .difference(&listed)
        .map(|name| format!("{name} is read but not listed"))
        .chain(
            listed
                .difference(&read)
                .map(|name| format!("{name} is listed but not read")),
        )
        .collect();
    if listed.len() != vars.len() {
        problems.push("a variable is listed twice".to_owned());
    }
    problems
}

/// Where the README's configuration table and `binary`'s `vars` disagree, one sentence each;
/// empty when they agree. The table must have a row, with the same "used by", default and
/// meaning, for each variable the binary reads, no row naming `binary` for one it does not,
/// and no row used by neither binary.
pub fn readme_table_problems(readme: &str, binary: &str, vars: &[EnvVar]) -> Vec<String> {
    let mut problems = Vec::new();
    let rows = readme_rows(readme, &mut problems);
    if rows.is_empty() {
        problems.push("no configuration table in README.md".to_owned());
    }
    for row in &rows {
        if !(row.used_by.contains("edge") || row.used_by.contains("worker")) {
            problems.push(format!(
                "README row {} is used by neither binary: {:?}",
                row.name, row.used_by
            ));
        }
    }
    let documented: Vec<&ReadmeRow> = rows.iter().filter(|r| r.used_by.contains(binary)).collect();
    for var in vars {
        let Some(row) = documented.iter().find(|r| r.name == var.name) else {
            problems.push(format!("README has no {binary} row for {}", var.name));
            continue;
        };
        if row.used_by != var.used_by {
            problems.push(format!(
                "{}: used by {:?} in README, {:?} in code",
                var.name, row.used_by, var.used_by
            ));
        }
        if row.default.as_deref() != var.default {
            problems.push(format!(
                "{}: default {:?} in README, {:?} in code",
                var.name, row.default, var.default
            ));
        }
        if row.meaning != var.meaning {
            problems.push(format!(
                "{}: meaning {:?} in README, {:?} in code",
                var.name, row.meaning, var.meaning
            ));
        }
    }
    for row in documented {
        if !vars.iter().any(|v| v.name == row.name) {
            problems.push(format!(
                "README documents {} for the {binary}, which does not read it",
                row.name
            ));
        }
    }
    problems
}

struct ReadmeRow {
    name: String,
    used_by: String,
    default: Option<String>,
    meaning: String,
}

/// Rows of the table under `## Configuration`: `` | `NAME` | used by | `default` … | meaning | ``.
/// The default is the first code span of its cell (what follows explains it); `—` is none.
/// A row without four cells is a problem, not a row.
fn readme_rows(readme: &str, problems: &mut Vec<String>) -> Vec<ReadmeRow> {
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap_or_default();
    let code = |cell: &str| cell.split('`').nth(1).map(str::to_owned);
    let mut rows = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split(" | ")
            .map(str::trim)
            .collect();
        let [name, used_by, default, meaning] = cells[..] else {
            problems.push(format!("README row with other than 4 cells: {line}"));
            continue;
        };
        rows.push(ReadmeRow {
            name: code(name).unwrap_or_default(),
            used_by: used_by.to_owned(),
            default: code(default),
            meaning: meaning.to_owned(),
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    const PORT: EnvVar = EnvVar {
        name: "PORT",
        used_by: "edge",
        default: Some("8080"),
        meaning: "a port",
    };
    const KEY: EnvVar = EnvVar {
        name: "KEY",
        used_by: "edge",
        default: None,
        meaning: "a key",
    };

    fn with<T>(pairs: &[(&str, &str)], read: impl FnOnce(&Env<'_>) -> T) -> T {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        let lookup = |name: &str| map.get(name).map(OsString::from);
        read(&Env::new(&lookup))
    }

    #[test]
    fn an_unset_variable_takes_its_default_and_one_without_is_not_set() {
        assert_eq!(
            with(&[], |env| env.text(&PORT)).unwrap().as_deref(),
            Some("8080")
        );
        assert_eq!(with(&[], |env| env.text(&KEY)).unwrap(), None);
        let e = with(&[], |env| env.required(&KEY)).unwrap_err();
        assert_eq!(e.to_string(), "environment variable KEY: is not set");
    }

    #[test]
    fn a_set_but_empty_variable_is_an_error_not_the_default() {
        let e = with(&[("PORT", "  ")], |env| env.text(&PORT)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment variable PORT: is set but empty (unset it to use the default)"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_value_that_is_not_utf8_is_an_error() {
        use std::os::unix::ffi::OsStringExt;
        let lookup = |_: &str| Some(OsString::from_vec(vec![0xff]));
        let e = Env::new(&lookup).text(&PORT).unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment variable PORT: is not valid UTF-8"
        );
    }

    #[test]
    fn positive_numbers_are_trimmed_and_checked() {
        assert_eq!(
            with(&[("PORT", " 7 ")], |env| env.positive::<u32>(&PORT)).unwrap(),
            7
        );
        for (value, reason) in [
            ("0", "must be a whole number of at least 1, not 0"),
            ("-1", "must be a whole number of at least 1, not \"-1\""),
            ("4294967296", "4294967296 is too large"),
        ] {
            let e = with(&[("PORT", value)], |env| env.positive::<u32>(&PORT)).unwrap_err();
            assert_eq!(e.reason, reason, "{value}");
        }
    }

    const PASSWORD: &str = "hunter2-s3cret";

    #[test]
    fn secret_urls_check_the_scheme_without_showing_the_value() {
        let good = format!("postgres://app:{PASSWORD}@db/psa");
        let url = with(&[("KEY", &good)], |env| {
            env.secret_url(&KEY, schemes::POSTGRES)
        });
        assert_eq!(url.unwrap().expose_secret(), good);
        let bad = format!("mysql://app:{PASSWORD}@db/psa");
        let e = with(&[("KEY", &bad)], |env| {
            env.secret_url(&KEY, schemes::POSTGRES)
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment variable KEY: must be a URL starting with postgres:// or postgresql:// \
             (value not shown: it may hold a password)"
        );
        assert!(!format!("{e:?}").contains(PASSWORD));
    }

    #[test]
    fn temporal_addresses_are_host_port_or_http_urls() {
        for good in [
            "127.0.0.1:7233",
            "temporal:7233",
            "https://temporal.example:7233",
        ] {
            let read = with(&[("KEY", good)], |env| env.temporal_address(&KEY));
            assert_eq!(read.unwrap(), good);
        }
        for bad in [
            "temporal",
            "temporal:port",
            ":7233",
            "grpc://temporal:7233",
            "http://",
        ] {
            let e = with(&[("KEY", bad)], |env| env.temporal_address(&KEY)).unwrap_err();
            assert_eq!(
                e.reason,
                format!("must be host:port or an http(s):// URL, not {bad:?}")
            );
        }
    }

    #[test]
    fn a_list_must_name_exactly_the_variables_read_once_each() {
        let read_port_and_key = |lookup: Lookup<'_>| {
            let env = Env::new(lookup);
            let _ = (env.text(&PORT), env.text(&KEY));
        };
        assert!(vars_listing_problems(&[PORT, KEY], read_port_and_key).is_empty());
        assert_eq!(
            vars_listing_problems(&[PORT, PORT], read_port_and_key),
            ["KEY is read but not listed", "a variable is listed twice"]
        );
        assert_eq!(
            vars_listing_problems(&[PORT, KEY], |lookup| {
                let _ = Env::new(lookup).text(&PORT);
            }),
            ["KEY is listed but not read"]
        );
    }

    const README: &str = "# X\n\n## Configuration\n\n| variable | used by | default | meaning |\n\
        | --- | --- | --- | --- |\n\
        | `PORT` | edge | `8080` (the usual) | a port |\n\
        | `KEY` | edge | — | a key |\n\
        | `SMTP_URL` | worker | `smtp://x` | mail |\n\n## Next\n\n| `NOT` | in | the | table |\n";

    #[test]
    fn a_readme_table_that_matches_has_no_problems() {
        assert_eq!(
            readme_table_problems(README, "edge", &[PORT, KEY]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn readme_table_disagreements_are_each_named() {
        let other = EnvVar {
            default: Some("9090"),
            ..PORT
        };
        assert_eq!(
            readme_table_problems(README, "edge", &[other]),
            [
                "PORT: default Some(\"8080\") in README, Some(\"9090\") in code",
                "README documents KEY for the edge, which does not read it",
            ]
        );
        let extra = EnvVar {
            name: "EXTRA",
            ..KEY
        };
        assert_eq!(
            readme_table_problems(README, "edge", &[PORT, KEY, extra]),
            ["README has no edge row for EXTRA"]
        );
        assert_eq!(
            readme_table_problems("no table", "edge", &[]),
            ["no configuration table in README.md"]
        );
        let broken = README.replace("| a key |", "| a | key |");
        assert_eq!(
            readme_table_problems(&broken, "edge", &[PORT]),
            ["README row with other than 4 cells: | `KEY` | edge | — | a | key |"]
        );
    }
}
