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
use psa_store::error::StoreError;
use psa_workflows::automation_run::{BusinessTime, LoadVersion, RecordRun, RunAction, SetWait};
use std::sync::Arc;
use std::time::Duration;
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
            patiently(&BOOKKEEPING_WAITS, || runs::record(&self.pool, record)).await?;
        }
        let attempt = ctx.info().attempt.max(1);
        let outcome = async {
            let principal = patiently(&BOOKKEEPING_WAITS, || {
                runs::owner(&self.pool, req.tenant_id, req.automation_id)
            })
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

/// The pauses between tries at an action's bookkeeping (the run's record, its owner's key)
/// while the database is unreachable: a restart takes seconds, and the step's attempts belong
/// to its action, so a step allowed one attempt is not failed by a blip before it even ran.
const BOOKKEEPING_WAITS: [Duration; 4] = [
    Duration::from_millis(200),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
];

/// Runs `op`, again after each of `waits` while it fails transiently; any other outcome, or
/// the last failure, is its answer.
async fn patiently<T, F, Fut>(waits: &[Duration], mut op: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut waits = waits.iter();
    loop {
        match op().await {
            Err(e) if e.is_transient() => match waits.next() {
                Some(wait) => tokio::time::sleep(*wait).await,
                None => return Err(e),
            },
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Calls `patiently` with no pauses on an operation that fails transiently `outage` times,
    /// then answers `then`; what it answered, and how often the operation ran.
    async fn through(outage: u32, then: Result<u32, StoreError>) -> (Result<u32, StoreError>, u32) {
        let calls = AtomicU32::new(0);
        let then = std::sync::Mutex::new(Some(then));
        let out = patiently(&[Duration::ZERO; 3], || {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            let answer = match n <= outage {
                true => Err(StoreError::Unavailable("the database".into())),
                false => then.lock().ok().and_then(|mut t| t.take()).unwrap_or(Ok(0)),
            };
            async move { answer }
        })
        .await;
        (out, calls.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn bookkeeping_waits_out_an_outage_but_not_a_refusal_or_a_long_outage() {
        let (out, calls) = through(2, Ok(7)).await;
        assert_eq!((out.ok(), calls), (Some(7), 3));
        let (out, calls) = through(0, Err(StoreError::NotFound)).await;
        assert!(matches!(out, Err(StoreError::NotFound)));
        assert_eq!(calls, 1, "a refusal is not tried again");
        let (out, calls) = through(10, Ok(7)).await;
        assert!(matches!(out, Err(StoreError::Unavailable(_))));
        assert_eq!(calls, 4, "once, then after each of the three waits");
    }
}
