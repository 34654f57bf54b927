//! How a ticket's clock starts, and the decisions it writes: plain functions of their inputs,
//! so the workflow and the start activity (which decides inside its transaction, between
//! reading the ticket and recording the start) share one definition.

use super::activities::SlaStartRequest;
use chrono::{DateTime, Utc};
use psa_domain::calendar::Calendar;
use psa_domain::sla::run::{SlaRecord, SlaStep, SlaTicketContext, SlaUpdate, TicketWorkflowInput};
use psa_domain::sla::{Percent, Phase, SlaAction, SlaTracker};
use uuid::Uuid;

/// The ticket a run's steps are about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    pub(crate) tenant_id: Uuid,
    pub(crate) ticket_id: Uuid,
    pub(crate) number: i64,
}

impl From<&TicketWorkflowInput> for Ticket {
    fn from(input: &TicketWorkflowInput) -> Self {
        Ticket {
            tenant_id: input.tenant_id,
            ticket_id: input.ticket_id,
            number: input.ticket_number,
        }
    }
}

impl From<&SlaStartRequest> for Ticket {
    fn from(req: &SlaStartRequest) -> Self {
        Ticket {
            tenant_id: req.tenant_id,
            ticket_id: req.ticket_id,
            number: req.ticket_number,
        }
    }
}

/// The start of a ticket's clock as [`super::StartSlaClock`] records it: the updates to write
/// (in the store's transaction) and the clock they started, or why the configuration in
/// `context` cannot be used (nothing to write then). The steps say what was left out of the
/// configuration, and that the run recovered when it had been waiting for a usable one.
pub fn decide(
    context: &SlaTicketContext,
    req: &SlaStartRequest,
) -> (Vec<SlaUpdate>, Result<SlaTracker, String>) {
    let begun = match context.configuration_error.clone() {
        Some(e) => Err(e),
        None => first_clock(context, req.created, req.now),
    };
    let first = match begun {
        Ok(first) => first,
        Err(e) => return (Vec::new(), Err(e)),
    };
    let mut note = serde_json::Map::new();
    if !context.ignored.is_empty() {
        note.insert("ignored".into(), serde_json::json!(context.ignored));
    }
    if req.recovered {
        note.insert("recovered".into(), serde_json::json!(true));
    }
    let note = (!note.is_empty()).then_some(serde_json::Value::Object(note));
    let ticket = Ticket::from(req);
    let updates = first
        .steps
        .into_iter()
        .map(|(key, at)| {
            update(
                &ticket,
                (&first.tracker, &first.cal),
                key,
                None,
                at,
                note.clone(),
            )
        })
        .collect();
    (updates, Ok(first.tracker))
}

/// One decision of the clock as the store writes it: the audit step (with `note` in its
/// detail), the clock's view at `now` for the ticket's columns, and the action, if any.
pub(crate) fn update(
    ticket: &Ticket,
    (tracker, cal): (&SlaTracker, &Calendar),
    step_key: String,
    action: Option<SlaAction>,
    now: DateTime<Utc>,
    note: Option<serde_json::Value>,
) -> SlaUpdate {
    let event = step_key.split(':').next().unwrap_or("step").to_owned();
    let mut step = audit_step(ticket, step_key, event, now);
    merge(&mut step.detail, note);
    SlaUpdate {
        step,
        view: tracker.view(cal, now),
        breach_rule: tracker
            .policy
            .thresholds
            .iter()
            .find(|r| r.percent == Percent::BREACH)
            .cloned(),
        action,
        tracker: Some(tracker.clone()),
    }
}

/// An audit step of this ticket; the store adds the clock's state to its detail.
pub(crate) fn audit_step(
    ticket: &Ticket,
    step_key: String,
    event: String,
    at: DateTime<Utc>,
) -> SlaStep {
    SlaStep {
        tenant_id: ticket.tenant_id,
        ticket_id: ticket.ticket_id,
        step_key,
        event,
        detail: serde_json::json!({ "ticket_number": ticket.number }),
        occurred_at: at,
    }
}

/// Adds the fields of `note` (an object) to `detail` (an object).
pub(crate) fn merge(detail: &mut serde_json::Value, note: Option<serde_json::Value>) {
    if let (Some(target), Some(serde_json::Value::Object(fields))) = (detail.as_object_mut(), note)
    {
        target.extend(fields);
    }
}

/// A started clock and the steps that record how it started.
pub(crate) struct FirstClock {
    pub(crate) tracker: SlaTracker,
    pub(crate) cal: Calendar,
    pub(crate) steps: Vec<(String, DateTime<Utc>)>,
}

