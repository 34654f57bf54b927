//! The dry run (`POST /v1/automations/dry-run`): the interpreter on a definition, a trigger
//! event and simulated results, with nothing real touched. Its rules are an exact contract
//! with the editor (README, "Automations"); callers compare traces to the letter.
//!
//! The clock starts at `at` and moves only by retries' intervals and waits; the run's variables
//! are JSON, so an instant stored in them reads back as an RFC 3339 string.

use super::definition::*;
use super::expr::{self, Expr, Scope};
use super::validate::{Issue, escape};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};
use std::collections::{HashMap, VecDeque};
use uuid::Uuid;

/// Most steps a run executes; the next one fails it.
pub const MAX_EXECUTED_STEPS: usize = 10_000;
/// Most bytes of evaluated input a run's trace may hold: a loop of large inputs fails the run
/// rather than the machine answering it.
pub const MAX_TRACE_INPUT_BYTES: usize = 8 * 1024 * 1024;

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

/// Why a run failed: the step and the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunError {
    pub step: String,
    pub message: String,
}

/// One executed step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceEntry {
    pub step: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The clock when the step began.
    pub at: String,
    /// `ok`, `failed` or `timeout`.
    pub outcome: &'static str,
    /// The indices of the enclosing `for_each` loops, outermost first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iterations: Option<Vec<usize>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// `then`, `else` or `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<&'static str>,
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

/// Runs `definition` on `request`.
pub fn run(definition: &Definition, request: &Request, business: BusinessTime<'_>) -> Answer {
    let mut run = Run {
        clock: request.at,
        vars: Map::new(),
        vars_cel: None,
        event: expr::event_to_cel(&request.event),
        results: request
            .actions
            .iter()
            .map(|(k, v)| (k.as_str(), v.iter().cloned().collect()))
            .collect(),
        events: &request.events,
        taken: vec![false; request.events.len()],
        trace: Vec::new(),
        loops: Vec::new(),
        input_bytes: 0,
        business,
    };
    let outcome = run.block(&definition.steps);
    let (status, result, error) = match outcome {
        Ok(Flow::Next) => ("completed", Some(Json::Null), None),
        Ok(Flow::Return(value)) => ("completed", Some(value), None),
        Err(Raised { step, message, .. }) => ("failed", None, Some(RunError { step, message })),
    };
    Answer {
        status,
        result,
        error,
        vars: run.vars,
        ended_at: expr::rfc3339(run.clock),
        trace: run.trace,
    }
}

/// How a block of steps ended, when no error left it.
enum Flow {
    Next,
    Return(Json),
}

/// An error on its way out; `fatal` ones (too many steps) no `try` can catch.
struct Raised {
    step: String,
    message: String,
    fatal: bool,
}

struct Run<'a> {
    clock: DateTime<Utc>,
    vars: Map<String, Json>,
    /// `vars` as CEL sees it, made again after a change.
    vars_cel: Option<cel::Value>,
    event: cel::Value,
    results: HashMap<&'a str, VecDeque<Simulated>>,
    events: &'a [Json],
    taken: Vec<bool>,
    trace: Vec<TraceEntry>,
    loops: Vec<usize>,
    input_bytes: usize,
    business: BusinessTime<'a>,
}

