//! The dry run (`POST /v1/automations/dry-run`): the interpreter on a definition, a trigger
//! event and simulated results, with nothing real touched. Its rules are an exact contract
//! with the editor (README, "Automations"); callers compare traces to the letter.
//!
//! The clock starts at `at` and moves only by retries' intervals and waits; the run's variables
//! are JSON, so an instant stored in them reads back as an RFC 3339 string.

use super::definition::*;
use super::expr;
use super::machine::{self, Effect, End, Machine, Resume};
use super::validate::{Issue, escape};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};
use std::collections::{HashMap, VecDeque};
use uuid::Uuid;

pub use super::machine::{MAX_EXECUTED_STEPS, MAX_TRACE_INPUT_BYTES, RunError, TraceEntry};

/// A simulated result of one attempt of an action or call.
#[derive(Debug, Clone, PartialEq)]
pub enum Simulated {
    Output(Json),
    Error(String),
}

/// A dry run's request, checked (the definition separately, by `validate`).
#[derive(Debug, Clone)]
pub struct Request {
    /// The trigger event's envelope, as given.
    pub event: Json,
    pub at: DateTime<Utc>,
    pub actions: HashMap<String, Vec<Simulated>>,
    /// Events the run's waits may take, in list order.
    pub events: Vec<Json>,
}

impl Request {
    /// Reads everything of a dry-run request but its `definition`, reporting every fault with
    /// a pointer into the request.
    pub fn parse(body: &Json) -> Result<Request, Vec<Issue>> {
        let mut issues = Vec::new();
        let mut issue = |pointer: String, reason: &str| {
            issues.push(Issue {
                pointer,
                reason: reason.to_owned(),
            })
        };
        let Some(o) = body.as_object() else {
            return Err(vec![Issue {
                pointer: String::new(),
                reason: "must be an object".into(),
            }]);
        };
        for key in o.keys() {
            if !["definition", "event", "at", "actions", "events"].contains(&key.as_str()) {
                issue(format!("/{}", escape(key)), "is not a field of a dry run");
            }
        }
        if !o.contains_key("definition") {
            issue("/definition".into(), "is required");
        }
        let event = match o.get("event") {
            Some(e @ Json::Object(_)) => {
                check_envelope(e, "/event", &mut issue);
                Some(e.clone())
            }
            Some(_) => {
                issue("/event".into(), "must be an event envelope (an object)");
                None
            }
            None => {
                issue("/event".into(), "is required");
                None
            }
        };
        let at = match o.get("at") {
            None | Some(Json::Null) => event.as_ref().and_then(occurred_at),
            Some(v) => {
                let at = v.as_str().and_then(instant);
                if at.is_none() {
                    issue("/at".into(), "must be an RFC 3339 instant");
                }
                at
            }
        };
        let mut actions = HashMap::new();
        match o.get("actions") {
            None | Some(Json::Null) => {}
            Some(Json::Object(by_step)) => {
                for (step, results) in by_step {
                    let ptr = format!("/actions/{}", escape(step));
                    let Some(list) = results.as_array() else {
                        issue(ptr, "must be a list of results");
                        continue;
                    };
                    let mut out = Vec::with_capacity(list.len());
                    for (i, r) in list.iter().enumerate() {
                        let one = r.as_object().filter(|r| r.len() == 1);
                        match one.and_then(|r| r.iter().next()) {
                            Some((k, v)) if k == "output" => out.push(Simulated::Output(v.clone())),
                            Some((k, Json::String(m))) if k == "error" => {
                                out.push(Simulated::Error(m.clone()))
                            }
                            _ => issue(
                                format!("{ptr}/{i}"),
                                "must be {\"output\": JSON} or {\"error\": \"message\"}",
                            ),
                        }
                    }
                    actions.insert(step.clone(), out);
                }
            }
            Some(_) => issue("/actions".into(), "must be an object of step IDs"),
        }
        let mut events = Vec::new();
        match o.get("events") {
            None | Some(Json::Null) => {}
            Some(Json::Array(list)) => {
                for (i, e) in list.iter().enumerate() {
                    let ptr = format!("/events/{i}");
                    if e.is_object() {
                        check_envelope(e, &ptr, &mut issue);
                        if occurred_at(e).is_none() {
                            issue(format!("{ptr}/occurred_at"), "must be an RFC 3339 instant");
                        }
                        events.push(e.clone());
                    } else {
                        issue(ptr, "must be an event envelope (an object)");
                    }
                }
            }
            Some(_) => issue("/events".into(), "must be a list of event envelopes"),
        }
        if event.is_some() && at.is_none() && o.get("at").is_none_or(Json::is_null) {
            issue(
                "/event/occurred_at".into(),
                "must be an RFC 3339 instant (or give `at`)",
            );
        }
        match (event, at) {
            (Some(event), Some(at)) if issues.is_empty() => Ok(Request {
                event,
                at,
                actions,
                events,
            }),
            _ => Err(issues),
        }
    }
}

