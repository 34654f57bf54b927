//! Every request that can be wrong gets a clear problem+json 4xx naming what is wrong, and
//! writes nothing.

use psa_protos::v1::CreateTicketRequest;
use psa_protos::v1::ticket_service_client::TicketServiceClient;
use psa_tests::{Parts, TestEnv, authed};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Case {
    name: &'static str,
    key: Option<String>,
    content_type: &'static str,
    body: String,
    status: StatusCode,
    /// A fragment the problem's `detail` or field must contain.
    mentions: &'static str,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_and_write_nothing() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = Some(env.a.key.clone());
    let json = "application/json";
    let cases = vec![
        Case {
            name: "malformed JSON",
            key: key.clone(),
            content_type: json,
            body: "{\"title\": ".into(),
            status: StatusCode::BAD_REQUEST,
            mentions: "body",
        },
        Case {
            name: "unknown field",
            key: key.clone(),
            content_type: json,
            body: r#"{"title":"x","colour":"red"}"#.into(),
            status: StatusCode::BAD_REQUEST,
            mentions: "colour",
        },
        Case {
            name: "missing title",
            key: key.clone(),
            content_type: json,
            body: "{}".into(),
            status: StatusCode::BAD_REQUEST,
            mentions: "title",
        },
        Case {
            name: "wrong type",
            key: key.clone(),
            content_type: json,
            body: r#"{"title": 7}"#.into(),
            status: StatusCode::BAD_REQUEST,
            mentions: "title",
        },
        Case {
            name: "malformed id",
            key: key.clone(),
            content_type: json,
            body: r#"{"title":"x","board_id":"nope"}"#.into(),
            status: StatusCode::BAD_REQUEST,
            mentions: "board_id",
        },
        Case {
            name: "empty title",
            key: key.clone(),
            content_type: json,
            body: r#"{"title":"  "}"#.into(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            mentions: "title",
        },
        Case {
            name: "unknown board",
            key: key.clone(),
            content_type: json,
            body: format!(r#"{{"title":"x","board_id":"{}"}}"#, uuid::Uuid::now_v7()),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            mentions: "board_id",
        },
        Case {
            name: "other tenant's board",
            key: key.clone(),
            content_type: json,
            body: format!(r#"{{"title":"x","board_id":"{}"}}"#, env.b.seeded.board_id),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            mentions: "board_id",
        },
        Case {
            name: "oversize body",
            key: key.clone(),
            content_type: json,
            body: format!(r#"{{"title":"{}"}}"#, "x".repeat(70_000)),
            status: StatusCode::PAYLOAD_TOO_LARGE,
            mentions: "larger",
        },
        Case {
            name: "not JSON",
            key: key.clone(),
            content_type: "text/plain",
            body: "title=x".into(),
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            mentions: "Content-Type",
        },
        Case {
            name: "no key",
            key: None,
            content_type: json,
            body: r#"{"title":"x"}"#.into(),
            status: StatusCode::UNAUTHORIZED,
            mentions: "credentials",
        },
        Case {
            name: "invalid key",
            key: Some("psa_not_a_key".into()),
            content_type: json,
            body: r#"{"title":"x"}"#.into(),
            status: StatusCode::UNAUTHORIZED,
            mentions: "credentials",
        },
    ];
    for case in cases {
        let mut r = env
            .http
            .post(env.url("/v1/tickets"))
            .header("content-type", case.content_type)
            .body(case.body);
        if let Some(k) = &case.key {
            r = r.bearer_auth(k);
        }
        let response = r.send().await.unwrap();
        assert_eq!(response.status(), case.status, "{}", case.name);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{}",
            case.name
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], case.status.as_u16(), "{}", case.name);
        assert!(
            problem.to_string().contains(case.mentions),
            "{}: {problem} should mention {}",
            case.name,
            case.mentions
        );
    }
    assert_eq!(env.count("tickets").await, 0);
    assert_eq!(env.count("outbox").await, 0);

    // Query strings and paths are checked too.
    let r = env
        .req(Method::GET, "/v1/tickets?colour=red", &env.a.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = env
        .req(Method::GET, "/v1/tickets?cursor=garbage!", &env.a.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = env
        .req(Method::GET, "/v1/tickets?limit=100000", &env.a.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = env
        .req(Method::GET, "/v1/tickets/not-a-uuid", &env.a.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = env
        .req(Method::GET, "/v1/nothing-here", &env.a.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // gRPC: the same rules, as status codes.
    let mut grpc = TicketServiceClient::connect(format!("http://{}", env.edge().grpc_addr))
        .await
        .unwrap();
    let e = grpc
        .create_ticket(tonic::Request::new(CreateTicketRequest {
            title: "x".into(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unauthenticated);
    let e = grpc
        .create_ticket(authed(
            &env.a.key,
            CreateTicketRequest {
                title: "".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("title"), "{}", e.message());
    let e = grpc
        .create_ticket(authed(
            &env.a.key,
            CreateTicketRequest {
                title: "x".into(),
                board_id: Some("nope".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("board_id"), "{}", e.message());
    assert_eq!(env.count("tickets").await, 0);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_key_replays_the_first_create() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let create = |body: Value| {
        env.req(Method::POST, "/v1/tickets", &env.a.key)
            .header("Idempotency-Key", "create-42")
            .json(&body)
            .send()
    };
    let first: Value = create(json!({ "title": "Once only" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second = create(json!({ "title": "Once only" })).await.unwrap();
    assert_eq!(second.status(), StatusCode::CREATED);
    let second: Value = second.json().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(env.count("tickets").await, 1);
    assert_eq!(env.count("outbox").await, 1);

    let other = create(json!({ "title": "Something else" })).await.unwrap();
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(env.count("tickets").await, 1);

    // Keys are per API key: tenant B's same key is a different request.
    let b = env
        .req(Method::POST, "/v1/tickets", &env.b.key)
        .header("Idempotency-Key", "create-42")
        .json(&json!({ "title": "Once only" }))
        .send()
        .await
        .unwrap();
    assert_eq!(b.status(), StatusCode::CREATED);
    assert_eq!(env.count("tickets").await, 2);
    env.shutdown().await;
}
