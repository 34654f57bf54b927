//! The automation interpreter, as a machine that stops at every effect: an action, a call, a
//! business-time lookup, a wait, a wait for an event. Whoever drives it answers the effect
//! and resumes it. The dry run answers from simulated results; the durable run
//! (`workflows/src/automation_run`) answers with activities, timers, signals and child
//! workflows. One set of rules, so what a dry run shows is what a live run does.
//!
//! The machine's whole state is data (serde): a durable run carries it across continue-as-new,
//! and nothing in it depends on the wall clock or on the order a hash map iterates in.

use super::definition::*;
use super::expr::{self, Expr, Scope};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// Most steps a run executes; the next one fails it.
pub const MAX_EXECUTED_STEPS: usize = 10_000;
/// Most bytes of evaluated input a run's trace may hold: a loop of large inputs fails the run
/// rather than the machine answering it.
pub const MAX_TRACE_INPUT_BYTES: usize = 8 * 1024 * 1024;

/// Why a run failed: the step and the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunError {
    pub step: String,
    pub message: String,
}

/// One executed step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceEntry {
    pub step: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The clock when the step began.
    pub at: String,
    /// `ok`, `failed` or `timeout`.
    pub outcome: String,
    /// The indices of the enclosing `for_each` loops, outermost first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<Vec<usize>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// `then`, `else` or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

/// What the machine needs before it can go on.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Run an action: answer with [`Resume::Output`] or [`Resume::Failed`] once its attempts
    /// are spent (or [`Resume::Raise`] when they cannot be).
    Action {
        step: String,
        action: String,
        input: Json,
        retry: Retry,
        /// Enclosing loops' indices: with the run and step, the action's idempotency key.
        iterations: Vec<usize>,
    },
    /// Run another automation's newest version with `input` as its trigger payload; answer
    /// as for an action (one attempt).
    Call {
        step: String,
        automation: Uuid,
        input: Json,
        iterations: Vec<usize>,
    },
    /// Count `duration` of business time from `from` on a stored schedule: answer with
    /// [`Resume::Instant`].
    BusinessTime {
        schedule: Uuid,
        from: DateTime<Utc>,
        duration: TimeDelta,
    },
    /// Sleep until `until`: answer with [`Resume::Woke`].
    Sleep { step: String, until: DateTime<Utc> },
    /// Wait for an event of type `event` that [`Machine::matches`]: answer with
    /// [`Resume::Event`], or [`Resume::Timeout`] at `deadline` (`None`: past the year 9999).
    WaitEvent {
        step: String,
        event: String,
        deadline: Option<DateTime<Utc>>,
    },
    /// The run is over.
    Done(End),
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum End {
    /// What `return` gave, else null.
    Completed(Json),
    Failed(RunError),
}

/// The answer to an [`Effect`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Resume {
    Output {
        output: Json,
        attempts: u32,
    },
    Failed {
        message: String,
        attempts: u32,
    },
    Instant(Result<DateTime<Utc>, String>),
    Woke,
    Event(Json),
    Timeout,
    /// The effect itself went wrong: the waiting step fails with this message.
    Raise(String),
}

/// Which list of steps a [`Frame::Block`] walks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Steps {
    Root,
    Then(String),
    Else(String),
    /// A `for_each` body or a `try` body.
    Body(String),
    Catch(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Frame {
    /// Steps of a list, `next` the one to run; `owner` the trace entry of the `if` whose
    /// branch it is.
    Block {
        steps: Steps,
        next: usize,
        owner: Option<usize>,
    },
    Loop {
        step: String,
        owner: usize,
        binding: String,
        items: Vec<Json>,
        index: usize,
    },
    Try {
        step: String,
        owner: usize,
        catching: bool,
    },
}

/// The step waiting for an answer and its trace entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Pending {
    step: String,
    entry: usize,
    /// A `wait` whose business-time end was asked for.
    business: bool,
}

/// An error on its way out; `fatal` ones (too many steps) no `try` can catch.
struct Raised {
    step: String,
    message: String,
    fatal: bool,
}

/// A run of one definition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    /// The run's clock: the dry run moves it itself; a durable run sets it to the workflow
    /// clock before each resume.
    pub clock: DateTime<Utc>,
    pub vars: Map<String, Json>,
    /// The trigger event's envelope.
    event: Json,
    frames: Vec<Frame>,
    /// Trace entries by their number in the run: those not yet taken by
    /// [`Machine::take_trace`], and those of steps still running.
    trace: BTreeMap<usize, TraceEntry>,
    executed: usize,
    input_bytes: usize,
    pending: Option<Pending>,
    /// Whether expressions are held to their time limit (see [`Scope::timed`]).
    timed: bool,
    #[serde(skip)]
    vars_cel: Option<cel::Value>,
    #[serde(skip)]
    event_cel: Option<cel::Value>,
}

