//! The event subscribers this worker runs, one consumer group each.

mod automations;
mod notifications;

pub use automations::AutomationHandler;
pub use notifications::NotificationHandler;

use crate::bus::Handler;
use psa_store::PgPool;
use std::sync::Arc;
use temporalio_client::Client;

/// Every production subscriber.
pub fn all(pool: PgPool, temporal: Client, task_queue: String) -> Vec<Arc<dyn Handler>> {
    vec![
        Arc::new(NotificationHandler::new(
            pool.clone(),
            temporal.clone(),
            task_queue.clone(),
        )),
        Arc::new(AutomationHandler::new(pool, temporal, task_queue)),
    ]
}
