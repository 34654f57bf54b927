//! The ticket workflow's body: reads top to bottom like the process it models.
//!
//! Stored configuration is data the clock does not control: a schedule or policy it cannot use
//! never fails the run. The clock keeps counting on its last good configuration (or, before it
//! has one, waits), says so in its state, its search attribute and the audit log, and reads the
//! configuration again on a backing-off timer and on every `ticket.updated`.

use super::activities::{
    LoadSlaContext, RecordSlaUpdate, RecordStep, SlaStartRequest, StartSlaClock,
};
use super::start::{self, first_clock, merge, update};
use crate::search_attributes as sa;
use chrono::{DateTime, TimeDelta, Utc};
use psa_domain::calendar::Calendar;
use psa_domain::sla::run::{
    SlaCarry, SlaContextRequest, SlaLimits, SlaStep, SlaTicketContext, TicketSignal,
    TicketSignalKind, TicketWorkflowInput, TicketWorkflowStatus,
};
use psa_domain::sla::{Phase, SlaAction, SlaTracker};
use std::time::Duration;
use temporalio_common::ActivityDefinition;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ApplicationFailure, CancellableFuture, ContinueAsNewOptions, SyncWorkflowContext,
    WorkflowContext, WorkflowContextView, WorkflowResult,
};
use uuid::Uuid;

/// Histories begun with this marker run the SLA engine; older ones the skeleton.
const SLA_ENGINE_PATCH: &str = "sla-engine-1";
/// Histories with this marker start the clock from the ticket's creation event and the
/// ticket's record (a close before the start is a close step, a re-created run goes on from
/// what the failed one wrote); older ones from the ticket's state at start.
const START_PATCH: &str = "sla-start-from-record-1";
/// Histories with this marker outlive configuration they cannot use; older ones failed.
const CONFIGURATION_PATCH: &str = "sla-configuration-errors-1";
/// Histories begun with this marker (and no other) do their store work in local activities:
/// the clock starts in one (reading the ticket and recording the start in one transaction),
/// and every decision is written by one, inside the workflow task that makes it. They run the
/// SLA engine, start from the record and outlive unusable configuration, as the three
/// markers above say, without those markers. Older histories keep the activities they began
/// with.
pub(crate) const LOCAL_PATCH: &str = "sla-local-store-1";
/// Event IDs remembered for de-duplication (a redelivery comes within minutes, not thousands
/// of events later).
const REMEMBERED_EVENTS: usize = 500;
/// Continue as new well before the server's history limits.
const MAX_HISTORY_EVENTS: u32 = 4_000;
/// The first wait before an unusable configuration is read again; it doubles up to an hour.
const RETRY_FIRST_SECONDS: i64 = 30;
const RETRY_MAX_SECONDS: i64 = 3_600;
/// The search attribute `SlaState` while the configuration cannot be used.
const CONFIGURATION_ERROR_STATE: &str = "configuration_error";

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
    /// Why the configuration in force cannot be used, while it cannot.
    configuration_error: Option<String>,
    /// The run began with [`LOCAL_PATCH`].
    local: bool,
}

/// When an unusable configuration is read again.
#[derive(Debug, Clone, Copy)]
struct Retry {
    at: DateTime<Utc>,
    attempt: u32,
}

impl Retry {
    /// The retry after `attempt` earlier ones, from `now`.
    fn after(now: DateTime<Utc>, attempt: u32) -> Retry {
        let seconds = RETRY_FIRST_SECONDS
            .saturating_mul(1_i64 << attempt.min(16))
            .min(RETRY_MAX_SECONDS);
        Retry {
            at: now + TimeDelta::seconds(seconds),
            attempt: attempt.saturating_add(1),
        }
    }
}

