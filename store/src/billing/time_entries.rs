//! Time entries: the minutes a worker spent for a client, which hourly and bucket contract
//! lines bill once a timesheet holding them is approved.
//!
//! An entry takes its state from the worker's timesheet whose period covers its date, so the
//! rules that keep approved time still (no change while submitted or approved, none once
//! invoiced) are checked under one lock: every write to one worker's time, entries and
//! timesheets alike, first locks that worker's `users` row (`lock_worker`).

use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::nullable::nullable;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use psa_domain::auth::Permission;
use psa_domain::ids::new_id;
use psa_domain::validation::{self, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use super::timesheets::TimesheetStatus;

/// Longest `project_ref`, in characters.
pub const PROJECT_REF_MAX: usize = 200;
/// Longest `note`, in characters.
pub const NOTE_MAX: usize = 4000;
/// Most minutes one entry holds: one day.
pub const MINUTES_MAX: i64 = 1440;

/// Time worked by one user for one client, on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0190d9a0-6172-7d84-c596-a0b1c2d3e4f5",
    "worker_id": "0190d9a0-5061-7c73-b485-96a0b1c2d3e4",
    "client_id": "0190d9a0-1c2b-7c3d-8e4f-5a6b7c8d9e0f",
    "ticket_id": "0190d9a0-4f50-7b62-a374-8596a0b1c2d3", "project_ref": null,
    "service_id": "0190d9a0-7283-7e95-d6a7-b1c2d3e4f506", "work_date": "2026-03-02",
    "started_at": "2026-03-02T09:00:00Z", "ended_at": "2026-03-02T10:30:00Z", "minutes": 90,
    "billable": true, "note": "Replaced the toner.", "timesheet_id": null, "status": "draft",
    "invoice_item_id": null, "created_at": "2026-03-02T10:31:00Z",
    "updated_at": "2026-03-02T10:31:00Z"}))]
pub struct TimeEntry {
    pub id: Uuid,
    /// Who worked the time.
    pub worker_id: Uuid,
    pub client_id: Uuid,
    pub ticket_id: Option<Uuid>,
    pub project_ref: Option<String>,
    /// The service the time is billed as.
    pub service_id: Uuid,
    /// The day the work counts for: the UTC date of `started_at` when the entry has one.
    pub work_date: NaiveDate,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    #[schema(minimum = 0, maximum = 1440)]
    pub minutes: i32,
    pub billable: bool,
    pub note: Option<String>,
    /// The worker's timesheet whose period covers `work_date`, if any.
    pub timesheet_id: Option<Uuid>,
    /// That timesheet's status; `draft` when no timesheet covers the entry.
    #[schema(value_type = TimesheetStatus)]
    pub status: String,
    /// The invoice item that billed it; an invoiced entry no longer changes.
    pub invoice_item_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new time entry: `started_at` and `ended_at`, or `minutes` and `work_date`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"worker_id": "0190d9a0-5061-7c73-b485-96a0b1c2d3e4",
    "ticket_id": "0190d9a0-4f50-7b62-a374-8596a0b1c2d3",
    "service_id": "0190d9a0-7283-7e95-d6a7-b1c2d3e4f506",
    "started_at": "2026-03-02T09:00:00Z", "ended_at": "2026-03-02T10:30:00Z",
    "note": "Replaced the toner."}))]
pub struct TimeEntryInput {
    /// An active internal user of the tenant.
    pub worker_id: Uuid,
    /// The entry's client is the ticket's.
    pub ticket_id: Option<Uuid>,
    /// Required without a ticket, and for a ticket that has no client; with a ticket that has
    /// one, it must be that client.
    pub client_id: Option<Uuid>,
    #[schema(max_length = 200)]
    pub project_ref: Option<String>,
    pub service_id: Uuid,
    /// Required without `started_at`; with it, it must be the UTC date of `started_at`.
    pub work_date: Option<NaiveDate>,
    /// With `ended_at`: at most 24 hours before it. Kept to the millisecond.
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Required without `started_at`/`ended_at`; with them, it must equal the whole minutes
    /// between them.
    #[schema(minimum = 0, maximum = 1440)]
    pub minutes: Option<i64>,
    /// Default `true`.
    pub billable: Option<bool>,
    #[schema(max_length = 4000)]
    pub note: Option<String>,
}

