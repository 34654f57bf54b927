//! Health, readiness, metrics and gRPC reflection: what operators and load balancers rely on.

use psa_tests::{Parts, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_report_the_real_dependencies() {
    let mut env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let ok = env.http.get(env.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let ready = env.http.get(env.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["postgres"], "ok");
    assert_eq!(body["redis"], "ok");
    assert_eq!(body["temporal"], "ok");

    env.req(Method::GET, "/v1/tickets", &env.a.key)
        .send()
        .await
        .unwrap();
    let metrics = env
        .http
        .get(env.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            r#"psa_edge_http_requests_total{method="GET",route="/v1/tickets",status="200"}"#
        ),
        "{metrics}"
    );

    // An edge whose Temporal cannot be reached is alive but not ready, and says why.
    let mut config = env.edge_config(false);
    config.temporal_address = "127.0.0.1:1".into();
    let broken = psa_edge::serve::start(config).await.unwrap();
    let url = format!("http://{}", broken.http_addr);
    assert_eq!(
        env.http
            .get(format!("{url}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let not_ready = env.http.get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(not_ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = not_ready.json().await.unwrap();
    assert_eq!(body["postgres"], "ok");
    assert_ne!(body["temporal"], "ok");
    broken.shutdown().await;
    env.edge.take().unwrap().shutdown().await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_reflection_lists_the_ticket_service() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{}", env.edge().grpc_addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = stream.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"psa.v1.TicketService".to_owned()),
        "{names:?}"
    );
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_answer_503_with_retry_after_and_the_sla_view_falls_back_to_the_record() {
    // Temporal unreachable: the SLA view answers at once from what is recorded.
    let mut env = TestEnv::start(Parts::NONE).await.unwrap();
    let mut config = env.edge_config(false);
    config.temporal_address = "127.0.0.1:1".into();
    env.edge = Some(psa_edge::serve::start(config).await.unwrap());
    let ticket: Value = env
        .ok(
            Method::POST,
            "/v1/tickets",
            &env.a.key,
            &serde_json::json!({"title": "Clock unreachable"}),
        )
        .await;
    let sla = env
        .req(
            Method::GET,
            &format!("/v1/tickets/{}/sla", ticket["id"].as_str().unwrap()),
            &env.a.key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(sla.status(), StatusCode::OK);
    let sla: Value = sla.json().await.unwrap();
    assert_eq!(sla["clock"], "unknown", "{sla}");
    assert_eq!(sla["source"], "pending", "{sla}");

    // Postgres unreachable: a retry later will work, so 503 with Retry-After, never 500.
    env.edge().state.pool.close().await;
    let r = env
        .req(Method::GET, "/v1/tickets", &env.a.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}
