//! `POST /v1/sla/preview`: what an SLA would look like, computed with the same calendar code
//! as live tickets and no stored state.

use super::phase::{PhasePlan, plan_phase};
use super::thresholds::{DEFAULT_THRESHOLDS, normalize_thresholds};
use super::{Percent, limits};
use crate::calendar::{Calendar, CalendarError, Interval, ScheduleSpec, normalize_pauses};
use crate::validation::ValidationErrors;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The what-if question. Exactly one of `schedule` and `schedule_id` is given; the caller
/// resolves `schedule_id` to a stored schedule before calling [`preview`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub schedule: Option<ScheduleSpec>,
    pub schedule_id: Option<Uuid>,
    pub started_at: DateTime<Utc>,
    pub targets: PreviewTargets,
    /// Percentages; 50/75/90 when absent. 100 is always included.
    pub thresholds: Option<Vec<i64>>,
    #[serde(default)]
    pub pauses: Vec<PreviewPause>,
    /// When given, the answer includes elapsed and remaining minutes at this instant.
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewTargets {
    pub response_minutes: i64,
    pub resolution_minutes: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewPause {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewResponse {
    pub response: PhasePreview,
    pub resolution: PhasePreview,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhasePreview {
    pub due_at: DateTime<Utc>,
    pub thresholds: Vec<PreviewThreshold>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_minutes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_minutes: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewThreshold {
    pub percent: Percent,
    pub at: DateTime<Utc>,
}

/// Answers `request` against `schedule` (the request's own, or the stored one it named).
/// Every fault is named by its field; a schedule that never opens is a fault of `schedule`.
pub fn preview(
    request: &PreviewRequest,
    schedule: &ScheduleSpec,
) -> Result<PreviewResponse, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let calendar = Calendar::new(schedule, "schedule")
        .map_err(|e| errors.0.extend(e.0))
        .ok();
    for (field, minutes) in [
        ("targets.response_minutes", request.targets.response_minutes),
        (
            "targets.resolution_minutes",
            request.targets.resolution_minutes,
        ),
    ] {
        limits::check_target(&mut errors, field, minutes);
    }
    limits::check_instant(&mut errors, "started_at", request.started_at);
    if let Some(at) = request.at {
        limits::check_instant(&mut errors, "at", at);
    }
    if let Some(s) = &request.schedule {
        for (field, count) in [
            ("schedule.hours", s.hours.len()),
            ("schedule.holidays", s.holidays.len()),
        ] {
            if count > limits::MAX_SCHEDULE_ENTRIES {
                errors.push(
                    field,
                    format!("must list at most {} entries", limits::MAX_SCHEDULE_ENTRIES),
                );
            }
        }
    }
    if request.pauses.len() > limits::MAX_PAUSES {
        errors.push(
            "pauses",
            format!("must list at most {} pauses", limits::MAX_PAUSES),
        );
    }
    let defaults: Vec<i64> = DEFAULT_THRESHOLDS.map(i64::from).to_vec();
    let percents = normalize_thresholds(
        request.thresholds.as_deref().unwrap_or(&defaults),
        "thresholds",
    )
    .map_err(|e| errors.0.extend(e.0))
    .ok();
    for (i, p) in request.pauses.iter().enumerate().take(limits::MAX_PAUSES) {
        limits::check_instant(&mut errors, &format!("pauses[{i}].from"), p.from);
        limits::check_instant(&mut errors, &format!("pauses[{i}].to"), p.to);
        if p.to < p.from {
            errors.push(
                &format!("pauses[{i}].to"),
                "is before `from`: a pause cannot end before it starts",
            );
        }
    }
    errors.into_result()?;
    let (Some(calendar), Some(percents)) = (calendar, percents) else {
        return Err(ValidationErrors::default());
    };
    let pauses = normalize_pauses(
        &request
            .pauses
            .iter()
            .map(|p| Interval {
                from: p.from,
                to: p.to,
            })
            .collect::<Vec<_>>(),
    );
    let phase = |minutes: i64| -> Result<PhasePreview, ValidationErrors> {
        let PhasePlan { due_at, thresholds } =
            plan_phase(&calendar, request.started_at, minutes, &percents, &pauses)
                .map_err(no_business_time)?;
        let elapsed = request.at.map(|at| {
            let seconds = calendar
                .business_time(request.started_at, at, &pauses)
                .num_seconds();
            seconds.div_euclid(60)
        });
        Ok(PhasePreview {
            due_at,
            thresholds: thresholds
                .into_iter()
                .map(|t| PreviewThreshold {
                    percent: t.percent,
                    at: t.at,
                })
                .collect(),
            elapsed_minutes: elapsed,
            remaining_minutes: elapsed.map(|e| minutes - e),
        })
    };
    Ok(PreviewResponse {
        response: phase(request.targets.response_minutes)?,
        resolution: phase(request.targets.resolution_minutes)?,
    })
}

fn no_business_time(e: CalendarError) -> ValidationErrors {
    let mut errors = ValidationErrors::default();
    errors.push("schedule", e.to_string());
    errors
}