#[workflow_methods]
impl SlaTicketWorkflow {
    #[run(name = "ticket_sla")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: TicketWorkflowInput,
    ) -> WorkflowResult<TicketWorkflowStatus> {
        // Asked first: a new run takes this path and asks for none of the older markers.
        let local = ctx.patched(LOCAL_PATCH);
        ctx.state_mut(|s| s.local = local);
        if !local && !ctx.patched(SLA_ENGINE_PATCH) {
            return skeleton(ctx, &input).await;
        }
        let mut retry = None;
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
                    s.configuration_error = carry.configuration_error.clone();
                });
                if carry.configuration_error.is_some() {
                    retry = Some(Retry::after(workflow_now(ctx), 0));
                }
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
                apply(ctx, &input, &mut tracker, &mut cal, &mut retry, signal).await?;
            }
            let now = workflow_now(ctx);
            if let Some(r) = retry.filter(|r| r.at <= now) {
                // The attempt count restarts with every episode: the workflow time keeps the
                // audit keys of different episodes apart.
                let key = format!("retry-{}-{}", r.attempt, now.timestamp_millis());
                reload(ctx, &input, &mut tracker, &mut cal, &mut retry, now, key).await?;
            }
            for action in tracker.due(&cal, now).map_err(fail)? {
                let key = action_key(&action);
                write(ctx, &input, (&tracker, &cal), key, Some(action), now, None).await?;
            }
            let state = match ctx.state(|s| s.configuration_error.is_some()) {
                true => CONFIGURATION_ERROR_STATE,
                false => tracker.state().as_str(),
            };
            if last_state != Some(state) {
                ctx.upsert_search_attributes([sa::SLA_STATE.value_set(state.to_owned())]);
                last_state = Some(state);
            }
            ctx.state_mut(|s| {
                s.tracker = Some(tracker.clone());
                s.closed = tracker.closed;
            });

            if tracker.closed {
                // Closed: wait for a reopening for a while, then the run is done. Runs begun
                // with `LOCAL_PATCH` end at once when there is no window (older ones waited
                // a second).
                let no_window = reopen_window == 0 && ctx.state(|s| s.local);
                let woke = !no_window
                    && wait_for_event(ctx, Duration::from_secs(reopen_window.max(1))).await;
                if !woke && ctx.state(|s| s.pending.is_empty()) {
                    let now = workflow_now(ctx);
                    write(
                        ctx,
                        &input,
                        (&tracker, &cal),
                        "finished".into(),
                        None,
                        now,
                        None,
                    )
                    .await?;
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
                    configuration_error: s.configuration_error.clone(),
                });
                let next = TicketWorkflowInput {
                    carry: Some(carry),
                    ..input.clone()
                };
                ctx.continue_as_new(next, ContinueAsNewOptions::default())?;
            }
            let next_wake = match tracker.next_wake(&cal) {
                Ok(at) => at,
                Err(e) => {
                    let key = format!(
                        "wake-{}-{}",
                        retry.map_or(0, |r| r.attempt),
                        workflow_now(ctx).timestamp_millis()
                    );
                    let error = format!("the schedule cannot time the clock: {e}");
                    configuration_failed(
                        ctx,
                        &input,
                        Some((&tracker, &cal)),
                        &mut retry,
                        error,
                        &key,
                    )
                    .await?;
                    None
                }
            };
            match next_wake.into_iter().chain(retry.map(|r| r.at)).min() {
                Some(at) => {
                    // From the clock as it is now (the writes above took time), in whole
                    // milliseconds rounded up: waking a hair early would find nothing due.
                    // At least 1, so the conversion below is exact.
                    let wait = (at - workflow_now(ctx)).num_milliseconds().max(0) + 1;
                    wait_for_event(ctx, Duration::from_millis(wait.unsigned_abs())).await;
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
            configuration_error: self.configuration_error.clone(),
        }
    }
}

/// The first run of a ticket's clock (or the first after a run that failed): load its policy
/// and state, start the clock, record the start. Until the configuration can be used it
/// waits, reading it again on a timer and on every event.
async fn start(
    ctx: &mut WorkflowContext<SlaTicketWorkflow>,
    input: &TicketWorkflowInput,
) -> WorkflowResult<(SlaTracker, SlaLimits)> {
    if ctx.state(|s| s.local) {
        return start_in_one_step(ctx, input).await;
    }
    if !ctx.patched(START_PATCH) {
        let context = load_context(ctx, input, false).await?;
        let mut tracker = SlaTracker::new(context.policy, context.created_at);
        let cal = calendar(&tracker)?;
        tracker.awaiting_client = context.awaiting_client;
        tracker
            .start(&cal, context.status_pauses, context.closed)
            .map_err(fail)?;
        let now = workflow_now(ctx);
        write(
            ctx,
            input,
            (&tracker, &cal),
            "started".into(),
            None,
            now,
            None,
        )
        .await?;
        return Ok((tracker, context.limits));
    }
    let mut retry = None;
    loop {
        let context = load_context(ctx, input, true).await?;
        let now = workflow_now(ctx);
        let created = created(ctx);
        let begun = match context.configuration_error.clone() {
            Some(e) => Err(e),
            None => first_clock(&context, created, now),
        };
        match begun {
            Ok(first) => {
                let had_error = ctx.state_mut(|s| s.configuration_error.take().is_some());
                let mut note = serde_json::Map::new();
                if !context.ignored.is_empty() {
                    note.insert("ignored".into(), serde_json::json!(context.ignored));
                }
                if had_error {
                    note.insert("recovered".into(), serde_json::json!(true));
                }
                let note = (!note.is_empty()).then_some(serde_json::Value::Object(note));
                let (tracker, cal) = (first.tracker, first.cal);
                for (key, at) in first.steps {
                    write(ctx, input, (&tracker, &cal), key, None, at, note.clone()).await?;
                }
                return Ok((tracker, context.limits));
            }
            Err(error) => await_configuration(ctx, input, &mut retry, error, now).await?,
        }
    }
}

