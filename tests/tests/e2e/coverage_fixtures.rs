//! The map of the API that the coverage tests walk, read from the running edge's
//! `/openapi.json` rather than listed by hand: for every documented operation, how to make the
//! record its path names and a valid body (and query) to send it.
//!
//! The tests that walk the document (`tenant_isolation`, `roles`) fail on an operation this file
//! cannot serve, naming what is missing, so a new endpoint is covered from the moment it is
//! documented instead of being skipped silently. What stays hand-written is the knowledge no
//! document holds: what a valid request looks like.

use psa_tests::{Tenant, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use uuid::Uuid;

/// One documented operation.
#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    /// The route template, e.g. `/v1/tickets/{id}/close`.
    pub template: String,
    /// Whether the document gives it a request body.
    pub has_body: bool,
    /// The query parameters it requires.
    pub required_query: Vec<String>,
    /// Whether it takes an `Idempotency-Key` header (creates do).
    pub idempotent: bool,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.template)
    }
}

impl Operation {
    /// Behind an API key (the probes, metrics and the document are not).
    pub fn is_api(&self) -> bool {
        self.template.starts_with("/v1/")
    }

    /// The path parameter's name, if the template has one.
    pub fn parameter(&self) -> Option<&str> {
        let (_, rest) = self.template.split_once('{')?;
        rest.split_once('}').map(|(name, _)| name)
    }

    /// Where the record its parameter names is kept: the template up to the parameter
    /// (`/v1/tickets` for `/v1/tickets/{id}/close`).
    pub fn collection(&self) -> Option<&str> {
        self.template.split_once("/{").map(|(c, _)| c)
    }

    /// The path to call, with `key` in place of the parameter and the required query.
    pub fn path(&self, key: &str) -> String {
        let path = match (self.template.split_once('{'), self.parameter()) {
            (Some((head, _)), Some(name)) => {
                let tail = &self.template[head.len() + name.len() + 2..];
                format!("{head}{key}{tail}")
            }
            _ => self.template.clone(),
        };
        format!("{path}{}", query(self))
    }
}

/// Every operation `/openapi.json` documents. Fails on a path item this map cannot read (a
/// method it does not know, more than one path parameter), so nothing is dropped on the way.
pub async fn operations(env: &TestEnv) -> Vec<Operation> {
    let doc: Value = env
        .http
        .get(env.url("/openapi.json"))
        .send()
        .await
        .expect("GET /openapi.json")
        .json()
        .await
        .expect("the document is JSON");
    let mut out = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            if matches!(
                method.as_str(),
                "parameters" | "summary" | "description" | "servers"
            ) {
                continue;
            }
            let method: Method = method
                .to_ascii_uppercase()
                .parse()
                .unwrap_or_else(|_| panic!("{method} {template}: not an HTTP method"));
            assert!(
                [
                    Method::GET,
                    Method::PUT,
                    Method::POST,
                    Method::DELETE,
                    Method::PATCH
                ]
                .contains(&method),
                "{method} {template}: the coverage tests do not know this method"
            );
            assert!(
                template.matches('{').count() <= 1,
                "{template}: more than one path parameter; teach coverage_fixtures.rs which \
                 records they name"
            );
            let parameters = op["parameters"].as_array().into_iter().flatten();
            let required_query = parameters
                .clone()
                .filter(|p| p["in"] == "query" && p["required"] == true)
                .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
                .collect();
            let idempotent = parameters
                .clone()
                .any(|p| p["in"] == "header" && p["name"] == "Idempotency-Key");
            out.push(Operation {
                method,
                template: template.clone(),
                has_body: !op["requestBody"].is_null(),
                required_query,
                idempotent,
            });
        }
    }
    out
}

/// A valid automation definition named `name`.
fn automation(name: &str) -> Value {
    json!({
        "name": name,
        "trigger": { "event": "ticket.created" },
        "steps": [{ "id": "note", "type": "action", "action": "tickets.add_comment",
                    "input": { "ticket_id": "event.payload.ticket.ticket_id", "body": "'Seen'" } }],
    })
}

