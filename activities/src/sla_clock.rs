//! The ticket SLA workflow's activities: thin adapters over [`psa_store::sla::clock`], which
//! resolves a ticket's policy and records each decision of its clock once.

use psa_domain::sla::run::{SlaContextRequest, SlaLimits, SlaStep, SlaTicketContext, SlaUpdate};
use psa_store::PgPool;
use psa_store::sla::clock::SlaStore;
use psa_workflows::ticket_sla::{
    LoadSlaContext, RecordSlaUpdate, RecordStep, SlaStartRequest, SlaStarted, StartSlaClock, start,
};
use std::sync::Arc;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

/// Implements the ticket workflow's store activities.
#[derive(Clone)]
pub struct SlaActivities {
    store: SlaStore,
}

impl SlaActivities {
    pub fn new(pool: PgPool, limits: SlaLimits) -> Self {
        Self {
            store: SlaStore::new(pool, limits),
        }
    }
}

#[activities]
impl SlaActivities {
    #[activity(definition = RecordStep)]
    pub async fn record_step(
        self: Arc<Self>,
        _ctx: ActivityContext,
        step: SlaStep,
    ) -> Result<(), ActivityError> {
        self.store.write_step(&step).await?;
        Ok(())
    }

    #[activity(definition = LoadSlaContext)]
    pub async fn load_context(
        self: Arc<Self>,
        _ctx: ActivityContext,
        req: SlaContextRequest,
    ) -> Result<SlaTicketContext, ActivityError> {
        Ok(self.store.load_context(req).await?)
    }

    #[activity(definition = StartSlaClock)]
    pub async fn start_clock(
        self: Arc<Self>,
        _ctx: ActivityContext,
        req: SlaStartRequest,
    ) -> Result<SlaStarted, ActivityError> {
        let context = SlaContextRequest {
            tenant_id: req.tenant_id,
            ticket_id: req.ticket_id,
            with_record: true,
        };
        let (context, clock) = self
            .store
            .start_clock(context, &req.run_id, |c| start::decide(c, &req))
            .await?;
        Ok(SlaStarted {
            limits: context.limits,
            clock,
        })
    }

    #[activity(definition = RecordSlaUpdate)]
    pub async fn record_update(
        self: Arc<Self>,
        _ctx: ActivityContext,
        update: SlaUpdate,
    ) -> Result<(), ActivityError> {
        Ok(self.store.record_update(&update).await?)
    }
}
