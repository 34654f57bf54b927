//! Schedule entries: create, read, change and delete a series as a whole. Every write checks
//! the caller's right to the entry, locks its assignees, runs the conflict check and raises
//! its `schedule.*` event in the same transaction.

use super::conflicts::{self, OnConflict, Written};
use super::draft::{DEFAULT_REMINDER_MINUTES, Draft, Fields, format_exdates};
use super::rows::{self, Entry, Stored};
use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::nullable::nullable;
use crate::outbox;
use crate::principal::Principal;
use crate::tenant;
use chrono::Utc;
use psa_domain::auth::{Permission, Role};
use psa_domain::events::{Event, ScheduleEntryChanged};
use psa_domain::ids::new_id;
use psa_domain::recurrence::zone::format_local;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

/// A new entry: one appointment, or a series when `rrule` is given.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Quarterly server patching", "assignees": ["0190d9a0-5061-7c73-b485-96a0b1c2d3e4"],
    "start": "2026-12-07T09:00:00", "timezone": "America/New_York", "duration_minutes": 120,
    "rrule": "FREQ=MONTHLY;INTERVAL=3;BYDAY=1MO", "reminder_minutes": 30}))]
pub struct EntryInput {
    #[schema(max_length = 200)]
    pub title: String,
    /// The work item the appointment is for.
    pub ticket_id: Option<Uuid>,
    /// 1 to 50 active internal users.
    #[schema(min_items = 1, max_items = 50)]
    pub assignees: Vec<Uuid>,
    /// Wall-clock start in `timezone`, exactly `YYYY-MM-DDTHH:MM:SS`.
    #[schema(pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", max_length = 19)]
    pub start: String,
    /// IANA zone name.
    #[schema(max_length = 64)]
    pub timezone: String,
    #[schema(minimum = 1, maximum = 10080)]
    pub duration_minutes: i64,
    /// An RRULE value, as the schedule preview takes it.
    #[schema(max_length = 1000)]
    pub rrule: Option<String>,
    /// Produced date-times (`YYYY-MM-DDTHH:MM:SS`) that do not take place.
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub exdates: Vec<String>,
    /// Minutes before each occurrence to remind the assignees: 15 when absent, none when
    /// `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10080)]
    pub reminder_minutes: Option<Option<i64>>,
    #[serde(default)]
    pub on_conflict: OnConflict,
}

/// A change: fields not sent keep their value; `null` clears an optional one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryPatch {
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub ticket_id: Option<Option<Uuid>>,
    #[schema(min_items = 1, max_items = 50)]
    pub assignees: Option<Vec<Uuid>>,
    /// For one occurrence or the following ones: where the (first) edited occurrence now
    /// starts; the occurrence's own date-time when absent.
    #[schema(pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", max_length = 19)]
    pub start: Option<String>,
    #[schema(max_length = 64)]
    pub timezone: Option<String>,
    #[schema(minimum = 1, maximum = 10080)]
    pub duration_minutes: Option<i64>,
    /// `null` makes the entry a single appointment.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub rrule: Option<Option<String>>,
    #[schema(max_items = 1000)]
    pub exdates: Option<Vec<String>>,
    /// `null`: no reminders.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10080)]
    pub reminder_minutes: Option<Option<i64>>,
    #[serde(default)]
    pub on_conflict: OnConflict,
}

impl EntryPatch {
    /// The stored entry's fields with this patch applied.
    pub(crate) fn apply(&self, cur: &Stored) -> Fields {
        Fields {
            title: self.title.clone().unwrap_or_else(|| cur.title.clone()),
            ticket_id: self.ticket_id.unwrap_or(cur.ticket_id),
            assignees: self
                .assignees
                .clone()
                .unwrap_or_else(|| cur.assignees.clone()),
            start: self
                .start
                .clone()
                .unwrap_or_else(|| format_local(cur.series.start)),
            timezone: self
                .timezone
                .clone()
                .unwrap_or_else(|| cur.series.zone.name().to_owned()),
            duration_minutes: self.duration_minutes.unwrap_or(cur.duration.num_minutes()),
            rrule: self
                .rrule
                .clone()
                .unwrap_or_else(|| cur.series.rule.as_ref().map(ToString::to_string)),
            exdates: self
                .exdates
                .clone()
                .unwrap_or_else(|| format_exdates(&cur.series.exdates)),
            reminder_minutes: self
                .reminder_minutes
                .unwrap_or(cur.reminder_minutes.map(i64::from)),
        }
    }
}

