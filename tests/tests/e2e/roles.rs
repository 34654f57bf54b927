//! Roles decide what a key may do. The role matrix is data: which permission each documented
//! operation requires (the one map below), crossed with the one authorisation table
//! (`psa_domain::auth::Role::allows`), checked live for every role on every operation. What the
//! matrix cannot see is checked by hand after it: a client-portal key sees only its own
//! client's tickets, never internal notes, and may not set staff-only fields.

use crate::coverage_fixtures::{Api, Caller, admin, call, client_user};
use psa_domain::auth::{Permission, Role};
use psa_tests::{Parts, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// What an operation checks before anything else.
#[derive(Debug, Clone, Copy)]
enum Needs {
    /// `Principal::require(permission)`.
    Permission(Permission),
    /// `Principal::user()`: any role, but the key must act for a user.
    User,
    /// No key at all (probes, metrics, the document).
    Nothing,
}

impl Needs {
    fn allows(self, caller: &Caller) -> bool {
        match self {
            Needs::Permission(p) => caller.role.allows(p),
            Needs::User => caller.user.is_some(),
            Needs::Nothing => true,
        }
    }
}

/// Every documented operation and what it requires first: the `Principal::require` (or
/// `Principal::user`) call its function in `store/` makes before anything else. The matrix test fails on an operation missing here, and on an entry no
/// longer documented.
const NEEDS: &[(&str, &str, Needs)] = {
    use Needs::{Nothing, User};
    use Permission::*;
    const fn p(x: Permission) -> Needs {
        Needs::Permission(x)
    }
    &[
        ("GET", "/healthz", Nothing),
        ("GET", "/readyz", Nothing),
        ("GET", "/metrics", Nothing),
        ("GET", "/openapi.json", Nothing),
        ("GET", "/v1/clients", p(ReadReference)),
        ("POST", "/v1/clients", p(WriteClients)),
        ("GET", "/v1/clients/{id}", p(ReadReference)),
        ("PATCH", "/v1/clients/{id}", p(WriteClients)),
        ("PUT", "/v1/clients/{id}/sla", p(ManageSla)),
        ("GET", "/v1/contacts", p(ReadReference)),
        ("POST", "/v1/contacts", p(WriteClients)),
        ("GET", "/v1/contacts/{id}", p(ReadReference)),
        ("PATCH", "/v1/contacts/{id}", p(WriteClients)),
        ("GET", "/v1/boards", p(ReadReference)),
        ("POST", "/v1/boards", p(WriteReference)),
        ("GET", "/v1/boards/{id}", p(ReadReference)),
        ("PATCH", "/v1/boards/{id}", p(WriteReference)),
        ("GET", "/v1/boards/{id}/sla", p(ReadSla)),
        ("PUT", "/v1/boards/{id}/sla", p(ManageSla)),
        ("GET", "/v1/priorities", p(ReadReference)),
        ("POST", "/v1/priorities", p(WriteReference)),
        ("GET", "/v1/priorities/{id}", p(ReadReference)),
        ("PATCH", "/v1/priorities/{id}", p(WriteReference)),
        ("GET", "/v1/statuses", p(ReadReference)),
        ("POST", "/v1/statuses", p(WriteReference)),
        ("GET", "/v1/statuses/{id}", p(ReadReference)),
        ("PATCH", "/v1/statuses/{id}", p(WriteReference)),
        ("GET", "/v1/users", p(ReadReference)),
        ("GET", "/v1/notifications", User),
        ("POST", "/v1/notifications/{id}/read", User),
        ("GET", "/v1/notification-settings", p(ReadReference)),
        ("PATCH", "/v1/notification-settings", p(ManageNotifications)),
        (
            "PUT",
            "/v1/notification-settings/categories/{category}",
            p(ManageNotifications),
        ),
        (
            "PUT",
            "/v1/notification-settings/subtypes/{code}",
            p(ManageNotifications),
        ),
        ("GET", "/v1/me/notification-preferences", User),
        ("PUT", "/v1/me/notification-preferences/{subtype}", User),
        ("GET", "/v1/notification-templates", p(ReadReference)),
        (
            "GET",
            "/v1/notification-templates/{subtype}",
            p(ReadReference),
        ),
        (
            "PUT",
            "/v1/notification-templates/{subtype}",
            p(ManageNotifications),
        ),
        (
            "POST",
            "/v1/notification-templates/{subtype}/clone",
            p(ManageNotifications),
        ),
        (
            "POST",
            "/v1/notification-templates/{subtype}/preview",
            p(ReadReference),
        ),
        ("POST", "/v1/sla/preview", p(ReadSla)),
        ("POST", "/v1/schedules/preview", p(ReadSchedule)),
        ("GET", "/v1/automation-actions", p(ReadAutomations)),
        ("GET", "/v1/automation-settings", p(ReadAutomations)),
        ("PATCH", "/v1/automation-settings", p(PublishAutomations)),
        ("POST", "/v1/automations/dry-run", p(ReadAutomations)),
        ("GET", "/v1/automations", p(ReadAutomations)),
        ("POST", "/v1/automations", p(PublishAutomations)),
        ("GET", "/v1/automations/{id}", p(ReadAutomations)),
        ("PATCH", "/v1/automations/{id}", p(PublishAutomations)),
        ("POST", "/v1/automations/{id}/enable", p(PublishAutomations)),
        (
            "POST",
            "/v1/automations/{id}/disable",
            p(PublishAutomations),
        ),
        ("GET", "/v1/automations/{id}/diff", p(ReadAutomations)),
        ("GET", "/v1/automations/{id}/versions", p(ReadAutomations)),
        (
            "POST",
            "/v1/automations/{id}/versions",
            p(PublishAutomations),
        ),
        ("GET", "/v1/automation-versions/{id}", p(ReadAutomations)),
        ("GET", "/v1/automations/{id}/runs", p(ReadAutomations)),
        ("POST", "/v1/automations/{id}/runs", p(PublishAutomations)),
        ("GET", "/v1/automation-runs/{id}", p(ReadAutomations)),
        (
            "POST",
            "/v1/automation-runs/{id}/cancel",
            p(PublishAutomations),
        ),
        (
            "POST",
            "/v1/automation-runs/{id}/retry",
            p(PublishAutomations),
        ),
        (
            "POST",
            "/v1/automation-versions/{id}/rollback",
            p(PublishAutomations),
        ),
        ("GET", "/v1/schedule-entries", p(ReadSchedule)),
        ("POST", "/v1/schedule-entries", p(WriteSchedule)),
        ("GET", "/v1/schedule-entries/{id}", p(ReadSchedule)),
        ("PATCH", "/v1/schedule-entries/{id}", p(WriteSchedule)),
        ("DELETE", "/v1/schedule-entries/{id}", p(WriteSchedule)),
        ("PATCH", "/v1/schedule-occurrences/{id}", p(WriteSchedule)),
        ("DELETE", "/v1/schedule-occurrences/{id}", p(WriteSchedule)),
        ("GET", "/v1/sla/compliance", p(ReadSla)),
        ("GET", "/v1/sla/schedules", p(ReadSla)),
        ("POST", "/v1/sla/schedules", p(ManageSla)),
        ("GET", "/v1/sla/schedules/{id}", p(ReadSla)),
        ("PUT", "/v1/sla/schedules/{id}", p(ManageSla)),
        ("DELETE", "/v1/sla/schedules/{id}", p(ManageSla)),
        ("GET", "/v1/sla/holidays", p(ReadSla)),
        ("POST", "/v1/sla/holidays", p(ManageSla)),
        ("DELETE", "/v1/sla/holidays/{id}", p(ManageSla)),
        ("GET", "/v1/sla/policies", p(ReadSla)),
        ("POST", "/v1/invoices/preview", p(ManageBilling)),
        ("POST", "/v1/payments", p(ManageBilling)),
        ("GET", "/v1/payments", p(ManageBilling)),
        ("GET", "/v1/payments/{id}", p(ManageBilling)),
        ("POST", "/v1/payments/{id}/refunds", p(ManageBilling)),
        ("POST", "/v1/credits/{id}/refunds", p(ManageBilling)),
        ("POST", "/v1/clients/{id}/adjustments", p(ManageBilling)),
        ("GET", "/v1/clients/{id}/balance", p(ManageBilling)),
        ("GET", "/v1/ledger", p(ManageBilling)),
        ("GET", "/v1/ledger/reconciliation", p(ManageBilling)),
        ("GET", "/v1/invoices", p(ReadInvoices)),
        ("POST", "/v1/invoices", p(ManageBilling)),
        ("GET", "/v1/invoices/{id}", p(ReadInvoices)),
        ("PATCH", "/v1/invoices/{id}", p(ManageBilling)),
        ("POST", "/v1/invoices/{id}/finalize", p(ManageBilling)),
        ("POST", "/v1/invoices/{id}/void", p(ManageBilling)),
        ("GET", "/v1/invoice-settings", p(ManageBilling)),
        ("POST", "/v1/invoice-runs", p(ManageBilling)),
        ("GET", "/v1/invoice-runs", p(ManageBilling)),
        ("GET", "/v1/invoice-runs/{id}", p(ManageBilling)),
        ("PATCH", "/v1/invoice-settings", p(ManageBilling)),
        ("POST", "/v1/clients/{id}/invoice-preview", p(ManageBilling)),
        ("GET", "/v1/clients/{id}/tax-settings", p(ManageBilling)),
        ("PUT", "/v1/clients/{id}/tax-settings", p(ManageBilling)),
        ("GET", "/v1/services", p(ManageBilling)),
        ("POST", "/v1/services", p(ManageBilling)),
        ("GET", "/v1/services/{id}", p(ManageBilling)),
        ("PATCH", "/v1/services/{id}", p(ManageBilling)),
        ("GET", "/v1/contracts", p(ManageBilling)),
        ("POST", "/v1/contracts", p(ManageBilling)),
        ("GET", "/v1/contracts/{id}", p(ManageBilling)),
        ("PATCH", "/v1/contracts/{id}", p(ManageBilling)),
        ("GET", "/v1/contracts/{id}/lines", p(ManageBilling)),
        ("POST", "/v1/contracts/{id}/lines", p(ManageBilling)),
        ("GET", "/v1/contract-lines/{id}", p(ManageBilling)),
        ("PATCH", "/v1/contract-lines/{id}", p(ManageBilling)),
        ("GET", "/v1/client-contracts", p(ManageBilling)),
        ("POST", "/v1/client-contracts", p(ManageBilling)),
        ("GET", "/v1/client-contracts/{id}", p(ManageBilling)),
        ("PATCH", "/v1/client-contracts/{id}", p(ManageBilling)),
        ("GET", "/v1/tax-regions", p(ManageBilling)),
        ("POST", "/v1/tax-regions", p(ManageBilling)),
        ("GET", "/v1/tax-regions/{id}", p(ManageBilling)),
        ("PATCH", "/v1/tax-regions/{id}", p(ManageBilling)),
        ("GET", "/v1/credits", p(ManageBilling)),
        ("POST", "/v1/credits", p(ManageBilling)),
        ("GET", "/v1/credits/{id}", p(ManageBilling)),
        ("PATCH", "/v1/credits/{id}", p(ManageBilling)),
        ("GET", "/v1/usage", p(ManageBilling)),
        ("POST", "/v1/usage", p(ManageBilling)),
        ("GET", "/v1/usage/{id}", p(ManageBilling)),
        ("GET", "/v1/time-entries", p(ReadTime)),
        ("POST", "/v1/time-entries", p(ManageBilling)),
        ("GET", "/v1/time-entries/{id}", p(ReadTime)),
        ("PATCH", "/v1/time-entries/{id}", p(ManageBilling)),
        ("DELETE", "/v1/time-entries/{id}", p(ManageBilling)),
        ("GET", "/v1/timesheets", p(ReadTime)),
        ("POST", "/v1/timesheets", p(ManageBilling)),
        ("GET", "/v1/timesheets/{id}", p(ReadTime)),
        ("POST", "/v1/timesheets/{id}/submit", p(ManageBilling)),
        ("POST", "/v1/timesheets/{id}/approve", p(ManageBilling)),
        ("POST", "/v1/timesheets/{id}/reject", p(ManageBilling)),
        ("POST", "/v1/timesheets/{id}/reopen", p(ManageBilling)),
        ("POST", "/v1/sla/policies", p(ManageSla)),
        ("GET", "/v1/sla/policies/{id}", p(ReadSla)),
        ("PUT", "/v1/sla/policies/{id}", p(ManageSla)),
        ("DELETE", "/v1/sla/policies/{id}", p(ManageSla)),
        ("GET", "/v1/sla/settings", p(ReadSla)),
        ("PUT", "/v1/sla/settings", p(ManageSla)),
        ("POST", "/v1/sla/itil-setup", p(ManageSla)),
        ("GET", "/v1/tickets", p(ReadTickets)),
        ("POST", "/v1/tickets", p(WriteTickets)),
        ("GET", "/v1/tickets/{id}", p(ReadTickets)),
        ("PATCH", "/v1/tickets/{id}", p(WriteTickets)),
        ("POST", "/v1/tickets/{id}/status", p(ManageTickets)),
        ("POST", "/v1/tickets/{id}/assign", p(ManageTickets)),
        ("POST", "/v1/tickets/{id}/close", p(ManageTickets)),
        ("GET", "/v1/tickets/{id}/sla", p(ReadSla)),
        ("GET", "/v1/tickets/{id}/sla/audit", p(ReadSla)),
        ("GET", "/v1/tickets/{id}/comments", p(ReadTickets)),
        ("POST", "/v1/tickets/{id}/comments", p(WriteComments)),
    ]
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_every_role_as_the_permission_table_says() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let api = Api::new(&env).await;
    let tenant = &env.a;
    let s = &tenant.seeded;
    let portal_user = client_user(&env, tenant).await;
    let key = async |role: &str, user| tenant.key_for(&env.owner, role, user).await.unwrap();
    let caller = |name: &str, role, key, user| Caller {
        name: name.into(),
        role,
        key,
        user,
    };
    let callers = [
        admin(tenant),
        caller(
            "technician",
            Role::Technician,
            key("technician", Some(s.technician_user_id)).await,
            Some(s.technician_user_id),
        ),
        caller(
            "billing",
            Role::Billing,
            key("billing", Some(s.admin_user_id)).await,
            Some(s.admin_user_id),
        ),
        caller(
            "client",
            Role::Client,
            key("client", Some(portal_user)).await,
            Some(portal_user),
        ),
        caller(
            "admin acting for no user",
            Role::Admin,
            key("admin", None).await,
            None,
        ),
    ];
    // Every role is in the matrix.
    for role in Role::ALL {
        assert!(callers.iter().any(|c| c.role == role), "no {role:?} key");
    }

    for (method, template, _) in NEEDS {
        assert!(
            api.ops
                .iter()
                .any(|o| o.method.as_str() == *method && o.template == *template),
            "{method} {template} is in NEEDS but no longer documented"
        );
    }
    let (mut checked, mut forbidden) = (0, 0);
    for op in &api.ops {
        let needs = NEEDS
            .iter()
            .find(|(m, t, _)| op.method.as_str() == *m && op.template == *t)
            .map(|(_, _, n)| *n)
            .unwrap_or_else(|| {
                panic!("{op}: not in NEEDS (roles.rs); say which permission it requires")
            });
        if !op.is_api() {
            assert!(
                matches!(needs, Needs::Nothing),
                "{op} outside /v1 needs no key"
            );
            let a = call(&env, op.method.clone(), &op.path(""), None, None).await;
            assert!(
                ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&a.status),
                "{op} without a key: {a}"
            );
            continue;
        }
        assert!(!matches!(needs, Needs::Nothing), "{op} needs a key");
        for caller in &callers {
            // A new record for every call: some calls delete or close theirs.
            let user = caller.user.unwrap_or(s.admin_user_id);
            let (path, body) = api.request_for(op, tenant, user).await;
            let a = api
                .send(caller, op.method.clone(), &path, body.as_ref())
                .await;
            if needs.allows(caller) {
                // Allowed with a valid request on a record the caller may see: it works.
                assert!(
                    a.status.is_success(),
                    "{op} as {}: allowed by {needs:?}, answered {a}",
                    caller.name
                );
            } else {
                forbidden += 1;
                assert_eq!(
                    a.status,
                    StatusCode::FORBIDDEN,
                    "{op} as {}: refused by {needs:?}, answered {a}",
                    caller.name
                );
            }
            checked += 1;
        }
    }
    eprintln!(
        "role matrix: {} operations, {} callers, {checked} checks ({forbidden} forbidden)",
        api.ops.len(),
        callers.len()
    );
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_key_sees_only_its_clients_tickets_and_sets_no_staff_fields() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let s = &env.a.seeded;
    let tech = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    let client = env.a.key_with_role(&env.owner, "client").await.unwrap();
    let post =
        |key: &str, path: &str, body: Value| env.req(Method::POST, path, key).json(&body).send();

    // A ticket for the seeded client and one without a client.
    let mine: Value = post(
        &env.a.key,
        "/v1/tickets",
        json!({ "title": "Acme's", "contact_id": s.contact_id }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        mine["client_id"],
        s.client_id.to_string(),
        "client taken from the contact"
    );
    let internal: Value = post(&env.a.key, "/v1/tickets", json!({ "title": "Internal" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine_id = mine["id"].as_str().unwrap();
    // Staff leave an internal note and a public reply.
    for body in [
        json!({ "body": "Internal note", "is_internal": true }),
        json!({ "body": "We're on it" }),
    ] {
        let r = post(&tech, &format!("/v1/tickets/{mine_id}/comments"), body)
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }

    // The client sees its own ticket only, and no internal notes.
    let list: Value = env
        .req(Method::GET, "/v1/tickets", &client)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [mine_id]);
    let r = env
        .req(
            Method::GET,
            &format!("/v1/tickets/{}", internal["id"].as_str().unwrap()),
            &client,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let comments: Value = env
        .req(
            Method::GET,
            &format!("/v1/tickets/{mine_id}/comments"),
            &client,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bodies: Vec<&str> = comments["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["We're on it"]);
    let staff_view: Value = env
        .req(
            Method::GET,
            &format!("/v1/tickets/{mine_id}/comments"),
            &tech,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(staff_view["items"].as_array().unwrap().len(), 2);

    // The client opens tickets for itself and replies as the client.
    let created: Value = post(&client, "/v1/tickets", json!({ "title": "Portal ticket" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["client_id"], s.client_id.to_string());
    let r = post(
        &client,
        &format!("/v1/tickets/{mine_id}/comments"),
        json!({ "body": "Thanks" }),
    )
    .await
    .unwrap();
    let reply: Value = r.json().await.unwrap();
    assert_eq!(reply["author_kind"], "client");
    // Operations the client may call, with fields only staff may set (a permission the
    // matrix's plain bodies never ask for).
    for (path, body) in [
        (
            format!("/v1/tickets/{mine_id}/comments"),
            json!({ "body": "psst", "is_internal": true }),
        ),
        (
            "/v1/tickets".to_owned(),
            json!({ "title": "x", "priority_id": s.priority_ids[0] }),
        ),
    ] {
        assert_eq!(
            post(&client, &path, body).await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let r = env
        .req(Method::PATCH, &format!("/v1/tickets/{mine_id}"), &client)
        .json(&json!({ "awaiting_client": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_lifecycle_and_pagination() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let s = &env.a.seeded;
    let key = &env.a.key;
    let mut ids = Vec::new();
    for i in 0..5 {
        let t: Value = env
            .req(Method::POST, "/v1/tickets", key)
            .json(&json!({ "title": format!("T{i}") }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(t["id"].as_str().unwrap().to_owned());
        assert_eq!(t["number"], i + 1);
    }
    // Pages of two, in creation order, until no cursor.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Value = env
            .req(
                Method::GET,
                &format!("/v1/tickets?limit=2&cursor={cursor}"),
                key,
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    // Change fields, status, assignee; close; filter open/closed.
    let t = &ids[0];
    let patched: Value = env
        .req(Method::PATCH, &format!("/v1/tickets/{t}"), key)
        .json(&json!({ "title": "Renamed", "priority_id": s.priority_ids[1] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["title"], "Renamed");
    assert_eq!(patched["priority_id"], s.priority_ids[1].to_string());
    let r: Value = env
        .req(Method::POST, &format!("/v1/tickets/{t}/status"), key)
        .json(&json!({ "status_id": s.status_waiting }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status_id"], s.status_waiting.to_string());
    let r = env
        .req(Method::POST, &format!("/v1/tickets/{t}/assign"), key)
        .json(&json!({ "assignee_id": s.technician_user_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = env
        .req(Method::POST, &format!("/v1/tickets/{t}/close"), key)
        .json(&json!({ "status_id": s.status_new }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "an open status cannot close"
    );
    env.req(Method::POST, &format!("/v1/tickets/{t}/close"), key)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let open: Value = env
        .req(Method::GET, "/v1/tickets?open=true", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(open["items"].as_array().unwrap().len(), 4);
    let closed: Value = env
        .req(
            Method::GET,
            &format!(
                "/v1/tickets?open=false&assignee_id={}",
                s.technician_user_id
            ),
            key,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(closed["items"][0]["id"], t.as_str());

    let events: Vec<String> =
        sqlx::query_scalar("SELECT event_type FROM outbox ORDER BY id OFFSET 5")
            .fetch_all(&env.owner)
            .await
            .unwrap();
    assert_eq!(
        events,
        [
            "ticket.updated",
            "ticket.status_changed",
            "ticket.assigned",
            "ticket.status_changed",
            "ticket.closed"
        ]
    );

    // Closing again changes nothing and emits nothing.
    env.req(Method::POST, &format!("/v1/tickets/{t}/close"), key)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    assert_eq!(env.count("outbox").await, 10);

    // The OpenAPI document names every route.
    let doc: Value = env
        .http
        .get(env.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/v1/tickets",
        "/v1/tickets/{id}/close",
        "/v1/clients",
        "/v1/statuses/{id}",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path}");
    }
    env.shutdown().await;
}

/// Authorisation comes before validation: a role that may not change SLA configuration gets
/// 403 for an invalid body too, never field errors that describe what it may not do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_without_the_permission_gets_403_before_any_field_error() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let tech = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    let board = env.a.seeded.board_id;
    let invalid = [
        (
            Method::POST,
            "/v1/sla/schedules".to_owned(),
            json!({ "name": "", "timezone": "Nowhere/Zone" }),
        ),
        (
            Method::POST,
            "/v1/sla/policies".to_owned(),
            json!({ "name": "", "escalation_percents": [300, 200, 100] }),
        ),
        (
            Method::PUT,
            format!("/v1/boards/{board}/sla"),
            json!({ "escalation_managers": [{ "level": 9, "user_id": board }] }),
        ),
    ];
    for (method, path, body) in invalid {
        let admin = env
            .req(method.clone(), &path, &env.a.key)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status();
        assert!(
            admin.is_client_error() && admin != 403,
            "{method} {path}: admin got {admin}"
        );
        let status = env
            .req(method.clone(), &path, &tech)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 403, "{method} {path} as technician");
    }
    env.shutdown().await;
}
