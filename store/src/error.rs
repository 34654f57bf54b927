//! Why a store operation did not happen, in terms a caller can act on. The edge maps each
//! variant once to an HTTP status and a gRPC code; the worker's activities decide from it
//! whether a retry can help.

use psa_domain::validation::{FieldError, NUL_MESSAGE, ValidationErrors};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The caller's role or key may not do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    /// The request is malformed as a whole or in one named part (a bad cursor, a key too long).
    #[error("{detail}")]
    BadRequest {
        detail: String,
        field: Option<String>,
    },
    /// Well-formed but invalid field values.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// A request that cannot be answered as asked, field by field (a 400, where a stored
    /// record's rules would be a 422).
    #[error("{0}")]
    Malformed(ValidationErrors),
    /// A record with the same unique value exists.
    #[error("{detail}")]
    Conflict {
        detail: String,
        field: Option<String>,
    },
    /// A schedule write would put an assignee in two places at once; the overlapping
    /// occurrences, listed.
    #[error("the entry overlaps other appointments of its assignees")]
    Overlaps(serde_json::Value),
    /// The record cannot change while others depend on it.
    #[error("{0}")]
    InUse(String),
    /// The record's state does not allow this now (approving a timesheet nobody submitted).
    #[error("{0}")]
    WrongState(String),
    /// Too much bounded work is in progress; nothing was done.
    #[error("{0}; retry later")]
    Busy(&'static str),
    /// The database cannot be reached or is restarting; the same call later will work.
    #[error("a dependency is unavailable: {0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl StoreError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        StoreError::Invalid(ValidationErrors(vec![FieldError::new(field, message)]))
    }

    pub fn bad_request(detail: impl Into<String>, field: Option<&str>) -> Self {
        StoreError::BadRequest {
            detail: detail.into(),
            field: field.map(str::to_owned),
        }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        StoreError::Internal(e.into())
    }

    /// Whether the same call may succeed later without any change to its input.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Busy(_) | StoreError::Unavailable(_))
    }
}

impl From<ValidationErrors> for StoreError {
    fn from(v: ValidationErrors) -> Self {
        StoreError::Invalid(v)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // The database cannot be reached or is restarting: nothing is wrong with the request,
        // and the same request later will work.
        let unreachable = match &e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            // admin_shutdown, crash_shutdown, cannot_connect_now; connection_exception class.
            sqlx::Error::Database(db) => db.code().is_some_and(|c| {
                matches!(c.as_ref(), "57P01" | "57P02" | "57P03") || c.starts_with("08")
            }),
            _ => false,
        };
        if unreachable {
            tracing::warn!(error = %e, "database unavailable");
            return StoreError::Unavailable("the database".into());
        }
        if let sqlx::Error::Database(db) = &e {
            let field = db.constraint().and_then(crate::constraints::field_of);
            match db.code().as_deref() {
                // foreign_key_violation: a referenced row does not exist in the caller's tenant.
                Some("23503") => {
                    return StoreError::invalid(
                        field.unwrap_or("id"),
                        "does not refer to an existing record",
                    );
                }
                // unique_violation
                Some("23505") => {
                    return StoreError::Conflict {
                        detail: "a record with this value already exists".into(),
                        field: field.map(str::to_owned),
                    };
                }
                // check_violation
                Some("23514") => {
                    return StoreError::invalid(
                        field.unwrap_or("body"),
                        "violates a rule of this record",
                    );
                }
                // character_not_in_repertoire, untranslatable_character: text with U+0000 that
                // validation did not see. The shared checks refuse it first; this is the net.
                Some("22021" | "22P05") => {
                    return StoreError::bad_request(format!("text {NUL_MESSAGE}"), Some("body"));
                }
                // numeric_value_out_of_range, datetime_field_overflow: a value past what the
                // column holds.
                Some("22003" | "22008") => {
                    return StoreError::invalid("body", "a value is out of range");
                }
                _ => {}
            }
        }
        StoreError::Internal(e.into())
    }
}