/// [`start`] in runs begun with [`LOCAL_PATCH`]: reading the ticket, starting the clock and
/// recording the start are one local activity, one transaction, with nothing between the
/// run's first workflow task and its first sleep but that.
async fn start_in_one_step(
    ctx: &mut WorkflowContext<SlaTicketWorkflow>,
    input: &TicketWorkflowInput,
) -> WorkflowResult<(SlaTracker, SlaLimits)> {
    let mut retry = None;
    loop {
        let now = workflow_now(ctx);
        let request = SlaStartRequest {
            tenant_id: input.tenant_id,
            ticket_id: input.ticket_id,
            ticket_number: input.ticket_number,
            run_id: ctx.run_id().to_owned(),
            created: created(ctx),
            recovered: ctx.state(|s| s.configuration_error.is_some()),
            now,
        };
        let started = store(ctx, StartSlaClock, request).await?;
        match started.clock {
            Ok(tracker) => {
                ctx.state_mut(|s| s.configuration_error = None);
                return Ok((tracker, started.limits));
            }
            Err(error) => await_configuration(ctx, input, &mut retry, error, now).await?,
        }
    }
}

/// The ticket as it was created, `(pauses_sla, is_closed)`, when its creation event is here
/// to say.
fn created(ctx: &WorkflowContext<SlaTicketWorkflow>) -> Option<(bool, bool)> {
    ctx.state(|s| {
        s.pending.iter().find_map(|sig| match sig.kind {
            TicketSignalKind::Created {
                is_closed,
                pauses_sla,
                ..
            } => Some((pauses_sla, is_closed)),
            _ => None,
        })
    })
}

/// The configuration cannot start the clock: say so, then wait until it is read again (its
/// retry timer fires, or any event arrives: `ticket.updated` follows every configuration
/// change).
async fn await_configuration(
    ctx: &mut WorkflowContext<SlaTicketWorkflow>,
    input: &TicketWorkflowInput,
    retry: &mut Option<Retry>,
    error: String,
    now: DateTime<Utc>,
) -> WorkflowResult<()> {
    let key = format!(
        "start-{}-{}",
        retry.map_or(0, |r: Retry| r.attempt),
        workflow_now(ctx).timestamp_millis()
    );
    let first_time = ctx.state(|s| s.configuration_error.is_none());
    configuration_failed(ctx, input, None, retry, error, &key).await?;
    if first_time {
        ctx.upsert_search_attributes([
            sa::SLA_STATE.value_set(CONFIGURATION_ERROR_STATE.to_owned())
        ]);
    }
    let seen = ctx.state(|s| s.events_applied);
    let at = retry.map_or(now, |r| r.at);
    let wait = (at - workflow_now(ctx)).num_milliseconds().max(0) + 1;
    let mut timer = ctx.timer(Duration::from_millis(wait.unsigned_abs()));
    let woke = temporalio_sdk::workflows::select! {
        _ = &mut timer => false,
        _ = ctx.wait_condition(move |s: &SlaTicketWorkflow| s.events_applied != seen) => true,
    };
    if woke {
        timer.cancel();
    }
    Ok(())
}

