//! Which events notify whom, and how a notification reads.
//!
//! Pure: the worker's notification handler asks this module for the subtype and recipients of
//! an event and renders the tenant's (or the system's) template with it; settings and
//! preferences are applied by the store around it.

pub mod billing;
mod channel;

pub use channel::{Channel, ChannelError};

use crate::events::{Envelope, Event};
use crate::template_limits;
use handlebars::Handlebars;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// The notification subtype an event maps to (codes in `notification_subtypes`), if any.
/// The `changed` entry of a `ticket.updated` that only re-times the ticket's SLA clock.
pub const SLA_POLICY_CHANGE: &str = "sla_policy";

pub fn subtype_for(event: &Event) -> Option<&'static str> {
    Some(match event {
        Event::TicketCreated { .. } => "ticket.created",
        Event::TicketAssigned { .. } => "ticket.assigned",
        // A change of SLA configuration re-times open tickets through `ticket.updated`
        // (`changed: ["sla_policy"]`); nobody is told the ticket changed, because it did not.
        Event::TicketUpdated { changed, .. } if changed.iter().all(|c| c == SLA_POLICY_CHANGE) => {
            return None;
        }
        Event::TicketUpdated { .. } => "ticket.updated",
        Event::CommentAdded { .. } => "ticket.commented",
        Event::TicketClosed { .. } => "ticket.closed",
        Event::SlaThreshold(_) => "sla.warning",
        Event::SlaBreached(_) => "sla.breached",
        Event::SlaEscalated(_) => "sla.escalated",
        Event::InvoiceGenerated(_) => "invoice.generated",
        Event::InvoiceFinalized(_) => "invoice.finalized",
        Event::InvoiceOverdue(_) => "invoice.overdue",
        Event::PaymentRecorded(_) => "invoice.payment_received",
        Event::CreditIssued(_) => "credit.issued",
        Event::ProjectCreated(_) => "project.created",
        Event::ProjectTaskAssigned(_) => "project.task_assigned",
        Event::ProjectMilestoneReached(_) => "project.milestone",
        Event::TimeEntrySubmitted(_) => "time_entry.submitted",
        Event::TimeEntryApproved(_) => "time_entry.approved",
        Event::TimeEntryRejected(_) => "time_entry.rejected",
        // An entry cut from a series (a moved occurrence, the later part of a split) is the
        // same appointment at its new time, for the people in it.
        Event::ScheduleEntryCreated(s) if s.series_id.is_some() => "appointment.updated",
        Event::ScheduleEntryCreated(_) => "appointment.created",
        // What stays of a series an occurrence was cut from: the cut entry's event tells.
        Event::ScheduleEntryUpdated(s) if s.split_off.is_some() => return None,
        Event::ScheduleEntryUpdated(_) => "appointment.updated",
        Event::ScheduleEntryCancelled(s) if s.split_off.is_some() => return None,
        Event::ScheduleEntryCancelled(_) => "appointment.cancelled",
        Event::ScheduleReminder(_) => "appointment.reminder",
        Event::AutomationRunCompleted(_) => "automation.run_completed",
        Event::AutomationRunFailed(_) => "automation.run_failed",
        Event::AutomationMessage(_) => "automation.message",
        Event::AutomationContactMessage(_) => "automation.contact_message",
        Event::TicketStatusChanged { .. }
        | Event::AutomationPublished(_)
        | Event::AutomationRunRequested(_) => return None,
    })
}

