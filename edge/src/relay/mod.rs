//! The outbox relay: turns committed outbox rows into Redis `XADD`s and Temporal calls.
//!
//! At-least-once: a row is claimed under a lease (so several edge replicas share the work with
//! `FOR UPDATE SKIP LOCKED`, and a relay that dies mid-row only delays it), each step is
//! recorded as it succeeds, and failures retry with backoff. Exactly-once in effect comes from
//! the receivers: business-key workflow IDs, and event IDs that workflows and consumers
//! de-duplicate on.

use crate::metrics;
use crate::state::AppState;
use psa_domain::events::stream;
pub mod temporal;

use psa_domain::commands::WorkflowCommand;
use psa_store::outbox::{self, Claimed};
use std::time::Duration;
use temporal::Delivered;
use tokio::sync::watch;

#[derive(Clone)]
pub struct Relay {
    state: AppState,
}

impl Relay {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    /// Runs rounds until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!("outbox relay started");
        loop {
            if *stop.borrow() {
                break;
            }
            let delivered = match self.run_once().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox relay round failed");
                    0
                }
            };
            if delivered == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(self.state.config.relay.idle_poll) => {}
                    _ = stop.changed() => {}
                }
            }
        }
        tracing::info!("outbox relay stopped");
    }

    /// Claims one batch and delivers it; returns how many rows were attempted.
    pub async fn run_once(&self) -> Result<usize, psa_store::DbError> {
        let cfg = &self.state.config.relay;
        let lease = i32::try_from(cfg.lease.as_secs()).unwrap_or(30);
        let rows = outbox::claim(&self.state.pool, cfg.batch, lease).await?;
        let mut n = rows.len();
        for row in rows {
            self.deliver(row).await?;
        }
        n += self.verify_once().await?;
        if let Ok((pending, oldest)) = outbox::lag(&self.state.pool).await {
            metrics::OUTBOX_PENDING.set(pending);
            metrics::OUTBOX_LAG_SECONDS.set(oldest);
        }
        Ok(n)
    }

    async fn deliver(&self, row: Claimed) -> Result<(), psa_store::DbError> {
        let mut errors = Vec::new();
        let mut entry_id = None;
        let published = row.published || {
            match self.publish(&row).await {
                Ok(id) => {
                    entry_id = Some(id);
                    true
                }
                Err(e) => {
                    errors.push(format!("publish: {e}"));
                    false
                }
            }
        };
        let signalled = row.signalled
            || match &row.workflow_command {
                None => true,
                Some(cmd) => match self.signal(cmd).await {
                    Ok(()) => true,
                    Err(e) => {
                        errors.push(format!("workflow: {e}"));
                        false
                    }
                },
            };
        let error = (!errors.is_empty()).then(|| errors.join("; "));
        let retry = error.as_ref().map(|_| backoff_seconds(row.attempts));
        if let Some(e) = &error {
            metrics::OUTBOX_FAILURES.inc();
            tracing::warn!(event_id = %row.event_id, attempts = row.attempts, error = %e, "outbox delivery failed");
        } else {
            metrics::OUTBOX_DELIVERED.inc();
        }
        let attempt = outbox::Attempt {
            published,
            signalled,
            error,
            retry_seconds: retry,
            stream_entry_id: entry_id,
        };
        outbox::record(&self.state.pool, &row, &attempt).await
    }

    /// Appends the event to the stream; returns the entry's ID.
    async fn publish(&self, row: &Claimed) -> Result<String, String> {
        let mut redis = self.state.redis().await.map_err(|e| e.to_string())?;
        let event_type = row
            .envelope
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or_default();
        redis::cmd("XADD")
            .arg(&self.state.config.events_stream)
            .arg("*")
            .arg(stream::FIELD_EVENT_ID)
            .arg(row.event_id.to_string())
            .arg(stream::FIELD_TENANT_ID)
            .arg(row.tenant_id.to_string())
            .arg(stream::FIELD_TYPE)
            .arg(event_type)
            .arg(stream::FIELD_ENVELOPE)
            .arg(row.envelope.to_string())
            .query_async(&mut redis)
            .await
            .map_err(|e| e.to_string())
    }

    /// Confirms that entries published at least `verify_after` ago are still in the stream, and
    /// sends back for publishing those Redis lost. Returns how many were lost.
    pub async fn verify_once(&self) -> Result<usize, psa_store::DbError> {
        let cfg = &self.state.config.relay;
        let min_age = i32::try_from(cfg.verify_after.as_secs()).unwrap_or(i32::MAX);
        let rows = outbox::unverified(&self.state.pool, cfg.batch, min_age).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let Ok(mut redis) = self.state.redis().await else {
            return Ok(0);
        };
        let mut pipe = redis::pipe();
        for row in &rows {
            // A row published before entry IDs were recorded checks nothing: XRANGE of "0-0".
            let id = row.stream_entry_id.as_deref().unwrap_or("0-0");
            pipe.cmd("XRANGE")
                .arg(&self.state.config.events_stream)
                .arg(id)
                .arg(id);
        }
        let found: Vec<Vec<redis::Value>> = match pipe.query_async(&mut redis).await {
            Ok(f) => f,
            // Redis is away: nothing can be confirmed or denied now.
            Err(_) => return Ok(0),
        };
        let mut lost = 0;
        for (row, hit) in rows.iter().zip(found) {
            let present = row.stream_entry_id.is_none() || !hit.is_empty();
            if !present {
                lost += 1;
                tracing::warn!(outbox_id = row.id, entry = ?row.stream_entry_id, "event missing from the stream; publishing it again");
            }
            outbox::verify(&self.state.pool, row, present).await?;
        }
        metrics::OUTBOX_REPUBLISHED.inc_by(u64::try_from(lost).unwrap_or(0));
        Ok(lost)
    }

    async fn signal(&self, command: &serde_json::Value) -> Result<(), String> {
        let command: WorkflowCommand =
            serde_json::from_value(command.clone()).map_err(|e| format!("bad command: {e}"))?;
        let client = self.state.temporal().await.map_err(|e| e.to_string())?;
        // Any error leaves the row to be retried with backoff: the event is never dropped.
        let outcome = temporal::execute(&command, client, &self.state.config.task_queue)
            .await
            .map_err(|e| e.to_string())?;
        match outcome {
            Delivered::Signalled => {}
            Delivered::WorkflowClosed => metrics::SLA_EVENTS_AFTER_FINISH.inc(),
            Delivered::Recreated { previous } => {
                let previous = temporal::clock_state(previous);
                metrics::SLA_RUNS_RECREATED
                    .with_label_values(&[previous])
                    .inc();
                tracing::warn!(
                    previous,
                    "SLA clock run had ended without finishing; re-created"
                );
            }
        }
        tracing::debug!(?outcome, "workflow command delivered");
        Ok(())
    }
}

/// 1, 2, 4 … seconds, capped at five minutes.
fn backoff_seconds(attempts: i32) -> i32 {
    let exp = u32::try_from(attempts.clamp(1, 9) - 1).unwrap_or(0);
    2_i32.pow(exp).min(300)
}

/// Lets tests and shutdown stop the relay.
pub fn stop_channel() -> (watch::Sender<bool>, watch::Receiver<bool>) {
    watch::channel(false)
}

/// How long shutdown waits for a relay round in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::backoff_seconds;

    #[test]
    fn backoff_doubles_then_caps() {
        let seen: Vec<i32> = (1..=12).map(backoff_seconds).collect();
        assert_eq!(seen, [1, 2, 4, 8, 16, 32, 64, 128, 256, 256, 256, 256]);
    }
}
