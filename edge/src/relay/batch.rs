//! Delivers one claimed batch: every event to the stream in one pipeline, the Temporal commands
//! side by side, and all outcomes in one statement.
//!
//! Ordering: the claim hands over rows in `id` order and never a row whose workflow has an
//! earlier undelivered command outside the batch. Here a workflow's rows are sent one after
//! the other, in that order, and when one fails the rest of its rows are not attempted (they
//! are released as they were), so a retry can never let a later command overtake it. Rows of
//! different workflows do not wait for each other: a failing row is retried alone, with
//! backoff, while the others complete.

use super::{backoff_seconds, temporal};
use crate::metrics;
use crate::state::AppState;
use futures::StreamExt;
use psa_domain::commands::WorkflowCommand;
use psa_domain::events::stream;
use psa_store::outbox::{self, Attempt, Claimed};
use std::collections::HashMap;
use temporal::Delivered;
use tokio::sync::Semaphore;

/// What became of one row's Temporal command in this round.
enum Signal {
    Done,
    Failed(String),
    /// An earlier command of the same workflow failed in this round.
    Held,
}

/// Delivers a claimed batch. `calls` bounds the Temporal calls in flight across all of the
/// relay's rounds (`EDGE_RELAY_CONCURRENCY`).
pub(super) async fn deliver(
    state: &AppState,
    calls: &Semaphore,
    rows: &[Claimed],
) -> Result<(), psa_store::DbError> {
    let mut attempts: Vec<Attempt> = rows
        .iter()
        .map(|r| Attempt {
            attempted: true,
            published: r.published,
            signalled: r.signalled || r.workflow_command.is_none(),
            ..Attempt::default()
        })
        .collect();
    let mut errors: Vec<Vec<String>> = vec![Vec::new(); rows.len()];

    let unpublished: Vec<usize> = (0..rows.len()).filter(|&i| !rows[i].published).collect();
    match publish(state, rows, &unpublished).await {
        Ok(entries) => {
            for (&i, entry) in unpublished.iter().zip(entries) {
                attempts[i].published = true;
                attempts[i].stream_entry_id = Some(entry);
            }
        }
        Err(e) => {
            for &i in &unpublished {
                errors[i].push(format!("publish: {e}"));
            }
        }
    }

    let concurrency = state.config.relay.concurrency.max(1);
    let outcomes: Vec<Vec<(usize, Signal)>> = futures::stream::iter(workflows(rows))
        .map(|group| signal_in_order(state, calls, rows, group))
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for (i, outcome) in outcomes.into_iter().flatten() {
        match outcome {
            Signal::Done => attempts[i].signalled = true,
            Signal::Failed(e) => errors[i].push(format!("workflow: {e}")),
            Signal::Held => attempts[i].attempted = false,
        }
    }

    for (i, a) in attempts.iter_mut().enumerate() {
        let row = &rows[i];
        if errors[i].is_empty() {
            if a.published && a.signalled {
                metrics::OUTBOX_DELIVERED.inc();
            }
            continue;
        }
        let error = errors[i].join("; ");
        metrics::OUTBOX_FAILURES.inc();
        tracing::warn!(event_id = %row.event_id, attempts = row.attempts, error = %error, "outbox delivery failed");
        a.attempted = true;
        a.retry_seconds = Some(backoff_seconds(row.attempts));
        a.error = Some(error);
    }
    let outcomes: Vec<(&Claimed, Attempt)> = rows.iter().zip(attempts).collect();
    outbox::record(&state.pool, &outcomes).await
}

/// The rows with a command still to send, grouped by workflow, each group in `id` order (the
/// order of `rows`); groups in the order of their first row.
fn workflows(rows: &[Claimed]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        if row.signalled || row.workflow_command.is_none() {
            continue;
        }
        match row.workflow_id.as_deref() {
            // A row written before workflow IDs were recorded goes alone, as it always did.
            None => groups.push(vec![i]),
            Some(id) => match by_id.get(id) {
                Some(&g) => groups[g].push(i),
                None => {
                    by_id.insert(id, groups.len());
                    groups.push(vec![i]);
                }
            },
        }
    }
    groups
}

/// Sends one workflow's commands one after the other; after a failure, holds back the rest.
async fn signal_in_order(
    state: &AppState,
    calls: &Semaphore,
    rows: &[Claimed],
    group: Vec<usize>,
) -> Vec<(usize, Signal)> {
    let mut out = Vec::with_capacity(group.len());
    let mut failed = false;
    for i in group {
        if failed {
            out.push((i, Signal::Held));
            continue;
        }
        let Some(command) = rows[i].workflow_command.as_ref() else {
            continue;
        };
        // The semaphore is never closed; were it, the call would go ahead unbounded.
        let _permit = calls.acquire().await.ok();
        match signal(state, command).await {
            Ok(()) => out.push((i, Signal::Done)),
            Err(e) => {
                failed = true;
                out.push((i, Signal::Failed(e)));
            }
        }
    }
    out
}

/// Appends the events of `which` rows to the stream in one pipeline, in their order; returns
/// their entry IDs.
async fn publish(
    state: &AppState,
    rows: &[Claimed],
    which: &[usize],
) -> Result<Vec<String>, String> {
    if which.is_empty() {
        return Ok(Vec::new());
    }
    let mut redis = state.redis().await.map_err(|e| e.to_string())?;
    let mut pipe = redis::pipe();
    for &i in which {
        let row = &rows[i];
        let event_type = row
            .envelope
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or_default();
        pipe.cmd("XADD")
            .arg(&state.config.events_stream)
            .arg("*")
            .arg(stream::FIELD_EVENT_ID)
            .arg(row.event_id.to_string())
            .arg(stream::FIELD_TENANT_ID)
            .arg(row.tenant_id.to_string())
            .arg(stream::FIELD_TYPE)
            .arg(event_type)
            .arg(stream::FIELD_ENVELOPE)
            .arg(row.envelope.to_string());
    }
    pipe.query_async(&mut redis)
        .await
        .map_err(|e| e.to_string())
}

async fn signal(state: &AppState, command: &serde_json::Value) -> Result<(), String> {
    let command: WorkflowCommand =
        serde_json::from_value(command.clone()).map_err(|e| format!("bad command: {e}"))?;
    let client = state.temporal().await.map_err(|e| e.to_string())?;
    // Any error leaves the row to be retried with backoff: the event is never dropped.
    let outcome = temporal::execute(&command, client, &state.config.task_queue)
        .await
        .map_err(|e| e.to_string())?;
    match outcome {
        Delivered::Signalled => {}
        Delivered::WorkflowClosed => metrics::SLA_EVENTS_AFTER_FINISH.inc(),
        Delivered::Recreated { previous } => {
            let previous = temporal::clock_state(previous);
            metrics::SLA_RUNS_RECREATED
                .with_label_values(&[previous])
                .inc();
            tracing::warn!(
                previous,
                "SLA clock run had ended without finishing; re-created"
            );
        }
    }
    tracing::debug!(?outcome, "workflow command delivered");
    Ok(())
}
