//! The ticket workflow's body: reads top to bottom like the process it models.

use super::activities::{LoadSlaContext, RecordSlaUpdate, RecordStep};
use super::types::{
    SlaCarry, SlaContextRequest, SlaLimits, SlaStep, SlaTicketContext, SlaUpdate, TicketSignal,
    TicketSignalKind, TicketWorkflowInput, TicketWorkflowStatus,
};
use crate::search_attributes as sa;
use chrono::{DateTime, Utc};
use psa_domain::calendar::Calendar;
use psa_domain::sla::{Phase, SlaAction, SlaTracker};
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, ApplicationFailure, CancellableFuture, ContinueAsNewOptions,
    SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult,
};
use uuid::Uuid;

/// Histories begun with this marker run the SLA engine; older ones the skeleton.
const SLA_ENGINE_PATCH: &str = "sla-engine-1";
/// Event IDs remembered for de-duplication (a redelivery comes within minutes, not thousands
/// of events later).
const REMEMBERED_EVENTS: usize = 500;
/// Continue as new well before the server's history limits.
const MAX_HISTORY_EVENTS: u32 = 4_000;

#[workflow]
#[derive(Default)]
pub struct SlaTicketWorkflow {
    /// Event IDs already applied, in arrival order (a Vec, not a HashSet: iteration order must
    /// be deterministic if it is ever used to decide).
    applied: Vec<Uuid>,
    events_applied: u32,
    /// Events received and not yet applied by the run loop.
    pending: Vec<TicketSignal>,
    closed: bool,
    tracker: Option<SlaTracker>,
}

#[workflow_methods]
impl SlaTicketWorkflow {
    #[run(name = "ticket_sla")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: TicketWorkflowInput,
    ) -> WorkflowResult<TicketWorkflowStatus> {
        if !ctx.patched(SLA_ENGINE_PATCH) {
            return skeleton(ctx, &input).await;
        }
        let (mut tracker, limits) = match input.carry.clone() {
            Some(carry) => {
                // Signals can reach this run before this line: keep those the previous run
                // had not seen, behind the ones it handed over.
                ctx.state_mut(|s| {
                    let newer: Vec<TicketSignal> = std::mem::take(&mut s.pending)
                        .into_iter()
                        .filter(|sig| !carry.applied.contains(&sig.event_id))
                        .collect();
                    s.applied = carry.applied.clone();
                    s.applied.extend(newer.iter().map(|sig| sig.event_id));
                    s.events_applied = carry
                        .events_applied
                        .saturating_add(u32::try_from(newer.len()).unwrap_or(u32::MAX));
                    s.pending = carry.pending.clone();
                    s.pending.extend(newer);
                });
                (carry.tracker, carry.limits)
            }
            None => start(ctx, &input).await?,
        };
        let reopen_window = limits.reopen_window_seconds;
        let events_at_start = ctx.state(|s| s.events_applied);
        let mut cal = calendar(&tracker)?;
        let mut last_state = None;
        loop {
            let batch = ctx.state_mut(|s| std::mem::take(&mut s.pending));
            for signal in batch {
                apply(ctx, &input, &mut tracker, &mut cal, signal).await?;
            }
            let now = workflow_now(ctx);
            for action in tracker.due(&cal, now).map_err(fail)? {
                let key = action_key(&action);
                write(ctx, &input, &tracker, &cal, key, Some(action), now).await?;
            }
            let state = tracker.state();
            if last_state != Some(state) {
                ctx.upsert_search_attributes([sa::SLA_STATE.value_set(state.as_str().to_owned())]);
                last_state = Some(state);
            }
            ctx.state_mut(|s| {
                s.tracker = Some(tracker.clone());
                s.closed = tracker.closed;
            });

            if tracker.closed {
                // Closed: wait for a reopening for a while, then the run is done.
                let woke = wait_for_event(ctx, Duration::from_secs(reopen_window.max(1))).await;
                if !woke && ctx.state(|s| s.pending.is_empty()) {
                    let now = workflow_now(ctx);
                    write(ctx, &input, &tracker, &cal, "finished".into(), None, now).await?;
                    return Ok(ctx.state(|s| s.status()));
                }
                continue;
            }
            let events_this_run = ctx.state(|s| s.events_applied) - events_at_start;
            if ctx.continue_as_new_suggested()
                || ctx.history_length() > MAX_HISTORY_EVENTS
                || events_this_run >= limits.continue_after_events.max(1)
            {
                let carry = ctx.state(|s| SlaCarry {
                    tracker: tracker.clone(),
                    applied: s.applied.clone(),
                    events_applied: s.events_applied,
                    limits: limits.clone(),
                    pending: s.pending.clone(),
                });
                let next = TicketWorkflowInput {
                    carry: Some(carry),
                    ..input.clone()
                };
                ctx.continue_as_new(next, ContinueAsNewOptions::default())?;
            }
            match tracker.next_wake(&cal).map_err(fail)? {
                Some(at) => {
                    // From the clock as it is now (the writes above took time), in whole
                    // milliseconds rounded up: waking a hair early would find nothing due.
                    let wait = (at - workflow_now(ctx)).num_milliseconds().max(0) + 1;
                    wait_for_event(ctx, Duration::from_millis(u64::try_from(wait).unwrap_or(1)))
                        .await;
                }
                None => {
                    ctx.wait_condition(|s: &Self| !s.pending.is_empty()).await?;
                }
            }
        }
    }

    /// Every ticket event routed to this ticket, applied once per event ID.
    #[signal(name = "ticket_event")]
    pub fn ticket_event(&mut self, _ctx: &mut SyncWorkflowContext<Self>, signal: TicketSignal) {
        if self.applied.contains(&signal.event_id) {
            return;
        }
        self.applied.push(signal.event_id);
        if self.applied.len() > REMEMBERED_EVENTS {
            self.applied.remove(0);
        }
        self.events_applied = self.events_applied.saturating_add(1);
        if signal.kind.closes_ticket() {
            self.closed = true;
        }
        self.pending.push(signal);
    }

    #[query(name = "status")]
    pub fn query_status(&self, _ctx: &WorkflowContextView) -> TicketWorkflowStatus {
        self.status()
    }
}

