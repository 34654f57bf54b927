//! `psa.v1.AutomationDefinition` to and from the canonical JSON form the store and the HTTP
//! API speak. The message is the JSON's shape field for field (a step is one message whose
//! `type` says which fields apply), so each direction copies the fields that are set.
//! `google.protobuf.Struct` carries numbers as doubles: a whole one comes back as an integer,
//! as the JSON form would have written it.

use prost_types::value::Kind;
use prost_types::{ListValue, Struct, Value};
use psa_protos::v1 as pb;
use serde_json::{Map, Value as Json, json};

/// A JSON value as a protobuf `Value`.
pub fn to_value(v: &Json) -> Value {
    let kind = match v {
        Json::Null => Kind::NullValue(0),
        Json::Bool(b) => Kind::BoolValue(*b),
        Json::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        Json::String(s) => Kind::StringValue(s.clone()),
        Json::Array(items) => Kind::ListValue(ListValue {
            values: items.iter().map(to_value).collect(),
        }),
        Json::Object(o) => Kind::StructValue(to_struct(o)),
    };
    Value { kind: Some(kind) }
}

pub fn to_struct(o: &Map<String, Json>) -> Struct {
    Struct {
        fields: o.iter().map(|(k, v)| (k.clone(), to_value(v))).collect(),
    }
}

/// A JSON object as a `Struct` (anything else as an empty one).
pub fn json_to_struct(v: &Json) -> Struct {
    v.as_object().map(to_struct).unwrap_or_default()
}

/// A protobuf `Value` as JSON; a whole number within an integer's range is an integer.
pub fn from_value(v: &Value) -> Json {
    match &v.kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::BoolValue(b)) => Json::Bool(*b),
        Some(Kind::NumberValue(n)) => {
            if n.fract() == 0.0 && n.abs() < 9.0e15 {
                json!(*n as i64)
            } else {
                serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number)
            }
        }
        Some(Kind::StringValue(s)) => Json::String(s.clone()),
        Some(Kind::ListValue(l)) => Json::Array(l.values.iter().map(from_value).collect()),
        Some(Kind::StructValue(s)) => from_struct(s),
    }
}

pub fn from_struct(s: &Struct) -> Json {
    Json::Object(
        s.fields
            .iter()
            .map(|(k, v)| (k.clone(), from_value(v)))
            .collect(),
    )
}

/// The canonical JSON of a definition sent over gRPC.
pub fn to_json(d: &pb::AutomationDefinition) -> Json {
    let mut o = Map::new();
    o.insert("name".into(), json!(d.name));
    if let Some(desc) = &d.description {
        o.insert("description".into(), json!(desc));
    }
    if let Some(t) = &d.trigger {
        let mut trigger = Map::new();
        if let Some(e) = &t.event {
            trigger.insert("event".into(), json!(e));
        }
        if let Some(c) = &t.condition {
            trigger.insert("condition".into(), json!(c));
        }
        if let Some(s) = &t.schedule {
            trigger.insert(
                "schedule".into(),
                json!({ "cron": s.cron, "timezone": s.timezone }),
            );
        }
        if t.manual.is_some() {
            trigger.insert("manual".into(), json!({}));
        }
        o.insert("trigger".into(), Json::Object(trigger));
    }
    o.insert("steps".into(), steps_json(&d.steps));
    Json::Object(o)
}

fn steps_json(steps: &[pb::AutomationStep]) -> Json {
    Json::Array(steps.iter().map(step_json).collect())
}

