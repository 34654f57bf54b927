//! SLA questions that need no ticket: the what-if preview, and reading a stored schedule in
//! the shape the domain calendar takes.

use crate::auth::Principal;
use crate::db;
use crate::error::ApiError;
use psa_domain::auth::Permission;
use psa_domain::calendar::{HolidaySpec, ScheduleSpec, WindowSpec};
use psa_domain::sla::{PreviewRequest, PreviewResponse};
use psa_domain::validation::ValidationErrors;
use sqlx::PgConnection;
use uuid::Uuid;

/// A stored schedule with its windows, its own holidays and the tenant's global ones; `None`
/// when the caller's tenant has no such schedule.
pub async fn load_schedule(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ScheduleSpec>, sqlx::Error> {
    let Some((timezone, is_24x7)): Option<(String, bool)> =
        sqlx::query_as("SELECT timezone, is_24x7 FROM business_hours_schedules WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(None);
    };
    let hours = sqlx::query_as::<_, (i16, String, String)>(
        "SELECT weekday, start_time, end_time FROM business_hours_windows
          WHERE schedule_id = $1 ORDER BY weekday, start_time",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(weekday, start, end)| WindowSpec {
        weekday: i64::from(weekday),
        start,
        end,
    })
    .collect();
    let holidays = sqlx::query_as::<_, (chrono::NaiveDate, bool)>(
        "SELECT date, recurring FROM holidays
          WHERE schedule_id = $1 OR schedule_id IS NULL ORDER BY date",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(date, recurring)| HolidaySpec {
        date: date.format("%Y-%m-%d").to_string(),
        recurring,
    })
    .collect();
    Ok(Some(ScheduleSpec {
        timezone,
        is_24x7,
        hours,
        holidays,
    }))
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
