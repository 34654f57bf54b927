//! Seeding a tenant with a working set of reference data and an admin API key.
//!
//! `psa-edge seed-demo` uses it for the bring-up's demo tenant; the tests use it for every
//! tenant they create. Idempotent: running it again changes nothing.

use crate::principal::hash_key;
use psa_domain::ids::new_id;
use sqlx::PgPool;
use uuid::Uuid;

/// What a seeded tenant contains, for callers that go on to use it.
#[derive(Debug, Clone)]
pub struct SeededTenant {
    pub tenant_id: Uuid,
    pub admin_user_id: Uuid,
    pub technician_user_id: Uuid,
    pub client_id: Uuid,
    pub contact_id: Uuid,
    pub board_id: Uuid,
    /// P1 (most urgent) to P4.
    pub priority_ids: Vec<Uuid>,
    pub status_new: Uuid,
    pub status_in_progress: Uuid,
    pub status_waiting: Uuid,
    pub status_closed: Uuid,
    /// "Remote support", billed by the hour (USD 150.00 by default).
    pub service_id: Uuid,
    /// "Managed services": a monthly fee of 500.00 and remote support by the hour. No client
    /// is on it.
    pub contract_id: Uuid,
}

/// Seeds tenant `slug` as the schema owner (`pool` must bypass row-level security) with an
/// admin API key equal to `admin_api_key`.
pub async fn seed_tenant(
    pool: &PgPool,
    slug: &str,
    name: &str,
    admin_api_key: &str,
) -> Result<SeededTenant, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let tenant_id = sqlx::query_scalar!(
        "INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3)
         ON CONFLICT (slug) DO UPDATE SET name = tenants.name RETURNING id",
        new_id(),
        slug,
        name,
    )
    .fetch_one(&mut *tx)
    .await?;

    // Each named row is found again by its name on a second run (the upserts change nothing).
    let client_id = match sqlx::query_scalar!(
        "SELECT id FROM clients WHERE tenant_id = $1 AND name = 'Acme Corp'",
        tenant_id
    )
    .fetch_optional(&mut *tx)
    .await?
    {
        Some(id) => id,
        None => sqlx::query_scalar!(
            "INSERT INTO clients (tenant_id, id, name) VALUES ($1, $2, 'Acme Corp') RETURNING id",
            tenant_id,
            new_id(),
        )
        .fetch_one(&mut *tx)
        .await?,
    };
    let contact_id = match sqlx::query_scalar!(
        "SELECT id FROM contacts WHERE tenant_id = $1 AND client_id = $2 AND name = 'Dana Reyes'",
        tenant_id,
        client_id,
    )
    .fetch_optional(&mut *tx)
    .await?
    {
        Some(id) => id,
        None => {
            sqlx::query_scalar!(
                "INSERT INTO contacts (tenant_id, id, client_id, name, email)
                 VALUES ($1, $2, $3, 'Dana Reyes', 'dana@acme.example') RETURNING id",
                tenant_id,
                new_id(),
                client_id,
            )
            .fetch_one(&mut *tx)
            .await?
        }
    };

    let mut user = async |email: &str, display: &str| -> Result<Uuid, sqlx::Error> {
        sqlx::query_scalar!(
            "INSERT INTO users (tenant_id, id, email, display_name, kind) VALUES ($1, $2, $3, $4, 'internal')
             ON CONFLICT (tenant_id, lower(email)) DO UPDATE SET display_name = users.display_name RETURNING id",
            tenant_id,
            new_id(),
            email,
            display,
        )
        .fetch_one(&mut *tx)
        .await
    };
    let admin_user_id = user(&format!("admin@{slug}.example"), "Admin").await?;
    let technician_user_id = user(&format!("tech@{slug}.example"), "Terry Tech").await?;

    let board_id = sqlx::query_scalar!(
        "INSERT INTO boards (tenant_id, id, name) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id, lower(name)) DO UPDATE SET name = boards.name RETURNING id",
        tenant_id,
        new_id(),
        "Service Desk",
    )
    .fetch_one(&mut *tx)
    .await?;

    let mut priority_ids = Vec::new();
    // Ranks count from 1 (P1 first).
    for (rank, p) in (1i32..).zip(["P1", "P2", "P3", "P4"]) {
        let id = sqlx::query_scalar!(
            "INSERT INTO priorities (tenant_id, id, name, rank) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant_id, lower(name)) DO UPDATE SET name = priorities.name RETURNING id",
            tenant_id,
            new_id(),
            p,
            rank,
        )
        .fetch_one(&mut *tx)
        .await?;
        priority_ids.push(id);
    }

    let mut status = async |name: &str,
                            closed: bool,
                            pauses: bool,
                            default: bool,
                            position: i32|
           -> Result<Uuid, sqlx::Error> {
        sqlx::query_scalar!(
            "INSERT INTO statuses (tenant_id, id, name, is_closed, pauses_sla, is_default, position)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (tenant_id, lower(name)) DO UPDATE SET name = statuses.name RETURNING id",
            tenant_id,
            new_id(),
            name,
            closed,
            pauses,
            default,
            position,
        )
        .fetch_one(&mut *tx)
        .await
    };
    let status_new = status("New", false, false, true, 1).await?;
    let status_in_progress = status("In Progress", false, false, false, 2).await?;
    let status_waiting = status("Waiting on Client", false, true, false, 3).await?;
    let status_closed = status("Closed", true, false, false, 4).await?;

    let service_id = sqlx::query_scalar!(
        r#"INSERT INTO services (tenant_id, id, name, unit, rates)
           VALUES ($1, $2, 'Remote support', 'hour', '{"USD": "150.00"}'::jsonb)
           ON CONFLICT (tenant_id, lower(name)) DO UPDATE SET name = services.name RETURNING id"#,
        tenant_id,
        new_id(),
    )
    .fetch_one(&mut *tx)
    .await?;
    let contract_id = sqlx::query_scalar!(
        "INSERT INTO contracts (tenant_id, id, name, description)
         VALUES ($1, $2, 'Managed services', 'A monthly fee and remote support by the hour')
         ON CONFLICT (tenant_id, lower(name)) DO UPDATE SET name = contracts.name RETURNING id",
        tenant_id,
        new_id(),
    )
    .fetch_one(&mut *tx)
    .await?;
    // Lines only for a contract made just now: a second run leaves them as they are.
    sqlx::query!(
        r#"INSERT INTO contract_lines (tenant_id, id, contract_id, position, kind, service_id, terms)
           SELECT $1, v.id, $3, v.position, v.kind, v.service_id, v.terms
           FROM (VALUES ($2::uuid, 1, 'fixed', NULL::uuid, '{"amount": "500.00"}'::jsonb),
                        ($4::uuid, 2, 'hourly', $5::uuid,
                         '{"minimum_minutes": 15, "round_up_to_minutes": 15}'::jsonb))
                AS v (id, position, kind, service_id, terms)
           WHERE NOT EXISTS (SELECT 1 FROM contract_lines WHERE contract_id = $3)"#,
        tenant_id,
        new_id(),
        contract_id,
        new_id(),
        service_id,
    )
    .execute(&mut *tx)
    .await?;

    sqlx::query!(
        "INSERT INTO api_keys (tenant_id, id, name, secret_hash, role, user_id)
         VALUES ($1, $2, 'admin', $3, 'admin', $4) ON CONFLICT (secret_hash) DO NOTHING",
        tenant_id,
        new_id(),
        hash_key(admin_api_key),
        admin_user_id,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    Ok(SeededTenant {
        tenant_id,
        admin_user_id,
        technician_user_id,
        client_id,
        contact_id,
        board_id,
        priority_ids,
        status_new,
        status_in_progress,
        status_waiting,
        status_closed,
        service_id,
        contract_id,
    })
}

/// Adds an API key with `role` to a seeded tenant (tests use it for role checks). A client
/// key is bound to `client_id`.
pub async fn add_api_key(
    pool: &PgPool,
    tenant_id: Uuid,
    key: &str,
    role: &str,
    user_id: Option<Uuid>,
    client_id: Option<Uuid>,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO api_keys (tenant_id, id, name, secret_hash, role, user_id, client_id)
         VALUES ($1, $2, $3, $4, $3, $5, $6) RETURNING id",
        tenant_id,
        new_id(),
        role,
        hash_key(key),
        user_id,
        client_id,
    )
    .fetch_one(pool)
    .await
}
