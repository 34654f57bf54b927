//! Domain events and their one envelope (DESIGN.md §5).
//!
//! An event is published once per committed change (through the outbox) and read by workflows
//! and stream consumers; its `event_id` is what every receiver de-duplicates on.

mod payloads;

pub use payloads::*;

use crate::validation::ValidationErrors;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Names on the Redis side of the bus, shared by the publisher (edge relay) and the consumers
/// (worker) so the two cannot drift.
pub mod stream {
    /// The stream every event is appended to.
    pub const EVENTS: &str = "psa:events";
    /// Where consumers move entries they gave up on.
    pub const DEAD_LETTERS: &str = "psa:events:dead-letter";
    /// Entry fields: the envelope's JSON, plus copies of its ID, tenant and type so tools can
    /// filter without parsing.
    pub const FIELD_ENVELOPE: &str = "envelope";
    pub const FIELD_EVENT_ID: &str = "event_id";
    pub const FIELD_TENANT_ID: &str = "tenant_id";
    pub const FIELD_TYPE: &str = "type";
}

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A caller of the edge API, by the API key it used (and its user, when the key has one).
    ApiKey { key_id: Uuid, user_id: Option<Uuid> },
    /// The platform itself (workflows, schedules).
    System,
}

/// The envelope every event travels in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub event_id: Uuid,
    pub tenant_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor: Actor,
    #[serde(flatten)]
    pub event: Event,
}

impl Envelope {
    /// The wire name of the event's type, e.g. `ticket.created`.
    pub fn event_type(&self) -> &'static str {
        self.event.event_type()
    }
}

/// A ticket as events describe it: enough for SLA and notifications to act without a read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSnapshot {
    pub ticket_id: Uuid,
    pub number: i64,
    pub title: String,
    pub client_id: Option<Uuid>,
    pub board_id: Uuid,
    pub priority_id: Uuid,
    pub priority_name: String,
    pub status_id: Uuid,
    pub status_is_closed: bool,
    pub status_pauses_sla: bool,
    pub assignee_id: Option<Uuid>,
}

/// Typed payloads, tagged by their wire type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum Event {
    #[serde(rename = "ticket.created")]
    TicketCreated { ticket: TicketSnapshot },
    #[serde(rename = "ticket.updated")]
    TicketUpdated {
        ticket: TicketSnapshot,
        /// Names of the fields that changed, e.g. `["title", "priority_id"]`.
        changed: Vec<String>,
    },
    #[serde(rename = "ticket.status_changed")]
    TicketStatusChanged {
        ticket: TicketSnapshot,
        from_status_id: Uuid,
    },
    #[serde(rename = "ticket.assigned")]
    TicketAssigned {
        ticket: TicketSnapshot,
        from_assignee_id: Option<Uuid>,
    },
    #[serde(rename = "ticket.closed")]
    TicketClosed { ticket: TicketSnapshot },
    #[serde(rename = "comment.added")]
    CommentAdded {
        ticket: TicketSnapshot,
        comment_id: Uuid,
        /// True when an MSP user wrote it (first-response detection needs this).
        by_internal_user: bool,
        /// False for internal notes, which clients never see.
        is_public: bool,
    },
    #[serde(rename = "sla.threshold")]
    SlaThreshold(SlaThreshold),
    #[serde(rename = "sla.breached")]
    SlaBreached(SlaBreached),
    #[serde(rename = "sla.escalated")]
    SlaEscalated(SlaEscalated),
    #[serde(rename = "invoice.generated")]
    InvoiceGenerated(InvoiceGenerated),
    #[serde(rename = "invoice.finalized")]
    InvoiceFinalized(InvoiceFinalized),
    #[serde(rename = "invoice.overdue")]
    InvoiceOverdue(InvoiceOverdue),
    #[serde(rename = "payment.recorded")]
    PaymentRecorded(PaymentRecorded),
    #[serde(rename = "credit.issued")]
    CreditIssued(CreditIssued),
    #[serde(rename = "time_entry.submitted")]
    TimeEntrySubmitted(TimeEntryChanged),
    #[serde(rename = "time_entry.approved")]
    TimeEntryApproved(TimeEntryChanged),
    #[serde(rename = "time_entry.rejected")]
    TimeEntryRejected(TimeEntryChanged),
    #[serde(rename = "project.created")]
    ProjectCreated(ProjectCreated),
    #[serde(rename = "project.task_assigned")]
    ProjectTaskAssigned(ProjectTaskAssigned),
    #[serde(rename = "project.milestone_reached")]
    ProjectMilestoneReached(ProjectMilestoneReached),
    #[serde(rename = "schedule.entry_created")]
    ScheduleEntryCreated(ScheduleEntryChanged),
    #[serde(rename = "schedule.entry_updated")]
    ScheduleEntryUpdated(ScheduleEntryChanged),
    /// The entry was deleted: none of its occurrences take place any more.
    #[serde(rename = "schedule.entry_cancelled")]
    ScheduleEntryCancelled(ScheduleEntryChanged),
    /// An occurrence is about to begin (raised by the entry's reminder workflow).
    #[serde(rename = "schedule.reminder")]
    ScheduleReminder(ScheduleReminder),
    #[serde(rename = "automation.published")]
    AutomationPublished(AutomationPublished),
    /// An automation's message to a user.
    #[serde(rename = "automation.message")]
    AutomationMessage(AutomationMessage),
    /// An automation's e-mail to a client's contact.
    #[serde(rename = "automation.contact_message")]
    AutomationContactMessage(AutomationContactMessage),
    /// Someone started an automation by hand (`POST /v1/automations/{id}/runs`).
    #[serde(rename = "automation.run_requested")]
    AutomationRunRequested(AutomationRunRequested),
    #[serde(rename = "automation.run_completed")]
    AutomationRunCompleted(AutomationRunFinished),
    #[serde(rename = "automation.run_failed")]
    AutomationRunFailed(AutomationRunFinished),
}

