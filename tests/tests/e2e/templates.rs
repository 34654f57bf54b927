//! Notification templates over the API: every shipped default renders, a tenant clones and
//! edits its own, and a template that would not render is refused with the part and reason.

use psa_tests::{Parts, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_are_checked_before_they_are_saved() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = &env.a.key;

    let all: Value = env
        .ok(Method::GET, "/v1/notification-templates", key, &Value::Null)
        .await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), psa_domain::notifications::SUBTYPES.len());
    for t in all {
        assert_eq!(t["source"], "system");
        let subtype = t["subtype"].as_str().unwrap();
        // Every shipped default renders against its subtype's sample event.
        let r = env
            .req(
                Method::POST,
                &format!("/v1/notification-templates/{subtype}/preview"),
                key,
            )
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "{subtype}: {}",
            r.text().await.unwrap()
        );
    }

    let put = |body: Value| {
        env.req(
            Method::PUT,
            "/v1/notification-templates/ticket.assigned",
            key,
        )
        .json(&body)
        .send()
    };
    // A syntax error, and a field the event lacks: refused, naming the part.
    for (body, part) in [
        (
            json!({ "subject": "{{#if ticket.title}}open", "html": "<p/>", "text": "t" }),
            "subject",
        ),
        (
            json!({ "subject": "s", "html": "<p>{{ticket.colour}}</p>", "text": "t" }),
            "html",
        ),
        (
            json!({ "subject": "", "html": "<p/>", "text": "t" }),
            "subject",
        ),
    ] {
        let r = put(body).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], part, "{problem}");
    }
    let unchanged: Value = env
        .ok(
            Method::GET,
            "/v1/notification-templates/ticket.assigned",
            key,
            &Value::Null,
        )
        .await;
    assert_eq!(unchanged["source"], "system");
    assert_eq!(env.count("tenant_email_templates").await, 0);

    // Only admins edit.
    let tech = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    let r = env
        .req(
            Method::POST,
            "/v1/notification-templates/ticket.assigned/clone",
            &tech,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Clone, edit, preview.
    let cloned = env
        .ok(
            Method::POST,
            "/v1/notification-templates/ticket.assigned/clone",
            key,
            &Value::Null,
        )
        .await;
    assert_eq!(
        (cloned["source"].as_str(), cloned["version"].as_i64()),
        (Some("tenant"), Some(1))
    );
    let saved: Value = put(json!({
        "subject": "Yours now: #{{ticket.number}}",
        "html": "<p>{{ticket.title}}</p>",
        "text": "{{ticket.title}}"
    }))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(saved["version"], 2);
    let preview = env
        .ok(
            Method::POST,
            "/v1/notification-templates/ticket.assigned/preview",
            key,
            &json!({}),
        )
        .await;
    assert_eq!(preview["subject"], "Yours now: #1042");
    // Tenant B still has the default.
    let b: Value = env
        .ok(
            Method::GET,
            "/v1/notification-templates/ticket.assigned",
            &env.b.key,
            &Value::Null,
        )
        .await;
    assert_eq!(b["source"], "system");

    let r = env
        .req(
            Method::GET,
            "/v1/notification-templates/ticket.exploded",
            key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    env.shutdown().await;
}
