//! `psa.v1.SlaService`: the SLA API over gRPC answers like HTTP, with the same rules, roles and
//! tenant isolation, and gRPC statuses for the errors.

use psa_protos::v1 as pb;
use psa_protos::v1::sla_service_client::SlaServiceClient;
use psa_tests::{Parts, TestEnv, authed, eventually};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use tonic::Code;

fn at(s: &str) -> Option<prost_types::Timestamp> {
    let t: chrono::DateTime<chrono::Utc> = s.parse().unwrap();
    Some(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    })
}

fn weekdays() -> Vec<pb::Window> {
    (1..=5)
        .map(|d| pb::Window {
            weekday: d,
            start: "09:00".into(),
            end: "17:00".into(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sla_api_over_grpc() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let key = env.a.key.clone();
    let mut grpc = SlaServiceClient::connect(format!("http://{}", env.edge().grpc_addr))
        .await
        .unwrap();

    // ITIL setup, then the policy reads back the same.
    let policy = grpc
        .itil_setup(authed(
            &key,
            pb::ItilSetupRequest {
                timezone: Some("America/New_York".into()),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(policy.targets.len(), 5);
    assert_eq!(policy.escalation_percents, [70, 90, 110]);
    let read = grpc
        .get_policy(authed(
            &key,
            pb::SlaIdRequest {
                id: policy.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read, policy);

    // A schedule: bad input names the field; good input round-trips.
    let bad = grpc
        .create_schedule(authed(
            &key,
            pb::ScheduleInput {
                name: "Bad".into(),
                timezone: "Mars/Olympus".into(),
                hours: weekdays(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("timezone"), "{}", bad.message());
    let schedule = grpc
        .create_schedule(authed(
            &key,
            pb::ScheduleInput {
                name: "NY".into(),
                timezone: "America/New_York".into(),
                hours: weekdays(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(schedule.hours.len(), 5);

    // The preview by stored schedule, exactly as over HTTP.
    let preview = grpc
        .preview(authed(
            &key,
            pb::SlaPreviewRequest {
                schedule_id: Some(schedule.id.clone()),
                started_at: at("2026-11-23T14:00:00Z"),
                response_minutes: 60,
                resolution_minutes: 960,
                at: at("2026-11-24T15:00:00Z"),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let resolution = preview.resolution.unwrap();
    assert_eq!(resolution.due_at, at("2026-11-24T22:00:00Z"));
    assert_eq!(resolution.thresholds.len(), 4);
    assert_eq!(resolution.elapsed_minutes, Some(540));
    let err = grpc
        .preview(authed(
            &key,
            pb::SlaPreviewRequest {
                schedule_id: Some(schedule.id.clone()),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("started_at"), "{}", err.message());

    // A ticket's clock, live.
    let t = env
        .ok(
            Method::POST,
            "/v1/tickets",
            &key,
            &json!({ "title": "Down", "priority_id": env.a.seeded.priority_ids[0] }),
        )
        .await;
    let ticket = t["id"].as_str().unwrap().to_owned();
    let sla = eventually(Duration::from_secs(30), || {
        let mut grpc = grpc.clone();
        let (key, ticket) = (key.clone(), ticket.clone());
        async move {
            let sla = grpc
                .get_ticket_sla(authed(&key, pb::SlaIdRequest { id: ticket }))
                .await?
                .into_inner();
            Ok((sla.source == "workflow").then_some(sla))
        }
    })
    .await
    .expect("the clock runs");
    assert_eq!(sla.state, "on_track");
    assert_eq!(sla.clock, "running");
    assert_eq!(sla.configuration_error, None);
    assert_eq!(
        sla.response.unwrap().target_minutes,
        Some(15),
        "ITIL P1: 15 minutes to respond"
    );
    let audit = grpc
        .list_ticket_sla_audit(authed(&key, pb::SlaIdRequest { id: ticket.clone() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(audit.steps[0].step_key, "started");

    // Compliance over gRPC; a bad grouping is INVALID_ARGUMENT.
    let now = chrono::Utc::now();
    let range = |group_by: &str| pb::ComplianceRequest {
        from: Some(prost_types::Timestamp {
            seconds: (now - chrono::TimeDelta::days(1)).timestamp(),
            nanos: 0,
        }),
        to: Some(prost_types::Timestamp {
            seconds: (now + chrono::TimeDelta::days(1)).timestamp(),
            nanos: 0,
        }),
        group_by: group_by.into(),
    };
    let report = grpc
        .get_compliance(authed(&key, range("priority")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.totals.unwrap().active, 1);
    assert_eq!(
        grpc.get_compliance(authed(&key, range("weather")))
            .await
            .unwrap_err()
            .code(),
        Code::InvalidArgument
    );

    // Another tenant: not found; a technician: may read, not change; a client: not even read.
    let other = grpc
        .get_ticket_sla(authed(&env.b.key, pb::SlaIdRequest { id: ticket.clone() }))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::NotFound);
    let other = grpc
        .get_schedule(authed(
            &env.b.key,
            pb::SlaIdRequest {
                id: schedule.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::NotFound);
    let tech = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    grpc.list_policies(authed(&tech, pb::SlaListRequest {}))
        .await
        .unwrap();
    let denied = grpc
        .set_settings(authed(
            &tech,
            pb::SlaSettings {
                pause_while_awaiting_client: true,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let client = env.a.key_with_role(&env.owner, "client").await.unwrap();
    let denied = grpc
        .get_ticket_sla(authed(&client, pb::SlaIdRequest { id: ticket }))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    // A schedule in use cannot go.
    let in_use = grpc
        .delete_schedule(authed(
            &key,
            pb::SlaIdRequest {
                id: policy.schedule_id.clone().unwrap(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(in_use.code(), Code::FailedPrecondition);
    env.shutdown().await;
}