/// Users an event notifies: a ticket's assignee, a task's assignee, a time entry's worker, or
/// for an SLA event whom the SLA engine resolved from the policy (assignee, board and
/// escalation managers). Nobody is notified of their own action. Billing events notify no user:
/// they go to the client's billing contact ([`billing::billing_client`]).
pub fn direct_recipients(env: &Envelope) -> Vec<Uuid> {
    let mut out: Vec<Uuid> = if let Some(audience) = env.event.sla_audience() {
        audience.recipients.to_vec()
    } else {
        match &env.event {
            Event::TicketCreated { ticket }
            | Event::TicketAssigned { ticket, .. }
            | Event::TicketUpdated { ticket, .. }
            | Event::TicketClosed { ticket }
            | Event::CommentAdded { ticket, .. } => ticket.assignee_id.into_iter().collect(),
            Event::ProjectTaskAssigned(t) => vec![t.assignee_id],
            // A submitted timesheet goes to its approver; the decision goes back to its worker.
            Event::TimeEntrySubmitted(t) => vec![t.reviewer_id],
            Event::TimeEntryApproved(t) | Event::TimeEntryRejected(t) => vec![t.user_id],
            Event::ScheduleEntryCreated(s)
            | Event::ScheduleEntryUpdated(s)
            | Event::ScheduleEntryCancelled(s) => s.assignee_ids.clone(),
            Event::ScheduleReminder(r) => r.assignee_ids.clone(),
            Event::AutomationRunCompleted(r) | Event::AutomationRunFailed(r) => {
                r.owner_user_id.into_iter().collect()
            }
            // Addressed by name: it reaches its user even when the automation acts for them.
            Event::AutomationMessage(m) => return vec![m.user_id],
            _ => Vec::new(),
        }
    };
    if let crate::events::Actor::ApiKey {
        user_id: Some(actor),
        ..
    } = env.actor
    {
        out.retain(|u| *u != actor);
    }
    out
}

/// The client contact an event is addressed to by name (an automation's e-mail to a contact).
/// Such an event notifies no user; billing events reach their client's billing contact instead
/// ([`billing::billing_client`]).
pub fn addressed_contact(event: &Event) -> Option<Uuid> {
    match event {
        Event::AutomationContactMessage(m) => Some(m.contact_id),
        _ => None,
    }
}

/// Whether `env` may be delivered on `channel`: SLA events carry the channels their policy's
/// rule chose; an automation's message the channel its action named (a contact's, e-mail);
/// every other event goes out on all of them.
pub fn channel_allowed(env: &Envelope, channel: Channel) -> bool {
    match &env.event {
        Event::AutomationMessage(m) => return m.channel == channel.as_str(),
        Event::AutomationContactMessage(_) => return channel == Channel::Email,
        _ => {}
    }
    env.event
        .sla_audience()
        .is_none_or(|a| channel.allowed_by(a.channels))
}

