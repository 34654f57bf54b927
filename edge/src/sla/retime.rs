//! The runner that re-times open tickets after an SLA configuration change, beside the outbox
//! relay: it asks `psa_store::sla::retime` for one waiting job at a time and runs it, so a
//! configuration write never pays for the tenant's whole backlog (see there for the job).

use crate::state::AppState;
use psa_store::sla::retime::round;
use std::time::Duration;
use tokio::sync::watch;

/// Runs jobs until `stop` says so; idle rounds sleep `idle` between looks.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let idle = state.config.relay.idle_poll;
    loop {
        let worked = match round(&state.pool).await {
            Ok(worked) => worked,
            Err(e) => {
                tracing::warn!(error = %e, "SLA re-time round failed; retrying");
                false
            }
        };
        if *stop.borrow() {
            return;
        }
        if !worked {
            tokio::select! {
                _ = tokio::time::sleep(idle.max(Duration::from_millis(10))) => {}
                _ = stop.changed() => return,
            }
        }
    }
}
