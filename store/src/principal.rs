//! Who is calling: the tenant, key, role, user and (for client-portal keys) client an
//! operation runs for. Every store operation takes one and authorises with [`Principal::require`],
//! whichever protocol or process the call came from.

use crate::error::StoreError;
use psa_domain::auth::{Permission, Role};
use psa_domain::events::Actor;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant_id: Uuid,
    pub key_id: Uuid,
    pub role: Role,
    pub user_id: Option<Uuid>,
    /// Set for client-portal keys: the only client whose tickets they see.
    pub client_id: Option<Uuid>,
}

impl Principal {
    /// Fails with `Forbidden` unless the role allows `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), StoreError> {
        if self.role.allows(permission) {
            Ok(())
        } else {
            Err(StoreError::Forbidden(format!(
                "the {} role may not do this",
                self.role.as_str()
            )))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::ApiKey {
            key_id: self.key_id,
            user_id: self.user_id,
        }
    }

    /// The user the key acts for; per-user resources (notifications, preferences) need one.
    pub fn user(&self) -> Result<Uuid, StoreError> {
        self.user_id
            .ok_or_else(|| StoreError::Forbidden("this API key acts for no user".into()))
    }

    pub fn is_staff(&self) -> bool {
        self.role != Role::Client
    }
}

/// SHA-256 of a presented key, the form stored in `api_keys.secret_hash`.
pub fn hash_key(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

/// A new random API key: `psa_` and 32 bytes of randomness, hex-encoded.
pub fn generate_key() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("psa_{}", hex::encode(bytes))
}

/// The principal an API key acts as; `None` for unknown and revoked keys alike. Runs before
/// any tenant is known, through the one `SECURITY DEFINER` function `authenticate_api_key`.
pub async fn authenticate(pool: &PgPool, key: &str) -> Result<Option<Principal>, StoreError> {
    let row = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", key_id AS "key_id!", role AS "role!",
                  user_id, client_id
             FROM authenticate_api_key($1)"#,
        hash_key(key),
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(Principal {
        tenant_id: row.tenant_id,
        key_id: row.key_id,
        role: row.role.parse::<Role>().map_err(StoreError::internal)?,
        user_id: row.user_id,
        client_id: row.client_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_distinct_and_hash_stably() {
        let a = generate_key();
        assert!(a.starts_with("psa_") && a.len() == 68);
        assert_ne!(a, generate_key());
        assert_eq!(hash_key(&a), hash_key(&a));
        assert_eq!(hash_key(&a).len(), 32);
    }
}
