//! What an automation's `notifications.send_email` and `notifications.notify_in_app` actions
//! do: an `automation.message` event for one user of the tenant, which the notification
//! pipeline delivers like any other (the user's preferences, the tenant's pacing, the
//! subtype's template); and `notifications.send_contact_email`, an
//! `automation.contact_message` e-mailed to one of the tenant's client contacts. Keyed by the
//! action's idempotency key, so a retried attempt sends once.

use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::outbox;
use crate::principal::Principal;
use psa_domain::auth::Permission;
use psa_domain::events::{AutomationContactMessage, AutomationMessage, Event};
use psa_domain::validation::{self, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Longest subject and body accepted.
pub const SUBJECT_MAX: usize = 200;
pub const BODY_MAX: usize = 20_000;

/// A message sent: the event that carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sent {
    pub notification_id: Uuid,
}

/// Sends `message` (its `channel` `email` or `in_app`) to its user, once per `key`.
pub async fn send(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    message: AutomationMessage,
) -> Result<Sent, StoreError> {
    p.require(Permission::ReadAutomations)?;
    check_text(&message.subject, &message.body)?;
    let request = serde_json::to_value(&message).map_err(StoreError::internal)?;
    send_once(pool, p, key, request, Event::AutomationMessage(message)).await
}

/// Sends `message` to its contact by e-mail, once per `key`. The contact must be the tenant's
/// and have an address: a message nobody can receive is refused, not silently dropped.
pub async fn send_to_contact(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    message: AutomationContactMessage,
) -> Result<Sent, StoreError> {
    p.require(Permission::ReadAutomations)?;
    check_text(&message.subject, &message.body)?;
    let request = serde_json::to_value(&message).map_err(StoreError::internal)?;
    send_once(
        pool,
        p,
        key,
        request,
        Event::AutomationContactMessage(message),
    )
    .await
}

/// Raises `event` once per `key` (`request` is what the key is checked against), after
/// checking that its addressee is there to receive it.
async fn send_once(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    request: serde_json::Value,
    event: Event,
) -> Result<Sent, StoreError> {
    let principal = p.clone();
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            addressable(conn, &event).await?;
            let envelope = outbox::enqueue(conn, &principal, event).await?;
            Ok(Sent {
                notification_id: envelope.event_id,
            })
        })
    })
    .await
}

/// Whether the message's user is one of the MSP's, or its contact one of the tenant's with an
/// e-mail address.
async fn addressable(conn: &mut PgConnection, event: &Event) -> Result<(), StoreError> {
    match event {
        Event::AutomationMessage(m) => {
            let known = sqlx::query_scalar!(
                "SELECT count(*) AS \"n!\" FROM users WHERE id = $1 AND kind = 'internal'",
                m.user_id
            )
            .fetch_one(conn)
            .await?;
            if known == 0 {
                return Err(StoreError::invalid("user_id", "is not a user of the MSP"));
            }
        }
        Event::AutomationContactMessage(m) => {
            let email =
                sqlx::query_scalar!("SELECT email FROM contacts WHERE id = $1", m.contact_id)
                    .fetch_optional(conn)
                    .await?
                    .ok_or_else(|| StoreError::invalid("contact_id", "is not a contact"))?;
            if email.as_deref().is_none_or(|e| e.trim().is_empty()) {
                return Err(StoreError::invalid("contact_id", "has no e-mail address"));
            }
        }
        _ => {
            return Err(StoreError::Internal(anyhow::anyhow!(
                "not an automation's message"
            )));
        }
    }
    Ok(())
}

fn check_text(subject: &str, body: &str) -> Result<(), StoreError> {
    let mut e = ValidationErrors::default();
    validation::text(&mut e, "subject", subject, SUBJECT_MAX);
    if body.chars().count() > BODY_MAX {
        e.push("body", format!("must be at most {BODY_MAX} characters"));
    }
    if body.contains('\0') {
        e.push("body", "must not contain a NUL character");
    }
    crate::check(e.into_result())
}