/// An example event for `subtype`, for template previews and for checking a template before it
/// is saved. `None` for an unknown subtype.
pub fn sample_event(subtype: &str) -> Option<Envelope> {
    use crate::events::*;
    use crate::money::Money;
    use chrono::{NaiveDate, TimeZone, Utc};
    let at = Utc.with_ymd_and_hms(2026, 1, 15, 9, 30, 0).single()?;
    let day = NaiveDate::from_ymd_opt(2026, 1, 31)?;
    let id = Uuid::nil();
    let ticket = TicketSnapshot {
        ticket_id: id,
        number: 1042,
        title: "Printer on fire".into(),
        client_id: Some(id),
        board_id: id,
        priority_id: id,
        priority_name: "P1".into(),
        status_id: id,
        status_is_closed: false,
        status_pauses_sla: false,
        assignee_id: Some(id),
    };
    let money = |a: i64| Money::new(rust_decimal::Decimal::new(a, 2), "USD");
    let entry = TimeEntryChanged {
        timesheet_id: id,
        user_id: id,
        period_start: NaiveDate::from_ymd_opt(2026, 1, 5)?,
        period_end: NaiveDate::from_ymd_opt(2026, 1, 12)?,
        entries: 12,
        minutes: 2250,
        reviewer_id: id,
        reason: Some("Missing notes".into()),
    };
    let appointment = ScheduleEntryChanged {
        entry_id: id,
        title: "On-site visit: firewall upgrade".into(),
        series_id: None,
        split_off: None,
        starts_at: at + chrono::TimeDelta::hours(5),
        ends_at: at + chrono::TimeDelta::hours(6),
        assignee_ids: vec![id],
    };
    let event = match subtype {
        "ticket.created" => Event::TicketCreated { ticket },
        "ticket.assigned" => Event::TicketAssigned {
            ticket,
            from_assignee_id: None,
        },
        "ticket.updated" => Event::TicketUpdated {
            ticket,
            changed: vec!["title".into()],
        },
        "ticket.commented" => Event::CommentAdded {
            ticket,
            comment_id: id,
            by_internal_user: true,
            is_public: true,
        },
        "ticket.closed" => Event::TicketClosed { ticket },
        "sla.warning" => Event::SlaThreshold(SlaThreshold {
            ticket_id: id,
            phase: SlaPhase::Resolution,
            percent: 75,
            due_at: at,
            recipients: vec![id],
            channels: vec![],
        }),
        "sla.breached" => Event::SlaBreached(SlaBreached {
            ticket_id: id,
            phase: SlaPhase::Resolution,
            due_at: at,
            recipients: vec![id],
            channels: vec![],
        }),
        "sla.escalated" => Event::SlaEscalated(SlaEscalated {
            ticket_id: id,
            phase: SlaPhase::Resolution,
            level: 1,
            recipients: vec![id],
            channels: vec![],
        }),
        "invoice.generated" => Event::InvoiceGenerated(InvoiceGenerated {
            invoice_id: id,
            client_id: id,
            number: "INV-2026-0001".into(),
            total: money(125_000),
            period_start: NaiveDate::from_ymd_opt(2026, 1, 1)?,
            period_end: day,
        }),
        "invoice.finalized" => Event::InvoiceFinalized(InvoiceFinalized {
            invoice_id: id,
            client_id: id,
            number: "INV-2026-0001".into(),
            total: money(125_000),
            due_date: day,
        }),
        "credit.issued" => Event::CreditIssued(CreditIssued {
            credit_id: id,
            client_id: id,
            amount: money(20_000),
            expires_on: Some(day),
            payment_id: None,
        }),
        "invoice.overdue" => Event::InvoiceOverdue(InvoiceOverdue {
            invoice_id: id,
            client_id: id,
            due_date: day,
            balance: money(50_000),
        }),
        "invoice.payment_received" => Event::PaymentRecorded(PaymentRecorded {
            payment_id: id,
            invoice_id: Some(id),
            client_id: id,
            amount: money(75_000),
        }),
        "project.created" => Event::ProjectCreated(ProjectCreated {
            project_id: id,
            client_id: id,
            name: "Office move".into(),
        }),
        "project.task_assigned" => Event::ProjectTaskAssigned(ProjectTaskAssigned {
            project_id: id,
            task_id: id,
            assignee_id: id,
            title: "Run cables".into(),
        }),
        "project.milestone" => Event::ProjectMilestoneReached(ProjectMilestoneReached {
            project_id: id,
            milestone_id: id,
            name: "Go-live".into(),
        }),
        "time_entry.submitted" => Event::TimeEntrySubmitted(TimeEntryChanged {
            reason: None,
            ..entry
        }),
        "time_entry.approved" => Event::TimeEntryApproved(TimeEntryChanged {
            reason: None,
            ..entry
        }),
        "time_entry.rejected" => Event::TimeEntryRejected(entry),
        "appointment.created" => Event::ScheduleEntryCreated(appointment),
        "appointment.updated" => Event::ScheduleEntryUpdated(appointment),
        "appointment.cancelled" => Event::ScheduleEntryCancelled(appointment),
        "appointment.reminder" => Event::ScheduleReminder(ScheduleReminder {
            entry_id: id,
            title: appointment.title,
            starts_at: appointment.starts_at,
            ends_at: appointment.ends_at,
            local_start: "2026-01-15T09:30:00".into(),
            timezone: "America/New_York".into(),
            minutes_before: 15,
            assignee_ids: vec![id],
        }),
        "automation.message" => Event::AutomationMessage(AutomationMessage {
            automation_id: id,
            user_id: id,
            subject: "Unanswered: #1042".into(),
            body: "Ticket #1042 (Printer on fire) had no reply within 4 business hours.".into(),
            channel: "email".into(),
        }),
        "automation.contact_message" => Event::AutomationContactMessage(AutomationContactMessage {
            automation_id: id,
            contact_id: id,
            subject: "We received ticket #1042".into(),
            body: "We received ticket #1042 (Printer on fire) and are on it.".into(),
        }),
        "automation.run_completed" | "automation.run_failed" => {
            let run = AutomationRunFinished {
                automation_id: id,
                version: 3,
                run_id: format!("automation:{id}:{id}:{id}"),
                error: (subtype == "automation.run_failed")
                    .then(|| "acknowledge: the ticket is closed".to_owned()),
                automation_name: Some("Acknowledge P1 tickets".into()),
                owner_user_id: Some(id),
            };
            if subtype == "automation.run_failed" {
                Event::AutomationRunFailed(run)
            } else {
                Event::AutomationRunCompleted(run)
            }
        }
        _ => return None,
    };
    Some(Envelope {
        event_id: id,
        tenant_id: id,
        occurred_at: at,
        actor: Actor::System,
        event,
    })
}

