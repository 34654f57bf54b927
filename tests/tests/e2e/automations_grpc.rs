//! `psa.v1.AutomationService` against the real stack: a definition published over gRPC is the
//! one HTTP reads (the message and the canonical JSON are the same shape), a bad one is
//! INVALID_ARGUMENT listing every error with its pointer, versions list, compare and roll
//! back, runs start once per idempotency key and read as HTTP reads them, settings replace
//! and refuse as over HTTP, and roles and tenants are kept apart as over HTTP.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_and_settings_over_grpc_are_the_ones_http_shows() {
    use psa_tests::eventually;
    use std::time::Duration;
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let key = env.a.key.clone();
    let mut client = AutomationServiceClient::connect(format!("http://{}", env.edge().grpc_addr))
        .await
        .unwrap();
    let a = env
        .ok(
            Method::POST,
            "/v1/automations",
            &key,
            &json!({"name": "Double", "draft": {
                "name": "Double", "trigger": {"manual": {}},
                "steps": [
                    {"id": "twice", "type": "set", "name": "twice", "value": "event.payload.n * 2"},
                    {"id": "out", "type": "return", "value": "{'twice': vars.twice}"}
                ]
            }}),
        )
        .await;
    let id = a["id"].as_str().unwrap().to_owned();
    env.ok(
        Method::POST,
        &format!("/v1/automations/{id}/versions"),
        &key,
        &json!({}),
    )
    .await;

    // Started twice with one key: one run.
    let start = pb::StartAutomationRunRequest {
        id: id.clone(),
        input: Some(prost_types::Struct {
            fields: [(
                "n".to_owned(),
                prost_types::Value {
                    kind: Some(prost_types::value::Kind::NumberValue(21.0)),
                },
            )]
            .into(),
        }),
        idempotency_key: Some("grpc-run-1".into()),
    };
    let first = client
        .start_automation_run(authed(&key, start.clone()))
        .await
        .unwrap()
        .into_inner();
    let again = client
        .start_automation_run(authed(&key, start))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.id, again.id);
    assert_eq!(first.status, "pending");

    let detail = eventually(Duration::from_secs(60), || {
        let mut client = client.clone();
        let (key, run) = (key.clone(), first.id.clone());
        async move {
            let d = client
                .get_automation_run(authed(&key, pb::AutomationRunIdRequest { id: run }))
                .await?
                .into_inner();
            let ended = d.run.as_ref().is_some_and(|r| r.status == "completed");
            Ok(ended.then_some(d))
        }
    })
    .await
    .expect("the run completes");
    let over_http = env
        .ok(
            Method::GET,
            &format!("/v1/automation-runs/{}", first.id),
            &key,
            &Value::Null,
        )
        .await;
    let run = detail.run.clone().unwrap();
    assert_eq!(run.workflow_id, over_http["workflow_id"]);
    assert_eq!(detail.steps_executed, 2);
    assert_eq!(detail.trace.as_ref().unwrap().values.len(), 2);
    let result = detail.result.clone().unwrap();
    let Some(prost_types::value::Kind::StructValue(result)) = result.kind else {
        panic!("an object result: {result:?}");
    };
    assert_eq!(
        result.fields["twice"].kind,
        Some(prost_types::value::Kind::NumberValue(42.0))
    );
    assert_eq!(over_http["result"], json!({"twice": 42}));
    let listed = client
        .list_automation_runs(authed(
            &key,
            pb::ListAutomationRunsRequest {
                id: id.clone(),
                limit: 0,
                cursor: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.items, vec![run.clone()]);

    // An ended run can be neither cancelled nor (not having failed) retried; another tenant
    // does not see it.
    let ended = client
        .cancel_automation_run(authed(
            &key,
            pb::AutomationRunIdRequest { id: run.id.clone() },
        ))
        .await
        .unwrap_err();
    assert_eq!(ended.code(), Code::FailedPrecondition, "{ended:?}");
    let not_failed = client
        .retry_automation_run(authed(
            &key,
            pb::RetryAutomationRunRequest {
                id: run.id.clone(),
                idempotency_key: None,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        not_failed.code(),
        Code::FailedPrecondition,
        "{not_failed:?}"
    );
    let hidden = client
        .get_automation_run(authed(
            &env.b.key,
            pb::AutomationRunIdRequest { id: run.id },
        ))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);

    // Settings: replaced when sent, kept when not, refused when nonsense.
    let set = |networks: Option<Vec<&str>>| pb::UpdateAutomationSettingsRequest {
        http_allowed_networks: networks.map(|n| pb::AutomationNetworks {
            networks: n.into_iter().map(String::from).collect(),
        }),
    };
    let saved = client
        .update_automation_settings(authed(&key, set(Some(vec!["10.20.1.2/16"]))))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(saved.http_allowed_networks, ["10.20.0.0/16"]);
    let kept = client
        .update_automation_settings(authed(&key, set(None)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(kept, saved);
    let bad = client
        .update_automation_settings(authed(&key, set(Some(vec!["intranet"]))))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let read = client
        .get_automation_settings(authed(&key, pb::GetAutomationSettingsRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read, saved);
    let over_http = env
        .ok(Method::GET, "/v1/automation-settings", &key, &Value::Null)
        .await;
    assert_eq!(over_http["http_allowed_networks"], json!(["10.20.0.0/16"]));
    env.shutdown().await;
}
