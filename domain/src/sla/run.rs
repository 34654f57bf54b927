//! What crosses between a ticket's SLA run (`sla:{tenant}:{ticket}`) and the rest of the
//! system: its start input, signals, query answer and the data of its activities. Kept here,
//! beside the clock it carries, so the edge (which enqueues signals), the store (which answers
//! the activities) and the workflow share one definition without depending on the SDK.
//! They cross process boundaries (edge → Temporal → worker), so fields are only ever added,
//! with serde defaults.

use crate::sla::{SlaAction, SlaPolicySnapshot, SlaTracker, SlaView, ThresholdRule};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Start input; carried by every signal-with-start so that whichever event arrives first can
/// start the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketWorkflowInput {
    pub tenant_id: Uuid,
    pub ticket_id: Uuid,
    pub ticket_number: i64,
    pub board_id: Uuid,
    pub priority: String,
    pub opened_at: DateTime<Utc>,
    /// Set by continue-as-new: the clock and what the previous run had applied.
    #[serde(default)]
    pub carry: Option<SlaCarry>,
}

/// What one run hands the next when it continues as new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaCarry {
    pub tracker: SlaTracker,
    /// The most recent event IDs applied (older ones can no longer be redelivered).
    pub applied: Vec<Uuid>,
    pub events_applied: u32,
    pub limits: SlaLimits,
    /// Events received and not applied yet when the run continued as new: the next applies
    /// them first.
    #[serde(default)]
    pub pending: Vec<TicketSignal>,
    /// The configuration could not be used when the run continued: the next reads it again.
    #[serde(default)]
    pub configuration_error: Option<String>,
}

/// Worker settings a run keeps for its whole life (continued runs included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaLimits {
    /// How long a closed ticket's clock waits for a reopening before its run ends.
    pub reopen_window_seconds: u64,
    /// Events one run applies before it continues as new, keeping histories short for
    /// tickets paused and resumed many times.
    pub continue_after_events: u32,
}

/// A ticket event as the workflow sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSignal {
    /// The domain event's ID: the workflow applies each event once.
    pub event_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub kind: TicketSignalKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TicketSignalKind {
    /// The ticket was created, possibly already in a closed or pausing status.
    Created {
        status_id: Uuid,
        is_closed: bool,
        pauses_sla: bool,
    },
    Updated,
    Assigned {
        assignee_id: Option<Uuid>,
    },
    StatusChanged {
        status_id: Uuid,
        is_closed: bool,
        pauses_sla: bool,
    },
    CommentAdded {
        by_internal_user: bool,
        is_public: bool,
    },
    Closed,
}

impl TicketSignalKind {
    /// Whether the ticket is closed once this event has happened.
    pub fn closes_ticket(&self) -> bool {
        matches!(
            self,
            TicketSignalKind::Closed
                | TicketSignalKind::StatusChanged {
                    is_closed: true,
                    ..
                }
                | TicketSignalKind::Created {
                    is_closed: true,
                    ..
                }
        )
    }
}

/// One step the workflow asks to be written to `sla_audit_log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaStep {
    pub tenant_id: Uuid,
    pub ticket_id: Uuid,
    /// Unique per ticket: a retried activity writes its step once.
    pub step_key: String,
    pub event: String,
    pub detail: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
}

/// What the `status` query answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketWorkflowStatus {
    pub events_applied: u32,
    pub closed: bool,
    /// The SLA clock as of the last event or wake-up; callers compute the view at their own
    /// "now" with it (see `SlaTracker::view`).
    #[serde(default)]
    pub tracker: Option<SlaTracker>,
    /// Why the clock cannot read its configuration; it keeps counting on its last good one
    /// (or waits for one) and reads it again later.
    #[serde(default)]
    pub configuration_error: Option<String>,
}

/// Which ticket's SLA context to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaContextRequest {
    pub tenant_id: Uuid,
    pub ticket_id: Uuid,
    /// Also read what earlier runs of the ticket's clock recorded (a run starting anew).
    #[serde(default)]
    pub with_record: bool,
}

/// What earlier runs of a ticket's clock wrote, so a run re-created after one failed or was
/// terminated goes on from there instead of from zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaRecord {
    /// The clock as of the last step that carried it.
    pub tracker: Option<SlaTracker>,
    /// Every step key written for the ticket: thresholds, breaches and escalations already
    /// told are not told again.
    pub step_keys: Vec<String>,
    /// The ticket's recorded first response (`tickets.sla_response_at`).
    pub response_at: Option<DateTime<Utc>>,
}

/// The ticket as the SLA clock needs it, and the policy in force for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTicketContext {
    pub policy: SlaPolicySnapshot,
    pub created_at: DateTime<Utc>,
    pub status_pauses: bool,
    pub closed: bool,
    pub awaiting_client: bool,
    pub limits: SlaLimits,
    /// When the ticket was closed, if it is.
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    /// Why the configuration in force cannot be used (`policy` is then not to be used).
    #[serde(default)]
    pub configuration_error: Option<String>,
    /// Parts of the configuration left out because they cannot be read, e.g. a holiday dated
    /// past 9999: each closes no day instead of making the schedule unusable.
    #[serde(default)]
    pub ignored: Vec<String>,
    /// Set when asked for (`with_record`) and the ticket has audit steps already.
    #[serde(default)]
    pub record: Option<SlaRecord>,
}

/// One decision of the clock, written once: an audit step (idempotent on `step_key`), the
/// ticket's SLA columns as of `occurred_at`, and for a threshold, breach or escalation the SLA
/// event that notifies people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaUpdate {
    /// The audit step; its fields sit at the top level of the serialized update.
    #[serde(flatten)]
    pub step: SlaStep,
    pub view: SlaView,
    pub action: Option<SlaAction>,
    /// Who hears of a breach: the policy's rule for 100 %.
    #[serde(default)]
    pub breach_rule: Option<ThresholdRule>,
    /// The whole clock after this decision, kept with the step so that a run re-created after
    /// a failure can go on from it.
    #[serde(default)]
    pub tracker: Option<SlaTracker>,
}
