//! Who is calling: API keys, hashed at rest, scoped to a tenant and a role.
//!
//! The same [`Principal`] comes out of the HTTP extractor and the gRPC metadata reader, so
//! every rule downstream is written once.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use psa_domain::auth::{Permission, Role};
use psa_domain::events::Actor;
use sha2::{Digest, Sha256};
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
    /// Fails with 403 unless the role allows `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.role.allows(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
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
    pub fn user(&self) -> Result<Uuid, ApiError> {
        self.user_id
            .ok_or_else(|| ApiError::Forbidden("this API key acts for no user".into()))
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

/// Extracts the key from `Authorization: Bearer …` (or `X-Api-Key`).
pub fn key_from_headers(authorization: Option<&str>, x_api_key: Option<&str>) -> Option<String> {
    if let Some(v) = authorization {
        let (scheme, rest) = v.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| rest.trim().to_owned());
    }
    x_api_key.map(|k| k.trim().to_owned())
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    tenant_id: Uuid,
    key_id: Uuid,
    role: String,
    user_id: Option<Uuid>,
    client_id: Option<Uuid>,
}

/// Looks the key up; unknown and revoked keys are the same "unauthenticated".
pub async fn authenticate(state: &AppState, key: Option<String>) -> Result<Principal, ApiError> {
    let key = key
        .filter(|k| !k.is_empty())
        .ok_or(ApiError::Unauthenticated)?;
    let row: Option<KeyRow> = sqlx::query_as(
        "SELECT tenant_id, key_id, role, user_id, client_id FROM authenticate_api_key($1)",
    )
    .bind(hash_key(&key))
    .fetch_optional(&state.pool)
    .await?;
    let KeyRow {
        tenant_id,
        key_id,
        role,
        user_id,
        client_id,
    } = row.ok_or(ApiError::Unauthenticated)?;
    let role = role.parse::<Role>().map_err(ApiError::internal)?;
    state.key_rates.check(key_id)?;
    Ok(Principal {
        tenant_id,
        key_id,
        role,
        user_id,
        client_id,
    })
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let key = key_from_headers(header("authorization"), header("x-api-key"));
        authenticate(state, key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_bearer_or_x_api_key() {
        assert_eq!(
            key_from_headers(Some("Bearer abc"), None).as_deref(),
            Some("abc")
        );
        assert_eq!(
            key_from_headers(Some("bearer  abc "), None).as_deref(),
            Some("abc")
        );
        assert_eq!(key_from_headers(Some("Basic abc"), None), None);
        assert_eq!(key_from_headers(None, Some("k")).as_deref(), Some("k"));
        assert_eq!(key_from_headers(None, None), None);
    }

    #[test]
    fn generated_keys_are_distinct_and_hash_stably() {
        let a = generate_key();
        assert!(a.starts_with("psa_") && a.len() == 68);
        assert_ne!(a, generate_key());
        assert_eq!(hash_key(&a), hash_key(&a));
        assert_eq!(hash_key(&a).len(), 32);
    }
}
