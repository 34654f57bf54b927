//! CPU-bound work a request asks for (rendering a template, an SLA what-if), run where it cannot
//! starve the async runtime, with a time limit and a cap on how many run at once.
//!
//! Validation bounds the cost of every such computation by its input; this is the second line:
//! a request whose work is slower than expected answers 422 instead of holding a runtime thread,
//! and a flood of them waits for a permit (or gets 503) instead of taking every core.

use crate::error::StoreError;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Longest a single computation may run before the request is answered without it.
pub const COMPUTE_TIMEOUT: Duration = Duration::from_secs(2);

/// Computations running at once across the process; more wait for a permit.
static PERMITS: Semaphore = Semaphore::const_new(4);

/// Runs `work` on the blocking pool. `what` names it in the error (`"the preview"`).
///
/// The permit travels with the work and is released when the work really ends, even after
/// the request has given up on it, so abandoned work still counts against the cap.
pub async fn bounded<T, F>(what: &str, work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let permit = tokio::time::timeout(COMPUTE_TIMEOUT, PERMITS.acquire())
        .await
        .map_err(|_| StoreError::Busy("too many computations in progress"))?
        .map_err(StoreError::internal)?;
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    });
    match tokio::time::timeout(COMPUTE_TIMEOUT, task).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(join)) => Err(StoreError::internal(join)),
        Err(_) => Err(StoreError::invalid(
            "body",
            format!(
                "{what} takes longer than {} s to compute; ask for less",
                COMPUTE_TIMEOUT.as_secs()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slow_work_is_abandoned_with_a_422_and_fast_work_answers() {
        assert_eq!(bounded("sum", || 2 + 2).await.ok(), Some(4));
        let slow = bounded("the sleep", || {
            std::thread::sleep(COMPUTE_TIMEOUT + Duration::from_millis(300))
        })
        .await;
        match slow {
            Err(StoreError::Invalid(v)) => assert!(v.0[0].message.contains("the sleep")),
            other => panic!("expected 422, got {other:?}"),
        }
    }
}
