//! What a durable automation run (`workflows/src/automation_run`) exchanges with its
//! activities, its starters and its readers: plain data, so the workflow, the worker's
//! subscriber, the store and the edge agree on it without depending on each other.

use super::definition::{Definition, Trigger};
use super::expr::{self, Scope};
use super::machine::{Machine, Resume, RunError, TraceEntry};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A run's input: the automation, the version it is pinned to, and its trigger event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInput {
    pub tenant_id: Uuid,
    pub automation_id: Uuid,
    pub version: u32,
    /// The trigger event's envelope as JSON (a manual run's is made up from its input).
    pub event: Json,
    /// Set when the run continued as new: where the interpreter stands.
    #[serde(default)]
    pub carry: Option<Carry>,
}

/// What a run hands to its continuation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Carry {
    pub machine: Json,
    /// The answer the machine waits for, when the run continued between an effect and it.
    #[serde(default)]
    pub resume: Option<Json>,
}

impl Carry {
    pub fn machine(&self) -> Result<Machine, String> {
        serde_json::from_value(self.machine.clone()).map_err(|e| e.to_string())
    }
}

/// Which stored version to read: `version` 0 for the newest (what a `call` runs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRequest {
    pub tenant_id: Uuid,
    pub automation_id: Uuid,
    pub version: u32,
}

/// A stored version as a run reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredVersion {
    pub version: u32,
    pub name: String,
    pub definition: Json,
}

/// How a run ended: what a `call` of it gives its caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// `completed` or `failed`.
    pub status: String,
    pub result: Option<Json>,
    pub error: Option<RunError>,
}

/// The run's row in the read model, written at each stop of the interpreter with the trace
/// entries changed since the last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub tenant_id: Uuid,
    pub automation_id: Uuid,
    pub version: u32,
    pub workflow_id: String,
    /// `running`, `completed` or `failed`.
    pub status: String,
    pub current_step: Option<String>,
    /// What the run waits for now.
    pub waiting: Option<Json>,
    pub vars: Map<String, Json>,
    pub steps: Vec<(usize, TraceEntry)>,
    pub executed: usize,
    pub result: Option<Json>,
    pub error: Option<RunError>,
    pub event: Json,
    /// A failed run's retry point: where a retry starts (see [`retry_point`]).
    #[serde(default)]
    pub retry_from: Option<Carry>,
}

/// One action of a run: done at most once per `key` however often the activity is retried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRequest {
    pub tenant_id: Uuid,
    pub automation_id: Uuid,
    /// `{run}:{step}:{iteration}`.
    pub key: String,
    pub action: String,
    pub input: Json,
    /// The step's attempts: the last one answers a failure instead of raising it.
    pub max_attempts: u32,
    /// The run's record, written before the action.
    pub record: Option<RunRecord>,
}

/// How an action ended; a failure worth another attempt is an activity error instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ActionResult {
    Output { output: Json, attempt: u32 },
    Failed { message: String, attempt: u32 },
}

/// Business time for a `wait` that names a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessRequest {
    pub tenant_id: Uuid,
    pub schedule_id: Uuid,
    pub from: DateTime<Utc>,
    pub duration_ms: i64,
}

/// A run's interest in events of one type, or its end (`event_type` none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitRequest {
    pub tenant_id: Uuid,
    pub workflow_id: String,
    pub event_type: Option<String>,
    pub step: String,
    pub since: DateTime<Utc>,
    pub record: Option<RunRecord>,
}

/// What the run's `status` query answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub automation_id: Option<Uuid>,
    pub version: u32,
    pub status: String,
    pub current_step: Option<String>,
    pub waiting: Option<Json>,
    pub steps_executed: usize,
}

/// Where a retry of a failed run starts: the machine as it stood before its last advance
/// (`before`, given `given`). When that answer was the failure of the step's own effect (an
/// action's last attempt, a business-time count), the step is taken back so the retry does
/// it again; otherwise the retry gives the same answer and meets the failure anew, unless
/// what it reads has changed.
pub fn retry_point(mut before: Machine, given: Option<Resume>) -> Carry {
    let failed_effect = matches!(
        given,
        Some(Resume::Failed { .. } | Resume::Raise(_) | Resume::Instant(Err(_)))
    );
    let resume = if failed_effect {
        before.rewind();
        None
    } else {
        given
    };
    Carry {
        machine: serde_json::to_value(&before).unwrap_or_default(),
        resume: resume.and_then(|r| serde_json::to_value(r).ok()),
    }
}

/// The idempotency key of one action: `{run}:{step}:{iteration}`, the iteration being the
/// enclosing loops' indices (`-` outside loops). Hashed when longer than an idempotency key
/// may be.
pub fn idempotency_key(workflow_id: &str, step: &str, iterations: &[usize]) -> String {
    let iteration = if iterations.is_empty() {
        "-".to_owned()
    } else {
        iterations
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(".")
    };
    let key = format!("{workflow_id}:{step}:{iteration}");
    if key.len() <= 255 {
        key
    } else {
        format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes())))
    }
}

/// Whether `event` (an envelope) triggers `definition`: its type, then its condition. An
/// error in the condition is a no.
pub fn triggered_by(definition: &Definition, event: &Json) -> Result<bool, String> {
    let Trigger::Event {
        event: wanted,
        condition,
    } = &definition.trigger
    else {
        return Ok(false);
    };
    if event.get("type").and_then(Json::as_str) != Some(wanted.as_str()) {
        return Ok(false);
    }
    let Some(condition) = condition else {
        return Ok(true);
    };
    let scope = Scope {
        event: expr::event_to_cel(event),
        vars: expr::to_cel(&Json::Object(Map::new())),
        incoming: None,
        timed: true,
    };
    match condition.eval(&scope)? {
        cel::Value::Bool(b) => Ok(b),
        _ => Err("the condition did not yield a boolean".into()),
    }
}

/// The trigger event a Schedule starts runs with: the same for every run, so it carries no
/// instant or ID; the run fills them in ([`scheduled_event_at`]).
pub fn scheduled_event(tenant_id: Uuid, automation_id: Uuid) -> Json {
    serde_json::json!({
        "tenant_id": tenant_id,
        "type": "automation.scheduled",
        "payload": {"automation_id": automation_id},
    })
}

/// A scheduled run's trigger event made whole: its ID and the instant the run began.
pub fn scheduled_event_at(mut event: Json, event_id: Uuid, at: DateTime<Utc>) -> Json {
    if let Some(o) = event.as_object_mut()
        && !o.contains_key("occurred_at")
    {
        o.insert("event_id".into(), Json::String(event_id.to_string()));
        o.insert("occurred_at".into(), Json::String(expr::rfc3339(at)));
    }
    event
}

/// A manual run's trigger event: type `automation.manual`, the caller's input as payload.
pub fn manual_event(tenant_id: Uuid, event_id: Uuid, at: DateTime<Utc>, input: Json) -> Json {
    serde_json::json!({
        "event_id": event_id,
        "tenant_id": tenant_id,
        "type": "automation.manual",
        "occurred_at": expr::rfc3339(at),
        "payload": input,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_run_step_and_iteration_within_the_length_limit() {
        assert_eq!(
            idempotency_key("automation:t:a:e", "s", &[]),
            "automation:t:a:e:s:-"
        );
        assert_eq!(idempotency_key("r", "s", &[2, 0]), "r:s:2.0");
        let long = idempotency_key(&"x".repeat(300), "s", &[]);
        assert!(long.len() <= 255 && long.starts_with("sha256:"));
        assert_ne!(long, idempotency_key(&"x".repeat(301), "s", &[]));
    }
}
