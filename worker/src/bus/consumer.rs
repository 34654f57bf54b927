//! One handler's consumer: reads its group's entries, runs the handler, records the outcome.

use super::config::BusConfig;
use super::dead_letters::{self, DeadLetter};
use super::handler::Handler;
use super::keys;
use super::metrics;
use chrono::Utc;
use psa_domain::events::{Envelope, stream};
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use redis::{AsyncConnectionConfig, RedisResult};
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// What one round did, for tests and the benchmark.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ProcessOutcome {
    /// Handler ran and succeeded.
    pub handled: usize,
    /// Acknowledged without a call: already handled, or a type the handler does not want.
    pub skipped: usize,
    /// Handler failed; the entry stays pending for a retry.
    pub failed: usize,
    /// Moved to the dead letters.
    pub dead_lettered: usize,
}

impl ProcessOutcome {
    pub fn total(&self) -> usize {
        self.handled + self.skipped + self.failed + self.dead_lettered
    }

    fn add(&mut self, other: ProcessOutcome) {
        self.handled += other.handled;
        self.skipped += other.skipped;
        self.failed += other.failed;
        self.dead_lettered += other.dead_lettered;
    }
}

pub struct Consumer {
    client: redis::Client,
    config: BusConfig,
    handler: Arc<dyn Handler>,
    /// This process's name inside the group (pending entries are owned per name).
    name: String,
    group: String,
    /// Set once the group is known to exist. If it vanishes later (Redis lost its data), it is
    /// recreated from the start of the stream, which then holds only what was published again.
    group_seen: AtomicBool,
}

struct Candidate {
    entry_id: String,
    raw: String,
    envelope: Envelope,
}

impl Consumer {
    pub fn new(
        config: BusConfig,
        handler: Arc<dyn Handler>,
        consumer_name: impl Into<String>,
    ) -> RedisResult<Self> {
        let client = redis::Client::open(config.redis_url.expose_secret())?;
        let group = keys::group(handler.name());
        Ok(Self {
            client,
            config,
            handler,
            name: consumer_name.into(),
            group,
            group_seen: AtomicBool::new(false),
        })
    }