impl Run<'_> {
    fn block(&mut self, steps: &[Step]) -> Result<Flow, Raised> {
        for step in steps {
            if let Flow::Return(value) = self.step(step)? {
                return Ok(Flow::Return(value));
            }
        }
        Ok(Flow::Next)
    }

    fn set_var(&mut self, name: &str, value: Json) {
        self.vars.insert(name.to_owned(), value);
        self.vars_cel = None;
    }

    fn remove_var(&mut self, name: &str) {
        self.vars.remove(name);
        self.vars_cel = None;
    }

    fn scope(&mut self, incoming: Option<cel::Value>) -> Scope {
        let vars = self
            .vars_cel
            .get_or_insert_with(|| expr::to_cel(&Json::Object(self.vars.clone())))
            .clone();
        Scope {
            event: self.event.clone(),
            vars,
            incoming,
        }
    }

    fn eval(&mut self, e: &Expr, what: &str, step: &Step) -> Result<Json, Raised> {
        let scope = self.scope(None);
        e.eval_json(&scope)
            .map_err(|reason| raise(step, format!("{what} {reason}")))
    }

    fn eval_bool(
        &mut self,
        e: &Expr,
        what: &str,
        step: &Step,
        incoming: Option<cel::Value>,
    ) -> Result<bool, Raised> {
        let scope = self.scope(incoming);
        match e.eval(&scope) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(_) => Err(raise(step, format!("{what} did not yield a boolean"))),
            Err(reason) => Err(raise(step, format!("{what} {reason}"))),
        }
    }

    fn mapping(&mut self, m: &Mapping, path: &str, step: &Step) -> Result<Json, Raised> {
        Ok(match m {
            Mapping::Expr(e) => self.eval(e, path, step)?,
            Mapping::Literal(v) => v.clone(),
            Mapping::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.mapping(item, &format!("{path}[{i}]"), step)?);
                }
                Json::Array(out)
            }
            Mapping::Object(fields) => {
                let mut out = Map::new();
                for (k, item) in fields {
                    out.insert(k.clone(), self.mapping(item, &format!("{path}.{k}"), step)?);
                }
                Json::Object(out)
            }
        })
    }

    fn step(&mut self, step: &Step) -> Result<Flow, Raised> {
        if self.trace.len() >= MAX_EXECUTED_STEPS {
            return Err(Raised {
                step: step.id.clone(),
                message: format!("the run executed more than {MAX_EXECUTED_STEPS} steps"),
                fatal: true,
            });
        }
        let entry = self.trace.len();
        self.trace.push(TraceEntry {
            step: step.id.clone(),
            kind: step.body.type_name(),
            at: expr::rfc3339(self.clock),
            outcome: "ok",
            iterations: (!self.loops.is_empty()).then(|| self.loops.clone()),
            input: None,
            attempts: None,
            branch: None,
        });
        let result = self.body(step, entry);
        if result.is_err() {
            self.trace[entry].outcome = "failed";
        }
        result
    }

    fn body(&mut self, step: &Step, entry: usize) -> Result<Flow, Raised> {
        match &step.body {
            Body::Action {
                input,
                save_as,
                retry,
                on_error,
                ..
            } => self.attempts(step, entry, input, save_as.as_deref(), *retry, *on_error),
            Body::Call { input, save_as, .. } => self.attempts(
                step,
                entry,
                input,
                save_as.as_deref(),
                Retry::default(),
                OnError::Fail,
            ),
            Body::Set { name, value } => {
                let v = self.eval(value, "value", step)?;
                self.set_var(name, v);
                Ok(Flow::Next)
            }
            Body::If {
                condition,
                then,
                otherwise,
            } => {
                let yes = self.eval_bool(condition, "condition", step, None)?;
                let (branch, steps) = match (yes, otherwise) {
                    (true, _) => ("then", Some(then)),
                    (false, Some(steps)) => ("else", Some(steps)),
                    (false, None) => ("none", None),
                };
                self.trace[entry].branch = Some(branch);
                match steps {
                    Some(steps) => self.block(steps),
                    None => Ok(Flow::Next),
                }
            }
            Body::ForEach {
                items,
                binding,
                steps,
                max_items,
            } => {
                let list = match self.eval(items, "items", step)? {
                    Json::Array(list) => list,
                    _ => return Err(raise(step, "items did not yield a list".into())),
                };
                if list.len() > *max_items {
                    let message = format!(
                        "items yielded {} elements, more than max_items ({max_items})",
                        list.len()
                    );
                    return Err(raise(step, message));
                }
                let mut flow = Ok(Flow::Next);
                for (i, item) in list.into_iter().enumerate() {
                    self.set_var(binding, item);
                    self.loops.push(i);
                    flow = self.block(steps);
                    self.loops.pop();
                    if !matches!(flow, Ok(Flow::Next)) {
                        break;
                    }
                }
                // However the loop ended.
                self.remove_var(binding);
                flow
            }
            Body::Try { steps, catch } => match self.block(steps) {
                Err(Raised {
                    step: failed,
                    message,
                    fatal: false,
                }) => {
                    self.set_var("error", json!({ "step": failed, "message": message }));
                    self.block(catch)
                }
                other => other,
            },
            Body::Wait {
                wait,
                business_schedule_id,
            } => {
                let to = match wait {
                    Wait::For(d) => match business_schedule_id {
                        Some(schedule) => (self.business)(*schedule, self.clock, *d)
                            .map_err(|reason| raise(step, reason))?,
                        None => later(self.clock, *d).ok_or_else(|| past_end(step, "wait"))?,
                    },
                    Wait::Until(e) => {
                        let scope = self.scope(None);
                        let value = e
                            .eval(&scope)
                            .map_err(|reason| raise(step, format!("until {reason}")))?;
                        expr::to_instant(&value)
                            .ok_or_else(|| raise(step, "until did not yield an instant".into()))?
                    }
                };
                if to > last_instant() {
                    return Err(past_end(step, "wait"));
                }
                self.clock = self.clock.max(to);
                Ok(Flow::Next)
            }
            Body::WaitForEvent {
                event,
                filter,
                timeout,
                save_as,
            } => {
                let start = self.clock;
                let events = self.events;
                let mut found = None;
                for (i, candidate) in events.iter().enumerate() {
                    let fits = !self.taken[i]
                        && candidate.get("type").and_then(Json::as_str) == Some(event.as_str())
                        && occurred_at(candidate).is_some_and(|t| t >= start);
                    if fits
                        && self.eval_bool(
                            filter,
                            "where",
                            step,
                            Some(expr::event_to_cel(candidate)),
                        )?
                    {
                        found = Some(i);
                        break;
                    }
                }
                // `None`: the timeout ends past the last instant an answer can write.
                let deadline = later(start, *timeout);
                let taken = found.and_then(|i| {
                    let at = occurred_at(&events[i])?;
                    deadline.is_none_or(|d| at <= d).then_some((i, at))
                });
                match taken {
                    Some((i, at)) => {
                        self.taken[i] = true;
                        self.clock = self.clock.max(at);
                        if let Some(name) = save_as {
                            self.set_var(name, events[i].clone());
                        }
                    }
                    None => {
                        self.clock = deadline.ok_or_else(|| past_end(step, "wait"))?;
                        self.trace[entry].outcome = "timeout";
                    }
                }
                Ok(Flow::Next)
            }
            Body::Return { value } => {
                let v = match value {
                    Some(e) => self.eval(e, "value", step)?,
                    None => Json::Null,
                };
                Ok(Flow::Return(v))
            }
        }
    }

    /// An action's or call's input, then its attempts on the simulated results.
    fn attempts(
        &mut self,
        step: &Step,
        entry: usize,
        input: &Mapping,
        save_as: Option<&str>,
        retry: Retry,
        on_error: OnError,
    ) -> Result<Flow, Raised> {
        let input = self.mapping(input, "input", step)?;
        self.input_bytes += serde_json::to_vec(&input).map_or(0, |v| v.len());
        if self.input_bytes > MAX_TRACE_INPUT_BYTES {
            return Err(Raised {
                step: step.id.clone(),
                message: format!(
                    "the run's inputs add up to more than {MAX_TRACE_INPUT_BYTES} bytes"
                ),
                fatal: true,
            });
        }
        self.trace[entry].input = Some(input);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .results
                .get_mut(step.id.as_str())
                .and_then(VecDeque::pop_front)
                .unwrap_or_else(|| Simulated::Output(json!({})));
            match result {
                Simulated::Output(output) => {
                    self.trace[entry].attempts = Some(attempt);
                    if let Some(name) = save_as {
                        self.set_var(name, output);
                    }
                    return Ok(Flow::Next);
                }
                Simulated::Error(message) => {
                    if attempt < retry.max_attempts {
                        self.clock = later(self.clock, retry.wait_after(attempt))
                            .ok_or_else(|| past_end(step, "retries"))?;
                        continue;
                    }
                    self.trace[entry].attempts = Some(attempt);
                    self.trace[entry].outcome = "failed";
                    return match on_error {
                        OnError::Continue => Ok(Flow::Next),
                        OnError::Fail => Err(raise(step, message)),
                    };
                }
            }
        }
    }
}

/// The last instant an answer can write in RFC 3339 (four-digit years).
fn last_instant() -> DateTime<Utc> {
    chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 999))
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc())
}

/// `at + d`, unless that lies past [`last_instant`].
fn later(at: DateTime<Utc>, d: TimeDelta) -> Option<DateTime<Utc>> {
    at.checked_add_signed(d).filter(|t| *t <= last_instant())
}

/// A step whose `what` would move the clock past the year 9999.
fn past_end(step: &Step, what: &str) -> Raised {
    raise(step, format!("the {what} would end after the year 9999"))
}

fn raise(step: &Step, message: String) -> Raised {
    Raised {
        step: step.id.clone(),
        message,
        fatal: false,
    }
}