/// The ticket's SLA-relevant state and the policy in force for it now.
async fn load_context(
    ctx: &mut WorkflowContext<SlaTicketWorkflow>,
    input: &TicketWorkflowInput,
    with_record: bool,
) -> WorkflowResult<SlaTicketContext> {
    let request = SlaContextRequest {
        tenant_id: input.tenant_id,
        ticket_id: input.ticket_id,
        with_record,
    };
    store(ctx, LoadSlaContext, request).await
}

/// Applies one ticket event to the clock and records it.
async fn apply(
    ctx: &mut WorkflowContext<SlaTicketWorkflow>,
    input: &TicketWorkflowInput,
    tracker: &mut SlaTracker,
    cal: &mut Calendar,
    retry: &mut Option<Retry>,
    signal: TicketSignal,
) -> WorkflowResult<()> {
    let at = signal.occurred_at;
    let awaiting = tracker.awaiting_client;
    let (step, applied) = match signal.kind {
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
            ("resolved", tracker.resolve(cal, at))
        }
        TicketSignalKind::StatusChanged { pauses_sla, .. } => {
            let reopened = tracker.closed;
            let mut applied = Ok(());
            if reopened {
                applied = tracker.reopen(cal, at);
            }
            let was = tracker.paused();
            let applied = applied.and(tracker.set_pausing(cal, at, pauses_sla, awaiting));
            match (reopened, was, tracker.paused()) {
                (true, _, _) => ("reopened", applied),
                (false, false, true) => ("paused", applied),
                (false, true, false) => ("resumed", applied),
                _ => return Ok(()),
            }
        }
        TicketSignalKind::CommentAdded {
            by_internal_user: true,
            is_public: true,
        } if tracker.response.stopped_at.is_none() => ("responded", tracker.respond(cal, at)),
        TicketSignalKind::CommentAdded { .. } => return Ok(()),
        TicketSignalKind::Updated => {
            // Priority, board, client or waiting-on-client may have changed: read the policy
            // in force again; time already counted stays counted.
            let key = signal.event_id.to_string();
            return reload(ctx, input, tracker, cal, retry, at, key).await;
        }
    };
    let key = format!("{step}:{}", signal.event_id);
    let now = workflow_now(ctx).max(at);
    if let Err(e) = applied {
        // The event is applied (the phase ended, the pause began); only the due instants
        // could not be computed under this schedule.
        let error = format!("the schedule cannot time the clock: {e}");
        let note_key = signal.event_id.to_string();
        configuration_failed(ctx, input, Some((tracker, cal)), retry, error, &note_key).await?;
    }
    write(ctx, input, (tracker, cal), key, None, now, None).await
}

/// Reads the configuration in force again and applies it from `at`. One that cannot be used
/// leaves the clock on its last good one, and is read again later.
async fn reload(
    ctx: &mut WorkflowContext<SlaTicketWorkflow>,
    input: &TicketWorkflowInput,
    tracker: &mut SlaTracker,
    cal: &mut Calendar,
    retry: &mut Option<Retry>,
    at: DateTime<Utc>,
    key: String,
) -> WorkflowResult<()> {
    let context = load_context(ctx, input, false).await?;
    let had_error = ctx.state(|s| s.configuration_error.is_some());
    let unchanged = context.configuration_error.is_none()
        && context.policy == tracker.policy
        && context.awaiting_client == tracker.awaiting_client
        && context.status_pauses == tracker.status_pauses;
    let outcome = if unchanged {
        if !had_error {
            return Ok(());
        }
        // The data is back as it was: usable if the clock can be timed with it.
        tracker
            .next_wake(cal)
            .map(|_| None)
            .map_err(|e| format!("the schedule cannot time the clock: {e}"))
    } else {
        match context.configuration_error.clone() {
            Some(e) => Err(e),
            None => rebased(tracker, cal, &context, at).map(Some),
        }
    };
    match outcome {
        Ok(next) => {
            if let Some((next_tracker, next_cal)) = next {
                *tracker = next_tracker;
                *cal = next_cal;
            }
            ctx.state_mut(|s| s.configuration_error = None);
            *retry = None;
            let step = if had_error {
                "configuration_recovered"
            } else {
                "policy_applied"
            };
            let note = (!context.ignored.is_empty())
                .then(|| serde_json::json!({ "ignored": context.ignored }));
            let now = workflow_now(ctx).max(at);
            write(
                ctx,
                input,
                (tracker, cal),
                format!("{step}:{key}"),
                None,
                now,
                note,
            )
            .await
        }
        Err(error) => {
            configuration_failed(ctx, input, Some((tracker, cal)), retry, error, &key).await
        }
    }
}