/// Starts the clock from the ticket's record. A ticket whose clock ran before (its run failed
/// or was terminated) goes on from what that run wrote, brought up to the ticket's state now;
/// a new one starts at its creation, as it was created when its creation event is at hand
/// (events after it then apply at their own instants), else as it is now, closed at its
/// closing instant.
pub(crate) fn first_clock(
    context: &SlaTicketContext,
    created: Option<(bool, bool)>,
    now: DateTime<Utc>,
) -> Result<FirstClock, String> {
    let cal = Calendar::new(&context.policy.schedule, "schedule")
        .map_err(|e| format!("the schedule cannot be used: {e}"))?;
    let wake_error =
        |e: psa_domain::calendar::CalendarError| format!("the schedule cannot time the clock: {e}");
    // Steps of a clock that never started (it waited for a usable configuration) are no
    // clock to go on from.
    let earlier_run = context
        .record
        .as_ref()
        .filter(|r| r.tracker.is_some() || r.step_keys.iter().any(|k| k == "started"));
    if let Some(record) = earlier_run {
        let mut tracker = rebuilt(context, record, &cal).map_err(wake_error)?;
        let old = tracker.calendar().unwrap_or_else(|_| cal.clone());
        if tracker.policy != context.policy {
            tracker
                .change_policy(&old, &cal, context.policy.clone(), now)
                .map_err(wake_error)?;
        }
        if context.closed && !tracker.closed {
            let at = context.closed_at.unwrap_or(now);
            tracker.resolve(&cal, at).map_err(wake_error)?;
        } else if !context.closed && tracker.closed {
            tracker.reopen(&cal, now).map_err(wake_error)?;
        }
        tracker
            .set_pausing(&cal, now, context.status_pauses, context.awaiting_client)
            .map_err(wake_error)?;
        tracker.next_wake(&cal).map_err(wake_error)?;
        let key = format!("rebuilt:{}", now.timestamp_millis());
        return Ok(FirstClock {
            tracker,
            cal,
            steps: vec![(key, now)],
        });
    }
    let mut tracker = SlaTracker::new(context.policy.clone(), context.created_at);
    tracker.awaiting_client = context.awaiting_client;
    let (pauses, closed) = created.unwrap_or((context.status_pauses, false));
    tracker.start(&cal, pauses, closed).map_err(wake_error)?;
    let mut steps = vec![("started".to_owned(), now)];
    if created.is_none() && context.closed {
        let at = context.closed_at.unwrap_or(context.created_at);
        tracker.resolve(&cal, at).map_err(wake_error)?;
        steps.push(("resolved:start".to_owned(), now.max(at)));
    }
    tracker.next_wake(&cal).map_err(wake_error)?;
    Ok(FirstClock {
        tracker,
        cal,
        steps,
    })
}