/// A change to a time entry: absent fields stay; `null` clears the fields that may be empty.
/// The entry's worker does not change (delete the entry and create it for the other worker).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeEntryPatch {
    /// A ticket sets the client to the ticket's; `null` detaches the entry from its ticket
    /// (the client stays unless `client_id` is given).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub ticket_id: Option<Option<Uuid>>,
    pub client_id: Option<Uuid>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub project_ref: Option<Option<String>>,
    pub service_id: Option<Uuid>,
    pub work_date: Option<NaiveDate>,
    /// `null` for both `started_at` and `ended_at` turns a timed entry into one of `minutes`
    /// on `work_date`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub started_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub ended_at: Option<Option<DateTime<Utc>>>,
    #[schema(minimum = 0, maximum = 1440)]
    pub minutes: Option<i64>,
    pub billable: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 4000)]
    pub note: Option<Option<String>>,
}

/// One entry an invoice could bill: approved, not yet invoiced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillableEntry {
    pub id: Uuid,
    pub service_id: Uuid,
    pub work_date: NaiveDate,
    pub minutes: i32,
    pub billable: bool,
}

/// When the work was done, once the input's ways of saying it agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct When {
    work_date: NaiveDate,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    minutes: i32,
}

/// The parts of an entry its checks need, as given (create) or as they would be (patch).
struct Draft<'a> {
    project_ref: Option<&'a str>,
    note: Option<&'a str>,
    work_date: Option<NaiveDate>,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    minutes: Option<i64>,
}

/// Years a stored date or instant may fall in: four digits, so it reads back as `YYYY-MM-DD`
/// (which the invoice engine insists on) and fits Postgres.
pub(crate) fn check_year(errors: &mut ValidationErrors, field: &str, year: i32) {
    if !(1..=9999).contains(&year) {
        errors.push(field, "must fall in the years 1 to 9999");
    }
}

/// Checks the entry's text and reconciles its time fields (see [`TimeEntryInput`]); every
/// field error at once.
fn check(d: &Draft<'_>) -> Result<When, StoreError> {
    let mut e = ValidationErrors::default();
    validation::optional_text(&mut e, "project_ref", d.project_ref, PROJECT_REF_MAX);
    validation::optional_text(&mut e, "note", d.note, NOTE_MAX);
    if let Some(date) = d.work_date {
        check_year(&mut e, "work_date", date.year());
    }
    if let Some(m) = d.minutes
        && !(0..=MINUTES_MAX).contains(&m)
    {
        e.push("minutes", format!("must be between 0 and {MINUTES_MAX}"));
    }
    // The answer gives instants to the millisecond: keep what it will show, so the minutes
    // and date worked out here are the ones a reader can work out from the answer.
    let millis = |t: DateTime<Utc>| {
        use chrono::DurationRound;
        t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t)
    };
    let (started, ended) = (d.started_at.map(millis), d.ended_at.map(millis));
    for (field, at) in [("started_at", started), ("ended_at", ended)] {
        if let Some(at) = at {
            check_year(&mut e, field, at.year());
        }
    }
    let when = match (started, ended) {
        (Some(s), Some(en)) => {
            let span = en - s;
            let whole = span.num_minutes();
            if span <= TimeDelta::zero() {
                e.push("ended_at", "must be after started_at");
            } else if span > TimeDelta::minutes(MINUTES_MAX) {
                e.push("ended_at", "must be at most 24 hours after started_at");
            } else if let Some(m) = d.minutes
                && m != whole
            {
                e.push(
                    "minutes",
                    format!(
                        "must equal the whole minutes between started_at and ended_at ({whole})"
                    ),
                );
            }
            let date = s.date_naive();
            if let Some(given) = d.work_date
                && given != date
            {
                e.push(
                    "work_date",
                    format!("must be the UTC date of started_at ({date})"),
                );
            }
            i32::try_from(whole).ok().map(|minutes| When {
                work_date: date,
                started_at: Some(s),
                ended_at: Some(en),
                minutes,
            })
        }
        (Some(_), None) => {
            e.push("ended_at", "is required with started_at");
            None
        }
        (None, Some(_)) => {
            e.push("started_at", "is required with ended_at");
            None
        }
        (None, None) => {
            if d.minutes.is_none() {
                e.push("minutes", "is required without started_at and ended_at");
            }
            if d.work_date.is_none() {
                e.push("work_date", "is required without started_at");
            }
            match (d.work_date, d.minutes.and_then(|m| i32::try_from(m).ok())) {
                (Some(work_date), Some(minutes)) => Some(When {
                    work_date,
                    started_at: None,
                    ended_at: None,
                    minutes,
                }),
                _ => None,
            }
        }
    };
    crate::check(e.into_result())?;
    when.ok_or_else(|| StoreError::internal(anyhow::anyhow!("time fields passed unchecked")))
}

