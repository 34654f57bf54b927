//! The action catalogue (`psa_domain::automations::catalogue`) done for real: each action
//! through the same store functions the edge API calls, as the automation's owner, so every
//! rule and permission holds and no run reaches another tenant. Creates pass the step's
//! idempotency key to the store, so a retried action creates once.

mod http;
mod messages;
mod records;
mod tickets;
mod work;

pub use http::Http;

use psa_domain::automations::run::ActionRequest;
use psa_store::error::StoreError;
use psa_store::{PgPool, Principal};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

/// Why an action did not happen.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The same call may work later (the database restarting, a webhook timing out).
    Retry(String),
    /// No attempt can change the answer (not allowed, not found, invalid input).
    Refused(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        if e.is_transient() {
            Failure::Retry(e.to_string())
        } else if let StoreError::Internal(_) = e {
            // Internal errors are logged where they happen; retried like an outage.
            Failure::Retry("internal error".into())
        } else {
            Failure::Refused(describe(&e))
        }
    }
}

/// A store refusal in words, with the fields it names.
fn describe(e: &StoreError) -> String {
    match e {
        StoreError::Invalid(v) | StoreError::Malformed(v) => {
            let fields: Vec<String> =
                v.0.iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect();
            format!("invalid input ({})", fields.join("; "))
        }
        StoreError::NotFound => "not found".into(),
        other => other.to_string(),
    }
}

/// Runs `req`'s action as `p`.
pub async fn run(
    pool: &PgPool,
    http: &Http,
    p: &Principal,
    req: &ActionRequest,
) -> Result<Json, Failure> {
    let input = Input::new(&req.input)?;
    let key = Some(req.key.as_str());
    match req.action.as_str() {
        "tickets.create" => tickets::create(pool, p, key, &input).await,
        "tickets.update" => tickets::update(pool, p, &input).await,
        "tickets.change_status" => tickets::change_status(pool, p, &input).await,
        "tickets.assign" => tickets::assign(pool, p, &input).await,
        "tickets.add_comment" => tickets::add_comment(pool, p, key, &input).await,
        "tickets.close" => tickets::close(pool, p, &input).await,
        "tickets.find" => tickets::find(pool, p, &input).await,
        "clients.create" => records::create_client(pool, p, key, &input).await,
        "clients.update" => records::update_client(pool, p, &input).await,
        "contacts.create" => records::create_contact(pool, p, key, &input).await,
        "contacts.update" => records::update_contact(pool, p, &input).await,
        "clients.find" => records::find_clients(pool, p, &input).await,
        "contacts.find" => records::find_contacts(pool, p, &input).await,
        "schedule_entries.create" => work::create_schedule_entry(pool, p, key, &input).await,
        "time_entries.create" => work::create_time_entry(pool, p, key, &input).await,
        "notifications.send_email" => {
            messages::send(pool, p, key, req.automation_id, &input, "email").await
        }
        "notifications.send_contact_email" => {
            messages::send_to_contact(pool, p, key, req.automation_id, &input).await
        }
        "notifications.notify_in_app" => {
            messages::send(pool, p, key, req.automation_id, &input, "in_app").await
        }
        "http.request" => http.request(pool, p, &req.key, &input).await,
        other => Err(Failure::Refused(format!(
            "the action {other} is not available on this worker"
        ))),
    }
}

/// An action's input object, read field by field.
pub(crate) struct Input<'a>(&'a Map<String, Json>);

impl<'a> Input<'a> {
    fn new(input: &'a Json) -> Result<Self, Failure> {
        input
            .as_object()
            .map(Input)
            .ok_or_else(|| Failure::Refused("the input must be an object".into()))
    }

    fn get(&self, name: &str) -> Option<&'a Json> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub(crate) fn string(&self, name: &str) -> Result<Option<&'a str>, Failure> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s)),
            Some(_) => Err(refused(name, "must be a string")),
        }
    }

    pub(crate) fn required_string(&self, name: &str) -> Result<&'a str, Failure> {
        self.string(name)?
            .ok_or_else(|| refused(name, "is required"))
    }

    pub(crate) fn uuid(&self, name: &str) -> Result<Option<Uuid>, Failure> {
        self.string(name)?
            .map(|s| s.parse().map_err(|_| refused(name, "must be a UUID")))
            .transpose()
    }

    pub(crate) fn required_uuid(&self, name: &str) -> Result<Uuid, Failure> {
        self.uuid(name)?.ok_or_else(|| refused(name, "is required"))
    }

    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, Failure> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(refused(name, "must be a boolean")),
        }
    }

    pub(crate) fn integer(&self, name: &str) -> Result<Option<i64>, Failure> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| refused(name, "must be an integer")),
        }
    }

    pub(crate) fn value(&self, name: &str) -> Option<&'a Json> {
        self.get(name)
    }

    pub(crate) fn all(&self) -> &'a Map<String, Json> {
        self.0
    }
}

pub(crate) fn refused(field: &str, reason: &str) -> Failure {
    Failure::Refused(format!("input {field} {reason}"))
}