fn check_envelope(e: &Json, ptr: &str, issue: &mut impl FnMut(String, &str)) {
    if !e.get("type").is_some_and(Json::is_string) {
        issue(format!("{ptr}/type"), "must be the event's type (a string)");
    }
}

fn instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn occurred_at(e: &Json) -> Option<DateTime<Utc>> {
    e.get("occurred_at")
        .and_then(Json::as_str)
        .and_then(instant)
}

/// A dry run's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// `completed` or `failed`.
    pub status: &'static str,
    /// Completed runs only: what `return` gave, else null.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RunError>,
    pub vars: Map<String, Json>,
    pub ended_at: String,
    pub trace: Vec<TraceEntry>,
}

/// Business time: the instant `duration` of business time after `from` on the stored schedule
/// `schedule_id`, or why it cannot be counted.
pub type BusinessTime<'a> =
    &'a dyn Fn(Uuid, DateTime<Utc>, TimeDelta) -> Result<DateTime<Utc>, String>;

/// Runs `definition` on `request`: the interpreter, its effects answered from the request.
pub fn run(definition: &Definition, request: &Request, business: BusinessTime<'_>) -> Answer {
    let mut results: HashMap<&str, VecDeque<Simulated>> = request
        .actions
        .iter()
        .map(|(k, v)| (k.as_str(), v.iter().cloned().collect()))
        .collect();
    let mut taken = vec![false; request.events.len()];
    let mut m = Machine::new(request.event.clone(), request.at, true);
    let mut resume = None;
    let end = loop {
        let effect = m.advance(definition, resume.take());
        resume = Some(match effect {
            Effect::Done(end) => break end,
            Effect::Action { step, retry, .. } => attempts(&mut m, &mut results, &step, retry),
            Effect::Call { step, .. } => attempts(&mut m, &mut results, &step, Retry::default()),
            Effect::BusinessTime {
                schedule,
                from,
                duration,
            } => Resume::Instant(business(schedule, from, duration)),
            Effect::Sleep { until, .. } => {
                m.clock = m.clock.max(until);
                Resume::Woke
            }
            Effect::WaitEvent { deadline, .. } => {
                wait_for_event(&mut m, definition, &request.events, &mut taken, deadline)
            }
        });
    };
    let (status, result, error) = match end {
        End::Completed(value) => ("completed", Some(value), None),
        End::Failed(error) => ("failed", None, Some(error)),
    };
    Answer {
        status,
        result,
        error,
        vars: m.vars.clone(),
        ended_at: expr::rfc3339(m.clock),
        trace: m.into_trace(),
    }
}

/// An action's or call's attempts on the simulated results (none left: `{}`), the clock
/// moving by the retry intervals between them.
fn attempts(
    m: &mut Machine,
    results: &mut HashMap<&str, VecDeque<Simulated>>,
    step: &str,
    retry: Retry,
) -> Resume {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = results
            .get_mut(step)
            .and_then(VecDeque::pop_front)
            .unwrap_or_else(|| Simulated::Output(json!({})));
        match result {
            Simulated::Output(output) => {
                return Resume::Output {
                    output,
                    attempts: attempt,
                };
            }
            Simulated::Error(message) if attempt >= retry.max_attempts => {
                return Resume::Failed {
                    message,
                    attempts: attempt,
                };
            }
            Simulated::Error(_) => match machine::later(m.clock, retry.wait_after(attempt)) {
                Some(t) => m.clock = t,
                None => return Resume::Raise(machine::past_end_message("retries")),
            },
        }
    }
}

/// The first listed event not yet taken that the waiting step takes, occurred from the wait's
/// start until its deadline; else the timeout.
fn wait_for_event(
    m: &mut Machine,
    definition: &Definition,
    events: &[Json],
    taken: &mut [bool],
    deadline: Option<DateTime<Utc>>,
) -> Resume {
    let start = m.clock;
    let mut found = None;
    for (i, candidate) in events.iter().enumerate() {
        if taken[i] || occurred_at(candidate).is_none_or(|t| t < start) {
            continue;
        }
        match m.matches(definition, candidate) {
            Ok(true) => {
                found = Some(i);
                break;
            }
            Ok(false) => {}
            Err(message) => return Resume::Raise(message),
        }
    }
    let within = found.and_then(|i| {
        let at = occurred_at(&events[i])?;
        deadline.is_none_or(|d| at <= d).then_some((i, at))
    });
    match (within, deadline) {
        (Some((i, at)), _) => {
            taken[i] = true;
            m.clock = m.clock.max(at);
            Resume::Event(events[i].clone())
        }
        (None, Some(deadline)) => {
            m.clock = deadline;
            Resume::Timeout
        }
        (None, None) => Resume::Raise(machine::past_end_message("wait")),
    }
}
