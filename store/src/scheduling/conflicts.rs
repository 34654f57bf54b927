//! The conflict check of every schedule write: no assignee may have two occurrences at once,
//! through any series, unless the writer accepts the overlap.
//!
//! A series may repeat forever, so the check looks at a horizon: from a year ago (or the
//! series' first occurrence, if later) to a year after today (or after the first occurrence,
//! if that is later). Past occurrences further back are history, not plans.

use super::rows::{Stored, candidates};
use crate::error::StoreError;
use chrono::{DateTime, TimeDelta, Utc};
use psa_domain::recurrence::overlap::{Span, overlapping};
use psa_domain::recurrence::{Occurrence, Series};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

/// What a write does when it finds overlaps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    /// Refuse the write with 409, listing the overlapping occurrences.
    #[default]
    Refuse,
    /// Write it, and record the overlaps on the entry.
    Allow,
}

/// One overlap: an occurrence of the written entry and one of another entry, of one assignee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Overlap {
    pub user_id: Uuid,
    /// The written occurrence.
    pub occurrence_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The occurrence it overlaps.
    pub other_entry_id: Uuid,
    pub other_occurrence_id: String,
    pub other_title: String,
    pub other_start: DateTime<Utc>,
    pub other_end: DateTime<Utc>,
}

/// Most overlaps reported (and recorded) at once.
pub const MAX_LISTED: usize = 50;
/// Most occurrences of one series looked at in the horizon (a daily series has about 730).
const MAX_OCCURRENCES: usize = 5_000;
const YEAR: TimeDelta = TimeDelta::days(366);

/// The stable ID of an occurrence: its series and the date-time the rule produced for it.
pub fn occurrence_id(entry: Uuid, local: chrono::NaiveDateTime) -> String {
    format!("{entry}_{}", local.format("%Y%m%dT%H%M%S"))
}

/// Reads an occurrence ID back.
pub fn parse_occurrence_id(id: &str) -> Option<(Uuid, chrono::NaiveDateTime)> {
    let (entry, local) = id.split_once('_')?;
    let entry = Uuid::parse_str(entry).ok()?;
    if local.len() != 15 || !local.is_ascii() {
        return None;
    }
    let local = chrono::NaiveDateTime::parse_from_str(local, "%Y%m%dT%H%M%S").ok()?;
    Some((entry, local))
}

/// An entry about to be written: its ID (new or existing), series, duration and assignees.
pub struct Written<'a> {
    pub id: Uuid,
    pub series: &'a Series,
    pub duration: TimeDelta,
    pub assignees: &'a [Uuid],
    pub first_start: DateTime<Utc>,
}

/// The overlaps `written` would have with every other stored entry (those in `replaced` are
/// being rewritten in the same change and are not counted). The caller holds the assignees'
/// locks.
pub async fn find(
    conn: &mut PgConnection,
    written: &[Written<'_>],
    replaced: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<Overlap>, StoreError> {
    let mut found = Vec::new();
    for (k, w) in written.iter().enumerate() {
        let from = w.first_start.max(now - YEAR);
        let to = w.first_start.max(now) + YEAR;
        let mine = occurrences(w.series, w.duration, from, to);
        if mine.is_empty() {
            continue;
        }
        let mut others =
            candidates(conn, from - w.duration, to, Some(w.assignees), replaced).await?;
        // Parts of the same change are checked against each other too, each pair once.
        for later in &written[k + 1..] {
            others.push(Stored {
                id: later.id,
                title: String::new(),
                ticket_id: None,
                assignees: later.assignees.to_vec(),
                series: later.series.clone(),
                duration: later.duration,
                reminder_minutes: None,
            });
        }
        for other in &others {
            let shared: Vec<Uuid> = w
                .assignees
                .iter()
                .filter(|u| other.assignees.contains(u))
                .copied()
                .collect();
            if shared.is_empty() {
                continue;
            }
            let theirs = occurrences(&other.series, other.duration, from - other.duration, to);
            let spans =
                |list: &[(Occurrence, Span)]| list.iter().map(|(_, s)| *s).collect::<Vec<_>>();
            for (i, j) in overlapping(&spans(&mine), &spans(&theirs)) {
                for user in &shared {
                    if found.len() == MAX_LISTED {
                        return Ok(found);
                    }
                    let ((mo, ms), (to_, ts)) = (mine[i], theirs[j]);
                    found.push(Overlap {
                        user_id: *user,
                        occurrence_id: occurrence_id(w.id, mo.local),
                        start: ms.start,
                        end: ms.end,
                        other_entry_id: other.id,
                        other_occurrence_id: occurrence_id(other.id, to_.local),
                        other_title: other.title.clone(),
                        other_start: ts.start,
                        other_end: ts.end,
                    });
                }
            }
        }
    }
    Ok(found)
}

/// A series' occurrences in the window; none for a window its COUNT is not walked to.
fn occurrences(
    series: &Series,
    duration: TimeDelta,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(Occurrence, Span)> {
    if !series.reaches(from) {
        return Vec::new();
    }
    series
        .window(from, to, MAX_OCCURRENCES)
        .occurrences
        .into_iter()
        .map(|o| {
            (
                o,
                Span {
                    start: o.start,
                    end: o.start + duration,
                },
            )
        })
        .collect()
}

/// The overlaps as the 409 lists them and the entry records them.
pub fn describe(overlaps: &[Overlap]) -> serde_json::Value {
    serde_json::to_value(overlaps).unwrap_or_default()
}

/// Refuses the change when it overlaps and the writer did not accept that; otherwise the
/// overlaps to record.
pub fn decide(
    overlaps: Vec<Overlap>,
    on_conflict: OnConflict,
) -> Result<serde_json::Value, StoreError> {
    if overlaps.is_empty() || on_conflict == OnConflict::Allow {
        return Ok(describe(&overlaps));
    }
    Err(StoreError::Overlaps(describe(&overlaps)))
}