/// Every subtype code, as the catalogue migration ships them.
pub const SUBTYPES: [&str; 27] = [
    "ticket.created",
    "ticket.assigned",
    "ticket.updated",
    "ticket.commented",
    "ticket.closed",
    "sla.warning",
    "sla.breached",
    "sla.escalated",
    "invoice.generated",
    "invoice.overdue",
    "invoice.payment_received",
    "project.created",
    "project.task_assigned",
    "project.milestone",
    "time_entry.submitted",
    "time_entry.approved",
    "time_entry.rejected",
    "invoice.finalized",
    "credit.issued",
    "appointment.created",
    "appointment.updated",
    "appointment.cancelled",
    "appointment.reminder",
    "automation.run_completed",
    "automation.run_failed",
    "automation.message",
    "automation.contact_message",
];

/// The context a template of `subtype` is checked and previewed with: its sample event and,
/// for billing subtypes, a sample client and invoice.
pub fn sample_context(subtype: &str) -> Option<Value> {
    let env = sample_event(subtype)?;
    Some(billing::context_with(
        &env,
        billing::sample_document(&env).as_ref(),
    ))
}

/// A template as stored: Handlebars subject, HTML body and text body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Template {
    pub subject: String,
    pub html: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{part}: {message}")]
pub struct TemplateError {
    /// `subject`, `html` or `text`.
    pub part: &'static str,
    pub message: String,
}

/// What templates can refer to: the payload's fields at the top level (`{{ticket.title}}`),
/// plus `event` with the envelope's ID, type and time.
pub fn context(env: &Envelope) -> Value {
    let mut ctx = match serde_json::to_value(&env.event) {
        Ok(Value::Object(mut m)) => m.remove("payload").unwrap_or(Value::Null),
        _ => Value::Null,
    };
    if let Value::Object(m) = &mut ctx {
        m.insert(
            "event".into(),
            serde_json::json!({
                "id": env.event_id,
                "type": env.event_type(),
                "occurred_at": env.occurred_at,
            }),
        );
    }
    ctx
}

