//! Client and contact actions, through the API's store functions (finds through
//! `action_reads`).

use super::{Failure, Input};
use psa_store::automations::action_reads;
use psa_store::clients::{self, ClientInput, ClientPatch, ContactInput, ContactPatch};
use psa_store::{PgPool, Principal};
use serde_json::{Value as Json, json};

fn client(c: clients::Client) -> Json {
    json!({ "client_id": c.id, "name": c.name })
}

fn contact(c: clients::Contact) -> Json {
    json!({ "contact_id": c.id, "name": c.name, "email": c.email })
}

pub(super) async fn create_client(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: &Input<'_>,
) -> Result<Json, Failure> {
    let new = ClientInput {
        name: input.required_string("name")?.to_owned(),
    };
    Ok(client(clients::create_client(pool, p, key, new).await?))
}

pub(super) async fn update_client(
    pool: &PgPool,
    p: &Principal,
    input: &Input<'_>,
) -> Result<Json, Failure> {
    let id = input.required_uuid("client_id")?;
    let patch = ClientPatch {
        name: input.string("name")?.map(str::to_owned),
        billing_contact_id: input.uuid("billing_contact_id")?.map(Some),
    };
    Ok(client(clients::update_client(pool, p, id, patch).await?))
}

pub(super) async fn create_contact(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: &Input<'_>,
) -> Result<Json, Failure> {
    let new = ContactInput {
        client_id: input.required_uuid("client_id")?,
        name: input.required_string("name")?.to_owned(),
        email: input.string("email")?.map(str::to_owned),
        phone: None,
    };
    Ok(contact(clients::create_contact(pool, p, key, new).await?))
}

pub(super) async fn update_contact(
    pool: &PgPool,
    p: &Principal,
    input: &Input<'_>,
) -> Result<Json, Failure> {
    let id = input.required_uuid("contact_id")?;
    let patch = ContactPatch {
        name: input.string("name")?.map(str::to_owned),
        email: input.string("email")?.map(str::to_owned),
        phone: None,
    };
    Ok(contact(clients::update_contact(pool, p, id, patch).await?))
}

pub(super) async fn find_clients(
    pool: &PgPool,
    p: &Principal,
    input: &Input<'_>,
) -> Result<Json, Failure> {
    Ok(action_reads::find_clients(pool, p, input.string("name")?).await?)
}

pub(super) async fn find_contacts(
    pool: &PgPool,
    p: &Principal,
    input: &Input<'_>,
) -> Result<Json, Failure> {
    let client = input.uuid("client_id")?;
    Ok(action_reads::find_contacts(pool, p, client, input.string("email")?).await?)
}
