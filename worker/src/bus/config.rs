//! Settings of the stream consumers.

use psa_domain::events::stream;
use secrecy::SecretString;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct BusConfig {
    /// May carry a password: never printed.
    pub redis_url: SecretString,
    /// The stream events are read from.
    pub stream: String,
    /// Where entries go after `max_deliveries` failed attempts (or at once when invalid).
    pub dead_letter_stream: String,
    /// Attempts per (event, handler) before dead-lettering (`EVENT_MAX_DELIVERIES`).
    pub max_deliveries: u32,
    /// Entries read per round.
    pub batch: usize,
    /// How long one read waits for new entries.
    pub block: Duration,
    /// A pending entry idle this long is taken over from its consumer (dead, or a failed
    /// attempt waiting for its retry).
    pub claim_idle: Duration,
    /// How long success records are kept; a redelivery after that re-runs the handler, so
    /// handlers stay idempotent on their own too.
    pub handled_ttl: Duration,
    /// Where a new consumer group starts: `$` (only new events) or `0` (the whole stream).
    pub start_id: String,
}

impl BusConfig {
    pub fn new(redis_url: impl Into<SecretString>) -> Self {
        Self {
            redis_url: redis_url.into(),
            stream: stream::EVENTS.into(),
            dead_letter_stream: stream::DEAD_LETTERS.into(),
            max_deliveries: 10,
            batch: 256,
            block: Duration::from_secs(2),
            claim_idle: Duration::from_secs(30),
            handled_ttl: Duration::from_secs(7 * 24 * 3600),
            start_id: "$".into(),
        }
    }
}