/// Every step of a definition by ID.
struct Index<'d>(HashMap<&'d str, &'d Step>);

impl<'d> Index<'d> {
    fn new(definition: &'d Definition) -> Self {
        fn add<'d>(steps: &'d [Step], out: &mut HashMap<&'d str, &'d Step>) {
            for s in steps {
                out.insert(s.id.as_str(), s);
                match &s.body {
                    Body::If {
                        then, otherwise, ..
                    } => {
                        add(then, out);
                        if let Some(o) = otherwise {
                            add(o, out);
                        }
                    }
                    Body::ForEach { steps, .. } => add(steps, out),
                    Body::Try { steps, catch } => {
                        add(steps, out);
                        add(catch, out);
                    }
                    _ => {}
                }
            }
        }
        let mut out = HashMap::new();
        add(&definition.steps, &mut out);
        Index(out)
    }

    fn step(&self, id: &str) -> Option<&'d Step> {
        self.0.get(id).copied()
    }

    fn steps(&self, definition: &'d Definition, which: &Steps) -> &'d [Step] {
        let body = |id: &str| self.step(id).map(|s| &s.body);
        match which {
            Steps::Root => &definition.steps,
            Steps::Then(id) => match body(id) {
                Some(Body::If { then, .. }) => then,
                _ => &[],
            },
            Steps::Else(id) => match body(id) {
                Some(Body::If {
                    otherwise: Some(o), ..
                }) => o,
                _ => &[],
            },
            Steps::Body(id) => match body(id) {
                Some(Body::ForEach { steps, .. } | Body::Try { steps, .. }) => steps,
                _ => &[],
            },
            Steps::Catch(id) => match body(id) {
                Some(Body::Try { catch, .. }) => catch,
                _ => &[],
            },
        }
    }
}

impl Machine {
    /// A run triggered by `event` (an envelope) at `at`. `timed`: whether expressions are held
    /// to their time limit (the dry run), or not (a durable run, which must decide the same on
    /// every replay).
    pub fn new(event: Json, at: DateTime<Utc>, timed: bool) -> Machine {
        Machine {
            clock: at,
            vars: Map::new(),
            event,
            frames: vec![Frame::Block {
                steps: Steps::Root,
                next: 0,
                owner: None,
            }],
            trace: BTreeMap::new(),
            executed: 0,
            input_bytes: 0,
            pending: None,
            timed,
            vars_cel: None,
            event_cel: None,
        }
    }

    /// The trigger event's envelope.
    pub fn event(&self) -> &Json {
        &self.event
    }

    /// Steps executed so far.
    pub fn executed(&self) -> usize {
        self.executed
    }

    /// The step waiting for an answer, if any.
    pub fn waiting_on(&self) -> Option<&str> {
        self.pending.as_ref().map(|p| p.step.as_str())
    }

    /// The trace entries changed since the last call, by number; those of steps still
    /// running are kept, since they change again.
    pub fn take_trace(&mut self) -> Vec<(usize, TraceEntry)> {
        let open = self.open_entries();
        let out: Vec<(usize, TraceEntry)> =
            self.trace.iter().map(|(k, v)| (*k, v.clone())).collect();
        self.trace.retain(|k, _| open.contains(k));
        out
    }

    /// The whole trace, for a run that never took any of it.
    pub fn into_trace(self) -> Vec<TraceEntry> {
        self.trace.into_values().collect()
    }

    fn open_entries(&self) -> Vec<usize> {
        let mut open: Vec<usize> = self
            .frames
            .iter()
            .filter_map(|f| match f {
                Frame::Block { owner, .. } => *owner,
                Frame::Loop { owner, .. } | Frame::Try { owner, .. } => Some(*owner),
            })
            .collect();
        open.extend(self.pending.as_ref().map(|p| p.entry));
        open
    }

    /// Takes back the step waiting for an answer, so the next [`Machine::advance`] begins it
    /// again (evaluating its input anew): how a failed run is retried from its failed step.
    /// `false` when no step waits.
    pub fn rewind(&mut self) -> bool {
        let Some(pending) = self.pending.take() else {
            return false;
        };
        // A step waits only right after it began: its list's cursor is just past it.
        if let Some(Frame::Block { next, .. }) = self.frames.last_mut() {
            *next = next.saturating_sub(1);
        }
        self.trace.remove(&pending.entry);
        self.executed = pending.entry;
        true
    }

