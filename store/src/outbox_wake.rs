//! Wake-ups of the relays after a commit, folded together: every commit that enqueued rows is
//! followed by a `NOTIFY psa_outbox` sent after it, but not by one each. Under load a create
//! would otherwise pay a second transaction for its wake-up, while the relays need only one
//! per burst.
//!
//! Per database (a process may hold pools to several): while a wake-up is being sent, the
//! commits meanwhile ask for one more, sent when it is done. The sending runs in a task of its
//! own, so no request waits for it.

use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

const IDLE: u8 = 0;
const SENDING: u8 = 1;
/// Sending, and a commit came after the wake-up being sent was asked for.
const AGAIN: u8 = 2;

static STATES: LazyLock<Mutex<HashMap<String, Arc<AtomicU8>>>> = LazyLock::new(Mutex::default);

/// The wake-up state of `pool`'s database.
fn state(pool: &PgPool) -> Arc<AtomicU8> {
    let o = pool.connect_options();
    let key = format!(
        "{}:{}/{}",
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap_or_default()
    );
    let mut states = STATES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    states.entry(key).or_default().clone()
}

/// Asks for a wake-up of the relays of `pool`'s database, after a commit.
pub(crate) fn request(pool: &PgPool) {
    let state = state(pool);
    loop {
        match state.compare_exchange(IDLE, SENDING, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => break,
            Err(AGAIN) => return,
            Err(_) => {
                if state
                    .compare_exchange(SENDING, AGAIN, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    return;
                }
                // The sender finished in between: try to become the sender.
            }
        }
    }
    let pool = pool.clone();
    tokio::spawn(async move {
        loop {
            send(&pool).await;
            if state
                .compare_exchange(SENDING, IDLE, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return;
            }
            // AGAIN: a commit came after this wake-up was asked for.
            state.store(SENDING, Ordering::Release);
        }
    });
}

/// Sends one wake-up in a transaction of its own with asynchronous commit (see
/// [`crate::outbox::wake`]). Failure is logged, never returned: the rows are committed and will
/// be delivered either way.
pub(crate) async fn send(pool: &PgPool) {
    let sent = sqlx::query!("SELECT outbox_wake()").execute(pool).await;
    if let Err(e) = sent {
        tracing::debug!(error = %e, "outbox wake-up not sent; relays will find the rows on their next poll");
    }
}