/// The query string an operation needs (its required parameters), empty for most.
fn query(op: &Operation) -> &'static str {
    let q = match (op.method.as_str(), op.template.as_str()) {
        ("GET", "/v1/sla/compliance") => "?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z",
        ("GET", "/v1/schedule-entries") => "?from=2030-01-01T00:00:00Z&to=2031-01-01T00:00:00Z",
        ("GET", "/v1/automations/{id}/diff") => "?from=1&to=1",
        ("POST", "/v1/clients/{id}/invoice-preview") => "?period_start=2026-01-01",
        _ => "",
    };
    for name in &op.required_query {
        assert!(
            q.contains(&format!("{name}=")),
            "{op}: requires the query parameter `{name}`; add it to `query` in \
             coverage_fixtures.rs"
        );
    }
    q
}

/// What an operation answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: StatusCode,
    /// The JSON answer; `Null` when empty, a string when not JSON.
    pub body: Value,
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

/// Sends one request, with `key` as the bearer token when given.
pub async fn call(
    env: &TestEnv,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    call_with(env, method, path, key, body, None).await
}

/// [`call`], with an `Idempotency-Key` when given.
pub async fn call_with(
    env: &TestEnv,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<&Value>,
    idempotency_key: Option<&str>,
) -> Answer {
    let mut request = env.http.request(method.clone(), env.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    if let Some(k) = idempotency_key {
        request = request.header("Idempotency-Key", k);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = response.status();
    let text = response.text().await.expect("an answer");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Answer { status, body }
}

/// Who calls: a key of one role in one tenant, acting for a user or for none.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: psa_domain::auth::Role,
    pub key: String,
    pub user: Option<Uuid>,
}

/// A tenant's admin key (the seeded one, acting for the seeded admin user).
pub fn admin(tenant: &Tenant) -> Caller {
    Caller {
        name: "admin".into(),
        role: psa_domain::auth::Role::Admin,
        key: tenant.key.clone(),
        user: Some(tenant.seeded.admin_user_id),
    }
}

/// A portal user of the tenant's seeded client, for client keys that act for someone.
pub async fn client_user(env: &TestEnv, tenant: &Tenant) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO users (tenant_id, id, email, display_name, kind, client_id)
         VALUES ($1, $2, $3, 'Portal user', 'client', $4)",
    )
    .bind(tenant.seeded.tenant_id)
    .bind(id)
    .bind(format!("portal-{}@client.example", id.simple()))
    .bind(tenant.seeded.client_id)
    .execute(&env.owner)
    .await
    .expect("insert a client user");
    id
}

/// The API as the coverage tests drive it: the documented operations and what to send them.
pub struct Api<'e> {
    pub env: &'e TestEnv,
    pub ops: Vec<Operation>,
    seq: AtomicU32,
}

impl<'e> Api<'e> {
    pub async fn new(env: &'e TestEnv) -> Self {
        let ops = operations(env).await;
        assert!(
            ops.len() > 40,
            "/openapi.json documents only {} operations",
            ops.len()
        );
        Self {
            env,
            ops,
            seq: AtomicU32::new(0),
        }
    }

    /// A name no other call used, carrying the tenant's mark (see [`mark`]).
    pub fn tag(&self, tenant: &Tenant) -> (String, u32) {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        (format!("{} {n}", mark(tenant)), n)
    }

