//! The event subscribers this worker runs, one consumer group each.

mod notifications;

pub use notifications::NotificationHandler;

use crate::bus::Handler;
use psa_store::PgPool;
use std::sync::Arc;
use temporalio_client::Client;

/// Every production subscriber. Automation triggers register here when they land.
pub fn all(pool: PgPool, temporal: Client, task_queue: String) -> Vec<Arc<dyn Handler>> {
    vec![Arc::new(NotificationHandler::new(
        pool, temporal, task_queue,
    ))]
}
