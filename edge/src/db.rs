//! Tenant-scoped transactions: the only way request code reaches Postgres.

use crate::auth::Principal;
use crate::error::ApiError;
use sqlx::{PgPool, Postgres, Transaction};

pub type Tx = Transaction<'static, Postgres>;

/// Opens a transaction in which row-level security admits only the caller's tenant.
pub async fn begin(pool: &PgPool, principal: &Principal) -> Result<Tx, ApiError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(principal.tenant_id.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}