/// Every event type's wire name, for documentation and subscriber configuration.
pub const EVENT_TYPES: [&str; 30] = [
    "ticket.created",
    "ticket.updated",
    "ticket.status_changed",
    "ticket.assigned",
    "ticket.closed",
    "comment.added",
    "sla.threshold",
    "sla.breached",
    "sla.escalated",
    "invoice.generated",
    "invoice.finalized",
    "invoice.overdue",
    "payment.recorded",
    "credit.issued",
    "time_entry.submitted",
    "time_entry.approved",
    "time_entry.rejected",
    "project.created",
    "project.task_assigned",
    "project.milestone_reached",
    "schedule.entry_created",
    "schedule.entry_updated",
    "schedule.entry_cancelled",
    "schedule.reminder",
    "automation.published",
    "automation.message",
    "automation.contact_message",
    "automation.run_requested",
    "automation.run_completed",
    "automation.run_failed",
];

/// Why an event could not be accepted.
#[derive(Debug, thiserror::Error)]
pub enum InvalidEvent {
    #[error("malformed event: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("invalid event: {0}")]
    Invalid(#[from] ValidationErrors),
}

impl Envelope {
    /// Parses and validates an envelope from its JSON form: what every consumer does first.
    pub fn from_json(json: &str) -> Result<Envelope, InvalidEvent> {
        let env: Envelope = serde_json::from_str(json)?;
        env.validate()?;
        Ok(env)
    }

