//! Writing events to the outbox, inside the caller's transaction.

use crate::auth::Principal;
use crate::error::ApiError;
use chrono::Utc;
use psa_domain::events::{Envelope, Event};
use psa_domain::ids::new_id;
use psa_workflows::commands::WorkflowCommand;
use sqlx::PgConnection;

/// Records `event` for delivery after commit: to `psa:events`, and to the workflow it routes to.
pub async fn enqueue(
    conn: &mut PgConnection,
    principal: &Principal,
    event: Event,
) -> Result<Envelope, ApiError> {
    let envelope = Envelope {
        event_id: new_id(),
        tenant_id: principal.tenant_id,
        occurred_at: Utc::now(),
        actor: principal.actor(),
        event,
    };
    // An invalid event here is a bug in the code that built it: refuse it rather than
    // publish something every consumer would dead-letter.
    envelope.validate().map_err(ApiError::internal)?;
    let command = WorkflowCommand::for_event(&envelope);
    sqlx::query(
        "INSERT INTO outbox (tenant_id, event_id, event_type, envelope, workflow_command)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(envelope.tenant_id)
    .bind(envelope.event_id)
    .bind(envelope.event_type())
    .bind(serde_json::to_value(&envelope).map_err(ApiError::internal)?)
    .bind(
        command
            .map(serde_json::to_value)
            .transpose()
            .map_err(ApiError::internal)?,
    )
    .execute(conn)
    .await?;
    Ok(envelope)
}
