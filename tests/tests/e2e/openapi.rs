//! The OpenAPI document is a contract clients generate code from and fuzzers drive, so its shape
//! is checked here: every path parameter declared, unique operation ids, every error answer
//! documented as `application/problem+json`, the limits written down, and exactly the routes the
//! router serves.
//!
//! The router's routes are read from the router's own source (`edge/src/http/mod.rs`, included at
//! compile time) rather than from a second list that could drift; a live check then asks the
//! running edge for every documented operation and expects it to be routed.

use psa_domain::ticket::{COMMENT_MAX, DESCRIPTION_MAX, NAME_MAX, TITLE_MAX};
use psa_tests::{Parts, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

fn document() -> Value {
    serde_json::to_value(psa_edge::web::openapi::spec()).unwrap()
}

/// `(method, path, operation)` for every operation of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_owned(), path.clone(), op.clone()));
            }
        }
    }
    out
}

fn template_parameters(path: &str) -> BTreeSet<String> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

fn is_keyed(path: &str) -> bool {
    path.starts_with("/v1/")
}

fn schema_ref(content: &Value) -> Option<&str> {
    content["schema"]["$ref"].as_str()
}

#[test]
fn every_path_parameter_is_declared_and_no_other() {
    let doc = document();
    for (method, path, op) in operations(&doc) {
        let declared: BTreeSet<String> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .map(|p| {
                assert_eq!(p["required"], true, "{method} {path}: {p}");
                assert!(
                    p["schema"].is_object(),
                    "{method} {path}: {p} has no schema"
                );
                p["name"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(declared, template_parameters(&path), "{method} {path}");
    }
}

#[test]
fn operation_ids_are_present_and_unique() {
    let doc = document();
    let mut seen: HashMap<String, String> = HashMap::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
            .to_owned();
        assert!(
            id.chars().next().is_some_and(|c| c.is_ascii_lowercase()) && !id.contains('_'),
            "{method} {path}: operationId {id} is not lowerCamelCase"
        );
        if let Some(other) = seen.insert(id.clone(), format!("{method} {path}")) {
            panic!("operationId {id} used by both {other} and {method} {path}");
        }
    }
}

#[test]
fn every_error_is_problem_json_and_the_common_ones_are_documented() {
    let doc = document();
    assert!(
        doc["components"]["schemas"]["Problem"].is_object(),
        "Problem schema missing"
    );
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        let mut required: Vec<&str> = vec!["503"];
        if is_keyed(&path) {
            required.extend(["400", "401", "403", "429"]);
            if !template_parameters(&path).is_empty() {
                required.push("404");
            }
            if !op["requestBody"].is_null() {
                required.extend(["413", "415", "422"]);
            }
        }
        for status in required {
            let response = responses
                .get(status)
                .unwrap_or_else(|| panic!("{method} {path} does not document {status}"));
            let problem = &response["content"]["application/problem+json"];
            // An operation that validates an automation definition answers its 422 with the
            // definition's pointers: a Problem whose `errors` may also be pointers.
            let expected = if status == "422" && DEFINITION_OPERATIONS.contains(&path.as_str()) {
                "#/components/schemas/DefinitionProblem"
            } else {
                "#/components/schemas/Problem"
            };
            assert_eq!(
                schema_ref(problem),
                Some(expected),
                "{method} {path} {status}: not a problem+json {expected}"
            );
        }
        for status in ["429", "503"] {
            if let Some(r) = responses.get(status) {
                assert!(
                    r["headers"]["Retry-After"].is_object(),
                    "{method} {path} {status} has no Retry-After header"
                );
            }
        }
        for (status, response) in responses {
            let content = response["content"].as_object();
            if status.starts_with('4') || status.starts_with('5') {
                let content = content.unwrap_or_else(|| panic!("{method} {path} {status}"));
                assert!(
                    content.contains_key("application/problem+json"),
                    "{method} {path} {status} is not problem+json"
                );
                // The readiness report is the one non-problem error body, beside the problem.
                if is_keyed(&path) {
                    assert!(
                        !content.contains_key("application/json"),
                        "{method} {path} {status} declares application/json"
                    );
                }
            }
            if status == "204" {
                assert!(
                    content.is_none_or(|c| c.is_empty()),
                    "{method} {path} 204 has a body"
                );
            }
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{method} {path} {status} has no description"
            );
        }
        let success = responses.keys().filter(|s| s.starts_with('2')).count();
        // One success per operation, except where one operation has two outcomes by design:
        // an invoice run's `dry_run` answers its report at once (200), a run starts (202).
        let expected = match (method.as_str(), path.as_str()) {
            ("post", "/v1/invoice-runs") => 2,
            _ => 1,
        };
        assert_eq!(
            success, expected,
            "{method} {path} documents {success} success statuses"
        );
    }
}

#[test]
fn keyed_operations_need_the_bearer_key_and_the_rest_do_not() {
    let doc = document();
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"], serde_json::json!([{"api_key": []}]));
    for (method, path, op) in operations(&doc) {
        if is_keyed(&path) {
            assert!(
                op.get("security").is_none(),
                "{method} {path} overrides the key requirement"
            );
        } else {
            assert_eq!(
                op["security"],
                serde_json::json!([{}]),
                "{method} {path} needs no key"
            );
        }
    }
}

