//! The interpreter as a table: definition, event and simulated results in; the expected
//! status, error, variables, end and trace out. And the validator, one case per kind of error.

use super::dry_run::{self, Request};
use super::machine::{Effect, End, Machine, Resume};
use super::validate;
use serde_json::{Value, json};

fn event() -> Value {
    json!({
        "event_id": "0192a1b2-0000-7000-8000-000000000001",
        "tenant_id": "0192a1b2-0000-7000-8000-0000000000aa",
        "type": "ticket.created",
        "occurred_at": "2026-01-05T09:00:00Z",
        "actor": {"kind": "system"},
        "payload": {"ticket": {"ticket_id": "t-1", "number": 42, "priority_name": "P1", "title": "Down"}}
    })
}

fn definition(steps: Value) -> Value {
    json!({"name": "Test", "trigger": {"event": "ticket.created"}, "steps": steps})
}

/// Runs a dry run of `steps` with `extra` request fields (`actions`, `events`, `at`).
fn run(steps: Value, extra: Value) -> Value {
    let mut body = json!({"definition": definition(steps), "event": event()});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let def = validate::validate(&body["definition"], |_| true)
        .unwrap_or_else(|e| panic!("invalid definition: {e:?}"));
    let request = Request::parse(&body).unwrap_or_else(|e| panic!("invalid request: {e:?}"));
    let answer = dry_run::run(&def, &request, &|_, _, _| Err("no schedules here".into()));
    serde_json::to_value(answer).unwrap()
}

