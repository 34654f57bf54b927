//! The relay's side of a [`WorkflowCommand`]: carrying it out against the Temporal service.
//!
//! The edge reaches the SLA run through the names in [`psa_domain::ids::sla_run`] and the
//! message types in [`psa_domain::sla::run`] (a schedule entry's reminder run likewise, through
//! [`psa_domain::ids::schedule_run`]), with marker types of its own: it needs the Temporal
//! client, never the workflow's code or the worker SDK.

use psa_domain::commands::WorkflowCommand;
use psa_domain::ids::{schedule_run, sla_run};
use psa_domain::scheduling::reminders::{EntryChanged, ReminderInput, ReminderStatus};
use psa_domain::search_attributes as names;
use psa_domain::sla::run::{TicketSignal, TicketWorkflowInput, TicketWorkflowStatus};
use std::time::Duration;
use temporalio_client::errors::WorkflowStartError;
use temporalio_client::{
    Client, ClientOptions, Connection, ConnectionOptions, Url, WorkflowDescribeOptions,
    WorkflowExecutionStatus, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions,
};
use temporalio_common::search_attributes::{SearchAttributeKey, SearchAttributes};
use temporalio_common::{
    HasWorkflowDefinition, QueryDefinition, SignalDefinition, WorkflowDefinition,
};

/// A ticket's SLA run, as the client sees it.
#[derive(Debug, Clone, Copy)]
pub struct SlaRun;

impl WorkflowDefinition for SlaRun {
    type Input = TicketWorkflowInput;
    type Output = TicketWorkflowStatus;
    fn name(&self) -> &str {
        sla_run::WORKFLOW_TYPE
    }
}

impl HasWorkflowDefinition for SlaRun {
    type Run = Self;
}

/// The signal carrying one ticket event to its SLA run.
#[derive(Debug, Clone, Copy)]
pub struct TicketEvent;

impl SignalDefinition for TicketEvent {
    type Workflow = SlaRun;
    type Input = TicketSignal;
    fn name(&self) -> &str {
        sla_run::EVENT_SIGNAL
    }
}

/// The query answering how a ticket's SLA run stands.
#[derive(Debug, Clone, Copy)]
pub struct StatusQuery;

impl QueryDefinition for StatusQuery {
    type Workflow = SlaRun;
    type Input = ();
    type Output = TicketWorkflowStatus;
    fn name(&self) -> &str {
        sla_run::STATUS_QUERY
    }
}

/// A schedule entry's reminder run, as the client sees it.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleRun;

impl WorkflowDefinition for ScheduleRun {
    type Input = ReminderInput;
    type Output = ReminderStatus;
    fn name(&self) -> &str {
        schedule_run::WORKFLOW_TYPE
    }
}

impl HasWorkflowDefinition for ScheduleRun {
    type Run = Self;
}

/// The signal telling a reminder run that its entry changed.
#[derive(Debug, Clone, Copy)]
pub struct EntryChangedSignal;

impl SignalDefinition for EntryChangedSignal {
    type Workflow = ScheduleRun;
    type Input = EntryChanged;
    fn name(&self) -> &str {
        schedule_run::CHANGED_SIGNAL
    }
}

/// Why the Temporal service cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("invalid Temporal address `{address}`: {reason}")]
    Address { address: String, reason: String },
    #[error("cannot connect to Temporal at {address}: {reason}")]
    Connect { address: String, reason: String },
}

/// Connects to the Temporal frontend at `address` (`host:port`, or a URL) bound to `namespace`.
pub async fn connect(address: &str, namespace: &str) -> Result<Client, ConnectError> {
    let url_text = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
    let url = Url::parse(&url_text).map_err(|e| ConnectError::Address {
        address: address.to_owned(),
        reason: e.to_string(),
    })?;
    let options = ConnectionOptions::new(url)
        .identity("psa-edge".to_owned())
        .connect_timeout(Duration::from_secs(5))
        .build();
    let unreachable = |e: &dyn std::fmt::Display| ConnectError::Connect {
        address: address.to_owned(),
        reason: e.to_string(),
    };
    let connection = Connection::connect(options)
        .await
        .map_err(|e| unreachable(&e))?;
    Client::new(connection, ClientOptions::new(namespace).build()).map_err(|e| unreachable(&e))
}

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

