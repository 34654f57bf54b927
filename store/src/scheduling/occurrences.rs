//! Occurrences: the range query that expands stored masters on demand, and the edits and
//! deletions of one occurrence ("this") or of one and the ones after it ("following"). An
//! occurrence is named by a stable virtual ID, `{entry}_{YYYYMMDDTHHMMSS}`: its series and the
//! wall-clock date-time the rule produced for it.
//!
//! Editing one occurrence moves it out of its series: the master excludes it and a new single
//! entry takes its place (remembering where it came from). Editing the following ones cuts the
//! series there: the master ends before the cut and a new series starts at it.

use super::conflicts::{OnConflict, occurrence_id, parse_occurrence_id};
use super::draft::{Draft, Fields, is_empty_series};
use super::entries::{self, EntryPatch, Part, check_own};
use super::rows::{self, Entry, Stored};
use crate::error::StoreError;
use crate::outbox;
use crate::pagination::PageRequest;
use crate::principal::Principal;
use crate::tenant;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Datelike, NaiveDateTime, TimeDelta, Utc};
use psa_domain::auth::Permission;
use psa_domain::ids::new_id;
use psa_domain::recurrence::Series;
use psa_domain::recurrence::split::cut;
use psa_domain::recurrence::zone::{self, format_local};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Which occurrences an edit or a deletion of one occurrence reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// This occurrence only.
    #[default]
    This,
    /// This one and every later one.
    Following,
    /// The whole series.
    All,
}

/// An occurrence as the calendar shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OccurrenceView {
    /// Stable: the same occurrence has the same ID in every answer until it is edited.
    pub id: String,
    pub entry_id: Uuid,
    pub title: String,
    pub ticket_id: Option<Uuid>,
    pub assignees: Vec<Uuid>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The start's wall-clock time in `timezone`.
    pub local_start: String,
    pub timezone: String,
    /// Whether the occurrence belongs to a repeating series.
    pub recurring: bool,
    pub reminder_minutes: Option<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OccurrencePage {
    pub items: Vec<OccurrenceView>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// The range query's question.
#[derive(Debug, Clone)]
pub struct RangeQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub assignee: Option<Uuid>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Widest range one query may ask for.
pub const MAX_RANGE_DAYS: i64 = 366;
/// Most occurrences of one series in a range (a daily series over 366 days has 366).
const MAX_PER_SERIES: usize = 2_000;

fn encode_cursor(o: &OccurrenceView) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", o.start.to_rfc3339(), o.id))
}

fn decode_cursor(text: &str) -> Option<(DateTime<Utc>, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (start, id) = text.split_once('|')?;
    let start = DateTime::parse_from_rfc3339(start)
        .ok()?
        .with_timezone(&Utc);
    Some((start, id.to_owned()))
}

/// Occurrences overlapping `[from, to)`, of everyone or of one assignee, in order of start.
pub async fn list(
    pool: &PgPool,
    p: &Principal,
    q: RangeQuery,
) -> Result<OccurrencePage, StoreError> {
    p.require(Permission::ReadSchedule)?;
    for (field, at) in [("from", q.from), ("to", q.to)] {
        if !(1..=9999).contains(&at.year()) {
            return Err(StoreError::bad_request(
                "must lie in the years 1 to 9999",
                Some(field),
            ));
        }
    }
    if q.to <= q.from {
        return Err(StoreError::bad_request("must be after `from`", Some("to")));
    }
    if q.to - q.from > TimeDelta::days(MAX_RANGE_DAYS) {
        return Err(StoreError::bad_request(
            format!("must be at most {MAX_RANGE_DAYS} days after `from`"),
            Some("to"),
        ));
    }
    // Limits read as every other list's do; the cursor is this list's own.
    let limit = PageRequest::parse(q.limit, None)?.limit as usize;
    let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            decode_cursor(c)
                .ok_or_else(|| StoreError::bad_request("invalid cursor", Some("cursor")))?,
        ),
    };
    let mut tx = tenant::begin(pool, p).await?;
    let users = q.assignee.map(|a| vec![a]);
    let longest = TimeDelta::minutes(psa_domain::recurrence::preview::MAX_DURATION_MINUTES);
    let stored = rows::candidates(&mut tx, q.from - longest, q.to, users.as_deref(), &[]).await?;
    tx.commit().await?;
    let mut items = Vec::new();
    let window_from = after
        .as_ref()
        .map_or(q.from, |(start, _)| (*start).max(q.from));
    for s in &stored {
        // A COUNT in the millions is not walked to a window centuries on (`Series::reaches`).
        if !s.series.reaches(window_from - s.duration) {
            continue;
        }
        let occurrences = s
            .series
            .window(window_from - s.duration, q.to, MAX_PER_SERIES)
            .occurrences;
        for o in occurrences {
            let view = view(s, o.local, o.start);
            if view.end <= q.from {
                continue;
            }
            if let Some((start, id)) = &after
                && (view.start, &view.id) <= (*start, id)
            {
                continue;
            }
            items.push(view);
        }
    }
    items.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
    let more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = if more {
        items.last().map(encode_cursor)
    } else {
        None
    };
    Ok(OccurrencePage { items, next_cursor })
}