/// The trace as (step, outcome) pairs.
fn outline(answer: &Value) -> Vec<(String, String)> {
    answer["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["step"].as_str().unwrap().to_owned(),
                t["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn actions_evaluate_their_input_retry_on_the_clock_and_save_the_output() {
    let a = run(
        json!([
            {"id": "ack", "type": "action", "action": "tickets.add_comment",
             "input": {"ticket_id": "event.payload.ticket.ticket_id", "body": "'Seen #' + string(event.payload.ticket.number)", "is_public": true},
             "retry": {"max_attempts": 3, "initial_interval": "PT10S", "backoff": 2},
             "save_as": "comment"},
            {"id": "done", "type": "return", "value": "vars.comment.comment_id"}
        ]),
        json!({"actions": {"ack": [{"error": "busy"}, {"error": "busy"}, {"output": {"comment_id": "c-9"}}]}}),
    );
    assert_eq!(a["status"], "completed");
    assert_eq!(a["result"], "c-9");
    assert_eq!(a["vars"], json!({"comment": {"comment_id": "c-9"}}));
    let ack = &a["trace"][0];
    assert_eq!(
        ack["input"],
        json!({"ticket_id": "t-1", "body": "Seen #42", "is_public": true})
    );
    assert_eq!(ack["attempts"], 3);
    assert_eq!(ack["at"], "2026-01-05T09:00:00Z");
    // 10 s, then 20 s of retry intervals.
    assert_eq!(a["trace"][1]["at"], "2026-01-05T09:00:30Z");
    assert_eq!(a["ended_at"], "2026-01-05T09:00:30Z");
    assert!(a.get("error").is_none());
}

#[test]
fn a_failed_action_raises_its_message_or_continues_saving_nothing() {
    let steps = |on_error: &str| {
        json!([
            {"id": "hook", "type": "action", "action": "http.request",
             "input": {"method": "'POST'", "url": "'https://example.test'"}, "on_error": on_error, "save_as": "r"},
            {"id": "after", "type": "set", "name": "x", "value": "1"}
        ])
    };
    let results = json!({"actions": {"hook": [{"error": "502 from example.test"}]}});
    let failed = run(steps("fail"), results.clone());
    assert_eq!(failed["status"], "failed");
    assert_eq!(
        failed["error"],
        json!({"step": "hook", "message": "502 from example.test"})
    );
    assert!(failed.get("result").is_none());
    assert_eq!(outline(&failed), pairs(&[("hook", "failed")]));
    let went_on = run(steps("continue"), results);
    assert_eq!(went_on["status"], "completed");
    assert_eq!(went_on["result"], Value::Null);
    assert_eq!(went_on["vars"], json!({"x": 1}));
    assert_eq!(
        outline(&went_on),
        pairs(&[("hook", "failed"), ("after", "ok")])
    );
    // No result listed: the output is {}.
    let empty = run(steps("fail"), json!({}));
    assert_eq!(empty["vars"], json!({"r": {}, "x": 1}));
}

#[test]
fn try_catches_the_innermost_error_and_an_error_in_a_catch_goes_outward() {
    let a = run(
        json!([
            {"id": "outer", "type": "try", "steps": [
                {"id": "inner", "type": "try", "steps": [
                    {"id": "boom", "type": "action", "action": "tickets.close", "input": {"ticket_id": "'t'"}}
                ], "catch": [
                    {"id": "seen", "type": "set", "name": "first", "value": "vars.error.message"},
                    {"id": "again", "type": "action", "action": "tickets.close", "input": {"ticket_id": "'t'"}}
                ]}
            ], "catch": [
                {"id": "last", "type": "set", "name": "second", "value": "vars.error.step"}
            ]}
        ]),
        json!({"actions": {"boom": [{"error": "first"}], "again": [{"error": "second"}]}}),
    );
    assert_eq!(a["status"], "completed");
    assert_eq!(
        a["vars"],
        json!({"first": "first", "second": "again", "error": {"step": "again", "message": "second"}})
    );
    assert_eq!(
        outline(&a),
        pairs(&[
            ("outer", "ok"),
            ("inner", "failed"),
            ("boom", "failed"),
            ("seen", "ok"),
            ("again", "failed"),
            ("last", "ok"),
        ])
    );
}

#[test]
fn loops_bind_their_variable_record_iterations_and_remove_it_after() {
    let a = run(
        json!([
            {"id": "each", "type": "for_each", "items": "[1, 2]", "as": "n", "steps": [
                {"id": "pick", "type": "if", "condition": "vars.n == 2",
                 "then": [{"id": "two", "type": "set", "name": "seen", "value": "vars.n * 10"}]}
            ]}
        ]),
        json!({}),
    );
    assert_eq!(a["vars"], json!({"seen": 20}));
    let trace = a["trace"].as_array().unwrap();
    assert_eq!(trace.len(), 4);
    assert!(trace[0].get("iterations").is_none());
    assert_eq!(trace[1]["iterations"], json!([0]));
    assert_eq!(trace[1]["branch"], "none");
    assert_eq!(trace[2]["branch"], "then");
    assert_eq!(trace[3]["step"], "two");
    assert_eq!(trace[3]["iterations"], json!([1]));
}

#[test]
fn too_many_items_or_a_non_list_raises() {
    let a = run(
        json!([{"id": "each", "type": "for_each", "items": "[1, 2, 3]", "as": "n", "max_items": 2, "steps": []}]),
        json!({}),
    );
    assert_eq!(a["status"], "failed");
    assert_eq!(a["error"]["step"], "each");
    let b = run(
        json!([{"id": "each", "type": "for_each", "items": "'abc'", "as": "n", "steps": []}]),
        json!({}),
    );
    assert_eq!(b["error"]["step"], "each");
    assert_eq!(outline(&b), pairs(&[("each", "failed")]));
}

#[test]
fn waits_move_the_clock_and_event_waits_take_the_first_fitting_event_once() {
    let reply = |id: &str, at: &str, number: i64| {
        json!({"event_id": id, "type": "comment.added", "occurred_at": at,
               "payload": {"ticket": {"number": number}}})
    };
    let a = run(
        json!([
            {"id": "pause", "type": "wait", "duration": "PT1H"},
            {"id": "reply", "type": "wait_for_event", "event": "comment.added",
             "where": "incoming.payload.ticket.number == event.payload.ticket.number",
             "timeout": "PT4H", "save_as": "reply"},
            {"id": "again", "type": "wait_for_event", "event": "comment.added",
             "where": "incoming.payload.ticket.number == 42", "timeout": "PT30M"},
            {"id": "until", "type": "wait", "until": "timestamp('2026-01-05T09:00:00Z')"},
            {"id": "stamp", "type": "set", "name": "when", "value": "event.occurred_at"}
        ]),
        json!({"events": [
            reply("e0", "2026-01-05T09:30:00Z", 42),
            reply("e1", "2026-01-05T11:00:00Z", 7),
            reply("e2", "2026-01-05T12:00:00Z", 42),
        ]}),
    );
    assert_eq!(a["status"], "completed");
    // e0 came before the wait began; e1 is another ticket's.
    assert_eq!(a["vars"]["reply"]["event_id"], "e2");
    assert_eq!(a["trace"][1]["at"], "2026-01-05T10:00:00Z");
    assert_eq!(a["trace"][2]["at"], "2026-01-05T12:00:00Z");
    // e2 is taken already: the second wait times out.
    assert_eq!(a["trace"][2]["outcome"], "timeout");
    assert_eq!(a["trace"][3]["at"], "2026-01-05T12:30:00Z");
    // `until` in the past leaves the clock.
    assert_eq!(a["ended_at"], "2026-01-05T12:30:00Z");
    assert_eq!(a["vars"]["when"], "2026-01-05T09:00:00Z");
}

#[test]
fn an_event_past_the_timeout_is_not_taken() {
    let a = run(
        json!([{"id": "w", "type": "wait_for_event", "event": "comment.added", "where": "true",
                "timeout": "PT1H", "save_as": "got"}]),
        json!({"events": [{"type": "comment.added", "occurred_at": "2026-01-05T10:00:01Z"}]}),
    );
    assert_eq!(outline(&a), pairs(&[("w", "timeout")]));
    assert_eq!(a["vars"], json!({}));
    assert_eq!(a["ended_at"], "2026-01-05T10:00:00Z");
}

#[test]
fn a_failing_expression_raises_and_ten_thousand_steps_is_the_limit() {
    let a = run(
        json!([{"id": "bad", "type": "set", "name": "x", "value": "vars.nothing.here"}]),
        json!({}),
    );
    assert_eq!(a["status"], "failed");
    assert_eq!(a["error"]["step"], "bad");
    let hundred = format!(
        "[{}]",
        (0..120)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let many = run(
        json!([{"id": "outer", "type": "for_each", "items": hundred, "as": "i", "max_items": 1000,
                "steps": [{"id": "deep", "type": "try", "steps": [
                    {"id": "inner", "type": "for_each", "items": hundred, "as": "j", "max_items": 1000,
                     "steps": [{"id": "leaf", "type": "set", "name": "x", "value": "vars.i"}]}
                ], "catch": [{"id": "never", "type": "set", "name": "caught", "value": "true"}]}]}]),
        json!({}),
    );
    assert_eq!(many["status"], "failed");
    assert_eq!(
        many["trace"].as_array().unwrap().len(),
        dry_run::MAX_EXECUTED_STEPS
    );
    assert!(
        many["vars"].get("caught").is_none(),
        "no try catches the limit: {}",
        many["vars"]
    );
}

#[test]
fn running_past_the_end_completes_with_null_and_return_ends_early() {
    let a = run(
        json!([
            {"id": "r", "type": "return", "value": "{'ok': true, 'n': 1}"},
            {"id": "never", "type": "set", "name": "x", "value": "1"}
        ]),
        json!({"at": "2026-02-01T00:00:00Z"}),
    );
    assert_eq!(a["result"], json!({"ok": true, "n": 1}));
    assert_eq!(outline(&a), pairs(&[("r", "ok")]));
    assert_eq!(a["ended_at"], "2026-02-01T00:00:00Z");
    let b = run(json!([]), json!({}));
    assert_eq!(b["status"], "completed");
    assert_eq!(b["result"], Value::Null);
}

/// The pointers and reasons of `def`'s errors.
fn errors(def: Value) -> Vec<(String, String)> {
    match validate::validate(&def, |id| id.as_u128() == 1) {
        Ok(_) => Vec::new(),
        Err(issues) => issues.into_iter().map(|i| (i.pointer, i.reason)).collect(),
    }
}

fn pointers(def: Value) -> Vec<String> {
    errors(def).into_iter().map(|e| e.0).collect()
}

#[test]
fn every_kind_of_error_is_reported_at_once_with_its_pointer() {
    let def = json!({
        "name": "",
        "extra": 1,
        "trigger": {"event": "ticket.exploded", "condition": "1 + 1"},
        "steps": [
            {"id": "a", "type": "teleport"},
            {"id": "a", "type": "set", "name": "9x", "value": "nope.x"},
            {"id": "c", "type": "action", "action": "tickets.add_comment",
             "input": {"ticket_id": "event.payload.ticket.ticket_id", "colour": "'red'"},
             "retry": {"max_attempts": 11, "initial_interval": "soon", "backoff": 0.5}},
            {"id": "d", "type": "if", "condition": "'yes'", "then": [
                {"id": "e", "type": "action", "action": "tickets.explode", "input": {}}
            ]},
            {"id": "f", "type": "for_each", "items": "[1]", "as": "x", "max_items": 0, "steps": []},
            {"id": "g", "type": "wait", "duration": "P1M"},
            {"id": "h", "type": "wait_for_event", "event": "comment.added", "where": "incoming.x +", "timeout": "PT1H"},
            {"id": "i", "type": "call", "automation": "00000000-0000-0000-0000-000000000002"},
            {"id": "j", "type": "set", "name": "x"},
            {"id": "k", "type": "return", "value": "1", "unexpected": true}
        ]
    });
    let got = pointers(def);
    for want in [
        "/name",
        "/extra",
        "/trigger/event",
        "/trigger/condition",
        "/steps/0/type",
        "/steps/1/id",
        "/steps/1/name",
        "/steps/1/value",
        "/steps/2/input/body",
        "/steps/2/input/colour",
        "/steps/2/retry/max_attempts",
        "/steps/2/retry/initial_interval",
        "/steps/2/retry/backoff",
        "/steps/3/condition",
        "/steps/3/then/0/action",
        "/steps/4/max_items",
        "/steps/5/duration",
        "/steps/6/where",
        "/steps/7/automation",
        "/steps/8/value",
        "/steps/9/unexpected",
    ] {
        assert!(
            got.iter().any(|p| p == want),
            "{want} not reported in {got:?}"
        );
    }
}

/// A message's template is its subtype's: a step cannot name one, so a definition that tries
/// is refused when published (and in the dry run) rather than failing when it runs.
#[test]
fn a_message_step_cannot_name_a_template() {
    for (action, to) in [
        ("notifications.send_email", "user_id"),
        ("notifications.send_contact_email", "contact_id"),
    ] {
        let def = definition(json!([{"id": "m", "type": "action", "action": action,
            "input": {to: "'0193c1d0-0000-7000-8000-00000000beef'", "body": "'hi'",
                      "template": "'ticket.created'"}}]));
        assert_eq!(
            errors(def),
            [(
                "/steps/0/input/template".to_owned(),
                format!("is not an input of {action}")
            )]
        );
    }
}

#[test]
fn triggers_schedules_and_calls_are_checked() {
    let base =
        |trigger: Value, steps: Value| json!({"name": "n", "trigger": trigger, "steps": steps});
    assert_eq!(
        pointers(base(
            json!({"schedule": {"cron": "0 8 * * MON-FRI", "timezone": "Europe/London"}}),
            json!([{"id": "c", "type": "call", "automation": "00000000-0000-0000-0000-000000000001"}])
        )),
        Vec::<String>::new()
    );
    assert_eq!(
        pointers(base(
            json!({"schedule": {"cron": "every monday", "timezone": "Mars/Base"}}),
            json!([])
        )),
        ["/trigger/schedule/cron", "/trigger/schedule/timezone"]
    );
    assert_eq!(
        pointers(base(
            json!({"manual": {}, "event": "ticket.created"}),
            json!([])
        )),
        ["/trigger"]
    );
    assert_eq!(
        pointers(base(json!({"manual": {"x": 1}}), json!([]))),
        ["/trigger/manual/x"]
    );
    assert_eq!(
        pointers(base(
            json!({"event": "ticket.created", "condition": "vars.x == 1"}),
            json!([])
        )),
        ["/trigger/condition"],
        "a trigger's condition reads only the event"
    );
    assert_eq!(pointers(json!([])), [""]);
}

#[test]
fn references_are_read_from_nested_steps_without_validating() {
    let refs = validate::references(&json!({"steps": [
        {"type": "call", "automation": "00000000-0000-0000-0000-000000000001"},
        {"type": "try", "steps": [{"type": "if", "then": [
            {"type": "wait", "duration": "bad", "business_schedule_id": "00000000-0000-0000-0000-000000000002"},
            {"type": "call", "automation": "not an id"}
        ]}], "catch": [{"type": "call", "automation": "00000000-0000-0000-0000-000000000003"}]}
    ]}));
    let mut calls: Vec<u128> = refs.calls.iter().map(|u| u.as_u128()).collect();
    calls.sort_unstable();
    assert_eq!(calls, [1, 3]);
    assert_eq!(
        refs.schedules
            .iter()
            .map(|u| u.as_u128())
            .collect::<Vec<_>>(),
        [2]
    );
}

#[test]
fn dry_run_requests_are_checked_with_pointers() {
    let issues = |body: Value| -> Vec<String> {
        Request::parse(&body)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|i| i.pointer)
            .collect()
    };
    assert_eq!(
        issues(json!({"definition": {}, "event": {"type": "x"}})),
        ["/event/occurred_at"]
    );
    assert!(
        issues(json!({"definition": {}, "event": {"type": "x"}, "at": "2026-01-01T00:00:00Z"}))
            .is_empty()
    );
    assert_eq!(
        issues(
            json!({"definition": {}, "event": event(), "actions": {"s": [{"output": 1, "error": "x"}]},
                      "events": [{"type": "t"}], "bogus": 1})
        ),
        ["/bogus", "/actions/s/0", "/events/0/occurred_at"]
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn expr() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("true".to_owned()),
            Just("vars.x".to_owned()),
            Just("[1, 2, 3]".to_owned()),
            Just("event.payload.ticket.number > 1".to_owned()),
            Just("1 / 0".to_owned()),
            Just("timestamp('2026-01-05T10:00:00Z')".to_owned()),
            "[a-z .()+*'0-9]{0,12}",
        ]
    }

    fn step(depth: u32) -> BoxedStrategy<Value> {
        let leaf = prop_oneof![
            (expr()).prop_map(|v| json!({"type": "set", "name": "x", "value": v})),
            (expr()).prop_map(|v| json!({"type": "return", "value": v})),
            Just(json!({"type": "wait", "duration": "PT1M"})),
            (expr()).prop_map(|v| json!({"type": "wait", "until": v})),
            (expr()).prop_map(|v| json!({"type": "action", "action": "tickets.close",
                "input": {"ticket_id": v}, "retry": {"max_attempts": 2}, "on_error": "continue"})),
            (expr()).prop_map(
                |v| json!({"type": "wait_for_event", "event": "comment.added",
                "where": v, "timeout": "PT1H", "save_as": "e"})
            ),
            Just(json!({"type": "teleport"})),
        ];
        if depth == 0 {
            return leaf.boxed();
        }
        let inner = prop::collection::vec(step(depth - 1), 0..4);
        prop_oneof![
            leaf,
            (expr(), inner.clone(), inner.clone())
                .prop_map(|(c, t, e)| json!({"type": "if", "condition": c, "then": t, "else": e})),
            (expr(), inner.clone())
                .prop_map(|(i, s)| json!({"type": "for_each", "items": i, "as": "it", "steps": s})),
            (inner.clone(), inner)
                .prop_map(|(s, c)| json!({"type": "try", "steps": s, "catch": c})),
        ]
        .boxed()
    }

    /// Gives every step an ID, unique in the definition.
    fn number(steps: &mut Value, next: &mut usize) {
        if let Some(list) = steps.as_array_mut() {
            for s in list {
                if let Some(o) = s.as_object_mut() {
                    o.insert("id".into(), json!(format!("s{next}")));
                    *next += 1;
                    for key in ["then", "else", "steps", "catch"] {
                        if let Some(inner) = o.get_mut(key) {
                            number(inner, next);
                        }
                    }
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn a_dry_run_never_panics(steps in prop::collection::vec(step(3), 0..6), fail in any::<bool>()) {
            let mut steps = Value::Array(steps);
            number(&mut steps, &mut 0);
            let def = definition(steps);
            let results = if fail { json!([{"error": "no"}]) } else { json!([{"output": {"a": 1}}]) };
            let body = json!({"definition": def, "event": event(),
                "actions": {"s0": results.clone(), "s1": results},
                "events": [{"type": "comment.added", "occurred_at": "2026-01-05T09:30:00Z"}]});
            if let Ok(d) = validate::validate(&body["definition"], |_| false) {
                let request = Request::parse(&body).unwrap();
                let answer = dry_run::run(&d, &request, &|_, _, _| Err("none".into()));
                prop_assert!(answer.status == "completed" || answer.status == "failed");
                prop_assert!(answer.trace.len() <= dry_run::MAX_EXECUTED_STEPS);
            }
        }

        /// What a durable run does: its state written out and read back at every effect (as
        /// continue-as-new carries it), its trace taken in pieces (as its records write it).
        /// The outcome, variables and whole trace are those of one uninterrupted machine.
        #[test]
        fn a_machine_carried_through_json_at_every_effect_runs_the_same(
            steps in prop::collection::vec(step(3), 0..6), fail in any::<bool>()
        ) {
            let mut steps = Value::Array(steps);
            number(&mut steps, &mut 0);
            let Ok(d) = validate::validate(&definition(steps), |_| false) else {
                return Ok(());
            };
            let at = chrono::DateTime::parse_from_rfc3339("2026-01-05T09:00:00Z").unwrap().to_utc();
            let answer = |effect: &Effect| match effect {
                Effect::Action { .. } | Effect::Call { .. } if fail => {
                    Resume::Failed { message: "no".into(), attempts: 1 }
                }
                Effect::Action { .. } | Effect::Call { .. } => {
                    Resume::Output { output: json!({"a": 1}), attempts: 1 }
                }
                Effect::BusinessTime { .. } => Resume::Instant(Err("none".into())),
                Effect::WaitEvent { .. } => Resume::Timeout,
                _ => Resume::Woke,
            };
            let mut whole = Machine::new(event(), at, false);
            let mut resume = None;
            let end_whole = loop {
                match whole.advance(&d, resume.take()) {
                    Effect::Done(end) => break end,
                    effect => resume = Some(answer(&effect)),
                }
            };
            let mut carried = Machine::new(event(), at, false);
            let mut pieces = std::collections::BTreeMap::new();
            let mut resume = None;
            let end_carried = loop {
                let effect = carried.advance(&d, resume.take());
                pieces.extend(carried.take_trace());
                let text = serde_json::to_string(&carried).unwrap();
                carried = serde_json::from_str(&text).unwrap();
                match effect {
                    Effect::Done(end) => break end,
                    effect => resume = Some(answer(&effect)),
                }
            };
            prop_assert_eq!(end_whole, end_carried);
            prop_assert_eq!(&whole.vars, &carried.vars);
            let pieces: Vec<_> = pieces.into_values().collect();
            prop_assert_eq!(whole.into_trace(), pieces);
        }
    }
}

#[test]
fn a_rewound_machine_does_its_waiting_step_again() {
    let steps = json!([
        {"id": "one", "type": "set", "name": "n", "value": "1"},
        {"id": "act", "type": "action", "action": "tickets.add_comment",
         "input": {"ticket_id": "event.payload.ticket.ticket_id", "body": "string(vars.n)"}}
    ]);
    let d = validate::validate(&definition(steps), |_| true).unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-01-05T09:00:00Z")
        .unwrap()
        .to_utc();
    let mut m = Machine::new(event(), at, false);
    let first = m.advance(&d, None);
    assert!(matches!(&first, Effect::Action { step, .. } if step == "act"));
    assert_eq!(m.waiting_on(), Some("act"));
    assert!(m.rewind());
    assert_eq!(m.waiting_on(), None);
    assert_eq!(m.executed(), 1, "the step's entry is taken back");
    assert_eq!(m.advance(&d, None), first, "the same effect again");
    let end = m.advance(
        &d,
        Some(Resume::Output {
            output: json!({}),
            attempts: 1,
        }),
    );
    assert_eq!(end, Effect::Done(End::Completed(Value::Null)));
    assert_eq!(m.into_trace().len(), 2);
}

#[test]
fn the_example_automations_validate() {
    for (name, text) in [
        (
            "acknowledge_p1",
            include_str!("examples/acknowledge_p1.json"),
        ),
        (
            "escalate_without_reply",
            include_str!("examples/escalate_without_reply.json"),
        ),
        (
            "weekly_stale_cleanup",
            include_str!("examples/weekly_stale_cleanup.json"),
        ),
    ] {
        let json: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Err(issues) = validate::validate(&json, |_| false) {
            panic!("{name}: {issues:?}");
        }
    }
}

#[test]
fn the_escalation_example_escalates_only_an_unanswered_ticket() {
    let def: Value =
        serde_json::from_str(include_str!("examples/escalate_without_reply.json")).unwrap();
    let d = validate::validate(&def, |_| false).unwrap();
    // Opening hours from 09:00: the four hours end at 13:00 on the day.
    let business = |_: uuid::Uuid,
                    from: chrono::DateTime<chrono::Utc>,
                    d: chrono::TimeDelta|
     -> Result<chrono::DateTime<chrono::Utc>, String> { Ok(from + d) };
    let body = |responded: Value| {
        json!({"definition": def, "event": event(), "actions": {"look": [{"output":
            {"tickets": [{"ticket_id": "t-1", "status": "New", "responded_at": responded}]}}]}})
    };
    let unanswered = dry_run::run(&d, &Request::parse(&body(Value::Null)).unwrap(), &business);
    let steps: Vec<&str> = unanswered.trace.iter().map(|t| t.step.as_str()).collect();
    assert_eq!(
        steps,
        [
            "lead",
            "window",
            "look",
            "unanswered",
            "reassign",
            "tell_lead"
        ]
    );
    assert_eq!(unanswered.trace[2].at, "2026-01-05T13:00:00Z");
    let answered = dry_run::run(
        &d,
        &Request::parse(&body(json!("2026-01-05T10:00:00Z"))).unwrap(),
        &business,
    );
    assert_eq!(answered.result, Some(json!("answered in time")));
}

/// One case per kind of error: a definition with that fault alone, and the one pointer it
/// is reported at.
#[test]
fn each_kind_of_error_alone_is_reported_at_its_pointer() {
    let with =
        |steps: Value| json!({"name": "n", "trigger": {"event": "ticket.created"}, "steps": steps});
    let comment = |input: Value| {
        with(
            json!([{"id": "c", "type": "action", "action": "tickets.add_comment", "input": input}]),
        )
    };
    let ok_input = json!({"ticket_id": "'t'", "body": "'b'"});
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "unknown step type",
            with(json!([{"id": "a", "type": "teleport"}])),
            "/steps/0/type",
        ),
        (
            "unknown action",
            with(json!([{"id": "a", "type": "action", "action": "tickets.explode"}])),
            "/steps/0/action",
        ),
        (
            "duplicate id",
            with(json!([{"id": "a", "type": "return"}, {"id": "a", "type": "return"}])),
            "/steps/1/id",
        ),
        (
            "missing field",
            with(json!([{"id": "a", "type": "set", "name": "x"}])),
            "/steps/0/value",
        ),
        (
            "extra field",
            with(json!([{"id": "a", "type": "return", "colour": "red"}])),
            "/steps/0/colour",
        ),
        (
            "CEL that does not compile",
            with(json!([{"id": "a", "type": "return", "value": "1 +"}])),
            "/steps/0/value",
        ),
        (
            "unknown variable",
            with(json!([{"id": "a", "type": "return", "value": "secrets.key"}])),
            "/steps/0/value",
        ),
        (
            "incoming outside a where",
            with(json!([{"id": "a", "type": "return", "value": "incoming.type"}])),
            "/steps/0/value",
        ),
        (
            "condition not boolean",
            with(json!([{"id": "a", "type": "if", "condition": "'yes'", "then": []}])),
            "/steps/0/condition",
        ),
        (
            "where not boolean",
            with(
                json!([{"id": "a", "type": "wait_for_event", "event": "comment.added", "where": "1", "timeout": "PT1H"}]),
            ),
            "/steps/0/where",
        ),
        (
            "retry out of range",
            with(
                json!([{"id": "a", "type": "action", "action": "tickets.add_comment", "input": ok_input.clone(), "retry": {"max_attempts": 0}}]),
            ),
            "/steps/0/retry/max_attempts",
        ),
        (
            "backoff below 1",
            with(
                json!([{"id": "a", "type": "action", "action": "tickets.add_comment", "input": ok_input, "retry": {"max_attempts": 2, "backoff": 0.5}}]),
            ),
            "/steps/0/retry/backoff",
        ),
        (
            "max_items out of range",
            with(
                json!([{"id": "a", "type": "for_each", "items": "[]", "as": "x", "steps": [], "max_items": 1001}]),
            ),
            "/steps/0/max_items",
        ),
        (
            "malformed duration",
            with(json!([{"id": "a", "type": "wait", "duration": "4 hours"}])),
            "/steps/0/duration",
        ),
        (
            "malformed timeout",
            with(
                json!([{"id": "a", "type": "wait_for_event", "event": "comment.added", "where": "true", "timeout": "soon"}]),
            ),
            "/steps/0/timeout",
        ),
        (
            "malformed cron",
            json!({"name": "n", "trigger": {"schedule": {"cron": "0 25 * * *", "timezone": "UTC"}}, "steps": []}),
            "/trigger/schedule/cron",
        ),
        (
            "unknown zone",
            json!({"name": "n", "trigger": {"schedule": {"cron": "0 8 * * *", "timezone": "Moon/Base"}}, "steps": []}),
            "/trigger/schedule/timezone",
        ),
        (
            "unknown trigger event",
            json!({"name": "n", "trigger": {"event": "ticket.exploded"}, "steps": []}),
            "/trigger/event",
        ),
        (
            "unknown wait event",
            with(
                json!([{"id": "a", "type": "wait_for_event", "event": "ticket.exploded", "where": "true", "timeout": "PT1H"}]),
            ),
            "/steps/0/event",
        ),
        (
            "call of an unpublished automation",
            with(
                json!([{"id": "a", "type": "call", "automation": "00000000-0000-0000-0000-000000000009"}]),
            ),
            "/steps/0/automation",
        ),
        (
            "missing required input",
            comment(json!({"ticket_id": "'t'"})),
            "/steps/0/input/body",
        ),
        (
            "input the action lacks",
            comment(json!({"ticket_id": "'t'", "body": "'b'", "colour": "'red'"})),
            "/steps/0/input/colour",
        ),
        (
            "CEL in an input",
            comment(json!({"ticket_id": "event.", "body": "'b'"})),
            "/steps/0/input/ticket_id",
        ),
    ];
    for (kind, def, pointer) in cases {
        assert_eq!(pointers(def), [pointer], "{kind}");
    }
}

#[test]
fn far_dates_and_huge_numbers_raise_or_clamp_never_panic() {
    // A wait past the year 9999 fails its step.
    let far = run(
        json!([{"id": "w", "type": "wait", "duration": "P3000D"}]),
        json!({"at": "9999-06-01T00:00:00Z"}),
    );
    assert_eq!(far["status"], "failed");
    assert_eq!(far["error"]["step"], "w");
    // Retries backed off past the year 9999 fail the step; on_error does not hide it.
    let retries = run(
        json!([{"id": "a", "type": "action", "action": "tickets.close", "input": {"ticket_id": "'t'"},
                "retry": {"max_attempts": 10, "initial_interval": "P3000D", "backoff": 100}, "on_error": "continue"}]),
        json!({"at": "2026-01-05T09:00:00Z", "actions": {"a": [{"error": "x"}, {"error": "x"}, {"error": "x"},
            {"error": "x"}, {"error": "x"}, {"error": "x"}, {"error": "x"}, {"error": "x"}, {"error": "x"}, {"error": "x"}]}}),
    );
    assert_eq!(retries["status"], "failed");
    assert_eq!(retries["error"]["step"], "a");
    // An event wait whose timeout ends past it fails only when it would time out there.
    let wait = run(
        json!([{"id": "e", "type": "wait_for_event", "event": "comment.added", "where": "true", "timeout": "P3000D"}]),
        json!({"at": "9999-06-01T00:00:00Z", "events": [{"type": "comment.added", "occurred_at": "9999-07-01T00:00:00Z"}]}),
    );
    assert_eq!(wait["status"], "completed");
    assert_eq!(wait["ended_at"], "9999-07-01T00:00:00Z");
    // Arithmetic that overflows is a failed step, not a crash.
    let overflow = run(
        json!([{"id": "o", "type": "set", "name": "x", "value": "9223372036854775807 + 1"}]),
        json!({}),
    );
    assert_eq!(overflow["status"], "failed");
    assert_eq!(overflow["error"]["step"], "o");
}
