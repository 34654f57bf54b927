//! Clients (the MSP's customers) and their contacts.

use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::nullable::nullable;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::rows::{HasId, get, has_id, list};
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
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0190d9a0-1c2b-7c3d-8e4f-5a6b7c8d9e0f", "name": "Acme Ltd",
    "billing_contact_id": null,
    "created_at": "2026-03-02T09:30:00Z", "updated_at": "2026-03-02T09:30:00Z"}))]
pub struct Client {
    pub id: Uuid,
    pub name: String,
    /// The contact (one of the client's own) its invoices, payment receipts, reminders and
    /// credit notices are e-mailed to; none: they are not e-mailed.
    pub billing_contact_id: Option<Uuid>,
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
    /// One of the client's contacts; `null` stops billing e-mail.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub billing_contact_id: Option<Option<Uuid>>,
}

/// A person at a client.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
    list(pool, p, page, |c| {
        Box::pin(
            sqlx::query_as!(
                Client,
                "SELECT id, name, billing_contact_id, created_at, updated_at FROM clients
                 WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2",
                page.after,
                page.fetch(),
            )
            .fetch_all(c),
        )
    })
    .await
}

pub async fn get_client(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Client, StoreError> {
    get(pool, p, |c| {
        Box::pin(
            sqlx::query_as!(
                Client,
                "SELECT id, name, billing_contact_id, created_at, updated_at FROM clients WHERE id = $1",
                id
            )
            .fetch_optional(c),
        )
    })
    .await
}

pub async fn create_client(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: ClientInput,
) -> Result<Client, StoreError> {
    p.require(Permission::WriteClients)?;
    check_contact(Some(&input.name), None, None)?;
    let tenant = p.tenant_id;
    // The fingerprint names the table, so one key cannot replay a client as a board.
    let request = serde_json::json!({ "table": "clients", "name": input.name });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            Ok(sqlx::query_as!(
                Client,
                "INSERT INTO clients (tenant_id, id, name) VALUES ($1, $2, $3)
                 RETURNING id, name, billing_contact_id, created_at, updated_at",
                tenant,
                new_id(),
                input.name.trim(),
            )
            .fetch_one(conn)
            .await?)
        })
    })
    .await
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
    let row = sqlx::query_as!(
        Client,
        "UPDATE clients SET name = coalesce($2, name),
                billing_contact_id = CASE WHEN $3 THEN $4 ELSE billing_contact_id END,
                updated_at = now()
         WHERE id = $1
         RETURNING id, name, billing_contact_id, created_at, updated_at",
        id,
        patch.name.as_deref().map(str::trim),
        patch.billing_contact_id.is_some(),
        patch.billing_contact_id.flatten(),
    )
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
    let rows = sqlx::query_as!(
        Contact,
        "SELECT id, client_id, name, email, phone, created_at, updated_at FROM contacts
         WHERE ($1::uuid IS NULL OR id > $1) AND ($2::uuid IS NULL OR client_id = $2)
         ORDER BY id LIMIT $3",
        page.after,
        client_id,
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(page.finish(rows, |c| c.id))
}

pub async fn get_contact(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Contact, StoreError> {
    get(pool, p, |c| {
        Box::pin(
            sqlx::query_as!(
                Contact,
                "SELECT id, client_id, name, email, phone, created_at, updated_at
                 FROM contacts WHERE id = $1",
                id
            )
            .fetch_optional(c),
        )
    })
    .await
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
            Ok(sqlx::query_as!(
                Contact,
                "INSERT INTO contacts (tenant_id, id, client_id, name, email, phone)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 RETURNING id, client_id, name, email, phone, created_at, updated_at",
                tenant,
                new_id(),
                input.client_id,
                input.name.trim(),
                input.email,
                input.phone,
            )
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
    let row = sqlx::query_as!(
        Contact,
        "UPDATE contacts SET name = coalesce($2, name), email = coalesce($3, email),
                phone = coalesce($4, phone), updated_at = now()
         WHERE id = $1
         RETURNING id, client_id, name, email, phone, created_at, updated_at",
        id,
        patch.name.as_deref().map(str::trim),
        patch.email,
        patch.phone,
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.ok_or(StoreError::NotFound)
}
