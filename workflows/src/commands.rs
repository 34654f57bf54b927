//! Temporal commands as data, stored in the outbox in the same transaction as the change that
//! caused them, and carried out later by the relay.
//!
//! Keeping them as data means the edge decides *what* to tell Temporal while its transaction is
//! open, and the relay only executes, so a crash between commit and delivery loses nothing.

use crate::ticket_sla::{SlaTicketWorkflow, TicketSignal, TicketWorkflowInput};
use psa_domain::events::{Envelope, Event};
use psa_domain::ids::sla_workflow_id;
use serde::{Deserialize, Serialize};
use temporalio_client::errors::WorkflowStartError;
use temporalio_client::{
    Client, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions,
};
use temporalio_common::search_attributes::SearchAttributes;

use crate::search_attributes as sa;
use crate::ticket_sla::TicketSignalKind;

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

/// The outcome of executing a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// The workflow received the signal (and was started if needed).
    Signalled,
    /// The workflow already finished; a late event for it has nothing left to change.
    WorkflowClosed,
}

impl WorkflowCommand {
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

    /// Carries the command out. Safe to repeat: starts use the business-key workflow ID with the
    /// "use existing" conflict policy, and the workflow ignores an event ID it has seen.
    pub async fn execute(
        &self,
        client: &Client,
        task_queue: &str,
    ) -> Result<Delivered, WorkflowStartError> {
        match self {
            WorkflowCommand::TicketSignalWithStart {
                workflow_id,
                input,
                signal,
                summary,
            } => {
                let search = SearchAttributes::new([
                    sa::TENANT_ID.value_set(input.tenant_id.to_string()),
                    sa::TICKET_ID.value_set(input.ticket_id.to_string()),
                    sa::BOARD_ID.value_set(input.board_id.to_string()),
                    sa::PRIORITY.value_set(input.priority.clone()),
                ]);
                let options = WorkflowStartOptions::new(task_queue, workflow_id.as_str())
                    .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
                    // One run per ticket: a late event must not start a second one.
                    .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
                    .search_attributes(search)
                    .static_summary(summary.clone())
                    .build();
                let result = client
                    .signal_with_start_workflow(
                        SlaTicketWorkflow::run,
                        input.clone(),
                        SlaTicketWorkflow::ticket_event,
                        signal.clone(),
                        options,
                    )
                    .await;
                match result {
                    Ok(_) => Ok(Delivered::Signalled),
                    // Signal-with-start answers ALREADY_EXISTS only when the run is closed and the
                    // reuse policy forbids another (a running one would have been signalled).
                    Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(Delivered::WorkflowClosed),
                    Err(WorkflowStartError::Rpc(s)) if s.code() == tonic::Code::AlreadyExists => {
                        Ok(Delivered::WorkflowClosed)
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }
}