/// A technician writes only entries they are assigned to, before and after the change; other
/// roles that may write at all write any entry.
pub(crate) fn check_own(p: &Principal, assignees: &[Uuid]) -> Result<(), StoreError> {
    if p.role != Role::Technician {
        return Ok(());
    }
    match p.user_id {
        Some(me) if assignees.contains(&me) => Ok(()),
        _ => Err(StoreError::Forbidden(
            "a technician may only write entries they are assigned to".into(),
        )),
    }
}

/// The event payload of an entry as written.
pub(crate) fn changed(
    id: Uuid,
    draft: &Draft,
    series_id: Option<Uuid>,
    split_off: Option<Uuid>,
) -> ScheduleEntryChanged {
    ScheduleEntryChanged {
        entry_id: id,
        title: draft.title.clone(),
        series_id,
        split_off,
        starts_at: draft.first_start,
        ends_at: draft.first_start + draft.duration,
        assignee_ids: draft.assignees.clone(),
    }
}

/// Checks a ticket the entry names, so the API answers a missing one with the field's name.
pub(crate) async fn check_ticket(
    conn: &mut PgConnection,
    ticket: Option<Uuid>,
) -> Result<(), StoreError> {
    let Some(ticket) = ticket else {
        return Ok(());
    };
    let found = sqlx::query_scalar!("SELECT id FROM tickets WHERE id = $1", ticket)
        .fetch_optional(&mut *conn)
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::invalid("ticket_id", "no ticket with this ID")),
    }
}

/// One entry a change writes.
pub(crate) struct Part<'a> {
    pub id: Uuid,
    pub draft: &'a Draft,
    /// For an entry cut from a series: that series and the produced date-time taken over.
    pub split: Option<(Uuid, chrono::NaiveDateTime)>,
    pub is_new: bool,
}

impl<'a> Part<'a> {
    pub fn existing(id: Uuid, draft: &'a Draft) -> Self {
        Part {
            id,
            draft,
            split: None,
            is_new: false,
        }
    }

    pub fn cut_from(id: Uuid, draft: &'a Draft, series: Uuid, at: chrono::NaiveDateTime) -> Self {
        Part {
            id,
            draft,
            split: Some((series, at)),
            is_new: true,
        }
    }
}

