//! Timesheets: a worker's time for a period, put up for approval as a whole. Only time on an
//! approved timesheet is billed ([`super::time_entries::approved_unbilled`]), and while a
//! timesheet is submitted or approved its entries stay as they were reviewed.
//!
//! The approval flow is draft → submitted → approved or rejected, and back to draft by reopening;
//! submitting, approving and rejecting each publish an event (through the outbox, in the same
//! transaction) that notifies the reviewer or the worker. Like entry writes, every timesheet
//! write first locks the worker's `users` row, so a period's entries cannot change between the
//! checks here and the commit.

use super::time_entries::{check_year, is_staff_user, lock_worker};
use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::outbox;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use psa_domain::auth::Permission;
use psa_domain::events::{Event, TimeEntryChanged};
use psa_domain::ids::new_id;
use psa_domain::validation::{self, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

/// Longest period one timesheet covers, in days.
pub const PERIOD_DAYS_MAX: i64 = 31;
/// Longest rejection reason, in characters.
pub const REASON_MAX: usize = 2000;

/// Where a timesheet (and so each entry it covers) is in its approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimesheetStatus {
    Draft,
    Submitted,
    Approved,
    Rejected,
}

impl TimesheetStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TimesheetStatus::Draft => "draft",
            TimesheetStatus::Submitted => "submitted",
            TimesheetStatus::Approved => "approved",
            TimesheetStatus::Rejected => "rejected",
        }
    }
}

/// A worker's time entries dated in `[period_start, period_end)`, approved together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0190d9a0-8394-7fa6-e7b8-c2d3e4f50617",
    "worker_id": "0190d9a0-5061-7c73-b485-96a0b1c2d3e4", "period_start": "2026-03-02",
    "period_end": "2026-03-09", "status": "submitted",
    "approver_id": "0190d9a0-94a5-70b7-f8c9-d3e4f5061728", "reason": null,
    "submitted_at": "2026-03-09T08:00:00Z", "decided_at": null, "decided_by": null,
    "entries": 12, "minutes": 2310, "created_at": "2026-03-02T08:00:00Z",
    "updated_at": "2026-03-09T08:00:00Z"}))]
pub struct Timesheet {
    pub id: Uuid,
    pub worker_id: Uuid,
    /// First day covered.
    pub period_start: NaiveDate,
    /// The day after the last day covered.
    pub period_end: NaiveDate,
    #[schema(value_type = TimesheetStatus)]
    pub status: String,
    /// Who was asked to approve it (set on submit).
    pub approver_id: Option<Uuid>,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// When it was approved or rejected, and by whom (`null` when the deciding API key acts
    /// for no user).
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<Uuid>,
    /// How many of the worker's entries are dated in the period, and their minutes in total.
    pub entries: i64,
    pub minutes: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"worker_id": "0190d9a0-5061-7c73-b485-96a0b1c2d3e4",
    "period_start": "2026-03-02", "period_end": "2026-03-09"}))]
