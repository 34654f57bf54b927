//! SLA questions that need no ticket: the what-if preview, and reading a stored schedule in
//! the shape the domain calendar takes.

pub mod clock;
pub mod compliance;
pub mod policies;
pub mod retime;
pub mod schedules;

use crate::compute;
use crate::error::StoreError;
use crate::principal::Principal;
use crate::tenant;
use psa_domain::auth::Permission;
use psa_domain::calendar::ScheduleSpec;
use psa_domain::sla::{PreviewRequest, PreviewResponse};
use psa_domain::validation::ValidationErrors;
use sqlx::PgConnection;
use uuid::Uuid;

/// A stored schedule with its windows, its own holidays and the tenant's global ones (SQL
/// function `sla_schedule_spec`); `None` when the caller's tenant has no such schedule.
pub async fn load_schedule(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ScheduleSpec>, StoreError> {
    let spec = sqlx::query_scalar!(r#"SELECT sla_schedule_spec($1) AS "spec?""#, id)
        .fetch_one(&mut *conn)
        .await?;
    spec.map(serde_json::from_value)
        .transpose()
        .map_err(StoreError::internal)
}

fn malformed(field: &str, message: &str) -> StoreError {
    let mut e = ValidationErrors::default();
    e.push(field, message);
    StoreError::Malformed(e)
}

pub async fn preview(
    pool: &sqlx::PgPool,
    p: &Principal,
    request: &PreviewRequest,
) -> Result<PreviewResponse, StoreError> {
    p.require(Permission::ReadSla)?;
    let schedule = match (&request.schedule, request.schedule_id) {
        (Some(s), None) => s.clone(),
        (None, Some(id)) => {
            let mut tx = tenant::begin(pool, p).await?;
            let s = load_schedule(&mut tx, id).await?;
            tx.commit().await?;
            s.ok_or_else(|| malformed("schedule_id", "no schedule with this ID"))?
        }
        (Some(_), Some(_)) => {
            return Err(malformed(
                "schedule",
                "give either `schedule` or `schedule_id`, not both",
            ));
        }
        (None, None) => {
            return Err(malformed(
                "schedule",
                "missing: give `schedule` or `schedule_id`",
            ));
        }
    };
    let request = request.clone();
    compute::bounded("the preview", move || {
        psa_domain::sla::preview(&request, &schedule)
    })
    .await?
    .map_err(StoreError::Malformed)
}

/// One line of a ticket's SLA audit log.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AuditStep {
    pub step_key: String,
    pub event: String,
    pub detail: serde_json::Value,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// The ticket's SLA view as its clock last recorded it (`None` before the clock wrote any),
/// for callers that may see the ticket (tenant, and a client key's own client; else
/// `NotFound`).
pub async fn recorded_view(
    pool: &sqlx::PgPool,
    p: &Principal,
    id: Uuid,
) -> Result<Option<serde_json::Value>, StoreError> {
    p.require(Permission::ReadSla)?;
    let mut tx = tenant::begin(pool, p).await?;
    crate::tickets::load(&mut tx, p, id, false).await?;
    // `detail ? 'view'` holds, so the value is present (JSON `null` at most, never SQL NULL).
    let recorded = sqlx::query_scalar!(
        r#"SELECT detail->'view' AS "view!" FROM sla_audit_log
            WHERE ticket_id = $1 AND detail ? 'view'
            ORDER BY occurred_at DESC, recorded_at DESC LIMIT 1"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(recorded)
}

pub async fn ticket_audit(
    pool: &sqlx::PgPool,
    p: &Principal,
    id: Uuid,
) -> Result<Vec<AuditStep>, StoreError> {
    p.require(Permission::ReadSla)?;
    let mut tx = tenant::begin(pool, p).await?;
    crate::tickets::load(&mut tx, p, id, false).await?;
    let steps = sqlx::query_as!(
        AuditStep,
        "SELECT step_key, event, detail, occurred_at, recorded_at FROM sla_audit_log
          WHERE ticket_id = $1 ORDER BY occurred_at, recorded_at",
        id
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(steps)
}

/// Tells every open ticket's SLA clock to read its policy again, after a change to SLA
/// settings, schedules, holidays, policies or their assignment: records, in the caller's
/// transaction, a re-time job that `crate::sla::retime` runs after commit, a page of tickets at a
/// time, so the request costs one row however many tickets are open.
pub(crate) async fn resignal_open_tickets(
    conn: &mut PgConnection,
    p: &Principal,
) -> Result<(), StoreError> {
    crate::sla::retime::request(conn, p).await
}

/// Runs one change to SLA configuration: requires `ManageSla`, then reports the request's
/// field errors (`checked`, the caller's validation: after authorising, so a caller who may
/// not change SLA learns nothing from them), runs `change` in a tenant transaction, re-times
/// the open tickets in the same transaction, commits.
pub(crate) async fn configure<T>(
    pool: &sqlx::PgPool,
    p: &Principal,
    checked: Result<(), ValidationErrors>,
    change: impl AsyncFnOnce(&mut PgConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    p.require(Permission::ManageSla)?;
    crate::check(checked)?;
    let mut tx = tenant::begin(pool, p).await?;
    let out = change(&mut tx).await?;
    resignal_open_tickets(&mut tx, p).await?;
    tx.commit().await?;
    Ok(out)
}

/// Reads, with `ReadSla`, what `read` makes of each ID `ids` lists, in one transaction. The
/// caller's `ids` runs its own (compile-checked) query, so no SQL text passes through here.
pub(crate) async fn read_each<T>(
    pool: &sqlx::PgPool,
    p: &Principal,
    ids: impl AsyncFnOnce(&mut PgConnection) -> Result<Vec<Uuid>, sqlx::Error>,
    read: impl AsyncFn(&mut PgConnection, Uuid) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    p.require(Permission::ReadSla)?;
    let mut tx = tenant::begin(pool, p).await?;
    let ids = ids(&mut tx).await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(read(&mut tx, id).await?);
    }
    tx.commit().await?;
    Ok(out)
}

/// 404 unless a `DELETE … WHERE id = $1` deleted a row.
pub(crate) fn deleted_one(result: sqlx::postgres::PgQueryResult) -> Result<(), StoreError> {
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Reads one record with `read`, with `ReadSla`.
pub(crate) async fn read_one<T>(
    pool: &sqlx::PgPool,
    p: &Principal,
    id: Uuid,
    read: impl AsyncFnOnce(&mut PgConnection, Uuid) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    p.require(Permission::ReadSla)?;
    let mut tx = tenant::begin(pool, p).await?;
    let out = read(&mut tx, id).await?;
    tx.commit().await?;
    Ok(out)
}
