//! The stream consumer framework against real Redis: each handler runs once per event, failures
//! retry up to the cap and then dead-letter, invalid events dead-letter at once, a dead
//! consumer's entries are taken over, and a Redis restart is survived.

use chrono::Utc;
use futures::future::BoxFuture;
use psa_domain::events::{Actor, Envelope, Event, ProjectCreated, stream};
use psa_tests::Services;
use psa_worker::bus::{BusConfig, Consumer, Handler, HandlerError, dead_letters};
use redis::aio::MultiplexedConnection;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// Counts calls per event; fails while `broken` is set.
struct Recorder {
    name: String,
    calls: Mutex<HashMap<Uuid, u32>>,
    broken: AtomicBool,
}

impl Recorder {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            name: format!("test-{}", Uuid::new_v4().simple()),
            calls: Mutex::new(HashMap::new()),
            broken: AtomicBool::new(false),
        })
    }

    fn calls(&self, id: Uuid) -> u32 {
        self.calls.lock().unwrap().get(&id).copied().unwrap_or(0)
    }

    fn total(&self) -> u32 {
        self.calls.lock().unwrap().values().sum()
    }
}

impl Handler for Recorder {
    fn name(&self) -> &str {
        &self.name
    }

    fn handle<'a>(&'a self, event: &'a Envelope) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            *self
                .calls
                .lock()
                .unwrap()
                .entry(event.event_id)
                .or_default() += 1;
            if self.broken.load(Ordering::SeqCst) {
                Err(HandlerError::new("downstream refused"))
            } else {
                Ok(())
            }
        })
    }
}

fn config(redis_url: &str) -> BusConfig {
    let tag = Uuid::new_v4().simple().to_string();
    BusConfig {
        stream: format!("test:events:{tag}"),
        dead_letter_stream: format!("test:events:{tag}:dead-letter"),
        block: Duration::from_millis(100),
        claim_idle: Duration::from_millis(50),
        start_id: "0".into(),
        ..BusConfig::new(redis_url)
    }
}

fn event() -> Envelope {
    Envelope {
        event_id: Uuid::now_v7(),
        tenant_id: Uuid::now_v7(),
        occurred_at: Utc::now(),
        actor: Actor::System,
        event: Event::ProjectCreated(ProjectCreated {
            project_id: Uuid::now_v7(),
            client_id: Uuid::now_v7(),
            name: "Office move".into(),
        }),
    }
}

async fn publish_raw(
    conn: &mut MultiplexedConnection,
    cfg: &BusConfig,
    event_id: &str,
    envelope: &str,
) {
    let _: String = redis::cmd("XADD")
        .arg(&cfg.stream)
        .arg("*")
        .arg(stream::FIELD_EVENT_ID)
        .arg(event_id)
        .arg(stream::FIELD_ENVELOPE)
        .arg(envelope)
        .query_async(conn)
        .await
        .unwrap();
}

async fn publish(conn: &mut MultiplexedConnection, cfg: &BusConfig, e: &Envelope) {
    publish_raw(
        conn,
        cfg,
        &e.event_id.to_string(),
        &serde_json::to_string(e).unwrap(),
    )
    .await;
}

async fn setup(handler: Arc<Recorder>) -> (BusConfig, Consumer, MultiplexedConnection) {
    let cfg = config(&Services::from_env().redis_url);
    let consumer = Consumer::new(cfg.clone(), handler, "c1").unwrap();
    let mut conn = consumer.connect().await.unwrap();
    consumer.ensure_group(&mut conn).await.unwrap();
    (cfg, consumer, conn)
}

#[tokio::test]
async fn each_event_is_handled_once_even_when_redelivered() {
    let h = Recorder::new();
    let (cfg, consumer, mut conn) = setup(h.clone()).await;
    let events: Vec<Envelope> = (0..3).map(|_| event()).collect();
    for e in &events {
        publish(&mut conn, &cfg, e).await;
    }
    let out = consumer.read_new(&mut conn).await.unwrap();
    assert_eq!((out.handled, out.skipped), (3, 0));

    // The publisher (outbox relay) delivers one of them again.
    publish(&mut conn, &cfg, &events[1]).await;
    let out = consumer.read_new(&mut conn).await.unwrap();
    assert_eq!((out.handled, out.skipped), (0, 1));
    for e in &events {
        assert_eq!(h.calls(e.event_id), 1);
    }
    // Nothing left pending.
    assert_eq!(pending(&mut conn, &cfg, &h.name).await, 0);
}

/// How many entries `handler`'s consumer group has read and not acknowledged.
async fn pending(conn: &mut MultiplexedConnection, cfg: &BusConfig, handler: &str) -> usize {
    let pending: Vec<redis::Value> = redis::cmd("XPENDING")
        .arg(&cfg.stream)
        .arg(format!("psa:{handler}"))
        .arg("-")
        .arg("+")
        .arg(100)
        .query_async(conn)
        .await
        .unwrap();
    pending.len()
}

