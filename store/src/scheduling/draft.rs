//! A schedule entry as asked for, checked field by field and turned into the domain's
//! [`Series`] with the bounds the range query uses.

use crate::error::StoreError;
use chrono::{DateTime, TimeDelta, Utc};
use psa_domain::recurrence::preview::{check_duration, parse_exdates, parse_zone};
use psa_domain::recurrence::zone::{self, parse_local};
use psa_domain::recurrence::{Rule, Series};
use psa_domain::validation::{self, ValidationErrors};
use std::collections::BTreeSet;
use uuid::Uuid;

pub const TITLE_MAX: usize = 200;
pub const MAX_ASSIGNEES: usize = 50;
pub const MAX_REMINDER_MINUTES: i64 = 10_080;
/// Reminders come this many minutes before each occurrence when an entry is created without
/// saying.
pub const DEFAULT_REMINDER_MINUTES: i32 = 15;
/// A series with a COUNT up to this is walked to its end to store where it ends; a longer one
/// is stored as open-ended (the bound only narrows range queries).
const WALK_COUNT_MAX: u32 = 10_000;

/// The fields of an entry, as sent (a create) or as merged from the stored entry and a patch.
#[derive(Debug, Clone)]
pub struct Fields {
    pub title: String,
    pub ticket_id: Option<Uuid>,
    pub assignees: Vec<Uuid>,
    pub start: String,
    pub timezone: String,
    pub duration_minutes: i64,
    pub rrule: Option<String>,
    pub exdates: Vec<String>,
    pub reminder_minutes: Option<i64>,
}

/// An entry ready to be stored.
#[derive(Debug, Clone)]
pub struct Draft {
    pub title: String,
    pub ticket_id: Option<Uuid>,
    /// Sorted, without repeats.
    pub assignees: Vec<Uuid>,
    pub series: Series,
    pub duration: TimeDelta,
    pub reminder_minutes: Option<i32>,
    pub first_start: DateTime<Utc>,
    pub last_end: Option<DateTime<Utc>>,
}

impl Draft {
    /// Checks every field, naming each one at fault.
    pub fn check(f: &Fields) -> Result<Draft, StoreError> {
        let mut e = ValidationErrors::default();
        validation::text(&mut e, "title", &f.title, TITLE_MAX);
        let mut assignees = f.assignees.clone();
        assignees.sort_unstable();
        assignees.dedup();
        if assignees.is_empty() || assignees.len() > MAX_ASSIGNEES {
            e.push("assignees", format!("must name 1 to {MAX_ASSIGNEES} users"));
        }
        let start = parse_local(&f.start).map_err(|m| e.push("start", m)).ok();
        let zone = parse_zone(&f.timezone)
            .map_err(|m| e.push("timezone", m))
            .ok();
        check_duration(&mut e, "duration_minutes", f.duration_minutes);
        let rule = match &f.rrule {
            Some(text) => match Rule::parse(text) {
                Ok(rule) => Some(rule),
                Err(err) => {
                    e.push("rrule", err.0);
                    None
                }
            },
            None => None,
        };
        let exdates = parse_exdates(&mut e, "exdates", &f.exdates);
        let reminder_minutes = match f.reminder_minutes {
            None => None,
            Some(m) if (0..=MAX_REMINDER_MINUTES).contains(&m) => i32::try_from(m).ok(),
            Some(_) => {
                e.push(
                    "reminder_minutes",
                    format!("must be 0 to {MAX_REMINDER_MINUTES} minutes"),
                );
                None
            }
        };
        crate::check(e.into_result())?;
        let (Some(start), Some(zone)) = (start, zone) else {
            return Err(StoreError::internal(anyhow::anyhow!(
                "checked fields missing"
            )));
        };
        let series = Series::new(start, zone, rule, exdates)
            .map_err(|err| StoreError::invalid("rrule", err.0))?;
        let duration = TimeDelta::minutes(f.duration_minutes);
        let (first_start, last_end) = bounds(&series, duration)?;
        Ok(Draft {
            title: f.title.trim().to_owned(),
            ticket_id: f.ticket_id,
            assignees,
            series,
            duration,
            reminder_minutes,
            first_start,
            last_end,
        })
    }

    pub fn rule_text(&self) -> Option<String> {
        self.series.rule.as_ref().map(ToString::to_string)
    }

    pub fn exdates(&self) -> Vec<chrono::NaiveDateTime> {
        self.series.exdates.iter().copied().collect()
    }
}

const NO_OCCURRENCE: &str =
    "the series has no occurrence (every date-time the rule makes is excluded, or it makes none)";

/// Whether `e` is the refusal of a series without any occurrence: what is left of a series
/// once its last occurrences are taken out.
pub fn is_empty_series(e: &StoreError) -> bool {
    matches!(e, StoreError::Invalid(v) if v.0.len() == 1 && v.0[0].message == NO_OCCURRENCE)
}

/// The first occurrence's start and the last one's end (`None` when the series has no end
/// known without walking too far). A series that produces nothing is refused: it would be an
/// entry nobody can see.
pub fn bounds(
    series: &Series,
    duration: TimeDelta,
) -> Result<(DateTime<Utc>, Option<DateTime<Utc>>), StoreError> {
    let from = zone::instant(series.zone, series.start) - TimeDelta::days(2);
    let Some(first) = series.from(from).next() else {
        return Err(StoreError::invalid("rrule", NO_OCCURRENCE));
    };
    let last_end = match &series.rule {
        None => Some(first.start + duration),
        Some(rule) => match (rule.count, rule.until) {
            (Some(count), _) if count <= WALK_COUNT_MAX => {
                series.from(first.start).last().map(|o| o.start + duration)
            }
            (_, Some(until)) => Some(until + duration),
            _ => None,
        },
    };
    // A series whose last occurrence is its first still ends after it starts.
    Ok((
        first.start,
        last_end.map(|end| end.max(first.start + duration)),
    ))
}

/// The produced date-times of a series, as written in the API.
pub fn format_exdates(exdates: &BTreeSet<chrono::NaiveDateTime>) -> Vec<String> {
    exdates.iter().map(|e| zone::format_local(*e)).collect()
}