impl SlaTicketWorkflow {
    fn status(&self) -> TicketWorkflowStatus {
        TicketWorkflowStatus {
            events_applied: self.events_applied,
            closed: self.closed,
            tracker: self.tracker.clone(),
        }
    }
}

/// The first run of a ticket: load its policy and state, start the clock, record the start.
async fn start(
    ctx: &mut WorkflowContext<SlaTicketWorkflow>,
    input: &TicketWorkflowInput,
) -> WorkflowResult<(SlaTracker, SlaLimits)> {
    let context = load_context(ctx, input).await?;
    let mut tracker = SlaTracker::new(context.policy, context.created_at);
    let cal = calendar(&tracker)?;
    tracker.awaiting_client = context.awaiting_client;
    tracker
        .start(&cal, context.status_pauses, context.closed)
        .map_err(fail)?;
    let now = workflow_now(ctx);
    write(ctx, input, &tracker, &cal, "started".into(), None, now).await?;
    Ok((tracker, context.limits))
}

/// The ticket's SLA-relevant state and the policy in force for it now.
async fn load_context(
    ctx: &mut WorkflowContext<SlaTicketWorkflow>,
    input: &TicketWorkflowInput,
) -> WorkflowResult<SlaTicketContext> {
    let request = SlaContextRequest {
        tenant_id: input.tenant_id,
        ticket_id: input.ticket_id,
    };
    Ok(ctx
        .execute_activity(LoadSlaContext, request, store_options())
        .await?)
}

/// Applies one ticket event to the clock and records it.
async fn apply(
    ctx: &mut WorkflowContext<SlaTicketWorkflow>,
    input: &TicketWorkflowInput,
    tracker: &mut SlaTracker,
    cal: &mut Calendar,
    signal: TicketSignal,
) -> WorkflowResult<()> {
    let at = signal.occurred_at;
    let awaiting = tracker.awaiting_client;
    let step = match signal.kind {
        // The start already read the ticket as created.
        TicketSignalKind::Created { .. } | TicketSignalKind::Assigned { .. } => return Ok(()),
        TicketSignalKind::StatusChanged {
            is_closed: true, ..
        }
        | TicketSignalKind::Closed => {
            // A close arrives as a status change and as `ticket.closed`: act on the first.
            if tracker.closed {
                return Ok(());
            }
            tracker.resolve(cal, at).map_err(fail)?;
            "resolved"
        }
        TicketSignalKind::StatusChanged { pauses_sla, .. } => {
            let reopened = tracker.closed;
            if reopened {
                tracker.reopen(cal, at).map_err(fail)?;
            }
            let was = tracker.paused();
            tracker
                .set_pausing(cal, at, pauses_sla, awaiting)
                .map_err(fail)?;
            match (reopened, was, tracker.paused()) {
                (true, _, _) => "reopened",
                (false, false, true) => "paused",
                (false, true, false) => "resumed",
                _ => return Ok(()),
            }
        }
        TicketSignalKind::CommentAdded {
            by_internal_user: true,
            is_public: true,
        } if tracker.response.stopped_at.is_none() => {
            tracker.respond(cal, at).map_err(fail)?;
            "responded"
        }
        TicketSignalKind::CommentAdded { .. } => return Ok(()),
        TicketSignalKind::Updated => {
            // Priority, board, client or waiting-on-client may have changed: read the policy
            // in force again; time already counted stays counted.
            let context = load_context(ctx, input).await?;
            if context.policy == tracker.policy
                && context.awaiting_client == awaiting
                && context.status_pauses == tracker.status_pauses
            {
                return Ok(());
            }
            let new_cal = Calendar::new(&context.policy.schedule, "schedule")
                .map_err(ApplicationFailure::non_retryable)?;
            tracker
                .change_policy(cal, &new_cal, context.policy, at)
                .map_err(fail)?;
            // The store's view is the latest: it also carries a status whose
            // "pauses the SLA" setting was changed.
            tracker
                .set_pausing(&new_cal, at, context.status_pauses, context.awaiting_client)
                .map_err(fail)?;
            *cal = new_cal;
            "policy_applied"
        }
    };
    let key = format!("{step}:{}", signal.event_id);
    let now = workflow_now(ctx).max(at);
    write(ctx, input, tracker, cal, key, None, now).await
}

