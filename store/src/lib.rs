//! Every domain operation on Postgres, once, for whichever process needs it: the edge's HTTP
//! and gRPC handlers and the worker's activities call the same functions.
//!
//! Each operation authorises its caller (one [`Principal::require`]), validates with the
//! `domain` rules, runs its SQL in a tenant transaction ([`tenant::begin`]) and enqueues its
//! event and Temporal command in the same transaction ([`outbox::enqueue`]). Failures are a
//! [`StoreError`], which the edge maps once to HTTP and gRPC answers.
//!
//! Features have the same names here as in `domain/` and `edge/`: `tickets`, `reference`,
//! `clients`, `notifications`, `sla`.

pub mod automations;
pub mod billing;
pub mod clients;
pub mod compute;
pub mod constraints;
pub mod error;
pub mod idempotency;
pub mod migrate;
pub mod notifications;
mod nullable;
pub mod outbox;
mod outbox_wake;
pub mod pagination;
pub mod principal;
pub mod reference;
pub(crate) mod rows;
pub mod scheduling;
pub mod seed;
pub mod sla;
pub mod tenant;
pub mod tickets;

pub use error::StoreError;
pub use principal::Principal;
pub use sqlx::{Error as DbError, PgPool};

use psa_domain::validation::ValidationErrors;

/// Turns domain validation into the store's error.
pub(crate) fn check(result: Result<(), ValidationErrors>) -> Result<(), StoreError> {
    result.map_err(StoreError::Invalid)
}

/// Whether Postgres answers at all (readiness probes).
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT 1 AS one").fetch_one(pool).await?;
    Ok(())
}

/// A connection idle for longer than this is checked (a round trip) before it is handed out.
const CHECK_IDLE_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// A pool of connections to `url` for the application role: at most `max_connections`, and
/// a request that waits longer than `acquire_timeout` for one fails (as unavailable) instead
/// of queueing without end.
///
/// Only connections that sat idle are checked before use: one in steady use has just
/// answered, and checking each would add a round trip to every transaction. A connection
/// that broke while busy fails its one query (a transient error: retried by activities,
/// 503 at the edge) and is dropped.
pub async fn connect(
    url: &str,
    max_connections: u32,
    acquire_timeout: std::time::Duration,
) -> Result<PgPool, DbError> {
    use sqlx::Connection;
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > CHECK_IDLE_AFTER {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect(url)
        .await
}
