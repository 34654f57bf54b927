//! The outbox relay: turns committed outbox rows into Redis `XADD`s and Temporal calls.
//!
//! At-least-once: a row is claimed under a lease (so several edge replicas share the work with
//! `FOR UPDATE SKIP LOCKED`, and a relay that dies mid-batch only delays it), each step is
//! recorded as it succeeds, and failures retry with backoff. Exactly-once in effect comes from
//! the receivers: business-key workflow IDs, and event IDs that workflows and consumers
//! de-duplicate on.
//!
//! Throughput comes from batches ([`batch`]): a claimed batch is published to Redis in one
//! pipeline, its Temporal commands run concurrently (one workflow's commands in order), and its
//! outcomes are written in one statement. Up to [`ROUNDS_IN_FLIGHT`] rounds overlap, so rows
//! committed while a round waits on Temporal do not wait for it. The relay sleeps only when
//! there is nothing to do, and wakes on `NOTIFY psa_outbox` (sent by writers after their
//! commit) or its poll interval, whichever comes first.

mod batch;
pub mod temporal;
mod verify;

use crate::metrics;
use crate::state::AppState;
use psa_store::outbox::{self, WakeUps};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

/// How often the outbox gauges are refreshed while the relay is busy.
const LAG_EVERY: Duration = Duration::from_secs(1);

/// Rounds one relay runs at once. A round waits for its slowest Temporal call; rows committed
/// meanwhile are claimed by another round instead of waiting for it. Overlapping rounds keep
/// each workflow's order as separate relays do: a claim skips rows another round holds and
/// rows whose workflow has an earlier command not yet delivered.
const ROUNDS_IN_FLIGHT: usize = 4;

#[derive(Clone)]
pub struct Relay {
    state: AppState,
    /// Held by the round checking the stream; the others skip the check.
    verifying: Arc<tokio::sync::Mutex<()>>,
    /// Temporal calls in flight, across rounds (`EDGE_RELAY_CONCURRENCY`).
    calls: Arc<Semaphore>,
}

impl Relay {
    pub fn new(state: AppState) -> Self {
        let calls = Arc::new(Semaphore::new(state.config.relay.concurrency.max(1)));
        Self {
            state,
            verifying: Arc::default(),
            calls,
        }
    }

    /// Runs rounds until `stop` turns true, then lets the rounds in flight record what they
    /// did. A new round starts on a wake-up, after a round that found work, and on the idle
    /// poll (for retries whose backoff has ended).
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!("outbox relay started");
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(listen(self.state.pool.clone(), wake.clone()));
        let mut rounds = JoinSet::new();
        let mut due = true;
        let mut gauges_at: Option<Instant> = None;
        while !*stop.borrow() {
            if due && rounds.len() < ROUNDS_IN_FLIGHT {
                due = false;
                let (relay, wake) = (self.clone(), wake.clone());
                rounds.spawn(async move {
                    relay.round(&wake).await.unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "outbox relay round failed");
                        0
                    })
                });
            }
            if gauges_at.is_none_or(|at| at.elapsed() >= LAG_EVERY) {
                gauges_at = Some(Instant::now());
                self.refresh_gauges().await;
            }
            let idle = rounds.is_empty() && !due;
            tokio::select! {
                Some(done) = rounds.join_next(), if !rounds.is_empty() => {
                    // A round that found work leaves more, likely: go on at once.
                    if matches!(done, Ok(n) if n > 0) {
                        due = true;
                    }
                }
                _ = wake.notified() => due = true,
                _ = tokio::time::sleep(self.state.config.relay.idle_poll), if idle => due = true,
                _ = stop.changed() => {}
            }
        }
        while rounds.join_next().await.is_some() {}
        listener.abort();
        tracing::info!("outbox relay stopped");
    }

    /// Claims one batch and delivers it, then checks published entries; returns how many rows
    /// were attempted or sent back. Calls for another round on `more` as soon as the claim
    /// comes back full: a backlog is then worked by overlapping rounds, not one after another.
    async fn round(&self, more: &Notify) -> Result<usize, psa_store::DbError> {
        let cfg = &self.state.config.relay;
        let lease = i32::try_from(cfg.lease.as_secs()).unwrap_or(30);
        let rows = outbox::claim(&self.state.pool, cfg.batch, lease).await?;
        let n = rows.len();
        if i32::try_from(n).is_ok_and(|n| n >= cfg.batch) {
            more.notify_one();
        }
        if n > 0 {
            batch::deliver(&self.state, &self.calls, &rows).await?;
        }
        Ok(n + self.verify_once().await?)
    }

    /// Confirms that entries published at least `verify_after` ago are still in the stream, and
    /// sends back for publishing those Redis lost. Returns how many were lost. Skipped while
    /// another round of this relay is checking.
    pub async fn verify_once(&self) -> Result<usize, psa_store::DbError> {
        let Ok(_checking) = self.verifying.try_lock() else {
            return Ok(0);
        };
        verify::run(&self.state).await
    }

    async fn refresh_gauges(&self) {
        if let Ok((pending, oldest)) = outbox::lag(&self.state.pool).await {
            metrics::OUTBOX_PENDING.set(pending);
            metrics::OUTBOX_LAG_SECONDS.set(oldest);
        }
    }
}

/// Turns `NOTIFY psa_outbox` into wake-ups of the relay loop. A burst of notifications while
/// the relay is busy leaves one stored wake-up ([`Notify`] keeps a single permit), so it costs
/// one extra claim at most. A lost connection wakes the relay too: notifications may have been
/// missed with it.
async fn listen(pool: psa_store::PgPool, wake: Arc<Notify>) {
    let mut wake_ups = None;
    loop {
        let listening = match wake_ups.as_mut() {
            Some(w) => w,
            None => match WakeUps::listen(&pool).await {
                Ok(w) => wake_ups.insert(w),
                Err(e) => {
                    tracing::warn!(error = %e, "outbox wake-ups unavailable; polling only");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
            },
        };
        if let Err(e) = listening.wait().await {
            tracing::warn!(error = %e, "outbox wake-ups interrupted");
            wake_ups = None;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        wake.notify_one();
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
