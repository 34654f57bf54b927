//! The CEL expressions of automations, through the `cel` crate: compiled and checked when a
//! definition is validated, evaluated against a run's variables, and bounded in source size,
//! nesting (the crate's parser limit), time and the size of what they yield.
//!
//! Values cross between JSON and CEL here only: a JSON number without a fraction or exponent
//! is a CEL int, any other a double; a value leaves CEL as JSON with ints as integers and
//! timestamps as RFC 3339 strings.

use cel::common::ast::{Expr as Ast, IdedExpr, LiteralValue};
use cel::objects::{Key, Map as CelMap};
use cel::{Context, Program, Value};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value as Json;
use std::collections::{BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

thread_local! {
    /// CEL's standard functions and macros, with no variables.
    static STDLIB: Context<'static, 'static> = Context::default();
}

/// Longest expression source accepted.
pub const MAX_SOURCE_BYTES: usize = 4_096;
/// Longest an evaluation may take.
pub const MAX_EVALUATION: Duration = Duration::from_millis(10);
/// Largest value an evaluation may yield, as JSON.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Deepest expression tree accepted: evaluation recurses once per level, and the parser's
/// own limit lets some chains (`!!!!x`, `a.b.c…`) through far deeper.
pub const MAX_DEPTH: usize = 64;

/// A compiled expression.
pub struct Expr {
    program: Program,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Expr")
    }
}

/// What an expression is known to yield before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    NotBool,
    Unknown,
}

/// The variables an expression is evaluated with.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The trigger event: its envelope as a map, `occurred_at` a timestamp.
    pub event: Value,
    /// Every `set`, `save_as` and loop variable.
    pub vars: Value,
    /// Inside a `where`: the candidate event, shaped like `event`.
    pub incoming: Option<Value>,
    /// Whether [`MAX_EVALUATION`] applies. A durable run evaluates untimed: a measured limit
    /// could decide differently when the run is replayed on a slower machine, and its
    /// expressions are already bounded in size, depth and yield.
    pub timed: bool,
}

impl Expr {
    /// Compiles `source`, or says why it cannot be.
    pub fn compile(source: &str) -> Result<Expr, String> {
        if source.len() > MAX_SOURCE_BYTES {
            return Err(format!("is longer than {MAX_SOURCE_BYTES} bytes of CEL"));
        }
        if source.contains('\0') {
            return Err("contains a NUL character".into());
        }
        // The parser is third-party code fed user input: a panic in it is a refusal, never a
        // crash of whoever validates.
        match catch_unwind(AssertUnwindSafe(|| Program::compile(source))) {
            Ok(Ok(program)) if depth(program.expression()) > MAX_DEPTH => {
                Err(format!("nests deeper than {MAX_DEPTH} levels"))
            }
            Ok(Ok(program)) => Ok(Expr { program }),
            Ok(Err(e)) => Err(format!("is not valid CEL: {}", one_line(&e.to_string()))),
            Err(_) => Err("is not valid CEL".into()),
        }
    }

    /// The top-level variables the expression reads (names bound by a macro excluded).
    pub fn variables(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        free(self.program.expression(), &mut Vec::new(), &mut out);
        out
    }

    /// Whether the expression is known to yield a boolean, known not to, or neither.
    pub fn kind(&self) -> Kind {
        kind(self.program.expression())
    }

