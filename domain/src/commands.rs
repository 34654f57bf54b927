//! Temporal commands as data, stored in the outbox in the same transaction as the change that
//! caused them, and carried out later by the edge's relay.
//!
//! Keeping them as data means the store decides *what* to tell Temporal while its transaction
//! is open, and the relay only executes, so a crash between commit and delivery loses nothing.
//! They live here, free of any Temporal crate, so the store that writes them and the relay
//! that runs them share one definition.

use crate::events::{Envelope, Event};
use crate::ids::sla_workflow_id;
use crate::sla::run::{TicketSignal, TicketSignalKind, TicketWorkflowInput};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum WorkflowCommand {
    /// Signal the ticket's workflow, starting it first if it does not run yet.
    TicketSignalWithStart {
        workflow_id: String,
        input: TicketWorkflowInput,
        signal: TicketSignal,
        summary: String,
    },
}

impl WorkflowCommand {
    /// The workflow the command is for: commands for one workflow are delivered in the order
    /// they were recorded.
    pub fn workflow_id(&self) -> &str {
        match self {
            WorkflowCommand::TicketSignalWithStart { workflow_id, .. } => workflow_id,
        }
    }

    /// The command an event calls for, if any workflow cares about it.
    pub fn for_event(env: &Envelope) -> Option<WorkflowCommand> {
        let ticket = env.event.ticket()?;
        let kind = match &env.event {
            Event::TicketCreated { ticket } => TicketSignalKind::Created {
                status_id: ticket.status_id,
                is_closed: ticket.status_is_closed,
                pauses_sla: ticket.status_pauses_sla,
            },
            Event::TicketUpdated { .. } => TicketSignalKind::Updated,
            Event::TicketAssigned { ticket, .. } => TicketSignalKind::Assigned {
                assignee_id: ticket.assignee_id,
            },
            Event::TicketStatusChanged { ticket, .. } => TicketSignalKind::StatusChanged {
                status_id: ticket.status_id,
                is_closed: ticket.status_is_closed,
                pauses_sla: ticket.status_pauses_sla,
            },
            Event::TicketClosed { .. } => TicketSignalKind::Closed,
            Event::CommentAdded {
                by_internal_user,
                is_public,
                ..
            } => TicketSignalKind::CommentAdded {
                by_internal_user: *by_internal_user,
                is_public: *is_public,
            },
            _ => return None,
        };
        Some(WorkflowCommand::TicketSignalWithStart {
            workflow_id: sla_workflow_id(env.tenant_id, ticket.ticket_id),
            input: TicketWorkflowInput {
                tenant_id: env.tenant_id,
                ticket_id: ticket.ticket_id,
                ticket_number: ticket.number,
                board_id: ticket.board_id,
                priority: ticket.priority_name.clone(),
                opened_at: env.occurred_at,
                carry: None,
            },
            signal: TicketSignal {
                event_id: env.event_id,
                occurred_at: env.occurred_at,
                kind,
            },
            summary: format!("Ticket #{}: {}", ticket.number, ticket.title),
        })
    }
}
