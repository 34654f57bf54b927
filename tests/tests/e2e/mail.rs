//! Helpers for tests that follow an event to the e-mail it causes: the newest event of a type
//! in the outbox, when the notifications subscriber has handled it, and the one message the
//! SMTP sink received for (event, recipient).

use psa_tests::{TestEnv, eventually};
use std::time::Duration;
use uuid::Uuid;

/// Messages the SMTP sink received whose Message-ID is `message_id`, with quoted-printable
/// soft line breaks undone.
pub fn received(env: &TestEnv, message_id: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(env.services.maildir.join("new")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .filter(|m| {
            m.lines().any(|l| {
                l.to_ascii_lowercase().starts_with("message-id:") && l.contains(message_id)
            })
        })
        .map(|m| m.replace("=\r\n", "").replace("=\n", ""))
        .collect()
}

/// The newest event of `event_type` in the outbox.
pub async fn last_event(env: &TestEnv, event_type: &str) -> Uuid {
    sqlx::query_scalar("SELECT event_id FROM outbox WHERE event_type = $1 ORDER BY id DESC LIMIT 1")
        .bind(event_type)
        .fetch_one(&env.owner)
        .await
        .unwrap()
}

/// Waits up to 30 s for the one e-mail of `event` to `user`.
pub async fn mail_for(env: &TestEnv, event: Uuid, user: Uuid, what: &str) -> String {
    let message_id = format!("<{event}.{user}@psa>");
    let mut mail = eventually(Duration::from_secs(30), || async {
        let got = received(env, &message_id);
        Ok((!got.is_empty()).then_some(got))
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: no e-mail {message_id} at the SMTP sink"));
    assert_eq!(mail.len(), 1, "{what}");
    mail.remove(0)
}

/// Waits until the notifications subscriber has handled `event`.
pub async fn handled(env: &TestEnv, event: Uuid) {
    let redis = env.redis().await;
    eventually(Duration::from_secs(30), || {
        let mut redis = redis.clone();
        async move {
            let done: bool = redis::cmd("EXISTS")
                .arg(format!("psa:handled:notifications:{event}"))
                .query_async(&mut redis)
                .await?;
            Ok(done.then_some(()))
        }
    })
    .await
    .expect("the event is handled");
}
