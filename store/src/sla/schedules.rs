//! Business-hours schedules and holidays. A schedule is validated by the domain calendar
//! before it is written, so a stored schedule always compiles; every change re-reads the
//! policy of the tenant's open tickets (see [`crate::sla::resignal_open_tickets`]).

use crate::error::StoreError;
use crate::principal::Principal;
use crate::tenant;
use chrono::NaiveDate;
use psa_domain::auth::Permission;
use psa_domain::calendar::{Calendar, HolidaySpec, ScheduleSpec, Weekday, WindowSpec};
use psa_domain::ids::new_id;
use psa_domain::sla::limits;
use psa_domain::validation::{ValidationErrors, optional_text, text};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Business hours to create or replace: weekly windows in a zone, and this schedule's own
/// closed days.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "London office", "timezone": "Europe/London",
    "hours": [{"weekday": 1, "start": "08:00", "end": "18:00"},
              {"weekday": 2, "start": "08:00", "end": "18:00"}],
    "holidays": [{"name": "Christmas Day", "date": "2026-12-25", "recurring": true}]}))]
pub struct ScheduleInput {
    #[schema(max_length = 200)]
    pub name: String,
    /// IANA zone, e.g. `Europe/London`.
    #[schema(max_length = 64)]
    pub timezone: String,
    #[serde(default)]
    pub is_24x7: bool,
    /// The schedule of policies that name none.
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub hours: Vec<WindowInput>,
    /// This schedule's own holidays (tenant-wide ones are under `/v1/sla/holidays`).
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub holidays: Vec<HolidayInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowInput {
    /// 1 = Monday … 7 = Sunday.
    #[schema(minimum = 1, maximum = 7)]
    pub weekday: i64,
    /// `HH:MM`.
    #[schema(max_length = 5, pattern = "^[0-9]{2}:[0-9]{2}$", example = "08:00")]
    pub start: String,
    /// `HH:MM` or `24:00`; earlier than `start` runs past midnight.
    #[schema(max_length = 5, pattern = "^[0-9]{2}:[0-9]{2}$", example = "18:00")]
    pub end: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayInput {
    #[serde(default)]
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// `YYYY-MM-DD`, in the years 2000 to 2099.
    #[schema(format = Date)]
    pub date: String,
    #[serde(default)]
    pub recurring: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Holiday {
    pub id: Uuid,
    pub schedule_id: Option<Uuid>,
    pub name: String,
    pub date: NaiveDate,
    pub recurring: bool,
}

/// Business hours: when an SLA clock counts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"id": "0190d9a0-a5b6-71c8-89ea-e4f506172839", "name": "London office",
    "timezone": "Europe/London", "is_24x7": false, "is_default": true,
    "hours": [{"weekday": 1, "start": "08:00", "end": "18:00"}],
    "holidays": [{"id": "0190d9a0-b6c7-72d9-9afb-f5061728394a",
        "schedule_id": "0190d9a0-a5b6-71c8-89ea-e4f506172839", "name": "Christmas Day",
        "date": "2026-12-25", "recurring": true}]}))]
pub struct Schedule {
    pub id: Uuid,
    pub name: String,
    pub timezone: String,
    pub is_24x7: bool,
    pub is_default: bool,
    pub hours: Vec<WindowInput>,
    pub holidays: Vec<Holiday>,
}

/// Longest holiday name, in characters.
const HOLIDAY_NAME_MAX: usize = 200;
/// Most windows, or own holidays, one schedule lists.
const MAX_LIST: usize = limits::MAX_SCHEDULE_ENTRIES;

/// Checks a holiday's name and date (`YYYY-MM-DD`, four-digit year, within the years the SLA
/// engine computes for), naming fields under `prefix`; the date when it is good.
fn check_holiday(
    errors: &mut ValidationErrors,
    prefix: &str,
    h: &HolidayInput,
) -> Option<NaiveDate> {
    optional_text(
        errors,
        &format!("{prefix}name"),
        h.name.as_deref(),
        HOLIDAY_NAME_MAX,
    );
    let field = format!("{prefix}date");
    // chrono's `%Y` also reads `+10000-01-01`; the stored form must read back as YYYY-MM-DD.
    let date = (h.date.len() == 10)
        .then(|| NaiveDate::parse_from_str(&h.date, "%Y-%m-%d").ok())
        .flatten();
    match date {
        None => errors.push(&field, "must be a date as YYYY-MM-DD"),
        Some(d) => limits::check_date(errors, &field, d),
    }
    date
}

