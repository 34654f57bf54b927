//! The run's body: read the pinned version, then advance the interpreter and answer each
//! effect it stops at, until it ends.

use super::activities::{BusinessTime, LoadVersion, RecordRun, RunAction, SetWait};
use crate::search_attributes as sa;
use crate::store_calls::store;
use chrono::{DateTime, Utc};
use psa_domain::automations::definition::{Definition, Retry};
use psa_domain::automations::machine::{Effect, End, Machine, Resume, RunError};
use psa_domain::automations::run::{
    ActionRequest, ActionResult, BusinessRequest, Carry, RunInput, RunOutcome, RunRecord, RunView,
    VersionRequest, WaitRequest, idempotency_key, retry_point, scheduled_event_at,
};
use psa_domain::automations::validate;
use psa_domain::ids::automation_run;
use serde_json::{Value as Json, json};
use std::time::Duration;
use temporalio_common::RetryPolicy;
use temporalio_common::search_attributes::SearchAttributes;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, CancellableFuture, ChildWorkflowOptions, ContinueAsNewOptions,
    SyncWorkflowContext, TimerOptions, WorkflowContext, WorkflowContextView, WorkflowResult,
};

/// Effects one run answers before it continues as new: each adds a handful of events to the
/// history (steps between effects add none), so a few hundred events per run.
const EFFECTS_PER_RUN: usize = 100;
/// Continue as new well before the server's history limits, whatever the count says.
const MAX_HISTORY_EVENTS: u32 = 4_000;
/// How long one attempt of an action may take.
const ACTION_TIMEOUT: Duration = Duration::from_secs(60);

#[workflow]
#[derive(Default)]
pub struct AutomationRunWorkflow {
    /// Events signalled to the run, not yet looked at.
    inbox: Vec<Json>,
    /// Someone cancelled the run: it ends before its next step.
    cancelled: bool,
    view: RunView,
}

/// What a run knows of itself besides the machine.
struct Run {
    input: RunInput,
    workflow_id: String,
    definition: Definition,
}