impl Template {
    /// Renders all three parts. Strict: a reference to a field the context lacks is an error,
    /// so a template that would print blanks is refused when it is saved, not when it is sent.
    pub fn render(&self, ctx: &Value) -> Result<Rendered, TemplateError> {
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        // Bounded: templates are user input (see `template_limits`).
        let render = |hb: &Handlebars, part: &'static str, source: &str| {
            template_limits::render_bounded(hb, source, ctx)
                .map_err(|e| TemplateError { part, message: e.0 })
        };
        Ok(Rendered {
            subject: render(&text, "subject", &self.subject)?.replace(['\r', '\n'], " "),
            html: render(&html, "html", &self.html)?,
            text: render(&text, "text", &self.text)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Actor, TicketSnapshot};
    use chrono::Utc;

    fn ticket(assignee: Option<Uuid>) -> TicketSnapshot {
        TicketSnapshot {
            ticket_id: Uuid::nil(),
            number: 42,
            title: "Printer <on> fire".into(),
            client_id: None,
            board_id: Uuid::nil(),
            priority_id: Uuid::nil(),
            priority_name: "P1".into(),
            status_id: Uuid::nil(),
            status_is_closed: false,
            status_pauses_sla: false,
            assignee_id: assignee,
        }
    }

    #[test]
    fn a_re_timed_sla_is_not_a_ticket_update_anyone_hears_of() {
        let updated = |changed: &[&str]| Event::TicketUpdated {
            ticket: ticket(Some(Uuid::nil())),
            changed: changed.iter().map(|c| (*c).to_owned()).collect(),
        };
        assert_eq!(subtype_for(&updated(&[SLA_POLICY_CHANGE])), None);
        assert_eq!(
            subtype_for(&updated(&["title", SLA_POLICY_CHANGE])),
            Some("ticket.updated")
        );
        assert_eq!(subtype_for(&updated(&["title"])), Some("ticket.updated"));
    }

    fn env(actor_user: Option<Uuid>, event: Event) -> Envelope {
        Envelope {
            event_id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            occurred_at: Utc::now(),
            actor: Actor::ApiKey {
                key_id: Uuid::nil(),
                user_id: actor_user,
            },
            event,
        }
    }

    #[test]
    fn the_assignee_is_notified_unless_they_did_it() {
        let tech = Uuid::now_v7();
        let admin = Uuid::now_v7();
        let created = Event::TicketCreated {
            ticket: ticket(Some(tech)),
        };
        assert_eq!(
            direct_recipients(&env(Some(admin), created.clone())),
            vec![tech]
        );
        assert!(direct_recipients(&env(Some(tech), created)).is_empty());
        assert!(
            direct_recipients(&env(
                Some(admin),
                Event::TicketCreated {
                    ticket: ticket(None)
                }
            ))
            .is_empty()
        );
    }

    #[test]
    fn an_occurrence_cut_from_a_series_is_told_once_as_a_change() {
        use crate::events::ScheduleEntryChanged;
        let (tech, admin, series, cut) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let entry = |id, series_id, split_off| ScheduleEntryChanged {
            entry_id: id,
            title: "Site visit".into(),
            series_id,
            split_off,
            starts_at: Utc::now(),
            ends_at: Utc::now() + chrono::TimeDelta::hours(1),
            assignee_ids: vec![tech, admin],
        };
        let plain = entry(series, None, None);
        let rest = entry(series, None, Some(cut));
        let moved = entry(cut, Some(series), None);
        let cases = [
            (
                Event::ScheduleEntryCreated(plain.clone()),
                Some("appointment.created"),
            ),
            (
                Event::ScheduleEntryUpdated(plain.clone()),
                Some("appointment.updated"),
            ),
            (
                Event::ScheduleEntryCancelled(plain),
                Some("appointment.cancelled"),
            ),
            (Event::ScheduleEntryUpdated(rest.clone()), None),
            (Event::ScheduleEntryCancelled(rest), None),
            (
                Event::ScheduleEntryCreated(moved.clone()),
                Some("appointment.updated"),
            ),
        ];
        for (event, want) in cases {
            assert_eq!(subtype_for(&event), want, "{event:?}");
        }
        assert_eq!(
            direct_recipients(&env(Some(admin), Event::ScheduleEntryCreated(moved))),
            vec![tech],
            "every assignee but whoever made the change"
        );
    }

    #[test]
    fn every_subtype_has_a_valid_sample_that_maps_back_to_it() {
        for subtype in SUBTYPES {
            let env = sample_event(subtype).unwrap_or_else(|| panic!("no sample for {subtype}"));
            env.validate().unwrap_or_else(|e| panic!("{subtype}: {e}"));
            assert_eq!(subtype_for(&env.event), Some(subtype));
        }
        assert!(sample_event("ticket.exploded").is_none());
    }

    #[test]
    fn subtypes() {
        assert_eq!(
            subtype_for(&Event::TicketCreated {
                ticket: ticket(None)
            }),
            Some("ticket.created")
        );
        assert_eq!(
            subtype_for(&Event::TicketStatusChanged {
                ticket: ticket(None),
                from_status_id: Uuid::nil()
            }),
            None
        );
    }

    #[test]
    fn renders_with_html_escaped_only_in_html() {
        let t = Template {
            subject: "[#{{ticket.number}}] {{ticket.title}}".into(),
            html: "<p>{{ticket.title}}</p>".into(),
            text: "{{ticket.title}} ({{event.type}})".into(),
        };
        let r = t
            .render(&context(&env(
                None,
                Event::TicketCreated {
                    ticket: ticket(None),
                },
            )))
            .unwrap();
        assert_eq!(r.subject, "[#42] Printer <on> fire");
        assert_eq!(r.html, "<p>Printer &lt;on&gt; fire</p>");
        assert_eq!(r.text, "Printer <on> fire (ticket.created)");
    }

    #[test]
    fn unknown_fields_and_syntax_errors_are_refused_naming_the_part() {
        let ctx = context(&env(
            None,
            Event::TicketCreated {
                ticket: ticket(None),
            },
        ));
        let bad_field = Template {
            subject: "ok".into(),
            html: "{{ticket.nope}}".into(),
            text: "ok".into(),
        };
        assert_eq!(bad_field.render(&ctx).unwrap_err().part, "html");
        let bad_syntax = Template {
            subject: "{{#if ticket.title}}unclosed".into(),
            html: String::new(),
            text: String::new(),
        };
        assert_eq!(bad_syntax.render(&ctx).unwrap_err().part, "subject");
    }
}
