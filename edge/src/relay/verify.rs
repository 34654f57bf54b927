//! Confirms, a little after publishing, that Redis still holds each published entry: one lost
//! with data Redis never persisted (a restart inside its fsync window) is published again.

use crate::metrics;
use crate::state::AppState;
use psa_store::outbox;

/// Checks one batch of published, unconfirmed rows; returns how many Redis had lost.
pub(super) async fn run(state: &AppState) -> Result<usize, psa_store::DbError> {
    let cfg = &state.config.relay;
    let min_age = i32::try_from(cfg.verify_after.as_secs()).unwrap_or(i32::MAX);
    let rows = outbox::unverified(&state.pool, cfg.batch, min_age).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let Ok(mut redis) = state.redis().await else {
        return Ok(0);
    };
    let mut pipe = redis::pipe();
    for row in &rows {
        // A row published before entry IDs were recorded checks nothing: XRANGE of "0-0".
        let id = row.stream_entry_id.as_deref().unwrap_or("0-0");
        pipe.cmd("XRANGE")
            .arg(&state.config.events_stream)
            .arg(id)
            .arg(id);
    }
    let found: Vec<Vec<redis::Value>> = match pipe.query_async(&mut redis).await {
        Ok(f) => f,
        // Redis is away: nothing can be confirmed or denied now.
        Err(_) => return Ok(0),
    };
    let checked: Vec<(&outbox::Unverified, bool)> = rows
        .iter()
        .zip(found)
        .map(|(row, hit)| (row, row.stream_entry_id.is_none() || !hit.is_empty()))
        .collect();
    let lost = checked.iter().filter(|(_, present)| !present).count();
    for (row, _) in checked.iter().filter(|(_, present)| !present) {
        tracing::warn!(outbox_id = row.id, entry = ?row.stream_entry_id, "event missing from the stream; publishing it again");
    }
    outbox::verify(&state.pool, &checked).await?;
    metrics::OUTBOX_REPUBLISHED.inc_by(u64::try_from(lost).unwrap_or(0));
    Ok(lost)
}
