//! Redis key names used by the consumers, in one place.

/// The consumer group of a handler.
pub fn group(handler: &str) -> String {
    format!("psa:{handler}")
}

/// Marks that `handler` succeeded for `event_id`.
pub fn handled(handler: &str, event_id: &str) -> String {
    format!("psa:handled:{handler}:{event_id}")
}

/// Failed attempts per stream entry of one handler (hash: entry id → count).
pub fn attempts(handler: &str) -> String {
    format!("psa:attempts:{handler}")
}