fn view(s: &Stored, local: NaiveDateTime, start: DateTime<Utc>) -> OccurrenceView {
    OccurrenceView {
        id: occurrence_id(s.id, local),
        entry_id: s.id,
        title: s.title.clone(),
        ticket_id: s.ticket_id,
        assignees: s.assignees.clone(),
        start,
        end: start + s.duration,
        local_start: format_local(zone::local(s.series.zone, start)),
        timezone: s.series.zone.name().to_owned(),
        recurring: s.series.rule.is_some(),
        reminder_minutes: s.reminder_minutes,
    }
}

/// The series and produced date-time an occurrence ID names, locked; 404 when the ID does not
/// name an occurrence that takes place.
async fn lock_occurrence(
    conn: &mut PgConnection,
    p: &Principal,
    occurrence: &str,
) -> Result<(Stored, NaiveDateTime), StoreError> {
    let (entry, local) = parse_occurrence_id(occurrence).ok_or(StoreError::NotFound)?;
    let cur = rows::lock_stored(conn, entry).await?;
    check_own(p, &cur.assignees)?;
    // An occurrence further out than a huge COUNT is walked (`Series::reaches`) is not one
    // the calendar ever showed.
    let reachable = cur.series.reaches(zone::instant(cur.series.zone, local));
    if cur.series.exdates.contains(&local) || !reachable || !cur.series.produces(local) {
        return Err(StoreError::NotFound);
    }
    Ok((cur, local))
}

/// The stored entry's fields, unchanged.
fn fields_of(cur: &Stored) -> Fields {
    EntryPatch::default().apply(cur)
}

/// The stored entry's fields with the rule and exceptions of `part`, the earlier part of a
/// cut of its series: what stays of the master.
fn fields_before_cut(cur: &Stored, part: &Series) -> Fields {
    let mut fields = fields_of(cur);
    fields.rrule = part.rule.as_ref().map(ToString::to_string);
    fields.exdates = super::draft::format_exdates(&part.exdates);
    fields
}

