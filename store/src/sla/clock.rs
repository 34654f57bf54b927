//! Postgres reads and writes of the ticket SLA workflow: the policy in force for a ticket, and
//! each decision of its clock (audit step, SLA columns, SLA event for notifications), once.

use crate::tenant::begin_for as begin_tenant;
use chrono::{DateTime, Utc};
use psa_domain::calendar::{Calendar, ScheduleSpec};
use psa_domain::events::{Actor, Envelope, Event, SlaBreached, SlaEscalated, SlaThreshold};
use psa_domain::ids::new_id;
use psa_domain::notifications::Channel;
use psa_domain::sla::run::{
    SlaContextRequest, SlaLimits, SlaRecord, SlaStep, SlaTicketContext, SlaUpdate,
};
use psa_domain::sla::{
    DEFAULT_ESCALATION_PERCENTS, Percent, SlaAction, SlaPolicySnapshot, SlaTracker, ThresholdRule,
    default_threshold_rules,
};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum SlaStoreError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("ticket {0} not found")]
    TicketNotFound(Uuid),
    #[error("SLA event is invalid: {0}")]
    Event(String),
    #[error(transparent)]
    Store(#[from] crate::error::StoreError),
}

/// Implements the ticket workflow's store activities.
#[derive(Clone)]
pub struct SlaStore {
    pool: PgPool,
    /// Handed to each new run (`SLA_REOPEN_WINDOW_SECONDS`, `SLA_CONTINUE_AS_NEW_EVENTS`).
    limits: SlaLimits,
}

struct TicketRow {
    created_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    pauses_sla: bool,
    is_closed: bool,
    awaiting_client: bool,
    priority_id: Uuid,
    policy_id: Option<Uuid>,
}

struct PolicyRow {
    schedule_id: Option<Uuid>,
    escalation_1_percent: i32,
    escalation_2_percent: i32,
    escalation_3_percent: i32,
}

/// What reading a stored configuration found wrong with it. Stored data is not trusted to be
/// valid (old rows, rows written by SQL): a clock is told, never brought down.
#[derive(Default)]
struct Findings {
    /// Left out and harmless: the rest of the configuration is used.
    ignored: Vec<String>,
    /// The configuration cannot be used at all.
    error: Option<String>,
}

/// The key of an audit step's detail naming the run that wrote it at its start.
const RUN_ID: &str = "run_id";

/// Every day, around the clock, in UTC: the schedule of a tenant that has set up none.
fn always_open() -> ScheduleSpec {
    ScheduleSpec {
        timezone: "UTC".into(),
        is_24x7: true,
        hours: vec![],
        holidays: vec![],
    }
}

impl SlaStore {
    pub fn new(pool: PgPool, limits: SlaLimits) -> Self {
        Self { pool, limits }
    }

    /// The ticket's SLA-relevant state and the policy in force: the client's policy, else the
    /// board's, else the tenant default; the policy's schedule, else the tenant's default
    /// schedule, else around the clock.
    pub async fn load_context(
        &self,
        req: SlaContextRequest,
    ) -> Result<SlaTicketContext, SlaStoreError> {
        let mut tx = begin_tenant(&self.pool, req.tenant_id).await?;
        let context = self.context_in(&mut tx, &req, None).await?;
        tx.commit().await?;
        Ok(context)
    }

