//! The relay delivers batches side by side without giving up order or exactly-once in effect:
//! one workflow's commands never overtake each other (even when the first keeps failing),
//! several relays share the work without delivering a row twice, and a commit wakes an idle
//! relay at once instead of at its next poll.

use psa_domain::ids::sla_workflow_id;
use psa_tests::{Parts, TestEnv, eventually, wf};
use reqwest::Method;
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;
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

/// [`rows_of`] and whether any of them is claimed by a round in flight, read at one instant.
async fn settled_rows_of(env: &TestEnv, ticket: Uuid) -> (Vec<(i64, i32, bool, bool)>, bool) {
    let rows: Vec<(i64, i32, bool, bool, bool)> = sqlx::query_as(
        "SELECT id, attempts, signalled_at IS NOT NULL, done_at IS NOT NULL,
                lease_until IS NOT NULL AND lease_until > now()
           FROM outbox WHERE workflow_id = $1 ORDER BY id",
    )
    .bind(sla_workflow_id(env.a.seeded.tenant_id, ticket))
    .fetch_all(&env.owner)
    .await
    .unwrap();
    let leased = rows.iter().any(|r| r.4);
    (
        rows.into_iter().map(|r| (r.0, r.1, r.2, r.3)).collect(),
        leased,
    )
}

