//! The reminder run's body: read the entry, sleep until the next reminder is due, send it,
//! repeat; read the entry again whenever it changes.
//!
//! Bad data never fails the run: a stored master that cannot be expanded is reported in the
//! run's status and waited out until the entry changes.

use super::activities::{LoadReminderPlan, SendReminder};
use crate::search_attributes as sa;
use crate::store_calls::store;
use chrono::{DateTime, TimeDelta, Utc};
use psa_domain::scheduling::reminders::{
    self, EntryChanged, Next, PlanRequest, ReminderCarry, ReminderInput, ReminderPlan,
    ReminderStatus, SendOutcome, SendRequest,
};
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    CancellableFuture, ContinueAsNewOptions, SyncWorkflowContext, TimerOptions, WorkflowContext,
    WorkflowContextView, WorkflowResult,
};

/// Reminders one run sends before it continues as new: a few thousand history events.
const REMINDERS_PER_RUN: u32 = 200;
/// Continue as new well before the server's history limits, whatever the count says.
const MAX_HISTORY_EVENTS: u32 = 4_000;
/// The longest timer: an entry booked for a distant year is looked at again now and then
/// rather than trusted to one timer of centuries.
const MAX_SLEEP: TimeDelta = TimeDelta::days(30);

#[workflow]
#[derive(Default)]
pub struct ScheduleReminderWorkflow {
    /// A change was signalled and the entry not read since.
    changed: bool,
    status: ReminderStatus,
}

#[workflow_methods]
impl ScheduleReminderWorkflow {
    #[run(name = "schedule_reminders")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: ReminderInput,
    ) -> WorkflowResult<ReminderStatus> {
        ctx.upsert_search_attributes([sa::TENANT_ID.value_set(input.tenant_id.to_string())]);
        let carry = input.carry.clone();
        let mut through = carry.as_ref().and_then(|c| c.reminded_through);
        ctx.state_mut(|s| {
            s.status.state = "starting".into();
            s.status.reminders_sent = carry.as_ref().map_or(0, |c| c.reminders_sent);
        });
        let mut plan = load(ctx, &input).await?;
        let mut handled = 0_u32;
        loop {
            if ctx.state_mut(|s| std::mem::take(&mut s.changed)) {
                plan = load(ctx, &input).await?;
            }
            let now = workflow_now(ctx);
            let next = match &plan {
                Some(p) => reminders::next(p, through, now),
                None => Next::Ended,
            };
            let (local, starts_at, remind_at) = match next {
                Next::Due {
                    local,
                    starts_at,
                    remind_at,
                } => (local, starts_at, remind_at),
                Next::Off => return Ok(idle(ctx, "reminders_off", None)),
                Next::Ended => return Ok(idle(ctx, "ended", None)),
                Next::Unreadable(problem) => {
                    idle(ctx, "unreadable", Some(problem));
                    ctx.wait_condition(|s: &Self| s.changed).await?;
                    continue;
                }
            };
            ctx.state_mut(|s| {
                s.status.state = "waiting".into();
                s.status.next_occurrence = Some(starts_at);
                s.status.remind_at = Some(remind_at);
                s.status.problem = None;
            });
            ctx.set_current_details(format!(
                "Next occurrence {starts_at}, reminder due {remind_at}"
            ));
            if remind_at > now {
                // Then decide again: the entry changed, or the reminder is due now (unless the
                // occurrence has begun meanwhile, say while no worker ran).
                sleep_until(ctx, remind_at.min(now + MAX_SLEEP), starts_at).await;
                continue;
            }
            let request = SendRequest {
                tenant_id: input.tenant_id,
                entry_id: input.entry_id,
                local,
                starts_at,
            };
            match store(ctx, false, SendReminder, request).await? {
                SendOutcome::Sent => ctx.state_mut(|s| {
                    s.status.reminders_sent = s.status.reminders_sent.saturating_add(1);
                }),
                SendOutcome::AlreadySent => {}
                SendOutcome::Stale => {
                    // The entry changed and its signal is on the way: read it now. Should the
                    // master read the same, the store's verdict stands and the occurrence is
                    // passed over.
                    let fresh = load(ctx, &input).await?;
                    if fresh != plan {
                        plan = fresh;
                        continue;
                    }
                }
            }
            through = Some(starts_at);
            handled = handled.saturating_add(1);
            if handled >= REMINDERS_PER_RUN
                || ctx.continue_as_new_suggested()
                || ctx.history_length() > MAX_HISTORY_EVENTS
            {
                let next = ReminderInput {
                    carry: Some(ReminderCarry {
                        reminded_through: through,
                        reminders_sent: ctx.state(|s| s.status.reminders_sent),
                    }),
                    ..input.clone()
                };
                ctx.continue_as_new(next, ContinueAsNewOptions::default())?;
            }
        }
    }

    /// The entry was created, changed or deleted: read it again before the next decision.
    #[signal(name = "entry_changed")]
    pub fn entry_changed(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _signal: EntryChanged) {
        self.changed = true;
    }

    /// What the run waits for.
    #[query(name = "status")]
    pub fn query_status(&self, _ctx: &WorkflowContextView) -> ReminderStatus {
        self.status.clone()
    }
}

/// Reads the entry's master.
async fn load(
    ctx: &mut WorkflowContext<ScheduleReminderWorkflow>,
    input: &ReminderInput,
) -> WorkflowResult<Option<ReminderPlan>> {
    let request = PlanRequest {
        tenant_id: input.tenant_id,
        entry_id: input.entry_id,
    };
    store(ctx, false, LoadReminderPlan, request).await
}

/// Sleeps on a durable timer until `at`, or until the entry changes (the timer is then
/// cancelled, so the history shows why the run woke).
async fn sleep_until(
    ctx: &mut WorkflowContext<ScheduleReminderWorkflow>,
    at: DateTime<Utc>,
    occurrence: DateTime<Utc>,
) {
    // In whole milliseconds rounded up, at least 1: waking a hair early would find the
    // reminder not yet due.
    let wait = (at - workflow_now(ctx)).num_milliseconds().max(0) + 1;
    let options = TimerOptions::builder(Duration::from_millis(wait.unsigned_abs()))
        .summary(format!("Reminder of the occurrence at {occurrence}"))
        .build();
    let mut timer = ctx.timer(options);
    let woke = temporalio_sdk::workflows::select! {
        _ = &mut timer => false,
        _ = ctx.wait_condition(|s: &ScheduleReminderWorkflow| s.changed) => true,
    };
    if woke {
        timer.cancel();
    }
}

/// Records that no reminder is pending (the run ends, or waits for the entry to change) and
/// answers the status.
fn idle(
    ctx: &mut WorkflowContext<ScheduleReminderWorkflow>,
    state: &str,
    problem: Option<String>,
) -> ReminderStatus {
    ctx.set_current_details(match &problem {
        Some(p) => format!("The entry cannot be expanded: {p}"),
        None => format!("No reminder pending: {state}"),
    });
    ctx.state_mut(|s| {
        s.status.state = state.to_owned();
        s.status.next_occurrence = None;
        s.status.remind_at = None;
        s.status.problem = problem;
        s.status.clone()
    })
}

/// The workflow clock as UTC (the epoch before the first activation, which cannot happen
/// inside `run`, keeps replay deterministic all the same).
fn workflow_now(ctx: &WorkflowContext<ScheduleReminderWorkflow>) -> DateTime<Utc> {
    ctx.workflow_time()
        .map(DateTime::<Utc>::from)
        .unwrap_or_default()
}
