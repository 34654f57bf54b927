//! `Idempotency-Key` for creates: a retried request with the same key replays the first answer
//! instead of writing twice. The key is saved in the same transaction as the work it guards, so
//! either both commit or neither does; a concurrent duplicate waits on the key's row lock.

use crate::error::StoreError;
use crate::outbox;
use crate::principal::Principal;
use crate::tenant;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

pub const MAX_KEY_LEN: usize = 255;

/// Runs `work` in one tenant transaction, once per `(api key, idempotency key)`.
///
/// `request` is fingerprinted: the same key with a different request is refused (422), because
/// replaying the first answer to it would be a lie.
pub async fn create_once<T, F>(
    pool: &PgPool,
    principal: &Principal,
    key: Option<&str>,
    request: &impl Serialize,
    work: F,
) -> Result<T, StoreError>
where
    T: Serialize + DeserializeOwned,
    F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, StoreError>>,
{
    let mut tx = tenant::begin(pool, principal).await?;
    let Some(key) = key else {
        let out = work(&mut tx).await?;
        outbox::commit(tx, pool).await?;
        return Ok(out);
    };
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(StoreError::bad_request(
            format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} characters"),
            Some("Idempotency-Key"),
        ));
    }
    let fingerprint =
        Sha256::digest(serde_json::to_vec(request).map_err(StoreError::internal)?).to_vec();
    let inserted = sqlx::query!(
        "INSERT INTO idempotency_keys (tenant_id, api_key_id, key, request_hash)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        principal.tenant_id,
        principal.key_id,
        key,
        &fingerprint,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        let saved = sqlx::query!(
            "SELECT request_hash, response_body FROM idempotency_keys
             WHERE tenant_id = $1 AND api_key_id = $2 AND key = $3",
            principal.tenant_id,
            principal.key_id,
            key,
        )
        .fetch_one(&mut *tx)
        .await?;
        if saved.request_hash != fingerprint {
            return Err(StoreError::invalid(
                "Idempotency-Key",
                "was already used with a different request",
            ));
        }
        let body = saved.response_body.ok_or_else(|| {
            StoreError::internal(anyhow::anyhow!("idempotency key saved without response"))
        })?;
        return serde_json::from_value(body).map_err(StoreError::internal);
    }
    let out = work(&mut tx).await?;
    sqlx::query!(
        "UPDATE idempotency_keys SET response_status = 201, response_body = $4
         WHERE tenant_id = $1 AND api_key_id = $2 AND key = $3",
        principal.tenant_id,
        principal.key_id,
        key,
        serde_json::to_value(&out).map_err(StoreError::internal)?,
    )
    .execute(&mut *tx)
    .await?;
    outbox::commit(tx, pool).await?;
    Ok(out)
}