/// Edits one occurrence, or it and the following ones, or the whole series; answers the entry
/// that holds the edited occurrence afterwards.
pub async fn edit(
    pool: &PgPool,
    p: &Principal,
    occurrence: &str,
    scope: Scope,
    patch: EntryPatch,
) -> Result<Entry, StoreError> {
    p.require(Permission::WriteSchedule)?;
    let mut tx = tenant::begin(pool, p).await?;
    let (cur, local) = lock_occurrence(&mut tx, p, occurrence).await?;
    let single = cur.series.rule.is_none();
    let id = match scope {
        Scope::All => edit_all(&mut tx, p, &cur, &patch).await?,
        _ if single => edit_all(&mut tx, p, &cur, &patch).await?,
        Scope::This => {
            if matches!(patch.rrule, Some(Some(_))) {
                return Err(StoreError::invalid(
                    "rrule",
                    "one occurrence cannot repeat; edit the following ones or all instead",
                ));
            }
            let mut moved = patch.apply(&cur);
            moved.start = patch.start.clone().unwrap_or_else(|| format_local(local));
            moved.rrule = None;
            moved.exdates = Vec::new();
            let moved = Draft::check(&moved)?;
            check_own(p, &moved.assignees)?;
            let mut rest = fields_of(&cur);
            rest.exdates.push(format_local(local));
            let new = new_id();
            match Draft::check(&rest) {
                Ok(rest) => {
                    entries::write(
                        &mut tx,
                        p,
                        &[
                            Part::existing(cur.id, &rest),
                            Part::cut_from(new, &moved, cur.id, local),
                        ],
                        &[cur.id],
                        patch.on_conflict,
                    )
                    .await?;
                }
                // The series had no other occurrence left: the moved one replaces it.
                Err(e) if is_empty_series(&e) => {
                    let part = Part::cut_from(new, &moved, cur.id, local);
                    entries::write(&mut tx, p, &[part], &[cur.id], patch.on_conflict).await?;
                    entries::cancel(&mut tx, p, &cur, Some(new)).await?;
                }
                Err(e) => return Err(e),
            }
            new
        }
        Scope::Following => {
            let parts = cut(&cur.series, local);
            match parts.before {
                // Cut at the first occurrence: that is the whole series.
                None => edit_all(&mut tx, p, &cur, &patch).await?,
                Some(before) => {
                    let earlier = fields_before_cut(&cur, &before);
                    // Every earlier occurrence was taken out already: nothing stays behind.
                    let earlier = match Draft::check(&earlier) {
                        Ok(earlier) => Some(earlier),
                        Err(e) if is_empty_series(&e) => None,
                        Err(e) => return Err(e),
                    };
                    let mut later = patch.apply(&cur);
                    later.start = patch.start.clone().unwrap_or_else(|| format_local(local));
                    if patch.rrule.is_none() {
                        later.rrule = parts.after.rule.as_ref().map(ToString::to_string);
                    }
                    if patch.exdates.is_none() {
                        later.exdates = super::draft::format_exdates(&parts.after.exdates);
                    }
                    let later = Draft::check(&later)?;
                    check_own(p, &later.assignees)?;
                    let new = new_id();
                    let mut parts = Vec::with_capacity(2);
                    if let Some(earlier) = &earlier {
                        parts.push(Part::existing(cur.id, earlier));
                    }
                    parts.push(Part::cut_from(new, &later, cur.id, local));
                    entries::write(&mut tx, p, &parts, &[cur.id], patch.on_conflict).await?;
                    if earlier.is_none() {
                        entries::cancel(&mut tx, p, &cur, Some(new)).await?;
                    }
                    new
                }
            }
        }
    };
    let entry = rows::load_entry(&mut tx, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    outbox::commit(tx, pool).await?;
    Ok(entry)
}

/// The whole series changed by `patch`; answers its ID.
async fn edit_all(
    conn: &mut PgConnection,
    p: &Principal,
    cur: &Stored,
    patch: &EntryPatch,
) -> Result<Uuid, StoreError> {
    let draft = Draft::check(&patch.apply(cur))?;
    check_own(p, &draft.assignees)?;
    entries::write(
        conn,
        p,
        &[Part::existing(cur.id, &draft)],
        &[cur.id],
        patch.on_conflict,
    )
    .await?;
    Ok(cur.id)
}

/// Deletes one occurrence, or it and the following ones, or the whole series.
pub async fn delete(
    pool: &PgPool,
    p: &Principal,
    occurrence: &str,
    scope: Scope,
) -> Result<(), StoreError> {
    p.require(Permission::WriteSchedule)?;
    let mut tx = tenant::begin(pool, p).await?;
    let (cur, local) = lock_occurrence(&mut tx, p, occurrence).await?;
    let remaining = match scope {
        Scope::All => None,
        Scope::This => {
            let mut rest = fields_of(&cur);
            rest.exdates.push(format_local(local));
            Some(rest)
        }
        Scope::Following => cut(&cur.series, local)
            .before
            .map(|before| fields_before_cut(&cur, &before)),
    };
    // Taking occurrences away cannot make a new overlap, so the ones already accepted are kept
    // rather than refused again.
    match remaining.map(|f| Draft::check(&f)) {
        Some(Ok(rest)) if cur.series.rule.is_some() => {
            let part = Part::existing(cur.id, &rest);
            entries::write(&mut tx, p, &[part], &[cur.id], OnConflict::Allow).await?;
        }
        // Nothing would be left (or it was a single appointment): the entry goes.
        None | Some(Ok(_)) => entries::cancel(&mut tx, p, &cur, None).await?,
        Some(Err(e)) if is_empty_series(&e) => entries::cancel(&mut tx, p, &cur, None).await?,
        Some(Err(e)) => return Err(e),
    }
    outbox::commit(tx, pool).await?;
    Ok(())
}