    /// Checks the rules serde cannot: ranges, currencies, non-empty names, ordered intervals.
    /// Called before an event is written to the outbox and after it is read from the stream.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        let money = |e: &mut ValidationErrors,
                     field: &str,
                     m: &crate::money::Money,
                     allow_negative: bool| {
            if !m.currency_is_valid() {
                e.push(
                    &format!("payload.{field}.currency"),
                    "must be an ISO 4217 code",
                );
            }
            if !allow_negative && m.amount.is_sign_negative() {
                e.push(&format!("payload.{field}.amount"), "must not be negative");
            }
        };
        match &self.event {
            Event::TicketCreated { ticket }
            | Event::TicketUpdated { ticket, .. }
            | Event::TicketStatusChanged { ticket, .. }
            | Event::TicketAssigned { ticket, .. }
            | Event::TicketClosed { ticket }
            | Event::CommentAdded { ticket, .. } => {
                if ticket.number < 1 {
                    e.push("payload.ticket.number", "must be positive");
                }
                if ticket.title.trim().is_empty() {
                    e.push("payload.ticket.title", "must not be empty");
                }
            }
            Event::SlaThreshold(t) => {
                if crate::sla::Percent::try_from(t.percent).is_err() {
                    e.push("payload.percent", "must be between 1 and 1000");
                }
            }
            Event::SlaEscalated(s) => {
                if !(1..=3).contains(&s.level) {
                    e.push("payload.level", "must be between 1 and 3");
                }
            }
            Event::SlaBreached(_) => {}
            Event::InvoiceGenerated(i) => {
                // A credit invoice may total below zero.
                money(&mut e, "total", &i.total, true);
                if i.period_end < i.period_start {
                    e.push("payload.period_end", "must not be before period_start");
                }
                if i.number.trim().is_empty() {
                    e.push("payload.number", "must not be empty");
                }
            }
            Event::InvoiceFinalized(i) => {
                money(&mut e, "total", &i.total, true);
                if i.number.trim().is_empty() {
                    e.push("payload.number", "must not be empty");
                }
            }
            Event::InvoiceOverdue(i) => money(&mut e, "balance", &i.balance, false),
            Event::PaymentRecorded(p) => money(&mut e, "amount", &p.amount, false),
            Event::CreditIssued(c) => money(&mut e, "amount", &c.amount, false),
            Event::TimeEntrySubmitted(t)
            | Event::TimeEntryApproved(t)
            | Event::TimeEntryRejected(t) => {
                if t.entries == 0 {
                    e.push("payload.entries", "must be positive");
                }
                if t.period_end <= t.period_start {
                    e.push("payload.period_end", "must be after period_start");
                }
                let rejected = matches!(self.event, Event::TimeEntryRejected(_));
                if rejected && t.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                    e.push("payload.reason", "is required when rejected");
                }
            }
            Event::ProjectCreated(ProjectCreated { name, .. })
            | Event::ProjectMilestoneReached(ProjectMilestoneReached { name, .. })
            | Event::ProjectTaskAssigned(ProjectTaskAssigned { title: name, .. }) => {
                if name.trim().is_empty() {
                    e.push("payload.name", "must not be empty");
                }
            }
            Event::ScheduleEntryCreated(s)
            | Event::ScheduleEntryUpdated(s)
            | Event::ScheduleEntryCancelled(s) => {
                if s.ends_at <= s.starts_at {
                    e.push("payload.ends_at", "must be after starts_at");
                }
            }
            Event::ScheduleReminder(r) => {
                if r.ends_at <= r.starts_at {
                    e.push("payload.ends_at", "must be after starts_at");
                }
                if r.title.trim().is_empty() {
                    e.push("payload.title", "must not be empty");
                }
                if r.assignee_ids.is_empty() {
                    e.push("payload.assignee_ids", "must not be empty");
                }
            }
            Event::AutomationPublished(a) => {
                if a.version == 0 {
                    e.push("payload.version", "must be positive");
                }
            }
            Event::AutomationMessage(m) => {
                if !["email", "in_app"].contains(&m.channel.as_str()) {
                    e.push("payload.channel", "must be email or in_app");
                }
                if m.subject.trim().is_empty() {
                    e.push("payload.subject", "must not be empty");
                }
            }
            Event::AutomationContactMessage(m) => {
                if m.subject.trim().is_empty() {
                    e.push("payload.subject", "must not be empty");
                }
            }
            Event::AutomationRunRequested(a) => {
                if a.version == 0 {
                    e.push("payload.version", "must be positive");
                }
            }
            Event::AutomationRunCompleted(a) | Event::AutomationRunFailed(a) => {
                if a.version == 0 {
                    e.push("payload.version", "must be positive");
                }
                if matches!(self.event, Event::AutomationRunFailed(_)) && a.error.is_none() {
                    e.push("payload.error", "is required for a failed run");
                }
            }
        }
        if let Some(audience) = self.event.sla_audience() {
            sla_channels(&mut e, audience.channels);
        }
        e.into_result()
    }
}

