//! Every request that can be wrong gets a clear problem+json 4xx naming what is wrong, and
//! writes nothing.

use psa_protos::v1::CreateTicketRequest;
use psa_protos::v1::ticket_service_client::TicketServiceClient;
use psa_tests::{Parts, TestEnv, authed, lock_waiter};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_a_4xx_and_the_edge_stays_up() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key.clone();
    // (method, path, raw JSON body, status, field or fragment the problem names)
    let depth = 40;
    let deep = format!(
        r#"{{"title":"x","description":{}1{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let recursive = json!({
        "subject": "s",
        "html": r#"{{#*inline "p"}}{{> p}}{{/inline}}{{> p}}"#,
        "text": "t"
    });
    let preview_recursive = json!({ "template": recursive }).to_string();
    let recursive = recursive.to_string();
    let cases: Vec<(Method, &str, String, StatusCode, &str)> = vec![
        (
            Method::POST,
            "/v1/tickets",
            r#"{"title":"a\u0000b"}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "title",
        ),
        (
            Method::POST,
            "/v1/clients",
            r#"{"name":"Acme","colour\u0000":"x"}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "colour",
        ),
        (
            Method::POST,
            "/v1/sla/schedules",
            json!({"name": "S", "timezone": "UTC", "is_24x7": true,
                   "holidays": [{"name": "x\u{0}", "date": "2026-12-25"}]})
            .to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "holidays[0].name",
        ),
        (
            Method::POST,
            "/v1/sla/holidays",
            json!({"name": "x".repeat(201), "date": "2026-12-25"}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            Method::POST,
            "/v1/sla/holidays",
            json!({"name": "Far", "date": "+10000-01-01"}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "date",
        ),
        (
            Method::POST,
            "/v1/sla/holidays",
            json!({"name": "Far", "date": "9999-01-01"}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "date",
        ),
        (
            Method::POST,
            "/v1/tickets",
            deep,
            StatusCode::BAD_REQUEST,
            "nested",
        ),
        // Once overflowed the stack and aborted the whole process.
        (
            Method::POST,
            "/v1/notification-templates/ticket.created/preview",
            preview_recursive,
            StatusCode::UNPROCESSABLE_ENTITY,
            "html",
        ),
        (
            Method::PUT,
            "/v1/notification-templates/ticket.created",
            recursive,
            StatusCode::UNPROCESSABLE_ENTITY,
            "html",
        ),
    ];
    for (method, path, body, status, mentions) in cases {
        let r = env
            .req(method.clone(), path, &key)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{method} {path} {body}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let problem: Value = r.json().await.unwrap();
        assert!(
            super::sla_config::fields(&problem)
                .iter()
                .any(|f| f == mentions)
                || problem["detail"].as_str().unwrap_or("").contains(mentions),
            "{method} {path}: {problem} should name {mentions}"
        );
    }
    // NUL in a path segment or a query parameter.
    for path in [
        "/v1/notification-templates/ticket%00created",
        "/v1/tickets?cursor=%00",
    ] {
        let r = env.req(Method::GET, path, &key).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        let problem: Value = r.json().await.unwrap();
        assert!(
            problem["detail"].as_str().unwrap().contains("NUL"),
            "{problem}"
        );
    }
    // Nothing was written, and the edge still answers.
    assert_eq!(env.count("tickets").await, 0);
    assert_eq!(env.count("holidays").await, 0);
    assert_eq!(env.count("tenant_email_templates").await, 0);
    let health = env.http.get(env.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    // gRPC: NUL in a text field, and a message that is not protobuf at all.
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{}", env.edge().grpc_addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
    let mut grpc = TicketServiceClient::new(channel.clone());
    let e = grpc
        .create_ticket(authed(
            &key,
            CreateTicketRequest {
                title: "a\0b".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("title"), "{}", e.message());
    let e = raw_grpc(
        channel,
        "/psa.v1.TicketService/CreateTicket",
        &key,
        vec![0xff, 0xff, 0xff, 0xff, 0x0f],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
    assert_eq!(env.count("tickets").await, 0);
    env.shutdown().await;
}

/// Sends `bytes` as the request message of `path`, unchecked, the way a broken client would.
async fn raw_grpc(
    channel: tonic::transport::Channel,
    path: &'static str,
    key: &str,
    bytes: Vec<u8>,
) -> Result<(), tonic::Status> {
    #[derive(Default)]
    struct Raw;
    impl tonic::codec::Codec for Raw {
        type Encode = Vec<u8>;
        type Decode = Vec<u8>;
        type Encoder = Raw;
        type Decoder = Raw;
        fn encoder(&mut self) -> Raw {
            Raw
        }
        fn decoder(&mut self) -> Raw {
            Raw
        }
    }
    impl tonic::codec::Encoder for Raw {
        type Item = Vec<u8>;
        type Error = tonic::Status;
        fn encode(
            &mut self,
            item: Vec<u8>,
            dst: &mut tonic::codec::EncodeBuf<'_>,
        ) -> Result<(), tonic::Status> {
            use bytes::BufMut;
            dst.put_slice(&item);
            Ok(())
        }
    }
    impl tonic::codec::Decoder for Raw {
        type Item = Vec<u8>;
        type Error = tonic::Status;
        fn decode(
            &mut self,
            src: &mut tonic::codec::DecodeBuf<'_>,
        ) -> Result<Option<Vec<u8>>, tonic::Status> {
            use bytes::Buf;
            Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
        }
    }
    let mut client = tonic::client::Grpc::new(channel);
    client
        .ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    client
        .unary(
            authed(key, bytes),
            http::uri::PathAndQuery::from_static(path),
            Raw,
        )
        .await
        .map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_keys_cannot_probe_other_clients_or_pause_the_clock() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let client_key = env.a.key_with_role(&env.owner, "client").await.unwrap();
    let other: Value = env
        .ok(
            Method::POST,
            "/v1/clients",
            &env.a.key,
            &json!({"name": "Other Co"}),
        )
        .await;
    let other_contact: Value = env
        .ok(
            Method::POST,
            "/v1/contacts",
            &env.a.key,
            &json!({"client_id": other["id"], "name": "Someone"}),
        )
        .await;
    // Another client's contact and a contact that does not exist read exactly alike.
    let mut answers = Vec::new();
    for contact in [other_contact["id"].clone(), json!(uuid::Uuid::now_v7())] {
        let r = env
            .req(Method::POST, "/v1/tickets", &client_key)
            .json(&json!({"title": "Help", "contact_id": contact}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let mut problem: Value = r.json().await.unwrap();
        problem.as_object_mut().unwrap().remove("instance");
        answers.push((status, problem));
    }
    assert_eq!(answers[0].0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answers[0], answers[1]);

    // Waiting on the client stops the MSP's clock: staff only.
    let mine: Value = env
        .ok(
            Method::POST,
            "/v1/tickets",
            &client_key,
            &json!({"title": "Mine"}),
        )
        .await;
    let path = format!("/v1/tickets/{}", mine["id"].as_str().unwrap());
    let r = env
        .req(Method::PATCH, &path, &client_key)
        .json(&json!({"awaiting_client": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let t: Value = env.ok(Method::GET, &path, &client_key, &Value::Null).await;
    assert_eq!(t["awaiting_client"], false);
    let staff: Value = env
        .ok(
            Method::PATCH,
            &path,
            &env.a.key,
            &json!({"awaiting_client": true}),
        )
        .await;
    assert_eq!(staff["awaiting_client"], true);
    env.shutdown().await;
}

/// Starts this test's edge with `limits` instead of the harness's.
async fn edge_with(env: &mut TestEnv, limits: impl FnOnce(&mut psa_edge::config::RequestLimits)) {
    let mut config = env.edge_config(false);
    limits(&mut config.limits);
    env.edge = Some(psa_edge::serve::start(config).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_over_its_rate_is_told_to_wait_and_other_keys_are_not() {
    let mut env = TestEnv::start(Parts::NONE).await.unwrap();
    edge_with(&mut env, |l| {
        l.rate_per_second = 1;
        l.rate_burst = 3;
    })
    .await;
    for _ in 0..3 {
        let r = env
            .req(Method::GET, "/v1/tickets", &env.a.key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = env
        .req(Method::GET, "/v1/tickets", &env.a.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // gRPC shares the allowance: the same key is out of it there too.
    let mut grpc = TicketServiceClient::connect(format!("http://{}", env.edge().grpc_addr))
        .await
        .unwrap();
    let e = grpc
        .create_ticket(authed(
            &env.a.key,
            CreateTicketRequest {
                title: "x".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::ResourceExhausted);
    // Another tenant's key, and another key of the same tenant, are untouched.
    let r = env
        .req(Method::GET, "/v1/tickets", &env.b.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let second = env.a.key_with_role(&env.owner, "admin").await.unwrap();
    let r = env
        .req(Method::GET, "/v1/tickets", &second)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_request_times_out_and_a_full_edge_sheds_instead_of_queueing() {
    let mut env = TestEnv::start(Parts::NONE).await.unwrap();
    edge_with(&mut env, |l| {
        l.timeout = std::time::Duration::from_millis(1500);
        l.max_in_flight = 1;
    })
    .await;
    // Hold a lock every ticket read waits on, as a slow query or a lock storm would.
    let mut lock = env.owner.begin().await.unwrap();
    sqlx::query("LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let stuck = env.req(Method::GET, "/v1/tickets", &env.a.key).send();
    let stuck = tokio::spawn(stuck);
    // While that one holds the only slot (its read waits on the lock), the next is refused
    // at once.
    lock_waiter(&env, "tickets", std::time::Duration::from_secs(1))
        .await
        .expect("the first request waits on the lock");
    let shed = env
        .req(Method::GET, "/v1/tickets", &env.a.key)
        .send()
        .await
        .unwrap();
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(shed.headers()["retry-after"], "1");
    let problem: Value = shed.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("in flight"),
        "{problem}"
    );
    // The probes stay outside the cap: a full edge is alive, not restarted for it.
    let health = env.http.get(env.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let timed_out = stuck.await.unwrap().unwrap();
    assert_eq!(timed_out.status(), StatusCode::SERVICE_UNAVAILABLE);
    let problem: Value = timed_out.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("timed out"),
        "{problem}"
    );
    lock.rollback().await.unwrap();
    let r = env
        .req(Method::GET, "/v1/tickets", &env.a.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    env.shutdown().await;
}
