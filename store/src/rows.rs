//! What every simple table's operations share: reading reference data in a tenant transaction,
//! pages keyed by ID, and the one default row per tenant.
//!
//! The SQL itself stays with each feature, one compile-checked query per table: no table or
//! column name is ever put into SQL from a variable.

use crate::error::StoreError;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use futures::future::BoxFuture;
use psa_domain::auth::Permission;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Runs `query` in a tenant transaction for a caller allowed to read reference data.
pub(crate) async fn read<T, F>(pool: &PgPool, p: &Principal, query: F) -> Result<T, StoreError>
where
    F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, sqlx::Error>>,
{
    p.require(Permission::ReadReference)?;
    let mut tx = tenant::begin(pool, p).await?;
    let out = query(&mut tx).await?;
    tx.commit().await?;
    Ok(out)
}

/// One page of reference rows: `query` fetches `page.fetch()` rows after `page.after`, in ID
/// (creation) order.
pub(crate) async fn list<T, F>(
    pool: &PgPool,
    p: &Principal,
    page: PageRequest,
    query: F,
) -> Result<Page<T>, StoreError>
where
    T: HasId,
    F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<Vec<T>, sqlx::Error>>,
{
    let rows = read(pool, p, query).await?;
    Ok(page.finish(rows, HasId::id))
}

/// One reference row by ID; `NotFound` when `query` finds none.
pub(crate) async fn get<T, F>(pool: &PgPool, p: &Principal, query: F) -> Result<T, StoreError>
where
    F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<Option<T>, sqlx::Error>>,
{
    read(pool, p, query).await?.ok_or(StoreError::NotFound)
}

/// Rows with a UUIDv7 key, for cursor pagination.
pub trait HasId {
    fn id(&self) -> Uuid;
}

macro_rules! has_id {
    ($($t:ty),*) => { $(impl HasId for $t { fn id(&self) -> Uuid { self.id } })* };
}
pub(crate) use has_id;

/// The tables that keep one default row per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DefaultTable {
    Statuses,
    BusinessHoursSchedules,
    SlaPolicies,
}

impl DefaultTable {
    /// The row `id` takes over as the default: every other row stops being it. Call it before
    /// writing `id` as the default.
    pub(crate) async fn take(self, conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
        match self {
            DefaultTable::Statuses => {
                sqlx::query!(
                    "UPDATE statuses SET is_default = false WHERE is_default AND id <> $1",
                    id
                )
                .execute(conn)
                .await?
            }
            DefaultTable::BusinessHoursSchedules => {
                sqlx::query!(
                    "UPDATE business_hours_schedules SET is_default = false
                     WHERE is_default AND id <> $1",
                    id
                )
                .execute(conn)
                .await?
            }
            DefaultTable::SlaPolicies => {
                sqlx::query!(
                    "UPDATE sla_policies SET is_default = false WHERE is_default AND id <> $1",
                    id
                )
                .execute(conn)
                .await?
            }
        };
        Ok(())
    }
}