    /// Starts a ticket's clock in one transaction: reads its context with what earlier runs
    /// wrote ([`Self::load_context`] with the record), lets `decide` start the clock from it,
    /// and writes the updates it returns ([`Self::record_update`]), each step tagged with
    /// `run_id`. Steps already tagged with `run_id` are no earlier run's: a start attempted
    /// again after its first attempt committed decides from what that attempt saw, and its
    /// writes find theirs in place.
    pub async fn start_clock<T>(
        &self,
        req: SlaContextRequest,
        run_id: &str,
        decide: impl FnOnce(&SlaTicketContext) -> (Vec<SlaUpdate>, T),
    ) -> Result<(SlaTicketContext, T), SlaStoreError> {
        let mut tx = begin_tenant(&self.pool, req.tenant_id).await?;
        let req = SlaContextRequest {
            with_record: true,
            ..req
        };
        let context = self.context_in(&mut tx, &req, Some(run_id)).await?;
        let (updates, decided) = decide(&context);
        let mut told = false;
        for mut u in updates {
            if let Some(detail) = u.step.detail.as_object_mut() {
                detail.insert(RUN_ID.into(), serde_json::json!(run_id));
            }
            told |= self.update_in(&mut tx, &u).await?;
        }
        if told {
            crate::outbox::commit(tx, &self.pool).await?;
        } else {
            tx.commit().await?;
        }
        Ok((context, decided))
    }

