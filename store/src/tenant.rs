//! Tenant-scoped transactions: the only way store code reaches tenant data.

use crate::error::StoreError;
use crate::principal::Principal;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

pub type Tx = Transaction<'static, Postgres>;

/// Opens a transaction in which row-level security admits only the caller's tenant.
pub async fn begin(pool: &PgPool, principal: &Principal) -> Result<Tx, StoreError> {
    Ok(begin_for(pool, principal.tenant_id).await?)
}

/// Opens a transaction scoped to `tenant_id`, for work the system does on a tenant's behalf
/// (workflow activities, background jobs) rather than for a caller.
pub async fn begin_for(pool: &PgPool, tenant_id: Uuid) -> Result<Tx, sqlx::Error> {
    // One round trip for both: this runs before every tenant query. The id is written into
    // the statement because a `BEGIN` takes no parameters; a `Uuid` prints as hex digits and
    // hyphens only, so nothing else can reach the SQL.
    pool.begin_with(format!(
        "BEGIN; SELECT set_config('app.tenant_id', '{}', true)",
        tenant_id.as_hyphenated()
    ))
    .await
}