    /// A valid body for `op` in `tenant`, with unique names; `None` when the operation takes
    /// none. Fails when the document says the operation takes a body and no body is known
    /// here, or the other way round, so this map cannot go stale unnoticed.
    pub fn body(&self, op: &Operation, tenant: &Tenant) -> Option<Value> {
        let s = &tenant.seeded;
        let (tag, n) = self.tag(tenant);
        // Dates no other call in the tenant used: holidays are unique per day.
        let day = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).expect("a date")
            + chrono::Days::new(u64::from(n));
        let named = json!({ "name": tag });
        let body = match (op.method.as_str(), op.template.as_str()) {
            ("POST", "/v1/clients" | "/v1/boards") => named,
            ("PATCH", "/v1/clients/{id}" | "/v1/contacts/{id}" | "/v1/boards/{id}") => named,
            ("PATCH", "/v1/priorities/{id}" | "/v1/statuses/{id}") => named,
            ("PUT", "/v1/clients/{id}/sla") => json!({ "policy_id": null }),
            ("POST", "/v1/contacts") => json!({ "client_id": s.client_id, "name": tag }),
            ("PUT", "/v1/boards/{id}/sla") => json!({
                "policy_id": null,
                "manager_id": s.technician_user_id,
                "escalation_managers": [{ "level": 1, "user_id": s.technician_user_id }],
            }),
            ("POST", "/v1/priorities") => json!({ "name": tag, "rank": 9 }),
            ("POST", "/v1/statuses") => json!({
                "name": tag, "is_closed": false, "pauses_sla": false, "is_default": false,
                "position": 9,
            }),
            ("PATCH", "/v1/notification-settings") => {
                json!({ "enabled": true, "rate_limit_per_minute": 120 })
            }
            (
                "PUT",
                "/v1/notification-settings/categories/{category}"
                | "/v1/notification-settings/subtypes/{code}",
            ) => json!({ "enabled": false }),
            ("PUT", "/v1/me/notification-preferences/{subtype}") => {
                json!({ "email": false, "in_app": true })
            }
            ("PUT", "/v1/notification-templates/{subtype}") => json!({
                "subject": tag, "html": format!("<p>{tag}</p>"), "text": tag,
            }),
            ("POST", "/v1/notification-templates/{subtype}/preview") => json!({}),
            ("POST", "/v1/invoices/preview") => json!({
                "currency": "USD",
                "period": { "start": "2026-01-01", "end": "2026-02-01" },
                "lines": [{ "id": "support", "type": "fixed", "amount": "500.00" }],
            }),
            ("POST", "/v1/schedules/preview") => json!({
                "start": "2026-03-02T09:00:00",
                "timezone": "America/New_York",
                "duration_minutes": 60,
                "rrule": "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10",
                "from": "2026-03-01T00:00:00Z",
                "to": "2026-04-01T00:00:00Z",
            }),
            // One appointment on a day no other call used, so no create overlaps another.
            ("POST", "/v1/schedule-entries") => json!({
                "title": tag, "assignees": [s.technician_user_id],
                "start": format!("{day}T09:00:00"), "timezone": "Europe/London",
                "duration_minutes": 60,
            }),
            ("PATCH", "/v1/schedule-entries/{id}") => json!({ "title": tag }),
            ("POST", "/v1/automations") => json!({ "name": tag, "draft": automation(&tag) }),
            ("PATCH", "/v1/automations/{id}") => json!({ "name": tag }),
            ("POST", "/v1/automations/{id}/versions") => json!({ "definition": automation(&tag) }),
            ("POST", "/v1/automations/{id}/runs") => json!({ "input": { "tag": tag } }),
            ("POST", "/v1/automations/dry-run") => json!({
                "definition": automation(&tag),
                "event": { "type": "ticket.created", "occurred_at": "2026-01-05T09:00:00Z",
                           "payload": { "ticket": { "ticket_id": "t-1" } } },
            }),
            ("PATCH", "/v1/schedule-occurrences/{id}") => json!({ "scope": "all", "title": tag }),
            ("POST", "/v1/sla/preview") => json!({
                "schedule": {
                    "timezone": "Europe/London",
                    "hours": [{ "weekday": 1, "start": "09:00", "end": "17:00" }],
                    "holidays": [{ "date": "2026-12-25", "recurring": true }],
                },
                "started_at": "2026-11-23T14:00:00Z",
                "targets": { "response_minutes": 60, "resolution_minutes": 960 },
            }),
            ("POST", "/v1/sla/schedules") | ("PUT", "/v1/sla/schedules/{id}") => json!({
                "name": tag,
                "timezone": "Europe/London",
                "hours": [{ "weekday": 1, "start": "09:00", "end": "17:00" }],
                "holidays": [{ "name": tag, "date": day.to_string() }],
            }),
            ("POST", "/v1/sla/holidays") => json!({ "name": tag, "date": day.to_string() }),
            ("POST", "/v1/sla/policies") | ("PUT", "/v1/sla/policies/{id}") => json!({
                "name": tag,
                "targets": [{
                    "priority_id": s.priority_ids[0],
                    "response_minutes": 30,
                    "resolution_minutes": 120,
                }],
            }),
            ("PUT", "/v1/sla/settings") => json!({ "pause_while_awaiting_client": true }),
            ("POST", "/v1/sla/itil-setup") => json!({}),
            ("POST", "/v1/tickets") => json!({ "title": tag, "contact_id": s.contact_id }),
            ("PATCH", "/v1/tickets/{id}") => json!({ "title": tag }),
            ("POST", "/v1/tickets/{id}/status") => json!({ "status_id": s.status_in_progress }),
            ("POST", "/v1/tickets/{id}/assign") => {
                json!({ "assignee_id": s.technician_user_id })
            }
            ("POST", "/v1/tickets/{id}/close") => json!({}),
            ("POST", "/v1/tickets/{id}/comments") => json!({ "body": tag }),
            ("PUT", "/v1/clients/{id}/tax-settings") => json!({ "exempt": true }),
            ("POST", "/v1/services") => json!({ "name": tag, "unit": "hour" }),
            ("POST", "/v1/contracts") => named,
            ("PATCH", "/v1/services/{id}" | "/v1/contracts/{id}" | "/v1/tax-regions/{id}") => named,
            ("POST", "/v1/contracts/{id}/lines") => {
                json!({ "type": "fixed", "terms": { "amount": "100.00" } })
            }
            ("PATCH", "/v1/contract-lines/{id}") => json!({ "description": tag }),
            // One-day assignments of the seeded contract: they never overlap each other.
            ("POST", "/v1/client-contracts") => json!({
                "client_id": s.client_id, "contract_id": s.contract_id, "start_date": day,
                "end_date": day, "currency": "USD", "billing_cycle": "monthly",
            }),
            // An end no later than its own start would be refused, and a later one could
            // overlap the next one-day assignment: the patch changes nothing.
            ("PATCH", "/v1/client-contracts/{id}") => json!({}),
            ("POST", "/v1/tax-regions") => json!({
                "name": tag, "components": [{ "name": "VAT", "rate": "20" }],
            }),
            ("POST", "/v1/credits") => json!({
                "client_id": s.client_id, "amount": "10.00", "currency": "USD",
            }),
            ("PATCH", "/v1/credits/{id}") => json!({ "note": tag }),
            ("POST", "/v1/usage") => json!({
                "client_id": s.client_id, "service_id": s.service_id, "quantity": "1",
                "occurred_at": "2026-01-05T10:00:00Z", "external_id": tag,
            }),
            ("POST", "/v1/time-entries") => json!({
                "worker_id": s.technician_user_id, "client_id": s.client_id,
                "service_id": s.service_id, "work_date": day, "minutes": 30,
            }),
            ("PATCH", "/v1/time-entries/{id}") => json!({ "note": tag }),
            // One-day timesheets on days no other call used.
            ("POST", "/v1/timesheets") => json!({
                "worker_id": s.technician_user_id, "period_start": day,
                "period_end": day + chrono::Days::new(1),
            }),
            ("POST", "/v1/timesheets/{id}/submit") => json!({ "approver_id": s.admin_user_id }),
            ("POST", "/v1/timesheets/{id}/approve" | "/v1/timesheets/{id}/reopen") => json!({}),
            ("POST", "/v1/timesheets/{id}/reject") => json!({ "reason": tag }),
            ("POST", "/v1/invoices") => json!({
                "client_id": s.client_id, "currency": "USD",
                "items": [{ "description": tag, "quantity": "1", "unit_price": "10.00" }],
            }),
            ("PATCH", "/v1/invoices/{id}") => json!({ "note": tag }),
            ("PATCH", "/v1/invoice-settings") => json!({ "payment_terms_days": 14 }),
            ("PATCH", "/v1/automation-settings") => {
                json!({ "http_allowed_networks": ["10.20.0.0/16"] })
            }
            // A day no other call used: each is its own run.
            ("POST", "/v1/invoice-runs") => json!({ "period": day.to_string() }),
            // A prepayment: no invoice needed, it becomes the client's credit.
            ("POST", "/v1/payments") => json!({
                "client_id": s.client_id, "amount": "25.00", "currency": "USD",
                "received_on": "2026-03-01", "method": "bank_transfer",
            }),
            ("POST", "/v1/payments/{id}/refunds" | "/v1/credits/{id}/refunds") => {
                json!({ "amount": "1.00" })
            }
            ("POST", "/v1/clients/{id}/adjustments") => json!({
                "amount": "-5.00", "currency": "USD", "note": tag,
            }),
            _ => Value::Null,
        };
        match (op.has_body, body) {
            (false, Value::Null) => None,
            (true, Value::Null) => panic!(
                "{op}: takes a body and coverage_fixtures.rs has none; add a valid one to `body`"
            ),
            (false, _) => panic!(
                "{op}: documented without a body but coverage_fixtures.rs sends one; remove it \
                 from `body` (or document the body)"
            ),
            (true, body) => Some(body),
        }
    }

    /// Makes a record of `collection` in `tenant` (through the API when it can) and returns
    /// the value its path parameter takes. A per-user record (an in-app notification) belongs
    /// to `user`. For a parameter that names a catalogue entry every tenant shares (a
    /// notification subtype or category), the tenant gets its own state for that entry
    /// (template, switch, preference), and the entry's code is returned.
    ///
    /// Fails for a collection it cannot make a record of: a new kind of record needs a line
    /// here before the coverage tests pass.
    pub async fn create(&self, tenant: &Tenant, collection: &str, user: Uuid) -> String {
        let admin = admin(tenant);
        let set = async |template: &str, key: &str| {
            let op = self.op(Method::PUT, template);
            let body = self.body(op, tenant);
            let a = self
                .send(&admin, op.method.clone(), &op.path(key), body.as_ref())
                .await;
            assert!(a.status.is_success(), "{op} as {}: {a}", admin.name);
        };
        match collection {
            // Only the worker writes in-app notifications.
            "/v1/notifications" => {
                let id = Uuid::now_v7();
                let (tag, _) = self.tag(tenant);
                sqlx::query(
                    "INSERT INTO in_app_notifications
                         (tenant_id, id, user_id, subtype_code, title, body, event_id)
                     VALUES ($1, $2, $3, 'ticket.assigned', $4, $4, $5)",
                )
                .bind(tenant.seeded.tenant_id)
                .bind(id)
                .bind(user)
                .bind(&tag)
                .bind(Uuid::now_v7())
                .execute(&self.env.owner)
                .await
                .expect("insert an in-app notification");
                id.to_string()
            }
            "/v1/notification-settings/categories" => {
                let key = self
                    .first(
                        &admin,
                        "/v1/notification-settings",
                        "/categories/0/category",
                    )
                    .await;
                set("/v1/notification-settings/categories/{category}", &key).await;
                key
            }
            "/v1/notification-settings/subtypes" => {
                let key = self
                    .first(&admin, "/v1/notification-settings", "/subtypes/0/code")
                    .await;
                set("/v1/notification-settings/subtypes/{code}", &key).await;
                key
            }
            "/v1/me/notification-preferences" => {
                let key = self
                    .first(&admin, "/v1/me/notification-preferences", "/0/subtype")
                    .await;
                set("/v1/me/notification-preferences/{subtype}", &key).await;
                key
            }
            "/v1/notification-templates" => {
                let key = self
                    .first(&admin, "/v1/notification-templates", "/0/subtype")
                    .await;
                set("/v1/notification-templates/{subtype}", &key).await;
                key
            }
            // An occurrence is one of a new entry's: its ID is the entry's and its start's.
            "/v1/schedule-occurrences" => {
                let op = self.op(Method::POST, "/v1/schedule-entries");
                let body = self.body(op, tenant).expect("an entry body");
                let a = self
                    .send(&admin, Method::POST, &op.path(""), Some(&body))
                    .await;
                assert!(a.status.is_success(), "{op}: {a}");
                let start = a.body["start"]
                    .as_str()
                    .expect("a start")
                    .replace(['-', ':'], "");
                format!("{}_{start}", a.body["id"].as_str().expect("an entry id"))
            }
            // A version is an automation's, published.
            "/v1/automation-versions" => {
                let automation = Box::pin(self.create(tenant, "/v1/automations", user)).await;
                let op = self.op(Method::POST, "/v1/automations/{id}/versions");
                let a = self
                    .send(
                        &admin,
                        Method::POST,
                        &op.path(&automation),
                        Some(&json!({})),
                    )
                    .await;
                assert!(a.status.is_success(), "{op}: {a}");
                a.body["id"].as_str().expect("a version id").to_owned()
            }
            // A run is a published automation's, asked for by hand.
            "/v1/automation-runs" => {
                let version = Box::pin(self.create(tenant, "/v1/automation-versions", user)).await;
                let path = format!("/v1/automation-versions/{version}");
                let v = self.send(&admin, Method::GET, &path, None).await;
                let automation = v.body["automation_id"].as_str().expect("an automation id");
                let path = format!("/v1/automations/{automation}/runs");
                let a = self
                    .send(&admin, Method::POST, &path, Some(&json!({})))
                    .await;
                assert!(a.status.is_success(), "POST {path}: {a}");
                a.body["id"].as_str().expect("a run id").to_owned()
            }
            // A line is made on a new contract.
            "/v1/contract-lines" => {
                let contract = Box::pin(self.create(tenant, "/v1/contracts", user)).await;
                let op = self.op(Method::POST, "/v1/contracts/{id}/lines");
                let body = self.body(op, tenant);
                let a = self
                    .send(&admin, Method::POST, &op.path(&contract), body.as_ref())
                    .await;
                assert!(a.status.is_success(), "{op}: {a}");
                a.body["id"].as_str().expect("a line id").to_owned()
            }
            // Everything else is made by POSTing to its collection.
            _ => {
                let op = self
                    .ops
                    .iter()
                    .find(|o| o.method == Method::POST && o.template == collection)
                    .unwrap_or_else(|| {
                        panic!(
                            "{collection}: no way to make a record of it (no POST {collection}); \
                             add one to `Api::create` in coverage_fixtures.rs"
                        )
                    });
                let body = self.body(op, tenant);
                // A key where the create takes one, so idempotency records exist too.
                let once = op.idempotent.then(|| Uuid::new_v4().to_string());
                let a = call_with(
                    self.env,
                    Method::POST,
                    &op.path(""),
                    Some(&admin.key),
                    body.as_ref(),
                    once.as_deref(),
                )
                .await;
                assert!(a.status.is_success(), "{op}: {a}");
                a.body["id"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{op}: the answer has no `id`: {a}"))
                    .to_owned()
            }
        }
    }

    /// The path and body to call `op` with in `tenant`: a new record when the path names one,
    /// made for `user` when it is per user.
    pub async fn request_for(
        &self,
        op: &Operation,
        tenant: &Tenant,
        user: Uuid,
    ) -> (String, Option<Value>) {
        let key = match op.collection() {
            Some(collection) => self.create(tenant, collection, user).await,
            None => String::new(),
        };
        self.prepare(op, tenant, &key).await;
        (op.path(&key), self.body(op, tenant))
    }

    /// Brings the record `key` into the state `op` acts on: a client on a contract for its
    /// invoice preview, a timesheet with time for its submit, a submitted one for a decision,
    /// an invoice finalized for reads (client-portal keys see no drafts), a taxed client for a
    /// new invoice.
    pub async fn prepare(&self, op: &Operation, tenant: &Tenant, key: &str) {
        let admin = admin(tenant);
        let s = &tenant.seeded;
        let post = async |path: String, body: Value| {
            let a = self.send(&admin, Method::POST, &path, Some(&body)).await;
            assert!(a.status.is_success(), "preparing {op}: POST {path}: {a}");
            a
        };
        match op.template.as_str() {
            // A taxed client, so the invoice writes tax rows too.
            "/v1/invoices" if op.method == Method::POST => {
                let (name, _) = self.tag(tenant);
                let region = post(
                    "/v1/tax-regions".into(),
                    json!({ "name": name, "components": [{ "name": "VAT", "rate": "20" }] }),
                )
                .await;
                let path = format!("/v1/clients/{}/tax-settings", s.client_id);
                let body = json!({ "region_id": region.body["id"] });
                let a = self.send(&admin, Method::PUT, &path, Some(&body)).await;
                assert!(a.status.is_success(), "preparing {op}: PUT {path}: {a}");
            }
            // Only a failed run can be retried: this one failed at its start, as a run whose
            // worker found its state unreadable would.
            "/v1/automation-runs/{id}/retry" => {
                sqlx::query(
                    "UPDATE automation_runs
                        SET status = 'failed', ended_at = now(),
                            retry_from = '{\"machine\": null}'::jsonb
                      WHERE id = $1::uuid",
                )
                .bind(key)
                .execute(&self.env.owner)
                .await
                .expect("a failed run");
            }
            // Only a published automation can be enabled or compared.
            "/v1/automations/{id}/enable"
            | "/v1/automations/{id}/diff"
            | "/v1/automations/{id}/runs" => {
                post(format!("/v1/automations/{key}/versions"), json!({})).await;
            }
            // A client-portal key reads only finalized invoices.
            "/v1/invoices/{id}" if op.method == Method::GET => {
                post(format!("/v1/invoices/{key}/finalize"), json!({})).await;
            }
            "/v1/clients/{id}/invoice-preview" => {
                post(
                    "/v1/client-contracts".into(),
                    json!({ "client_id": key, "contract_id": s.contract_id,
                            "start_date": "2026-01-01", "currency": "USD",
                            "billing_cycle": "monthly" }),
                )
                .await;
            }
            "/v1/timesheets/{id}/submit"
            | "/v1/timesheets/{id}/approve"
            | "/v1/timesheets/{id}/reject"
            | "/v1/timesheets/{id}/reopen" => {
                let sheet = self
                    .send(&admin, Method::GET, &format!("/v1/timesheets/{key}"), None)
                    .await;
                post(
                    "/v1/time-entries".into(),
                    json!({ "worker_id": s.technician_user_id, "client_id": s.client_id,
                            "service_id": s.service_id, "minutes": 30,
                            "work_date": sheet.body["period_start"] }),
                )
                .await;
                if op.template != "/v1/timesheets/{id}/submit" {
                    post(
                        format!("/v1/timesheets/{key}/submit"),
                        json!({ "approver_id": s.admin_user_id }),
                    )
                    .await;
                }
            }
            _ => {}
        }
    }

    /// Everything `caller` can read about the record `key` of `collection`: every GET under
    /// the record's path, or the list it is in when it has none of its own.
    pub async fn read_back(&self, caller: &Caller, collection: &str, key: &str) -> Vec<Answer> {
        let readers: Vec<String> = match collection {
            "/v1/schedule-occurrences" => {
                let entry = key.split('_').next().unwrap_or_default();
                vec![format!("/v1/schedule-entries/{entry}")]
            }
            "/v1/notification-settings/categories" | "/v1/notification-settings/subtypes" => {
                vec!["/v1/notification-settings".into()]
            }
            _ => {
                let own: Vec<String> = self
                    .ops
                    .iter()
                    .filter(|o| o.method == Method::GET && o.collection() == Some(collection))
                    .map(|o| o.path(key))
                    .collect();
                if own.is_empty() {
                    let list = self
                        .ops
                        .iter()
                        .find(|o| o.method == Method::GET && o.template == collection)
                        .unwrap_or_else(|| {
                            panic!(
                                "{collection}: nothing reads its records back; add a reader to \
                                 `Api::read_back` in coverage_fixtures.rs"
                            )
                        });
                    vec![list.path("")]
                } else {
                    own
                }
            }
        };
        let mut out = Vec::new();
        for path in readers {
            out.push(self.send(caller, Method::GET, &path, None).await);
        }
        out
    }

    /// The documented operation `method template`.
    pub fn op(&self, method: Method, template: &str) -> &Operation {
        self.ops
            .iter()
            .find(|o| o.method == method && o.template == template)
            .unwrap_or_else(|| panic!("{method} {template} is not documented"))
    }

    pub async fn send(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        call(self.env, method, path, Some(&caller.key), body).await
    }

    /// The string at `pointer` in what `caller` reads at `path`.
    async fn first(&self, caller: &Caller, path: &str, pointer: &str) -> String {
        let a = self.send(caller, Method::GET, path, None).await;
        a.body
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("GET {path}: nothing at {pointer}: {a}"))
            .to_owned()
    }
}

/// A string every name the fixtures give a tenant's records contains, so a test can tell
/// whether another tenant's answer shows any of them.
pub fn mark(tenant: &Tenant) -> String {
    format!("mark-{}", tenant.seeded.tenant_id.simple())
}