/// Locks `worker_id`'s user row for the rest of the transaction, so that checks on the worker's
/// timesheets and the writes they allow cannot interleave with another write to the same
/// worker's time. `NO KEY UPDATE`: rows elsewhere that merely refer to the user (a ticket
/// assigned to them) do not wait for it. Answers whether the user is an active internal user
/// (`None`: no such user in the tenant).
pub(crate) async fn lock_worker(
    conn: &mut PgConnection,
    worker_id: Uuid,
) -> Result<Option<bool>, StoreError> {
    let row = sqlx::query!(
        "SELECT kind = 'internal' AND active AS \"usable!\" FROM users WHERE id = $1
         FOR NO KEY UPDATE",
        worker_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| r.usable))
}

/// Whether `user_id` is an active internal user of the tenant (a worker or an approver).
pub(crate) async fn is_staff_user(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar!(
        "SELECT kind = 'internal' AND active AS \"usable!\" FROM users WHERE id = $1",
        user_id
    )
    .fetch_optional(conn)
    .await?
    .unwrap_or(false))
}

/// Refuses a change to the worker's time on `date` while the timesheet covering it is
/// submitted or approved. Call it with the worker locked.
async fn check_open(
    conn: &mut PgConnection,
    worker_id: Uuid,
    date: NaiveDate,
) -> Result<(), StoreError> {
    let status = sqlx::query_scalar!(
        "SELECT status FROM timesheets
         WHERE worker_id = $1 AND period_start <= $2 AND period_end > $2",
        worker_id,
        date,
    )
    .fetch_optional(conn)
    .await?;
    match status.as_deref() {
        Some(s @ ("submitted" | "approved")) => Err(StoreError::WrongState(format!(
            "the timesheet covering {date} is {s}; its time cannot change until it is reopened"
        ))),
        _ => Ok(()),
    }
}

/// The entry's client: the ticket's when there is a ticket, else `given`; `fallback` (the
/// entry's current client, on a change) when neither names one.
async fn resolve_client(
    conn: &mut PgConnection,
    ticket_id: Option<Uuid>,
    given: Option<Uuid>,
    fallback: Option<Uuid>,
) -> Result<Uuid, StoreError> {
    let Some(ticket_id) = ticket_id else {
        return given
            .or(fallback)
            .ok_or_else(|| StoreError::invalid("client_id", "is required without a ticket"));
    };
    let ticket_client =
        sqlx::query_scalar!("SELECT client_id FROM tickets WHERE id = $1", ticket_id)
            .fetch_optional(conn)
            .await?
            .ok_or_else(|| {
                StoreError::invalid("ticket_id", "does not refer to an existing record")
            })?;
    match (ticket_client, given) {
        (Some(t), Some(g)) if t != g => Err(StoreError::invalid(
            "client_id",
            "must be the client of the ticket",
        )),
        (Some(t), _) => Ok(t),
        (None, Some(g)) => Ok(g),
        (None, None) => fallback
            .ok_or_else(|| StoreError::invalid("ticket_id", "has no client; give client_id")),
    }
}

