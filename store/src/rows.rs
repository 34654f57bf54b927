//! The queries every simple table shares: read by ID, read in pages, create from a name.

use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use psa_domain::auth::Permission;
use psa_domain::ids::new_id;
use sqlx::PgPool;
use uuid::Uuid;

/// Lists `table`'s rows after the cursor, in creation order.
pub(crate) async fn list<T>(
    pool: &PgPool,
    p: &Principal,
    table: &str,
    cols: &str,
    page: PageRequest,
) -> Result<Page<T>, StoreError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin + HasId,
{
    p.require(Permission::ReadReference)?;
    let mut tx = tenant::begin(pool, p).await?;
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
) -> Result<T, StoreError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    p.require(Permission::ReadReference)?;
    let mut tx = tenant::begin(pool, p).await?;
    let row: Option<T> = sqlx::query_as(&format!("SELECT {cols} FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    row.ok_or(StoreError::NotFound)
}

/// Rows with a UUIDv7 key, for cursor pagination.
pub trait HasId {
    fn id(&self) -> Uuid;
}

macro_rules! has_id {
    ($($t:ty),*) => { $(impl HasId for $t { fn id(&self) -> Uuid { self.id } })* };
}
pub(crate) use has_id;

/// Creates a row that is just a name in `table` (boards, clients), once per idempotency key.
/// The caller has authorised and validated.
pub(crate) async fn create_named<T>(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    table: &'static str,
    cols: &'static str,
    name: String,
) -> Result<T, StoreError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + serde::Serialize
        + serde::de::DeserializeOwned
        + Send
        + Unpin,
{
    let tenant = p.tenant_id;
    let request = serde_json::json!({ "table": table, "name": name });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            Ok(sqlx::query_as(&format!(
                "INSERT INTO {table} (tenant_id, id, name) VALUES ($1, $2, $3) RETURNING {cols}"
            ))
            .bind(tenant)
            .bind(new_id())
            .bind(name.trim())
            .fetch_one(conn)
            .await?)
        })
    })
    .await
}

/// One default per tenant in `table` (statuses, schedules, policies): the row `id` takes over,
/// every other row stops being the default. Call it before writing `id` as the default.
pub(crate) async fn take_default(
    conn: &mut sqlx::PgConnection,
    table: &str,
    id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "UPDATE {table} SET is_default = false WHERE is_default AND id <> $1"
    ))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}
