//! A ticket's SLA as the API shows it: live from its running clock (a query to the
//! `sla:{tenant}:{ticket}` run) when the workflow service answers quickly, else as the clock
//! last recorded it.

use crate::relay::temporal::{SlaRun, StatusQuery, clock_state};
use crate::state::AppState;
use crate::web::auth::Principal;
use crate::web::error::ApiError;
use temporalio_client::errors::WorkflowInteractionError;
use temporalio_client::{WorkflowDescribeOptions, WorkflowQueryOptions};
use uuid::Uuid;

/// A ticket's SLA as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TicketSla {
    pub ticket_id: Uuid,
    /// `workflow` (live, from the running clock), `record` (the last step written, once the
    /// run has ended) or `pending` (the clock has not started yet).
    pub source: &'static str,
    /// How the ticket's clock itself is: `running`; `configuration_error` (running on its last
    /// good configuration, or waiting for one, until the configuration can be read; see
    /// `configuration_error`); `finished` (ticket closed and reopen window over); `failed`,
    /// `terminated`, `timed_out` or `canceled` (the run ended without finishing: the figures
    /// are the last recorded, and the ticket's next event re-creates the clock); `none` (not
    /// started yet); `unknown` (the workflow service cannot be asked now).
    pub clock: &'static str,
    /// Why the clock cannot use the SLA configuration in force, while it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration_error: Option<String>,
    /// Computed at the time of the request when live.
    #[serde(flatten)]
    pub sla: Option<psa_domain::sla::SlaView>,
}

pub async fn ticket_sla(state: &AppState, p: &Principal, id: Uuid) -> Result<TicketSla, ApiError> {
    // 404 unless the caller may see the ticket (tenant, and a client key's own client).
    let recorded = psa_store::sla::recorded_view(&state.pool, p, id).await?;

    // The live clock answers when it can, quickly; a worker or Temporal that is down or slow
    // must not hold the request: the recorded figures answer instead (clock `unknown`).
    let Ok(Ok(client)) = tokio::time::timeout(LIVE_CLOCK_TIMEOUT, state.temporal()).await else {
        return from_record(id, recorded, "unknown", None);
    };
    let handle = client
        .get_workflow_handle::<SlaRun>(psa_domain::ids::sla_workflow_id(p.tenant_id, id).as_str());
    let described = tokio::time::timeout(
        LIVE_CLOCK_TIMEOUT,
        handle.describe(WorkflowDescribeOptions::default()),
    )
    .await;
    let mut clock = match described {
        Err(_) => "unknown",
        Ok(Ok(d)) => clock_state(d.status()),
        Ok(Err(WorkflowInteractionError::NotFound(_))) => "none",
        Ok(Err(_)) => "unknown",
    };
    let mut configuration_error = None;
    if clock == "running" {
        // A query needs a worker: with none polling it would wait for the server's deadline.
        let queried = tokio::time::timeout(
            LIVE_CLOCK_TIMEOUT,
            handle.query(StatusQuery, (), WorkflowQueryOptions::default()),
        )
        .await;
        let Ok(Ok(status)) = queried else {
            return from_record(id, recorded, clock, None);
        };
        if status.configuration_error.is_some() {
            clock = "configuration_error";
            configuration_error = status.configuration_error;
        }
        // The clock's own schedule was usable when it took it; should it not be now, the
        // last recorded figures answer.
        if let Some(tracker) = status.tracker
            && let Ok(cal) = tracker.calendar()
        {
            return Ok(TicketSla {
                ticket_id: id,
                source: "workflow",
                clock,
                configuration_error,
                sla: Some(tracker.view(&cal, chrono::Utc::now())),
            });
        }
    }
    from_record(id, recorded, clock, configuration_error)
}

/// Longest the SLA view waits on Temporal (connect, describe, query) before it answers from
/// the record.
const LIVE_CLOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The ticket's SLA as last recorded (`pending` before the clock wrote anything).
fn from_record(
    id: Uuid,
    recorded: Option<serde_json::Value>,
    clock: &'static str,
    configuration_error: Option<String>,
) -> Result<TicketSla, ApiError> {
    Ok(match recorded {
        Some(v) => TicketSla {
            ticket_id: id,
            source: "record",
            clock,
            configuration_error,
            sla: Some(serde_json::from_value(v).map_err(ApiError::internal)?),
        },
        None => TicketSla {
            ticket_id: id,
            source: "pending",
            clock,
            configuration_error,
            sla: None,
        },
    })
}
