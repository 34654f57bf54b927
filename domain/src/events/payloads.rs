//! Payloads of the events that are not about a ticket's own fields.
//!
//! Each is the minimum a subscriber needs to act without reading the database back; IDs let it
//! read more when it must.

use crate::money::Money;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Which SLA clock an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaPhase {
    Response,
    Resolution,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaThreshold {
    pub ticket_id: Uuid,
    pub phase: SlaPhase,
    /// Percent of the target elapsed: 1..=1000.
    pub percent: u16,
    pub due_at: DateTime<Utc>,
    /// Who is told (resolved by the SLA engine from the policy's threshold rule).
    #[serde(default)]
    pub recipients: Vec<Uuid>,
    /// `email` and/or `in_app`; empty means both.
    #[serde(default)]
    pub channels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaBreached {
    pub ticket_id: Uuid,
    pub phase: SlaPhase,
    pub due_at: DateTime<Utc>,
    /// Who is told (resolved by the SLA engine from the policy's threshold rule).
    #[serde(default)]
    pub recipients: Vec<Uuid>,
    /// `email` and/or `in_app`; empty means both.
    #[serde(default)]
    pub channels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaEscalated {
    pub ticket_id: Uuid,
    pub phase: SlaPhase,
    /// 1..=3.
    pub level: u8,
    /// Who is told (resolved by the SLA engine from the policy's threshold rule).
    #[serde(default)]
    pub recipients: Vec<Uuid>,
    /// `email` and/or `in_app`; empty means both.
    #[serde(default)]
    pub channels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceGenerated {
    pub invoice_id: Uuid,
    pub client_id: Uuid,
    pub number: String,
    pub total: Money,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
}

/// A manual invoice given its number. (A run's invoices are finalized as they are made and
/// announce themselves once, with `invoice.generated`.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceFinalized {
    pub invoice_id: Uuid,
    pub client_id: Uuid,
    pub number: String,
    pub total: Money,
    pub due_date: NaiveDate,
}

/// Money held for a client: a credit issued by hand, or the excess of an over-payment or a
/// prepayment (`payment_id` names the payment then).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditIssued {
    pub credit_id: Uuid,
    pub client_id: Uuid,
    pub amount: Money,
    pub expires_on: Option<NaiveDate>,
    pub payment_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceOverdue {
    pub invoice_id: Uuid,
    pub client_id: Uuid,
    pub due_date: NaiveDate,
    pub balance: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRecorded {
    pub payment_id: Uuid,
    pub invoice_id: Option<Uuid>,
    pub client_id: Uuid,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeEntryChanged {
    /// The timesheet whose entries changed state together.
    pub timesheet_id: Uuid,
    /// Who worked the time.
    pub user_id: Uuid,
    /// The timesheet's period, `[period_start, period_end)`.
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// How many entries it holds, and their minutes in total.
    pub entries: u32,
    pub minutes: u64,
    /// On submit, the approver asked to review it; afterwards, who approved or rejected it.
    pub reviewer_id: Uuid,
    /// Why it was rejected.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectCreated {
    pub project_id: Uuid,
    pub client_id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectTaskAssigned {
    pub project_id: Uuid,
    pub task_id: Uuid,
    pub assignee_id: Uuid,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectMilestoneReached {
    pub project_id: Uuid,
    pub milestone_id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleEntryChanged {
    pub entry_id: Uuid,
    /// What the appointment is, for the people told of it. Absent from events raised before
    /// it was carried.
    #[serde(default)]
    pub title: String,
    /// The series the entry was cut from (a moved occurrence, or the later part of a split).
    pub series_id: Option<Uuid>,
    /// The entry this change cut from this one's series (an edit of one occurrence, or of it
    /// and the following ones): that entry's `schedule.entry_created` tells of the change.
    #[serde(default)]
    pub split_off: Option<Uuid>,
    /// The entry's first occurrence (a series' later ones follow from its rule).
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub assignee_ids: Vec<Uuid>,
}

/// One occurrence of a schedule entry is about to begin: its assignees are reminded, once
/// per occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleReminder {
    pub entry_id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The occurrence's start as a wall-clock time in `timezone`, `YYYY-MM-DDTHH:MM:SS`.
    pub local_start: String,
    pub timezone: String,
    /// How long before the start the reminder is due.
    pub minutes_before: u32,
    pub assignee_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomationPublished {
    pub automation_id: Uuid,
    pub version: u32,
}

/// A message an automation's `notifications.send_email` or `notifications.notify_in_app`
/// action sends to a user, through the notification pipeline (preferences, pacing, templates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomationMessage {
    pub automation_id: Uuid,
    pub user_id: Uuid,
    pub subject: String,
    pub body: String,
    /// The channel it goes out on: `email` or `in_app`.
    pub channel: String,
}

/// A message an automation's `notifications.send_contact_email` action sends to a client's
/// contact, by e-mail through the notification pipeline (the tenant's switches and pacing, the
/// subtype's template); contacts have no preferences and no in-app list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomationContactMessage {
    pub automation_id: Uuid,
    pub contact_id: Uuid,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomationRunRequested {
    pub automation_id: Uuid,
    /// The version the run is pinned to: the newest when it was asked for.
    pub version: u32,
    /// The Temporal workflow ID the run will have.
    pub run_id: String,
    /// What the caller gave: the run's trigger event carries it as its payload.
    pub input: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomationRunFinished {
    pub automation_id: Uuid,
    pub version: u32,
    /// The Temporal workflow ID of the run.
    pub run_id: String,
    /// Set when the run failed.
    pub error: Option<String>,
    /// The automation's name when the run ended.
    #[serde(default)]
    pub automation_name: Option<String>,
    /// The user the automation's owner key acts for: told how the run ended.
    #[serde(default)]
    pub owner_user_id: Option<Uuid>,
}