/// Sleeps for `wait` on a durable timer or until an event arrives, whichever is first;
/// `true` when an event woke it. A timer beaten by an event is cancelled, so the history shows
/// why the run woke.
async fn wait_for_event(ctx: &WorkflowContext<SlaTicketWorkflow>, wait: Duration) -> bool {
    let mut timer = ctx.timer(wait);
    let woke = temporalio_sdk::workflows::select! {
        _ = &mut timer => false,
        _ = ctx.wait_condition(|s: &SlaTicketWorkflow| !s.pending.is_empty()) => true,
    };
    if woke {
        timer.cancel();
    }
    woke
}

/// Writes one decision: audit step, ticket columns, and for an action its SLA event.
async fn write(
    ctx: &mut WorkflowContext<SlaTicketWorkflow>,
    input: &TicketWorkflowInput,
    tracker: &SlaTracker,
    cal: &Calendar,
    step_key: String,
    action: Option<SlaAction>,
    now: DateTime<Utc>,
) -> WorkflowResult<()> {
    let event = step_key.split(':').next().unwrap_or("step").to_owned();
    let update = SlaUpdate {
        step: audit_step(input, step_key, event, now),
        view: tracker.view(cal, now),
        breach_rule: tracker
            .policy
            .thresholds
            .iter()
            .find(|r| r.percent == 100)
            .cloned(),
        action,
    };
    ctx.execute_activity(RecordSlaUpdate, update, store_options())
        .await?;
    Ok(())
}

/// The audit step key of an action: unique per ticket, so a retry writes it once.
fn action_key(action: &SlaAction) -> String {
    let phase = |p: &Phase| match p {
        Phase::Response => "response",
        Phase::Resolution => "resolution",
    };
    match action {
        SlaAction::Threshold { phase: p, rule, .. } => {
            format!("threshold:{}:{}", phase(p), rule.percent)
        }
        SlaAction::Breached { phase: p, .. } => format!("breached:{}", phase(p)),
        SlaAction::Escalated { level, .. } => format!("escalated:{level}"),
    }
}

fn calendar(tracker: &SlaTracker) -> WorkflowResult<Calendar> {
    Ok(tracker
        .calendar()
        .map_err(ApplicationFailure::non_retryable)?)
}

fn fail(e: psa_domain::calendar::CalendarError) -> ApplicationFailure {
    ApplicationFailure::non_retryable(e)
}

fn store_options() -> ActivityOptions {
    ActivityOptions::start_to_close_timeout(Duration::from_secs(30))
}

/// The walking skeleton, kept for runs that began before the SLA engine.
async fn skeleton(
    ctx: &mut WorkflowContext<SlaTicketWorkflow>,
    input: &TicketWorkflowInput,
) -> WorkflowResult<TicketWorkflowStatus> {
    let started_at = workflow_now(ctx);
    record(ctx, input, "started", "started", started_at).await?;
    ctx.wait_condition(|s| s.closed).await?;
    let finished_at = workflow_now(ctx);
    record(ctx, input, "finished", "finished", finished_at).await?;
    Ok(ctx.state(|s| s.status()))
}

async fn record(
    ctx: &mut WorkflowContext<SlaTicketWorkflow>,
    input: &TicketWorkflowInput,
    step_key: &str,
    event: &str,
    at: DateTime<Utc>,
) -> WorkflowResult<()> {
    let step = audit_step(input, step_key.to_owned(), event.to_owned(), at);
    ctx.execute_activity(RecordStep, step, store_options())
        .await?;
    Ok(())
}

/// An audit step of this ticket; the store adds the clock's state to its detail.
fn audit_step(
    input: &TicketWorkflowInput,
    step_key: String,
    event: String,
    at: DateTime<Utc>,
) -> SlaStep {
    SlaStep {
        tenant_id: input.tenant_id,
        ticket_id: input.ticket_id,
        step_key,
        event,
        detail: serde_json::json!({ "ticket_number": input.ticket_number }),
        occurred_at: at,
    }
}

/// The workflow clock as UTC. The SDK gives `None` only before the first activation, which
/// cannot happen inside `run`; the epoch keeps replay deterministic all the same.
fn workflow_now(ctx: &WorkflowContext<SlaTicketWorkflow>) -> DateTime<Utc> {
    ctx.workflow_time()
        .map(DateTime::<Utc>::from)
        .unwrap_or_default()
}
