//! The SQL of schedule entries: reading a master with its assignees, writing one, and the
//! candidates of a range query or a conflict check.

use super::draft::Draft;
use crate::error::StoreError;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use psa_domain::recurrence::preview::parse_zone;
use psa_domain::recurrence::{Rule, Series};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

/// A stored master, as the API shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Entry {
    pub id: Uuid,
    pub title: String,
    pub ticket_id: Option<Uuid>,
    pub assignees: Vec<Uuid>,
    /// Wall-clock start in `timezone`, `YYYY-MM-DDTHH:MM:SS`.
    pub start: String,
    pub timezone: String,
    pub duration_minutes: i32,
    pub rrule: Option<String>,
    pub exdates: Vec<String>,
    pub reminder_minutes: Option<i32>,
    /// The first occurrence's start, and the last one's end (absent while it repeats forever).
    pub first_start: DateTime<Utc>,
    pub last_end: Option<DateTime<Utc>>,
    /// The series this entry was cut from, and the produced date-time it took over there.
    pub split_from: Option<Uuid>,
    pub split_at: Option<String>,
    /// Overlaps the writer accepted (`on_conflict: allow`), as found at the last write.
    #[schema(value_type = Vec<super::conflicts::Overlap>)]
    pub overlaps: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A master as the expansion needs it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: Uuid,
    pub title: String,
    pub ticket_id: Option<Uuid>,
    pub assignees: Vec<Uuid>,
    pub series: Series,
    pub duration: TimeDelta,
    pub reminder_minutes: Option<i32>,
}

struct Row {
    id: Uuid,
    title: String,
    ticket_id: Option<Uuid>,
    assignees: Vec<Uuid>,
    start_local: NaiveDateTime,
    timezone: String,
    duration_minutes: i32,
    rrule: Option<String>,
    exdates: Vec<NaiveDateTime>,
    reminder_minutes: Option<i32>,
}

impl Row {
    /// Stored rows were checked when written; one that no longer reads (a zone renamed in a
    /// later tz database) is skipped by readers rather than failing them.
    fn stored(self) -> Option<Stored> {
        let zone = parse_zone(&self.timezone).ok()?;
        let rule = match &self.rrule {
            Some(text) => Some(Rule::parse(text).ok()?),
            None => None,
        };
        Some(Stored {
            id: self.id,
            title: self.title,
            ticket_id: self.ticket_id,
            assignees: self.assignees,
            series: Series {
                start: self.start_local,
                zone,
                rule,
                exdates: self.exdates.into_iter().collect(),
            },
            duration: TimeDelta::minutes(i64::from(self.duration_minutes)),
            reminder_minutes: self.reminder_minutes,
        })
    }
}

pub async fn load_entry(conn: &mut PgConnection, id: Uuid) -> Result<Option<Entry>, StoreError> {
    let row = sqlx::query!(
        r#"SELECT e.id, e.title, e.ticket_id, e.start_local, e.timezone, e.duration_minutes,
                  e.rrule, e.exdates, e.reminder_minutes, e.first_start, e.last_end,
                  e.split_from, e.split_at, e.accepted_overlaps, e.created_at, e.updated_at,
                  coalesce((SELECT array_agg(a.user_id ORDER BY a.user_id)
                              FROM schedule_entry_assignees a WHERE a.entry_id = e.id),
                           '{}') AS "assignees!"
             FROM schedule_entries e WHERE e.id = $1"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| Entry {
        id: r.id,
        title: r.title,
        ticket_id: r.ticket_id,
        assignees: r.assignees,
        start: psa_domain::recurrence::zone::format_local(r.start_local),
        timezone: r.timezone,
        duration_minutes: r.duration_minutes,
        rrule: r.rrule,
        exdates: r
            .exdates
            .into_iter()
            .map(psa_domain::recurrence::zone::format_local)
            .collect(),
        reminder_minutes: r.reminder_minutes,
        first_start: r.first_start,
        last_end: r.last_end,
        split_from: r.split_from,
        split_at: r.split_at.map(psa_domain::recurrence::zone::format_local),
        overlaps: r.accepted_overlaps,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }))
}

