//! `psa.v1.BillingService`: billing over gRPC against the real stack. A service, a contract
//! with a fixed line, the seeded client put on it, and the client's invoice preview, written
//! and read with a billing-role key; a technician is refused, and terms that are not JSON are
//! refused naming `terms_json`.

use psa_protos::v1 as pb;
use psa_protos::v1::billing_service_client::BillingServiceClient;
use psa_tests::{Parts, TestEnv, authed};
use serde_json::{Value, json};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billing_over_grpc_previews_a_client_invoice() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let billing = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let tech = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    let mut grpc = BillingServiceClient::connect(format!("http://{}", env.edge().grpc_addr))
        .await
        .unwrap();

    let service = grpc
        .create_service(authed(
            &billing,
            pb::CreateServiceRequest {
                name: "Managed desktop".into(),
                unit: "device".into(),
                rates: [("USD".to_owned(), "40.00".to_owned())].into(),
                idempotency_key: Some("grpc-service-1".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(service.rates.get("USD").map(String::as_str), Some("40.00"));
    assert!(service.taxable);

    let contract = grpc
        .create_contract(authed(
            &billing,
            pb::CreateContractRequest {
                name: "Managed IT".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();

    // Terms that are not JSON are the caller's mistake, named by the field that carried them.
    let bad = grpc
        .create_contract_line(authed(
            &billing,
            pb::CreateContractLineRequest {
                contract_id: contract.id.clone(),
                r#type: "fixed".into(),
                terms_json: "{amount: 100".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("terms_json"), "{}", bad.message());

    let line = grpc
        .create_contract_line(authed(
            &billing,
            pb::CreateContractLineRequest {
                contract_id: contract.id.clone(),
                r#type: "fixed".into(),
                service_id: Some(service.id.clone()),
                description: Some("Monthly fee".into()),
                terms_json: json!({"amount": "100.00"}).to_string(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(line.r#type, "fixed");
    assert_eq!(line.position, 1);
    let terms: Value = serde_json::from_str(&line.terms_json).unwrap();
    assert_eq!(terms, json!({"amount": "100.00"}));

    let client_id = env.a.seeded.client_id.to_string();
    let assignment = grpc
        .create_client_contract(authed(
            &billing,
            pb::CreateClientContractRequest {
                client_id: client_id.clone(),
                contract_id: contract.id.clone(),
                start_date: "2026-01-01".into(),
                currency: "USD".into(),
                billing_cycle: "monthly".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(assignment.anchor, "calendar");
    assert_eq!(assignment.timing, "arrears");
    assert_eq!(assignment.end_date, None);

    let listed = grpc
        .list_client_contracts(authed(
            &billing,
            pb::ListClientContractsRequest {
                client_id: Some(client_id.clone()),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.items, std::slice::from_ref(&assignment));
    assert_eq!(listed.next_cursor, None);

    let preview = grpc
        .preview_client_invoice(authed(
            &billing,
            pb::PreviewClientInvoiceRequest {
                client_id: client_id.clone(),
                period_start: "2026-01-01".into(),
                currency: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let draft: Value = serde_json::from_str(&preview.response_json).unwrap();
    assert_eq!(draft["currency"], "USD");
    assert_eq!(
        draft["period"],
        json!({"start": "2026-01-01", "end": "2026-02-01"})
    );
    assert_eq!(draft["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(draft["total"], "100.00");

    // A technician may not run billing, over gRPC as over HTTP.
    let denied = grpc
        .preview_client_invoice(authed(
            &tech,
            pb::PreviewClientInvoiceRequest {
                client_id: client_id.clone(),
                period_start: "2026-01-01".into(),
                currency: None,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = grpc
        .list_services(authed(&tech, pb::BillingListRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    env.shutdown().await;
}
