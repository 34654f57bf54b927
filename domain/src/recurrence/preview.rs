//! `POST /v1/schedules/preview`: the occurrences a series would have, computed by the same
//! [`Series`] as stored schedule entries, with nothing stored. The contract is exact (issue 13):
//! every field fault is named, and no request can make the expansion run long.

use super::rule::Rule;
use super::series::{MAX_WALK, Series};
use super::zone::{self, format_local, parse_local};
use crate::validation::ValidationErrors;
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Longest occurrence: a week.
pub const MAX_DURATION_MINUTES: i64 = 10_080;
/// Widest window asked at once.
pub const MAX_WINDOW_DAYS: i64 = 3_660;
/// Most occurrences answered at once, and the number when the request names none.
pub const MAX_LIMIT: i64 = 1_000;
pub const DEFAULT_LIMIT: i64 = 100;
/// Most exceptions one series may carry.
pub const MAX_EXDATES: usize = 1_000;

/// The what-if question, as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub start: String,
    pub timezone: String,
    pub duration_minutes: i64,
    pub rrule: Option<String>,
    pub exdates: Option<Vec<String>>,
    pub from: String,
    pub to: String,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewResponse {
    pub occurrences: Vec<PreviewOccurrence>,
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewOccurrence {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The start instant's wall-clock time in the zone (03:30 for an occurrence a gap moved).
    pub local_start: String,
}

/// Reads an IANA zone name, exactly as the database spells it.
pub fn parse_zone(name: &str) -> Result<Tz, &'static str> {
    name.parse::<Tz>()
        .map_err(|_| "is not an IANA time zone name such as America/New_York")
}

/// Reads an RFC 3339 instant.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, &'static str> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "must be an RFC 3339 date-time such as 2026-03-02T14:00:00Z")
}

/// Checks a duration in minutes.
pub fn check_duration(errors: &mut ValidationErrors, field: &str, minutes: i64) {
    if !(1..=MAX_DURATION_MINUTES).contains(&minutes) {
        errors.push(
            field,
            format!("must be a whole number of minutes from 1 to {MAX_DURATION_MINUTES}"),
        );
    }
}

/// Reads the exceptions; a bad one is a fault of `field`, its message says which.
pub fn parse_exdates(
    errors: &mut ValidationErrors,
    field: &str,
    texts: &[String],
) -> BTreeSet<chrono::NaiveDateTime> {
    if texts.len() > MAX_EXDATES {
        errors.push(field, format!("must hold at most {MAX_EXDATES} date-times"));
        return BTreeSet::new();
    }
    let mut out = BTreeSet::new();
    for (i, text) in texts.iter().enumerate() {
        match parse_local(text) {
            Ok(local) => {
                out.insert(local);
            }
            Err(message) => errors.push(field, format!("entry {i} {message}")),
        }
    }
    out
}

/// Answers `request`, or names every field at fault.
pub fn preview(request: &PreviewRequest) -> Result<PreviewResponse, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let start = parse_local(&request.start)
        .map_err(|m| errors.push("start", m))
        .ok();
    let zone = parse_zone(&request.timezone)
        .map_err(|m| errors.push("timezone", m))
        .ok();
    check_duration(&mut errors, "duration_minutes", request.duration_minutes);
    let rule = match &request.rrule {
        Some(text) => Rule::parse(text)
            .map(Some)
            .map_err(|e| errors.push("rrule", e.0))
            .unwrap_or(None),
        None => None,
    };
    let exdates = parse_exdates(
        &mut errors,
        "exdates",
        request.exdates.as_deref().unwrap_or_default(),
    );
    let from = parse_instant(&request.from)
        .map_err(|m| errors.push("from", m))
        .ok();
    let to = parse_instant(&request.to)
        .map_err(|m| errors.push("to", m))
        .ok();
    if let (Some(from), Some(to)) = (from, to) {
        if to <= from {
            errors.push("to", "must be after `from`");
        } else if to - from > TimeDelta::days(MAX_WINDOW_DAYS) {
            errors.push(
                "to",
                format!("must be at most {MAX_WINDOW_DAYS} days after `from`"),
            );
        }
    }
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        errors.push(
            "limit",
            format!("must be a whole number from 1 to {MAX_LIMIT}"),
        );
    }
    let series = match (start, zone) {
        (Some(start), Some(zone)) if request.rrule.is_none() || rule.is_some() => {
            Series::new(start, zone, rule, exdates)
                .map_err(|e| errors.push("rrule", e.0))
                .ok()
        }
        _ => None,
    };
    errors.clone().into_result()?;
    let (Some(series), Some(from), Some(to)) = (series, from, to) else {
        return Err(errors);
    };
    if !series.reaches(from) {
        errors.push(
            "from",
            format!(
                "lies more than {MAX_WALK} occurrences after `start`, which a rule with a COUNT \
                 this large is not expanded past; ask nearer the start, or use UNTIL"
            ),
        );
        return Err(errors);
    }
    let duration = TimeDelta::minutes(request.duration_minutes);
    let window = series.window(from, to, usize::try_from(limit).unwrap_or(0));
    Ok(PreviewResponse {
        occurrences: window
            .occurrences
            .iter()
            .map(|o| PreviewOccurrence {
                start: o.start,
                end: o.start + duration,
                local_start: format_local(zone::local(series.zone, o.start)),
            })
            .collect(),
        truncated: window.truncated,
    })
}
