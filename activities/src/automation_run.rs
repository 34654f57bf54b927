//! An automation run's activities: its read model, its waits, business time and the versions
//! it runs, over [`psa_store::automations::runs`]; its actions in [`crate::automation_actions`].

use crate::automation_actions::{self, Failure};
use chrono::{DateTime, Utc};
use psa_domain::automations::run::{
    ActionRequest, ActionResult, BusinessRequest, RunRecord, StoredVersion, VersionRequest,
    WaitRequest,
};
use psa_store::PgPool;
use psa_store::automations::runs;
use psa_workflows::automation_run::{BusinessTime, LoadVersion, RecordRun, RunAction, SetWait};
use std::sync::Arc;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

#[derive(Clone)]
pub struct AutomationActivities {
    pool: PgPool,
    http: automation_actions::Http,
}

impl AutomationActivities {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            http: automation_actions::Http::new(),
        }
    }
}

#[activities]
impl AutomationActivities {
    #[activity(definition = LoadVersion)]
    pub async fn load_version(
        self: Arc<Self>,
        _ctx: ActivityContext,
        req: VersionRequest,
    ) -> Result<Option<StoredVersion>, ActivityError> {
        Ok(runs::version(&self.pool, &req).await?)
    }

    #[activity(definition = RecordRun)]
    pub async fn record_run(
        self: Arc<Self>,
        _ctx: ActivityContext,
        record: RunRecord,
    ) -> Result<(), ActivityError> {
        Ok(runs::record(&self.pool, &record).await?)
    }

    #[activity(definition = SetWait)]
    pub async fn set_wait(
        self: Arc<Self>,
        _ctx: ActivityContext,
        req: WaitRequest,
    ) -> Result<(), ActivityError> {
        Ok(runs::set_wait(&self.pool, &req).await?)
    }

    #[activity(definition = BusinessTime)]
    pub async fn business_time(
        self: Arc<Self>,
        _ctx: ActivityContext,
        req: BusinessRequest,
    ) -> Result<Result<DateTime<Utc>, String>, ActivityError> {
        Ok(runs::business_time(&self.pool, &req).await?)
    }

    /// The action, as the automation's owner. A failure the next attempt could meet is an
    /// activity error (Temporal retries it by the step's policy) unless this is the step's
    /// last attempt; then, as for a refusal no attempt can change, it is the answer.
    #[activity(definition = RunAction)]
    pub async fn run_action(
        self: Arc<Self>,
        ctx: ActivityContext,
        req: ActionRequest,
    ) -> Result<ActionResult, ActivityError> {
        if let Some(record) = &req.record {
            runs::record(&self.pool, record).await?;
        }
        let attempt = ctx.info().attempt.max(1);
        let outcome = async {
            let principal = runs::owner(&self.pool, req.tenant_id, req.automation_id)
                .await
                .map_err(Failure::from)?;
            automation_actions::run(&self.pool, &self.http, &principal, &req).await
        }
        .await;
        match outcome {
            Ok(output) => Ok(ActionResult::Output { output, attempt }),
            Err(Failure::Retry(message)) if attempt < req.max_attempts => Err(
                ActivityError::application(ApplicationFailure::new(RetryLater(message))),
            ),
            Err(Failure::Retry(message) | Failure::Refused(message)) => {
                Ok(ActionResult::Failed { message, attempt })
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RetryLater(String);