    /// Evaluates the expression, within [`MAX_EVALUATION`].
    pub fn eval(&self, scope: &Scope) -> Result<Value, String> {
        // The standard library is built once per thread: building it is most of what a small
        // expression costs. Each evaluation gets a scope of its own over it, and only the
        // evaluation itself is timed.
        let (result, started) = STDLIB.with(|root| {
            let mut context = root.new_inner_scope();
            context.add_variable_from_value("event", scope.event.clone());
            context.add_variable_from_value("vars", scope.vars.clone());
            if let Some(incoming) = &scope.incoming {
                context.add_variable_from_value("incoming", incoming.clone());
            }
            let started = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| self.program.execute(&context)));
            (result, started)
        });
        if scope.timed && started.elapsed() > MAX_EVALUATION {
            return Err(format!(
                "took longer than {} ms",
                MAX_EVALUATION.as_millis()
            ));
        }
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(format!("failed: {}", one_line(&e.to_string()))),
            Err(_) => Err("failed".into()),
        }
    }

    /// Evaluates the expression to JSON, at most [`MAX_VALUE_BYTES`] of it.
    pub fn eval_json(&self, scope: &Scope) -> Result<Json, String> {
        let value = self.eval(scope)?;
        let json = to_json(&value)?;
        check_size(&json)?;
        Ok(json)
    }
}

/// Refuses a value larger than [`MAX_VALUE_BYTES`] of JSON.
pub fn check_size(json: &Json) -> Result<(), String> {
    let size = serde_json::to_vec(json).map_or(usize::MAX, |v| v.len());
    if size > MAX_VALUE_BYTES {
        return Err(format!(
            "yields {size} bytes of JSON, more than {MAX_VALUE_BYTES}"
        ));
    }
    Ok(())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How deep the expression tree goes, walked without recursion (the tree may be deep).
fn depth(root: &IdedExpr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(root, 1)];
    while let Some((e, d)) = stack.pop() {
        deepest = deepest.max(d);
        if deepest > MAX_DEPTH {
            break;
        }
        stack.extend(children(e).into_iter().map(|c| (c, d + 1)));
    }
    deepest
}

fn entry_children(entry: &cel::common::ast::EntryExpr) -> Vec<&IdedExpr> {
    match entry {
        cel::common::ast::EntryExpr::StructField(field) => vec![&field.value],
        cel::common::ast::EntryExpr::MapEntry(m) => vec![&m.key, &m.value],
    }
}

fn children(e: &IdedExpr) -> Vec<&IdedExpr> {
    match &e.expr {
        Ast::Call(call) => call
            .target
            .as_deref()
            .into_iter()
            .chain(call.args.iter())
            .collect(),
        Ast::Comprehension(c) => vec![
            &c.iter_range,
            &c.accu_init,
            &c.loop_cond,
            &c.loop_step,
            &c.result,
        ],
        Ast::List(list) => list.elements.iter().collect(),
        Ast::Map(map) => map
            .entries
            .iter()
            .flat_map(|en| entry_children(&en.expr))
            .collect(),
        Ast::Struct(s) => s
            .entries
            .iter()
            .flat_map(|en| entry_children(&en.expr))
            .collect(),
        Ast::Select(select) => vec![&select.operand],
        Ast::Ident(_) | Ast::Literal(_) | Ast::Unspecified => Vec::new(),
    }
}

/// Names read and not bound by an enclosing macro.
fn free(e: &IdedExpr, bound: &mut Vec<String>, out: &mut BTreeSet<String>) {
    match &e.expr {
        Ast::Ident(name) => {
            if !name.starts_with('@') && !bound.contains(name) {
                out.insert(name.clone());
            }
        }
        Ast::Call(call) => {
            if let Some(target) = &call.target {
                free(target, bound, out);
            }
            for arg in &call.args {
                free(arg, bound, out);
            }
        }
        Ast::Comprehension(c) => {
            free(&c.iter_range, bound, out);
            let depth = bound.len();
            bound.push(c.iter_var.clone());
            bound.extend(c.iter_var2.clone());
            bound.push(c.accu_var.clone());
            for part in [&c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                free(part, bound, out);
            }
            bound.truncate(depth);
        }
        Ast::List(list) => {
            for item in &list.elements {
                free(item, bound, out);
            }
        }
        Ast::Map(map) => {
            for entry in &map.entries {
                entry_free(&entry.expr, bound, out);
            }
        }
        Ast::Struct(s) => {
            for entry in &s.entries {
                entry_free(&entry.expr, bound, out);
            }
        }
        Ast::Select(select) => free(&select.operand, bound, out),
        Ast::Literal(_) | Ast::Unspecified => {}
    }
}