/// The clock an earlier run wrote: as it recorded it, or, from steps written before steps
/// carried the clock, counted from the creation with what was already told marked as told.
fn rebuilt(
    context: &SlaTicketContext,
    record: &SlaRecord,
    cal: &Calendar,
) -> Result<SlaTracker, psa_domain::calendar::CalendarError> {
    if let Some(tracker) = &record.tracker {
        return Ok(tracker.clone());
    }
    let mut tracker = SlaTracker::new(context.policy.clone(), context.created_at);
    tracker.start(cal, false, false)?;
    for key in &record.step_keys {
        let parts: Vec<&str> = key.split(':').collect();
        let phase = |name: &str| match name {
            "response" => Some(Phase::Response),
            "resolution" => Some(Phase::Resolution),
            _ => None,
        };
        match parts.as_slice() {
            ["threshold", p, percent] => {
                // A step key whose percent is none (hand-written rows) marks nothing.
                let percent = percent
                    .parse::<u16>()
                    .ok()
                    .and_then(|v| Percent::new(v).ok());
                if let (Some(p), Some(percent)) = (phase(p), percent) {
                    let clock = match p {
                        Phase::Response => &mut tracker.response,
                        Phase::Resolution => &mut tracker.resolution,
                    };
                    clock.notified.push(percent);
                }
            }
            ["breached", p] => match phase(p) {
                Some(Phase::Response) => tracker.response.breached = true,
                Some(Phase::Resolution) => tracker.resolution.breached = true,
                None => {}
            },
            ["escalated", level] => {
                if let Ok(level) = level.parse::<u8>() {
                    tracker.escalation_level = tracker.escalation_level.max(level);
                }
            }
            _ => {}
        }
    }
    if let Some(at) = record.response_at {
        tracker.respond(cal, at)?;
    }
    Ok(tracker)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;
    use psa_domain::calendar::ScheduleSpec;
    use psa_domain::sla::run::SlaLimits;
    use psa_domain::sla::{
        DEFAULT_ESCALATION_PERCENTS, SlaPolicySnapshot, default_threshold_rules,
    };

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(20_000) + TimeDelta::minutes(minutes)
    }

    /// A ticket created at minute 0 under a one-hour response, four-hour resolution policy,
    /// around the clock.
    fn context() -> SlaTicketContext {
        SlaTicketContext {
            policy: SlaPolicySnapshot {
                policy_id: Some(Uuid::nil()),
                schedule: ScheduleSpec {
                    timezone: "UTC".into(),
                    is_24x7: true,
                    hours: vec![],
                    holidays: vec![],
                },
                response_minutes: Some(60),
                resolution_minutes: Some(240),
                thresholds: default_threshold_rules(),
                escalation_percents: DEFAULT_ESCALATION_PERCENTS,
                pause_while_awaiting_client: false,
            },
            created_at: at(0),
            status_pauses: false,
            closed: false,
            awaiting_client: false,
            limits: SlaLimits {
                reopen_window_seconds: 0,
                continue_after_events: 1000,
            },
            closed_at: None,
            configuration_error: None,
            ignored: vec![],
            record: None,
        }
    }

    fn request(created: Option<(bool, bool)>, recovered: bool) -> SlaStartRequest {
        SlaStartRequest {
            tenant_id: Uuid::nil(),
            ticket_id: Uuid::nil(),
            ticket_number: 7,
            run_id: "run".into(),
            created,
            recovered,
            now: at(5),
        }
    }

    fn keys(updates: &[SlaUpdate]) -> Vec<&str> {
        updates.iter().map(|u| u.step.step_key.as_str()).collect()
    }

    #[test]
    fn a_new_ticket_starts_at_its_creation_and_records_the_start_with_the_clock() {
        let (updates, clock) = decide(&context(), &request(Some((false, false)), false));
        let clock = clock.unwrap();
        assert_eq!(keys(&updates), ["started"]);
        assert_eq!(clock.response.due_at, Some(at(60)));
        assert_eq!(clock.resolution.due_at, Some(at(240)));
        let started = &updates[0];
        assert_eq!(started.step.occurred_at, at(5));
        assert_eq!(started.tracker.as_ref(), Some(&clock));
        assert_eq!(started.view.response.due_at, Some(at(60)));
        assert_eq!(
            started.step.detail,
            serde_json::json!({ "ticket_number": 7 })
        );
        assert_eq!(
            started.breach_rule.as_ref().map(|r| r.percent),
            Some(Percent::BREACH)
        );
    }

    #[test]
    fn a_ticket_found_closed_without_its_creation_event_records_its_close() {
        let mut context = context();
        context.closed = true;
        context.closed_at = Some(at(3));
        let (updates, clock) = decide(&context, &request(None, false));
        assert_eq!(keys(&updates), ["started", "resolved:start"]);
        assert!(clock.unwrap().closed);
    }

    #[test]
    fn unusable_configuration_writes_nothing_and_says_why() {
        let mut context = context();
        context.configuration_error = Some("the schedule cannot be used".into());
        let (updates, clock) = decide(&context, &request(None, false));
        assert!(updates.is_empty());
        assert_eq!(clock, Err("the schedule cannot be used".into()));

        let mut context = self::context();
        context.policy.schedule.timezone = "Mars/Olympus".into();
        let (updates, clock) = decide(&context, &request(None, false));
        assert!(updates.is_empty());
        assert!(
            clock
                .unwrap_err()
                .starts_with("the schedule cannot be used")
        );
    }

    #[test]
    fn the_start_notes_what_was_left_out_and_a_recovery() {
        let mut context = context();
        context.ignored = vec!["holiday `x` ignored".into()];
        let (updates, _) = decide(&context, &request(None, true));
        assert_eq!(
            updates[0].step.detail,
            serde_json::json!({
                "ticket_number": 7,
                "ignored": ["holiday `x` ignored"],
                "recovered": true,
            })
        );
    }

    #[test]
    fn a_ticket_whose_clock_ran_before_goes_on_from_its_record() {
        let (_, earlier) = decide(&context(), &request(None, false));
        let mut earlier = earlier.unwrap();
        earlier.response.notified.push(Percent::new(50).unwrap());
        let mut context = context();
        context.record = Some(SlaRecord {
            tracker: Some(earlier.clone()),
            step_keys: vec!["started".into(), "threshold:response:50".into()],
            response_at: None,
        });
        let (updates, clock) = decide(&context, &request(None, false));
        assert_eq!(
            keys(&updates),
            [format!("rebuilt:{}", at(5).timestamp_millis())]
        );
        assert_eq!(clock.unwrap().response.notified, earlier.response.notified);
    }
}