/// The outbox rows of `ticket`'s workflow, oldest first: (id, attempts, signalled, done).
async fn rows_of(env: &TestEnv, ticket: Uuid) -> Vec<(i64, i32, bool, bool)> {
    sqlx::query_as(
        "SELECT id, attempts, signalled_at IS NOT NULL, done_at IS NOT NULL FROM outbox
         WHERE workflow_id = $1 ORDER BY id",
    )
    .bind(sla_workflow_id(env.a.seeded.tenant_id, ticket))
    .fetch_all(&env.owner)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_command_holds_back_the_later_commands_of_its_workflow_only() {
    let mut env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let held = create_ticket(&env, "First command fails").await;
    env.ok(
        Method::PATCH,
        &format!("/v1/tickets/{held}"),
        &env.a.key,
        &json!({ "title": "Second command must wait" }),
    )
    .await;
    let other = create_ticket(&env, "Another ticket").await;
    let first = rows_of(&env, held).await;
    assert_eq!(first.len(), 2);
    let (first_id, second_id) = (first[0].0, first[1].0);
    // The first command of `held` cannot be carried out (as if written by a newer edge).
    let saved: serde_json::Value =
        sqlx::query_scalar("SELECT workflow_command FROM outbox WHERE id = $1")
            .bind(first_id)
            .fetch_one(&env.owner)
            .await
            .unwrap();
    sqlx::query("UPDATE outbox SET workflow_command = '{\"command\": \"unknown\"}' WHERE id = $1")
        .bind(first_id)
        .execute(&env.owner)
        .await
        .unwrap();

    env.edge.take().unwrap().shutdown().await;
    env.start_edge(true).await.unwrap();
    // The other ticket's command goes through; the failing one is retried (1 s backoff), so
    // the relay has had rounds enough to send the second command had it been free to. Read
    // between rounds: a claim counts an attempt on every row it takes, and gives it back to a
    // row it held back when the round is recorded, so only then are the counts final.
    let now = eventually(WAIT, || async {
        let other_done = rows_of(&env, other).await.iter().all(|r| r.3);
        let (rows, leased) = settled_rows_of(&env, held).await;
        let retried = rows[0].1 >= 2;
        Ok((other_done && retried && !leased).then_some(rows))
    })
    .await
    .expect("the other ticket delivered and the failing command retried");
    assert!(!now[0].2, "the broken command is not delivered");
    assert_eq!(
        (now[1].1, now[1].2),
        (0, false),
        "the second command was never attempted ahead of the first"
    );
    let error: String = sqlx::query_scalar("SELECT last_error FROM outbox WHERE id = $1")
        .bind(first_id)
        .fetch_one(&env.owner)
        .await
        .unwrap();
    assert!(error.contains("bad command"), "{error}");

    // Repaired, the two go out in order.
    sqlx::query("UPDATE outbox SET workflow_command = $2, next_attempt_at = now() WHERE id = $1")
        .bind(first_id)
        .bind(saved)
        .execute(&env.owner)
        .await
        .unwrap();
    eventually(WAIT, || async {
        Ok(rows_of(&env, held).await.iter().all(|r| r.3).then_some(()))
    })
    .await
    .expect("both delivered");
    let in_order: bool = sqlx::query_scalar(
        "SELECT (SELECT signalled_at FROM outbox WHERE id = $1)
             <= (SELECT signalled_at FROM outbox WHERE id = $2)",
    )
    .bind(first_id)
    .bind(second_id)
    .fetch_one(&env.owner)
    .await
    .unwrap();
    assert!(in_order);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_share_the_outbox_without_delivering_a_row_twice() {
    let mut env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let mut tickets = Vec::new();
    for i in 0..40 {
        tickets.push(create_ticket(&env, &format!("Shared {i}")).await);
    }
    // A second command for some, so order within a workflow is exercised across relays.
    for t in &tickets[..10] {
        env.ok(
            Method::POST,
            &format!("/v1/tickets/{t}/comments"),
            &env.a.key,
            &json!({ "body": "Second event" }),
        )
        .await;
    }
    env.edge.take().unwrap().shutdown().await;
    // Small batches, so both relays get rows.
    let mut config = env.edge_config(true);
    config.relay.batch = 4;
    config.relay.concurrency = 3;
    env.edge = Some(psa_edge::serve::start(config.clone()).await.unwrap());
    let second = psa_edge::serve::start(config).await.unwrap();

    eventually(WAIT, || async {
        Ok((env.outbox_count(false).await == 0).then_some(()))
    })
    .await
    .expect("all delivered");
    second.shutdown().await;

    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(&env.events_stream)
        .arg("-")
        .arg("+")
        .query_async(&mut env.redis().await)
        .await
        .unwrap();
    let events: Vec<String> = entries
        .ids
        .iter()
        .filter_map(|e| e.get::<String>("event_id"))
        .collect();
    let distinct: HashSet<&String> = events.iter().collect();
    assert_eq!(events.len(), 50, "one stream entry per event");
    assert_eq!(distinct.len(), 50);
    let attempts: Vec<i32> = sqlx::query_scalar("SELECT attempts FROM outbox")
        .fetch_all(&env.owner)
        .await
        .unwrap();
    assert!(attempts.iter().all(|&a| a == 1), "{attempts:?}");
    for t in &tickets[..10] {
        let in_order: bool = sqlx::query_scalar(
            "SELECT bool_and(ordered) FROM (
                 SELECT signalled_at >= lag(signalled_at) OVER (ORDER BY id) IS NOT FALSE AS ordered
                 FROM outbox WHERE workflow_id = $1) o",
        )
        .bind(sla_workflow_id(env.a.seeded.tenant_id, *t))
        .fetch_one(&env.owner)
        .await
        .unwrap();
        assert!(in_order, "ticket {t}'s commands in order");
    }
    let temporal = env.temporal().await.unwrap();
    for t in &tickets {
        let id = sla_workflow_id(env.a.seeded.tenant_id, *t);
        assert_eq!(wf::run_count(&temporal, &id).await.unwrap(), 1);
    }
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_wakes_an_idle_relay_before_its_next_poll() {
    let mut env = TestEnv::start(Parts::NONE).await.unwrap();
    let mut config = env.edge_config(true);
    config.relay.idle_poll = Duration::from_secs(120);
    env.edge = Some(psa_edge::serve::start(config).await.unwrap());
    // The relay is idle (its first round found nothing) once it listens.
    eventually(WAIT, || async {
        let listening: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
        )
        .fetch_one(&env.owner)
        .await?;
        Ok((listening > 0).then_some(()))
    })
    .await
    .expect("relay listening");

    create_ticket(&env, "Wakes the relay").await;
    eventually(Duration::from_secs(10), || async {
        Ok((env.outbox_count(true).await == 1).then_some(()))
    })
    .await
    .expect("delivered long before the two-minute poll");
    env.shutdown().await;
}
