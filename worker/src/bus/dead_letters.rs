//! The dead-letter stream: entries a handler gave up on, kept with everything needed to
//! understand and replay them.

use chrono::{DateTime, Utc};
use psa_domain::events::stream;
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamId, StreamRangeReply};
use redis::{Pipeline, RedisResult};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    /// The dead letter's own stream ID (empty before it is written).
    pub id: String,
    /// The handler (subscriber) that gave up.
    pub handler: String,
    pub event_id: String,
    /// The original envelope, byte for byte.
    pub envelope: String,
    pub source_stream: String,
    pub source_id: String,
    pub deliveries: u32,
    pub last_error: String,
    pub dead_lettered_at: DateTime<Utc>,
}

/// Adds the XADD of `d` to `pipe`.
pub(super) fn append(pipe: &mut Pipeline, dead_letter_stream: &str, d: &DeadLetter) {
    pipe.cmd("XADD")
        .arg(dead_letter_stream)
        .arg("*")
        .arg("handler")
        .arg(&d.handler)
        .arg(stream::FIELD_EVENT_ID)
        .arg(&d.event_id)
        .arg(stream::FIELD_ENVELOPE)
        .arg(&d.envelope)
        .arg("source_stream")
        .arg(&d.source_stream)
        .arg("source_id")
        .arg(&d.source_id)
        .arg("deliveries")
        .arg(d.deliveries)
        .arg("last_error")
        .arg(&d.last_error)
        .arg("dead_lettered_at")
        .arg(d.dead_lettered_at.to_rfc3339())
        .ignore();
}

fn parse(entry: &StreamId) -> DeadLetter {
    let text = |k: &str| entry.get::<String>(k).unwrap_or_default();
    DeadLetter {
        id: entry.id.clone(),
        handler: text("handler"),
        event_id: text(stream::FIELD_EVENT_ID),
        envelope: text(stream::FIELD_ENVELOPE),
        source_stream: text("source_stream"),
        source_id: text("source_id"),
        deliveries: entry.get("deliveries").unwrap_or_default(),
        last_error: text("last_error"),
        dead_lettered_at: DateTime::parse_from_rfc3339(&text("dead_lettered_at"))
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default(),
    }
}

/// The oldest `count` dead letters.
pub async fn list(
    conn: &mut MultiplexedConnection,
    dead_letter_stream: &str,
    count: usize,
) -> RedisResult<Vec<DeadLetter>> {
    let reply: StreamRangeReply = redis::cmd("XRANGE")
        .arg(dead_letter_stream)
        .arg("-")
        .arg("+")
        .arg("COUNT")
        .arg(count)
        .query_async(conn)
        .await?;
    Ok(reply.ids.iter().map(parse).collect())
}

/// `<ms>-<seq>`, the only ID shape XRANGE accepts.
fn is_stream_id(id: &str) -> bool {
    id.split_once('-').is_some_and(|(ms, seq)| {
        !ms.is_empty()
            && !seq.is_empty()
            && (ms.to_owned() + seq).bytes().all(|b| b.is_ascii_digit())
    })
}

/// One dead letter by its ID.
pub async fn get(
    conn: &mut MultiplexedConnection,
    dead_letter_stream: &str,
    id: &str,
) -> RedisResult<Option<DeadLetter>> {
    if !is_stream_id(id) {
        return Ok(None);
    }
    let reply: StreamRangeReply = redis::cmd("XRANGE")
        .arg(dead_letter_stream)
        .arg(id)
        .arg(id)
        .query_async(conn)
        .await?;
    Ok(reply.ids.first().map(parse))
}

/// Puts the original envelope back on its source stream and removes the dead letter, in one
/// transaction. Every subscriber sees the entry again; those that already handled the event
/// skip it on their success record, so only the handler that gave up runs again.
/// Returns the new entry's ID, or `None` when no such dead letter exists.
pub async fn replay(
    conn: &mut MultiplexedConnection,
    dead_letter_stream: &str,
    id: &str,
) -> RedisResult<Option<String>> {
    let Some(d) = get(conn, dead_letter_stream, id).await? else {
        return Ok(None);
    };
    let (new_id,): (String,) = redis::pipe()
        .atomic()
        .cmd("XADD")
        .arg(&d.source_stream)
        .arg("*")
        .arg(stream::FIELD_EVENT_ID)
        .arg(&d.event_id)
        .arg(stream::FIELD_ENVELOPE)
        .arg(&d.envelope)
        .cmd("XDEL")
        .arg(dead_letter_stream)
        .arg(&d.id)
        .ignore()
        .query_async(conn)
        .await?;
    Ok(Some(new_id))
}

#[cfg(test)]
mod tests {
    #[test]
    fn stream_id_shape() {
        for good in ["0-0", "1795591010253-12"] {
            assert!(super::is_stream_id(good), "{good}");
        }
        for bad in ["", "nope", "1-", "-1", "1-2-3", "a-1"] {
            assert!(!super::is_stream_id(bad), "{bad}");
        }
    }
}