#[tokio::test]
async fn a_handler_failing_ten_times_is_dead_lettered_and_replays_once_fixed() {
    let h = Recorder::new();
    h.broken.store(true, Ordering::SeqCst);
    let (cfg, consumer, mut conn) = setup(h.clone()).await;
    let e = event();
    publish(&mut conn, &cfg, &e).await;

    let first = consumer.read_new(&mut conn).await.unwrap();
    assert_eq!(first.failed, 1);
    let mut dead = 0;
    for _ in 0..50 {
        tokio::time::sleep(cfg.claim_idle + Duration::from_millis(10)).await;
        dead += consumer.claim_stale(&mut conn).await.unwrap().dead_lettered;
        if dead > 0 {
            break;
        }
    }
    assert_eq!(dead, 1);
    assert_eq!(
        h.calls(e.event_id),
        10,
        "exactly EVENT_MAX_DELIVERIES attempts"
    );

    let letters = dead_letters::list(&mut conn, &cfg.dead_letter_stream, 10)
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    let d = &letters[0];
    assert_eq!(d.handler, h.name);
    assert_eq!(d.event_id, e.event_id.to_string());
    assert_eq!(d.deliveries, 10);
    assert_eq!(d.last_error, "downstream refused");
    assert_eq!(d.source_stream, cfg.stream);
    assert_eq!(
        serde_json::from_str::<Envelope>(&d.envelope).unwrap(),
        e,
        "original payload kept"
    );
    // Once dead-lettered it is no longer retried: the group holds nothing a claim could take.
    assert_eq!(pending(&mut conn, &cfg, &h.name).await, 0);
    assert_eq!(consumer.claim_stale(&mut conn).await.unwrap().total(), 0);
    assert_eq!(h.calls(e.event_id), 10);

    // Fixed, replayed: handled exactly once more, and the dead letter is gone.
    h.broken.store(false, Ordering::SeqCst);
    assert!(
        dead_letters::replay(&mut conn, &cfg.dead_letter_stream, &d.id)
            .await
            .unwrap()
            .is_some()
    );
    let out = consumer.read_new(&mut conn).await.unwrap();
    assert_eq!(out.handled, 1);
    assert_eq!(h.calls(e.event_id), 11);
    assert!(
        dead_letters::list(&mut conn, &cfg.dead_letter_stream, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        dead_letters::replay(&mut conn, &cfg.dead_letter_stream, &d.id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn invalid_events_are_dead_lettered_at_once_with_the_reason() {
    let h = Recorder::new();
    let (cfg, consumer, mut conn) = setup(h.clone()).await;
    let good = event();
    publish_raw(&mut conn, &cfg, "x1", "{not json").await;
    let mut unknown = serde_json::to_value(event()).unwrap();
    unknown["type"] = "ticket.exploded".into();
    publish_raw(&mut conn, &cfg, "x2", &unknown.to_string()).await;
    let mut invalid = serde_json::to_value(event()).unwrap();
    invalid["payload"]["name"] = " ".into();
    publish_raw(&mut conn, &cfg, "x3", &invalid.to_string()).await;
    publish(&mut conn, &cfg, &good).await;

    let out = consumer.read_new(&mut conn).await.unwrap();
    assert_eq!((out.handled, out.dead_lettered), (1, 3));
    assert_eq!(h.total(), 1, "the handler never sees a bad event");
    let letters = dead_letters::list(&mut conn, &cfg.dead_letter_stream, 10)
        .await
        .unwrap();
    let reasons: Vec<&str> = letters.iter().map(|d| d.last_error.as_str()).collect();
    assert!(reasons[0].starts_with("malformed event"), "{reasons:?}");
    assert!(reasons[1].contains("ticket.exploded"), "{reasons:?}");
    assert!(reasons[2].contains("payload.name"), "{reasons:?}");
    assert!(letters.iter().all(|d| d.deliveries == 1));
}

#[tokio::test]
async fn a_dead_consumers_entries_are_taken_over_without_double_handling() {
    let h = Recorder::new();
    let (cfg, survivor, mut conn) = setup(h.clone()).await;
    let events: Vec<Envelope> = (0..5).map(|_| event()).collect();
    for e in &events {
        publish(&mut conn, &cfg, e).await;
    }
    // Consumer "c0" reads the whole batch, handles the first event, and dies before
    // acknowledging anything.
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(format!("psa:{}", h.name))
        .arg("c0")
        .arg("COUNT")
        .arg(10)
        .arg("STREAMS")
        .arg(&cfg.stream)
        .arg(">")
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg(format!("psa:handled:{}:{}", h.name, events[0].event_id))
        .arg(1)
        .query_async(&mut conn)
        .await
        .unwrap();

    // Nothing new to read for the survivor; after the idle time it claims c0's entries.
    assert_eq!(survivor.read_new(&mut conn).await.unwrap().total(), 0);
    tokio::time::sleep(cfg.claim_idle + Duration::from_millis(20)).await;
    let out = survivor.claim_stale(&mut conn).await.unwrap();
    assert_eq!((out.handled, out.skipped), (4, 1));
    assert_eq!(
        h.calls(events[0].event_id),
        0,
        "already handled by the dead consumer"
    );
    for e in &events[1..] {
        assert_eq!(h.calls(e.event_id), 1);
    }
}

#[tokio::test]
async fn consumers_survive_a_redis_restart() {
    let redis = PrivateRedis::start().await;
    let h = Recorder::new();
    let cfg = config(&redis.url());
    let consumer = Arc::new(Consumer::new(cfg.clone(), h.clone(), "c1").unwrap());
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let task = tokio::spawn({
        let consumer = consumer.clone();
        async move { consumer.run(stop).await }
    });
    let mut conn = redis.connect().await;
    let before = event();
    // The group is created by the running consumer; wait for it before publishing.
    wait_for(|| h.total() == 0 && group_exists_sync(&redis, &cfg, &h.name)).await;
    publish(&mut conn, &cfg, &before).await;
    wait_for(|| h.calls(before.event_id) == 1).await;

    redis.restart().await;
    let mut conn = redis.connect().await;
    let after = event();
    publish(&mut conn, &cfg, &after).await;
    wait_for(|| h.calls(after.event_id) == 1).await;
    assert_eq!(h.calls(before.event_id), 1);

    stop_tx.send(true).unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn consumers_pick_up_events_published_again_after_redis_lost_everything() {
    let redis = PrivateRedis::start().await;
    let h = Recorder::new();
    let cfg = config(&redis.url());
    // Production groups start at "$": only events published after the group exists.
    let cfg = BusConfig {
        start_id: "$".into(),
        ..cfg
    };
    let consumer = Arc::new(Consumer::new(cfg.clone(), h.clone(), "c1").unwrap());
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let task = tokio::spawn({
        let consumer = consumer.clone();
        async move { consumer.run(stop).await }
    });
    let mut conn = redis.connect().await;
    wait_for(|| group_exists_sync(&redis, &cfg, &h.name)).await;
    let first = event();
    publish(&mut conn, &cfg, &first).await;
    wait_for(|| h.calls(first.event_id) == 1).await;

    // Redis comes back empty; the outbox relay publishes what it could not confirm before the
    // consumer has even noticed. The recreated group must still see it.
    let _: () = redis::cmd("FLUSHALL").query_async(&mut conn).await.unwrap();
    let again = event();
    publish(&mut conn, &cfg, &again).await;
    wait_for(|| h.calls(again.event_id) == 1).await;

    stop_tx.send(true).unwrap();
    task.await.unwrap();
}

async fn wait_for(mut f: impl FnMut() -> bool) {
    for _ in 0..300 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not met in 15 s");
}

fn group_exists_sync(redis: &PrivateRedis, cfg: &BusConfig, handler: &str) -> bool {
    let Ok(client) = redis::Client::open(redis.url()) else {
        return false;
    };
    let Ok(mut c) = client.get_connection() else {
        return false;
    };
    let groups: redis::RedisResult<Vec<HashMap<String, redis::Value>>> = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(&cfg.stream)
        .query(&mut c);
    groups.is_ok_and(|g| {
        g.iter().any(|m| {
            m.get("name")
                == Some(&redis::Value::BulkString(
                    format!("psa:{handler}").into_bytes(),
                ))
        })
    })
}

/// A redis-server of this test's own, so restarting it disturbs no other test.
struct PrivateRedis {
    port: u16,
    dir: std::path::PathBuf,
    child: Mutex<Option<std::process::Child>>,
}

impl PrivateRedis {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("psa-redis-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let r = Self {
            port,
            dir,
            child: Mutex::new(None),
        };
        r.spawn().await;
        r
    }

    async fn spawn(&self) {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server on PATH (scripts/test installs it)");
        *self.child.lock().unwrap() = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("private redis did not start");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn connect(&self) -> MultiplexedConnection {
        redis::Client::open(self.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    fn kill(&self) {
        if let Some(mut c) = self.child.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kills the server (no goodbye to clients) and starts it again on the same port, with
    /// its append-only file, as a crashed and restarted production Redis would be.
    async fn restart(&self) {
        self.kill();
        self.spawn().await;
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
