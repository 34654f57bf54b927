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
    Client, WorkflowDescribeOptions, WorkflowExecutionStatus, WorkflowIdConflictPolicy,
    WorkflowIdReusePolicy, WorkflowStartOptions,
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
    /// The ticket's last run had ended without finishing (failed, terminated, timed out or
    /// cancelled): a new run was started with the signal, and rebuilds the clock from the
    /// ticket's record.
    Recreated { previous: WorkflowExecutionStatus },
}

/// Why a command could not be carried out now; the relay retries it.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Start(#[from] WorkflowStartError),
    #[error("describing workflow {0}: {1}")]
    Describe(String, String),
    /// The workflow ID is taken by a run in a state that allows neither a signal nor a new run
    /// yet (e.g. one started between two calls); the next attempt decides.
    #[error("workflow {0} is {1:?}; retrying")]
    Undecided(String, WorkflowExecutionStatus),
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
    ///
    /// A ticket has one clock: a run that finished (closed ticket, reopen window over) is never
    /// started again by a late event. A run that ended without finishing (failed, terminated)
    /// is re-created by the next event instead of silencing the ticket's clock for good.
    pub async fn execute(
        &self,
        client: &Client,
        task_queue: &str,
    ) -> Result<Delivered, CommandError> {
        match self {
            WorkflowCommand::TicketSignalWithStart { workflow_id, .. } => {
                if self
                    .signal_with_start(client, task_queue, WorkflowIdReusePolicy::RejectDuplicate)
                    .await?
                {
                    return Ok(Delivered::Signalled);
                }
                let handle = client.get_workflow_handle::<SlaTicketWorkflow>(workflow_id.as_str());
                let status = handle
                    .describe(WorkflowDescribeOptions::default())
                    .await
                    .map_err(|e| CommandError::Describe(workflow_id.clone(), e.to_string()))?
                    .status();
                match status {
                    WorkflowExecutionStatus::Completed => Ok(Delivered::WorkflowClosed),
                    WorkflowExecutionStatus::Failed
                    | WorkflowExecutionStatus::Terminated
                    | WorkflowExecutionStatus::TimedOut
                    | WorkflowExecutionStatus::Canceled => {
                        let started = self
                            .signal_with_start(
                                client,
                                task_queue,
                                WorkflowIdReusePolicy::AllowDuplicateFailedOnly,
                            )
                            .await?;
                        // Refused: the run found a moment ago was replaced by one that has
                        // since finished; that one decides, as for any finished run.
                        Ok(if started {
                            Delivered::Recreated { previous: status }
                        } else {
                            Delivered::WorkflowClosed
                        })
                    }
                    other => Err(CommandError::Undecided(workflow_id.clone(), other)),
                }
            }
        }
    }

    /// Signal-with-start under `reuse`; `false` when the server refused because the workflow ID
    /// is taken by a closed run the policy does not allow replacing (a running one would have
    /// been signalled).
    async fn signal_with_start(
        &self,
        client: &Client,
        task_queue: &str,
        reuse: WorkflowIdReusePolicy,
    ) -> Result<bool, WorkflowStartError> {
        let WorkflowCommand::TicketSignalWithStart {
            workflow_id,
            input,
            signal,
            summary,
        } = self;
        let search = SearchAttributes::new([
            sa::TENANT_ID.value_set(input.tenant_id.to_string()),
            sa::TICKET_ID.value_set(input.ticket_id.to_string()),
            sa::BOARD_ID.value_set(input.board_id.to_string()),
            sa::PRIORITY.value_set(input.priority.clone()),
        ]);
        let options = WorkflowStartOptions::new(task_queue, workflow_id.as_str())
            .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
            .id_reuse_policy(reuse)
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
            Ok(_) => Ok(true),
            Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(false),
            Err(WorkflowStartError::Rpc(s)) if s.code() == tonic::Code::AlreadyExists => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// How a run of a ticket's SLA clock stands, in the words the API and metrics use: `running`,
/// `finished`, `failed`, `terminated`, `timed_out`, `canceled` or `unknown`.
pub fn clock_state(status: WorkflowExecutionStatus) -> &'static str {
    match status {
        WorkflowExecutionStatus::Running | WorkflowExecutionStatus::ContinuedAsNew => "running",
        WorkflowExecutionStatus::Completed => "finished",
        WorkflowExecutionStatus::Failed => "failed",
        WorkflowExecutionStatus::Terminated => "terminated",
        WorkflowExecutionStatus::TimedOut => "timed_out",
        WorkflowExecutionStatus::Canceled => "canceled",
        _ => "unknown",
    }
}
