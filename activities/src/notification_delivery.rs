//! The e-mail workflow's activities that touch only Postgres: thin adapters over
//! [`psa_store::notifications::delivery`] (who gets an e-mail, the send budget, the log).

use psa_domain::email_job::{EmailJob, EmailOutcome};
use psa_domain::events::Envelope;
use psa_store::PgPool;
use psa_store::notifications::delivery::NotificationStore;
use psa_workflows::notify_email::{
    EmailPlan, PlanEmails, PlanEmailsWithSlot, RecordEmailOutcome, ReserveSendSlot,
};
use std::sync::Arc;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use uuid::Uuid;

#[derive(Clone)]
pub struct NotificationActivities {
    store: NotificationStore,
}

impl NotificationActivities {
    pub fn new(pool: PgPool) -> Self {
        Self {
            store: NotificationStore::new(pool),
        }
    }
}

#[activities]
impl NotificationActivities {
    #[activity(definition = PlanEmails)]
    pub async fn plan_emails(
        self: Arc<Self>,
        _ctx: ActivityContext,
        event: Envelope,
    ) -> Result<Vec<EmailJob>, ActivityError> {
        Ok(self.store.plan_emails(&event).await?)
    }

    #[activity(definition = PlanEmailsWithSlot)]
    pub async fn plan_emails_with_slot(
        self: Arc<Self>,
        _ctx: ActivityContext,
        event: Envelope,
    ) -> Result<EmailPlan, ActivityError> {
        let (jobs, first_wait_ms) = self.store.plan_emails_reserving(&event).await?;
        Ok(EmailPlan {
            jobs,
            first_wait_ms,
        })
    }

    #[activity(definition = ReserveSendSlot)]
    pub async fn reserve_send_slot(
        self: Arc<Self>,
        _ctx: ActivityContext,
        tenant: Uuid,
    ) -> Result<u64, ActivityError> {
        Ok(self.store.reserve_send_slot(tenant).await?)
    }

    #[activity(definition = RecordEmailOutcome)]
    pub async fn record_email_outcome(
        self: Arc<Self>,
        _ctx: ActivityContext,
        outcome: EmailOutcome,
    ) -> Result<(), ActivityError> {
        Ok(self.store.record_email_outcome(&outcome).await?)
    }
}