    /// Whether `candidate` is an event the waiting `wait_for_event` step takes: its type, and
    /// its `where` true. An error in `where` is the message to resume with as
    /// [`Resume::Raise`].
    pub fn matches(&mut self, definition: &Definition, candidate: &Json) -> Result<bool, String> {
        let index = Index::new(definition);
        let Some(step) = self.pending.as_ref().and_then(|p| index.step(&p.step)) else {
            return Ok(false);
        };
        let Body::WaitForEvent { event, filter, .. } = &step.body else {
            return Ok(false);
        };
        if candidate.get("type").and_then(Json::as_str) != Some(event.as_str()) {
            return Ok(false);
        }
        self.eval_bool(filter, "where", step, Some(expr::event_to_cel(candidate)))
            .map_err(|r| r.message)
    }

    /// Runs until the next effect, resuming the waiting step with `resume` first.
    pub fn advance(&mut self, definition: &Definition, resume: Option<Resume>) -> Effect {
        let index = Index::new(definition);
        if let Some(resume) = resume
            && let Some(pending) = self.pending.take()
        {
            let step = index.step(&pending.step);
            let result = match step {
                Some(step) => self.resume(step, &pending, resume),
                None => Err(Raised {
                    step: pending.step.clone(),
                    message: "the step is not in the definition".into(),
                    fatal: true,
                }),
            };
            match result {
                Ok(Some(effect)) => return effect,
                Ok(None) => {}
                Err(raised) => {
                    self.fail_entry(pending.entry);
                    if let Some(end) = self.unwind(raised) {
                        return Effect::Done(end);
                    }
                }
            }
        }
        loop {
            match self.next(definition, &index) {
                Ok(Some(effect)) => return effect,
                Ok(None) => {}
                Err(raised) => {
                    if let Some(end) = self.unwind(raised) {
                        return Effect::Done(end);
                    }
                }
            }
        }
    }

    /// One move: begins the next step, or ends a finished list. `Ok(None)`: go on.
    fn next(
        &mut self,
        definition: &Definition,
        index: &Index<'_>,
    ) -> Result<Option<Effect>, Raised> {
        let Some(top) = self.frames.last_mut() else {
            return Ok(Some(Effect::Done(End::Completed(Json::Null))));
        };
        match top {
            Frame::Block { steps, next, .. } => {
                let list = index.steps(definition, steps);
                match list.get(*next) {
                    Some(step) => {
                        *next += 1;
                        self.begin(step)
                    }
                    None => {
                        self.frames.pop();
                        self.finished_list();
                        if self.frames.is_empty() {
                            return Ok(Some(Effect::Done(End::Completed(Json::Null))));
                        }
                        Ok(None)
                    }
                }
            }
            // A loop or try frame is on top only between its lists.
            Frame::Loop { .. } | Frame::Try { .. } => {
                self.finished_list();
                Ok(None)
            }
        }
    }

    /// A list ended normally: moves its loop on, or closes its `try`.
    fn finished_list(&mut self) {
        match self.frames.last_mut() {
            Some(Frame::Loop {
                step,
                binding,
                items,
                index,
                ..
            }) => {
                *index += 1;
                if let Some(item) = items.get(*index).cloned() {
                    let body = Steps::Body(step.clone());
                    let binding = binding.clone();
                    self.set_var(&binding, item);
                    self.frames.push(Frame::Block {
                        steps: body,
                        next: 0,
                        owner: None,
                    });
                } else {
                    let binding = binding.clone();
                    self.frames.pop();
                    self.remove_var(&binding);
                }
            }
            Some(Frame::Try { .. }) => {
                self.frames.pop();
            }
            _ => {}
        }
    }

    /// An error leaves every enclosing list until a `try` catches it; `Some` when it ends the
    /// run.
    fn unwind(&mut self, raised: Raised) -> Option<End> {
        loop {
            match self.frames.pop() {
                None => {
                    return Some(End::Failed(RunError {
                        step: raised.step,
                        message: raised.message,
                    }));
                }
                Some(Frame::Block { owner, .. }) => {
                    if let Some(o) = owner {
                        self.fail_entry(o);
                    }
                }
                Some(Frame::Loop { owner, binding, .. }) => {
                    self.remove_var(&binding);
                    self.fail_entry(owner);
                }
                Some(Frame::Try {
                    step,
                    owner,
                    catching: false,
                }) if !raised.fatal => {
                    let error = json!({ "step": raised.step, "message": raised.message });
                    self.set_var("error", error);
                    self.frames.push(Frame::Try {
                        step: step.clone(),
                        owner,
                        catching: true,
                    });
                    self.frames.push(Frame::Block {
                        steps: Steps::Catch(step),
                        next: 0,
                        owner: None,
                    });
                    return None;
                }
                Some(Frame::Try { owner, .. }) => self.fail_entry(owner),
            }
        }
    }