/// Checks the input with the calendar the clock will use; errors name `hours[i].start` etc.
fn validate(input: &ScheduleInput) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    text(&mut errors, "name", &input.name, 200);
    for (field, count) in [
        ("hours", input.hours.len()),
        ("holidays", input.holidays.len()),
    ] {
        if count > MAX_LIST {
            errors.push(field, format!("must list at most {MAX_LIST} entries"));
        }
    }
    if !errors.0.is_empty() {
        return Err(errors);
    }
    for (i, h) in input.holidays.iter().enumerate() {
        check_holiday(&mut errors, &format!("holidays[{i}]."), h);
    }
    if !errors.0.is_empty() {
        return Err(errors);
    }
    let spec = ScheduleSpec {
        timezone: input.timezone.clone(),
        is_24x7: input.is_24x7,
        hours: input
            .hours
            .iter()
            .map(|w| WindowSpec {
                weekday: w.weekday,
                start: w.start.clone(),
                end: w.end.clone(),
            })
            .collect(),
        holidays: input
            .holidays
            .iter()
            .map(|h| HolidaySpec {
                date: h.date.clone(),
                recurring: h.recurring,
            })
            .collect(),
    };
    if let Err(e) = Calendar::new(&spec, "") {
        errors.0.extend(e.0);
    }
    if !input.is_24x7 && input.hours.is_empty() {
        errors.push("hours", "a schedule that is not 24x7 needs opening hours");
    }
    errors.into_result()
}

