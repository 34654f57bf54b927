//! The API behaves one way everywhere a newcomer would expect it to: actions take an empty
//! body, every list pages alike and refuses `limit=0` like `limit=500`, a mistyped body field
//! or a bad query parameter is a 400 naming it, gRPC reflection answers both versions, and
//! instants carry at most milliseconds. Where a rule covers "every" operation, the operations
//! are read from `/openapi.json`, so a new one is covered without being listed here.

use crate::sla_config::fields;
use psa_protos::v1 as pb;
use psa_tests::{Parts, TestEnv, authed, eventually};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// Answers with their JSON (`Null` for an empty body).
async fn call(
    env: &TestEnv,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = env.req(method, path, &env.a.key);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let bytes = response.bytes().await.unwrap();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, json)
}

/// A POST with no body at all: no `Content-Type`, zero bytes.
async fn post_nothing(env: &TestEnv, path: &str) -> (StatusCode, Value) {
    call(env, Method::POST, path, None).await
}

fn document() -> Value {
    serde_json::to_value(psa_edge::web::openapi::spec()).unwrap()
}

/// `(method, path, operation)` of every `/v1` operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/") {
            continue;
        }
        for method in ["get", "put", "post", "delete", "patch"] {
            if let Some(op) = item.get(method) {
                out.push((method.to_owned(), path.clone(), op.clone()));
            }
        }
    }
    out
}

/// A schema with its `$ref` followed.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    }
}

fn ok_schema<'a>(doc: &'a Value, op: &'a Value) -> &'a Value {
    resolve(
        doc,
        &op["responses"]["200"]["content"]["application/json"]["schema"],
    )
}

