//! Prometheus counters of the event consumers.

use super::consumer::ProcessOutcome;
use prometheus::{IntCounterVec, register_int_counter_vec};
use std::sync::LazyLock;

const REGISTERED: &str = "metric names are static and unique";

static EVENTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "psa_events_total",
        "Events processed by a handler, by outcome (handled, skipped, failed, dead_lettered)",
        &["handler", "outcome"]
    )
    .expect(REGISTERED)
});

pub fn record(handler: &str, o: &ProcessOutcome) {
    for (label, n) in [
        ("handled", o.handled),
        ("skipped", o.skipped),
        ("failed", o.failed),
        ("dead_lettered", o.dead_lettered),
    ] {
        if n > 0 {
            EVENTS
                .with_label_values(&[handler, label])
                .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
        }
    }
}