/// Locks, checks for overlaps and writes the entries of one change, raising an event for each.
/// `replaced` are stored entries the change rewrites or removes.
pub(crate) async fn write(
    conn: &mut PgConnection,
    p: &Principal,
    parts: &[Part<'_>],
    replaced: &[Uuid],
    on_conflict: OnConflict,
) -> Result<(), StoreError> {
    let mut users: Vec<Uuid> = parts
        .iter()
        .flat_map(|part| part.draft.assignees.clone())
        .collect();
    users.sort_unstable();
    users.dedup();
    rows::lock_assignees(conn, &users).await?;
    for part in parts {
        check_ticket(conn, part.draft.ticket_id).await?;
    }
    let written: Vec<Written<'_>> = parts
        .iter()
        .map(|part| Written {
            id: part.id,
            series: &part.draft.series,
            duration: part.draft.duration,
            assignees: &part.draft.assignees,
            first_start: part.draft.first_start,
        })
        .collect();
    let found = conflicts::find(conn, &written, replaced, Utc::now()).await?;
    let recorded = conflicts::decide(found, on_conflict)?;
    for part in parts {
        let (id, draft, split) = (&part.id, part.draft, &part.split);
        rows::save(conn, p.tenant_id, *id, draft, *split, &recorded).await?;
        let split_off = parts
            .iter()
            .find(|other| other.split.is_some_and(|(series, _)| series == *id))
            .map(|other| other.id);
        let payload = changed(*id, draft, split.map(|s| s.0), split_off);
        let event = if part.is_new {
            Event::ScheduleEntryCreated(payload)
        } else {
            Event::ScheduleEntryUpdated(payload)
        };
        outbox::enqueue(conn, p, event).await?;
    }
    Ok(())
}

pub async fn create(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: EntryInput,
) -> Result<Entry, StoreError> {
    p.require(Permission::WriteSchedule)?;
    let draft = Draft::check(&Fields {
        title: input.title.clone(),
        ticket_id: input.ticket_id,
        assignees: input.assignees.clone(),
        start: input.start.clone(),
        timezone: input.timezone.clone(),
        duration_minutes: input.duration_minutes,
        rrule: input.rrule.clone(),
        exdates: input.exdates.clone(),
        reminder_minutes: input
            .reminder_minutes
            .unwrap_or(Some(i64::from(DEFAULT_REMINDER_MINUTES))),
    })?;
    check_own(p, &draft.assignees)?;
    let request = serde_json::json!({ "table": "schedule_entries", "entry": &input });
    // The event is raised as this principal; the closure outlives the borrow.
    let actor = p.clone();
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            let id = new_id();
            let part = Part {
                id,
                draft: &draft,
                split: None,
                is_new: true,
            };
            write(conn, &actor, &[part], &[], input.on_conflict).await?;
            rows::load_entry(conn, id)
                .await?
                .ok_or(StoreError::NotFound)
        })
    })
    .await
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Entry, StoreError> {
    p.require(Permission::ReadSchedule)?;
    let mut tx = tenant::begin(pool, p).await?;
    let entry = rows::load_entry(&mut tx, id).await?;
    tx.commit().await?;
    entry.ok_or(StoreError::NotFound)
}

/// Changes every occurrence: the master itself.
pub async fn update(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    patch: EntryPatch,
) -> Result<Entry, StoreError> {
    p.require(Permission::WriteSchedule)?;
    let mut tx = tenant::begin(pool, p).await?;
    let cur = rows::lock_stored(&mut tx, id).await?;
    check_own(p, &cur.assignees)?;
    let draft = Draft::check(&patch.apply(&cur))?;
    check_own(p, &draft.assignees)?;
    write(
        &mut tx,
        p,
        &[Part::existing(id, &draft)],
        &[id],
        patch.on_conflict,
    )
    .await?;
    let entry = rows::load_entry(&mut tx, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    outbox::commit(tx, pool).await?;
    Ok(entry)
}

/// Deletes the series: every occurrence.
pub async fn delete(pool: &PgPool, p: &Principal, id: Uuid) -> Result<(), StoreError> {
    p.require(Permission::WriteSchedule)?;
    let mut tx = tenant::begin(pool, p).await?;
    let cur = rows::lock_stored(&mut tx, id).await?;
    check_own(p, &cur.assignees)?;
    cancel(&mut tx, p, &cur, None).await?;
    outbox::commit(tx, pool).await?;
    Ok(())
}

/// Removes a stored entry and raises `schedule.entry_cancelled`; `split_off`: the entry that
/// took over its last occurrences in the same change.
pub(crate) async fn cancel(
    conn: &mut PgConnection,
    p: &Principal,
    cur: &Stored,
    split_off: Option<Uuid>,
) -> Result<(), StoreError> {
    let first = super::draft::bounds(&cur.series, cur.duration)
        .map(|(first, _)| first)
        .unwrap_or_else(|_| {
            psa_domain::recurrence::zone::instant(cur.series.zone, cur.series.start)
        });
    rows::delete(conn, cur.id).await?;
    outbox::enqueue(
        conn,
        p,
        Event::ScheduleEntryCancelled(ScheduleEntryChanged {
            entry_id: cur.id,
            title: cur.title.clone(),
            series_id: None,
            split_off,
            starts_at: first,
            ends_at: first + cur.duration,
            assignee_ids: cur.assignees.clone(),
        }),
    )
    .await?;
    Ok(())
}
