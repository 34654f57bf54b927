//! Schedule entries and time entries, through the API's store functions: the action's input
//! is read as the API's own request body, so the same rules answer it.

use super::{Failure, Input};
use psa_store::billing::time_entries::{self, TimeEntryInput};
use psa_store::scheduling::entries::{self, EntryInput};
use psa_store::{PgPool, Principal};
use serde_json::{Map, Value as Json, json};

fn refused_body(e: serde_json::Error) -> Failure {
    Failure::Refused(format!("invalid input ({e})"))
}

pub(super) async fn create_schedule_entry(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: &Input<'_>,
) -> Result<Json, Failure> {
    let body: EntryInput =
        serde_json::from_value(Json::Object(input.all().clone())).map_err(refused_body)?;
    let entry = entries::create(pool, p, key, body).await?;
    Ok(json!({ "entry_id": entry.id }))
}

pub(super) async fn create_time_entry(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: &Input<'_>,
) -> Result<Json, Failure> {
    // The catalogue's names for the API's fields.
    let mut body = Map::new();
    for (from, to) in [
        ("user_id", "worker_id"),
        ("work_date", "work_date"),
        ("minutes", "minutes"),
        ("ticket_id", "ticket_id"),
        ("service_id", "service_id"),
        ("notes", "note"),
    ] {
        if let Some(v) = input.value(from) {
            body.insert(to.into(), v.clone());
        }
    }
    let body: TimeEntryInput = serde_json::from_value(Json::Object(body)).map_err(refused_body)?;
    let entry = time_entries::create(pool, p, key, body).await?;
    Ok(json!({ "time_entry_id": entry.id }))
}
