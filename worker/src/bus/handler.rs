//! What a subscriber implements.

use futures::future::BoxFuture;
use psa_domain::events::Envelope;

/// A failed attempt; the message becomes the dead letter's `last_error` if it is the last.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct HandlerError(pub String);

impl HandlerError {
    pub fn new(e: impl std::fmt::Display) -> Self {
        Self(e.to_string())
    }
}

pub trait Handler: Send + Sync + 'static {
    /// Stable name: it names the consumer group and the success records, so renaming a
    /// handler makes it a new subscriber.
    fn name(&self) -> &str;

    /// Whether this handler acts on `event_type`; others are acknowledged without a call.
    fn wants(&self, event_type: &str) -> bool {
        let _ = event_type;
        true
    }

    /// Acts on one event. May run more than once for the same event (after a crash between
    /// success and its record), so effects must be idempotent on `event.event_id`.
    fn handle<'a>(&'a self, event: &'a Envelope) -> BoxFuture<'a, Result<(), HandlerError>>;
}