impl Event {
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::TicketCreated { .. } => "ticket.created",
            Event::TicketUpdated { .. } => "ticket.updated",
            Event::TicketStatusChanged { .. } => "ticket.status_changed",
            Event::TicketAssigned { .. } => "ticket.assigned",
            Event::TicketClosed { .. } => "ticket.closed",
            Event::CommentAdded { .. } => "comment.added",
            Event::SlaThreshold(_) => "sla.threshold",
            Event::SlaBreached(_) => "sla.breached",
            Event::SlaEscalated(_) => "sla.escalated",
            Event::InvoiceGenerated(_) => "invoice.generated",
            Event::InvoiceFinalized(_) => "invoice.finalized",
            Event::InvoiceOverdue(_) => "invoice.overdue",
            Event::PaymentRecorded(_) => "payment.recorded",
            Event::CreditIssued(_) => "credit.issued",
            Event::TimeEntrySubmitted(_) => "time_entry.submitted",
            Event::TimeEntryApproved(_) => "time_entry.approved",
            Event::TimeEntryRejected(_) => "time_entry.rejected",
            Event::ProjectCreated(_) => "project.created",
            Event::ProjectTaskAssigned(_) => "project.task_assigned",
            Event::ProjectMilestoneReached(_) => "project.milestone_reached",
            Event::ScheduleEntryCreated(_) => "schedule.entry_created",
            Event::ScheduleEntryUpdated(_) => "schedule.entry_updated",
            Event::ScheduleEntryCancelled(_) => "schedule.entry_cancelled",
            Event::ScheduleReminder(_) => "schedule.reminder",
            Event::AutomationPublished(_) => "automation.published",
            Event::AutomationMessage(_) => "automation.message",
            Event::AutomationContactMessage(_) => "automation.contact_message",
            Event::AutomationRunRequested(_) => "automation.run_requested",
            Event::AutomationRunCompleted(_) => "automation.run_completed",
            Event::AutomationRunFailed(_) => "automation.run_failed",
        }
    }

    /// The ticket the event is about, for the events that carry a ticket's snapshot.
    /// The ticket an event is about, from its snapshot or (SLA events) its ID.
    pub fn ticket_id(&self) -> Option<Uuid> {
        match self.sla_audience() {
            Some(a) => Some(a.ticket_id),
            None => self.ticket().map(|t| t.ticket_id),
        }
    }

    /// For an SLA event, its ticket and whom it is for, as the SLA engine resolved them.
    pub fn sla_audience(&self) -> Option<SlaAudience<'_>> {
        let (ticket_id, recipients, channels) = match self {
            Event::SlaThreshold(e) => (e.ticket_id, &e.recipients, &e.channels),
            Event::SlaBreached(e) => (e.ticket_id, &e.recipients, &e.channels),
            Event::SlaEscalated(e) => (e.ticket_id, &e.recipients, &e.channels),
            _ => return None,
        };
        Some(SlaAudience {
            ticket_id,
            recipients,
            channels,
        })
    }

    pub fn ticket(&self) -> Option<&TicketSnapshot> {
        match self {
            Event::TicketCreated { ticket }
            | Event::TicketUpdated { ticket, .. }
            | Event::TicketStatusChanged { ticket, .. }
            | Event::TicketAssigned { ticket, .. }
            | Event::TicketClosed { ticket }
            | Event::CommentAdded { ticket, .. } => Some(ticket),
            _ => None,
        }
    }
}

/// The ticket, recipients and channels an SLA event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaAudience<'a> {
    pub ticket_id: Uuid,
    pub recipients: &'a [Uuid],
    /// `email` and/or `in_app`; empty means both.
    pub channels: &'a [String],
}

