//! `psa.v1.AutomationService` against the real stack: a definition published over gRPC is the
//! one HTTP reads (the message and the canonical JSON are the same shape), a bad one is
//! INVALID_ARGUMENT listing every error with its pointer, versions list, compare and roll
//! back, and roles and tenants are kept apart as over HTTP.

use psa_protos::v1 as pb;
use psa_protos::v1::automation_service_client::AutomationServiceClient;
use psa_tests::{Parts, TestEnv, authed};
use reqwest::Method;
use serde_json::{Value, json};
use tonic::Code;

fn step(id: &str, kind: &str) -> pb::AutomationStep {
    pb::AutomationStep {
        id: id.into(),
        r#type: kind.into(),
        ..Default::default()
    }
}

fn input(fields: &[(&str, &str)]) -> prost_types::Struct {
    prost_types::Struct {
        fields: fields
            .iter()
            .map(|(k, v)| {
                (
                    (*k).to_owned(),
                    prost_types::Value {
                        kind: Some(prost_types::value::Kind::StringValue((*v).to_owned())),
                    },
                )
            })
            .collect(),
    }
}

fn definition(body: &str) -> pb::AutomationDefinition {
    pb::AutomationDefinition {
        name: "Acknowledge".into(),
        description: None,
        trigger: Some(pb::AutomationTrigger {
            event: Some("ticket.created".into()),
            ..Default::default()
        }),
        steps: vec![
            pb::AutomationStep {
                action: Some("tickets.add_comment".into()),
                input: Some(input(&[
                    ("ticket_id", "event.payload.ticket.ticket_id"),
                    ("body", body),
                ])),
                retry: Some(pb::AutomationRetry {
                    max_attempts: 3,
                    initial_interval: Some("PT5S".into()),
                    backoff: Some(2.0),
                }),
                ..step("ack", "action")
            },
            pb::AutomationStep {
                condition: Some("true".into()),
                then: vec![pb::AutomationStep {
                    value: Some("'done'".into()),
                    ..step("end", "return")
                }],
                ..step("check", "if")
            },
        ],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_over_grpc_is_publishing_over_http() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key.clone();
    let mut client = AutomationServiceClient::connect(format!("http://{}", env.edge().grpc_addr))
        .await
        .unwrap();
    let created = client
        .create_automation(authed(
            &key,
            pb::CreateAutomationRequest {
                name: "Acknowledge".into(),
                draft: None,
                idempotency_key: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let id = created.id.clone();

    // Every error at once, with its pointer.
    let mut bad = definition("'Seen'");
    bad.steps[0].action = Some("tickets.explode".into());
    bad.steps[1].condition = Some("1 + 1".into());
    let refused = client
        .publish_automation(authed(
            &key,
            pb::PublishAutomationRequest {
                id: id.clone(),
                definition: Some(bad),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    for pointer in ["/steps/0/action", "/steps/1/condition"] {
        assert!(refused.message().contains(pointer), "{}", refused.message());
    }

    let v1 = client
        .publish_automation(authed(
            &key,
            pb::PublishAutomationRequest {
                id: id.clone(),
                definition: Some(definition("'Seen'")),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v1.version, 1);
    assert_eq!(v1.definition, Some(definition("'Seen'")));
    // HTTP reads the canonical JSON of what gRPC sent.
    let over_http = env
        .ok(
            Method::GET,
            &format!("/v1/automation-versions/{}", v1.id),
            &key,
            &Value::Null,
        )
        .await;
    assert_eq!(
        over_http["definition"],
        json!({
            "name": "Acknowledge",
            "trigger": {"event": "ticket.created"},
            "steps": [
                {"id": "ack", "type": "action", "action": "tickets.add_comment",
                 "input": {"ticket_id": "event.payload.ticket.ticket_id", "body": "'Seen'"},
                 "retry": {"max_attempts": 3, "initial_interval": "PT5S", "backoff": 2}},
                {"id": "check", "type": "if", "condition": "true",
                 "then": [{"id": "end", "type": "return", "value": "'done'"}]}
            ]
        })
    );

    client
        .publish_automation(authed(
            &key,
            pb::PublishAutomationRequest {
                id: id.clone(),
                definition: Some(definition("'On it'")),
            },
        ))
        .await
        .unwrap();
    let diff = client
        .diff_automation_versions(authed(
            &key,
            pb::DiffAutomationVersionsRequest {
                id: id.clone(),
                from: 1,
                to: 2,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(diff.changes.map(|c| c.values.len()), Some(1));
    let v3 = client
        .roll_back_automation(authed(
            &key,
            pb::AutomationVersionIdRequest { id: v1.id.clone() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((v3.version, v3.rolled_back_from), (3, Some(1)));
    let listed = client
        .list_automation_versions(authed(
            &key,
            pb::ListAutomationVersionsRequest {
                id: id.clone(),
                limit: 2,
                cursor: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let numbers: Vec<i32> = listed.items.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [3, 2]);
    assert!(listed.next_cursor.is_some());
    let on = client
        .enable_automation(authed(&key, pb::AutomationIdRequest { id: id.clone() }))
        .await
        .unwrap()
        .into_inner();
    assert!(on.enabled);
    assert_eq!(on.latest_version, Some(3));

    // A technician reads but does not publish; another tenant sees nothing.
    let tech = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    let denied = client
        .publish_automation(authed(
            &tech,
            pb::PublishAutomationRequest {
                id: id.clone(),
                definition: None,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    client
        .get_automation(authed(&tech, pb::AutomationIdRequest { id: id.clone() }))
        .await
        .unwrap();
    let elsewhere = client
        .get_automation(authed(&env.b.key, pb::AutomationIdRequest { id }))
        .await
        .unwrap_err();
    assert_eq!(elsewhere.code(), Code::NotFound);
    env.shutdown().await;
}
