//! Reading reference rows by ID and in pages: the same two queries for every simple table.

use crate::auth::Principal;
use crate::db;
use crate::error::ApiError;
use crate::pagination::{Page, PageRequest};
use psa_domain::auth::Permission;
use sqlx::PgPool;
use uuid::Uuid;

/// Lists `table`'s rows after the cursor, in creation order.
pub(crate) async fn list<T>(
    pool: &PgPool,
    p: &Principal,
    table: &str,
    cols: &str,
    page: PageRequest,
) -> Result<Page<T>, ApiError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin + HasId,
{
    p.require(Permission::ReadReference)?;
    let mut tx = db::begin(pool, p).await?;
    let rows: Vec<T> = sqlx::query_as(&format!(
        "SELECT {cols} FROM {table} WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2"
    ))
    .bind(page.after)
    .bind(page.fetch())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(page.finish(rows, HasId::id))
}

pub(crate) async fn get<T>(
    pool: &PgPool,
    p: &Principal,
    table: &str,
    cols: &str,
    id: Uuid,
) -> Result<T, ApiError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    p.require(Permission::ReadReference)?;
    let mut tx = db::begin(pool, p).await?;
    let row: Option<T> = sqlx::query_as(&format!("SELECT {cols} FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    row.ok_or(ApiError::NotFound)
}

/// Rows with a UUIDv7 key, for cursor pagination.
pub trait HasId {
    fn id(&self) -> Uuid;
}

macro_rules! has_id {
    ($($t:ty),*) => { $(impl HasId for $t { fn id(&self) -> Uuid { self.id } })* };
}
pub(crate) use has_id;
