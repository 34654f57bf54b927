//! Who is calling: the API key from `Authorization: Bearer …` (or `X-Api-Key`), resolved by
//! `psa_store::principal::authenticate` to a [`Principal`], then charged against the key's rate.
//!
//! The same [`Principal`] comes out of the HTTP extractor ([`Caller`]) and the gRPC metadata
//! reader, so every rule downstream is written once.

use crate::state::AppState;
use crate::web::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
pub use psa_store::Principal;

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

/// Looks the key up; unknown and revoked keys are the same "unauthenticated".
pub async fn authenticate(state: &AppState, key: Option<String>) -> Result<Principal, ApiError> {
    let key = key
        .filter(|k| !k.is_empty())
        .ok_or(ApiError::Unauthenticated)?;
    let principal = psa_store::principal::authenticate(&state.pool, &key)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    state.key_rates.check(principal.key_id)?;
    Ok(principal)
}

/// The authenticated caller of an HTTP request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let key = key_from_headers(header("authorization"), header("x-api-key"));
        authenticate(state, key).await.map(Caller)
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
}
