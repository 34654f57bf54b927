//! `psa.v1.SchedulingService` against the real stack: the preview answers as HTTP's does, an
//! entry booked over gRPC is the one HTTP reads, its occurrences list and edit by scope, a
//! double booking is FAILED_PRECONDITION naming the overlap, and the errors are HTTP's.

use psa_protos::v1 as pb;
use psa_protos::v1::scheduling_service_client::SchedulingServiceClient;
use psa_tests::{Parts, TestEnv, authed};
use reqwest::Method;
use serde_json::json;
use tonic::Code;

fn ts(text: &str) -> prost_types::Timestamp {
    let t = chrono::DateTime::parse_from_rfc3339(text).unwrap();
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_over_grpc_is_the_calendar_over_http() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let s = &env.a.seeded;
    let key = env.a.key.clone();
    let mut client = SchedulingServiceClient::connect(format!("http://{}", env.edge().grpc_addr))
        .await
        .unwrap();

    let preview = client
        .preview_schedule(authed(
            &key,
            pb::PreviewScheduleRequest {
                start: "2026-03-02T09:00:00".into(),
                timezone: "America/New_York".into(),
                duration_minutes: 60,
                rrule: Some("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10".into()),
                exdates: vec!["2026-03-04T09:00:00".into()],
                from: "2026-03-01T00:00:00Z".into(),
                to: "2026-05-01T00:00:00Z".into(),
                limit: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(preview.occurrences.len(), 9);
    assert_eq!(preview.occurrences[1].local_start, "2026-03-09T09:00:00");
    let bad = client
        .preview_schedule(authed(
            &key,
            pb::PreviewScheduleRequest {
                start: "2026-03-02T09:00:00Z".into(),
                timezone: "America/New_York".into(),
                duration_minutes: 60,
                from: "2026-03-01T00:00:00Z".into(),
                to: "2026-05-01T00:00:00Z".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("start"), "{bad:?}");

    let entry = client
        .create_schedule_entry(authed(
            &key,
            pb::CreateScheduleEntryRequest {
                title: "Backup check".into(),
                assignees: vec![s.technician_user_id.to_string()],
                start: "2027-02-01T10:00:00".into(),
                timezone: "Europe/London".into(),
                duration_minutes: 30,
                rrule: Some("FREQ=DAILY;COUNT=5".into()),
                no_reminders: true,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(entry.reminder_minutes, None);
    let http = env
        .ok(
            Method::GET,
            &format!("/v1/schedule-entries/{}", entry.id),
            &key,
            &json!(null),
        )
        .await;
    assert_eq!(http["rrule"], "FREQ=DAILY;COUNT=5");
    assert_eq!(http["start"], entry.start.as_str());

    let list = client
        .list_occurrences(authed(
            &key,
            pb::ListOccurrencesRequest {
                from: Some(ts("2027-02-01T00:00:00Z")),
                to: Some(ts("2027-03-01T00:00:00Z")),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.items.len(), 5);
    let third = list.items[2].id.clone();

    // Double-booking the third day is refused with the overlap named.
    let clash = client
        .create_schedule_entry(authed(
            &key,
            pb::CreateScheduleEntryRequest {
                title: "Call".into(),
                assignees: vec![s.technician_user_id.to_string()],
                start: "2027-02-03T10:15:00".into(),
                timezone: "Europe/London".into(),
                duration_minutes: 30,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(clash.code(), Code::FailedPrecondition);
    assert!(clash.message().contains(&third), "{clash:?}");

    // The following ones move an hour later.
    let later = client
        .update_occurrence(authed(
            &key,
            pb::UpdateOccurrenceRequest {
                occurrence_id: third.clone(),
                scope: "following".into(),
                patch: Some(pb::ScheduleEntryPatch {
                    start: Some("2027-02-03T11:00:00".into()),
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(later.rrule.as_deref(), Some("FREQ=DAILY;COUNT=3"));
    assert_eq!(later.split_from.as_deref(), Some(entry.id.as_str()));
    client
        .delete_occurrence(authed(
            &key,
            pb::DeleteOccurrenceRequest {
                occurrence_id: format!("{}_20270204T110000", later.id),
                scope: "this".into(),
            },
        ))
        .await
        .unwrap();
    let list = client
        .list_occurrences(authed(
            &key,
            pb::ListOccurrencesRequest {
                from: Some(ts("2027-02-01T00:00:00Z")),
                to: Some(ts("2027-03-01T00:00:00Z")),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let starts: Vec<String> = list.items.iter().map(|o| o.local_start.clone()).collect();
    assert_eq!(
        starts,
        [
            "2027-02-01T10:00:00",
            "2027-02-02T10:00:00",
            "2027-02-03T11:00:00",
            "2027-02-05T11:00:00"
        ]
    );

    // Another tenant's key finds nothing; an unknown occurrence is NOT_FOUND.
    let theirs = client
        .get_schedule_entry(authed(
            &env.b.key,
            pb::ScheduleEntryIdRequest {
                id: entry.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(theirs.code(), Code::NotFound);
    let nowhere = client
        .delete_occurrence(authed(
            &key,
            pb::DeleteOccurrenceRequest {
                occurrence_id: "nothing".into(),
                scope: "all".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(nowhere.code(), Code::NotFound);
    client
        .delete_schedule_entry(authed(
            &key,
            pb::ScheduleEntryIdRequest {
                id: entry.id.clone(),
            },
        ))
        .await
        .unwrap();
}