#[test]
fn limits_are_written_down() {
    let doc = document();
    let mut pages = 0;
    for (method, path, op) in operations(&doc) {
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p["in"] == "query" && p["name"] == "limit" {
                pages += 1;
                assert_eq!(p["schema"]["minimum"], 1, "{method} {path} limit");
                assert_eq!(p["schema"]["maximum"], 200, "{method} {path} limit");
            }
        }
    }
    assert!(pages >= 9, "only {pages} paged lists");
    let mut keyed_creates = 0;
    for (method, path, op) in operations(&doc) {
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p["in"] == "header" && p["name"] == "Idempotency-Key" {
                keyed_creates += 1;
                let max = psa_store::idempotency::MAX_KEY_LEN as u64;
                assert_eq!(p["schema"]["maxLength"], max, "{method} {path}");
                assert_eq!(p["schema"]["minLength"], 1, "{method} {path}");
            }
        }
    }
    assert!(
        keyed_creates >= 7,
        "only {keyed_creates} idempotent creates"
    );

    let schemas = &doc["components"]["schemas"];
    let max_length = |schema: &str, field: &str| -> Option<u64> {
        schemas[schema]["properties"][field]["maxLength"].as_u64()
    };
    let limit = |n: usize| Some(n as u64);
    assert_eq!(max_length("NewTicket", "title"), limit(TITLE_MAX));
    assert_eq!(
        max_length("NewTicket", "description"),
        limit(DESCRIPTION_MAX)
    );
    assert_eq!(max_length("TicketPatch", "title"), limit(TITLE_MAX));
    assert_eq!(max_length("NewComment", "body"), limit(COMMENT_MAX));
    assert_eq!(max_length("ClientInput", "name"), limit(NAME_MAX));
    assert_eq!(max_length("ContactInput", "phone"), Some(50));
    assert_eq!(max_length("BoardInput", "name"), limit(NAME_MAX));
    assert_eq!(max_length("PolicyInput", "description"), Some(2000));
    assert_eq!(max_length("ScheduleInput", "name"), Some(200));
    assert_eq!(max_length("TemplateInput", "html"), Some(100_000));
    // Every string a client writes is bounded.
    for (name, schema) in schemas.as_object().unwrap() {
        let written = name.ends_with("Input")
            || name.ends_with("Patch")
            || name.starts_with("New")
            || name.starts_with("SlaPreview");
        if !written {
            continue;
        }
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            let is_string = property["type"] == "string"
                || property["type"]
                    .as_array()
                    .is_some_and(|t| t.contains(&Value::from("string")));
            let bounded = property["maxLength"].is_u64() || property["format"].is_string();
            assert!(
                !is_string || bounded,
                "{name}.{field} is a string without maxLength or format"
            );
        }
    }
    // Instants and dates say so.
    assert_eq!(
        schemas["Ticket"]["properties"]["created_at"]["format"],
        "date-time"
    );
    assert_eq!(schemas["Holiday"]["properties"]["date"]["format"], "date");
}

#[test]
fn main_schemas_are_described_with_an_example() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    for name in [
        "Ticket",
        "NewTicket",
        "Comment",
        "Client",
        "Contact",
        "SlaPreviewRequest",
        "SlaPreviewResponse",
        "Policy",
        "Schedule",
        "Problem",
    ] {
        let s = &schemas[name];
        assert!(
            s["description"].as_str().is_some_and(|d| d.len() > 10),
            "{name} has no description"
        );
        let example =
            !s["example"].is_null() || s["examples"].as_array().is_some_and(|e| !e.is_empty());
        assert!(example, "{name} has no example");
    }
}