fn entry_free(
    entry: &cel::common::ast::EntryExpr,
    bound: &mut Vec<String>,
    out: &mut BTreeSet<String>,
) {
    match entry {
        cel::common::ast::EntryExpr::StructField(field) => free(&field.value, bound, out),
        cel::common::ast::EntryExpr::MapEntry(m) => {
            free(&m.key, bound, out);
            free(&m.value, bound, out);
        }
    }
}

const BOOL_OPERATORS: [&str; 10] = [
    "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "_&&_", "_||_", "!_", "@in",
];
const BOOL_FUNCTIONS: [&str; 5] = ["startsWith", "endsWith", "contains", "matches", "has"];
const OTHER_OPERATORS: [&str; 6] = ["_+_", "_-_", "_*_", "_/_", "_%_", "-_"];
const OTHER_FUNCTIONS: [&str; 9] = [
    "size",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "timestamp",
    "duration",
    "type",
];

fn kind(e: &IdedExpr) -> Kind {
    match &e.expr {
        Ast::Literal(LiteralValue::Boolean(_)) => Kind::Bool,
        Ast::Literal(_) | Ast::List(_) | Ast::Map(_) | Ast::Struct(_) => Kind::NotBool,
        Ast::Select(select) if select.test => Kind::Bool,
        Ast::Call(call) => {
            let f = call.func_name.as_str();
            if BOOL_OPERATORS.contains(&f) || BOOL_FUNCTIONS.contains(&f) {
                Kind::Bool
            } else if OTHER_OPERATORS.contains(&f) || OTHER_FUNCTIONS.contains(&f) {
                Kind::NotBool
            } else if f == "_?_:_" {
                match (call.args.get(1).map(kind), call.args.get(2).map(kind)) {
                    (Some(Kind::Bool), Some(Kind::Bool)) => Kind::Bool,
                    (Some(Kind::NotBool), Some(Kind::NotBool)) => Kind::NotBool,
                    _ => Kind::Unknown,
                }
            } else {
                Kind::Unknown
            }
        }
        _ => Kind::Unknown,
    }
}

/// A JSON value as CEL sees it.
pub fn to_cel(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            // Beyond the range of a CEL int (or written with a fraction or exponent).
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(Arc::new(s.clone())),
        Json::Array(items) => Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Json::Object(fields) => {
            let map: HashMap<Key, Value> = fields
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Value::Map(CelMap { map: Arc::new(map) })
        }
    }
}

/// An event envelope as CEL sees it: its JSON, with `occurred_at` a timestamp when it reads as
/// one.
pub fn event_to_cel(envelope: &Json) -> Value {
    let mut fields = match envelope {
        Json::Object(fields) => fields.clone(),
        other => return to_cel(other),
    };
    let at = fields
        .get("occurred_at")
        .and_then(Json::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    fields.remove("occurred_at");
    let mut map: HashMap<Key, Value> = fields
        .iter()
        .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
        .collect();
    if let Some(at) = at {
        map.insert(
            Key::String(Arc::new("occurred_at".into())),
            Value::Timestamp(at),
        );
    } else if let Some(v) = envelope.get("occurred_at") {
        map.insert(Key::String(Arc::new("occurred_at".into())), to_cel(v));
    }
    Value::Map(CelMap { map: Arc::new(map) })
}

/// An instant as JSON and traces write it.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A CEL value as JSON.
pub fn to_json(value: &Value) -> Result<Json, String> {
    Ok(match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::UInt(u) => Json::from(*u),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .ok_or_else(|| format!("yields {f}, which JSON cannot hold"))?,
        Value::String(s) => Json::String(s.as_str().to_owned()),
        Value::Timestamp(t) => Json::String(rfc3339(t.with_timezone(&Utc))),
        Value::Duration(d) => {
            let seconds = d.num_milliseconds() as f64 / 1000.0;
            Json::String(format!("{seconds}s"))
        }
        Value::List(items) => Json::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Map(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map.map.iter() {
                let key = match k {
                    Key::String(s) => s.as_str().to_owned(),
                    Key::Int(i) => i.to_string(),
                    Key::Uint(u) => u.to_string(),
                    Key::Bool(b) => b.to_string(),
                };
                out.insert(key, to_json(v)?);
            }
            Json::Object(out)
        }
        Value::Bytes(_) => return Err("yields bytes, which JSON cannot hold".into()),
        _ => return Err("yields a value JSON cannot hold".into()),
    })
}