/// The clock under the configuration in `context` from `at`, or why it cannot be.
fn rebased(
    tracker: &SlaTracker,
    cal: &Calendar,
    context: &SlaTicketContext,
    at: DateTime<Utc>,
) -> Result<(SlaTracker, Calendar), String> {
    let new_cal = Calendar::new(&context.policy.schedule, "schedule")
        .map_err(|e| format!("the schedule cannot be used: {e}"))?;
    let mut next = tracker.clone();
    let timed =
        |e: psa_domain::calendar::CalendarError| format!("the schedule cannot time the clock: {e}");
    next.change_policy(cal, &new_cal, context.policy.clone(), at)
        .map_err(timed)?;
    // The store's view is the latest: it also carries a status whose "pauses the SLA"
    // setting was changed.
    next.set_pausing(&new_cal, at, context.status_pauses, context.awaiting_client)
        .map_err(timed)?;
    next.next_wake(&new_cal).map_err(timed)?;
    Ok((next, new_cal))
}

/// The configuration cannot be used: say so (state, audit step when the reason is new) and
/// read it again later. Histories from before this behaviour failed here, and still do.
async fn configuration_failed(
    ctx: &mut WorkflowContext<SlaTicketWorkflow>,
    input: &TicketWorkflowInput,
    clock: Option<(&SlaTracker, &Calendar)>,
    retry: &mut Option<Retry>,
    error: String,
    key: &str,
) -> WorkflowResult<()> {
    // Runs begun with `LOCAL_PATCH` always outlive it, without a marker of their own.
    if !ctx.state(|s| s.local) && !ctx.patched(CONFIGURATION_PATCH) {
        return Err(ApplicationFailure::non_retryable(error).into());
    }
    let now = workflow_now(ctx);
    *retry = Some(Retry::after(now, retry.map_or(0, |r| r.attempt)));
    let is_new = ctx.state_mut(|s| {
        let is_new = s.configuration_error.as_deref() != Some(error.as_str());
        s.configuration_error = Some(error.clone());
        is_new
    });
    if !is_new {
        return Ok(());
    }
    let key = format!("configuration_error:{key}");
    let note = serde_json::json!({ "configuration_error": error });
    match clock {
        Some(clock) => write(ctx, input, clock, key, None, now, Some(note)).await,
        None => {
            let mut step = audit_step(input, key, CONFIGURATION_ERROR_STATE.to_owned(), now);
            merge(&mut step.detail, Some(note));
            store(ctx, RecordStep, step).await
        }
    }
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

/// Writes one decision: audit step (with `note` in its detail), ticket columns, and for an
/// action its SLA event.
async fn write(
    ctx: &mut WorkflowContext<SlaTicketWorkflow>,
    input: &TicketWorkflowInput,
    (tracker, cal): (&SlaTracker, &Calendar),
    step_key: String,
    action: Option<SlaAction>,
    now: DateTime<Utc>,
    note: Option<serde_json::Value>,
) -> WorkflowResult<()> {
    let update = update(&input.into(), (tracker, cal), step_key, action, now, note);
    store(ctx, RecordSlaUpdate, update).await
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

/// Runs a store activity: local in runs begun with [`LOCAL_PATCH`], else as the run has
/// always done.
async fn store<AD: ActivityDefinition>(
    ctx: &WorkflowContext<SlaTicketWorkflow>,
    activity: AD,
    input: AD::Input,
) -> WorkflowResult<AD::Output> {
    crate::store_calls::store(ctx, ctx.state(|s| s.local), activity, input).await
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
    store(ctx, RecordStep, step).await
}

/// An audit step of this ticket; the store adds the clock's state to its detail.
fn audit_step(
    input: &TicketWorkflowInput,
    step_key: String,
    event: String,
    at: DateTime<Utc>,
) -> SlaStep {
    start::audit_step(&input.into(), step_key, event, at)
}

/// The workflow clock as UTC. The SDK gives `None` only before the first activation, which
/// cannot happen inside `run`; the epoch keeps replay deterministic all the same.
fn workflow_now(ctx: &WorkflowContext<SlaTicketWorkflow>) -> DateTime<Utc> {
    ctx.workflow_time()
        .map(DateTime::<Utc>::from)
        .unwrap_or_default()
}
