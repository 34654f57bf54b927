//! Tenant-scoped transactions for activities.

use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// Opens a transaction in which row-level security admits only `tenant_id`'s rows.
pub async fn begin_tenant(
    pool: &PgPool,
    tenant_id: Uuid,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(tenant_id.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}
