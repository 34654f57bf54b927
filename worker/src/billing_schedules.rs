//! Keeps each tenant's billing Schedules in Temporal (under Schedules in the Temporal UI):
//! `invoice-runs:{tenant}` starts the day's invoice run at 00:05 and `billing-upkeep:{tenant}`
//! the day's upkeep (overdue invoices, expired credits) at 00:15, both in the tenant's billing
//! zone (`/v1/invoice-settings`).
//!
//! A loop, not a hook on the settings write: it reads every tenant's zone every
//! [`CHECK_EVERY`], creates the Schedules a tenant lacks and rewrites those whose zone changed
//! (and all of them once when the worker starts, so a changed spec reaches running systems).
//! The write that changed a zone never waits on Temporal, and a Temporal outage only delays
//! the Schedule's update to the next pass. Several workers doing the same write the same
//! Schedule.

use psa_domain::billing::run::ScheduledBilling;
use psa_domain::ids::{billing_upkeep_schedule_id, invoice_run_schedule_id};
use psa_store::PgPool;
use psa_store::billing::upkeep;
use psa_workflows::invoice_run::{BillingUpkeepWorkflow, ScheduledInvoiceRunWorkflow};
use std::collections::HashMap;
use std::time::Duration;
use temporalio_client::Client;
use temporalio_client::schedules::{
    CreateScheduleOptions, ScheduleAction, ScheduleCalendarSpec, ScheduleError,
    ScheduleOverlapPolicy, ScheduleSpec,
};
use tokio::sync::watch;
use uuid::Uuid;

/// How often tenants' zones are read.
pub const CHECK_EVERY: Duration = Duration::from_secs(10);

/// Runs until `stop` says so.
pub async fn keep(
    pool: PgPool,
    client: Client,
    task_queue: String,
    mut stop: watch::Receiver<bool>,
) {
    // Zones as last written to Temporal, by tenant.
    let mut applied: HashMap<Uuid, String> = HashMap::new();
    loop {
        match upkeep::zones(&pool).await {
            Ok(zones) => {
                for (tenant, zone) in zones {
                    if applied.get(&tenant) == Some(&zone) {
                        continue;
                    }
                    match write(&client, &task_queue, tenant, &zone).await {
                        Ok(()) => {
                            tracing::info!(%tenant, %zone, "billing schedules written");
                            applied.insert(tenant, zone);
                        }
                        Err(e) => {
                            tracing::warn!(%tenant, error = %e, "billing schedules not written; retrying");
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading billing zones failed; retrying"),
        }
        tokio::select! {
            () = tokio::time::sleep(CHECK_EVERY) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Creates or rewrites both of a tenant's Schedules.
async fn write(
    client: &Client,
    task_queue: &str,
    tenant: Uuid,
    zone: &str,
) -> Result<(), ScheduleError> {
    let input = ScheduledBilling {
        tenant_id: tenant,
        timezone: zone.to_owned(),
    };
    let run = ScheduleAction::start_workflow(
        ScheduledInvoiceRunWorkflow::run,
        input.clone(),
        task_queue,
        format!("invoice-run-schedule:{tenant}"),
    );
    upsert(
        client,
        invoice_run_schedule_id(tenant),
        run,
        daily_at("5", zone),
    )
    .await?;
    let upkeep = ScheduleAction::start_workflow(
        BillingUpkeepWorkflow::run,
        input,
        task_queue,
        format!("billing-upkeep:{tenant}"),
    );
    upsert(
        client,
        billing_upkeep_schedule_id(tenant),
        upkeep,
        daily_at("15", zone),
    )
    .await
}

/// Every day at 00:`minute` in `zone`.
fn daily_at(minute: &str, zone: &str) -> ScheduleSpec {
    let mut spec = ScheduleSpec::from_calendar(
        ScheduleCalendarSpec::builder()
            .hour("0")
            .minute(minute)
            .comment(format!("every day at 00:{minute:0>2}"))
            .build(),
    );
    spec.timezone_name = zone.to_owned();
    spec
}

async fn upsert(
    client: &Client,
    id: String,
    action: ScheduleAction,
    spec: ScheduleSpec,
) -> Result<(), ScheduleError> {
    let options = CreateScheduleOptions::builder()
        .action(action.clone())
        .spec(spec.clone())
        // A day's action still running when the next is due (a long run) finishes first.
        .overlap_policy(ScheduleOverlapPolicy::BufferOne)
        .build();
    match client.create_schedule(id.clone(), options).await {
        Ok(_) => Ok(()),
        Err(ScheduleError::Rpc(s)) if s.code() == tonic::Code::AlreadyExists => {
            client
                .get_schedule_handle(id)
                .update(
                    move |u| {
                        u.set_spec(spec);
                        u.set_action(action);
                    },
                    Default::default(),
                )
                .await
        }
        Err(e) => Err(e),
    }
}