pub struct TimesheetInput {
    /// An active internal user of the tenant.
    pub worker_id: Uuid,
    /// Must not overlap another timesheet of the worker.
    pub period_start: NaiveDate,
    /// Exclusive: after `period_start`, at most 31 days after it.
    pub period_end: NaiveDate,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitTimesheet {
    /// An active internal user, notified to review the timesheet.
    pub approver_id: Uuid,
}

/// Approving takes no fields (an empty body is `{}`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveTimesheet {}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectTimesheet {
    /// Told to the worker.
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Reopening takes no fields (an empty body is `{}`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenTimesheet {}

/// Filters of the timesheet list; combined with AND.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimesheetFilter {
    pub worker_id: Option<Uuid>,
    pub status: Option<TimesheetStatus>,
}

fn check_period(input: &TimesheetInput) -> Result<(), StoreError> {
    let mut e = ValidationErrors::default();
    check_year(&mut e, "period_start", input.period_start.year());
    check_year(&mut e, "period_end", input.period_end.year());
    let days = (input.period_end - input.period_start).num_days();
    if days <= 0 {
        e.push("period_end", "must be after period_start");
    } else if days > PERIOD_DAYS_MAX {
        e.push(
            "period_end",
            format!("must be at most {PERIOD_DAYS_MAX} days after period_start"),
        );
    }
    crate::check(e.into_result())
}

async fn load(conn: &mut PgConnection, id: Uuid) -> Result<Option<Timesheet>, StoreError> {
    Ok(sqlx::query_as!(
        Timesheet,
        r#"SELECT t.id, t.worker_id, t.period_start, t.period_end, t.status, t.approver_id,
                  t.reason, t.submitted_at, t.decided_at, t.decided_by,
                  s.entries AS "entries!", s.minutes AS "minutes!", t.created_at, t.updated_at
             FROM timesheets t
             CROSS JOIN LATERAL (
                  SELECT count(*) AS entries, coalesce(sum(e.minutes), 0)::bigint AS minutes
                    FROM time_entries e
                   WHERE e.tenant_id = t.tenant_id AND e.worker_id = t.worker_id
                     AND e.work_date >= t.period_start AND e.work_date < t.period_end) s
            WHERE t.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn list(
    pool: &PgPool,
    p: &Principal,
    filter: TimesheetFilter,
    page: PageRequest,
) -> Result<Page<Timesheet>, StoreError> {
    p.require(Permission::ReadTime)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        Timesheet,
        r#"SELECT t.id, t.worker_id, t.period_start, t.period_end, t.status, t.approver_id,
                  t.reason, t.submitted_at, t.decided_at, t.decided_by,
                  s.entries AS "entries!", s.minutes AS "minutes!", t.created_at, t.updated_at
             FROM timesheets t
             CROSS JOIN LATERAL (
                  SELECT count(*) AS entries, coalesce(sum(e.minutes), 0)::bigint AS minutes
                    FROM time_entries e
                   WHERE e.tenant_id = t.tenant_id AND e.worker_id = t.worker_id
                     AND e.work_date >= t.period_start AND e.work_date < t.period_end) s
            WHERE ($1::uuid IS NULL OR t.id > $1)
              AND ($2::uuid IS NULL OR t.worker_id = $2)
              AND ($3::text IS NULL OR t.status = $3)
            ORDER BY t.id LIMIT $4"#,
        page.after,
        filter.worker_id,
        filter.status.map(TimesheetStatus::as_str),
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(page.finish(rows, |t| t.id))
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Timesheet, StoreError> {
    p.require(Permission::ReadTime)?;
    let mut tx = tenant::begin(pool, p).await?;
    let sheet = load(&mut tx, id).await?;
    tx.commit().await?;
    sheet.ok_or(StoreError::NotFound)
}

pub async fn create(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: TimesheetInput,
) -> Result<Timesheet, StoreError> {
    p.require(Permission::ManageBilling)?;
    check_period(&input)?;
    let tenant = p.tenant_id;
    let request = serde_json::json!({ "table": "timesheets", "timesheet": &input });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            if lock_worker(conn, input.worker_id).await? != Some(true) {
                return Err(StoreError::invalid(
                    "worker_id",
                    "must be an active internal user of the tenant",
                ));
            }
            // Under the worker's lock, so two overlapping creates cannot both see none.
            let overlap = sqlx::query!(
                "SELECT period_start, period_end FROM timesheets
                  WHERE worker_id = $1 AND period_start < $3 AND period_end > $2
                  ORDER BY period_start LIMIT 1",
                input.worker_id,
                input.period_start,
                input.period_end,
            )
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(o) = overlap {
                return Err(StoreError::invalid(
                    "period_start",
                    format!(
                        "overlaps the worker's timesheet from {} until {}",
                        o.period_start, o.period_end
                    ),
                ));
            }
            let id = new_id();
            sqlx::query!(
                "INSERT INTO timesheets (tenant_id, id, worker_id, period_start, period_end)
                 VALUES ($1, $2, $3, $4, $5)",
                tenant,
                id,
                input.worker_id,
                input.period_start,
                input.period_end,
            )
            .execute(&mut *conn)
            .await?;
            load(conn, id).await?.ok_or(StoreError::NotFound)
        })
    })
    .await
}

/// A change of a timesheet's status.
enum Step {
    Submit { approver_id: Uuid },
    Approve,
    Reject { reason: String },
    Reopen,
}

impl Step {
    /// Whether the step may start from `status`, and if not, why (naming the status).
    fn allowed_from(&self, status: &str) -> Result<(), StoreError> {
        let (ok, wanted) = match self {
            Step::Submit { .. } => (
                matches!(status, "draft" | "rejected"),
                "only a draft or rejected timesheet can be submitted",
            ),
            Step::Approve => (
                status == "submitted",
                "only a submitted timesheet can be approved",
            ),
            Step::Reject { .. } => (
                status == "submitted",
                "only a submitted timesheet can be rejected",
            ),
            Step::Reopen => (
                matches!(status, "submitted" | "approved" | "rejected"),
                "only a submitted, approved or rejected timesheet can be reopened",
            ),
        };
        if ok {
            Ok(())
        } else {
            Err(StoreError::WrongState(format!(
                "the timesheet is {status}; {wanted}"
            )))
        }
    }
}

pub async fn submit(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    input: SubmitTimesheet,
) -> Result<Timesheet, StoreError> {
    transition(
        pool,
        p,
        id,
        Step::Submit {
            approver_id: input.approver_id,
        },
    )
    .await
}

pub async fn approve(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    _input: ApproveTimesheet,
) -> Result<Timesheet, StoreError> {
    transition(pool, p, id, Step::Approve).await
}

pub async fn reject(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    input: RejectTimesheet,
) -> Result<Timesheet, StoreError> {
    let mut e = ValidationErrors::default();
    validation::text(&mut e, "reason", &input.reason, REASON_MAX);
    crate::check(e.into_result())?;
    let reason = input.reason.trim().to_owned();
    transition(pool, p, id, Step::Reject { reason }).await
}

pub async fn reopen(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    _input: ReopenTimesheet,
) -> Result<Timesheet, StoreError> {
    transition(pool, p, id, Step::Reopen).await
}

async fn transition(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    step: Step,
) -> Result<Timesheet, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    // A timesheet's worker never changes, so the unlocked read names the lock to take.
    let worker_id = sqlx::query_scalar!("SELECT worker_id FROM timesheets WHERE id = $1", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    lock_worker(&mut tx, worker_id).await?;
    let cur = sqlx::query!(
        "SELECT status, period_start, period_end, approver_id FROM timesheets
          WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    step.allowed_from(&cur.status)?;
    let totals = sqlx::query!(
        r#"SELECT count(*) AS "entries!", coalesce(sum(minutes), 0)::bigint AS "minutes!"
             FROM time_entries
            WHERE worker_id = $1 AND work_date >= $2 AND work_date < $3"#,
        worker_id,
        cur.period_start,
        cur.period_end,
    )
    .fetch_one(&mut *tx)
    .await?;
    let changed = |reviewer_id: Uuid, reason: Option<String>| -> Result<_, StoreError> {
        Ok(TimeEntryChanged {
            timesheet_id: id,
            user_id: worker_id,
            period_start: cur.period_start,
            period_end: cur.period_end,
            entries: u32::try_from(totals.entries).map_err(StoreError::internal)?,
            minutes: u64::try_from(totals.minutes).map_err(StoreError::internal)?,
            reviewer_id,
            reason,
        })
    };
    // Approving and rejecting name who decided: the caller's user, or, for a key that acts
    // for no user, the approver the timesheet was submitted to.
    let decider = || {
        p.user_id.or(cur.approver_id).ok_or_else(|| {
            StoreError::internal(anyhow::anyhow!("submitted timesheet {id} has no approver"))
        })
    };
    let event = match &step {
        Step::Submit { approver_id } => {
            let mut e = ValidationErrors::default();
            if !is_staff_user(&mut tx, *approver_id).await? {
                e.push(
                    "approver_id",
                    "must be an active internal user of the tenant",
                );
            }
            if totals.entries == 0 {
                e.push("entries", "the timesheet has no entries to submit");
            }
            crate::check(e.into_result())?;
            sqlx::query!(
                "UPDATE timesheets SET status = 'submitted', approver_id = $2, reason = NULL,
                        submitted_at = now(), decided_at = NULL, decided_by = NULL,
                        updated_at = now()
                  WHERE id = $1",
                id,
                approver_id,
            )
            .execute(&mut *tx)
            .await?;
            Some(Event::TimeEntrySubmitted(changed(*approver_id, None)?))
        }
        Step::Approve => {
            sqlx::query!(
                "UPDATE timesheets SET status = 'approved', decided_at = now(), decided_by = $2,
                        updated_at = now()
                  WHERE id = $1",
                id,
                p.user_id,
            )
            .execute(&mut *tx)
            .await?;
            Some(Event::TimeEntryApproved(changed(decider()?, None)?))
        }
        Step::Reject { reason } => {
            sqlx::query!(
                "UPDATE timesheets SET status = 'rejected', reason = $2, decided_at = now(),
                        decided_by = $3, updated_at = now()
                  WHERE id = $1",
                id,
                reason,
                p.user_id,
            )
            .execute(&mut *tx)
            .await?;
            Some(Event::TimeEntryRejected(changed(
                decider()?,
                Some(reason.clone()),
            )?))
        }
        Step::Reopen => {
            // Locks the period's entries too: an invoice run marking one as billed either
            // finished before this read (and the reopen is refused) or waits for this commit.
            let invoiced = sqlx::query_scalar!(
                r#"SELECT count(*) AS "n!" FROM (
                        SELECT invoice_item_id FROM time_entries
                         WHERE worker_id = $1 AND work_date >= $2 AND work_date < $3
                           FOR SHARE) s
                    WHERE invoice_item_id IS NOT NULL"#,
                worker_id,
                cur.period_start,
                cur.period_end,
            )
            .fetch_one(&mut *tx)
            .await?;
            if invoiced > 0 {
                return Err(StoreError::WrongState(format!(
                    "the timesheet has {invoiced} invoiced entries; it cannot be reopened"
                )));
            }
            sqlx::query!(
                "UPDATE timesheets SET status = 'draft', approver_id = NULL, reason = NULL,
                        submitted_at = NULL, decided_at = NULL, decided_by = NULL,
                        updated_at = now()
                  WHERE id = $1",
                id,
            )
            .execute(&mut *tx)
            .await?;
            None
        }
    };
    if let Some(event) = event {
        outbox::enqueue(&mut tx, p, event).await?;
    }
    let sheet = load(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
    outbox::commit(tx, pool).await?;
    Ok(sheet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(start: &str, end: &str) -> TimesheetInput {
        TimesheetInput {
            worker_id: Uuid::nil(),
            period_start: start.parse().unwrap(),
            period_end: end.parse().unwrap(),
        }
    }

    #[test]
    fn periods_run_forward_for_at_most_31_days() {
        assert!(check_period(&input("2026-03-01", "2026-04-01")).is_ok());
        assert!(check_period(&input("2026-03-01", "2026-03-02")).is_ok());
        for (s, e) in [
            ("2026-03-01", "2026-03-01"),
            ("2026-03-02", "2026-03-01"),
            ("2026-03-01", "2026-04-02"),
        ] {
            match check_period(&input(s, e)) {
                Err(StoreError::Invalid(v)) => assert_eq!(v.0[0].field, "period_end"),
                other => panic!("{s}..{e}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_wrong_transition_names_the_status() {
        let err = Step::Approve.allowed_from("draft").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the timesheet is draft; only a submitted timesheet can be approved"
        );
        assert!(Step::Reopen.allowed_from("draft").is_err());
        assert!(Step::Reopen.allowed_from("approved").is_ok());
        let submit = Step::Submit {
            approver_id: Uuid::nil(),
        };
        assert!(submit.allowed_from("rejected").is_ok());
        assert!(submit.allowed_from("submitted").is_err());
    }
}