#[workflow_methods]
impl AutomationRunWorkflow {
    #[run(name = "automation_run")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: RunInput,
    ) -> WorkflowResult<RunOutcome> {
        ctx.upsert_search_attributes([
            sa::TENANT_ID.value_set(input.tenant_id.to_string()),
            sa::AUTOMATION_ID.value_set(input.automation_id.to_string()),
            sa::AUTOMATION_VERSION.value_set(i64::from(input.version)),
        ]);
        let workflow_id = ctx.workflow_id().to_owned();
        ctx.state_mut(|s| {
            s.view.automation_id = Some(input.automation_id);
            s.view.version = input.version;
            s.view.status = "starting".into();
        });
        let request = VersionRequest {
            tenant_id: input.tenant_id,
            automation_id: input.automation_id,
            version: input.version,
        };
        let stored = store(ctx, false, LoadVersion, request).await?;
        let now = workflow_now(ctx);
        // A Schedule's runs share one input: each takes its own ID and instant here.
        let event = scheduled_event_at(
            input.event.clone(),
            automation_run::run_id(&workflow_id),
            now,
        );
        let (mut machine, mut resume) = match &input.carry {
            Some(carry) => match carry.machine() {
                Ok(m) => (
                    m,
                    carry
                        .resume
                        .clone()
                        .and_then(|r| serde_json::from_value(r).ok()),
                ),
                Err(e) => {
                    let m = Machine::new(event, now, false);
                    let end = End::Failed(problem(format!("the run's state cannot be read: {e}")));
                    return finish(ctx, &input, &workflow_id, m, end).await;
                }
            },
            None => (Machine::new(event, now, false), None),
        };
        // Published versions were valid when published; one that no longer reads (the
        // catalogue lost an action, say) fails the run, never the workflow.
        let definition = match stored {
            None => Err("the automation's version is gone".to_owned()),
            Some(v) => validate(&v.definition, |_| true).map_err(|issues| {
                let first = issues
                    .first()
                    .map_or(String::new(), |i| format!(": {} {}", i.pointer, i.reason));
                format!("the version no longer validates{first}")
            }),
        };
        let definition = match definition {
            Ok(d) => d,
            Err(message) => {
                return finish(
                    ctx,
                    &input,
                    &workflow_id,
                    machine,
                    End::Failed(problem(message)),
                )
                .await;
            }
        };
        let run = Run {
            input,
            workflow_id,
            definition,
        };
        let mut effects = 0_usize;
        loop {
            if effects >= EFFECTS_PER_RUN
                || ctx.continue_as_new_suggested()
                || ctx.history_length() > MAX_HISTORY_EVENTS
            {
                let carry = Carry {
                    machine: serde_json::to_value(&machine).unwrap_or_default(),
                    resume: resume.as_ref().and_then(|r| serde_json::to_value(r).ok()),
                };
                let next = RunInput {
                    carry: Some(carry),
                    ..run.input.clone()
                };
                ctx.continue_as_new(next, ContinueAsNewOptions::default())?;
            }
            if ctx.state(|s| s.cancelled) {
                let step = machine.waiting_on().unwrap_or_default().to_owned();
                let error = RunError {
                    step,
                    message: "the run was cancelled".into(),
                };
                return finish_as(
                    ctx,
                    &run.input,
                    &run.workflow_id,
                    machine,
                    "cancelled",
                    None,
                    Some(error),
                    None,
                )
                .await;
            }
            machine.clock = workflow_now(ctx);
            // Kept for a retry, should this advance fail the run.
            let before = (machine.clone(), resume.clone());
            let effect = machine.advance(&run.definition, resume.take());
            effects += 1;
            resume = Some(match effect {
                Effect::Done(End::Failed(error)) => {
                    let retry = retry_point(before.0, before.1);
                    return finish_as(
                        ctx,
                        &run.input,
                        &run.workflow_id,
                        machine,
                        "failed",
                        None,
                        Some(error),
                        Some(retry),
                    )
                    .await;
                }
                Effect::Done(end) => {
                    return finish(ctx, &run.input, &run.workflow_id, machine, end).await;
                }
                Effect::Action {
                    step,
                    action,
                    input,
                    retry,
                    iterations,
                } => {
                    let record = record(ctx, &run, &mut machine, Some(json!({"action": action})));
                    let request = ActionRequest {
                        tenant_id: run.input.tenant_id,
                        automation_id: run.input.automation_id,
                        key: idempotency_key(&run.workflow_id, &step, &iterations),
                        action: action.clone(),
                        input,
                        max_attempts: retry.max_attempts,
                        record: Some(record),
                    };
                    let options = ActivityOptions::with_start_to_close_timeout(ACTION_TIMEOUT)
                        .retry_policy(retry_policy(retry))
                        .summary(format!("Step {step}: {action}"))
                        .build();
                    match ctx.execute_activity(RunAction, request, options).await {
                        Ok(ActionResult::Output { output, attempt }) => Resume::Output {
                            output,
                            attempts: attempt,
                        },
                        Ok(ActionResult::Failed { message, attempt }) => Resume::Failed {
                            message,
                            attempts: attempt,
                        },
                        // Every attempt ran out of time or raised: the last one's failure.
                        Err(e) => Resume::Failed {
                            message: e
                                .failure()
                                .map_or_else(|| e.to_string(), |f| f.message.clone()),
                            attempts: retry.max_attempts,
                        },
                    }
                }
                Effect::Call {
                    step,
                    automation,
                    input,
                    iterations,
                } => {
                    call(
                        ctx,
                        &run,
                        &mut machine,
                        &step,
                        automation,
                        input,
                        &iterations,
                    )
                    .await?
                }
                Effect::BusinessTime {
                    schedule,
                    from,
                    duration,
                } => {
                    let request = BusinessRequest {
                        tenant_id: run.input.tenant_id,
                        schedule_id: schedule,
                        from,
                        duration_ms: duration.num_milliseconds(),
                    };
                    Resume::Instant(store(ctx, false, BusinessTime, request).await?)
                }
                Effect::Sleep { step, until } => {
                    let waiting = json!({"until": until});
                    let rec = record(ctx, &run, &mut machine, Some(waiting));
                    store(ctx, false, RecordRun, rec).await?;
                    let wait = (until - workflow_now(ctx)).num_milliseconds();
                    if wait > 0 {
                        let options =
                            TimerOptions::builder(Duration::from_millis(wait.unsigned_abs()))
                                .summary(format!("Step {step}: wait until {until}"))
                                .build();
                        let mut timer = ctx.timer(options);
                        let cancelled = temporalio_sdk::workflows::select! {
                            _ = &mut timer => false,
                            _ = ctx.wait_condition(|s: &AutomationRunWorkflow| s.cancelled) => true,
                        };
                        if cancelled {
                            timer.cancel();
                        }
                    }
                    Resume::Woke
                }
                Effect::WaitEvent {
                    step,
                    event,
                    deadline,
                } => wait_for_event(ctx, &run, &mut machine, &step, &event, deadline).await?,
            });
        }
    }

    /// An event for a run waiting in a `wait_for_event` step (sent by the event subscriber
    /// to every run of the tenant registered for the event's type).
    #[signal(name = "event")]
    pub fn event(&mut self, _ctx: &mut SyncWorkflowContext<Self>, event: Json) {
        self.inbox.push(event);
    }

    /// Ends the run before its next step (an action under way finishes first).
    #[signal(name = "cancel")]
    pub fn cancel(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _reason: String) {
        self.cancelled = true;
    }

    /// Where the run stands.
    #[query(name = "status")]
    pub fn query_status(&self, _ctx: &WorkflowContextView) -> RunView {
        self.view.clone()
    }
}