/// Carries `command` out. Safe to repeat: starts use the business-key workflow ID with the
/// "use existing" conflict policy, and the workflow ignores an event ID it has seen.
///
/// A ticket has one clock: a run that finished (closed ticket, reopen window over) is never
/// started again by a late event. A run that ended without finishing (failed, terminated)
/// is re-created by the next event instead of silencing the ticket's clock for good.
///
/// An entry's reminder run is started again by any later change once it has ended (its series
/// was over, or reminders were off): the change may have given it occurrences to remind of.
pub async fn execute(
    command: &WorkflowCommand,
    client: &Client,
    task_queue: &str,
) -> Result<Delivered, CommandError> {
    match command {
        WorkflowCommand::ScheduleSignalWithStart {
            workflow_id,
            input,
            signal,
            summary,
        } => {
            let search =
                SearchAttributes::new([SearchAttributeKey::<String>::keyword(names::TENANT_ID)
                    .value_set(input.tenant_id.to_string())]);
            let options = WorkflowStartOptions::new(task_queue, workflow_id.as_str())
                .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
                .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicate)
                .search_attributes(search)
                .static_summary(summary.clone())
                .build();
            client
                .signal_with_start_workflow(
                    ScheduleRun,
                    input.clone(),
                    EntryChangedSignal,
                    signal.clone(),
                    options,
                )
                .await?;
            Ok(Delivered::Signalled)
        }
        WorkflowCommand::TicketSignalWithStart {
            workflow_id,
            input,
            signal,
            summary,
        } => {
            let command = TicketCommand {
                workflow_id,
                input,
                signal,
                summary,
            };
            if signal_with_start(
                &command,
                client,
                task_queue,
                WorkflowIdReusePolicy::RejectDuplicate,
            )
            .await?
            {
                return Ok(Delivered::Signalled);
            }
            let handle = client.get_workflow_handle::<SlaRun>(workflow_id.as_str());
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
                    let started = signal_with_start(
                        &command,
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

/// The parts of a [`WorkflowCommand::TicketSignalWithStart`].
struct TicketCommand<'a> {
    workflow_id: &'a String,
    input: &'a TicketWorkflowInput,
    signal: &'a TicketSignal,
    summary: &'a String,
}

/// Signal-with-start under `reuse`; `false` when the server refused because the workflow ID
/// is taken by a closed run the policy does not allow replacing (a running one would have
/// been signalled).
async fn signal_with_start(
    command: &TicketCommand<'_>,
    client: &Client,
    task_queue: &str,
    reuse: WorkflowIdReusePolicy,
) -> Result<bool, WorkflowStartError> {
    let TicketCommand {
        workflow_id,
        input,
        signal,
        summary,
    } = *command;
    let search = SearchAttributes::new([
        SearchAttributeKey::<String>::keyword(names::TENANT_ID)
            .value_set(input.tenant_id.to_string()),
        SearchAttributeKey::<String>::keyword(names::TICKET_ID)
            .value_set(input.ticket_id.to_string()),
        SearchAttributeKey::<String>::keyword(names::BOARD_ID)
            .value_set(input.board_id.to_string()),
        SearchAttributeKey::<String>::keyword(names::PRIORITY).value_set(input.priority.clone()),
    ]);
    let options = WorkflowStartOptions::new(task_queue, workflow_id.as_str())
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .id_reuse_policy(reuse)
        .search_attributes(search)
        .static_summary(summary.clone())
        .build();
    let result = client
        .signal_with_start_workflow(
            SlaRun,
            (*input).clone(),
            TicketEvent,
            (*signal).clone(),
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
