//! Temporal commands as data, stored in the outbox in the same transaction as the change that
//! caused them, and carried out later by the edge's relay.
//!
//! Keeping them as data means the store decides *what* to tell Temporal while its transaction
//! is open, and the relay only executes, so a crash between commit and delivery loses nothing.
//! They live here, free of any Temporal crate, so the store that writes them and the relay
//! that runs them share one definition.

use crate::events::{Envelope, Event};
use crate::ids::{schedule_workflow_id, sla_workflow_id};
use crate::scheduling::reminders::{EntryChanged, ReminderInput};
use crate::sla::run::{TicketSignal, TicketSignalKind, TicketWorkflowInput};
use serde::{Deserialize, Serialize};

// A command lives for one event, on its way to or from JSON: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
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
    /// Tell a schedule entry's reminder run that the entry changed, starting a run first if
    /// none is running (a new entry, or one whose series had ended and was extended).
    ScheduleSignalWithStart {
        workflow_id: String,
        input: ReminderInput,
        signal: EntryChanged,
        summary: String,
    },
}

impl WorkflowCommand {
    /// The workflow the command is for: commands for one workflow are delivered in the order
    /// they were recorded.
    pub fn workflow_id(&self) -> &str {
        match self {
            WorkflowCommand::TicketSignalWithStart { workflow_id, .. }
            | WorkflowCommand::ScheduleSignalWithStart { workflow_id, .. } => workflow_id,
        }
    }

    /// The command an event calls for, if any workflow cares about it.
    pub fn for_event(env: &Envelope) -> Option<WorkflowCommand> {
        if let Event::ScheduleEntryCreated(s)
        | Event::ScheduleEntryUpdated(s)
        | Event::ScheduleEntryCancelled(s) = &env.event
        {
            return Some(WorkflowCommand::ScheduleSignalWithStart {
                workflow_id: schedule_workflow_id(env.tenant_id, s.entry_id),
                input: ReminderInput {
                    tenant_id: env.tenant_id,
                    entry_id: s.entry_id,
                    carry: None,
                },
                signal: EntryChanged {
                    event_id: env.event_id,
                    occurred_at: env.occurred_at,
                },
                summary: format!("Reminders: {}", summary_title(&s.title)),
            });
        }
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

/// An entry's title as a run's summary shows it: short, on one line.
fn summary_title(title: &str) -> String {
    const MAX: usize = 120;
    let one_line: String = title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match one_line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Actor, ScheduleEntryChanged};
    use chrono::Utc;
    use uuid::Uuid;

    fn env(event: Event) -> Envelope {
        Envelope {
            event_id: Uuid::now_v7(),
            tenant_id: Uuid::now_v7(),
            occurred_at: Utc::now(),
            actor: Actor::System,
            event,
        }
    }

    #[test]
    fn every_change_of_an_entry_reaches_its_reminder_run_and_reminders_reach_none() {
        let entry = Uuid::now_v7();
        let changed = ScheduleEntryChanged {
            entry_id: entry,
            title: "Patch night\nand more".into(),
            series_id: None,
            split_off: None,
            starts_at: Utc::now(),
            ends_at: Utc::now() + chrono::TimeDelta::hours(1),
            assignee_ids: vec![Uuid::now_v7()],
        };
        for event in [
            Event::ScheduleEntryCreated(changed.clone()),
            Event::ScheduleEntryUpdated(changed.clone()),
            Event::ScheduleEntryCancelled(changed.clone()),
        ] {
            let e = env(event);
            let Some(WorkflowCommand::ScheduleSignalWithStart {
                workflow_id,
                input,
                signal,
                summary,
            }) = WorkflowCommand::for_event(&e)
            else {
                panic!("no command for {}", e.event_type());
            };
            assert_eq!(workflow_id, schedule_workflow_id(e.tenant_id, entry));
            assert_eq!((input.tenant_id, input.entry_id), (e.tenant_id, entry));
            assert_eq!(signal.event_id, e.event_id);
            assert_eq!(summary, "Reminders: Patch night and more");
        }
        let reminder = env(Event::ScheduleReminder(crate::events::ScheduleReminder {
            entry_id: entry,
            title: changed.title,
            starts_at: changed.starts_at,
            ends_at: changed.ends_at,
            local_start: "2026-01-01T09:00:00".into(),
            timezone: "UTC".into(),
            minutes_before: 15,
            assignee_ids: changed.assignee_ids,
        }));
        assert_eq!(WorkflowCommand::for_event(&reminder), None);
    }

    #[test]
    fn a_long_title_is_cut_for_the_summary() {
        let long = "x".repeat(500);
        let cut = summary_title(&long);
        assert_eq!(cut.chars().count(), 121);
        assert!(cut.ends_with('…'));
    }
}