    /// [`Self::load_context`] inside `tx`; the record leaves out the steps of `leaving_out`.
    async fn context_in(
        &self,
        tx: &mut PgConnection,
        req: &SlaContextRequest,
        leaving_out: Option<&str>,
    ) -> Result<SlaTicketContext, SlaStoreError> {
        let ticket = sqlx::query_as!(
            TicketRow,
            r#"SELECT t.created_at, t.closed_at, s.pauses_sla, s.is_closed, t.awaiting_client, t.priority_id,
                      COALESCE(c.sla_policy_id, b.sla_policy_id,
                               (SELECT id FROM sla_policies WHERE is_default)) AS policy_id
                 FROM tickets t
                 JOIN statuses s ON s.tenant_id = t.tenant_id AND s.id = t.status_id
                 JOIN boards b ON b.tenant_id = t.tenant_id AND b.id = t.board_id
                 LEFT JOIN clients c ON c.tenant_id = t.tenant_id AND c.id = t.client_id
                WHERE t.id = $1"#,
            req.ticket_id,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(SlaStoreError::TicketNotFound(req.ticket_id))?;
        let pause_while_awaiting_client = sqlx::query_scalar!(
            r#"SELECT COALESCE((SELECT pause_while_awaiting_client FROM tenant_sla_settings), false)
                   AS "pause!""#
        )
        .fetch_one(&mut *tx)
        .await?;
        let mut findings = Findings::default();
        let mut policy = match ticket.policy_id {
            Some(id) => {
                policy(
                    &mut *tx,
                    id,
                    ticket.priority_id,
                    pause_while_awaiting_client,
                    &mut findings,
                )
                .await?
            }
            None => SlaPolicySnapshot {
                policy_id: None,
                schedule: default_schedule(&mut *tx, &mut findings).await?,
                response_minutes: None,
                resolution_minutes: None,
                thresholds: default_threshold_rules(),
                escalation_percents: DEFAULT_ESCALATION_PERCENTS,
                pause_while_awaiting_client,
            },
        };
        for h in policy.schedule.take_unreadable_holidays() {
            findings.ignored.push(format!(
                "holiday `{}` ignored: not a date as YYYY-MM-DD",
                h.date
            ));
        }
        if findings.error.is_none()
            && let Err(e) = Calendar::new(&policy.schedule, "schedule")
        {
            findings.error = Some(format!("the schedule cannot be used: {e}"));
        }
        if !findings.ignored.is_empty() || findings.error.is_some() {
            tracing::warn!(ticket = %req.ticket_id, ignored = ?findings.ignored, error = ?findings.error, "SLA configuration has unreadable data");
        }
        let record = if req.with_record {
            record(&mut *tx, req.ticket_id, leaving_out).await?
        } else {
            None
        };
        Ok(SlaTicketContext {
            policy,
            created_at: ticket.created_at,
            status_pauses: ticket.pauses_sla,
            closed: ticket.is_closed,
            awaiting_client: ticket.awaiting_client,
            limits: self.limits.clone(),
            closed_at: ticket.closed_at,
            configuration_error: findings.error,
            ignored: findings.ignored,
            record,
        })
    }

    /// Writes one decision of the clock. The audit step is unique per (ticket, step key): a
    /// retried write finds it and sends no second event.
    pub async fn record_update(&self, u: &SlaUpdate) -> Result<(), SlaStoreError> {
        let mut tx = begin_tenant(&self.pool, u.step.tenant_id).await?;
        if self.update_in(&mut tx, u).await? {
            crate::outbox::commit(tx, &self.pool).await?;
        } else {
            tx.commit().await?;
        }
        Ok(())
    }

    /// [`Self::record_update`] inside `tx`; true when it wrote an event to the outbox (the
    /// commit then wakes the relays).
    async fn update_in(&self, tx: &mut PgConnection, u: &SlaUpdate) -> Result<bool, SlaStoreError> {
        let mut step = u.step.clone();
        if let Some(obj) = step.detail.as_object_mut() {
            obj.insert("state".into(), serde_json::json!(u.view.state));
            obj.insert(
                "escalation_level".into(),
                serde_json::json!(u.view.escalation_level),
            );
            // The clock as of this step: the status endpoint reads the last one once the
            // ticket's run has ended.
            obj.insert(
                "view".into(),
                serde_json::to_value(&u.view).unwrap_or_default(),
            );
            if let Some(a) = &u.action {
                obj.insert("action".into(), serde_json::to_value(a).unwrap_or_default());
            }
            if let Some(t) = &u.tracker {
                obj.insert(
                    "tracker".into(),
                    serde_json::to_value(t).unwrap_or_default(),
                );
            }
        }
        let inserted = insert_step(&mut *tx, &step).await?;
        let v = &u.view;
        sqlx::query!(
            "UPDATE tickets SET
                 sla_policy_id = $2, sla_started_at = $3,
                 sla_response_due_at = $4, sla_response_at = $5, sla_response_met = $6,
                 sla_resolution_due_at = $7, sla_resolution_at = $8, sla_resolution_met = $9,
                 sla_paused_since = $10, sla_total_paused_minutes = $11,
                 sla_escalation_level = $12, sla_state = $13,
                 sla_response_minutes = CASE WHEN $5::timestamptz IS NULL THEN NULL ELSE $14::integer END,
                 sla_resolution_minutes = CASE WHEN $8::timestamptz IS NULL THEN NULL ELSE $15::integer END
             WHERE id = $1",
            u.step.ticket_id,
            v.policy_id,
            v.started_at,
            v.response.due_at,
            v.response.stopped_at,
            v.response.met,
            v.resolution.due_at,
            v.resolution.stopped_at,
            v.resolution.met,
            v.paused_since,
            minutes_column(v.paused_minutes),
            i16::from(v.escalation_level),
            v.state.as_str(),
            minutes_column(v.response.elapsed_minutes),
            minutes_column(v.resolution.elapsed_minutes),
        )
        .execute(&mut *tx)
        .await?;
        if inserted && let Some(event) = self.event_for(&mut *tx, u).await? {
            let envelope = Envelope {
                event_id: new_id(),
                tenant_id: u.step.tenant_id,
                occurred_at: u.step.occurred_at,
                actor: Actor::System,
                event,
            };
            crate::outbox::enqueue_envelope(&mut *tx, &envelope).await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The SLA event an action calls for, with its recipients. The threshold at the breach is
    /// told once, as `sla.breached`.
    async fn event_for(
        &self,
        conn: &mut PgConnection,
        u: &SlaUpdate,
    ) -> Result<Option<Event>, SlaStoreError> {
        let level = u.view.escalation_level;
        Ok(match &u.action {
            None => None,
            Some(SlaAction::Threshold { rule, .. }) if rule.percent == Percent::BREACH => None,
            Some(SlaAction::Threshold {
                phase,
                rule,
                due_at,
            }) => Some(Event::SlaThreshold(SlaThreshold {
                ticket_id: u.step.ticket_id,
                phase: *phase,
                percent: rule.percent.get(),
                due_at: due_at.unwrap_or(u.step.occurred_at),
                recipients: recipients(conn, u.step.ticket_id, rule, level).await?,
                channels: event_channels(&rule.channels),
            })),
            Some(SlaAction::Breached { phase, due_at }) => {
                let rule = u.breach_rule.clone().unwrap_or_else(|| ThresholdRule {
                    percent: Percent::BREACH,
                    notify_assignee: true,
                    notify_board_manager: true,
                    notify_escalation_managers: false,
                    channels: vec![],
                });
                Some(Event::SlaBreached(SlaBreached {
                    ticket_id: u.step.ticket_id,
                    phase: *phase,
                    due_at: due_at.unwrap_or(u.step.occurred_at),
                    recipients: recipients(conn, u.step.ticket_id, &rule, level).await?,
                    channels: event_channels(&rule.channels),
                }))
            }
            Some(SlaAction::Escalated { phase, level }) => {
                let managers = escalation_managers(conn, u.step.ticket_id, *level).await?;
                Some(Event::SlaEscalated(SlaEscalated {
                    ticket_id: u.step.ticket_id,
                    phase: *phase,
                    level: *level,
                    recipients: managers,
                    channels: vec![],
                }))
            }
        })
    }
}

async fn policy(
    conn: &mut PgConnection,
    id: Uuid,
    priority: Uuid,
    pause_while_awaiting_client: bool,
    findings: &mut Findings,
) -> Result<SlaPolicySnapshot, SlaStoreError> {
    let row = sqlx::query_as!(
        PolicyRow,
        "SELECT schedule_id, escalation_1_percent, escalation_2_percent, escalation_3_percent
           FROM sla_policies WHERE id = $1",
        id,
    )
    .fetch_one(&mut *conn)
    .await?;
    let (response, resolution, is_24x7) = sqlx::query!(
        "SELECT response_minutes, resolution_minutes, is_24x7 FROM sla_policy_targets
          WHERE policy_id = $1 AND priority_id = $2",
        id,
        priority,
    )
    .fetch_optional(&mut *conn)
    .await?
    .map_or((None, None, false), |t| {
        (t.response_minutes, t.resolution_minutes, t.is_24x7)
    });
    let rules = sqlx::query!(
        "SELECT percent, notify_assignee, notify_board_manager, notify_escalation_managers, channels
           FROM sla_notification_thresholds WHERE policy_id = $1 ORDER BY percent",
        id,
    )
    .fetch_all(&mut *conn)
    .await?;
    let thresholds = if rules.is_empty() {
        default_threshold_rules()
    } else {
        rules
            .into_iter()
            .filter_map(|r| {
                threshold_rule(
                    r.percent,
                    [
                        r.notify_assignee,
                        r.notify_board_manager,
                        r.notify_escalation_managers,
                    ],
                    &r.channels,
                    findings,
                )
            })
            .collect()
    };
    let escalations = [
        row.escalation_1_percent,
        row.escalation_2_percent,
        row.escalation_3_percent,
    ]
    .map(Percent::try_from);
    let escalation_percents = match escalations {
        [Ok(a), Ok(b), Ok(c)] => [a, b, c],
        _ => {
            // Which level the ticket reaches when cannot be known: the clock keeps its last
            // good configuration (the placeholder below is never used).
            let bad = escalations
                .iter()
                .filter_map(|e| e.as_ref().err().map(ToString::to_string))
                .collect::<Vec<_>>()
                .join("; ");
            findings.error = Some(format!(
                "policy {id}: escalation percentages are unreadable: {bad}"
            ));
            DEFAULT_ESCALATION_PERCENTS
        }
    };
    let mut schedule = match row.schedule_id {
        Some(s) => stored_schedule(conn, s, findings).await?,
        None => default_schedule(conn, findings).await?,
    };
    if is_24x7 {
        schedule.is_24x7 = true;
    }
    Ok(SlaPolicySnapshot {
        policy_id: Some(id),
        schedule,
        response_minutes: response.map(i64::from),
        resolution_minutes: resolution.map(i64::from),
        thresholds,
        escalation_percents,
        pause_while_awaiting_client,
    })
}

/// A stored threshold rule as the clock uses it. A percentage that is no [`Percent`] leaves
/// the rule out (it could never be reached as stored); a channel that is no [`Channel`] is
/// left out of the rule. A rule none of whose channels is one still fires (its step is part
/// of the clock) but tells nobody, as stored: an empty channel list would mean "every
/// channel".
fn threshold_rule(
    percent: i32,
    [
        notify_assignee,
        notify_board_manager,
        notify_escalation_managers,
    ]: [bool; 3],
    stored_channels: &[String],
    findings: &mut Findings,
) -> Option<ThresholdRule> {
    let percent = Percent::try_from(percent)
        .map_err(|e| {
            findings
                .ignored
                .push(format!("threshold rule left out: {e}"))
        })
        .ok()?;
    let channels: Vec<Channel> = stored_channels
        .iter()
        .filter_map(|c| {
            c.parse::<Channel>()
                .map_err(|e| {
                    findings
                        .ignored
                        .push(format!("threshold {percent}: channel left out: {e}"))
                })
                .ok()
        })
        .collect();
    let tells_nobody = channels.is_empty() && !stored_channels.is_empty();
    if tells_nobody {
        findings.ignored.push(format!(
            "threshold {percent} tells nobody: it names no notification channel"
        ));
    }
    Some(ThresholdRule {
        percent,
        notify_assignee: notify_assignee && !tells_nobody,
        notify_board_manager: notify_board_manager && !tells_nobody,
        notify_escalation_managers: notify_escalation_managers && !tells_nobody,
        channels,
    })
}

/// A span of minutes for an `integer` SLA column. Saturates: `i32::MAX` minutes are over
/// 4,000 years, beyond any clock, and the write of a decision must not fail on it.
fn minutes_column(minutes: i64) -> i32 {
    i32::try_from(minutes).unwrap_or(if minutes < 0 { i32::MIN } else { i32::MAX })
}

async fn stored_schedule(
    conn: &mut PgConnection,
    id: Uuid,
    findings: &mut Findings,
) -> Result<ScheduleSpec, SlaStoreError> {
    let spec = sqlx::query_scalar!("SELECT sla_schedule_spec($1)", id)
        .fetch_one(&mut *conn)
        .await?;
    match spec.map(serde_json::from_value::<ScheduleSpec>) {
        Some(Ok(spec)) => Ok(spec),
        Some(Err(e)) => {
            findings.error = Some(format!("stored schedule {id} is unreadable: {e}"));
            Ok(always_open())
        }
        None => Ok(always_open()),
    }
}

/// What earlier runs wrote for the ticket, leaving out the steps of run `leaving_out`; `None`
/// when nothing was.
async fn record(
    conn: &mut PgConnection,
    ticket: Uuid,
    leaving_out: Option<&str>,
) -> Result<Option<SlaRecord>, SlaStoreError> {
    let step_keys = sqlx::query_scalar!(
        "SELECT step_key FROM sla_audit_log
          WHERE ticket_id = $1 AND ($2::text IS NULL OR detail->>'run_id' IS DISTINCT FROM $2)
          ORDER BY occurred_at, recorded_at",
        ticket,
        leaving_out,
    )
    .fetch_all(&mut *conn)
    .await?;
    if step_keys.is_empty() {
        return Ok(None);
    }
    // `detail ? 'tracker'`: the key is there, so its value is no SQL NULL.
    let tracker = sqlx::query_scalar!(
        r#"SELECT detail->'tracker' AS "tracker!" FROM sla_audit_log
            WHERE ticket_id = $1 AND detail ? 'tracker'
              AND ($2::text IS NULL OR detail->>'run_id' IS DISTINCT FROM $2)
            ORDER BY occurred_at DESC, recorded_at DESC LIMIT 1"#,
        ticket,
        leaving_out,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let response_at =
        sqlx::query_scalar!("SELECT sla_response_at FROM tickets WHERE id = $1", ticket)
            .fetch_one(&mut *conn)
            .await?;
    Ok(Some(SlaRecord {
        // A record this code cannot read is rebuilt from the step keys instead.
        tracker: tracker.and_then(|v| serde_json::from_value::<SlaTracker>(v).ok()),
        step_keys,
        response_at,
    }))
}

async fn default_schedule(
    conn: &mut PgConnection,
    findings: &mut Findings,
) -> Result<ScheduleSpec, SlaStoreError> {
    let id = sqlx::query_scalar!("SELECT id FROM business_hours_schedules WHERE is_default")
        .fetch_optional(&mut *conn)
        .await?;
    match id {
        Some(id) => stored_schedule(conn, id, findings).await,
        None => Ok(always_open()),
    }
}

/// The users a rule names for a ticket: its assignee, its board's manager, and the escalation
/// managers of the ticket's level (level 1 before any escalation).
async fn recipients(
    conn: &mut PgConnection,
    ticket: Uuid,
    rule: &ThresholdRule,
    level: u8,
) -> Result<Vec<Uuid>, SlaStoreError> {
    let people = sqlx::query!(
        "SELECT t.assignee_id, b.manager_id FROM tickets t
           JOIN boards b ON b.tenant_id = t.tenant_id AND b.id = t.board_id WHERE t.id = $1",
        ticket,
    )
    .fetch_one(&mut *conn)
    .await?;
    let (assignee, manager) = (people.assignee_id, people.manager_id);
    let mut out = Vec::new();
    if rule.notify_assignee {
        out.extend(assignee);
    }
    if rule.notify_board_manager {
        out.extend(manager);
    }
    if rule.notify_escalation_managers {
        out.extend(escalation_managers(conn, ticket, level.max(1)).await?);
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|u| seen.insert(*u));
    Ok(out)
}

/// An SLA event's `channels`: the rule's, in their stored spelling (events carry text, so a
/// receiver of a newer event with a channel it does not know can still read it).
fn event_channels(channels: &[Channel]) -> Vec<String> {
    channels.iter().map(|c| c.as_str().to_owned()).collect()
}

async fn escalation_managers(
    conn: &mut PgConnection,
    ticket: Uuid,
    level: u8,
) -> Result<Vec<Uuid>, SlaStoreError> {
    Ok(sqlx::query_scalar!(
        "SELECT m.user_id FROM board_escalation_managers m
           JOIN tickets t ON t.tenant_id = m.tenant_id AND t.board_id = m.board_id
          WHERE t.id = $1 AND m.level = $2 ORDER BY m.user_id",
        ticket,
        i16::from(level),
    )
    .fetch_all(&mut *conn)
    .await?)
}

impl SlaStore {
    /// Appends a step to `sla_audit_log`; a repeated `(ticket, step_key)` is a no-op. (Runs
    /// begun before the SLA engine write only these.)
    pub async fn write_step(&self, step: &SlaStep) -> Result<(), sqlx::Error> {
        let mut tx = begin_tenant(&self.pool, step.tenant_id).await?;
        insert_step(&mut tx, step).await?;
        tx.commit().await
    }
}

/// Appends `step` to `sla_audit_log` unless the ticket has that step key already; `true` when
/// it was new.
async fn insert_step(conn: &mut PgConnection, step: &SlaStep) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "INSERT INTO sla_audit_log (tenant_id, id, ticket_id, step_key, event, detail, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (tenant_id, ticket_id, step_key) DO NOTHING",
        step.tenant_id,
        new_id(),
        step.ticket_id,
        step.step_key,
        step.event,
        step.detail,
        step.occurred_at,
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}