/// One entry with the state of the timesheet covering it.
async fn load(conn: &mut PgConnection, id: Uuid) -> Result<Option<TimeEntry>, StoreError> {
    Ok(sqlx::query_as!(
        TimeEntry,
        r#"SELECT e.id, e.worker_id, e.client_id, e.ticket_id, e.project_ref, e.service_id,
                  e.work_date, e.started_at, e.ended_at, e.minutes, e.billable, e.note,
                  t.id AS "timesheet_id?", coalesce(t.status, 'draft') AS "status!",
                  e.invoice_item_id, e.created_at, e.updated_at
             FROM time_entries e
             LEFT JOIN timesheets t
               ON t.tenant_id = e.tenant_id AND t.worker_id = e.worker_id
              AND t.period_start <= e.work_date AND t.period_end > e.work_date
            WHERE e.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// Filters of the entry list; all optional, combined with AND.
#[derive(Debug, Clone, Copy, Default)]
pub struct EntryFilter {
    pub worker_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    pub timesheet_id: Option<Uuid>,
    pub status: Option<TimesheetStatus>,
}

pub async fn list(
    pool: &PgPool,
    p: &Principal,
    filter: EntryFilter,
    page: PageRequest,
) -> Result<Page<TimeEntry>, StoreError> {
    p.require(Permission::ReadTime)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        TimeEntry,
        r#"SELECT e.id, e.worker_id, e.client_id, e.ticket_id, e.project_ref, e.service_id,
                  e.work_date, e.started_at, e.ended_at, e.minutes, e.billable, e.note,
                  t.id AS "timesheet_id?", coalesce(t.status, 'draft') AS "status!",
                  e.invoice_item_id, e.created_at, e.updated_at
             FROM time_entries e
             LEFT JOIN timesheets t
               ON t.tenant_id = e.tenant_id AND t.worker_id = e.worker_id
              AND t.period_start <= e.work_date AND t.period_end > e.work_date
            WHERE ($1::uuid IS NULL OR e.id > $1)
              AND ($2::uuid IS NULL OR e.worker_id = $2)
              AND ($3::uuid IS NULL OR e.client_id = $3)
              AND ($4::uuid IS NULL OR t.id = $4)
              AND ($5::text IS NULL OR coalesce(t.status, 'draft') = $5)
            ORDER BY e.id LIMIT $6"#,
        page.after,
        filter.worker_id,
        filter.client_id,
        filter.timesheet_id,
        filter.status.map(TimesheetStatus::as_str),
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(page.finish(rows, |e| e.id))
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<TimeEntry, StoreError> {
    p.require(Permission::ReadTime)?;
    let mut tx = tenant::begin(pool, p).await?;
    let entry = load(&mut tx, id).await?;
    tx.commit().await?;
    entry.ok_or(StoreError::NotFound)
}

pub async fn create(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: TimeEntryInput,
) -> Result<TimeEntry, StoreError> {
    p.require(Permission::ManageBilling)?;
    let when = check(&Draft {
        project_ref: input.project_ref.as_deref(),
        note: input.note.as_deref(),
        work_date: input.work_date,
        started_at: input.started_at,
        ended_at: input.ended_at,
        minutes: input.minutes,
    })?;
    let tenant = p.tenant_id;
    // The fingerprint names the table, so one key cannot replay an entry as a timesheet.
    let request = serde_json::json!({ "table": "time_entries", "entry": &input });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            if lock_worker(conn, input.worker_id).await? != Some(true) {
                return Err(StoreError::invalid(
                    "worker_id",
                    "must be an active internal user of the tenant",
                ));
            }
            let client_id = resolve_client(conn, input.ticket_id, input.client_id, None).await?;
            check_open(conn, input.worker_id, when.work_date).await?;
            let id = new_id();
            sqlx::query!(
                "INSERT INTO time_entries (tenant_id, id, worker_id, client_id, ticket_id,
                        project_ref, service_id, work_date, started_at, ended_at, minutes,
                        billable, note)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                tenant,
                id,
                input.worker_id,
                client_id,
                input.ticket_id,
                input.project_ref,
                input.service_id,
                when.work_date,
                when.started_at,
                when.ended_at,
                when.minutes,
                input.billable.unwrap_or(true),
                input.note,
            )
            .execute(&mut *conn)
            .await?;
            load(conn, id).await?.ok_or(StoreError::NotFound)
        })
    })
    .await
}