/// The step's retry policy as the activity's: the same attempts and intervals the dry run
/// counts (no interval cap below the last wait).
fn retry_policy(retry: Retry) -> RetryPolicy {
    let initial = retry
        .initial_interval
        .to_std()
        .unwrap_or(Duration::from_secs(1));
    let last = retry
        .wait_after(retry.max_attempts.saturating_sub(1).max(1))
        .to_std()
        .unwrap_or(initial)
        .max(initial);
    RetryPolicy::builder()
        .initial_interval(initial)
        .backoff_coefficient(retry.backoff)
        .maximum_interval(last)
        .maximum_attempts(retry.max_attempts.max(1))
        .build()
}

/// A `call`: the callee's newest version as a child run, its outcome the step's answer.
async fn call(
    ctx: &mut WorkflowContext<AutomationRunWorkflow>,
    run: &Run,
    machine: &mut Machine,
    step: &str,
    automation: uuid::Uuid,
    input: Json,
    iterations: &[usize],
) -> WorkflowResult<Resume> {
    let rec = record(ctx, run, machine, Some(json!({"call": automation})));
    store(ctx, false, RecordRun, rec).await?;
    let request = VersionRequest {
        tenant_id: run.input.tenant_id,
        automation_id: automation,
        version: 0,
    };
    let Some(callee) = store(ctx, false, LoadVersion, request).await? else {
        return Ok(Resume::Failed {
            message: format!("automation {automation} has no published version"),
            attempts: 1,
        });
    };
    // The child's trigger event: the caller's key for the step names it, so a replayed or
    // continued caller finds the same child.
    let key = idempotency_key(&run.workflow_id, step, iterations);
    let event_id = automation_run::manual_event_id(automation, &key);
    let workflow_id = automation_run::workflow_id(run.input.tenant_id, automation, event_id);
    let event = psa_domain::automations::run::manual_event(
        run.input.tenant_id,
        event_id,
        workflow_now(ctx),
        input,
    );
    let child_input = RunInput {
        tenant_id: run.input.tenant_id,
        automation_id: automation,
        version: callee.version,
        event,
        carry: None,
    };
    let options = ChildWorkflowOptions::builder()
        .workflow_id(workflow_id)
        .static_summary(format!("{} (called by step {step})", callee.name))
        .search_attributes(SearchAttributes::new([
            sa::TENANT_ID.value_set(run.input.tenant_id.to_string()),
            sa::AUTOMATION_ID.value_set(automation.to_string()),
            sa::AUTOMATION_VERSION.value_set(i64::from(callee.version)),
        ]))
        .build();
    let started = match ctx
        .start_child_workflow(AutomationRunWorkflow::run, child_input, options)
        .await
    {
        Ok(started) => started,
        Err(e) => {
            return Ok(Resume::Failed {
                message: format!("the called automation could not start: {e}"),
                attempts: 1,
            });
        }
    };
    Ok(match started.result().await {
        Ok(outcome) => match outcome.error {
            None => Resume::Output {
                output: outcome.result.unwrap_or(Json::Null),
                attempts: 1,
            },
            Some(error) => Resume::Failed {
                message: format!("step {} failed: {}", error.step, error.message),
                attempts: 1,
            },
        },
        Err(e) => Resume::Failed {
            message: format!("the called automation failed: {e}"),
            attempts: 1,
        },
    })
}

