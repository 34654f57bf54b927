//! One e-mail of the `notify:{tenant}:{event}` run, as its activities plan, send and record
//! it: shared by the workflow and the store, which answers the activities.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One message to send, fully rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailJob {
    pub tenant_id: Uuid,
    pub event_id: Uuid,
    pub recipient_id: Uuid,
    pub to: String,
    /// The tenant's sender address; `None` uses the worker's default.
    pub from: Option<String>,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// Stable per (event, recipient), so a receiver can discard a duplicate after a retried send.
    pub message_id: String,
}

/// How one message ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailOutcome {
    pub tenant_id: Uuid,
    pub event_id: Uuid,
    pub recipient_id: Uuid,
    /// `None` when sent.
    pub error: Option<String>,
}
