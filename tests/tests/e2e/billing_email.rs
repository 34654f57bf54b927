//! Billing e-mail end to end: finalizing an invoice, recording a payment, an over-payment's
//! credit and the upkeep's overdue reminder each reach the client's billing contact once, by
//! the real relay, event bus, e-mail workflow and SMTP sink, with the invoice in the message;
//! a tenant's own template replaces the standard one; no billing contact, no e-mail.

use crate::mail::{handled, last_event, mail_for};
use chrono::NaiveDate;
use psa_domain::events::Envelope;
use psa_store::notifications::delivery::NotificationStore;
use psa_tests::{Parts, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

async fn finalized_invoice(env: &TestEnv, key: &str, client: Uuid, price: &str) -> Value {
    let draft = env
        .ok(
            Method::POST,
            "/v1/invoices",
            key,
            &json!({"client_id": client, "currency": "USD", "invoice_date": "2026-03-01",
                    "items": [{"description": "Server rebuild", "quantity": "2", "unit_price": price}]}),
        )
        .await;
    let id = draft["id"].as_str().unwrap();
    env.ok(
        Method::POST,
        &format!("/v1/invoices/{id}/finalize"),
        key,
        &json!({}),
    )
    .await
}

/// How many e-mails the log holds for `event`, once the notifications subscriber handled it.
async fn emails_logged(env: &TestEnv, event: Uuid) -> i64 {
    handled(env, event).await;
    sqlx::query_scalar("SELECT count(*) FROM notification_log WHERE event_id = $1")
        .bind(event)
        .fetch_one(&env.owner)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_billing_contact_gets_each_billing_message_once_with_the_invoice() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let key = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let admin = &env.a.key;
    let client = env.a.seeded.client_id;
    let client_name = env
        .ok(
            Method::GET,
            &format!("/v1/clients/{client}"),
            &key,
            &Value::Null,
        )
        .await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let contact = env
        .ok(
            Method::POST,
            "/v1/contacts",
            admin,
            &json!({"client_id": client, "name": "Accounts Payable", "email": "ap@client.example"}),
        )
        .await;
    let contact: Uuid = contact["id"].as_str().unwrap().parse().unwrap();

    // The billing contact must be one of the client's own contacts.
    let other = env
        .ok(
            Method::POST,
            "/v1/clients",
            admin,
            &json!({"name": "Other Co"}),
        )
        .await;
    let stranger = env
        .ok(
            Method::POST,
            "/v1/contacts",
            admin,
            &json!({"client_id": other["id"], "name": "Not theirs", "email": "x@other.example"}),
        )
        .await;
    let r = env
        .req(Method::PATCH, &format!("/v1/clients/{client}"), admin)
        .json(&json!({"billing_contact_id": stranger["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(
        problem["errors"][0]["field"], "billing_contact_id",
        "{problem}"
    );

    // No billing contact yet: a finalized invoice e-mails nobody and fails nothing.
    let first = finalized_invoice(&env, &key, client, "10.00").await;
    let silent = last_event(&env, "invoice.finalized").await;
    assert_eq!(emails_logged(&env, silent).await, 0);
    let first = first["id"].as_str().unwrap();
    env.ok(
        Method::POST,
        &format!("/v1/invoices/{first}/void"),
        &key,
        &json!({}),
    )
    .await;

    let patched = env
        .ok(
            Method::PATCH,
            &format!("/v1/clients/{client}"),
            admin,
            &json!({"billing_contact_id": contact}),
        )
        .await;
    assert_eq!(patched["billing_contact_id"], json!(contact));
    assert_eq!(patched["name"], client_name.as_str(), "the rest stays");

    // Finalized: the invoice, item by item.
    let inv = finalized_invoice(&env, &key, client, "148.25").await;
    assert_eq!(inv["number"], "INV-00002");
    let finalized = last_event(&env, "invoice.finalized").await;
    let mail = mail_for(&env, finalized, contact, "invoice.finalized").await;
    assert!(
        mail.contains("Subject: Invoice INV-00002: 296.50 USD due 2026-03-31"),
        "{mail}"
    );
    assert!(mail.contains("To: ap@client.example"), "{mail}");
    assert!(mail.contains(&format!("Dear {client_name}")), "{mail}");
    assert!(mail.contains("- Server rebuild: 296.50"), "{mail}");
    assert!(
        mail.contains("Amount due 296.50 USD by 2026-03-31"),
        "{mail}"
    );

    // The same event planned again (a redelivery) sends nothing more.
    let envelope: Value = sqlx::query_scalar("SELECT envelope FROM outbox WHERE event_id = $1")
        .bind(finalized)
        .fetch_one(&env.owner)
        .await
        .unwrap();
    let envelope: Envelope = serde_json::from_value(envelope).unwrap();
    let app = PgPoolOptions::new()
        .connect(&env.app_database_url)
        .await
        .unwrap();
    let store = NotificationStore::new(app.clone());
    assert!(store.plan_emails(&envelope).await.unwrap().is_empty());
    assert_eq!(emails_logged(&env, finalized).await, 1);

    // A payment, then an over-payment whose excess becomes a credit.
    let id = inv["id"].as_str().unwrap();
    let pay = |amount: &str| {
        json!({"client_id": client, "invoice_id": id, "amount": amount, "currency": "USD",
               "received_on": "2026-03-10", "method": "bank_transfer"})
    };
    env.ok(Method::POST, "/v1/payments", &key, &pay("100.00"))
        .await;
    let paid = last_event(&env, "payment.recorded").await;
    let mail = mail_for(&env, paid, contact, "payment.recorded").await;
    assert!(
        mail.contains("Subject: Payment received: 100.00 USD"),
        "{mail}"
    );
    assert!(
        mail.contains("for invoice INV-00002, on which 196.50 USD is now open"),
        "{mail}"
    );
    env.ok(Method::POST, "/v1/payments", &key, &pay("200.00"))
        .await;
    let credited = last_event(&env, "credit.issued").await;
    let mail = mail_for(&env, credited, contact, "credit.issued").await;
    assert!(
        mail.contains("Subject: Credit of 3.50 USD on your account"),
        "{mail}"
    );

    // The tenant's own template replaces the standard one.
    env.ok(
        Method::PUT,
        "/v1/notification-templates/invoice.finalized",
        admin,
        &json!({"subject": "Your bill {{invoice.number}} for {{client.name}}",
                "html": "<p>{{invoice.total}}</p>", "text": "Total {{invoice.total}}"}),
    )
    .await;
    let third = finalized_invoice(&env, &key, client, "50.00").await;
    // The over-payment's credit paid part of it.
    assert_eq!(third["credits_applied"], "3.50");
    let custom = last_event(&env, "invoice.finalized").await;
    let mail = mail_for(&env, custom, contact, "tenant template").await;
    assert!(
        mail.contains(&format!("Subject: Your bill INV-00003 for {client_name}")),
        "{mail}"
    );
    assert!(mail.contains("Total 100.00"), "{mail}");

    // The day's upkeep finds the third invoice unpaid past its due date: a reminder.
    let outcome = psa_store::billing::upkeep::run(
        &app,
        env.a.seeded.tenant_id,
        NaiveDate::from_ymd_opt(2026, 4, 2).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.invoices_overdue, 1, "one void, one paid in full");
    let overdue = last_event(&env, "invoice.overdue").await;
    let mail = mail_for(&env, overdue, contact, "invoice.overdue").await;
    assert!(
        mail.contains("Subject: Reminder: invoice INV-00003 was due 2026-03-31"),
        "{mail}"
    );
    assert!(mail.contains("96.50 USD of its 100.00 USD"), "{mail}");

    // No billing contact any more: nothing is e-mailed.
    let cleared = env
        .ok(
            Method::PATCH,
            &format!("/v1/clients/{client}"),
            admin,
            &json!({"billing_contact_id": null}),
        )
        .await;
    assert_eq!(cleared["billing_contact_id"], Value::Null);
    env.ok(
        Method::POST,
        "/v1/payments",
        &key,
        &json!({"client_id": client, "amount": "5.00", "currency": "USD",
                "received_on": "2026-04-03", "method": "cash"}),
    )
    .await;
    let unaddressed = last_event(&env, "payment.recorded").await;
    assert_ne!(unaddressed, paid);
    assert_eq!(emails_logged(&env, unaddressed).await, 0);

    env.shutdown().await;
}
