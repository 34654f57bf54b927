//! SLA questions that need no ticket: the what-if preview, and reading a stored schedule in
//! the shape the domain calendar takes.

use crate::auth::Principal;
use crate::compute;
use crate::db;
use crate::error::ApiError;
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
) -> Result<Option<ScheduleSpec>, ApiError> {
    let spec: Option<serde_json::Value> = sqlx::query_scalar("SELECT sla_schedule_spec($1)")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    spec.map(serde_json::from_value)
        .transpose()
        .map_err(ApiError::internal)
}

fn malformed(field: &str, message: &str) -> ApiError {
    let mut e = ValidationErrors::default();
    e.push(field, message);
    ApiError::Malformed(e)
}

pub async fn preview(
    pool: &sqlx::PgPool,
    p: &Principal,
    request: &PreviewRequest,
) -> Result<PreviewResponse, ApiError> {
    p.require(Permission::ReadSla)?;
    let schedule = match (&request.schedule, request.schedule_id) {
        (Some(s), None) => s.clone(),
        (None, Some(id)) => {
            let mut tx = db::begin(pool, p).await?;
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
    .map_err(ApiError::Malformed)
}

/// A ticket's SLA as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TicketSla {
    pub ticket_id: Uuid,
    /// `workflow` (live, from the running clock), `record` (the last step written, once the
    /// run has ended) or `pending` (the clock has not started yet).
    pub source: &'static str,
    /// How the ticket's clock itself is: `running`; `configuration_error` (running on its last
    /// good configuration, or waiting for one, until the configuration can be read; see
    /// `configuration_error`); `finished` (ticket closed and reopen window over); `failed`,
    /// `terminated`, `timed_out` or `canceled` (the run ended without finishing: the figures
    /// are the last recorded, and the ticket's next event re-creates the clock); `none` (not
    /// started yet); `unknown` (the workflow service cannot be asked now).
    pub clock: &'static str,
    /// Why the clock cannot use the SLA configuration in force, while it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration_error: Option<String>,
    /// Computed at the time of the request when live.
    #[serde(flatten)]
    pub sla: Option<psa_domain::sla::SlaView>,
}

/// One line of a ticket's SLA audit log.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditStep {
    pub step_key: String,
    pub event: String,
    pub detail: serde_json::Value,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

pub async fn ticket_sla(
    state: &crate::state::AppState,
    p: &Principal,
    id: Uuid,
) -> Result<TicketSla, ApiError> {
    use psa_workflows::ticket_sla::SlaTicketWorkflow;
    use temporalio_client::errors::WorkflowInteractionError;
    use temporalio_client::{WorkflowDescribeOptions, WorkflowQueryOptions};
    p.require(Permission::ReadSla)?;
    let mut tx = db::begin(&state.pool, p).await?;
    // 404 unless the caller may see the ticket (tenant, and a client key's own client).
    super::tickets::load(&mut tx, p, id, false).await?;
    let recorded: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT detail->'view' FROM sla_audit_log WHERE ticket_id = $1 AND detail ? 'view'
          ORDER BY occurred_at DESC, recorded_at DESC LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;

    // The live clock answers when it can, quickly; a worker or Temporal that is down or slow
    // must not hold the request: the recorded figures answer instead (clock `unknown`).
    let Ok(Ok(client)) = tokio::time::timeout(LIVE_CLOCK_TIMEOUT, state.temporal()).await else {
        return from_record(id, recorded, "unknown", None);
    };
    let handle = client.get_workflow_handle::<SlaTicketWorkflow>(
        psa_domain::ids::sla_workflow_id(p.tenant_id, id).as_str(),
    );
    let described = tokio::time::timeout(
        LIVE_CLOCK_TIMEOUT,
        handle.describe(WorkflowDescribeOptions::default()),
    )
    .await;
    let mut clock = match described {
        Err(_) => "unknown",
        Ok(Ok(d)) => psa_workflows::commands::clock_state(d.status()),
        Ok(Err(WorkflowInteractionError::NotFound(_))) => "none",
        Ok(Err(_)) => "unknown",
    };
    let mut configuration_error = None;
    if clock == "running" {
        // A query needs a worker: with none polling it would wait for the server's deadline.
        let queried = tokio::time::timeout(
            LIVE_CLOCK_TIMEOUT,
            handle.query(
                SlaTicketWorkflow::query_status,
                (),
                WorkflowQueryOptions::default(),
            ),
        )
        .await;
        let Ok(Ok(status)) = queried else {
            return from_record(id, recorded, clock, None);
        };
        if status.configuration_error.is_some() {
            clock = "configuration_error";
            configuration_error = status.configuration_error;
        }
        // The clock's own schedule was usable when it took it; should it not be now, the
        // last recorded figures answer.
        if let Some(tracker) = status.tracker
            && let Ok(cal) = tracker.calendar()
        {
            return Ok(TicketSla {
                ticket_id: id,
                source: "workflow",
                clock,
                configuration_error,
                sla: Some(tracker.view(&cal, chrono::Utc::now())),
            });
        }
    }
    from_record(id, recorded, clock, configuration_error)
}

/// Longest the SLA view waits on Temporal (connect, describe, query) before it answers from
/// the record.
const LIVE_CLOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The ticket's SLA as last recorded (`pending` before the clock wrote anything).
fn from_record(
    id: Uuid,
    recorded: Option<serde_json::Value>,
    clock: &'static str,
    configuration_error: Option<String>,
) -> Result<TicketSla, ApiError> {
    Ok(match recorded {
        Some(v) => TicketSla {
            ticket_id: id,
            source: "record",
            clock,
            configuration_error,
            sla: Some(serde_json::from_value(v).map_err(ApiError::internal)?),
        },
        None => TicketSla {
            ticket_id: id,
            source: "pending",
            clock,
            configuration_error,
            sla: None,
        },
    })
}

pub async fn ticket_audit(
    pool: &sqlx::PgPool,
    p: &Principal,
    id: Uuid,
) -> Result<Vec<AuditStep>, ApiError> {
    p.require(Permission::ReadSla)?;
    let mut tx = db::begin(pool, p).await?;
    super::tickets::load(&mut tx, p, id, false).await?;
    let steps = sqlx::query_as(
        "SELECT step_key, event, detail, occurred_at, recorded_at FROM sla_audit_log
          WHERE ticket_id = $1 ORDER BY occurred_at, recorded_at",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(steps)
}

/// Tells every open ticket's SLA clock to read its policy again, after a change to SLA
/// settings, schedules, holidays, policies or their assignment: records, in the caller's
/// transaction, a re-time job that `crate::sla_retime` runs after commit, a page of tickets at a
/// time, so the request costs one row however many tickets are open.
pub(crate) async fn resignal_open_tickets(
    conn: &mut PgConnection,
    p: &Principal,
) -> Result<(), ApiError> {
    crate::sla_retime::request(conn, p).await
}

/// Runs one change to SLA configuration: requires `ManageSla`, runs `change` in a tenant
/// transaction, re-times the open tickets in the same transaction, commits.
pub(crate) async fn configure<T>(
    pool: &sqlx::PgPool,
    p: &Principal,
    change: impl AsyncFnOnce(&mut PgConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    p.require(Permission::ManageSla)?;
    let mut tx = db::begin(pool, p).await?;
    let out = change(&mut tx).await?;
    resignal_open_tickets(&mut tx, p).await?;
    tx.commit().await?;
    Ok(out)
}

/// Reads, with `ReadSla`, what `read` makes of each ID `ids_sql` selects (or of `id` alone).
pub(crate) async fn read_each<T>(
    pool: &sqlx::PgPool,
    p: &Principal,
    ids_sql: &str,
    read: impl AsyncFn(&mut PgConnection, Uuid) -> Result<T, ApiError>,
) -> Result<Vec<T>, ApiError> {
    p.require(Permission::ReadSla)?;
    let mut tx = db::begin(pool, p).await?;
    let ids: Vec<Uuid> = sqlx::query_scalar(ids_sql).fetch_all(&mut *tx).await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(read(&mut tx, id).await?);
    }
    tx.commit().await?;
    Ok(out)
}

/// Reads one record with `read`, with `ReadSla`.
pub(crate) async fn read_one<T>(
    pool: &sqlx::PgPool,
    p: &Principal,
    id: Uuid,
    read: impl AsyncFnOnce(&mut PgConnection, Uuid) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    p.require(Permission::ReadSla)?;
    let mut tx = db::begin(pool, p).await?;
    let out = read(&mut tx, id).await?;
    tx.commit().await?;
    Ok(out)
}
