//! Prometheus metrics of the edge (`/metrics`).

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{
    Gauge, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, register_gauge,
    register_histogram_vec, register_int_counter, register_int_counter_vec, register_int_gauge,
    register_int_gauge_vec,
};
use std::sync::LazyLock;
use std::time::Instant;

// Registration fails only for an invalid or duplicate name: a programming error that the first
// request of any test would hit, never a run-time condition.
const REGISTERED: &str = "metric names are static and unique";

pub static HTTP_REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "psa_edge_http_requests_total",
        "HTTP requests",
        &["method", "route", "status"]
    )
    .expect(REGISTERED)
});
pub static HTTP_LATENCY: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "psa_edge_http_request_duration_seconds",
        "HTTP request latency",
        &["method", "route"]
    )
    .expect(REGISTERED)
});
pub static OUTBOX_PENDING: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!("psa_outbox_pending", "Outbox rows not yet delivered").expect(REGISTERED)
});
pub static OUTBOX_LAG_SECONDS: LazyLock<Gauge> = LazyLock::new(|| {
    register_gauge!(
        "psa_outbox_lag_seconds",
        "Age of the oldest undelivered outbox row"
    )
    .expect(REGISTERED)
});
pub static OUTBOX_DELIVERED: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!("psa_outbox_delivered_total", "Outbox rows delivered").expect(REGISTERED)
});
pub static OUTBOX_REPUBLISHED: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "psa_outbox_republished_total",
        "Events published again because Redis lost them"
    )
    .expect(REGISTERED)
});
pub static OUTBOX_FAILURES: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "psa_outbox_failures_total",
        "Failed outbox delivery attempts"
    )
    .expect(REGISTERED)
});
/// SLA clock runs the relay found ended without finishing (label `previous`: failed,
/// terminated, timed_out, canceled) and started anew for the ticket's next event.
pub static SLA_RUNS_RECREATED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "psa_sla_runs_recreated_total",
        "SLA clock runs found failed or terminated and re-created by the relay",
        &["previous"]
    )
    .expect(REGISTERED)
});
/// Ticket events that reached an SLA clock already finished (ticket closed, reopen window over).
pub static SLA_RUNS_UNFINISHED: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "psa_sla_runs_ended_unfinished",
        "SLA clock runs that ended without finishing and have not been re-created yet, as the \
         workflow service counts them at scrape time (the ticket's next event re-creates one)",
        &["status"]
    )
    .expect(REGISTERED)
});

pub static SLA_EVENTS_AFTER_FINISH: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "psa_sla_events_after_finish_total",
        "Ticket events for an SLA clock that had already finished"
    )
    .expect(REGISTERED)
});

/// Records every request's count and latency by route template (never the raw path, which
/// would explode label cardinality with IDs).
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let response = next.run(req).await;
    HTTP_LATENCY
        .with_label_values(&[&method, &route])
        .observe(start.elapsed().as_secs_f64());
    HTTP_REQUESTS
        .with_label_values(&[&method, &route, response.status().as_str()])
        .inc();
    response
}

pub fn render() -> Vec<u8> {
    use prometheus::Encoder;
    let mut buf = Vec::new();
    let _ = prometheus::TextEncoder::new().encode(&prometheus::gather(), &mut buf);
    buf
}