/// The master, locked for a change.
pub async fn lock_stored(conn: &mut PgConnection, id: Uuid) -> Result<Stored, StoreError> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT e.id, e.title, e.ticket_id, e.start_local, e.timezone, e.duration_minutes,
                  e.rrule, e.exdates, e.reminder_minutes,
                  coalesce((SELECT array_agg(a.user_id ORDER BY a.user_id)
                              FROM schedule_entry_assignees a WHERE a.entry_id = e.id),
                           '{}') AS "assignees!"
             FROM schedule_entries e WHERE e.id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    row.stored().ok_or_else(|| {
        StoreError::WrongState("the entry's stored rule or zone no longer reads".into())
    })
}

/// Entries with an occurrence that may touch `[from, to)`, of any of `users` (all entries when
/// `users` is `None`), except `except`.
pub async fn candidates(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    users: Option<&[Uuid]>,
    except: &[Uuid],
) -> Result<Vec<Stored>, StoreError> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT e.id, e.title, e.ticket_id, e.start_local, e.timezone, e.duration_minutes,
                  e.rrule, e.exdates, e.reminder_minutes,
                  coalesce((SELECT array_agg(a.user_id ORDER BY a.user_id)
                              FROM schedule_entry_assignees a WHERE a.entry_id = e.id),
                           '{}') AS "assignees!"
             FROM schedule_entries e
            WHERE e.first_start < $2
              AND (e.last_end IS NULL OR e.last_end > $1)
              AND NOT (e.id = ANY($4))
              AND ($3::uuid[] IS NULL OR EXISTS (
                    SELECT 1 FROM schedule_entry_assignees a
                     WHERE a.entry_id = e.id AND a.user_id = ANY($3)))
            ORDER BY e.id"#,
        from,
        to,
        users as Option<&[Uuid]>,
        except,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().filter_map(Row::stored).collect())
}

/// Locks the users an entry names, in one order so two writers never wait on each other, and
/// refuses any that is not an active internal user. Holding these locks serialises every write
/// that could put two occurrences of one user on top of each other.
pub async fn lock_assignees(conn: &mut PgConnection, users: &[Uuid]) -> Result<(), StoreError> {
    let usable = sqlx::query_scalar!(
        r#"SELECT id FROM users
            WHERE id = ANY($1) AND kind = 'internal' AND active
            ORDER BY id FOR NO KEY UPDATE"#,
        users
    )
    .fetch_all(&mut *conn)
    .await?;
    if let Some(bad) = users.iter().find(|u| !usable.contains(u)) {
        return Err(StoreError::invalid(
            "assignees",
            format!("{bad} is not an active internal user of the tenant"),
        ));
    }
    Ok(())
}

/// Writes `draft` as entry `id` (a new one, or over the stored one) with its assignees.
pub async fn save(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    draft: &Draft,
    split: Option<(Uuid, NaiveDateTime)>,
    overlaps: &serde_json::Value,
) -> Result<(), StoreError> {
    let duration = i32::try_from(draft.duration.num_minutes()).map_err(StoreError::internal)?;
    sqlx::query!(
        "INSERT INTO schedule_entries (tenant_id, id, title, ticket_id, start_local, timezone,
                duration_minutes, rrule, exdates, reminder_minutes, first_start, last_end,
                split_from, split_at, accepted_overlaps)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (tenant_id, id) DO UPDATE SET
                title = EXCLUDED.title, ticket_id = EXCLUDED.ticket_id,
                start_local = EXCLUDED.start_local, timezone = EXCLUDED.timezone,
                duration_minutes = EXCLUDED.duration_minutes, rrule = EXCLUDED.rrule,
                exdates = EXCLUDED.exdates, reminder_minutes = EXCLUDED.reminder_minutes,
                first_start = EXCLUDED.first_start, last_end = EXCLUDED.last_end,
                accepted_overlaps = EXCLUDED.accepted_overlaps, updated_at = now()",
        tenant,
        id,
        draft.title,
        draft.ticket_id,
        draft.series.start,
        draft.series.zone.name(),
        duration,
        draft.rule_text(),
        &draft.exdates(),
        draft.reminder_minutes,
        draft.first_start,
        draft.last_end,
        split.map(|s| s.0),
        split.map(|s| s.1),
        overlaps,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM schedule_entry_assignees WHERE entry_id = $1 AND NOT (user_id = ANY($2))",
        id,
        &draft.assignees
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO schedule_entry_assignees (tenant_id, entry_id, user_id)
         SELECT $1, $2, u FROM unnest($3::uuid[]) AS u
         ON CONFLICT DO NOTHING",
        tenant,
        id,
        &draft.assignees
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<(), StoreError> {
    sqlx::query!("DELETE FROM schedule_entries WHERE id = $1", id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
