//! Ticket actions: each a call of the API's own store function, answering the ticket as the
//! catalogue shapes it (its status by name, its first reply).

use super::{Failure, Input, refused};
use chrono::{DateTime, Utc};
use psa_store::automations::action_reads::{self, TicketQuery};
use psa_store::tickets::comments::{self, NewComment};
use psa_store::tickets::{self, NewTicket, TicketPatch};
use psa_store::{PgPool, Principal};
use serde_json::{Value as Json, json};
use uuid::Uuid;

async fn answer(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Json, Failure> {
    Ok(action_reads::ticket(pool, p, id).await?)
}

pub(super) async fn create(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: &Input<'_>,
) -> Result<Json, Failure> {
    let new = NewTicket {
        title: input.required_string("title")?.to_owned(),
        description: input.string("description")?.map(str::to_owned),
        client_id: input.uuid("client_id")?,
        board_id: input.uuid("board_id")?,
        priority_id: input.uuid("priority_id")?,
        assignee_id: input.uuid("assignee_id")?,
        ..NewTicket::default()
    };
    let ticket = tickets::create(pool, p, key, new).await?;
    answer(pool, p, ticket.id).await
}

pub(super) async fn update(
    pool: &PgPool,
    p: &Principal,
    input: &Input<'_>,
) -> Result<Json, Failure> {
    let id = input.required_uuid("ticket_id")?;
    let patch = TicketPatch {
        title: input.string("title")?.map(str::to_owned),
        priority_id: input.uuid("priority_id")?,
        board_id: input.uuid("board_id")?,
        client_id: input.uuid("client_id")?,
        ..TicketPatch::default()
    };
    tickets::update(pool, p, id, patch).await?;
    answer(pool, p, id).await
}

pub(super) async fn change_status(
    pool: &PgPool,
    p: &Principal,
    input: &Input<'_>,
) -> Result<Json, Failure> {
    let id = input.required_uuid("ticket_id")?;
    let status = action_reads::status_named(pool, p, input.required_string("status")?).await?;
    tickets::change_status(pool, p, id, status).await?;
    answer(pool, p, id).await
}

pub(super) async fn assign(
    pool: &PgPool,
    p: &Principal,
    input: &Input<'_>,
) -> Result<Json, Failure> {
    let id = input.required_uuid("ticket_id")?;
    let user = input.required_uuid("user_id")?;
    tickets::assign(pool, p, id, Some(user)).await?;
    answer(pool, p, id).await
}

pub(super) async fn close(
    pool: &PgPool,
    p: &Principal,
    input: &Input<'_>,
) -> Result<Json, Failure> {
    let id = input.required_uuid("ticket_id")?;
    tickets::close(pool, p, id, None).await?;
    answer(pool, p, id).await
}

pub(super) async fn add_comment(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: &Input<'_>,
) -> Result<Json, Failure> {
    let id = input.required_uuid("ticket_id")?;
    let comment = NewComment {
        body: input.required_string("body")?.to_owned(),
        is_internal: !input.bool("is_public")?.unwrap_or(false),
    };
    let added = comments::add(pool, p, key, id, comment).await?;
    Ok(json!({ "comment_id": added.id }))
}

pub(super) async fn find(pool: &PgPool, p: &Principal, input: &Input<'_>) -> Result<Json, Failure> {
    let updated_before = input
        .string("updated_before")?
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| refused("updated_before", "must be an RFC 3339 instant"))
        })
        .transpose()?;
    let limit = input.integer("limit")?.unwrap_or(100);
    if !(1..=action_reads::MAX_FOUND).contains(&limit) {
        return Err(refused("limit", "must be between 1 and 1000"));
    }
    let query = TicketQuery {
        ticket_id: input.uuid("ticket_id")?,
        status: input.string("status")?.map(str::to_owned),
        client_id: input.uuid("client_id")?,
        assignee_id: input.uuid("assignee_id")?,
        updated_before,
        limit,
    };
    Ok(action_reads::find_tickets(pool, p, &query).await?)
}