/// A `wait_for_event`: registers the run's interest, takes the first signalled event that
/// matches (occurred since the wait began), or times out at the deadline.
async fn wait_for_event(
    ctx: &mut WorkflowContext<AutomationRunWorkflow>,
    run: &Run,
    machine: &mut Machine,
    step: &str,
    event_type: &str,
    deadline: Option<DateTime<Utc>>,
) -> WorkflowResult<Resume> {
    let since = machine.clock;
    let waiting = json!({"event": event_type, "until": deadline});
    let rec = record(ctx, run, machine, Some(waiting));
    let register = WaitRequest {
        tenant_id: run.input.tenant_id,
        workflow_id: run.workflow_id.clone(),
        event_type: Some(event_type.to_owned()),
        step: step.to_owned(),
        since,
        record: Some(rec),
    };
    store(ctx, false, SetWait, register).await?;
    let mut timer = deadline.map(|d| {
        let wait = (d - workflow_now(ctx)).num_milliseconds().max(0) + 1;
        ctx.timer(
            TimerOptions::builder(Duration::from_millis(wait.unsigned_abs()))
                .summary(format!("Step {step}: timeout waiting for {event_type}"))
                .build(),
        )
    });
    let answer = 'wait: loop {
        let inbox = ctx.state_mut(|s| std::mem::take(&mut s.inbox));
        for (i, candidate) in inbox.iter().enumerate() {
            let occurred = candidate
                .get("occurred_at")
                .and_then(Json::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc));
            if occurred.is_none_or(|t| t < since) {
                continue;
            }
            machine.clock = workflow_now(ctx);
            let verdict = match machine.matches(&run.definition, candidate) {
                Ok(true) => Resume::Event(candidate.clone()),
                Ok(false) => continue,
                Err(message) => Resume::Raise(message),
            };
            // What came after the taken event waits for the run's next wait.
            let rest = inbox[i + 1..].to_vec();
            ctx.state_mut(|s| s.inbox.splice(0..0, rest).for_each(drop));
            break 'wait verdict;
        }
        let got = match &mut timer {
            Some(t) => temporalio_sdk::workflows::select! {
                _ = &mut *t => false,
                _ = ctx.wait_condition(|s: &AutomationRunWorkflow| !s.inbox.is_empty() || s.cancelled) => true,
            },
            None => {
                ctx.wait_condition(|s: &AutomationRunWorkflow| !s.inbox.is_empty() || s.cancelled)
                    .await?;
                true
            }
        };
        // Cancelled: the answer is never given (the run ends before its next step).
        if !got || ctx.state(|s| s.cancelled) {
            break Resume::Timeout;
        }
    };
    if !matches!(answer, Resume::Timeout)
        && let Some(t) = timer
    {
        t.cancel();
    }
    let done = WaitRequest {
        tenant_id: run.input.tenant_id,
        workflow_id: run.workflow_id.clone(),
        event_type: None,
        step: step.to_owned(),
        since,
        record: None,
    };
    store(ctx, false, SetWait, done).await?;
    Ok(answer)
}

