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
use sqlx::PgPool;
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
    let principal = p.clone();
    let request = serde_json::to_value(&message).map_err(StoreError::internal)?;
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            let known = sqlx::query_scalar!(
                "SELECT count(*) AS \"n!\" FROM users WHERE id = $1 AND kind = 'internal'",
                message.user_id
            )
            .fetch_one(&mut *conn)
            .await?;
            if known == 0 {
                return Err(StoreError::invalid("user_id", "is not a user of the MSP"));
            }
            let envelope =
                outbox::enqueue(conn, &principal, Event::AutomationMessage(message)).await?;
            Ok(Sent {
                notification_id: envelope.event_id,
            })
        })
    })
    .await
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
    let principal = p.clone();
    let request = serde_json::to_value(&message).map_err(StoreError::internal)?;
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            let email = sqlx::query_scalar!(
                "SELECT email FROM contacts WHERE id = $1",
                message.contact_id
            )
            .fetch_optional(&mut *conn)
            .await?;
            match email {
                None => return Err(StoreError::invalid("contact_id", "is not a contact")),
                Some(email) if email.as_deref().is_none_or(|e| e.trim().is_empty()) => {
                    return Err(StoreError::invalid("contact_id", "has no e-mail address"));
                }
                Some(_) => {}
            }
            let envelope =
                outbox::enqueue(conn, &principal, Event::AutomationContactMessage(message)).await?;
            Ok(Sent {
                notification_id: envelope.event_id,
            })
        })
    })
    .await
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
