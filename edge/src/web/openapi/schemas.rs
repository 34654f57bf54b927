//! OpenAPI schemas of the `psa-domain` types the API reads and sends. The domain crate stays free
//! of the HTTP documentation library, so these describe its serde shapes here; they are never
//! built or parsed. The answers' schemas allow no other fields, so the contract check
//! (`scripts/contract`), which validates live answers against them, catches a drift.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A what-if question: when an SLA would fall due for a ticket started at `started_at`, under a
/// schedule given inline or stored. Exactly one of `schedule` and `schedule_id`. Nothing is
/// stored.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "schedule": {
        "timezone": "Europe/London",
        "hours": [{"weekday": 1, "start": "08:00", "end": "18:00"}],
        "holidays": [{"date": "2026-12-25", "recurring": true}]
    },
    "started_at": "2026-03-02T09:30:00Z",
    "targets": {"response_minutes": 60, "resolution_minutes": 480},
    "thresholds": [50, 75, 90],
    "pauses": [{"from": "2026-03-02T10:00:00Z", "to": "2026-03-02T10:30:00Z"}],
    "at": "2026-03-02T11:00:00Z"
}))]
pub struct SlaPreviewRequest {
    pub schedule: Option<PreviewSchedule>,
    /// A stored schedule of the caller's tenant.
    pub schedule_id: Option<Uuid>,
    /// Every instant of the preview falls in the years 2000 to 2099 (UTC).
    pub started_at: DateTime<Utc>,
    pub targets: PreviewTargets,
    /// Warning percentages, each 1 to 1000; 50/75/90 when absent. 100 is always included.
    pub thresholds: Option<Vec<i64>>,
    /// Spans during which the clock stood still; at most 1000.
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub pauses: Vec<PreviewPause>,
    /// When given, the answer includes elapsed and remaining minutes at this instant.
    pub at: Option<DateTime<Utc>>,
}

/// Business hours, inline.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewSchedule {
    /// IANA zone name, e.g. `Europe/London`.
    #[schema(max_length = 64)]
    pub timezone: String,
    /// Open every second of every day; `hours` and `holidays` are then ignored.
    #[serde(default)]
    pub is_24x7: bool,
    #[serde(default)]
    pub hours: Vec<PreviewWindow>,
    #[serde(default)]
    pub holidays: Vec<PreviewHoliday>,
}

/// One weekly opening window. `end` earlier than `start` runs past midnight into the next day.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewWindow {
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    #[schema(minimum = 1, maximum = 7)]
    pub weekday: i64,
    /// `HH:MM`.
    #[schema(max_length = 5, pattern = "^[0-9]{2}:[0-9]{2}$", example = "08:00")]
    pub start: String,
    /// `HH:MM`, or `24:00` for the end of the day.
    #[schema(max_length = 5, pattern = "^[0-9]{2}:[0-9]{2}$", example = "18:00")]
    pub end: String,
}

/// A closed day. `recurring` repeats its month and day every year.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewHoliday {
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub date: String,
    #[serde(default)]
    pub recurring: bool,
}

/// Business minutes to the first response and to resolution.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewTargets {
    /// 0 to 527,040 (366 days).
    #[schema(minimum = 0, maximum = 527040)]
    pub response_minutes: i64,
    /// 0 to 527,040 (366 days).
    #[schema(minimum = 0, maximum = 527040)]
    pub resolution_minutes: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewPause {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// When each phase falls due and reaches each warning threshold.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "response": {
        "due_at": "2026-03-02T11:00:00Z",
        "thresholds": [{"percent": 50, "at": "2026-03-02T10:45:00Z"},
                       {"percent": 100, "at": "2026-03-02T11:00:00Z"}],
        "elapsed_minutes": 60,
        "remaining_minutes": 0
    },
    "resolution": {
        "due_at": "2026-03-02T18:00:00Z",
        "thresholds": [{"percent": 100, "at": "2026-03-02T18:00:00Z"}],
        "elapsed_minutes": 60,
        "remaining_minutes": 420
    }
}))]
#[serde(deny_unknown_fields)]
pub struct SlaPreviewResponse {
    pub response: PhasePreview,
    pub resolution: PhasePreview,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhasePreview {
    pub due_at: DateTime<Utc>,
    pub thresholds: Vec<PreviewThreshold>,
    /// Only with `at`.
    pub elapsed_minutes: Option<i64>,
    /// Only with `at`.
    pub remaining_minutes: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewThreshold {
    pub percent: u16,
    pub at: DateTime<Utc>,
}

/// A ticket's SLA: due instants, elapsed and remaining business minutes per phase, pause,
/// escalation level and state. Without a clock yet (`source` = `pending`) only `ticket_id`,
/// `source` and `clock` are present.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketSla {
    pub ticket_id: Uuid,
    pub source: TicketSlaSource,
    pub clock: ClockHealth,
    /// Why the clock cannot use the SLA configuration in force, while it cannot.
    pub configuration_error: Option<String>,
    pub policy_id: Option<Uuid>,
    pub started_at: Option<DateTime<Utc>>,
    pub state: Option<SlaState>,
    pub paused: Option<bool>,
    pub paused_since: Option<DateTime<Utc>>,
    /// Business minutes spent paused.
    pub paused_minutes: Option<i64>,
    /// 0 until the first breach; one more per escalation step.
    pub escalation_level: Option<u8>,
    pub response: Option<PhaseView>,
    pub resolution: Option<PhaseView>,
}

/// `workflow`: live, from the running clock; `record`: the last step written, once the run has
/// ended; `pending`: the clock has not started yet.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketSlaSource {
    Workflow,
    Record,
    Pending,
}

/// How the ticket's clock itself is: `running`; `configuration_error` (running on its last good
/// configuration, or waiting for one, until the configuration can be read); `finished` (ticket
/// closed and reopen window over); `failed`, `terminated`, `timed_out` or `canceled` (the run
/// ended without finishing: the figures are the last recorded, and the ticket's next event
/// re-creates the clock); `none` (not started yet); `unknown` (the workflow service cannot be
/// asked now).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockHealth {
    Running,
    ConfigurationError,
    Finished,
    Failed,
    Terminated,
    TimedOut,
    Canceled,
    None,
    Unknown,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    OnTrack,
    /// A running phase has passed its first warning threshold.
    AtRisk,
    Paused,
    Breached,
    /// Closed within target.
    Met,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhaseView {
    pub target_minutes: Option<i64>,
    pub due_at: Option<DateTime<Utc>>,
    pub elapsed_minutes: i64,
    pub remaining_minutes: Option<i64>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// `true`: ended within target; `false`: breached; `null`: running or no target.
    pub met: Option<bool>,
    pub breached: bool,
}

/// `GET /readyz`: each dependency is `ok` or says what failed.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"ready": true, "postgres": "ok", "redis": "ok", "temporal": "ok"}))]
pub struct Readiness {
    pub ready: bool,
    pub postgres: String,
    pub redis: String,
    pub temporal: String,
}
