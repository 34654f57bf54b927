//! Keeps a Temporal Schedule (under Schedules in the Temporal UI) for every automation whose
//! newest version has a schedule trigger: `automation-schedule:{tenant}:{automation}`, on the
//! trigger's cron calendar in its zone, starting `automation:{tenant}:{automation}:scheduled-…`
//! runs pinned to that version. Paused while the automation is disabled; deleted when a newer
//! version triggers otherwise.
//!
//! A loop, like the billing Schedules (`billing_schedules.rs`): it reads every automation that
//! has a schedule trigger in some version every [`CHECK_EVERY`] and writes what changed (and
//! all of them once when the worker starts). Publishing never waits on Temporal; an outage
//! delays the Schedule's change to a later pass. Several workers write the same Schedules.

use psa_domain::automations::run::{RunInput, scheduled_event};
use psa_domain::ids::automation_run;
use psa_store::PgPool;
use psa_store::automations::runs::{self, ScheduledAutomation};
use psa_workflows::automation_run::AutomationRunWorkflow;
use std::collections::HashMap;
use std::time::Duration;
use temporalio_client::Client;
use temporalio_client::schedules::{
    CreateScheduleOptions, ScheduleAction, ScheduleError, ScheduleOverlapPolicy, ScheduleSpec,
};
use tokio::sync::watch;
use uuid::Uuid;

/// How often the automations with schedule triggers are read.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Runs until `stop` says so.
pub async fn keep(
    pool: PgPool,
    client: Client,
    task_queue: String,
    mut stop: watch::Receiver<bool>,
) {
    // What was last written to Temporal, by automation.
    let mut applied: HashMap<(Uuid, Uuid), ScheduledAutomation> = HashMap::new();
    loop {
        match runs::scheduled(&pool).await {
            Ok(list) => {
                for a in list {
                    let key = (a.tenant_id, a.automation_id);
                    if applied.get(&key) == Some(&a) {
                        continue;
                    }
                    match write(&client, &task_queue, &a).await {
                        Ok(()) => {
                            tracing::info!(tenant = %a.tenant_id, automation = %a.automation_id,
                                version = a.version, enabled = a.enabled, "automation schedule written");
                            applied.insert(key, a);
                        }
                        Err(e) => tracing::warn!(automation = %a.automation_id, error = %e,
                            "automation schedule not written; retrying"),
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading automation schedules failed; retrying"),
        }
        tokio::select! {
            () = tokio::time::sleep(CHECK_EVERY) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// The trigger's calendar, when it is a schedule.
fn spec(trigger: &serde_json::Value) -> Option<ScheduleSpec> {
    let schedule = trigger.get("schedule")?;
    let mut spec = ScheduleSpec::default();
    spec.cron_strings = vec![schedule.get("cron")?.as_str()?.to_owned()];
    spec.timezone_name = schedule
        .get("timezone")
        .and_then(|z| z.as_str())
        .unwrap_or("UTC")
        .to_owned();
    Some(spec)
}

/// Creates, rewrites or deletes the automation's Schedule.
async fn write(
    client: &Client,
    task_queue: &str,
    a: &ScheduledAutomation,
) -> Result<(), ScheduleError> {
    let id = automation_run::schedule_id(a.tenant_id, a.automation_id);
    let Some(spec) = spec(&a.trigger) else {
        return match client
            .get_schedule_handle(id)
            .delete(Default::default())
            .await
        {
            Err(ScheduleError::Rpc(s)) if s.code() == tonic::Code::NotFound => Ok(()),
            other => other,
        };
    };
    let input = RunInput {
        tenant_id: a.tenant_id,
        automation_id: a.automation_id,
        version: a.version,
        event: scheduled_event(a.tenant_id, a.automation_id),
        carry: None,
    };
    let action = ScheduleAction::start_workflow(
        AutomationRunWorkflow::run,
        input,
        task_queue,
        automation_run::scheduled_workflow_id(a.tenant_id, a.automation_id),
    );
    let note = format!("{} (version {})", a.name, a.version);
    let options = CreateScheduleOptions::builder()
        .action(action.clone())
        .spec(spec.clone())
        // A run still going when the next is due finishes first; at most one waits.
        .overlap_policy(ScheduleOverlapPolicy::BufferOne)
        .paused(!a.enabled)
        .note(note.clone())
        .build();
    match client.create_schedule(id.clone(), options).await {
        Ok(_) => Ok(()),
        Err(ScheduleError::Rpc(s)) if s.code() == tonic::Code::AlreadyExists => {
            let paused = !a.enabled;
            client
                .get_schedule_handle(id)
                .update(
                    move |u| {
                        u.set_spec(spec);
                        u.set_action(action);
                        u.set_paused(paused);
                        u.set_note(note);
                    },
                    Default::default(),
                )
                .await
        }
        Err(e) => Err(e),
    }
}