fn step_json(s: &pb::AutomationStep) -> Json {
    let mut o = Map::new();
    o.insert("id".into(), json!(s.id));
    o.insert("type".into(), json!(s.r#type));
    let mut text = |key: &str, v: &Option<String>| {
        if let Some(v) = v {
            o.insert(key.into(), json!(v));
        }
    };
    text("action", &s.action);
    text("save_as", &s.save_as);
    text("on_error", &s.on_error);
    text("name", &s.name);
    text("value", &s.value);
    text("condition", &s.condition);
    text("items", &s.items);
    text("as", &s.r#as);
    text("duration", &s.duration);
    text("until", &s.until);
    text("business_schedule_id", &s.business_schedule_id);
    text("event", &s.event);
    text("where", &s.r#where);
    text("timeout", &s.timeout);
    text("automation", &s.automation);
    if let Some(input) = &s.input {
        o.insert("input".into(), from_struct(input));
    }
    if let Some(r) = &s.retry {
        let mut retry = Map::new();
        retry.insert("max_attempts".into(), json!(r.max_attempts));
        if let Some(i) = &r.initial_interval {
            retry.insert("initial_interval".into(), json!(i));
        }
        if let Some(b) = r.backoff {
            retry.insert(
                "backoff".into(),
                from_value(&Value {
                    kind: Some(Kind::NumberValue(b)),
                }),
            );
        }
        o.insert("retry".into(), Json::Object(retry));
    }
    if let Some(n) = s.max_items {
        o.insert("max_items".into(), json!(n));
    }
    // Lists that a step of the type needs, or that were sent.
    let needs = |t: &str, field: &str| {
        matches!(
            (t, field),
            ("if", "then") | ("for_each" | "try", "steps") | ("try", "catch")
        )
    };
    for (field, list) in [
        ("then", &s.then),
        ("else", &s.r#else),
        ("steps", &s.steps),
        ("catch", &s.catch),
    ] {
        if !list.is_empty() || needs(&s.r#type, field) {
            o.insert(field.into(), steps_json(list));
        }
    }
    Json::Object(o)
}

/// A stored (valid) definition as the message.
pub fn from_json(d: &Json) -> pb::AutomationDefinition {
    let str_of = |v: &Json, k: &str| v.get(k).and_then(Json::as_str).map(str::to_owned);
    let trigger = d.get("trigger").map(|t| pb::AutomationTrigger {
        event: str_of(t, "event"),
        condition: str_of(t, "condition"),
        schedule: t.get("schedule").map(|s| pb::AutomationSchedule {
            cron: str_of(s, "cron").unwrap_or_default(),
            timezone: str_of(s, "timezone").unwrap_or_default(),
        }),
        manual: t.get("manual").map(|_| ()),
    });
    pb::AutomationDefinition {
        name: str_of(d, "name").unwrap_or_default(),
        description: str_of(d, "description"),
        trigger,
        steps: steps_pb(d.get("steps")),
    }
}

fn steps_pb(v: Option<&Json>) -> Vec<pb::AutomationStep> {
    v.and_then(Json::as_array)
        .map(|l| l.iter().map(step_pb).collect())
        .unwrap_or_default()
}

fn step_pb(s: &Json) -> pb::AutomationStep {
    let text = |k: &str| s.get(k).and_then(Json::as_str).map(str::to_owned);
    pb::AutomationStep {
        id: text("id").unwrap_or_default(),
        r#type: text("type").unwrap_or_default(),
        action: text("action"),
        input: s.get("input").map(json_to_struct),
        save_as: text("save_as"),
        retry: s.get("retry").map(|r| pb::AutomationRetry {
            max_attempts: r
                .get("max_attempts")
                .and_then(Json::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(1),
            initial_interval: r
                .get("initial_interval")
                .and_then(Json::as_str)
                .map(str::to_owned),
            backoff: r.get("backoff").and_then(Json::as_f64),
        }),
        on_error: text("on_error"),
        name: text("name"),
        value: text("value"),
        condition: text("condition"),
        then: steps_pb(s.get("then")),
        r#else: steps_pb(s.get("else")),
        items: text("items"),
        r#as: text("as"),
        steps: steps_pb(s.get("steps")),
        max_items: s
            .get("max_items")
            .and_then(Json::as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        catch: steps_pb(s.get("catch")),
        duration: text("duration"),
        until: text("until"),
        business_schedule_id: text("business_schedule_id"),
        event: text("event"),
        r#where: text("where"),
        timeout: text("timeout"),
        automation: text("automation"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example automations survive the trip through the message unchanged.
    #[test]
    fn definitions_round_trip() {
        for text in [
            include_str!("../../../domain/src/automations/examples/acknowledge_p1.json"),
            include_str!("../../../domain/src/automations/examples/escalate_without_reply.json"),
            include_str!("../../../domain/src/automations/examples/weekly_stale_cleanup.json"),
        ] {
            let json: Json = serde_json::from_str(text).unwrap();
            assert_eq!(to_json(&from_json(&json)), json);
        }
    }
}