/// `value` as an instant: a CEL timestamp, or a string in RFC 3339 (how instants read back
/// from variables).
pub fn to_instant(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Timestamp(t) => Some(t.with_timezone(&Utc)),
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope(vars: Json) -> Scope {
        Scope {
            event: event_to_cel(&json!({
                "type": "ticket.created", "occurred_at": "2026-01-05T09:00:00Z",
                "payload": {"ticket": {"number": 7, "title": "Printer"}}
            })),
            vars: to_cel(&vars),
            incoming: None,
            timed: true,
        }
    }

    fn eval(src: &str, vars: Json) -> Result<Json, String> {
        Expr::compile(src)?.eval_json(&scope(vars))
    }

    #[test]
    fn numbers_cross_as_ints_or_doubles_and_instants_as_rfc3339() {
        assert_eq!(eval("vars.n + 1", json!({"n": 41})), Ok(json!(42)));
        assert_eq!(eval("vars.n * 2.0", json!({"n": 1.5})), Ok(json!(3.0)));
        assert_eq!(
            eval("event.occurred_at + duration('1h')", json!({})),
            Ok(json!("2026-01-05T10:00:00Z"))
        );
        assert_eq!(eval("event.payload.ticket.number", json!({})), Ok(json!(7)));
    }

    #[test]
    fn failures_and_hostile_sources_are_reasons_not_panics() {
        assert!(eval("vars.missing.x", json!({})).is_err());
        assert!(eval("1 / 0", json!({})).is_err());
        assert!(Expr::compile("1 +").is_err());
        assert!(Expr::compile("a\0b").is_err());
        assert!(Expr::compile(&"(".repeat(5_000)).is_err());
        let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
        assert!(Expr::compile(&deep).is_err());
        // Chains the parser lets through are refused before anything evaluates them (repeated
        // `!` and `-` the parser folds into one).
        for chain in [
            format!("vars{}", ".b".repeat(1_000)),
            format!("vars{}", "[0]".repeat(500)),
        ] {
            assert!(Expr::compile(&chain).is_err(), "{}", &chain[..20]);
        }
        let folded = Expr::compile(&format!("{}true", "!".repeat(4_001))).unwrap();
        assert_eq!(folded.eval_json(&scope(json!({}))), Ok(json!(false)));
    }

    #[test]
    fn free_variables_leave_out_macro_bindings() {
        let e = Expr::compile("vars.items.map(x, x + event.n).exists(y, y > other)").unwrap();
        let names: Vec<String> = e.variables().into_iter().collect();
        assert_eq!(names, ["event", "other", "vars"]);
    }

    #[test]
    fn kinds_are_known_where_the_shape_says() {
        let k = |s: &str| Expr::compile(s).unwrap().kind();
        assert_eq!(k("vars.a == 1"), Kind::Bool);
        assert_eq!(k("event.type.startsWith('ticket.')"), Kind::Bool);
        assert_eq!(k("1 + 2"), Kind::NotBool);
        assert_eq!(k("'yes'"), Kind::NotBool);
        assert_eq!(k("vars.flag"), Kind::Unknown);
    }

    #[test]
    fn a_value_too_large_is_refused() {
        let big = "x".repeat(MAX_VALUE_BYTES);
        assert!(eval("vars.s", json!({ "s": big })).is_err());
    }
}
