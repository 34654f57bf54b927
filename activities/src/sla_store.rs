//! Postgres writes of the ticket SLA workflow.

use crate::db::begin_tenant;
use psa_domain::ids::new_id;
use psa_workflows::ticket_sla::RecordStep;
use psa_workflows::ticket_sla::SlaStep;
use sqlx::PgPool;
use std::sync::Arc;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

/// Implements the ticket workflow's store activities ([`RecordStep`]).
#[derive(Clone)]
pub struct SlaStore {
    pool: PgPool,
}

impl SlaStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Appends a step to `sla_audit_log`; a repeated `(ticket, step_key)` is a no-op.
    pub async fn write_step(&self, step: &SlaStep) -> Result<(), sqlx::Error> {
        let mut tx = begin_tenant(&self.pool, step.tenant_id).await?;
        sqlx::query(
            "INSERT INTO sla_audit_log (tenant_id, id, ticket_id, step_key, event, detail, occurred_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (tenant_id, ticket_id, step_key) DO NOTHING",
        )
        .bind(step.tenant_id)
        .bind(new_id())
        .bind(step.ticket_id)
        .bind(&step.step_key)
        .bind(&step.event)
        .bind(&step.detail)
        .bind(step.occurred_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }
}

#[activities]
impl SlaStore {
    #[activity(definition = RecordStep)]
    pub async fn record_step(
        self: Arc<Self>,
        _ctx: ActivityContext,
        step: SlaStep,
    ) -> Result<(), ActivityError> {
        self.write_step(&step).await?;
        Ok(())
    }
}
