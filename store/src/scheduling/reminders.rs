//! What a schedule entry's reminder run reads and records: the entry's master as it stands
//! now, and each reminder, recorded once per occurrence together with the
//! `schedule.reminder` event that notifies its assignees.

use super::rows;
use crate::error::StoreError;
use crate::{outbox, tenant};
use chrono::Utc;
use psa_domain::events::{Actor, Envelope, Event, ScheduleReminder};
use psa_domain::ids::new_id;
use psa_domain::recurrence::zone::parse_local;
use psa_domain::scheduling::reminders::{PlanRequest, ReminderPlan, SendOutcome, SendRequest};
use sqlx::PgPool;

/// The entry's master, `None` once it is deleted.
pub async fn plan(pool: &PgPool, req: PlanRequest) -> Result<Option<ReminderPlan>, StoreError> {
    let mut tx = tenant::begin_for(pool, req.tenant_id).await?;
    let entry = rows::load_entry(&mut tx, req.entry_id).await?;
    tx.commit().await?;
    Ok(entry.map(|e| ReminderPlan {
        title: e.title,
        start: e.start,
        timezone: e.timezone,
        duration_minutes: e.duration_minutes,
        rrule: e.rrule,
        exdates: e.exdates,
        reminder_minutes: e.reminder_minutes,
    }))
}

/// Records the reminder of one occurrence and raises its event, in one transaction, if the
/// entry as stored now still has that occurrence with reminders on and it was not reminded
/// before. The entry's row is locked meanwhile, so an edit either comes before (and the
/// reminder is [`SendOutcome::Stale`]) or after it.
pub async fn send(pool: &PgPool, req: &SendRequest) -> Result<SendOutcome, StoreError> {
    let mut tx = tenant::begin_for(pool, req.tenant_id).await?;
    let stored = match rows::lock_stored(&mut tx, req.entry_id).await {
        Ok(stored) => stored,
        // Deleted, or no longer readable: nothing to remind of.
        Err(StoreError::NotFound | StoreError::WrongState(_)) => return Ok(SendOutcome::Stale),
        Err(e) => return Err(e),
    };
    let Some(minutes) = stored.reminder_minutes.and_then(|m| u32::try_from(m).ok()) else {
        return Ok(SendOutcome::Stale);
    };
    let Ok(local) = parse_local(&req.local) else {
        return Ok(SendOutcome::Stale);
    };
    let occurrence = stored.series.from(req.starts_at).next();
    if occurrence.is_none_or(|o| o.local != local || o.start != req.starts_at) {
        return Ok(SendOutcome::Stale);
    }
    let event_id = new_id();
    let recorded = sqlx::query_scalar!(
        "INSERT INTO schedule_reminders (tenant_id, entry_id, occurrence_start, event_id)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING
         RETURNING event_id",
        req.tenant_id,
        req.entry_id,
        req.starts_at,
        event_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if recorded.is_none() {
        return Ok(SendOutcome::AlreadySent);
    }
    let envelope = Envelope {
        event_id,
        tenant_id: req.tenant_id,
        occurred_at: Utc::now(),
        actor: Actor::System,
        event: Event::ScheduleReminder(ScheduleReminder {
            entry_id: req.entry_id,
            title: stored.title,
            starts_at: req.starts_at,
            ends_at: req.starts_at + stored.duration,
            local_start: psa_domain::recurrence::zone::format_local(local),
            timezone: stored.series.zone.name().to_owned(),
            minutes_before: minutes,
            assignee_ids: stored.assignees,
        }),
    };
    outbox::enqueue_envelope(&mut tx, &envelope).await?;
    outbox::commit(tx, pool).await?;
    Ok(SendOutcome::Sent)
}
