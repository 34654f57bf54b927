//! In-app notifications, end to end: a ticket event on the stream becomes exactly one
//! notification for the assignee, honouring tenant switches and user preferences.

use psa_activities::NotificationStore;
use psa_domain::events::Envelope;
use psa_tests::{Parts, TestEnv, eventually};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assignee_gets_one_in_app_notification_per_event() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let s = &env.a.seeded;
    let tech = env
        .a
        .key_for(&env.owner, "technician", Some(s.technician_user_id))
        .await
        .unwrap();
    env.ok(
        Method::POST,
        "/v1/tickets",
        &env.a.key,
        &json!({ "title": "Printer on fire", "assignee_id": s.technician_user_id }),
    )
    .await;

    let list: Value = eventually(Duration::from_secs(30), || async {
        let list: Value = env
            .req(Method::GET, "/v1/notifications", &tech)
            .send()
            .await?
            .json()
            .await?;
        Ok((list["items"].as_array().map_or(0, Vec::len) > 0).then_some(list))
    })
    .await
    .expect("notification arrives");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["subtype"], "ticket.created");
    assert_eq!(items[0]["title"], "[#1] Ticket created: Printer on fire");
    assert!(items[0]["read_at"].is_null());

    // The admin who created it is not the assignee: nothing for them.
    let admin: Value = env
        .ok(Method::GET, "/v1/notifications", &env.a.key, &Value::Null)
        .await;
    assert_eq!(admin["items"].as_array().unwrap().len(), 0);

    // Delivered again (an at-least-once redelivery): the store adds nothing.
    let envelope: Value =
        sqlx::query_scalar("SELECT envelope FROM outbox WHERE event_type = 'ticket.created'")
            .fetch_one(&env.owner)
            .await
            .unwrap();
    let envelope: Envelope = serde_json::from_value(envelope).unwrap();
    let app = PgPoolOptions::new()
        .connect(&env.app_database_url)
        .await
        .unwrap();
    let store = NotificationStore::new(app.clone());
    assert_eq!(store.deliver_in_app(&envelope).await.unwrap(), 0);
    assert_eq!(env.count("in_app_notifications").await, 1);
    let log: Vec<(String, String)> = sqlx::query_as("SELECT channel, status FROM notification_log")
        .fetch_all(&env.owner)
        .await
        .unwrap();
    assert_eq!(log, [("in_app".to_owned(), "sent".to_owned())]);

    // Read it; the unread filter then shows nothing.
    let id = items[0]["id"].as_str().unwrap();
    let read = env
        .ok(
            Method::POST,
            &format!("/v1/notifications/{id}/read"),
            &tech,
            &Value::Null,
        )
        .await;
    assert!(read["read_at"].is_string());
    let unread: Value = env
        .ok(
            Method::GET,
            "/v1/notifications?unread=true",
            &tech,
            &Value::Null,
        )
        .await;
    assert_eq!(unread["items"].as_array().unwrap().len(), 0);
    // Another user's notification is not found, not forbidden.
    let r = env
        .req(
            Method::POST,
            &format!("/v1/notifications/{id}/read"),
            &env.a.key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A key acting for no user has no notifications to read.
    let nobody = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    let r = env
        .req(Method::GET, "/v1/notifications", &nobody)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Switches: a disabled category silences its subtypes; so does a user's preference.
    let mut second = envelope.clone();
    second.event_id = uuid::Uuid::now_v7();
    sqlx::query("INSERT INTO tenant_notification_categories (tenant_id, category, enabled) VALUES ($1, 'tickets', false)")
        .bind(s.tenant_id)
        .execute(&env.owner)
        .await
        .unwrap();
    assert_eq!(store.deliver_in_app(&second).await.unwrap(), 0);
    sqlx::query("DELETE FROM tenant_notification_categories")
        .execute(&env.owner)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO user_notification_preferences (tenant_id, user_id, subtype_code, email, in_app)
         VALUES ($1, $2, 'ticket.created', true, false)",
    )
    .bind(s.tenant_id)
    .bind(s.technician_user_id)
    .execute(&env.owner)
    .await
    .unwrap();
    assert_eq!(store.deliver_in_app(&second).await.unwrap(), 0);
    sqlx::query("DELETE FROM user_notification_preferences")
        .execute(&env.owner)
        .await
        .unwrap();
    assert_eq!(store.deliver_in_app(&second).await.unwrap(), 1);

    // A tenant's own template is used, and its version recorded.
    sqlx::query(
        "INSERT INTO tenant_email_templates (tenant_id, subtype_code, subject, html, text, version)
         VALUES ($1, 'ticket.created', 'New: {{ticket.title}}', '<p>x</p>', 'x', 3)",
    )
    .bind(s.tenant_id)
    .execute(&env.owner)
    .await
    .unwrap();
    let mut third = envelope.clone();
    third.event_id = uuid::Uuid::now_v7();
    assert_eq!(store.deliver_in_app(&third).await.unwrap(), 1);
    let (title, source, version): (String, String, i32) = sqlx::query_as(
        "SELECT n.title, l.template_source, l.template_version FROM in_app_notifications n
         JOIN notification_log l ON l.event_id = n.event_id WHERE n.event_id = $1",
    )
    .bind(third.event_id)
    .fetch_one(&env.owner)
    .await
    .unwrap();
    assert_eq!(
        (title.as_str(), source.as_str(), version),
        ("New: Printer on fire", "tenant", 3)
    );
    app.close().await;
    env.shutdown().await;
}
