//! Turns events into notifications: in-app rows now; e-mail through the `psa-email` queue
//! next.

use crate::bus::{Handler, HandlerError};
use futures::future::BoxFuture;
use psa_activities::NotificationStore;
use psa_domain::events::Envelope;
use sqlx::PgPool;

pub struct NotificationHandler {
    store: NotificationStore,
}

impl NotificationHandler {
    pub fn new(pool: PgPool) -> Self {
        Self {
            store: NotificationStore::new(pool),
        }
    }
}

impl Handler for NotificationHandler {
    fn name(&self) -> &str {
        "notifications"
    }

    fn handle<'a>(&'a self, event: &'a Envelope) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            self.store
                .deliver_in_app(event)
                .await
                .map(|_| ())
                .map_err(HandlerError::new)
        })
    }
}
