//! Domain events and their one envelope (DESIGN.md §5).
//!
//! An event is published once per committed change (through the outbox) and read by workflows
//! and stream consumers; its `event_id` is what every receiver de-duplicates on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
        }
    }

    /// The ticket the event is about, for the events that route to a ticket's workflow.
    pub fn ticket(&self) -> &TicketSnapshot {
        match self {
            Event::TicketCreated { ticket }
            | Event::TicketUpdated { ticket, .. }
            | Event::TicketStatusChanged { ticket, .. }
            | Event::TicketAssigned { ticket, .. }
            | Event::TicketClosed { ticket }
            | Event::CommentAdded { ticket, .. } => ticket,
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