    /// Consumes until `stop` turns true, reconnecting with backoff whenever Redis goes away.
    pub async fn run(&self, mut stop: watch::Receiver<bool>) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.session(&mut stop).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(handler = self.handler.name(), error = %e, retry_in = ?backoff, "event consumer lost Redis");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn session(&self, stop: &mut watch::Receiver<bool>) -> RedisResult<()> {
        let mut conn = self.connect().await?;
        self.ensure_group(&mut conn).await?;
        tracing::info!(handler = self.handler.name(), consumer = %self.name, "event consumer started");
        let mut next_claim = Instant::now();
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            if Instant::now() >= next_claim {
                self.claim_stale(&mut conn).await?;
                next_claim = Instant::now() + self.config.claim_idle / 2;
            }
            tokio::select! {
                r = self.read_new(&mut conn) => { r?; }
                _ = stop.changed() => return Ok(()),
            }
        }
    }

    /// A connection whose reads may block longer than the client's default response timeout.
    pub async fn connect(&self) -> RedisResult<MultiplexedConnection> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(self.config.block + Duration::from_secs(5)));
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    /// Creates the handler's group (and the stream) if missing.
    pub async fn ensure_group(&self, conn: &mut MultiplexedConnection) -> RedisResult<()> {
        let start = if self.group_seen.load(Ordering::Relaxed) {
            "0"
        } else {
            self.config.start_id.as_str()
        };
        let created: RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.config.stream)
            .arg(&self.group)
            .arg(start)
            .arg("MKSTREAM")
            .query_async(conn)
            .await;
        match created {
            Err(e) if e.code() == Some("BUSYGROUP") => {}
            Err(e) => return Err(e),
            Ok(()) if start == "0" && self.config.start_id != "0" => {
                tracing::warn!(
                    handler = self.handler.name(),
                    "consumer group had vanished; recreated from the start of the stream"
                );
            }
            Ok(()) => {}
        }
        self.group_seen.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Reads and processes new entries (waits up to the configured block time for some).
    pub async fn read_new(&self, conn: &mut MultiplexedConnection) -> RedisResult<ProcessOutcome> {
        let block = u64::try_from(self.config.block.as_millis()).unwrap_or(u64::MAX);
        let reply: Option<StreamReadReply> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&self.group)
            .arg(&self.name)
            .arg("COUNT")
            .arg(self.config.batch)
            .arg("BLOCK")
            .arg(block)
            .arg("STREAMS")
            .arg(&self.config.stream)
            .arg(">")
            .query_async(conn)
            .await?;
        let entries = reply
            .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
            .unwrap_or_default();
        self.process(conn, entries).await
    }

    /// Takes over entries pending longer than `claim_idle` — left by a dead consumer, or this
    /// consumer's own failed attempts due for a retry — and processes them.
    pub async fn claim_stale(
        &self,
        conn: &mut MultiplexedConnection,
    ) -> RedisResult<ProcessOutcome> {
        let idle = u64::try_from(self.config.claim_idle.as_millis()).unwrap_or(u64::MAX);
        let mut total = ProcessOutcome::default();
        let mut start = "0-0".to_owned();
        // Bounded: a huge backlog is worked through over several rounds, between reads.
        for _ in 0..16 {
            let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                .arg(&self.config.stream)
                .arg(&self.group)
                .arg(&self.name)
                .arg(idle)
                .arg(&start)
                .arg("COUNT")
                .arg(self.config.batch)
                .query_async(conn)
                .await?;
            if !reply.deleted_ids.is_empty() {
                // Trimmed from the stream before anyone handled them: nothing left to do.
                let _: () = redis::cmd("XACK")
                    .arg(&self.config.stream)
                    .arg(&self.group)
                    .arg(&reply.deleted_ids)
                    .query_async(conn)
                    .await?;
            }
            total.add(self.process(conn, reply.claimed).await?);
            if reply.next_stream_id == "0-0" {
                break;
            }
            start = reply.next_stream_id;
        }
        Ok(total)
    }

    async fn process(
        &self,
        conn: &mut MultiplexedConnection,
        entries: Vec<StreamId>,
    ) -> RedisResult<ProcessOutcome> {
        let mut outcome = ProcessOutcome::default();
        if entries.is_empty() {
            return Ok(outcome);
        }
        let name = self.handler.name();
        let mut ack: Vec<String> = Vec::new();
        let mut dead: Vec<DeadLetter> = Vec::new();
        let mut candidates: Vec<Candidate> = Vec::new();
        for entry in entries {
            let raw: Option<String> = entry.get(stream::FIELD_ENVELOPE);
            let parsed = match raw {
                None => Err((String::new(), "entry has no envelope field".to_owned())),
                Some(raw) => match Envelope::from_json(&raw) {
                    Ok(envelope) => Ok(Candidate {
                        entry_id: entry.id.clone(),
                        raw,
                        envelope,
                    }),
                    Err(e) => Err((raw, e.to_string())),
                },
            };
            match parsed {
                Ok(c) if self.handler.wants(c.envelope.event_type()) => candidates.push(c),
                Ok(c) => {
                    outcome.skipped += 1;
                    ack.push(c.entry_id);
                }
                // Retrying cannot make a malformed event valid: dead-letter it now.
                Err((raw, reason)) => {
                    let event_id: Option<String> = entry.get(stream::FIELD_EVENT_ID);
                    dead.push(self.dead_letter(&entry.id, event_id, raw, 1, reason));
                }
            }
        }

        // Skip what this handler already did (a redelivery after a lost acknowledgement).
        let mut pipe = redis::pipe();
        for c in &candidates {
            pipe.exists(keys::handled(name, &c.envelope.event_id.to_string()));
        }
        let done: Vec<bool> = if candidates.is_empty() {
            Vec::new()
        } else {
            pipe.query_async(conn).await?
        };
        let mut to_run = Vec::new();
        for (c, already) in candidates.into_iter().zip(done) {
            if already {
                outcome.skipped += 1;
                ack.push(c.entry_id);
            } else {
                to_run.push(c);
            }
        }

        let results =
            futures::future::join_all(to_run.iter().map(|c| self.handler.handle(&c.envelope)))
                .await;

        let ttl = self.config.handled_ttl.as_secs();
        let attempts_key = keys::attempts(name);
        let mut record = redis::pipe();
        let mut failed = Vec::new();
        for (c, result) in to_run.into_iter().zip(results) {
            match result {
                Ok(()) => {
                    outcome.handled += 1;
                    record
                        .set_ex(
                            keys::handled(name, &c.envelope.event_id.to_string()),
                            1,
                            ttl,
                        )
                        .ignore();
                    record.hdel(&attempts_key, &c.entry_id).ignore();
                    ack.push(c.entry_id);
                }
                Err(e) => {
                    record.hincr(&attempts_key, &c.entry_id, 1);
                    failed.push((c, e));
                }
            }
        }
        let counts: Vec<i64> = if record.is_empty() {
            Vec::new()
        } else {
            record.query_async(conn).await?
        };
        for ((c, error), count) in failed.into_iter().zip(counts) {
            let count = u32::try_from(count).unwrap_or(u32::MAX);
            if count >= self.config.max_deliveries {
                tracing::warn!(handler = name, event_id = %c.envelope.event_id, deliveries = count, %error, "event dead-lettered");
                dead.push(self.dead_letter(
                    &c.entry_id,
                    Some(c.envelope.event_id.to_string()),
                    c.raw,
                    count,
                    error.0,
                ));
            } else {
                tracing::debug!(handler = name, event_id = %c.envelope.event_id, attempt = count, %error, "handler failed; will retry");
                outcome.failed += 1;
            }
        }

        // Dead-lettering and acknowledging happen together or not at all.
        let mut finish = redis::pipe();
        finish.atomic();
        for d in &dead {
            dead_letters::append(&mut finish, &self.config.dead_letter_stream, d);
            finish.hdel(&attempts_key, &d.source_id).ignore();
            ack.push(d.source_id.clone());
        }
        outcome.dead_lettered = dead.len();
        if !ack.is_empty() {
            finish
                .cmd("XACK")
                .arg(&self.config.stream)
                .arg(&self.group)
                .arg(&ack)
                .ignore();
            let _: () = finish.query_async(conn).await?;
        }
        metrics::record(name, &outcome);
        Ok(outcome)
    }

    fn dead_letter(
        &self,
        source_id: &str,
        event_id: Option<String>,
        envelope: String,
        deliveries: u32,
        last_error: String,
    ) -> DeadLetter {
        DeadLetter {
            id: String::new(),
            handler: self.handler.name().to_owned(),
            event_id: event_id.unwrap_or_default(),
            envelope,
            source_stream: self.config.stream.clone(),
            source_id: source_id.to_owned(),
            deliveries,
            last_error,
            dead_lettered_at: Utc::now(),
        }
    }
}
