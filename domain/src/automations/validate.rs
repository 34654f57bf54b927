//! Validation of a definition's canonical JSON, on publish and on dry run: every error at
//! once, each with a JSON pointer to the offending place (`/steps/2/then/0/input/ticket_id`)
//! and a reason, and the checked [`Definition`] when there are none.

use super::catalogue;
use super::definition::*;
use super::durations;
use super::expr::{Expr, Kind};
use crate::events::EVENT_TYPES;
use serde::Serialize;
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use std::str::FromStr;
use uuid::Uuid;

/// One thing wrong with a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// JSON pointer (RFC 6901) into the definition.
    pub pointer: String,
    pub reason: String,
}

/// Longest name, description and step ID.
const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 4_000;
const MAX_ID: usize = 100;
/// Most steps in one definition, counting nested ones.
pub const MAX_STEPS: usize = 1_000;

/// Checks `json`; `published` says whether an automation has a published version (a `call`
/// may name only those).
pub fn validate(json: &Json, published: impl Fn(Uuid) -> bool) -> Result<Definition, Vec<Issue>> {
    let mut w = Walker::default();
    let definition = w.definition(json);
    // Postgres cannot store a NUL in JSON text; only object keys can still carry one here.
    if json.to_string().contains("\\u0000") && w.issues.is_empty() {
        w.issue("", "must not contain a NUL character anywhere");
    }
    for (pointer, id) in std::mem::take(&mut w.calls) {
        if !published(id) {
            w.issue(&pointer, "names an automation with no published version");
        }
    }
    match definition {
        Some(d) if w.issues.is_empty() => Ok(d),
        _ => Err(w.issues),
    }
}

/// What a definition names in the store: the automations its `call` steps run and the
/// business schedules its waits count on, to be looked up before [`validate`] and a run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct References {
    pub calls: Vec<Uuid>,
    pub schedules: Vec<Uuid>,
}

/// Read from the JSON as it stands, without checking or compiling anything (validation,
/// which does, comes after the lookup): only well-formed IDs of steps of the right type.
pub fn references(json: &Json) -> References {
    let mut out = References::default();
    let mut pending: Vec<&Json> = json.get("steps").into_iter().collect();
    while let Some(list) = pending.pop() {
        for step in list.as_array().into_iter().flatten() {
            let id = |key: &str| {
                step.get(key)
                    .and_then(Json::as_str)
                    .and_then(|s| Uuid::parse_str(s).ok())
            };
            match step.get("type").and_then(Json::as_str) {
                Some("call") => out.calls.extend(id("automation")),
                Some("wait") => out.schedules.extend(id("business_schedule_id")),
                _ => {}
            }
            pending.extend(
                ["then", "else", "steps", "catch"]
                    .iter()
                    .filter_map(|k| step.get(*k)),
            );
        }
    }
    out
}

/// `key` as a JSON pointer token.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[derive(Default)]
struct Walker {
    issues: Vec<Issue>,
    /// Step IDs seen, with where.
    ids: HashMap<String, String>,
    calls: Vec<(String, Uuid)>,
    steps: usize,
}

/// The variables an expression may read where it stands.
#[derive(Clone, Copy)]
enum Vars {
    /// A trigger's condition: the event only.
    Trigger,
    /// Any step expression.
    Step,
    /// A `where`: also the candidate event.
    Where,
}

impl Vars {
    fn allowed(self) -> &'static [&'static str] {
        match self {
            Vars::Trigger => &["event"],
            Vars::Step => &["event", "vars"],
            Vars::Where => &["event", "vars", "incoming"],
        }
    }
}

impl Walker {
    fn issue(&mut self, pointer: &str, reason: impl Into<String>) {
        self.issues.push(Issue {
            pointer: pointer.to_owned(),
            reason: reason.into(),
        });
    }