#[test]
fn responses_match_what_the_handlers_send() {
    let doc = document();
    let ok = |path: &str, method: &str, status: &str| {
        doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
            .clone()
    };
    // The audit log is a list of steps, not an object.
    let audit = ok("/v1/tickets/{id}/sla/audit", "get", "200");
    assert_eq!(audit["type"], "array", "{audit}");
    assert_eq!(audit["items"]["$ref"], "#/components/schemas/AuditStep");
    assert_eq!(
        ok("/v1/sla/preview", "post", "200")["$ref"],
        "#/components/schemas/SlaPreviewResponse"
    );
    assert_eq!(
        ok("/v1/tickets/{id}/sla", "get", "200")["$ref"],
        "#/components/schemas/TicketSla"
    );
    assert_eq!(
        doc["paths"]["/v1/sla/preview"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/SlaPreviewRequest"
    );
    for (method, path, op) in operations(&doc) {
        if path == "/openapi.json" {
            continue; // the document itself: any JSON
        }
        for (status, response) in op["responses"].as_object().unwrap() {
            let Some(json) = response["content"].get("application/json") else {
                continue;
            };
            let schema = &json["schema"];
            assert!(
                !(schema["type"] == "object" && schema["properties"].is_null()),
                "{method} {path} {status} is an untyped object"
            );
        }
    }
}

/// Routes the router serves, read from its source: `(method, path)`.
fn router_routes() -> BTreeSet<(String, String)> {
    let source = include_str!("../../../edge/src/web/router.rs");
    // `let v1 = Router::new()…` is served under `.nest("/v1", v1)`.
    let mut prefixes: HashMap<String, String> = HashMap::new();
    for nest in source.split(".nest(").skip(1) {
        let args = nest.split_once(')').unwrap().0;
        let (prefix, var) = args.split_once(',').unwrap();
        prefixes.insert(
            var.trim().to_owned(),
            prefix.trim().trim_matches('"').to_owned(),
        );
    }
    let mut routes = BTreeSet::new();
    let mut prefix = String::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        // The chain this route belongs to starts at the last `Router::new()` before it.
        let before = &rest[..at];
        if let Some(start) = before.rfind("Router::new()") {
            let head = before[..start].trim_end();
            prefix = head
                .strip_suffix('=')
                .and_then(|h| h.trim_end().rsplit(' ').next())
                .and_then(|var| prefixes.get(var))
                .cloned()
                .unwrap_or_default();
        }
        let call = &rest[at + ".route(".len()..];
        let end = closing_paren(call);
        let args = &call[..end];
        let (path, methods) = args.split_once(',').unwrap();
        let path = format!("{prefix}{}", path.trim().trim_matches('"'));
        for method in METHODS {
            let needle = format!("{method}(");
            let mut from = 0;
            while let Some(i) = methods[from..].find(&needle) {
                let i = from + i;
                let prev = methods[..i].chars().last().unwrap_or(' ');
                if !(prev.is_alphanumeric() || prev == '_' || prev == ':') {
                    routes.insert((method.to_owned(), path.clone()));
                }
                from = i + needle.len();
            }
        }
        rest = &call[end..];
    }
    routes
}

fn closing_paren(s: &str) -> usize {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced .route( in mod.rs");
}

#[test]
fn the_document_lists_exactly_the_routes_the_router_serves() {
    let served = router_routes();
    assert!(
        served.contains(&("get".into(), "/v1/tickets/{id}/sla/audit".into())),
        "the route reader no longer understands mod.rs: {served:?}"
    );
    assert!(served.contains(&("get".into(), "/healthz".into())));
    let documented: BTreeSet<(String, String)> = operations(&document())
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "served but not documented: {undocumented:?}; documented but not served: {unserved:?}"
    );
}

/// Every documented operation reaches a handler of the running edge: without a key, a keyed
/// operation is refused with 401 (not the 404 of an unknown path or a 405 of a wrong method).
/// The operations whose 422 lists an automation definition's errors as JSON pointers.
const DEFINITION_OPERATIONS: [&str; 2] =
    ["/v1/automations/dry-run", "/v1/automations/{id}/versions"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_routed_by_the_running_edge() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let served: Value = env
        .http
        .get(env.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        served,
        document(),
        "the served document is the generated one"
    );
    for (method, path, _) in operations(&served) {
        let concrete = template_parameters(&path)
            .iter()
            .fold(path.clone(), |p, name| {
                p.replace(
                    &format!("{{{name}}}"),
                    "0190d9a0-0000-7000-8000-000000000000",
                )
            });
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let answer = env
            .http
            .request(method.clone(), env.url(&concrete))
            .send()
            .await
            .unwrap();
        let expected = if is_keyed(&path) {
            StatusCode::UNAUTHORIZED
        } else if path == "/readyz" {
            answer.status() // ready or not: either way routed
        } else {
            StatusCode::OK
        };
        assert_eq!(answer.status(), expected, "{method} {concrete}");
        if is_keyed(&path) {
            assert_eq!(
                answer.headers()["content-type"],
                "application/problem+json",
                "{method} {concrete}"
            );
        }
    }
    env.shutdown().await;
}

/// Names of boards, priorities, statuses, schedules and policies are unique per tenant, so every
/// write that sets one can answer 409.
#[test]
fn unique_names_can_conflict() {
    let doc = document();
    for (path, method) in [
        ("/v1/boards", "post"),
        ("/v1/boards/{id}", "patch"),
        ("/v1/priorities", "post"),
        ("/v1/priorities/{id}", "patch"),
        ("/v1/statuses", "post"),
        ("/v1/statuses/{id}", "patch"),
        ("/v1/sla/schedules", "post"),
        ("/v1/sla/schedules/{id}", "put"),
        ("/v1/sla/policies", "post"),
        ("/v1/sla/policies/{id}", "put"),
        ("/v1/sla/schedules/{id}", "delete"),
        ("/v1/sla/policies/{id}", "delete"),
    ] {
        let conflict = &doc["paths"][path][method]["responses"]["409"];
        assert_eq!(
            schema_ref(&conflict["content"]["application/problem+json"]),
            Some("#/components/schemas/Problem"),
            "{method} {path} does not document 409"
        );
    }
}
