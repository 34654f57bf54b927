//! Conversions between protobuf messages and service types.

use crate::web::error::ApiError;
use chrono::{DateTime, Utc};
use prost_types::Timestamp;
use psa_protos::v1 as pb;
use psa_store::tickets::Ticket;
use psa_store::tickets::comments::Comment;
use uuid::Uuid;

/// An instant, to the millisecond like every instant the API sends (see `web::json`).
pub fn ts(t: DateTime<Utc>) -> Timestamp {
    let millis = t.timestamp_subsec_millis();
    Timestamp {
        seconds: t.timestamp(),
        // Below 1,000 ms (up to 1,999 in a leap second), so always within an i32.
        nanos: i32::try_from(millis * 1_000_000).unwrap_or(0),
    }
}

/// A required ID field.
pub fn id(field: &str, value: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(value).map_err(|_| ApiError::invalid(field, "must be a UUID"))
}

/// An optional ID field; empty counts as absent.
pub fn opt_id(field: &str, value: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    match value {
        None | Some("") => Ok(None),
        Some(v) => id(field, v).map(Some),
    }
}

/// A resource named in the request path equivalent: malformed means "no such thing".
pub fn target(value: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(value).map_err(|_| ApiError::NotFound)
}

/// A required instant.
pub fn instant(field: &str, t: Option<Timestamp>) -> Result<DateTime<Utc>, ApiError> {
    let t = t.ok_or_else(|| ApiError::invalid(field, "is required"))?;
    let nanos =
        u32::try_from(t.nanos).map_err(|_| ApiError::invalid(field, "is not a valid instant"))?;
    DateTime::from_timestamp(t.seconds, nanos)
        .ok_or_else(|| ApiError::invalid(field, "is not a valid instant"))
}

/// A patch field JSON could send as `null`: `Some(None)` when the request's `clear` names it.
pub fn nullable<T>(
    field: &str,
    value: Option<T>,
    clear: &[String],
) -> Result<Option<Option<T>>, ApiError> {
    match (value, clear.iter().any(|c| c == field)) {
        (Some(_), true) => Err(ApiError::invalid(field, "is both set and cleared")),
        (Some(v), false) => Ok(Some(Some(v))),
        (None, true) => Ok(Some(None)),
        (None, false) => Ok(None),
    }
}

pub fn ticket(t: Ticket) -> pb::Ticket {
    pb::Ticket {
        id: t.id.to_string(),
        number: t.number,
        title: t.title,
        description: t.description,
        client_id: t.client_id.map(|u| u.to_string()),
        contact_id: t.contact_id.map(|u| u.to_string()),
        board_id: t.board_id.to_string(),
        priority_id: t.priority_id.to_string(),
        status_id: t.status_id.to_string(),
        assignee_id: t.assignee_id.map(|u| u.to_string()),
        created_at: Some(ts(t.created_at)),
        updated_at: Some(ts(t.updated_at)),
        closed_at: t.closed_at.map(ts),
        awaiting_client: t.awaiting_client,
    }
}

pub fn comment(c: Comment) -> pb::Comment {
    pb::Comment {
        id: c.id.to_string(),
        ticket_id: c.ticket_id.to_string(),
        author_user_id: c.author_user_id.map(|u| u.to_string()),
        author_kind: c.author_kind,
        is_internal: c.is_internal,
        body: c.body,
        created_at: Some(ts(c.created_at)),
    }
}
