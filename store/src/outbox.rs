//! The outbox: events (and the Temporal command each calls for) written in the same
//! transaction as the change that caused them, and the relay's side of delivering them.
//!
//! [`enqueue`] is the one way any code records an event: the edge's operations as the caller,
//! workflow activities and background jobs as the system ([`enqueue_envelope`]). Delivery
//! (claim under a lease, record each step, verify the stream kept it) runs through the
//! `SECURITY DEFINER` functions of the outbox migrations, across tenants.

use crate::error::StoreError;
use crate::principal::Principal;
use chrono::Utc;
use psa_domain::commands::WorkflowCommand;
use psa_domain::events::{Envelope, Event};
use psa_domain::ids::new_id;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Records `event`, done by `principal` now, for delivery after commit: to `psa:events`, and
/// to the workflow it routes to.
pub async fn enqueue(
    conn: &mut PgConnection,
    principal: &Principal,
    event: Event,
) -> Result<Envelope, StoreError> {
    let envelope = Envelope {
        event_id: new_id(),
        tenant_id: principal.tenant_id,
        occurred_at: Utc::now(),
        actor: principal.actor(),
        event,
    };
    enqueue_envelope(conn, &envelope).await?;
    Ok(envelope)
}

/// Records a complete envelope (an event the system raises, with its own instant and actor)
/// and the workflow command it calls for.
pub async fn enqueue_envelope(
    conn: &mut PgConnection,
    envelope: &Envelope,
) -> Result<(), StoreError> {
    // An invalid event here is a bug in the code that built it: refuse it rather than
    // publish something every consumer would dead-letter.
    envelope.validate().map_err(StoreError::internal)?;
    let command = WorkflowCommand::for_event(envelope)
        .map(serde_json::to_value)
        .transpose()
        .map_err(StoreError::internal)?;
    sqlx::query!(
        "INSERT INTO outbox (tenant_id, event_id, event_type, envelope, workflow_command)
         VALUES ($1, $2, $3, $4, $5)",
        envelope.tenant_id,
        envelope.event_id,
        envelope.event_type(),
        serde_json::to_value(envelope).map_err(StoreError::internal)?,
        command,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An outbox row claimed for delivery.
#[derive(Debug)]
pub struct Claimed {
    pub tenant_id: Uuid,
    pub id: i64,
    pub event_id: Uuid,
    pub envelope: serde_json::Value,
    pub workflow_command: Option<serde_json::Value>,
    pub published: bool,
    pub signalled: bool,
    pub attempts: i32,
}

/// Claims up to `limit` rows due for delivery, leased for `lease_seconds`, skipping rows
/// another relay holds.
pub async fn claim(
    pool: &PgPool,
    limit: i32,
    lease_seconds: i32,
) -> Result<Vec<Claimed>, sqlx::Error> {
    sqlx::query_as!(
        Claimed,
        r#"SELECT tenant_id AS "tenant_id!", id AS "id!", event_id AS "event_id!",
                  envelope AS "envelope!", workflow_command,
                  published AS "published!", signalled AS "signalled!", attempts AS "attempts!"
             FROM outbox_claim($1, $2)"#,
        limit,
        lease_seconds,
    )
    .fetch_all(pool)
    .await
}

/// What one delivery attempt of a claimed row achieved.
#[derive(Debug)]
pub struct Attempt {
    pub published: bool,
    pub signalled: bool,
    /// Why the attempt did not finish, when it did not.
    pub error: Option<String>,
    /// Seconds until the next attempt, when one is needed.
    pub retry_seconds: Option<i32>,
    /// The stream entry the event was appended as, when this attempt published it.
    pub stream_entry_id: Option<String>,
}

/// Records an attempt on a claimed row (and releases its lease).
pub async fn record(pool: &PgPool, row: &Claimed, a: &Attempt) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT outbox_record($1, $2, $3, $4, $5, $6, $7)",
        row.tenant_id,
        row.id,
        a.published,
        a.signalled,
        a.error,
        a.retry_seconds,
        a.stream_entry_id,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// How many rows wait for delivery, and the age in seconds of the oldest.
pub async fn lag(pool: &PgPool) -> Result<(i64, f64), sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT pending AS "pending!", oldest_seconds AS "oldest_seconds!" FROM outbox_lag()"#
    )
    .fetch_one(pool)
    .await?;
    Ok((row.pending, row.oldest_seconds))
}

/// A published row whose stream entry has not been confirmed yet.
#[derive(Debug)]
pub struct Unverified {
    pub tenant_id: Uuid,
    pub id: i64,
    pub stream_entry_id: Option<String>,
}

/// Up to `limit` rows published at least `min_age_seconds` ago and not yet confirmed.
pub async fn unverified(
    pool: &PgPool,
    limit: i32,
    min_age_seconds: i32,
) -> Result<Vec<Unverified>, sqlx::Error> {
    sqlx::query_as!(
        Unverified,
        r#"SELECT tenant_id AS "tenant_id!", id AS "id!", stream_entry_id
             FROM outbox_unverified($1, $2)"#,
        limit,
        min_age_seconds,
    )
    .fetch_all(pool)
    .await
}

/// Confirms a row's stream entry, or (when `present` is false) sends it back for publishing.
pub async fn verify(pool: &PgPool, row: &Unverified, present: bool) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT outbox_verify($1, $2, $3)",
        row.tenant_id,
        row.id,
        present
    )
    .execute(pool)
    .await?;
    Ok(())
}