    fn object<'a>(&mut self, v: &'a Json, ptr: &str) -> Option<&'a Map<String, Json>> {
        match v {
            Json::Object(o) => Some(o),
            _ => {
                self.issue(ptr, "must be an object");
                None
            }
        }
    }

    /// Reports required fields missing and fields not allowed.
    fn fields(
        &mut self,
        o: &Map<String, Json>,
        ptr: &str,
        what: &str,
        required: &[&str],
        optional: &[&str],
    ) {
        for name in required {
            if !o.contains_key(*name) {
                self.issue(&format!("{ptr}/{name}"), "is required");
            }
        }
        for key in o.keys() {
            if !required.contains(&key.as_str()) && !optional.contains(&key.as_str()) {
                self.issue(
                    &format!("{ptr}/{}", escape(key)),
                    format!("is not a field of {what}"),
                );
            }
        }
    }

    fn string(&mut self, o: &Map<String, Json>, key: &str, ptr: &str) -> Option<String> {
        match o.get(key)? {
            Json::String(s) => Some(s.clone()),
            _ => {
                self.issue(&format!("{ptr}/{key}"), "must be a string");
                None
            }
        }
    }

    fn text(&mut self, o: &Map<String, Json>, key: &str, ptr: &str, max: usize) -> Option<String> {
        let s = self.string(o, key, ptr)?;
        let at = format!("{ptr}/{key}");
        if s.trim().is_empty() {
            self.issue(&at, "must not be empty");
        } else if s.chars().count() > max {
            self.issue(&at, format!("must be at most {max} characters"));
        } else if s.contains('\0') {
            self.issue(&at, "must not contain a NUL character");
        } else {
            return Some(s);
        }
        None
    }

    fn name(&mut self, o: &Map<String, Json>, key: &str, ptr: &str) -> Option<String> {
        let s = self.string(o, key, ptr)?;
        let ok = s.len() <= 64
            && s.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ok {
            Some(s)
        } else {
            self.issue(
                &format!("{ptr}/{key}"),
                "must be a name of letters, digits and underscores, not starting with a digit (at most 64)",
            );
            None
        }
    }

    /// The `event` field: one of the event types.
    fn event_type(&mut self, o: &Map<String, Json>, ptr: &str) -> Option<String> {
        let e = self.string(o, "event", ptr)?;
        if EVENT_TYPES.contains(&e.as_str()) {
            Some(e)
        } else {
            self.issue(
                &format!("{ptr}/event"),
                format!("`{e}` is not an event type"),
            );
            None
        }
    }

    fn uuid(&mut self, o: &Map<String, Json>, key: &str, ptr: &str) -> Option<Uuid> {
        let s = self.string(o, key, ptr)?;
        match Uuid::parse_str(&s) {
            Ok(id) => Some(id),
            Err(_) => {
                self.issue(&format!("{ptr}/{key}"), "must be a UUID");
                None
            }
        }
    }

    fn duration(
        &mut self,
        o: &Map<String, Json>,
        key: &str,
        ptr: &str,
    ) -> Option<chrono::TimeDelta> {
        let s = self.string(o, key, ptr)?;
        match durations::parse(&s) {
            Ok(d) => Some(d),
            Err(e) => {
                self.issue(&format!("{ptr}/{key}"), e);
                None
            }
        }
    }

    /// An integer field in `range`.
    fn integer(
        &mut self,
        o: &Map<String, Json>,
        key: &str,
        ptr: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Option<u64> {
        let v = o.get(key)?;
        match v.as_u64().filter(|n| range.contains(n)) {
            Some(n) => Some(n),
            None => {
                self.issue(
                    &format!("{ptr}/{key}"),
                    format!(
                        "must be an integer from {} to {}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    /// Compiles the expression at `ptr`, checking the variables it reads and, for a
    /// condition, that it is not known to yield something other than a boolean.
    fn expr_at(&mut self, v: &Json, ptr: &str, vars: Vars, boolean: bool) -> Option<Expr> {
        let Json::String(source) = v else {
            self.issue(ptr, "must be a CEL expression (a string)");
            return None;
        };
        let expr = match Expr::compile(source) {
            Ok(e) => e,
            Err(e) => {
                self.issue(ptr, e);
                return None;
            }
        };
        let mut ok = true;
        for name in expr.variables() {
            if !vars.allowed().contains(&name.as_str()) {
                self.issue(
                    ptr,
                    format!(
                        "reads `{name}`, which is not a variable here (only {})",
                        vars.allowed().join(", ")
                    ),
                );
                ok = false;
            }
        }
        if boolean && expr.kind() == Kind::NotBool {
            self.issue(ptr, "must yield a boolean");
            ok = false;
        }
        ok.then_some(expr)
    }

    fn expr(
        &mut self,
        o: &Map<String, Json>,
        key: &str,
        ptr: &str,
        vars: Vars,
        boolean: bool,
    ) -> Option<Expr> {
        let v = o.get(key)?;
        self.expr_at(v, &format!("{ptr}/{key}"), vars, boolean)
    }

    fn definition(&mut self, json: &Json) -> Option<Definition> {
        let o = self.object(json, "")?;
        self.fields(
            o,
            "",
            "a definition",
            &["name", "trigger", "steps"],
            &["description"],
        );
        let name = self.text(o, "name", "", MAX_NAME);
        let description = match o.get("description") {
            None | Some(Json::Null) => Some(None),
            Some(_) => self.text(o, "description", "", MAX_DESCRIPTION).map(Some),
        };
        let trigger = o.get("trigger").and_then(|t| self.trigger(t, "/trigger"));
        let steps = o.get("steps").and_then(|s| self.steps(s, "/steps"));
        Some(Definition {
            name: name?,
            description: description?,
            trigger: trigger?,
            steps: steps?,
        })
    }

    fn trigger(&mut self, v: &Json, ptr: &str) -> Option<Trigger> {
        let o = self.object(v, ptr)?;
        let kinds: Vec<&str> = ["event", "schedule", "manual"]
            .into_iter()
            .filter(|k| o.contains_key(*k))
            .collect();
        match kinds.as_slice() {
            ["event"] => {
                self.fields(o, ptr, "an event trigger", &["event"], &["condition"]);
                let event = self.event_type(o, ptr);
                let condition = match o.get("condition") {
                    None => Some(None),
                    Some(_) => self
                        .expr(o, "condition", ptr, Vars::Trigger, true)
                        .map(Some),
                };
                Some(Trigger::Event {
                    event: event?,
                    condition: condition?,
                })
            }
            ["schedule"] => {
                self.fields(o, ptr, "a schedule trigger", &["schedule"], &[]);
                let sptr = format!("{ptr}/schedule");
                let s = self.object(&o["schedule"], &sptr)?;
                self.fields(s, &sptr, "a schedule", &["cron", "timezone"], &[]);
                let cron = self.string(s, "cron", &sptr).and_then(|c| {
                    let five = c.split_whitespace().count() == 5;
                    if five && croner::Cron::from_str(&c).is_ok() {
                        Some(c)
                    } else {
                        self.issue(
                            &format!("{sptr}/cron"),
                            "must be a five-field cron expression such as `0 8 * * MON-FRI`",
                        );
                        None
                    }
                });
                let timezone = self.string(s, "timezone", &sptr).and_then(|z| {
                    match crate::recurrence::preview::parse_zone(&z) {
                        Ok(tz) => Some(tz),
                        Err(e) => {
                            self.issue(&format!("{sptr}/timezone"), e);
                            None
                        }
                    }
                });
                Some(Trigger::Schedule {
                    cron: cron?,
                    timezone: timezone?,
                })
            }
            ["manual"] => {
                self.fields(o, ptr, "a manual trigger", &["manual"], &[]);
                let mptr = format!("{ptr}/manual");
                let m = self.object(&o["manual"], &mptr)?;
                self.fields(m, &mptr, "a manual trigger", &[], &[]);
                Some(Trigger::Manual)
            }
            [] => {
                self.issue(ptr, "must have one of `event`, `schedule` or `manual`");
                None
            }
            _ => {
                self.issue(ptr, "must have only one of `event`, `schedule` or `manual`");
                None
            }
        }
    }

    fn steps(&mut self, v: &Json, ptr: &str) -> Option<Vec<Step>> {
        let Json::Array(items) = v else {
            self.issue(ptr, "must be a list of steps");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.step(item, &format!("{ptr}/{i}")) {
                Some(step) => out.push(step),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn step(&mut self, v: &Json, ptr: &str) -> Option<Step> {
        let o = self.object(v, ptr)?;
        self.steps += 1;
        if self.steps == MAX_STEPS + 1 {
            self.issue(
                ptr,
                format!("is one step more than the {MAX_STEPS} a definition may have"),
            );
        }
        let id = self.text(o, "id", ptr, MAX_ID);
        if !o.contains_key("id") {
            self.issue(&format!("{ptr}/id"), "is required");
        }
        if let Some(id) = &id {
            match self.ids.get(id) {
                Some(first) => {
                    let reason = format!("duplicates the id of the step at {first}");
                    self.issue(&format!("{ptr}/id"), reason);
                }
                None => {
                    self.ids.insert(id.clone(), ptr.to_owned());
                }
            }
        }
        let kind = match o.get("type") {
            None => {
                self.issue(&format!("{ptr}/type"), "is required");
                None
            }
            Some(Json::String(t)) if STEP_TYPES.contains(&t.as_str()) => Some(t.as_str()),
            Some(_) => {
                self.issue(
                    &format!("{ptr}/type"),
                    format!("must be one of {}", STEP_TYPES.join(", ")),
                );
                None
            }
        };
        let body = match kind? {
            "action" => self.action(o, ptr),
            "set" => self.set(o, ptr),
            "if" => self.if_step(o, ptr),
            "for_each" => self.for_each(o, ptr),
            "try" => self.try_step(o, ptr),
            "wait" => self.wait(o, ptr),
            "wait_for_event" => self.wait_for_event(o, ptr),
            "call" => self.call(o, ptr),
            _ => self.return_step(o, ptr),
        };
        Some(Step {
            id: id?,
            body: body?,
        })
    }

    /// [`Walker::fields`] for a step: `id` and `type` are allowed (and checked by `step`).
    fn own_fields(
        &mut self,
        o: &Map<String, Json>,
        ptr: &str,
        what: &str,
        required: &[&str],
        optional: &[&str],
    ) {
        let allowed: Vec<&str> = ["id", "type"].iter().chain(optional).copied().collect();
        self.fields(o, ptr, what, required, &allowed);
    }

    fn mapping(&mut self, v: &Json, ptr: &str) -> Option<Mapping> {
        Some(match v {
            Json::String(_) => Mapping::Expr(self.expr_at(v, ptr, Vars::Step, false)?),
            Json::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    match self.mapping(item, &format!("{ptr}/{i}")) {
                        Some(m) => out.push(m),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                Mapping::List(out)
            }
            Json::Object(fields) => {
                let mut out = Vec::with_capacity(fields.len());
                let mut ok = true;
                for (k, item) in fields {
                    match self.mapping(item, &format!("{ptr}/{}", escape(k))) {
                        Some(m) => out.push((k.clone(), m)),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                Mapping::Object(out)
            }
            other => Mapping::Literal(other.clone()),
        })
    }

    fn input(&mut self, o: &Map<String, Json>, ptr: &str) -> Option<(Mapping, Vec<String>)> {
        let iptr = format!("{ptr}/input");
        let Some(v) = o.get("input") else {
            return Some((Mapping::Object(Vec::new()), Vec::new()));
        };
        let keys = match v {
            Json::Object(fields) => fields.keys().cloned().collect(),
            _ => {
                self.issue(&iptr, "must be an object");
                return None;
            }
        };
        Some((self.mapping(v, &iptr)?, keys))
    }

    fn save_as(&mut self, o: &Map<String, Json>, ptr: &str) -> Option<Option<String>> {
        match o.get("save_as") {
            None => Some(None),
            Some(_) => self.name(o, "save_as", ptr).map(Some),
        }
    }

    fn action(&mut self, o: &Map<String, Json>, ptr: &str) -> Option<Body> {
        self.own_fields(
            o,
            ptr,
            "an action step",
            &["action"],
            &["input", "save_as", "retry", "on_error"],
        );
        let action =
            self.string(o, "action", ptr)
                .and_then(|name| match catalogue::action(&name) {
                    Some(a) => Some(a),
                    None => {
                        self.issue(
                            &format!("{ptr}/action"),
                            format!("`{name}` is not an action"),
                        );
                        None
                    }
                });
        let input = self.input(o, ptr);
        if let (Some(action), Some((_, keys))) = (action, &input) {
            for needed in action.inputs.iter().filter(|i| i.required) {
                if !keys.iter().any(|k| k == needed.name) {
                    self.issue(
                        &format!("{ptr}/input/{}", needed.name),
                        format!("is required by {}", action.name),
                    );
                }
            }
            for key in keys {
                if !action.inputs.iter().any(|i| i.name == key) {
                    self.issue(
                        &format!("{ptr}/input/{}", escape(key)),
                        format!("is not an input of {}", action.name),
                    );
                }
            }
        }
        let save_as = self.save_as(o, ptr);
        let retry = match o.get("retry") {
            None => Some(Retry::default()),
            Some(v) => self.retry(v, &format!("{ptr}/retry")),
        };
        let on_error = match o.get("on_error") {
            None => Some(OnError::Fail),
            Some(Json::String(s)) if s == "fail" => Some(OnError::Fail),
            Some(Json::String(s)) if s == "continue" => Some(OnError::Continue),
            Some(_) => {
                self.issue(&format!("{ptr}/on_error"), "must be `fail` or `continue`");
                None
            }
        };
        Some(Body::Action {
            action: action?.name.to_owned(),
            input: input?.0,
            save_as: save_as?,
            retry: retry?,
            on_error: on_error?,
        })
    }

    fn retry(&mut self, v: &Json, ptr: &str) -> Option<Retry> {
        let o = self.object(v, ptr)?;
        self.fields(
            o,
            ptr,
            "a retry policy",
            &["max_attempts"],
            &["initial_interval", "backoff"],
        );
        let max_attempts = self.integer(o, "max_attempts", ptr, 1..=10);
        let initial_interval = match o.get("initial_interval") {
            None => Some(Retry::default().initial_interval),
            Some(_) => self.duration(o, "initial_interval", ptr),
        };
        let backoff = match o.get("backoff") {
            None => Some(Retry::default().backoff),
            Some(v) => match v.as_f64().filter(|b| (1.0..=100.0).contains(b)) {
                Some(b) => Some(b),
                None => {
                    self.issue(&format!("{ptr}/backoff"), "must be a number from 1 to 100");
                    None
                }
            },
        };
        Some(Retry {
            max_attempts: u32::try_from(max_attempts?).ok()?,
            initial_interval: initial_interval?,
            backoff: backoff?,
        })
    }

    fn set(&mut self, o: &Map<String, Json>, ptr: &str) -> Option<Body> {
        self.own_fields(o, ptr, "a set step", &["name", "value"], &[]);
        let name = self.name(o, "name", ptr);
        let value = self.expr(o, "value", ptr, Vars::Step, false);
        Some(Body::Set {
            name: name?,
            value: value?,
        })
    }

    fn if_step(&mut self, o: &Map<String, Json>, ptr: &str) -> Option<Body> {
        self.own_fields(o, ptr, "an if step", &["condition", "then"], &["else"]);
        let condition = self.expr(o, "condition", ptr, Vars::Step, true);
        let then = o
            .get("then")
            .and_then(|s| self.steps(s, &format!("{ptr}/then")));
        let otherwise = match o.get("else") {
            None => Some(None),
            Some(s) => self.steps(s, &format!("{ptr}/else")).map(Some),
        };
        Some(Body::If {
            condition: condition?,
            then: then?,
            otherwise: otherwise?,
        })
    }

    fn for_each(&mut self, o: &Map<String, Json>, ptr: &str) -> Option<Body> {
        self.own_fields(
            o,
            ptr,
            "a for_each step",
            &["items", "as", "steps"],
            &["max_items"],
        );
        let items = self.expr(o, "items", ptr, Vars::Step, false);
        let binding = self.name(o, "as", ptr);
        let max_items = match o.get("max_items") {
            None => Some(100),
            Some(_) => self.integer(o, "max_items", ptr, 1..=1000),
        };
        let steps = o
            .get("steps")
            .and_then(|s| self.steps(s, &format!("{ptr}/steps")));
        Some(Body::ForEach {
            items: items?,
            binding: binding?,
            steps: steps?,
            max_items: usize::try_from(max_items?).ok()?,
        })
    }

    fn try_step(&mut self, o: &Map<String, Json>, ptr: &str) -> Option<Body> {
        self.own_fields(o, ptr, "a try step", &["steps", "catch"], &[]);
        let steps = o
            .get("steps")
            .and_then(|s| self.steps(s, &format!("{ptr}/steps")));
        let catch = o
            .get("catch")
            .and_then(|s| self.steps(s, &format!("{ptr}/catch")));
        Some(Body::Try {
            steps: steps?,
            catch: catch?,
        })
    }

    fn wait(&mut self, o: &Map<String, Json>, ptr: &str) -> Option<Body> {
        self.own_fields(
            o,
            ptr,
            "a wait step",
            &[],
            &["duration", "until", "business_schedule_id"],
        );
        let wait = match (o.contains_key("duration"), o.contains_key("until")) {
            (true, false) => self.duration(o, "duration", ptr).map(Wait::For),
            (false, true) => self
                .expr(o, "until", ptr, Vars::Step, false)
                .map(Wait::Until),
            (false, false) => {
                self.issue(ptr, "must have `duration` or `until`");
                None
            }
            (true, true) => {
                self.issue(ptr, "must have only one of `duration` and `until`");
                None
            }
        };
        let business_schedule_id = match o.get("business_schedule_id") {
            None => Some(None),
            Some(_) => self.uuid(o, "business_schedule_id", ptr).map(Some),
        };
        Some(Body::Wait {
            wait: wait?,
            business_schedule_id: business_schedule_id?,
        })
    }

    fn wait_for_event(&mut self, o: &Map<String, Json>, ptr: &str) -> Option<Body> {
        self.own_fields(
            o,
            ptr,
            "a wait_for_event step",
            &["event", "where", "timeout"],
            &["save_as"],
        );
        let event = self.event_type(o, ptr);
        let filter = self.expr(o, "where", ptr, Vars::Where, true);
        let timeout = self.duration(o, "timeout", ptr);
        let save_as = self.save_as(o, ptr);
        Some(Body::WaitForEvent {
            event: event?,
            filter: filter?,
            timeout: timeout?,
            save_as: save_as?,
        })
    }

    fn call(&mut self, o: &Map<String, Json>, ptr: &str) -> Option<Body> {
        self.own_fields(
            o,
            ptr,
            "a call step",
            &["automation"],
            &["input", "save_as"],
        );
        let automation = self.uuid(o, "automation", ptr);
        if let Some(id) = automation {
            self.calls.push((format!("{ptr}/automation"), id));
        }
        let input = self.input(o, ptr);
        let save_as = self.save_as(o, ptr);
        Some(Body::Call {
            automation: automation?,
            input: input?.0,
            save_as: save_as?,
        })
    }

    fn return_step(&mut self, o: &Map<String, Json>, ptr: &str) -> Option<Body> {
        self.own_fields(o, ptr, "a return step", &[], &["value"]);
        let value = match o.get("value") {
            None => Some(None),
            Some(_) => self.expr(o, "value", ptr, Vars::Step, false).map(Some),
        };
        Some(Body::Return { value: value? })
    }
}
