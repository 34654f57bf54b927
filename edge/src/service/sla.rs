//! SLA questions that need no ticket: the what-if preview, and reading a stored schedule in
//! the shape the domain calendar takes.

use crate::auth::Principal;
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
    psa_domain::sla::preview(request, &schedule).map_err(ApiError::Malformed)
}
