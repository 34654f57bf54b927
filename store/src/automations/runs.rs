//! Automation runs in Postgres: the read model the run's activities write (status, current
//! step, trace), the index of runs waiting for events, what a trigger needs to find the
//! automations an event starts, and manual runs asked for through the API.

use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::{outbox, tenant};
use chrono::{DateTime, TimeDelta, Utc};
use psa_domain::auth::{Permission, Role};
use psa_domain::automations::run::{
    BusinessRequest, RunRecord, StoredVersion, VersionRequest, WaitRequest,
};
use psa_domain::calendar::Calendar;
use psa_domain::events::{Actor, AutomationRunFinished, AutomationRunRequested, Envelope, Event};
use psa_domain::ids::{automation_run, new_id};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

/// Largest manual-run input accepted, as JSON.
pub const MAX_INPUT_BYTES: usize = 64 * 1024;

/// A run as the API lists it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunSummary {
    pub id: Uuid,
    pub automation_id: Uuid,
    pub version: i32,
    /// The Temporal workflow ID: find the run in the Temporal UI by it.
    pub workflow_id: String,
    /// `pending`, `running`, `completed`, `failed` or `cancelled`.
    pub status: String,
    pub current_step: Option<String>,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// A run with its trace, variables and current wait.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    pub summary: RunSummary,
    /// The trigger event's envelope.
    #[schema(value_type = Object)]
    pub trigger_event: serde_json::Value,
    /// What the run waits for now, while it waits.
    #[schema(value_type = Option<Object>)]
    pub waiting: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub vars: serde_json::Value,
    /// A completed run's result.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// A failed run's error: `{step, message}`.
    #[schema(value_type = Option<Object>)]
    pub error: Option<serde_json::Value>,
    pub steps_executed: i32,
    /// The executed steps in order, as the dry run shows them.
    #[schema(value_type = Vec<Object>)]
    pub trace: Vec<serde_json::Value>,
}

/// What a manual run sends.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The run's input: its trigger event's `payload`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub input: Option<serde_json::Value>,
}

/// An automation an event may trigger: its newest version, enabled.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub automation_id: Uuid,
    pub version: u32,
    pub name: String,
}

/// The newest versions of the tenant's enabled automations triggered by `event_type`, without
/// their definitions (a subscriber keeps those compiled; [`definitions`] reads the rest).
pub async fn triggered_by(
    pool: &PgPool,
    tenant_id: Uuid,
    event_type: &str,
) -> Result<Vec<Candidate>, StoreError> {
    let mut tx = tenant::begin_for(pool, tenant_id).await?;
    let rows = sqlx::query!(
        r#"SELECT a.id, a.name, v.version
             FROM automations a
             JOIN automation_versions v
               ON v.tenant_id = a.tenant_id AND v.automation_id = a.id
              AND v.version = a.latest_version
            WHERE a.enabled AND v.tenant_id = $1
              AND (v.definition #>> '{trigger,event}') = $2"#,
        tenant_id,
        event_type,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            automation_id: r.id,
            version: u32::try_from(r.version).unwrap_or_default(),
            name: r.name,
        })
        .collect())
}

/// The definitions of these (automation, version) pairs of the tenant.
pub async fn definitions(
    pool: &PgPool,
    tenant_id: Uuid,
    wanted: &[(Uuid, u32)],
) -> Result<Vec<((Uuid, u32), serde_json::Value)>, StoreError> {
    let ids: Vec<Uuid> = wanted.iter().map(|w| w.0).collect();
    let versions: Vec<i32> = wanted
        .iter()
        .map(|w| i32::try_from(w.1).unwrap_or(i32::MAX))
        .collect();
    let mut tx = tenant::begin_for(pool, tenant_id).await?;
    let rows = sqlx::query!(
        r#"SELECT v.automation_id, v.version, v.definition
             FROM automation_versions v
             JOIN unnest($1::uuid[], $2::integer[]) AS w(automation_id, version)
               ON w.automation_id = v.automation_id AND w.version = v.version"#,
        &ids,
        &versions,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let version = u32::try_from(r.version).unwrap_or_default();
            ((r.automation_id, version), r.definition)
        })
        .collect())
}