/// The notification channels an SLA event may name.
fn sla_channels(e: &mut ValidationErrors, channels: &[String]) {
    for (i, c) in channels.iter().enumerate() {
        if c.parse::<crate::notifications::Channel>().is_err() {
            e.push(
                &format!("payload.channels[{i}]"),
                "must be `email` or `in_app`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> TicketSnapshot {
        TicketSnapshot {
            ticket_id: Uuid::nil(),
            number: 7,
            title: "Printer on fire".into(),
            client_id: None,
            board_id: Uuid::nil(),
            priority_id: Uuid::nil(),
            priority_name: "P1".into(),
            status_id: Uuid::nil(),
            status_is_closed: false,
            status_pauses_sla: false,
            assignee_id: None,
        }
    }

    #[test]
    fn envelope_wire_shape() {
        let env = Envelope {
            event_id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            occurred_at: DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
                .unwrap()
                .with_timezone(&Utc),
            actor: Actor::System,
            event: Event::TicketCreated { ticket: snapshot() },
        };
        let json = serde_json::to_value(&env).unwrap();
        assert_eq!(json["type"], "ticket.created");
        assert_eq!(json["payload"]["ticket"]["number"], 7);
        assert_eq!(json["actor"]["kind"], "system");
        assert_eq!(json["occurred_at"], "2026-01-02T03:04:05Z");
        let back: Envelope = serde_json::from_value(json).unwrap();
        assert_eq!(back, env);
        assert_eq!(back.event_type(), "ticket.created");
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn money(amount: &str) -> crate::money::Money {
        crate::money::Money::new(amount.parse().unwrap(), "USD")
    }

    fn time_entry(reason: Option<&str>) -> TimeEntryChanged {
        TimeEntryChanged {
            timesheet_id: Uuid::nil(),
            user_id: Uuid::nil(),
            period_start: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            period_end: chrono::NaiveDate::from_ymd_opt(2026, 1, 12).unwrap(),
            entries: 3,
            minutes: 90,
            reviewer_id: Uuid::nil(),
            reason: reason.map(str::to_owned),
        }
    }

    /// One valid example of every event type.
    fn examples() -> Vec<Event> {
        let t = snapshot();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let schedule = ScheduleEntryChanged {
            entry_id: Uuid::nil(),
            title: "Quarterly maintenance".into(),
            series_id: None,
            split_off: None,
            starts_at: at("2026-01-01T09:00:00Z"),
            ends_at: at("2026-01-01T10:00:00Z"),
            assignee_ids: vec![Uuid::nil()],
        };
        let run = AutomationRunFinished {
            automation_id: Uuid::nil(),
            version: 1,
            run_id: "automation:x".into(),
            error: Some("boom".into()),
            automation_name: Some("Acknowledge".into()),
            owner_user_id: Some(Uuid::nil()),
        };
        vec![
            Event::TicketCreated { ticket: t.clone() },
            Event::TicketUpdated {
                ticket: t.clone(),
                changed: vec!["title".into()],
            },
            Event::TicketStatusChanged {
                ticket: t.clone(),
                from_status_id: Uuid::nil(),
            },
            Event::TicketAssigned {
                ticket: t.clone(),
                from_assignee_id: None,
            },
            Event::TicketClosed { ticket: t.clone() },
            Event::CommentAdded {
                ticket: t,
                comment_id: Uuid::nil(),
                by_internal_user: true,
                is_public: true,
            },
            Event::SlaThreshold(SlaThreshold {
                ticket_id: Uuid::nil(),
                phase: SlaPhase::Response,
                percent: 75,
                due_at: at("2026-01-01T10:00:00Z"),
                recipients: vec![],
                channels: vec![],
            }),
            Event::SlaBreached(SlaBreached {
                ticket_id: Uuid::nil(),
                phase: SlaPhase::Resolution,
                due_at: at("2026-01-01T10:00:00Z"),
                recipients: vec![],
                channels: vec![],
            }),
            Event::SlaEscalated(SlaEscalated {
                ticket_id: Uuid::nil(),
                phase: SlaPhase::Resolution,
                level: 2,
                recipients: vec![],
                channels: vec![],
            }),
            Event::InvoiceGenerated(InvoiceGenerated {
                invoice_id: Uuid::nil(),
                client_id: Uuid::nil(),
                number: "INV-1".into(),
                total: money("120.00"),
                period_start: day,
                period_end: day,
            }),
            Event::InvoiceFinalized(InvoiceFinalized {
                invoice_id: Uuid::nil(),
                client_id: Uuid::nil(),
                number: "INV-2".into(),
                total: money("80.00"),
                due_date: day,
            }),
            Event::InvoiceOverdue(InvoiceOverdue {
                invoice_id: Uuid::nil(),
                client_id: Uuid::nil(),
                due_date: day,
                balance: money("20.00"),
            }),
            Event::PaymentRecorded(PaymentRecorded {
                payment_id: Uuid::nil(),
                invoice_id: None,
                client_id: Uuid::nil(),
                amount: money("100.00"),
            }),
            Event::CreditIssued(CreditIssued {
                credit_id: Uuid::nil(),
                client_id: Uuid::nil(),
                amount: money("25.00"),
                expires_on: Some(day),
                payment_id: None,
            }),
            Event::TimeEntrySubmitted(time_entry(None)),
            Event::TimeEntryApproved(time_entry(None)),
            Event::TimeEntryRejected(time_entry(Some("Missing notes"))),
            Event::ProjectCreated(ProjectCreated {
                project_id: Uuid::nil(),
                client_id: Uuid::nil(),
                name: "Migration".into(),
            }),
            Event::ProjectTaskAssigned(ProjectTaskAssigned {
                project_id: Uuid::nil(),
                task_id: Uuid::nil(),
                assignee_id: Uuid::nil(),
                title: "Cable".into(),
            }),
            Event::ProjectMilestoneReached(ProjectMilestoneReached {
                project_id: Uuid::nil(),
                milestone_id: Uuid::nil(),
                name: "Go-live".into(),
            }),
            Event::ScheduleEntryCreated(schedule.clone()),
            Event::ScheduleEntryUpdated(schedule.clone()),
            Event::ScheduleEntryCancelled(schedule),
            Event::ScheduleReminder(ScheduleReminder {
                entry_id: Uuid::nil(),
                title: "Quarterly maintenance".into(),
                starts_at: at("2026-01-01T09:00:00Z"),
                ends_at: at("2026-01-01T10:00:00Z"),
                local_start: "2026-01-01T10:00:00".into(),
                timezone: "Europe/Berlin".into(),
                minutes_before: 15,
                assignee_ids: vec![Uuid::nil()],
            }),
            Event::AutomationMessage(AutomationMessage {
                automation_id: Uuid::nil(),
                user_id: Uuid::nil(),
                subject: "Unanswered: #42".into(),
                body: "Ticket #42 is yours.".into(),
                channel: "email".into(),
            }),
            Event::AutomationContactMessage(AutomationContactMessage {
                automation_id: Uuid::nil(),
                contact_id: Uuid::nil(),
                subject: "We are on it".into(),
                body: "Ticket #42 is with our team.".into(),
            }),
            Event::AutomationRunRequested(AutomationRunRequested {
                automation_id: Uuid::nil(),
                version: 1,
                run_id: "automation:x".into(),
                input: serde_json::json!({"ticket_id": "t"}),
            }),
            Event::AutomationPublished(AutomationPublished {
                automation_id: Uuid::nil(),
                version: 1,
            }),
            Event::AutomationRunCompleted(AutomationRunFinished {
                error: None,
                ..run.clone()
            }),
            Event::AutomationRunFailed(run),
        ]
    }

    fn envelope(event: Event) -> Envelope {
        Envelope {
            event_id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            occurred_at: at("2026-01-02T03:04:05Z"),
            actor: Actor::System,
            event,
        }
    }

    #[test]
    fn every_event_type_round_trips_and_validates() {
        let examples = examples();
        let mut seen: Vec<&str> = examples.iter().map(Event::event_type).collect();
        seen.sort_unstable();
        let mut all = EVENT_TYPES.to_vec();
        all.sort_unstable();
        assert_eq!(seen, all, "one example per event type");
        for event in examples {
            let env = envelope(event);
            let json = serde_json::to_string(&env).unwrap();
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(value["type"], env.event_type());
            let back =
                Envelope::from_json(&json).unwrap_or_else(|e| panic!("{}: {e}", env.event_type()));
            assert_eq!(back, env);
        }
    }

    #[test]
    fn invalid_payloads_are_refused_naming_the_field() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
        let cases: Vec<(Event, &str)> = vec![
            (
                Event::SlaThreshold(SlaThreshold {
                    ticket_id: Uuid::nil(),
                    phase: SlaPhase::Response,
                    percent: 0,
                    due_at: at("2026-01-01T10:00:00Z"),
                    recipients: vec![],
                    channels: vec![],
                }),
                "payload.percent",
            ),
            (
                Event::SlaEscalated(SlaEscalated {
                    ticket_id: Uuid::nil(),
                    phase: SlaPhase::Response,
                    level: 4,
                    recipients: vec![],
                    channels: vec![],
                }),
                "payload.level",
            ),
            (
                Event::PaymentRecorded(PaymentRecorded {
                    payment_id: Uuid::nil(),
                    invoice_id: None,
                    client_id: Uuid::nil(),
                    amount: money("-1.00"),
                }),
                "payload.amount.amount",
            ),
            (
                Event::InvoiceOverdue(InvoiceOverdue {
                    invoice_id: Uuid::nil(),
                    client_id: Uuid::nil(),
                    due_date: day,
                    balance: crate::money::Money::new(rust_decimal::Decimal::ONE, "usd"),
                }),
                "payload.balance.currency",
            ),
            (
                Event::InvoiceGenerated(InvoiceGenerated {
                    invoice_id: Uuid::nil(),
                    client_id: Uuid::nil(),
                    number: "INV-2".into(),
                    total: money("1"),
                    period_start: day,
                    period_end: day.pred_opt().unwrap(),
                }),
                "payload.period_end",
            ),
            (Event::TimeEntryRejected(time_entry(None)), "payload.reason"),
            (
                Event::TimeEntrySubmitted(TimeEntryChanged {
                    entries: 0,
                    ..time_entry(None)
                }),
                "payload.entries",
            ),
            (
                Event::ProjectCreated(ProjectCreated {
                    project_id: Uuid::nil(),
                    client_id: Uuid::nil(),
                    name: " ".into(),
                }),
                "payload.name",
            ),
            (
                Event::AutomationPublished(AutomationPublished {
                    automation_id: Uuid::nil(),
                    version: 0,
                }),
                "payload.version",
            ),
            (
                Event::AutomationRunFailed(AutomationRunFinished {
                    automation_id: Uuid::nil(),
                    version: 1,
                    run_id: "r".into(),
                    error: None,
                    automation_name: None,
                    owner_user_id: None,
                }),
                "payload.error",
            ),
            (
                Event::TicketClosed {
                    ticket: TicketSnapshot {
                        number: 0,
                        ..snapshot()
                    },
                },
                "payload.ticket.number",
            ),
        ];
        for (event, field) in cases {
            let kind = event.event_type();
            let err = envelope(event).validate().unwrap_err();
            assert_eq!(err.0[0].field, field, "{kind}");
        }
    }

    #[test]
    fn malformed_payload_is_refused() {
        let json = serde_json::json!({
            "event_id": Uuid::nil(), "tenant_id": Uuid::nil(),
            "occurred_at": "2026-01-02T03:04:05Z", "actor": {"kind": "system"},
            "type": "sla.escalated", "payload": {"ticket_id": Uuid::nil(), "phase": "response", "level": "high"}
        });
        assert!(matches!(
            Envelope::from_json(&json.to_string()),
            Err(InvalidEvent::Malformed(_))
        ));
    }

    #[test]
    fn unknown_type_is_refused() {
        let json = serde_json::json!({
            "event_id": Uuid::nil(), "tenant_id": Uuid::nil(),
            "occurred_at": "2026-01-02T03:04:05Z", "actor": {"kind": "system"},
            "type": "ticket.exploded", "payload": {}
        });
        assert!(serde_json::from_value::<Envelope>(json).is_err());
    }
}
