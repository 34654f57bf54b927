//! Clients (the MSP's customers) and their contacts.

use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::rows::{HasId, create_named, get, has_id, list};
use crate::tenant;
use chrono::{DateTime, Utc};
use psa_domain::auth::Permission;
use psa_domain::ids::new_id;
use psa_domain::ticket::NAME_MAX;
use psa_domain::validation::{self, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

/// A customer organisation of the MSP; tickets and contacts may belong to one.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
#[schema(example = json!({"id": "0190d9a0-1c2b-7c3d-8e4f-5a6b7c8d9e0f", "name": "Acme Ltd",
    "created_at": "2026-03-02T09:30:00Z", "updated_at": "2026-03-02T09:30:00Z"}))]
pub struct Client {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    #[schema(max_length = 200)]
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    #[schema(max_length = 200)]
    pub name: Option<String>,
}

/// A person at a client.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
#[schema(example = json!({"id": "0190d9a0-2d3e-7f40-8152-637485960a1b",
    "client_id": "0190d9a0-1c2b-7c3d-8e4f-5a6b7c8d9e0f", "name": "Jo Bloggs",
    "email": "jo@acme.example", "phone": "+44 20 7946 0000",
    "created_at": "2026-03-02T09:30:00Z", "updated_at": "2026-03-02T09:30:00Z"}))]
pub struct Contact {
    pub id: Uuid,
    pub client_id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub client_id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 50)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 50)]
    pub phone: Option<String>,
}

has_id!(Client);

const CLIENT_COLS: &str = "id, name, created_at, updated_at";
const CONTACT_COLS: &str = "id, client_id, name, email, phone, created_at, updated_at";

fn check_contact(
    name: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<(), StoreError> {
    let mut e = ValidationErrors::default();
    if let Some(n) = name {
        validation::text(&mut e, "name", n, NAME_MAX);
    }
    validation::optional_email(&mut e, "email", email);
    validation::optional_text(&mut e, "phone", phone, 50);
    crate::check(e.into_result())
}

pub async fn list_clients(
    pool: &PgPool,
    p: &Principal,
    page: PageRequest,
) -> Result<Page<Client>, StoreError> {
    list(pool, p, "clients", CLIENT_COLS, page).await
}

pub async fn get_client(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Client, StoreError> {
    get(pool, p, "clients", CLIENT_COLS, id).await
}

pub async fn create_client(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: ClientInput,
) -> Result<Client, StoreError> {
    p.require(Permission::WriteClients)?;
    check_contact(Some(&input.name), None, None)?;
    create_named(pool, p, key, "clients", CLIENT_COLS, input.name).await
}

pub async fn update_client(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    patch: ClientPatch,
) -> Result<Client, StoreError> {
    p.require(Permission::WriteClients)?;
    check_contact(patch.name.as_deref(), None, None)?;
    let mut tx = tenant::begin(pool, p).await?;
    let row: Option<Client> = sqlx::query_as(&format!(
        "UPDATE clients SET name = coalesce($2, name), updated_at = now() WHERE id = $1 RETURNING {CLIENT_COLS}"
    ))
    .bind(id)
    .bind(patch.name.as_deref().map(str::trim))
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.ok_or(StoreError::NotFound)
}

pub async fn list_contacts(
    pool: &PgPool,
    p: &Principal,
    client_id: Option<Uuid>,
    page: PageRequest,
) -> Result<Page<Contact>, StoreError> {
    p.require(Permission::ReadReference)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows: Vec<Contact> = sqlx::query_as(&format!(
        "SELECT {CONTACT_COLS} FROM contacts WHERE ($1::uuid IS NULL OR id > $1)
         AND ($2::uuid IS NULL OR client_id = $2) ORDER BY id LIMIT $3"
    ))
    .bind(page.after)
    .bind(client_id)
    .bind(page.fetch())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(page.finish(rows, |c| c.id))
}

pub async fn get_contact(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Contact, StoreError> {
    get(pool, p, "contacts", CONTACT_COLS, id).await
}

pub async fn create_contact(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: ContactInput,
) -> Result<Contact, StoreError> {
    p.require(Permission::WriteClients)?;
    check_contact(
        Some(&input.name),
        input.email.as_deref(),
        input.phone.as_deref(),
    )?;
    let (tenant, req) = (p.tenant_id, input.clone());
    create_once(pool, p, key, &req, move |conn| {
        Box::pin(async move {
            Ok(sqlx::query_as(&format!(
                "INSERT INTO contacts (tenant_id, id, client_id, name, email, phone)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING {CONTACT_COLS}"
            ))
            .bind(tenant)
            .bind(new_id())
            .bind(input.client_id)
            .bind(input.name.trim())
            .bind(input.email)
            .bind(input.phone)
            .fetch_one(conn)
            .await?)
        })
    })
    .await
}

pub async fn update_contact(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    patch: ContactPatch,
) -> Result<Contact, StoreError> {
    p.require(Permission::WriteClients)?;
    check_contact(
        patch.name.as_deref(),
        patch.email.as_deref(),
        patch.phone.as_deref(),
    )?;
    let mut tx = tenant::begin(pool, p).await?;
    let row: Option<Contact> = sqlx::query_as(&format!(
        "UPDATE contacts SET name = coalesce($2, name), email = coalesce($3, email), phone = coalesce($4, phone),
         updated_at = now() WHERE id = $1 RETURNING {CONTACT_COLS}"
    ))
    .bind(id)
    .bind(patch.name.as_deref().map(str::trim))
    .bind(patch.email)
    .bind(patch.phone)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.ok_or(StoreError::NotFound)
}
