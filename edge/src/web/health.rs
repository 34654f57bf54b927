//! Probes and metrics.

use crate::metrics;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;
use std::time::Duration;
use temporalio_client::WorkflowCountOptions;
use temporalio_common::protos::temporal::api::workflowservice::v1::GetSystemInfoRequest;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", operation_id = "getHealth", tag = "meta", security(()),
    responses((status = 200, description = "The process answers.", content_type = "text/plain", body = String, example = "ok")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: Postgres, Redis and Temporal all answer. Each check is bounded so a hung
/// dependency makes the probe fail rather than hang.
#[utoipa::path(get, path = "/readyz", operation_id = "getReadiness", tag = "meta", security(()),
    responses(
        (status = 200, description = "Postgres, Redis and Temporal answer.", body = super::openapi::schemas::Readiness),
        (status = 503, description = "A dependency does not answer (the report says which), or the edge is overloaded.",
            content(
                (super::openapi::schemas::Readiness = "application/json"),
                (crate::web::error::Problem = "application/problem+json"),
            )),
    ))]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    const LIMIT: Duration = Duration::from_secs(2);
    let postgres = tokio::time::timeout(LIMIT, psa_store::ping(&state.pool))
        .await
        .map_err(|_| "timed out".to_owned())
        .and_then(|r| r.map(|_| ()).map_err(|e| e.to_string()));
    let redis = tokio::time::timeout(LIMIT, async {
        let mut conn = state.redis().await.map_err(|e| e.to_string())?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|_| "timed out".to_owned())
    .and_then(|r| r);
    let temporal = tokio::time::timeout(LIMIT, async {
        let client = state.temporal().await.map_err(|e| e.to_string())?;
        let mut svc = client.connection().workflow_service();
        svc.get_system_info(tonic::Request::new(GetSystemInfoRequest {}))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|_| "timed out".to_owned())
    .and_then(|r| r);
    let ready = postgres.is_ok() && redis.is_ok() && temporal.is_ok();
    let show = |r: &Result<(), String>| match r {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.clone(),
    };
    let body = json!({
        "ready": ready,
        "postgres": show(&postgres),
        "redis": show(&redis),
        "temporal": show(&temporal),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

/// Prometheus metrics of this process.
#[utoipa::path(get, path = "/metrics", operation_id = "getMetrics", tag = "meta", security(()),
    responses((status = 200, description = "Prometheus text exposition format 0.0.4.",
        content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    count_unfinished_sla_runs(&state).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics::render(),
    )
}

/// Counts the SLA clock runs that failed or were terminated and wait for their ticket's next
/// event to be re-created, so an operator sees them without an event to reveal them. Bounded
/// like the readiness checks; when the count cannot be had, the gauge keeps its last value.
async fn count_unfinished_sla_runs(state: &AppState) {
    let counted = tokio::time::timeout(Duration::from_secs(2), async {
        let client = state.temporal().await.ok()?;
        let mut counts = Vec::new();
        for status in ["Failed", "Terminated", "TimedOut"] {
            let query = format!("WorkflowId STARTS_WITH 'sla:' AND ExecutionStatus = '{status}'");
            let n = client
                .count_workflows(query, WorkflowCountOptions::default())
                .await
                .ok()?
                .count();
            counts.push((status, n));
        }
        Some(counts)
    })
    .await;
    if let Ok(Some(counts)) = counted {
        for (status, n) in counts {
            metrics::SLA_RUNS_UNFINISHED
                .with_label_values(&[status])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
}
