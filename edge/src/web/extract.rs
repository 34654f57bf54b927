//! Extractors whose rejections are problem+json like every other error.

use crate::state::AppState;
use crate::web::error::ApiError;
use crate::web::json_guard;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

/// A JSON body; malformed JSON, unknown, missing or mistyped fields, a wrong content type and an
/// oversize body are all clear 4xx answers naming what is wrong.
///
/// A request without a body (zero bytes) is read as `{}`, whatever its `Content-Type`: an
/// action whose fields are all optional (`POST /v1/tickets/{id}/close`) needs none, and one with
/// a required field answers 400 naming it rather than 415 for a body nobody sent.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let body = json_body(req, state, state.config.body_limit).await?;
        from_json(&body).map(ApiJson)
    }
}

/// Largest body of the operations that take whole documents to compute over (an invoice
/// preview with thousands of time entries), where `EDGE_BODY_LIMIT_BYTES` is too small. Their
/// routes carry `DefaultBodyLimit::max(LARGE_BODY_LIMIT)` and read the body with [`LargeJson`].
pub const LARGE_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// [`ApiJson`] for a route whose body may reach [`LARGE_BODY_LIMIT`].
pub struct LargeJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for LargeJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limit = LARGE_BODY_LIMIT.max(state.config.body_limit);
        let body = json_body(req, state, limit).await?;
        from_json(&body).map(LargeJson)
    }
}

/// A JSON body's bytes, checked by [`json_guard`]; `limit` is the route's, for the 413.
async fn json_body(req: Request, state: &AppState, limit: usize) -> Result<Bytes, ApiError> {
    let json = is_json(req.headers());
    // A body announced as something else is refused before it is read.
    if !json && declared_length(req.headers()).is_some_and(|n| n > 0) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body = Bytes::from_request(req, state).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit }
        } else {
            ApiError::bad_request(r.body_text(), Some("body"))
        }
    })?;
    let body = if body.is_empty() {
        Bytes::from_static(b"{}")
    } else if !json {
        return Err(ApiError::UnsupportedMediaType);
    } else {
        body
    };
    json_guard::check(&body)?;
    Ok(body)
}

/// `Content-Length`, when the request states it.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// `application/json` or any `application/*+json`, parameters ignored (what axum's `Json`
/// accepts).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads a body as `T`: JSON that does not parse is a 400 about `body`; a value of the wrong
/// type, a missing or an unknown field is a 400 naming the field by its path.
fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        if e.inner().is_data() {
            let message = without_position(e.inner());
            field_error(&e.path().to_string(), message, "body")
        } else {
            ApiError::bad_request(format!("malformed JSON: {}", e.inner()), Some("body"))
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}"), Some("body")))?;
    Ok(value)
}

/// serde_json's message without its " at line 1 column 17" (the path names the field).
fn without_position(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    message
        .strip_suffix(&suffix)
        .map_or_else(|| message.clone(), str::to_owned)
}

/// Query parameters; a malformed, unknown or repeated one is a 400 naming the parameter
/// (`?limit=abc` names `limit`).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| field_error(&e.path().to_string(), e.inner().to_string(), "query"))
    }
}

/// A path parameter; a malformed ID is a 404, as an ID that names nothing is.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|_: PathRejection| ApiError::NotFound)
    }
}

/// The optional `Idempotency-Key` header.
pub struct IdempotencyKey(pub Option<String>);

impl FromRequestParts<AppState> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match parts.headers.get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(v) => v
                .to_str()
                .map(|s| IdempotencyKey(Some(s.to_owned())))
                .map_err(|_| {
                    ApiError::bad_request(
                        "Idempotency-Key must be visible ASCII",
                        Some("Idempotency-Key"),
                    )
                }),
        }
    }
}

/// Reads a JSON value (already taken by [`ApiJson`]) as `T`, naming the field at fault
/// (`schedule.hours[0].start`) in a 400 when it is missing, unknown or of the wrong type.
pub fn typed<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| field_error(&e.path().to_string(), e.inner().to_string(), "body"))
}

/// A 400 whose `errors` entry names the field serde stopped at: its path (`targets[0].percent`),
/// or for "missing field `x`", "unknown field `x`" and "duplicate field `x`" the field inside
/// the object the path names; `whole` (`body`, `query`) when nothing narrower is known.
fn field_error(path: &str, message: String, whole: &str) -> ApiError {
    let named = ["missing field `", "unknown field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| {
            let rest = message.strip_prefix(prefix)?;
            rest.split_once('`').map(|(name, _)| name.to_owned())
        });
    let field = match (path, named) {
        ("." | "", Some(name)) => name,
        ("." | "", None) => whole.to_owned(),
        (p, Some(name)) if !p.ends_with(&name) => format!("{p}.{name}"),
        (p, _) => p.to_owned(),
    };
    let mut errors = psa_domain::validation::ValidationErrors::default();
    errors.push(&field, message);
    ApiError::Malformed(errors)
}