/// Records a run about to be started (`pending`), once per workflow ID.
pub async fn begin(
    pool: &PgPool,
    tenant_id: Uuid,
    automation_id: Uuid,
    version: u32,
    workflow_id: &str,
    event: &serde_json::Value,
) -> Result<(), StoreError> {
    let mut tx = tenant::begin_for(pool, tenant_id).await?;
    insert_pending(
        &mut tx,
        tenant_id,
        automation_id,
        version,
        workflow_id,
        event,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn insert_pending(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    automation_id: Uuid,
    version: u32,
    workflow_id: &str,
    event: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query!(
        "INSERT INTO automation_runs
                (tenant_id, id, automation_id, version, workflow_id, status, trigger_event)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6)
         ON CONFLICT DO NOTHING",
        tenant_id,
        automation_run::run_id(workflow_id),
        automation_id,
        i32::try_from(version).unwrap_or(i32::MAX),
        workflow_id,
        event,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A stored version's definition and its automation's name.
pub async fn version(
    pool: &PgPool,
    req: &VersionRequest,
) -> Result<Option<StoredVersion>, StoreError> {
    let mut tx = tenant::begin_for(pool, req.tenant_id).await?;
    let row = sqlx::query!(
        "SELECT a.name, v.version, v.definition
           FROM automation_versions v JOIN automations a
             ON a.tenant_id = v.tenant_id AND a.id = v.automation_id
          WHERE v.automation_id = $1
            AND v.version = CASE WHEN $2 = 0 THEN a.latest_version ELSE $2 END",
        req.automation_id,
        i32::try_from(req.version).unwrap_or(i32::MAX),
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.map(|r| StoredVersion {
        version: u32::try_from(r.version).unwrap_or_default(),
        name: r.name,
        definition: r.definition,
    }))
}

/// Whom the automation's runs act as: the API key that made it, with that key's role and
/// user as they stand now. A revoked or missing key acts for nobody.
pub async fn owner(
    pool: &PgPool,
    tenant_id: Uuid,
    automation_id: Uuid,
) -> Result<Principal, StoreError> {
    let mut tx = tenant::begin_for(pool, tenant_id).await?;
    let row = sqlx::query!(
        "SELECT k.id, k.role, k.user_id, k.client_id
           FROM automations a JOIN api_keys k
             ON k.tenant_id = a.tenant_id AND k.id = a.owner_key_id
          WHERE a.id = $1 AND k.revoked_at IS NULL",
        automation_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    let row = row.ok_or_else(|| {
        StoreError::Forbidden("the automation's owner key is revoked or gone".into())
    })?;
    let role = row.role.parse::<Role>().map_err(StoreError::internal)?;
    Ok(Principal {
        tenant_id,
        key_id: row.id,
        role,
        user_id: row.user_id,
        client_id: row.client_id,
    })
}

/// Writes the run's row and its changed trace entries; the first record of an ended run
/// raises `automation.run_completed` or `automation.run_failed`.
pub async fn record(pool: &PgPool, r: &RunRecord) -> Result<(), StoreError> {
    let mut tx = tenant::begin_for(pool, r.tenant_id).await?;
    record_in(&mut tx, r).await?;
    Ok(outbox::commit(tx, pool).await?)
}

async fn record_in(conn: &mut PgConnection, r: &RunRecord) -> Result<(), StoreError> {
    let run_id = automation_run::run_id(&r.workflow_id);
    insert_pending(
        conn,
        r.tenant_id,
        r.automation_id,
        r.version,
        &r.workflow_id,
        &r.event,
    )
    .await?;
    let ended = r.status != "running";
    let before = sqlx::query_scalar!(
        "SELECT status FROM automation_runs WHERE id = $1 FOR UPDATE",
        run_id
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE automation_runs
            SET status = $2, current_step = $3, waiting = $4, vars = $5, result = $6,
                error = $7, steps_executed = $8, updated_at = now(),
                ended_at = CASE WHEN $9 THEN coalesce(ended_at, now()) END,
                retry_from = $10
          WHERE id = $1",
        run_id,
        r.status,
        r.current_step,
        r.waiting,
        serde_json::Value::Object(r.vars.clone()),
        r.result,
        r.error
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(StoreError::internal)?,
        i32::try_from(r.executed).unwrap_or(i32::MAX),
        ended,
        r.retry_from
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(StoreError::internal)?,
    )
    .execute(&mut *conn)
    .await?;
    if !r.steps.is_empty() {
        let seqs: Vec<i32> = r
            .steps
            .iter()
            .map(|(s, _)| i32::try_from(*s).unwrap_or(i32::MAX))
            .collect();
        let entries: Vec<serde_json::Value> = r
            .steps
            .iter()
            .map(|(_, e)| serde_json::to_value(e))
            .collect::<Result<_, _>>()
            .map_err(StoreError::internal)?;
        sqlx::query!(
            "INSERT INTO automation_run_steps (tenant_id, run_id, seq, entry)
             SELECT $1, $2, * FROM unnest($3::integer[], $4::jsonb[])
             ON CONFLICT (tenant_id, run_id, seq) DO UPDATE SET entry = excluded.entry",
            r.tenant_id,
            run_id,
            &seqs,
            &entries,
        )
        .execute(&mut *conn)
        .await?;
    }
    let was_ended = matches!(before.as_str(), "completed" | "failed" | "cancelled");
    if ended && !was_ended && r.status != "cancelled" {
        let owner = sqlx::query!(
            "SELECT a.name, k.user_id
               FROM automations a
               LEFT JOIN api_keys k ON k.tenant_id = a.tenant_id AND k.id = a.owner_key_id
              WHERE a.id = $1",
            r.automation_id
        )
        .fetch_one(&mut *conn)
        .await?;
        let finished = AutomationRunFinished {
            automation_id: r.automation_id,
            version: r.version,
            run_id: r.workflow_id.clone(),
            error: r.error.as_ref().map(|e| match e.step.as_str() {
                "" => e.message.clone(),
                step => format!("{step}: {}", e.message),
            }),
            automation_name: Some(owner.name),
            owner_user_id: owner.user_id,
        };
        let event = if r.status == "completed" {
            Event::AutomationRunCompleted(finished)
        } else {
            Event::AutomationRunFailed(finished)
        };
        let envelope = Envelope {
            event_id: new_id(),
            tenant_id: r.tenant_id,
            occurred_at: Utc::now(),
            actor: Actor::System,
            event,
        };
        outbox::enqueue_envelope(conn, &envelope).await?;
    }
    Ok(())
}

/// Registers (or, with no event type, removes) a run's wait for events, with its record.
pub async fn set_wait(pool: &PgPool, w: &WaitRequest) -> Result<(), StoreError> {
    let mut tx = tenant::begin_for(pool, w.tenant_id).await?;
    if let Some(r) = &w.record {
        record_in(&mut tx, r).await?;
    }
    match &w.event_type {
        Some(event_type) => {
            sqlx::query!(
                "INSERT INTO automation_waits (tenant_id, workflow_id, event_type, step, since)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (tenant_id, workflow_id)
                 DO UPDATE SET event_type = excluded.event_type, step = excluded.step,
                               since = excluded.since",
                w.tenant_id,
                w.workflow_id,
                event_type,
                w.step,
                w.since,
            )
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query!(
                "DELETE FROM automation_waits WHERE workflow_id = $1",
                w.workflow_id
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(outbox::commit(tx, pool).await?)
}

/// The runs of the tenant waiting for an event of `event_type` that occurred at `at` or
/// later than their wait began.
pub async fn waiting_for(
    pool: &PgPool,
    tenant_id: Uuid,
    event_type: &str,
    at: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let mut tx = tenant::begin_for(pool, tenant_id).await?;
    let ids = sqlx::query_scalar!(
        "SELECT workflow_id FROM automation_waits
          WHERE tenant_id = $1 AND event_type = $2 AND since <= $3",
        tenant_id,
        event_type,
        at,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ids)
}

/// `POST /v1/automations/{id}/runs`: a run of the newest version with `input` as its trigger
/// event's payload, started by the event subscriber from the `automation.run_requested` event.
pub async fn request(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    automation_id: Uuid,
    req: RunRequest,
) -> Result<RunSummary, StoreError> {
    p.require(Permission::PublishAutomations)?;
    let input = req.input.clone().unwrap_or_else(|| serde_json::json!({}));
    let size = serde_json::to_vec(&input).map_or(usize::MAX, |v| v.len());
    if size > MAX_INPUT_BYTES {
        return Err(StoreError::invalid(
            "input",
            format!("must be at most {MAX_INPUT_BYTES} bytes of JSON"),
        ));
    }
    if input.to_string().contains("\\u0000") {
        return Err(StoreError::invalid(
            "input",
            "must not contain a NUL character",
        ));
    }
    let event_id = match key {
        Some(k) => automation_run::manual_event_id(automation_id, k),
        None => new_id(),
    };
    let principal = p.clone();
    let request = serde_json::json!({ "run": automation_id, "input": input });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            let version = sqlx::query_scalar!(
                "SELECT latest_version FROM automations WHERE id = $1",
                automation_id
            )
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)?;
            let version = u32::try_from(version).unwrap_or_default();
            if version == 0 {
                return Err(StoreError::Conflict {
                    detail: "the automation has no published version to run".into(),
                    field: None,
                });
            }
            let workflow_id =
                automation_run::workflow_id(principal.tenant_id, automation_id, event_id);
            let event = psa_domain::automations::run::manual_event(
                principal.tenant_id,
                event_id,
                Utc::now(),
                input.clone(),
            );
            insert_pending(
                conn,
                principal.tenant_id,
                automation_id,
                version,
                &workflow_id,
                &event,
            )
            .await?;
            let requested = AutomationRunRequested {
                automation_id,
                version,
                run_id: workflow_id.clone(),
                input,
            };
            outbox::enqueue(conn, &principal, Event::AutomationRunRequested(requested)).await?;
            summary_by_workflow(conn, &workflow_id).await
        })
    })
    .await
}

async fn summary_by_workflow(
    conn: &mut PgConnection,
    workflow_id: &str,
) -> Result<RunSummary, StoreError> {
    Ok(sqlx::query_as!(
        RunSummary,
        "SELECT id, automation_id, version, workflow_id, status, current_step, started_at,
                updated_at, ended_at
           FROM automation_runs WHERE workflow_id = $1",
        workflow_id
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// The automation's runs, newest first.
pub async fn list(
    pool: &PgPool,
    p: &Principal,
    automation_id: Uuid,
    page: PageRequest,
) -> Result<Page<RunSummary>, StoreError> {
    p.require(Permission::ReadAutomations)?;
    let mut tx = tenant::begin(pool, p).await?;
    let exists = sqlx::query_scalar!(
        "SELECT count(*) AS \"n!\" FROM automations WHERE id = $1",
        automation_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if exists == 0 {
        return Err(StoreError::NotFound);
    }
    let rows = sqlx::query_as!(
        RunSummary,
        "SELECT id, automation_id, version, workflow_id, status, current_step, started_at,
                updated_at, ended_at
           FROM automation_runs r
          WHERE automation_id = $1
            AND ($2::uuid IS NULL OR (started_at, id) <
                 (SELECT started_at, id FROM automation_runs WHERE id = $2))
          ORDER BY started_at DESC, id DESC LIMIT $3",
        automation_id,
        page.after,
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(page.finish(rows, |r| r.id))
}

/// One run with its trace.
pub async fn get(pool: &PgPool, p: &Principal, run_id: Uuid) -> Result<RunDetail, StoreError> {
    p.require(Permission::ReadAutomations)?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = sqlx::query!(
        "SELECT id, automation_id, version, workflow_id, status, current_step, started_at,
                updated_at, ended_at, trigger_event, waiting, vars, result, error, steps_executed
           FROM automation_runs WHERE id = $1",
        run_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let trace = sqlx::query_scalar!(
        "SELECT entry FROM automation_run_steps WHERE run_id = $1 ORDER BY seq",
        run_id
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(RunDetail {
        summary: RunSummary {
            id: row.id,
            automation_id: row.automation_id,
            version: row.version,
            workflow_id: row.workflow_id,
            status: row.status,
            current_step: row.current_step,
            started_at: row.started_at,
            updated_at: row.updated_at,
            ended_at: row.ended_at,
        },
        trigger_event: row.trigger_event,
        waiting: row.waiting,
        vars: row.vars,
        result: row.result,
        error: row.error,
        steps_executed: row.steps_executed,
        trace,
    })
}

/// `duration` of business time after `from` on the tenant's stored SLA schedule, or why it
/// cannot be counted (the same words as the dry run's).
pub async fn business_time(
    pool: &PgPool,
    req: &BusinessRequest,
) -> Result<Result<DateTime<Utc>, String>, StoreError> {
    let mut tx = tenant::begin_for(pool, req.tenant_id).await?;
    let spec = crate::sla::load_schedule(&mut tx, req.schedule_id).await?;
    tx.commit().await?;
    let id = req.schedule_id;
    let Some(spec) = spec else {
        return Ok(Err(format!("there is no business schedule {id}")));
    };
    let calendar = match Calendar::new(&spec, "schedule") {
        Ok(c) => c,
        Err(e) => return Ok(Err(format!("business schedule {id} cannot be used: {e}"))),
    };
    let duration = TimeDelta::milliseconds(req.duration_ms);
    Ok(calendar
        .instant_after(req.from, duration, &[])
        .map_err(|e| format!("business time cannot be counted on schedule {id}: {e}")))
}

/// The trigger event, and for a retry the state it starts from, recorded for a run asked for
/// by hand while it has not begun (none once it was cancelled).
pub async fn pending_start(
    pool: &PgPool,
    tenant_id: Uuid,
    workflow_id: &str,
) -> Result<Option<(serde_json::Value, Option<serde_json::Value>)>, StoreError> {
    let mut tx = tenant::begin_for(pool, tenant_id).await?;
    let row = sqlx::query!(
        "SELECT trigger_event, carry FROM automation_runs
          WHERE workflow_id = $1 AND status = 'pending'",
        workflow_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.map(|r| (r.trigger_event, r.carry)))
}

/// An automation that has, or had, a schedule trigger, as its newest version stands.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledAutomation {
    pub tenant_id: Uuid,
    pub automation_id: Uuid,
    pub name: String,
    pub enabled: bool,
    pub version: u32,
    /// The newest version's trigger (JSON form): a schedule, or no longer one.
    pub trigger: serde_json::Value,
}

/// Every tenant's automations with a schedule trigger in some version, for the worker that
/// keeps their Temporal Schedules.
pub async fn scheduled(pool: &PgPool) -> Result<Vec<ScheduledAutomation>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", automation_id AS "automation_id!", name AS "name!",
                  enabled AS "enabled!", version AS "version!", trigger AS "trigger!"
             FROM automation_schedule_triggers()"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ScheduledAutomation {
            tenant_id: r.tenant_id,
            automation_id: r.automation_id,
            name: r.name,
            enabled: r.enabled,
            version: u32::try_from(r.version).unwrap_or_default(),
            trigger: r.trigger,
        })
        .collect())
}

/// A run someone may cancel: the caller may, and it has not ended.
pub async fn cancellable(
    pool: &PgPool,
    p: &Principal,
    run_id: Uuid,
) -> Result<RunSummary, StoreError> {
    p.require(Permission::PublishAutomations)?;
    let mut tx = tenant::begin(pool, p).await?;
    let run = sqlx::query_as!(
        RunSummary,
        "SELECT id, automation_id, version, workflow_id, status, current_step, started_at,
                updated_at, ended_at
           FROM automation_runs WHERE id = $1",
        run_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    if !matches!(run.status.as_str(), "pending" | "running") {
        return Err(StoreError::WrongState(format!(
            "the run has ended ({})",
            run.status
        )));
    }
    Ok(run)
}

/// Marks a run that never began as cancelled, so it never will.
pub async fn cancel_pending(
    pool: &PgPool,
    p: &Principal,
    run_id: Uuid,
) -> Result<RunSummary, StoreError> {
    let mut tx = tenant::begin(pool, p).await?;
    let run = sqlx::query_as!(
        RunSummary,
        "UPDATE automation_runs
            SET status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END,
                ended_at = CASE WHEN status = 'pending' THEN now() ELSE ended_at END,
                updated_at = now()
          WHERE id = $1
         RETURNING id, automation_id, version, workflow_id, status, current_step, started_at,
                   updated_at, ended_at",
        run_id
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(run)
}

/// `POST /v1/automation-runs/{id}/retry`: a new run of the same version from the failed run's
/// failed step (`{workflow}:retry-{n}`), its earlier steps' effects kept, not repeated.
pub async fn retry(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    run_id: Uuid,
) -> Result<RunSummary, StoreError> {
    p.require(Permission::PublishAutomations)?;
    let principal = p.clone();
    let request = serde_json::json!({ "retry": run_id });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            let failed = sqlx::query!(
                "SELECT automation_id, version, workflow_id, status, trigger_event, retry_from
                   FROM automation_runs WHERE id = $1 FOR UPDATE",
                run_id
            )
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)?;
            let Some(carry) = failed.retry_from.filter(|_| failed.status == "failed") else {
                return Err(StoreError::WrongState(format!(
                    "only a failed run can be retried (this one is {})",
                    failed.status
                )));
            };
            let n = sqlx::query_scalar!(
                "SELECT count(*) AS \"n!\" FROM automation_runs WHERE retry_of = $1",
                run_id
            )
            .fetch_one(&mut *conn)
            .await?;
            let workflow_id = format!("{}:retry-{}", failed.workflow_id, n + 1);
            sqlx::query!(
                "INSERT INTO automation_runs
                        (tenant_id, id, automation_id, version, workflow_id, status,
                         trigger_event, retry_of, carry)
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8)",
                principal.tenant_id,
                automation_run::run_id(&workflow_id),
                failed.automation_id,
                failed.version,
                workflow_id,
                failed.trigger_event,
                run_id,
                carry,
            )
            .execute(&mut *conn)
            .await?;
            let requested = AutomationRunRequested {
                automation_id: failed.automation_id,
                version: u32::try_from(failed.version).unwrap_or_default(),
                run_id: workflow_id.clone(),
                input: failed
                    .trigger_event
                    .get("payload")
                    .cloned()
                    .unwrap_or(serde_json::Value::Null),
            };
            outbox::enqueue(conn, &principal, Event::AutomationRunRequested(requested)).await?;
            summary_by_workflow(conn, &workflow_id).await
        })
    })
    .await
}
