//! The worker's small HTTP side: `/healthz` for liveness probes and `/metrics` for Prometheus.

use axum::{Router, http::header, response::IntoResponse, routing::get};
use prometheus::{Encoder, TextEncoder};
use std::net::SocketAddr;

pub async fn serve(
    addr: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn metrics() -> impl IntoResponse {
    let mut buf = Vec::new();
    // Encoding into a Vec cannot fail for well-formed families; an empty body is the fallback.
    let _ = TextEncoder::new().encode(&prometheus::gather(), &mut buf);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], buf)
}