async fn read(conn: &mut PgConnection, id: Uuid) -> Result<Schedule, StoreError> {
    let row = sqlx::query!(
        "SELECT id, name, timezone, is_24x7, is_default FROM business_hours_schedules WHERE id = $1",
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let hours = sqlx::query!(
        "SELECT weekday, start_time, end_time FROM business_hours_windows
          WHERE schedule_id = $1 ORDER BY weekday, start_time",
        row.id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|w| WindowInput {
        weekday: i64::from(w.weekday),
        start: w.start_time,
        end: w.end_time,
    })
    .collect();
    let holidays = sqlx::query_as!(
        Holiday,
        "SELECT id, schedule_id, name, date, recurring FROM holidays WHERE schedule_id = $1 ORDER BY date",
        row.id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(Schedule {
        id: row.id,
        name: row.name,
        timezone: row.timezone,
        is_24x7: row.is_24x7,
        is_default: row.is_default,
        hours,
        holidays,
    })
}

/// Writes the schedule's windows and own holidays, replacing what it had.
async fn write_parts(
    conn: &mut PgConnection,
    p: &Principal,
    id: Uuid,
    input: &ScheduleInput,
) -> Result<(), StoreError> {
    if input.is_default {
        crate::rows::DefaultTable::BusinessHoursSchedules
            .take(conn, id)
            .await?;
    }
    sqlx::query!(
        "DELETE FROM business_hours_windows WHERE schedule_id = $1",
        id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM holidays WHERE schedule_id = $1", id)
        .execute(&mut *conn)
        .await?;
    for (i, w) in input.hours.iter().enumerate() {
        // Validated above; a weekday that is none is refused, never stored as another day.
        let weekday = Weekday::try_from(w.weekday)
            .map_err(|e| StoreError::invalid(&format!("hours[{i}].weekday"), e.to_string()))?;
        sqlx::query!(
            "INSERT INTO business_hours_windows (tenant_id, schedule_id, id, weekday, start_time, end_time)
             VALUES ($1, $2, $3, $4, $5, $6)",
            p.tenant_id,
            id,
            new_id(),
            i16::from(weekday),
            w.start,
            w.end
        )
        .execute(&mut *conn)
        .await?;
    }
    for h in &input.holidays {
        insert_holiday(conn, p, Some(id), h).await?;
    }
    Ok(())
}

async fn insert_holiday(
    conn: &mut PgConnection,
    p: &Principal,
    schedule: Option<Uuid>,
    h: &HolidayInput,
) -> Result<Holiday, StoreError> {
    let mut errors = ValidationErrors::default();
    let date = check_holiday(&mut errors, "", h);
    errors.into_result()?;
    let date = date.ok_or_else(|| StoreError::invalid("date", "must be a date as YYYY-MM-DD"))?;
    Ok(sqlx::query_as!(
        Holiday,
        "INSERT INTO holidays (tenant_id, id, schedule_id, name, date, recurring)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, schedule_id, name, date, recurring",
        p.tenant_id,
        new_id(),
        schedule,
        h.name.as_deref().unwrap_or("Holiday"),
        date,
        h.recurring
    )
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn list(pool: &PgPool, p: &Principal) -> Result<Vec<Schedule>, StoreError> {
    let ids = async |conn: &mut PgConnection| {
        sqlx::query_scalar!("SELECT id FROM business_hours_schedules ORDER BY name")
            .fetch_all(conn)
            .await
    };
    crate::sla::read_each(pool, p, ids, read).await
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Schedule, StoreError> {
    crate::sla::read_one(pool, p, id, read).await
}

pub async fn create(
    pool: &PgPool,
    p: &Principal,
    input: ScheduleInput,
) -> Result<Schedule, StoreError> {
    crate::sla::configure(pool, p, validate(&input), async |tx| {
        let id = new_id();
        sqlx::query!(
            "INSERT INTO business_hours_schedules (tenant_id, id, name, timezone, is_24x7, is_default)
             VALUES ($1, $2, $3, $4, $5, $6)",
            p.tenant_id,
            id,
            input.name.trim(),
            input.timezone,
            input.is_24x7,
            input.is_default
        )
        .execute(&mut *tx)
        .await?;
        write_parts(tx, p, id, &input).await?;
        read(tx, id).await
    })
    .await
}

pub async fn replace(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    input: ScheduleInput,
) -> Result<Schedule, StoreError> {
    crate::sla::configure(pool, p, validate(&input), async |tx| {
        let updated = sqlx::query!(
            "UPDATE business_hours_schedules SET name = $2, timezone = $3, is_24x7 = $4, is_default = $5,
                    updated_at = now() WHERE id = $1",
            id,
            input.name.trim(),
            input.timezone,
            input.is_24x7,
            input.is_default
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        write_parts(tx, p, id, &input).await?;
        read(tx, id).await
    })
    .await
}

pub async fn delete(pool: &PgPool, p: &Principal, id: Uuid) -> Result<(), StoreError> {
    crate::sla::configure(pool, p, Ok(()), async |tx| {
        let used = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM sla_policies WHERE schedule_id = $1) AS "used!""#,
            id
        )
        .fetch_one(&mut *tx)
        .await?;
        if used {
            return Err(StoreError::InUse(
                "a policy uses this schedule; give the policy another schedule first".into(),
            ));
        }
        let deleted = sqlx::query!("DELETE FROM business_hours_schedules WHERE id = $1", id)
            .execute(&mut *tx)
            .await?;
        crate::sla::deleted_one(deleted)
    })
    .await
}

/// Tenant-wide holidays (they close every schedule).
pub async fn list_holidays(pool: &PgPool, p: &Principal) -> Result<Vec<Holiday>, StoreError> {
    p.require(Permission::ReadSla)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        Holiday,
        "SELECT id, schedule_id, name, date, recurring FROM holidays WHERE schedule_id IS NULL ORDER BY date"
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

pub async fn add_holiday(
    pool: &PgPool,
    p: &Principal,
    input: HolidayInput,
) -> Result<Holiday, StoreError> {
    crate::sla::configure(pool, p, Ok(()), async |tx| {
        insert_holiday(tx, p, None, &input).await
    })
    .await
}

pub async fn delete_holiday(pool: &PgPool, p: &Principal, id: Uuid) -> Result<(), StoreError> {
    crate::sla::configure(pool, p, Ok(()), async |tx| {
        let deleted = sqlx::query!(
            "DELETE FROM holidays WHERE id = $1 AND schedule_id IS NULL",
            id
        )
        .execute(&mut *tx)
        .await?;
        crate::sla::deleted_one(deleted)
    })
    .await
}
