//! Turns events into notifications: in-app rows at once, e-mail through the
//! `notify:{tenant}:{event}` workflow (rate-limited, retried, sent on the `psa-email` queue).

use crate::bus::{Handler, HandlerError};
use futures::future::BoxFuture;
use psa_domain::events::Envelope;
use psa_domain::notifications::{self, Channel};
use psa_store::PgPool;
use psa_store::notifications::delivery::NotificationStore;
use psa_workflows::notify_email::{self, EmailNotificationWorkflow};
use psa_workflows::search_attributes as sa;
use temporalio_client::errors::WorkflowStartError;
use temporalio_client::{
    Client, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions,
};
use temporalio_common::search_attributes::SearchAttributes;

pub struct NotificationHandler {
    store: NotificationStore,
    temporal: Client,
    task_queue: String,
}

impl NotificationHandler {
    pub fn new(pool: PgPool, temporal: Client, task_queue: String) -> Self {
        Self {
            store: NotificationStore::new(pool),
            temporal,
            task_queue,
        }
    }

    /// Starts the event's e-mail workflow; a second start for the same event is a no-op.
    async fn start_emails(&self, event: &Envelope) -> Result<(), HandlerError> {
        if notifications::subtype_for(&event.event).is_none()
            || !notifications::channel_allowed(event, Channel::Email)
            || !self
                .store
                .emails_anyone(event)
                .await
                .map_err(HandlerError::new)?
        {
            return Ok(());
        }
        let options = WorkflowStartOptions::new(
            self.task_queue.as_str(),
            notify_email::workflow_id(event.tenant_id, event.event_id),
        )
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
        .search_attributes(SearchAttributes::new([
            sa::TENANT_ID.value_set(event.tenant_id.to_string())
        ]))
        .static_summary(format!(
            "E-mail for {} {}",
            event.event_type(),
            event.event_id
        ))
        .build();
        match self
            .temporal
            .start_workflow(EmailNotificationWorkflow::run, event.clone(), options)
            .await
        {
            Ok(_) | Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(()),
            Err(WorkflowStartError::Rpc(s)) if s.code() == tonic::Code::AlreadyExists => Ok(()),
            Err(e) => Err(HandlerError::new(e)),
        }
    }
}

impl Handler for NotificationHandler {
    fn name(&self) -> &str {
        "notifications"
    }

    fn handle<'a>(&'a self, event: &'a Envelope) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            self.store
                .deliver_in_app(event)
                .await
                .map_err(HandlerError::new)?;
            self.start_emails(event).await
        })
    }
}
