//! The outbox: events (and the Temporal command each calls for) written in the same
//! transaction as the change that caused them, and the relay's side of delivering them.
//!
//! [`enqueue`] is the one way any code records an event: the edge's operations as the caller,
//! workflow activities and background jobs as the system ([`enqueue_envelope`]). Delivery
//! (claim under a lease, record each step, verify the stream kept it) runs through the
//! `SECURITY DEFINER` functions of the outbox migrations, across tenants.

use crate::error::StoreError;
use crate::principal::Principal;
use crate::tenant::Tx;
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
    let row = OutboxRow::of(envelope)?;
    sqlx::query!(
        "INSERT INTO outbox (tenant_id, event_id, event_type, envelope, workflow_command, workflow_id)
         VALUES ($1, $2, $3, $4, $5, $6)",
        envelope.tenant_id,
        envelope.event_id,
        envelope.event_type(),
        row.envelope,
        row.command,
        row.workflow_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What an outbox row holds of an envelope beyond its ids and type.
struct OutboxRow {
    envelope: serde_json::Value,
    command: Option<serde_json::Value>,
    workflow_id: Option<String>,
}

impl OutboxRow {
    /// The envelope, checked, and the workflow command it calls for.
    fn of(envelope: &Envelope) -> Result<Self, StoreError> {
        // An invalid event here is a bug in the code that built it: refuse it rather than
        // publish something every consumer would dead-letter.
        envelope.validate().map_err(StoreError::internal)?;
        let command = WorkflowCommand::for_event(envelope);
        let workflow_id = command.as_ref().map(|c| c.workflow_id().to_owned());
        Ok(Self {
            envelope: serde_json::to_value(envelope).map_err(StoreError::internal)?,
            command: command
                .map(serde_json::to_value)
                .transpose()
                .map_err(StoreError::internal)?,
            workflow_id,
        })
    }
}

/// Records many complete envelopes at once, as [`enqueue_envelope`] does one: for writers that
/// raise an event per row of a batch (an invoice run's invoices).
pub async fn enqueue_many(
    conn: &mut PgConnection,
    envelopes: &[Envelope],
) -> Result<(), StoreError> {
    if envelopes.is_empty() {
        return Ok(());
    }
    let n = envelopes.len();
    let (mut tenants, mut ids, mut types) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut bodies, mut commands, mut workflows) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for envelope in envelopes {
        let row = OutboxRow::of(envelope)?;
        tenants.push(envelope.tenant_id);
        ids.push(envelope.event_id);
        types.push(envelope.event_type().to_owned());
        bodies.push(row.envelope);
        commands.push(row.command);
        workflows.push(row.workflow_id);
    }
    sqlx::query!(
        "INSERT INTO outbox (tenant_id, event_id, event_type, envelope, workflow_command, workflow_id)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::jsonb[], $6::text[])",
        &tenants,
        &ids,
        &types,
        &bodies,
        &commands as &[Option<serde_json::Value>],
        &workflows as &[Option<String>],
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
    /// The workflow the command is for; rows of one workflow are delivered in `id` order.
    pub workflow_id: Option<String>,
    pub published: bool,
    pub signalled: bool,
    pub attempts: i32,
}

/// Claims up to `limit` rows due for delivery, leased for `lease_seconds`, in `id` order,
/// skipping rows another relay holds and rows whose workflow has an earlier command not yet
/// delivered outside this batch (so one workflow's commands never overtake each other).
pub async fn claim(
    pool: &PgPool,
    limit: i32,
    lease_seconds: i32,
) -> Result<Vec<Claimed>, sqlx::Error> {
    sqlx::query_as!(
        Claimed,
        r#"SELECT tenant_id AS "tenant_id!", id AS "id!", event_id AS "event_id!",
                  envelope AS "envelope!", workflow_command, workflow_id,
                  published AS "published!", signalled AS "signalled!", attempts AS "attempts!"
             FROM outbox_claim($1, $2)"#,
        limit,
        lease_seconds,
    )
    .fetch_all(pool)
    .await
    .map(|mut rows| {
        // `UPDATE … RETURNING` promises no order.
        rows.sort_by_key(|r: &Claimed| r.id);
        rows
    })
}

/// What one delivery attempt of a claimed row achieved.
#[derive(Debug, Default)]
pub struct Attempt {
    /// False for a row left alone because an earlier command of its workflow failed: it is
    /// released with its attempt given back.
    pub attempted: bool,
    pub published: bool,
    pub signalled: bool,
    /// Why the attempt did not finish, when it did not.
    pub error: Option<String>,
    /// Seconds until the next attempt, when one is needed.
    pub retry_seconds: Option<i32>,
    /// The stream entry the event was appended as, when this attempt published it.
    pub stream_entry_id: Option<String>,
}

/// Records the attempts on a batch of claimed rows in one statement (and releases their
/// leases). `outcomes` pairs each row with what its attempt achieved.
pub async fn record(pool: &PgPool, outcomes: &[(&Claimed, Attempt)]) -> Result<(), sqlx::Error> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let mut tenants = Vec::with_capacity(outcomes.len());
    let mut ids = Vec::with_capacity(outcomes.len());
    let mut attempted = Vec::with_capacity(outcomes.len());
    let mut published = Vec::with_capacity(outcomes.len());
    let mut signalled = Vec::with_capacity(outcomes.len());
    let mut errors = Vec::with_capacity(outcomes.len());
    let mut retries = Vec::with_capacity(outcomes.len());
    let mut entries = Vec::with_capacity(outcomes.len());
    for (row, a) in outcomes {
        tenants.push(row.tenant_id);
        ids.push(row.id);
        attempted.push(a.attempted);
        published.push(a.published);
        signalled.push(a.signalled);
        errors.push(a.error.clone());
        retries.push(a.retry_seconds);
        entries.push(a.stream_entry_id.clone());
    }
    sqlx::query!(
        "SELECT outbox_record_batch($1, $2, $3, $4, $5, $6, $7, $8)",
        &tenants,
        &ids,
        &attempted,
        &published,
        &signalled,
        &errors as &[Option<String>],
        &retries as &[Option<i32>],
        &entries as &[Option<String>],
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

/// Confirms a batch of rows' stream entries, or (where `present` is false) sends the row
/// back for publishing, in one statement.
pub async fn verify(pool: &PgPool, checked: &[(&Unverified, bool)]) -> Result<(), sqlx::Error> {
    if checked.is_empty() {
        return Ok(());
    }
    let tenants: Vec<Uuid> = checked.iter().map(|(r, _)| r.tenant_id).collect();
    let ids: Vec<i64> = checked.iter().map(|(r, _)| r.id).collect();
    let present: Vec<bool> = checked.iter().map(|(_, p)| *p).collect();
    sqlx::query!(
        "SELECT outbox_verify_batch($1, $2, $3)",
        &tenants,
        &ids,
        &present
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The channel relays `LISTEN` on for new outbox rows (`outbox_wake()` notifies it).
pub const WAKE_CHANNEL: &str = "psa_outbox";

/// Commits a transaction that enqueued events and wakes the relays for them.
pub async fn commit(tx: Tx, pool: &PgPool) -> Result<(), sqlx::Error> {
    tx.commit().await?;
    wake(pool);
    Ok(())
}

/// Tells every relay that rows were committed, soon after this call (without waiting for it):
/// a `NOTIFY` sent after the commit, in a transaction of its own with asynchronous commit.
/// A `NOTIFY` inside the writing transaction would hold a database-wide lock through that
/// commit's WAL flush and serialise all writers, and a lost wake-up costs only the relays'
/// next poll. Wake-ups asked for while one is being sent are folded into one more
/// ([`crate::outbox_wake`]).
pub fn wake(pool: &PgPool) {
    crate::outbox_wake::request(pool);
}

/// A relay's subscription to [`WAKE_CHANNEL`].
pub struct WakeUps(sqlx::postgres::PgListener);

impl WakeUps {
    /// Opens a connection of its own from `pool`'s settings and listens on it.
    pub async fn listen(pool: &PgPool) -> Result<Self, sqlx::Error> {
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(WAKE_CHANNEL).await?;
        Ok(Self(listener))
    }

    /// Waits until rows may have been committed: a notification came, or the connection was
    /// lost and re-opened (notifications sent meanwhile are gone, so the caller should look).
    pub async fn wait(&mut self) -> Result<(), sqlx::Error> {
        self.0.try_recv().await.map(|_| ())
    }
}
