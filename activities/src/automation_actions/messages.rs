//! `notifications.send_email` and `notifications.notify_in_app`: a message to one user;
//! `notifications.send_contact_email`: an e-mail to one client contact. Both through the
//! notification pipeline (`psa_store::automations::messages`).

use super::{Failure, Input};
use psa_domain::events::{AutomationContactMessage, AutomationMessage};
use psa_store::automations::messages;
use psa_store::{PgPool, Principal};
use serde_json::{Value as Json, json};
use uuid::Uuid;

/// Sends the input's message on `channel` (`email` or `in_app`).
pub(super) async fn send(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    automation_id: Uuid,
    input: &Input<'_>,
    channel: &str,
) -> Result<Json, Failure> {
    // The e-mail action names its text `body` and its subject `subject`; the in-app one its
    // subject `title`.
    let subject = match channel {
        "in_app" => input.required_string("title")?,
        _ => input
            .string("subject")?
            .unwrap_or("Message from an automation"),
    };
    let body = match channel {
        "in_app" => input.string("body")?.unwrap_or(""),
        _ => input.required_string("body")?,
    };
    let message = AutomationMessage {
        automation_id,
        user_id: input.required_uuid("user_id")?,
        subject: subject.to_owned(),
        body: body.to_owned(),
        channel: channel.to_owned(),
    };
    let sent = messages::send(pool, p, key, message).await?;
    Ok(json!({ "notification_id": sent.notification_id }))
}

/// E-mails the input's message to a client's contact.
pub(super) async fn send_to_contact(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    automation_id: Uuid,
    input: &Input<'_>,
) -> Result<Json, Failure> {
    let message = AutomationContactMessage {
        automation_id,
        contact_id: input.required_uuid("contact_id")?,
        subject: input
            .string("subject")?
            .unwrap_or("Message from your IT provider")
            .to_owned(),
        body: input.required_string("body")?.to_owned(),
    };
    let sent = messages::send_to_contact(pool, p, key, message).await?;
    Ok(json!({ "notification_id": sent.notification_id }))
}