/// The entry as stored, locked for a change.
struct Current {
    worker_id: Uuid,
    client_id: Uuid,
    ticket_id: Option<Uuid>,
    project_ref: Option<String>,
    service_id: Uuid,
    work_date: NaiveDate,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    minutes: i32,
    billable: bool,
    note: Option<String>,
}

/// Locks the entry and its worker (the worker first, as every write to that worker's time
/// does) and refuses a change to an invoiced entry or to one on a submitted or approved
/// timesheet.
async fn lock_for_change(conn: &mut PgConnection, id: Uuid) -> Result<Current, StoreError> {
    // An entry's worker never changes, so the unlocked read names the lock to take.
    let worker_id = sqlx::query_scalar!("SELECT worker_id FROM time_entries WHERE id = $1", id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    lock_worker(conn, worker_id).await?;
    let row = sqlx::query!(
        "SELECT worker_id, client_id, ticket_id, project_ref, service_id, work_date,
                started_at, ended_at, minutes, billable, note, invoice_item_id
           FROM time_entries WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    if row.invoice_item_id.is_some() {
        return Err(StoreError::WrongState(
            "the entry has been invoiced; it cannot change".into(),
        ));
    }
    check_open(conn, row.worker_id, row.work_date).await?;
    Ok(Current {
        worker_id: row.worker_id,
        client_id: row.client_id,
        ticket_id: row.ticket_id,
        project_ref: row.project_ref,
        service_id: row.service_id,
        work_date: row.work_date,
        started_at: row.started_at,
        ended_at: row.ended_at,
        minutes: row.minutes,
        billable: row.billable,
        note: row.note,
    })
}

pub async fn update(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    patch: TimeEntryPatch,
) -> Result<TimeEntry, StoreError> {
    p.require(Permission::ManageBilling)?;
    // Text is checked before anything is locked; the merged entry is checked again below.
    let mut e = ValidationErrors::default();
    validation::optional_text(
        &mut e,
        "project_ref",
        patch.project_ref.as_ref().and_then(Option::as_deref),
        PROJECT_REF_MAX,
    );
    validation::optional_text(
        &mut e,
        "note",
        patch.note.as_ref().and_then(Option::as_deref),
        NOTE_MAX,
    );
    crate::check(e.into_result())?;
    let mut tx = tenant::begin(pool, p).await?;
    let cur = lock_for_change(&mut tx, id).await?;
    let started_at = patch.started_at.unwrap_or(cur.started_at);
    let ended_at = patch.ended_at.unwrap_or(cur.ended_at);
    let timed = started_at.is_some() || ended_at.is_some();
    let project_ref = patch.project_ref.unwrap_or(cur.project_ref);
    let note = patch.note.unwrap_or(cur.note);
    let when = check(&Draft {
        project_ref: project_ref.as_deref(),
        note: note.as_deref(),
        // A timed entry's date and minutes follow from its times: the stored ones are not
        // carried over, or changing the times alone would contradict them.
        work_date: patch.work_date.or((!timed).then_some(cur.work_date)),
        started_at,
        ended_at,
        minutes: patch.minutes.or((!timed).then_some(i64::from(cur.minutes))),
    })?;
    let ticket_id = patch.ticket_id.unwrap_or(cur.ticket_id);
    let client_id = if patch.ticket_id.is_some() || patch.client_id.is_some() {
        resolve_client(&mut tx, ticket_id, patch.client_id, Some(cur.client_id)).await?
    } else {
        cur.client_id
    };
    if when.work_date != cur.work_date {
        check_open(&mut tx, cur.worker_id, when.work_date).await?;
    }
    sqlx::query!(
        "UPDATE time_entries SET client_id = $2, ticket_id = $3, project_ref = $4,
                service_id = $5, work_date = $6, started_at = $7, ended_at = $8, minutes = $9,
                billable = $10, note = $11, updated_at = now()
          WHERE id = $1",
        id,
        client_id,
        ticket_id,
        project_ref,
        patch.service_id.unwrap_or(cur.service_id),
        when.work_date,
        when.started_at,
        when.ended_at,
        when.minutes,
        patch.billable.unwrap_or(cur.billable),
        note,
    )
    .execute(&mut *tx)
    .await?;
    let entry = load(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(entry)
}

pub async fn delete(pool: &PgPool, p: &Principal, id: Uuid) -> Result<(), StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    lock_for_change(&mut tx, id).await?;
    sqlx::query!("DELETE FROM time_entries WHERE id = $1", id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The client's entries an invoice for `[from, to)` may bill: dated in the period, covered by
/// an approved timesheet, not yet invoiced; in the order they were worked. The caller checks
/// permissions and holds the tenant transaction.
pub async fn approved_unbilled(
    conn: &mut PgConnection,
    client_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<BillableEntry>, StoreError> {
    Ok(sqlx::query_as!(
        BillableEntry,
        "SELECT e.id, e.service_id, e.work_date, e.minutes, e.billable
           FROM time_entries e
          WHERE e.client_id = $1 AND e.work_date >= $2 AND e.work_date < $3
            AND e.invoice_item_id IS NULL
            AND EXISTS (SELECT 1 FROM timesheets t
                         WHERE t.tenant_id = e.tenant_id AND t.worker_id = e.worker_id
                           AND t.status = 'approved'
                           AND t.period_start <= e.work_date AND t.period_end > e.work_date)
          ORDER BY e.work_date, e.started_at NULLS LAST, e.id",
        client_id,
        from,
        to,
    )
    .fetch_all(conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn draft() -> Draft<'static> {
        Draft {
            project_ref: None,
            note: None,
            work_date: None,
            started_at: None,
            ended_at: None,
            minutes: None,
        }
    }

    fn fields(r: Result<When, StoreError>) -> Vec<String> {
        match r {
            Err(StoreError::Invalid(v)) => v.0.into_iter().map(|f| f.field).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn times_give_the_date_and_the_whole_minutes() {
        let w = check(&Draft {
            started_at: Some(utc("2026-03-02T23:30:00Z")),
            ended_at: Some(utc("2026-03-03T01:00:59.999Z")),
            ..draft()
        })
        .unwrap();
        assert_eq!(w.work_date, date("2026-03-02"));
        assert_eq!(w.minutes, 90);
        // A full day is allowed; a minute more is not.
        let day = Draft {
            started_at: Some(utc("2026-03-02T00:00:00Z")),
            ended_at: Some(utc("2026-03-03T00:00:00Z")),
            minutes: Some(1440),
            ..draft()
        };
        assert_eq!(check(&day).unwrap().minutes, 1440);
        let longer = Draft {
            ended_at: Some(utc("2026-03-03T00:00:00.001Z")),
            minutes: None,
            ..day
        };
        assert_eq!(fields(check(&longer)), ["ended_at"]);
    }

    #[test]
    fn disagreeing_fields_are_named() {
        let both = Draft {
            started_at: Some(utc("2026-03-02T09:00:00Z")),
            ended_at: Some(utc("2026-03-02T10:00:00Z")),
            minutes: Some(59),
            work_date: Some(date("2026-03-03")),
            ..draft()
        };
        assert_eq!(fields(check(&both)), ["minutes", "work_date"]);
        let backwards = Draft {
            started_at: Some(utc("2026-03-02T10:00:00Z")),
            ended_at: Some(utc("2026-03-02T10:00:00Z")),
            ..draft()
        };
        assert_eq!(fields(check(&backwards)), ["ended_at"]);
        let half = Draft {
            started_at: Some(utc("2026-03-02T10:00:00Z")),
            ..draft()
        };
        assert_eq!(fields(check(&half)), ["ended_at"]);
        assert_eq!(fields(check(&draft())), ["minutes", "work_date"]);
        let bad = Draft {
            minutes: Some(1441),
            work_date: Some(date("2026-03-02")),
            note: Some("a\0b"),
            ..draft()
        };
        assert_eq!(fields(check(&bad)), ["note", "minutes"]);
    }

    #[test]
    fn minutes_on_a_date() {
        let w = check(&Draft {
            minutes: Some(0),
            work_date: Some(date("2026-03-02")),
            ..draft()
        })
        .unwrap();
        assert_eq!((w.minutes, w.started_at), (0, None));
    }
}
