//! The outbox makes delivery survive crashes: a committed ticket whose edge dies before
//! relaying still gets its workflow, exactly once, and a row delivered twice changes nothing.

use psa_domain::ids::sla_workflow_id;
use psa_tests::{Parts, TestEnv, eventually, wf};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use temporalio_client::WorkflowExecutionStatus;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(30);

async fn create_ticket(env: &TestEnv, title: &str) -> Uuid {
    let t = env
        .ok(
            Method::POST,
            "/v1/tickets",
            &env.a.key,
            &json!({ "title": title }),
        )
        .await;
    t["id"].as_str().unwrap().parse().unwrap()
}

/// Waits until exactly `n` outbox rows are delivered.
async fn delivered(env: &TestEnv, n: i64, what: &str) {
    eventually(WAIT, || async {
        Ok((env.outbox_count(true).await == n).then_some(()))
    })
    .await
    .expect(what);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_killed_after_commit_still_starts_the_workflow_once() {
    let mut env = TestEnv::start(Parts {
        edge: true,
        relay: false,
        worker: true,
    })
    .await
    .unwrap();
    let ticket = create_ticket(&env, "Committed, not yet relayed").await;
    let id = sla_workflow_id(env.a.seeded.tenant_id, ticket);
    let temporal = env.temporal().await.unwrap();

    // Committed: the ticket and its outbox row are there, nothing has been delivered.
    assert_eq!(env.outbox_count(false).await, 1);
    assert!(wf::describe(&temporal, &id).await.is_none());

    // The process dies: nothing in flight finishes.
    env.edge.take().unwrap().abort();

    // A new edge with its relay picks the row up.
    env.start_edge(true).await.unwrap();
    wf::wait_status(&temporal, &id, WorkflowExecutionStatus::Running).await;
    delivered(&env, 1, "row marked delivered").await;
    assert_eq!(wf::run_count(&temporal, &id).await.unwrap(), 1);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_delivered_twice_starts_one_run_and_applies_once() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let ticket = create_ticket(&env, "Delivered twice").await;
    let id = sla_workflow_id(env.a.seeded.tenant_id, ticket);
    let temporal = env.temporal().await.unwrap();
    eventually(WAIT, || async {
        Ok(wf::query(&temporal, &id)
            .await
            .ok()
            .filter(|s| s.events_applied == 1))
    })
    .await
    .expect("first delivery applied");

    // As if the relay crashed after the Temporal call but before recording it.
    sqlx::query("UPDATE outbox SET done_at = NULL, published_at = NULL, signalled_at = NULL, next_attempt_at = now()")
        .execute(&env.owner)
        .await
        .unwrap();
    delivered(&env, 1, "redelivered").await;

    let status = wf::query(&temporal, &id).await.unwrap();
    assert_eq!(status.events_applied, 1, "the repeated event is ignored");
    assert!(!status.closed);
    assert_eq!(wf::run_count(&temporal, &id).await.unwrap(), 1);

    // Both deliveries reached the stream; consumers de-duplicate on event_id.
    let mut redis = env.redis().await;
    let event_id: Uuid = sqlx::query_scalar("SELECT event_id FROM outbox")
        .fetch_one(&env.owner)
        .await
        .unwrap();
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(&env.events_stream)
        .arg("-")
        .arg("+")
        .query_async(&mut redis)
        .await
        .unwrap();
    let ours = entries
        .ids
        .iter()
        .filter(|e| e.get::<String>("event_id").as_deref() == Some(event_id.to_string().as_str()))
        .count();
    assert_eq!(ours, 2);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_after_the_workflow_finished_are_delivered_without_a_second_run() {
    let env = TestEnv::start(Parts::ALL).await.unwrap();
    let ticket = create_ticket(&env, "Closed, then commented").await;
    let id = sla_workflow_id(env.a.seeded.tenant_id, ticket);
    let temporal = env.temporal().await.unwrap();
    env.ok(
        Method::POST,
        &format!("/v1/tickets/{ticket}/close"),
        &env.a.key,
        &json!({}),
    )
    .await;
    wf::wait_status(&temporal, &id, WorkflowExecutionStatus::Completed).await;
    env.ok(
        Method::POST,
        &format!("/v1/tickets/{ticket}/comments"),
        &env.a.key,
        &json!({ "body": "Following up after close" }),
    )
    .await;
    delivered(&env, 4, "late event delivered").await;
    assert_eq!(wf::run_count(&temporal, &id).await.unwrap(), 1);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_redis_lost_before_it_was_persisted_is_published_again() {
    let env = TestEnv::start(Parts::EDGE_AND_RELAY).await.unwrap();
    create_ticket(&env, "Lost in Redis").await;
    delivered(&env, 1, "published").await;
    let (event_id, first_entry): (Uuid, String) =
        sqlx::query_as("SELECT event_id, stream_entry_id FROM outbox")
            .fetch_one(&env.owner)
            .await
            .unwrap();

    // Redis loses the entry (restarted inside its fsync window) before the relay confirms it.
    let mut redis = env.redis().await;
    let removed: i64 = redis::cmd("XDEL")
        .arg(&env.events_stream)
        .arg(&first_entry)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(removed, 1);

    let second_entry: String = eventually(WAIT, || async {
        let row: (Option<String>, Option<chrono::DateTime<chrono::Utc>>) =
            sqlx::query_as("SELECT stream_entry_id, verified_at FROM outbox")
                .fetch_one(&env.owner)
                .await?;
        Ok(match row {
            (Some(entry), Some(_)) if entry != first_entry => Some(entry),
            _ => None,
        })
    })
    .await
    .expect("published again and confirmed");
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(&env.events_stream)
        .arg(&second_entry)
        .arg(&second_entry)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(
        entries.ids[0].get::<String>("event_id"),
        Some(event_id.to_string()),
        "the same event, same ID, so consumers de-duplicate it"
    );
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_events_are_confirmed_once_persisted() {
    let env = TestEnv::start(Parts::EDGE_AND_RELAY).await.unwrap();
    create_ticket(&env, "Kept by Redis").await;
    let (first_event, first) = confirmed(&env, None).await;
    // A second event confirmed means the relay has run verification rounds since the first
    // was confirmed: a round that took the first up again would have published it again.
    create_ticket(&env, "Confirmed after the first").await;
    let (second_event, second) = confirmed(&env, Some(first_event)).await;
    let now: String = sqlx::query_scalar("SELECT stream_entry_id FROM outbox WHERE event_id = $1")
        .bind(first_event)
        .fetch_one(&env.owner)
        .await
        .unwrap();
    assert_eq!(now, first, "a confirmed entry is left alone");
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(&env.events_stream)
        .arg("-")
        .arg("+")
        .query_async(&mut env.redis().await)
        .await
        .unwrap();
    let stream: Vec<(String, Option<String>)> = entries
        .ids
        .iter()
        .map(|e| (e.id.clone(), e.get::<String>("event_id")))
        .collect();
    assert_eq!(
        stream,
        [
            (first, Some(first_event.to_string())),
            (second, Some(second_event.to_string())),
        ],
        "each event published once"
    );
    env.shutdown().await;
}

/// Waits until the relay has confirmed the outbox row of an event other than `except`;
/// returns its event ID and stream entry.
async fn confirmed(env: &TestEnv, except: Option<Uuid>) -> (Uuid, String) {
    eventually(WAIT, || async {
        Ok(sqlx::query_as::<_, (Uuid, String)>(
            "SELECT event_id, stream_entry_id FROM outbox
             WHERE verified_at IS NOT NULL AND stream_entry_id IS NOT NULL
               AND event_id IS DISTINCT FROM $1",
        )
        .bind(except)
        .fetch_optional(&env.owner)
        .await?)
    })
    .await
    .expect("confirmed")
}