/// The run's record as it stands, with the trace entries changed since the last one; the
/// run's query answers the same.
fn record(
    ctx: &mut WorkflowContext<AutomationRunWorkflow>,
    run: &Run,
    machine: &mut Machine,
    waiting: Option<Json>,
) -> RunRecord {
    let current = machine.waiting_on().map(str::to_owned);
    ctx.state_mut(|s| {
        s.view.status = "running".into();
        s.view.current_step = current.clone();
        s.view.waiting = waiting.clone();
        s.view.steps_executed = machine.executed();
    });
    if let Some(step) = &current {
        ctx.set_current_details(format!("At step {step}"));
    }
    RunRecord {
        tenant_id: run.input.tenant_id,
        automation_id: run.input.automation_id,
        version: run.input.version,
        workflow_id: run.workflow_id.clone(),
        status: "running".into(),
        current_step: current,
        waiting,
        vars: machine.vars.clone(),
        steps: machine.take_trace(),
        executed: machine.executed(),
        result: None,
        error: None,
        event: machine.event().clone(),
        retry_from: None,
    }
}

/// Writes the ended run's record and answers its outcome.
async fn finish(
    ctx: &mut WorkflowContext<AutomationRunWorkflow>,
    input: &RunInput,
    workflow_id: &str,
    machine: Machine,
    end: End,
) -> WorkflowResult<RunOutcome> {
    match end {
        End::Completed(value) => {
            finish_as(
                ctx,
                input,
                workflow_id,
                machine,
                "completed",
                Some(value),
                None,
                None,
            )
            .await
        }
        End::Failed(error) => {
            finish_as(
                ctx,
                input,
                workflow_id,
                machine,
                "failed",
                None,
                Some(error),
                None,
            )
            .await
        }
    }
}

/// Writes the run's last record with `status` (`completed`, `failed` or `cancelled`) and, for
/// a failure a retry can start from, where.
#[allow(clippy::too_many_arguments)]
async fn finish_as(
    ctx: &mut WorkflowContext<AutomationRunWorkflow>,
    input: &RunInput,
    workflow_id: &str,
    mut machine: Machine,
    status: &str,
    result: Option<Json>,
    error: Option<RunError>,
    retry_from: Option<Carry>,
) -> WorkflowResult<RunOutcome> {
    ctx.state_mut(|s| {
        s.view.status = status.into();
        s.view.current_step = None;
        s.view.waiting = None;
        s.view.steps_executed = machine.executed();
    });
    ctx.set_current_details(format!("Run {status}"));
    let rec = RunRecord {
        tenant_id: input.tenant_id,
        automation_id: input.automation_id,
        version: input.version,
        workflow_id: workflow_id.to_owned(),
        status: status.into(),
        current_step: None,
        waiting: None,
        vars: machine.vars.clone(),
        steps: machine.take_trace(),
        executed: machine.executed(),
        result: result.clone(),
        error: error.clone(),
        event: machine.event().clone(),
        retry_from,
    };
    store(ctx, false, RecordRun, rec).await?;
    Ok(RunOutcome {
        status: status.into(),
        result,
        error,
    })
}

/// A failure of the run as a whole, before any step.
fn problem(message: String) -> RunError {
    RunError {
        step: String::new(),
        message,
    }
}

/// The workflow clock as UTC.
fn workflow_now(ctx: &WorkflowContext<AutomationRunWorkflow>) -> DateTime<Utc> {
    ctx.workflow_time()
        .map(DateTime::<Utc>::from)
        .unwrap_or_default()
}
