//! Schedule entries over HTTP against the real database: a series stored as its master and
//! expanded on demand with stable occurrence IDs; every edit scope (this, following, all) and
//! deletion scope; the conflict check on every write path, with `on_conflict: allow` recording
//! the overlap; a technician limited to their own entries.

use psa_tests::{Parts, TestEnv};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn send(
    env: &TestEnv,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = env.req(method, path, key);
    if let Some(body) = body {
        r = r.json(&body);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Occurrences in March and April 2027 (New York), as (id, title, start, end).
async fn calendar(
    env: &TestEnv,
    key: &str,
    assignee: Option<&str>,
) -> Vec<(String, String, String, String)> {
    let mut path =
        "/v1/schedule-entries?from=2027-03-01T00:00:00Z&to=2027-05-01T00:00:00Z&limit=200"
            .to_owned();
    if let Some(a) = assignee {
        path.push_str(&format!("&assignee={a}"));
    }
    let (status, body) = send(env, key, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap().to_owned(),
                o["title"].as_str().unwrap().to_owned(),
                o["start"].as_str().unwrap().to_owned(),
                o["end"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_expand_on_demand_and_every_edit_scope_keeps_the_calendar_right() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let s = &env.a.seeded;
    let tech = env
        .a
        .key_for(&env.owner, "technician", Some(s.technician_user_id))
        .await
        .unwrap();
    let admin = env.a.key.clone();

    // Mondays and Wednesdays at 09:00 New York, eight times, across the DST change of
    // 14 March 2027.
    let (status, entry) = send(
        &env,
        &tech,
        Method::POST,
        "/v1/schedule-entries",
        Some(json!({
            "title": "Site visit", "assignees": [s.technician_user_id],
            "start": "2027-03-01T09:00:00", "timezone": "America/New_York", "duration_minutes": 60,
            "rrule": "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=8",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");
    let id = entry["id"].as_str().unwrap().to_owned();
    assert_eq!(
        entry["reminder_minutes"], 15,
        "reminders default to 15 minutes"
    );
    assert_eq!(entry["first_start"], "2027-03-01T14:00:00Z");
    assert_eq!(entry["last_end"], "2027-03-24T14:00:00Z");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM schedule_entries")
        .fetch_one(&env.owner)
        .await
        .unwrap();
    assert_eq!(stored, 1, "only the master is stored");

    let first = calendar(&env, &tech, None).await;
    assert_eq!(first.len(), 8);
    assert_eq!(first[0].0, format!("{id}_20270301T090000"));
    assert_eq!(first[0].2, "2027-03-01T14:00:00Z");
    assert_eq!(first[4].2, "2027-03-15T13:00:00Z", "EDT from 14 March");
    assert_eq!(calendar(&env, &tech, None).await, first, "IDs are stable");
    assert_eq!(
        calendar(&env, &tech, Some(&s.admin_user_id.to_string())).await,
        vec![]
    );

    // Paging walks the same list.
    let (_, page) = send(
        &env,
        &tech,
        Method::GET,
        "/v1/schedule-entries?from=2027-03-01T00:00:00Z&to=2027-05-01T00:00:00Z&limit=5",
        None,
    )
    .await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) = send(&env, &tech, Method::GET,
        &format!("/v1/schedule-entries?from=2027-03-01T00:00:00Z&to=2027-05-01T00:00:00Z&limit=5&cursor={cursor}"), None).await;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, first.iter().map(|o| o.0.as_str()).collect::<Vec<_>>());
    assert!(rest["next_cursor"].is_null());

    // An appointment on top of the third occurrence is refused, listing it...
    let clash = json!({
        "title": "Emergency", "assignees": [s.technician_user_id],
        "start": "2027-03-08T09:30:00", "timezone": "America/New_York", "duration_minutes": 30,
    });
    let (status, problem) = send(
        &env,
        &admin,
        Method::POST,
        "/v1/schedule-entries",
        Some(clash.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(
        problem["conflicts"][0]["other_occurrence_id"],
        first[2].0.as_str()
    );
    assert_eq!(
        problem["conflicts"][0]["user_id"],
        s.technician_user_id.to_string()
    );
    // ...unless the overlap is accepted, which is recorded.
    let mut allowed = clash.clone();
    allowed["on_conflict"] = json!("allow");
    let (status, emergency) = send(
        &env,
        &admin,
        Method::POST,
        "/v1/schedule-entries",
        Some(allowed),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{emergency}");
    assert_eq!(emergency["overlaps"].as_array().unwrap().len(), 1);
    // Back to back is no overlap.
    let (status, _) = send(
        &env,
        &admin,
        Method::POST,
        "/v1/schedule-entries",
        Some(json!({
            "title": "Before", "assignees": [s.technician_user_id],
            "start": "2027-03-01T08:00:00", "timezone": "America/New_York", "duration_minutes": 60,
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    send(
        &env,
        &admin,
        Method::DELETE,
        &format!("/v1/schedule-entries/{}", emergency["id"].as_str().unwrap()),
        None,
    )
    .await;

    // "This": the second occurrence moves two hours later and leaves the series.
    let (status, moved) = send(
        &env,
        &tech,
        Method::PATCH,
        &format!("/v1/schedule-occurrences/{}", first[1].0),
        Some(json!({"scope": "this", "start": "2027-03-03T11:00:00"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["split_from"], id.as_str());
    assert_eq!(moved["split_at"], "2027-03-03T09:00:00");
    assert!(moved["rrule"].is_null());
    let (_, master) = send(
        &env,
        &tech,
        Method::GET,
        &format!("/v1/schedule-entries/{id}"),
        None,
    )
    .await;
    assert_eq!(master["exdates"], json!(["2027-03-03T09:00:00"]));
    // The master's event names the entry cut from it, which alone tells people of the move.
    let (rest, cut): (Value, Value) = sqlx::query_as(
        "SELECT (SELECT envelope->'payload' FROM outbox WHERE event_type = 'schedule.entry_updated'
                   AND envelope->'payload'->>'entry_id' = $1 ORDER BY id DESC LIMIT 1),
                (SELECT envelope->'payload' FROM outbox WHERE event_type = 'schedule.entry_created'
                   AND envelope->'payload'->>'entry_id' = $2)",
    )
    .bind(id.as_str())
    .bind(moved["id"].as_str().unwrap())
    .fetch_one(&env.owner)
    .await
    .unwrap();
    assert_eq!(rest["split_off"], moved["id"]);
    assert_eq!(cut["series_id"], id.as_str());
    assert_eq!(cut["title"], "Site visit");
    assert_eq!(cut["starts_at"], "2027-03-03T16:00:00Z");
    let now = calendar(&env, &tech, Some(&s.technician_user_id.to_string())).await;
    let mine: Vec<_> = now.iter().filter(|o| o.1 == "Site visit").collect();
    assert_eq!(mine.len(), 8, "still eight: {now:?}");
    assert!(
        mine.iter().all(|o| o.0 != first[1].0),
        "the old occurrence is gone"
    );
    assert!(mine.iter().any(|o| o.2 == "2027-03-03T16:00:00Z"));
    // The moved one's old ID no longer names an occurrence.
    let (status, _) = send(
        &env,
        &tech,
        Method::PATCH,
        &format!("/v1/schedule-occurrences/{}", first[1].0),
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Moving an occurrence onto another is refused like any other overlap.
    let (status, problem) = send(
        &env,
        &tech,
        Method::PATCH,
        &format!("/v1/schedule-occurrences/{}", first[3].0),
        Some(json!({"start": "2027-03-08T09:30:00"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");

    // "Following": from the fifth occurrence on, a new title; the series is cut there.
    let (status, later) = send(
        &env,
        &tech,
        Method::PATCH,
        &format!("/v1/schedule-occurrences/{}", first[4].0),
        Some(json!({"scope": "following", "title": "Site visit (new site)"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{later}");
    assert_eq!(later["start"], "2027-03-15T09:00:00");
    assert_eq!(later["rrule"], "FREQ=WEEKLY;COUNT=4;BYDAY=MO,WE");
    let (_, master) = send(
        &env,
        &tech,
        Method::GET,
        &format!("/v1/schedule-entries/{id}"),
        None,
    )
    .await;
    assert_eq!(master["rrule"], "FREQ=WEEKLY;COUNT=4;BYDAY=MO,WE");
    let now = calendar(&env, &tech, Some(&s.technician_user_id.to_string())).await;
    let titles: Vec<&str> = now
        .iter()
        .filter(|o| o.1.starts_with("Site"))
        .map(|o| o.1.as_str())
        .collect();
    // Three of the earlier part, and the occurrence moved out of it on 3 March.
    assert_eq!(titles.iter().filter(|t| **t == "Site visit").count(), 4);
    assert_eq!(
        titles
            .iter()
            .filter(|t| **t == "Site visit (new site)")
            .count(),
        4
    );

    // "All" of the earlier part: ninety minutes each.
    let (status, all) = send(
        &env,
        &tech,
        Method::PATCH,
        &format!("/v1/schedule-occurrences/{}", first[0].0),
        Some(json!({"scope": "all", "duration_minutes": 90})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let now = calendar(&env, &tech, None).await;
    let ninety = now.iter().find(|o| o.0 == first[0].0).unwrap();
    assert_eq!(ninety.3, "2027-03-01T15:30:00Z");

    // Deleting: one occurrence, then the following ones, then a whole series.
    let later_id = later["id"].as_str().unwrap();
    let later_first = format!("{later_id}_20270315T090000");
    let later_second = format!("{later_id}_20270317T090000");
    let (status, _) = send(
        &env,
        &tech,
        Method::DELETE,
        &format!("/v1/schedule-occurrences/{later_second}?scope=this"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(
        &env,
        &tech,
        Method::DELETE,
        &format!("/v1/schedule-occurrences/{later_id}_20270322T090000?scope=following"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let now = calendar(&env, &tech, None).await;
    let left: Vec<_> = now
        .iter()
        .filter(|o| o.1 == "Site visit (new site)")
        .collect();
    assert_eq!(left.len(), 1, "{now:?}");
    assert_eq!(left[0].0, later_first);
    let (status, _) = send(
        &env,
        &tech,
        Method::DELETE,
        &format!("/v1/schedule-entries/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(
        &env,
        &tech,
        Method::GET,
        &format!("/v1/schedule-entries/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Every write raised its event in the same transaction.
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM outbox WHERE event_type LIKE 'schedule.%' ORDER BY created_at",
    )
    .fetch_all(&env.owner)
    .await
    .unwrap();
    assert!(kinds.contains(&"schedule.entry_created".to_owned()));
    assert!(kinds.contains(&"schedule.entry_updated".to_owned()));
    assert!(kinds.contains(&"schedule.entry_cancelled".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_technician_writes_only_their_own_entries_and_bad_entries_are_named() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let s = &env.a.seeded;
    let tech = env
        .a
        .key_for(&env.owner, "technician", Some(s.technician_user_id))
        .await
        .unwrap();
    let admin = env.a.key.clone();
    let body = |assignee: uuid::Uuid| {
        json!({
            "title": "Patch night", "assignees": [assignee],
            "start": "2027-06-01T22:00:00", "timezone": "Europe/London", "duration_minutes": 120,
            "rrule": "FREQ=MONTHLY;BYDAY=1TU",
        })
    };
    let (status, _) = send(
        &env,
        &tech,
        Method::POST,
        "/v1/schedule-entries",
        Some(body(s.admin_user_id)),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, theirs) = send(
        &env,
        &admin,
        Method::POST,
        "/v1/schedule-entries",
        Some(body(s.admin_user_id)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");
    let path = format!("/v1/schedule-entries/{}", theirs["id"].as_str().unwrap());
    let (status, _) = send(
        &env,
        &tech,
        Method::PATCH,
        &path,
        Some(json!({"title": "mine now"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(&env, &tech, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        send(&env, &tech, Method::GET, &path, None).await.0,
        StatusCode::OK,
        "but may read it"
    );
    // Another tenant sees nothing of it.
    assert_eq!(
        send(&env, &env.b.key, Method::GET, &path, None).await.0,
        StatusCode::NOT_FOUND
    );

    let bad: Vec<(Value, &str)> = vec![
        (json!({"start": "2027-06-01T22:00:00Z"}), "start"),
        (json!({"timezone": "Nowhere/Special"}), "timezone"),
        (json!({"rrule": "FREQ=HOURLY"}), "rrule"),
        (
            json!({"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}),
            "rrule",
        ),
        (json!({"duration_minutes": 0}), "duration_minutes"),
        (json!({"assignees": []}), "assignees"),
        (json!({"assignees": [uuid::Uuid::now_v7()]}), "assignees"),
        (json!({"ticket_id": uuid::Uuid::now_v7()}), "ticket_id"),
        (json!({"title": "a\u{0}b"}), "title"),
        (json!({"reminder_minutes": -5}), "reminder_minutes"),
        (json!({"exdates": ["2027-06-01"]}), "exdates"),
    ];
    for (change, field) in bad {
        let mut b = body(s.admin_user_id);
        for (k, v) in change.as_object().unwrap() {
            b[k] = v.clone();
        }
        let (status, problem) = send(
            &env,
            &admin,
            Method::POST,
            "/v1/schedule-entries",
            Some(b.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b} → {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{b} → {problem}");
    }
    // A series whose first occurrence was deleted, edited from its second on: nothing stays
    // behind, and the new series carries on.
    let (_, daily) = send(
        &env,
        &admin,
        Method::POST,
        "/v1/schedule-entries",
        Some(json!({
            "title": "Stand-up", "assignees": [s.admin_user_id], "start": "2027-09-01T09:00:00",
            "timezone": "Europe/London", "duration_minutes": 15, "rrule": "FREQ=DAILY;COUNT=3",
        })),
    )
    .await;
    let daily = daily["id"].as_str().unwrap().to_owned();
    let (status, _) = send(
        &env,
        &admin,
        Method::DELETE,
        &format!("/v1/schedule-occurrences/{daily}_20270901T090000"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, rest) = send(
        &env,
        &admin,
        Method::PATCH,
        &format!("/v1/schedule-occurrences/{daily}_20270902T090000"),
        Some(json!({"scope": "following", "title": "Stand-up (moved)"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rest}");
    assert_eq!(rest["rrule"], "FREQ=DAILY;COUNT=2");
    let (status, _) = send(
        &env,
        &admin,
        Method::GET,
        &format!("/v1/schedule-entries/{daily}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the emptied master is gone");

    let (status, _) = send(
        &env,
        &admin,
        Method::GET,
        "/v1/schedule-entries?from=2027-01-01T00:00:00Z&to=2029-01-01T00:00:00Z",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a range over 366 days");
    let (status, _) = send(
        &env,
        &admin,
        Method::GET,
        "/v1/schedule-entries?from=-200000-01-01T00:00:00Z&to=-200000-01-02T00:00:00Z",
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a range at the end of time"
    );
    let (status, _) = send(
        &env,
        &admin,
        Method::PATCH,
        "/v1/schedule-occurrences/not-an-occurrence",
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