fn query_params(op: &Value) -> Vec<String> {
    op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

/// `path` with every `{…}` replaced by `id`.
fn concrete(path: &str, id: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').unwrap() + open;
        out.push_str(id);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

async fn new_ticket(env: &TestEnv) -> String {
    let t = env
        .ok(
            Method::POST,
            "/v1/tickets",
            &env.a.key,
            &json!({ "title": "Printer on fire" }),
        )
        .await;
    t["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_take_an_empty_body_and_a_missing_field_is_named() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let ticket = new_ticket(&env).await;

    // Actions whose fields are all optional.
    let (status, t) = post_nothing(&env, &format!("/v1/tickets/{ticket}/assign")).await;
    assert_eq!(status, StatusCode::OK, "assign: {t}");
    assert_eq!(t["assignee_id"], Value::Null);
    let (status, t) = post_nothing(&env, &format!("/v1/tickets/{ticket}/close")).await;
    assert_eq!(status, StatusCode::OK, "close: {t}");
    assert!(t["closed_at"].is_string(), "{t}");
    let (status, policy) = post_nothing(&env, "/v1/sla/itil-setup").await;
    assert_eq!(status, StatusCode::OK, "itil-setup: {policy}");
    let subtype = "ticket.assigned";
    let (status, p) = post_nothing(
        &env,
        &format!("/v1/notification-templates/{subtype}/preview"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "preview: {p}");
    let (status, c) =
        post_nothing(&env, &format!("/v1/notification-templates/{subtype}/clone")).await;
    assert_eq!(status, StatusCode::OK, "clone: {c}");
    let notification = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO in_app_notifications (tenant_id, id, user_id, subtype_code, title, body, event_id)
         VALUES ($1, $2, $3, 'ticket.assigned', 'Assigned', 'To you', $4)",
    )
    .bind(env.a.seeded.tenant_id)
    .bind(notification)
    .bind(env.a.seeded.admin_user_id)
    .bind(uuid::Uuid::now_v7())
    .execute(&env.owner)
    .await
    .unwrap();
    let (status, n) = post_nothing(&env, &format!("/v1/notifications/{notification}/read")).await;
    assert_eq!(status, StatusCode::OK, "read: {n}");

    // A required field is named, not refused as a missing media type.
    for (path, field) in [
        (format!("/v1/tickets/{ticket}/status"), "status_id"),
        ("/v1/tickets".to_owned(), "title"),
        (format!("/v1/tickets/{ticket}/comments"), "body"),
    ] {
        let (status, problem) = post_nothing(&env, &path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {problem}");
        assert_eq!(fields(&problem), [field], "{path}: {problem}");
    }

    // Every POST, by construction: an empty body is never a 415, and a 400 names its field.
    let doc = document();
    let nobody = uuid::Uuid::now_v7().to_string();
    for (method, path, _) in operations(&doc) {
        if method != "post" {
            continue;
        }
        let target = concrete(&path, &nobody);
        let (status, answer) = post_nothing(&env, &target).await;
        assert_ne!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{target}");
        if status == StatusCode::BAD_REQUEST {
            assert!(!fields(&answer).is_empty(), "{target}: {answer}");
        }
    }

    // A body sent as something other than JSON is still refused.
    let r = env
        .req(
            Method::POST,
            &format!("/v1/tickets/{ticket}/close"),
            &env.a.key,
        )
        .header("content-type", "text/plain")
        .body("close it")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_zero_is_refused_like_limit_500_on_every_list() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let ticket = new_ticket(&env).await;
    let doc = document();
    let mut lists = 0;
    for (method, path, op) in operations(&doc) {
        if method != "get" || !query_params(&op).contains(&"limit".to_owned()) {
            continue;
        }
        lists += 1;
        // The lists under a record that is not a ticket: the seeded contract's lines, and an
        // automation's versions.
        let owner = if path.starts_with("/v1/contracts/") {
            env.a.seeded.contract_id.to_string()
        } else if path.starts_with("/v1/automations/") {
            let body = json!({ "name": "Paged" });
            let a = env
                .ok(Method::POST, "/v1/automations", &env.a.key, &body)
                .await;
            a["id"].as_str().unwrap().to_owned()
        } else {
            ticket.clone()
        };
        let mut base = concrete(&path, &owner);
        // The calendar is read by range: its list requires one.
        if path == "/v1/schedule-entries" {
            base.push_str("?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z");
        }
        let sep = if base.contains('?') { '&' } else { '?' };
        let (too_many, expected) =
            call(&env, Method::GET, &format!("{base}{sep}limit=500"), None).await;
        assert_eq!(
            too_many,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{base}: {expected}"
        );
        assert_eq!(fields(&expected), ["limit"], "{base}: {expected}");
        let (zero, answer) = call(&env, Method::GET, &format!("{base}{sep}limit=0"), None).await;
        assert_eq!(zero, too_many, "{base}{sep}limit=0: {answer}");
        assert_eq!(fields(&answer), ["limit"], "{base}{sep}limit=0: {answer}");
        let (one, page) = call(&env, Method::GET, &format!("{base}{sep}limit=1"), None).await;
        assert_eq!(one, StatusCode::OK, "{base}{sep}limit=1: {page}");
    }
    assert!(lists >= 12, "only {lists} paged lists");
    env.shutdown().await;
}

/// The lists that answer every entry at once; the README names the same ones.
const WHOLE_LISTS: [&str; 4] = [
    "/v1/automation-actions",
    "/v1/notification-templates",
    "/v1/me/notification-preferences",
    "/v1/tickets/{id}/sla/audit",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_pages_with_limit_and_cursor_into_items_and_next_cursor() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let doc = document();
    for (method, path, op) in operations(&doc) {
        if method != "get" {
            continue;
        }
        let schema = ok_schema(&doc, &op);
        if schema["type"] == "array" {
            assert!(
                WHOLE_LISTS.contains(&path.as_str()),
                "GET {path} answers a bare array: page it, or name it in the README"
            );
            continue;
        }
        let paged = schema["properties"]["items"]["type"] == "array";
        if paged {
            assert!(
                schema["properties"]["next_cursor"].is_object(),
                "GET {path}: items without next_cursor"
            );
            let params = query_params(&op);
            for name in ["limit", "cursor"] {
                assert!(params.contains(&name.to_owned()), "GET {path} lacks {name}");
            }
        }
    }

    // The SLA configuration lists page like the others.
    env.ok(Method::POST, "/v1/sla/itil-setup", &env.a.key, &json!({}))
        .await;
    for (path, bodies) in [
        (
            "/v1/sla/holidays",
            vec![
                json!({ "date": "2027-01-01" }),
                json!({ "date": "2027-12-25" }),
                json!({ "date": "2027-12-26" }),
            ],
        ),
        (
            "/v1/sla/schedules",
            vec![
                json!({ "name": "Night desk", "timezone": "UTC", "is_24x7": true }),
                json!({ "name": "Day desk", "timezone": "Europe/Paris", "is_24x7": true }),
            ],
        ),
        (
            "/v1/sla/policies",
            vec![json!({ "name": "Gold" }), json!({ "name": "Silver" })],
        ),
    ] {
        let mut created = Vec::new();
        for body in &bodies {
            let r = env.ok(Method::POST, path, &env.a.key, body).await;
            created.push(r["id"].as_str().unwrap().to_owned());
        }
        let mut seen: Vec<String> = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = env
                .ok(
                    Method::GET,
                    &format!("{path}?limit=1&cursor={cursor}"),
                    &env.a.key,
                    &Value::Null,
                )
                .await;
            let items = page["items"]
                .as_array()
                .unwrap_or_else(|| panic!("{path}: {page}"));
            assert!(items.len() <= 1, "{path}: {page}");
            seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        let unique: std::collections::BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{path}: a row twice: {seen:?}");
        for id in &created {
            assert!(seen.contains(id), "{path}: {id} never listed: {seen:?}");
        }
    }
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_field_is_a_400_naming_its_path() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let ticket = new_ticket(&env).await;
    for (method, path, body, field) in [
        (
            Method::POST,
            "/v1/tickets".to_owned(),
            json!({ "title": "x", "priority_id": 5 }),
            "priority_id",
        ),
        (
            Method::PATCH,
            format!("/v1/tickets/{ticket}"),
            json!({ "awaiting_client": "yes" }),
            "awaiting_client",
        ),
        (
            Method::PUT,
            "/v1/sla/settings".to_owned(),
            json!({ "pause_while_awaiting_client": "yes" }),
            "pause_while_awaiting_client",
        ),
        (
            Method::POST,
            "/v1/sla/policies".to_owned(),
            json!({ "name": "Gold", "targets": [{ "priority_id": env.a.seeded.priority_ids[0], "response_minutes": "soon" }] }),
            "targets[0].response_minutes",
        ),
        (
            Method::POST,
            format!("/v1/tickets/{ticket}/assign"),
            json!({ "assignee_id": true }),
            "assignee_id",
        ),
    ] {
        let (status, problem) = call(&env, method.clone(), &path, Some(&body)).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{method} {path}: {problem}"
        );
        assert_eq!(fields(&problem), [field], "{method} {path}: {problem}");
    }
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_string_errors_name_the_parameter() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    for (path, field) in [
        ("/v1/tickets?limit=abc", "limit"),
        ("/v1/tickets?limit=-1", "limit"),
        ("/v1/tickets?open=maybe", "open"),
        ("/v1/tickets?board_id=nope", "board_id"),
        ("/v1/tickets?colour=red", "colour"),
        ("/v1/contacts?client_id=nope", "client_id"),
        ("/v1/sla/holidays?limit=ten", "limit"),
        (
            "/v1/sla/compliance?from=yesterday&to=2026-12-01T00:00:00Z",
            "from",
        ),
        ("/v1/tickets?cursor=not-a-cursor!", "cursor"),
    ] {
        let (status, problem) = call(&env, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {problem}");
        assert_eq!(fields(&problem), [field], "{path}: {problem}");
    }
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_reflection_answers_v1_and_v1alpha() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{}", env.edge().grpc_addr))
            .unwrap()
            .connect()
            .await
            .unwrap();

    let services_v1 = {
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = ServerReflectionClient::new(channel.clone())
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .unwrap()
            .into_inner();
        match stream.message().await.unwrap().unwrap().message_response {
            Some(MessageResponse::ListServicesResponse(list)) => {
                list.service.into_iter().map(|s| s.name).collect::<Vec<_>>()
            }
            other => panic!("v1: {other:?}"),
        }
    };
    let services_v1alpha = {
        use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = ServerReflectionClient::new(channel)
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .unwrap()
            .into_inner();
        match stream.message().await.unwrap().unwrap().message_response {
            Some(MessageResponse::ListServicesResponse(list)) => {
                list.service.into_iter().map(|s| s.name).collect::<Vec<_>>()
            }
            other => panic!("v1alpha: {other:?}"),
        }
    };
    for services in [&services_v1, &services_v1alpha] {
        for name in ["psa.v1.TicketService", "psa.v1.SlaService"] {
            assert!(
                services.contains(&name.to_owned()),
                "{name} not in {services:?}"
            );
        }
    }
    env.shutdown().await;
}

/// Every string in `v` that reads as an RFC 3339 instant, with its place.
fn instants(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => {
            out.push((at.to_owned(), s.clone()));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                instants(item, &format!("{at}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                instants(item, &format!("{at}.{k}"), out);
            }
        }
        _ => {}
    }
}

fn fraction_digits(instant: &str) -> usize {
    instant.split_once('.').map_or(0, |(_, rest)| {
        rest.bytes().take_while(u8::is_ascii_digit).count()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instants_are_sent_with_at_most_milliseconds() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let key = env.a.key.clone();
    // Targets for every priority, so the clock has due instants to show.
    env.ok(Method::POST, "/v1/sla/itil-setup", &key, &json!({}))
        .await;
    let created = env
        .ok(
            Method::POST,
            "/v1/tickets",
            &key,
            &json!({ "title": "Clock me", "priority_id": env.a.seeded.priority_ids[1] }),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    env.ok(
        Method::POST,
        &format!("/v1/tickets/{id}/comments"),
        &key,
        &json!({ "body": "Looking", "is_internal": true }),
    )
    .await;
    let fetched = env
        .ok(
            Method::GET,
            &format!("/v1/tickets/{id}"),
            &key,
            &Value::Null,
        )
        .await;
    let comments = env
        .ok(
            Method::GET,
            &format!("/v1/tickets/{id}/comments"),
            &key,
            &Value::Null,
        )
        .await;
    let sla = eventually(Duration::from_secs(30), || async {
        let sla = env
            .ok(
                Method::GET,
                &format!("/v1/tickets/{id}/sla"),
                &key,
                &Value::Null,
            )
            .await;
        let live = sla["source"] == "workflow" && sla["resolution"]["due_at"].is_string();
        Ok(live.then_some(sla))
    })
    .await
    .unwrap();

    let mut found = Vec::new();
    for (name, answer) in [
        ("create ticket", &created),
        ("get ticket", &fetched),
        ("list comments", &comments),
        ("ticket SLA", &sla),
    ] {
        let mut here = Vec::new();
        instants(answer, name, &mut here);
        assert!(!here.is_empty(), "{name} has no instants: {answer}");
        found.extend(here);
    }
    for (at, instant) in &found {
        assert!(fraction_digits(instant) <= 3, "{at} = {instant}");
    }

    // gRPC timestamps too.
    let endpoint = format!("http://{}", env.edge().grpc_addr);
    let mut tickets = pb::ticket_service_client::TicketServiceClient::connect(endpoint.clone())
        .await
        .unwrap();
    let ticket = tickets
        .get_ticket(authed(&key, pb::GetTicketRequest { id: id.clone() }))
        .await
        .unwrap()
        .into_inner();
    let mut sla_client = pb::sla_service_client::SlaServiceClient::connect(endpoint)
        .await
        .unwrap();
    let clock = sla_client
        .get_ticket_sla(authed(&key, pb::SlaIdRequest { id }))
        .await
        .unwrap()
        .into_inner();
    let stamps = [
        ("created_at", ticket.created_at),
        ("updated_at", ticket.updated_at),
        ("started_at", clock.started_at),
        ("resolution.due_at", clock.resolution.and_then(|p| p.due_at)),
    ];
    for (name, stamp) in stamps {
        let stamp = stamp.unwrap_or_else(|| panic!("gRPC {name} missing"));
        assert_eq!(stamp.nanos % 1_000_000, 0, "gRPC {name} = {stamp:?}");
    }
    env.shutdown().await;
}