    fn fail_entry(&mut self, entry: usize) {
        if let Some(e) = self.trace.get_mut(&entry) {
            e.outcome = "failed".into();
        }
    }

    fn loops(&self) -> Vec<usize> {
        self.frames
            .iter()
            .filter_map(|f| match f {
                Frame::Loop { index, .. } => Some(*index),
                _ => None,
            })
            .collect()
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
        let event = self
            .event_cel
            .get_or_insert_with(|| expr::event_to_cel(&self.event))
            .clone();
        Scope {
            event,
            vars,
            incoming,
            timed: self.timed,
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

    /// Begins `step`: records its trace entry, then runs it as far as it goes without an
    /// effect.
    fn begin(&mut self, step: &Step) -> Result<Option<Effect>, Raised> {
        if self.executed >= MAX_EXECUTED_STEPS {
            return Err(Raised {
                step: step.id.clone(),
                message: format!("the run executed more than {MAX_EXECUTED_STEPS} steps"),
                fatal: true,
            });
        }
        let entry = self.executed;
        self.executed += 1;
        let loops = self.loops();
        self.trace.insert(
            entry,
            TraceEntry {
                step: step.id.clone(),
                kind: step.body.type_name().into(),
                at: expr::rfc3339(self.clock),
                outcome: "ok".into(),
                iterations: (!loops.is_empty()).then_some(loops),
                input: None,
                attempts: None,
                branch: None,
            },
        );
        let result = self.body(step, entry);
        if result.is_err() {
            self.fail_entry(entry);
        }
        result
    }

    fn body(&mut self, step: &Step, entry: usize) -> Result<Option<Effect>, Raised> {
        match &step.body {
            Body::Action {
                action,
                input,
                retry,
                ..
            } => {
                let input = self.input(step, entry, input)?;
                self.suspend(step, entry);
                Ok(Some(Effect::Action {
                    step: step.id.clone(),
                    action: action.clone(),
                    input,
                    retry: *retry,
                    iterations: self.loops(),
                }))
            }
            Body::Call {
                automation, input, ..
            } => {
                let input = self.input(step, entry, input)?;
                self.suspend(step, entry);
                Ok(Some(Effect::Call {
                    step: step.id.clone(),
                    automation: *automation,
                    input,
                    iterations: self.loops(),
                }))
            }
            Body::Set { name, value } => {
                let v = self.eval(value, "value", step)?;
                self.set_var(name, v);
                Ok(None)
            }
            Body::If {
                condition,
                otherwise,
                ..
            } => {
                let yes = self.eval_bool(condition, "condition", step, None)?;
                let (branch, steps) = match (yes, otherwise) {
                    (true, _) => ("then", Some(Steps::Then(step.id.clone()))),
                    (false, Some(_)) => ("else", Some(Steps::Else(step.id.clone()))),
                    (false, None) => ("none", None),
                };
                if let Some(e) = self.trace.get_mut(&entry) {
                    e.branch = Some(branch.into());
                }
                if let Some(steps) = steps {
                    self.frames.push(Frame::Block {
                        steps,
                        next: 0,
                        owner: Some(entry),
                    });
                }
                Ok(None)
            }
            Body::ForEach {
                items,
                binding,
                max_items,
                ..
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
                match list.first().cloned() {
                    Some(first) => {
                        self.set_var(binding, first);
                        self.frames.push(Frame::Loop {
                            step: step.id.clone(),
                            owner: entry,
                            binding: binding.clone(),
                            items: list,
                            index: 0,
                        });
                        self.frames.push(Frame::Block {
                            steps: Steps::Body(step.id.clone()),
                            next: 0,
                            owner: None,
                        });
                    }
                    // No iteration: the binding is gone all the same, as after any loop.
                    None => self.remove_var(binding),
                }
                Ok(None)
            }
            Body::Try { .. } => {
                self.frames.push(Frame::Try {
                    step: step.id.clone(),
                    owner: entry,
                    catching: false,
                });
                self.frames.push(Frame::Block {
                    steps: Steps::Body(step.id.clone()),
                    next: 0,
                    owner: None,
                });
                Ok(None)
            }
            Body::Wait {
                wait,
                business_schedule_id,
            } => {
                let to = match wait {
                    Wait::For(d) => match business_schedule_id {
                        Some(schedule) => {
                            self.suspend(step, entry);
                            if let Some(p) = &mut self.pending {
                                p.business = true;
                            }
                            return Ok(Some(Effect::BusinessTime {
                                schedule: *schedule,
                                from: self.clock,
                                duration: *d,
                            }));
                        }
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
                self.sleep(step, entry, to)
            }
            Body::WaitForEvent { event, timeout, .. } => {
                self.suspend(step, entry);
                Ok(Some(Effect::WaitEvent {
                    step: step.id.clone(),
                    event: event.clone(),
                    deadline: later(self.clock, *timeout),
                }))
            }
            Body::Return { value } => {
                let v = match value {
                    Some(e) => self.eval(e, "value", step)?,
                    None => Json::Null,
                };
                // However the lists ended, their loops' bindings go.
                while let Some(frame) = self.frames.pop() {
                    if let Frame::Loop { binding, .. } = frame {
                        self.remove_var(&binding);
                    }
                }
                Ok(Some(Effect::Done(End::Completed(v))))
            }
        }
    }

    fn suspend(&mut self, step: &Step, entry: usize) {
        self.pending = Some(Pending {
            step: step.id.clone(),
            entry,
            business: false,
        });
    }

    /// A wait to `to`: suspends unless it lies past what a trace can write.
    fn sleep(
        &mut self,
        step: &Step,
        entry: usize,
        to: DateTime<Utc>,
    ) -> Result<Option<Effect>, Raised> {
        if to > last_instant() {
            return Err(past_end(step, "wait"));
        }
        self.suspend(step, entry);
        Ok(Some(Effect::Sleep {
            step: step.id.clone(),
            until: to,
        }))
    }

    /// An action's or call's input, counted against the trace's limit and recorded.
    fn input(&mut self, step: &Step, entry: usize, input: &Mapping) -> Result<Json, Raised> {
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
        if let Some(e) = self.trace.get_mut(&entry) {
            e.input = Some(input.clone());
        }
        Ok(input)
    }

    /// The waiting step takes its answer. `Ok(Some)`: it needs another effect first.
    fn resume(
        &mut self,
        step: &Step,
        pending: &Pending,
        resume: Resume,
    ) -> Result<Option<Effect>, Raised> {
        let entry = pending.entry;
        let (save_as, on_error) = match &step.body {
            Body::Action {
                save_as, on_error, ..
            } => (save_as.as_deref(), *on_error),
            Body::Call { save_as, .. } | Body::WaitForEvent { save_as, .. } => {
                (save_as.as_deref(), OnError::Fail)
            }
            _ => (None, OnError::Fail),
        };
        match resume {
            Resume::Output { output, attempts } => {
                if let Some(e) = self.trace.get_mut(&entry) {
                    e.attempts = Some(attempts);
                }
                if let Some(name) = save_as {
                    self.set_var(name, output);
                }
                Ok(None)
            }
            Resume::Failed { message, attempts } => {
                if let Some(e) = self.trace.get_mut(&entry) {
                    e.attempts = Some(attempts);
                    e.outcome = "failed".into();
                }
                match on_error {
                    OnError::Continue => Ok(None),
                    OnError::Fail => Err(raise(step, message)),
                }
            }
            Resume::Instant(Ok(to)) if pending.business => self.sleep(step, entry, to),
            Resume::Instant(Err(reason)) => Err(raise(step, reason)),
            Resume::Event(event) => {
                if let Some(name) = save_as {
                    self.set_var(name, event);
                }
                Ok(None)
            }
            Resume::Timeout => {
                if let Some(e) = self.trace.get_mut(&entry) {
                    e.outcome = "timeout".into();
                }
                Ok(None)
            }
            Resume::Raise(message) => Err(raise(step, message)),
            Resume::Woke | Resume::Instant(Ok(_)) => Ok(None),
        }
    }
}

/// The last instant an answer can write in RFC 3339 (four-digit years).
pub fn last_instant() -> DateTime<Utc> {
    chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 999))
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc())
}

/// `at + d`, unless that lies past [`last_instant`].
pub fn later(at: DateTime<Utc>, d: TimeDelta) -> Option<DateTime<Utc>> {
    at.checked_add_signed(d).filter(|t| *t <= last_instant())
}

/// The message of a step whose `what` would move the clock past the year 9999.
pub fn past_end_message(what: &str) -> String {
    format!("the {what} would end after the year 9999")
}

fn past_end(step: &Step, what: &str) -> Raised {
    raise(step, past_end_message(what))
}

fn raise(step: &Step, message: String) -> Raised {
    Raised {
        step: step.id.clone(),
        message,
        fatal: false,
    }
}
