//! The reminder run's activities: thin adapters over [`psa_store::scheduling::reminders`].

use psa_domain::scheduling::reminders::{PlanRequest, ReminderPlan, SendOutcome, SendRequest};
use psa_store::PgPool;
use psa_store::scheduling::reminders;
use psa_workflows::schedule_reminders::{LoadReminderPlan, SendReminder};
use std::sync::Arc;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

#[derive(Clone)]
pub struct ReminderActivities {
    pool: PgPool,
}

impl ReminderActivities {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[activities]
impl ReminderActivities {
    #[activity(definition = LoadReminderPlan)]
    pub async fn load_reminder_plan(
        self: Arc<Self>,
        _ctx: ActivityContext,
        req: PlanRequest,
    ) -> Result<Option<ReminderPlan>, ActivityError> {
        Ok(reminders::plan(&self.pool, req).await?)
    }

    #[activity(definition = SendReminder)]
    pub async fn send_reminder(
        self: Arc<Self>,
        _ctx: ActivityContext,
        req: SendRequest,
    ) -> Result<SendOutcome, ActivityError> {
        Ok(reminders::send(&self.pool, &req).await?)
    }
}
