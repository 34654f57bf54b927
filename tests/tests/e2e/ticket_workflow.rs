//! A ticket created over HTTP or gRPC runs its `sla:{tenant}:{ticket}` workflow, carrying the
//! search attributes operators filter on, until the ticket closes.

use psa_domain::ids::sla_workflow_id;
use psa_protos::v1::ticket_service_client::TicketServiceClient;
use psa_protos::v1::{CloseTicketRequest, CreateTicketRequest};
use psa_tests::{Parts, TestEnv, authed, eventually, wf};
use psa_workflows::search_attributes as sa;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use temporalio_client::WorkflowExecutionStatus;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(30);

async fn audit_steps(env: &TestEnv, ticket: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT step_key FROM sla_audit_log WHERE ticket_id = $1 ORDER BY recorded_at",
    )
    .bind(ticket)
    .fetch_all(&env.owner)
    .await
    .unwrap()
}

/// Waits for the workflow to run, checks its search attributes, closes the ticket with
/// `close`, then waits for the workflow to complete and checks what it wrote.
async fn follow_ticket_to_completion<F, Fut>(
    env: &TestEnv,
    ticket: Uuid,
    history_name: &str,
    close: F,
) where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    let temporal = env.temporal().await.unwrap();
    let id = sla_workflow_id(env.a.seeded.tenant_id, ticket);
    let desc = wf::wait_status(&temporal, &id, WorkflowExecutionStatus::Running).await;
    let attrs = desc.search_attributes();
    assert_eq!(
        attrs.get(&sa::TENANT_ID),
        Some(env.a.seeded.tenant_id.to_string())
    );
    assert_eq!(attrs.get(&sa::TICKET_ID), Some(ticket.to_string()));
    assert_eq!(
        attrs.get(&sa::BOARD_ID),
        Some(env.a.seeded.board_id.to_string())
    );
    assert_eq!(attrs.get(&sa::PRIORITY), Some("P1".to_owned()));

    eventually(WAIT, || async {
        Ok((audit_steps(env, ticket).await == ["started"]).then_some(()))
    })
    .await
    .expect("the workflow records its start");

    close().await;

    let done = wf::wait_status(&temporal, &id, WorkflowExecutionStatus::Completed).await;
    let steps = audit_steps(env, ticket).await;
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert_eq!(steps[0], "started");
    assert!(steps[1].starts_with("resolved:"), "{steps:?}");
    assert_eq!(steps[2], "finished");
    // No policy: nothing was due, so the SLA is met.
    assert_eq!(
        done.search_attributes().get(&sa::SLA_STATE),
        Some("met".to_owned())
    );
    assert_eq!(wf::run_count(&temporal, &id).await.unwrap(), 1);
    wf::check_replay(&temporal, &id, history_name)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_ticket_runs_its_workflow_until_closed() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let key = env.a.key.clone();
    let created = env
        .ok(
            Method::POST,
            "/v1/tickets",
            &key,
            &json!({
                "title": "Printer on fire",
                "client_id": env.a.seeded.client_id,
                "priority_id": env.a.seeded.priority_ids[0],
            }),
        )
        .await;
    let ticket: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(created["number"], 1);
    assert_eq!(created["status_id"], env.a.seeded.status_new.to_string());

    follow_ticket_to_completion(
        &env,
        ticket,
        "ticket_sla_local_http_created_then_closed",
        || async {
            let closed = env
                .ok(
                    Method::POST,
                    &format!("/v1/tickets/{ticket}/close"),
                    &key,
                    &json!({}),
                )
                .await;
            assert_eq!(closed["status_id"], env.a.seeded.status_closed.to_string());
            assert!(closed["closed_at"].is_string());
        },
    )
    .await;

    let events: Vec<String> =
        sqlx::query_scalar("SELECT event_type FROM outbox WHERE done_at IS NOT NULL ORDER BY id")
            .fetch_all(&env.owner)
            .await
            .unwrap();
    assert_eq!(
        events,
        ["ticket.created", "ticket.status_changed", "ticket.closed"]
    );
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_ticket_runs_its_workflow_until_closed() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let mut grpc = TicketServiceClient::connect(format!("http://{}", env.edge().grpc_addr))
        .await
        .unwrap();
    let key = env.a.key.clone();
    let ticket = grpc
        .create_ticket(authed(
            &key,
            CreateTicketRequest {
                title: "VPN down".into(),
                priority_id: Some(env.a.seeded.priority_ids[0].to_string()),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let id: Uuid = ticket.id.parse().unwrap();

    follow_ticket_to_completion(
        &env,
        id,
        "ticket_sla_local_grpc_created_then_closed",
        || async {
            let mut grpc = grpc.clone();
            let closed = grpc
                .close_ticket(authed(
                    &key,
                    CloseTicketRequest {
                        id: ticket.id.clone(),
                        status_id: None,
                    },
                ))
                .await
                .unwrap()
                .into_inner();
            assert!(closed.closed_at.is_some());
        },
    )
    .await;
    env.shutdown().await;
}
