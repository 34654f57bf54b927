//! Every failure the API can answer with, mapped once to HTTP problem+json and gRPC status.
//! The store's errors arrive as [`StoreError`] and map one to one.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use psa_domain::automations::Issue;
use psa_domain::validation::{FieldError, ValidationErrors};
use psa_store::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or invalid credentials")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    /// The request is malformed (bad JSON, unknown fields, bad cursor).
    #[error("{detail}")]
    BadRequest {
        detail: String,
        field: Option<String>,
    },
    /// Well-formed but invalid field values.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// A request that cannot be answered as asked, field by field (a 400, where a stored
    /// record's rules would be a 422).
    #[error("{0}")]
    Malformed(ValidationErrors),
    #[error("{detail}")]
    Conflict {
        detail: String,
        field: Option<String>,
    },
    /// An automation definition (or the rest of a dry run's request) that does not validate:
    /// 422 with every error at once, each a JSON pointer and a reason.
    #[error("{detail}")]
    Pointed {
        detail: &'static str,
        issues: Vec<Issue>,
    },
    /// A schedule write would double-book an assignee: 409 listing the overlaps in
    /// `conflicts` (gRPC FAILED_PRECONDITION with the list as the message's detail).
    #[error(
        "the entry overlaps other appointments of its assignees; send \"on_conflict\": \"allow\" to book it anyway"
    )]
    Overlaps(serde_json::Value),
    /// The record cannot change while others depend on it, or its state does not allow the
    /// change now (409; gRPC FAILED_PRECONDITION).
    #[error("{0}")]
    InUse(String),
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("a dependency is unavailable: {0}")]
    Unavailable(String),
    /// The caller's key sent more requests than its rate allows (429 with `Retry-After`).
    #[error("too many requests: retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The edge is at its limit of requests in flight, or this one ran past the request timeout
    /// (503 with `Retry-After`): nothing was committed unless the answer says so.
    #[error("{0}; retry later")]
    Busy(&'static str),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid(ValidationErrors(vec![FieldError::new(field, message)]))
    }

    pub fn bad_request(detail: impl Into<String>, field: Option<&str>) -> Self {
        ApiError::BadRequest {
            detail: detail.into(),
            field: field.map(str::to_owned),
        }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(e.into())
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadRequest { .. } | ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) | ApiError::Pointed { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. } | ApiError::InUse(_) | ApiError::Overlaps(_) => {
                StatusCode::CONFLICT
            }
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) | ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn fields(&self) -> Vec<FieldError> {
        match self {
            ApiError::Invalid(v) | ApiError::Malformed(v) => v.0.clone(),
            ApiError::BadRequest {
                field: Some(f),
                detail,
            }
            | ApiError::Conflict {
                field: Some(f),
                detail,
            } => {
                vec![FieldError::new(f.clone(), detail.clone())]
            }
            _ => Vec::new(),
        }
    }
}

impl ApiError {
    /// The same refusal as a 400: for the previews, whose contract answers every field that
    /// cannot be read (a NUL in a string included) with a 400 naming it.
    pub fn malformed(self) -> Self {
        match self {
            ApiError::Invalid(v) => ApiError::Malformed(v),
            other => other,
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(v: ValidationErrors) -> Self {
        ApiError::Invalid(v)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Forbidden(m) => ApiError::Forbidden(m),
            StoreError::NotFound => ApiError::NotFound,
            StoreError::BadRequest { detail, field } => ApiError::BadRequest { detail, field },
            StoreError::Invalid(v) => ApiError::Invalid(v),
            StoreError::Malformed(v) => ApiError::Malformed(v),
            StoreError::Conflict { detail, field } => ApiError::Conflict { detail, field },
            StoreError::InUse(m) | StoreError::WrongState(m) => ApiError::InUse(m),
            StoreError::Overlaps(list) => ApiError::Overlaps(list),
            StoreError::Busy(m) => ApiError::Busy(m),
            StoreError::Unavailable(m) => ApiError::Unavailable(m),
            StoreError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl From<psa_store::DbError> for ApiError {
    fn from(e: psa_store::DbError) -> Self {
        StoreError::from(e).into()
    }
}

/// RFC 9457 problem details.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The fields at fault, when the request's content was wrong. (An automation
    /// definition's faults are JSON pointers instead: see [`DefinitionProblem`].)
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<ProblemField>)]
    pub errors: Vec<ProblemError>,
    /// For a schedule write refused for double-booking: the overlapping occurrences.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub conflicts: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub message: String,
}

/// An error inside an automation definition (or a dry run's request).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemPointer {
    /// RFC 6901 JSON pointer to the offending place.
    pub pointer: String,
    pub reason: String,
}

/// The problem of an operation that validates an automation definition: a [`Problem`] whose
/// `errors` are `{pointer, reason}` for the definition's faults (or `{field, message}` for a
/// body that cannot be read at all). Documentation only: the body is a `Problem`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct DefinitionProblem {
    #[schema(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    detail: String,
    errors: Vec<ProblemError>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ProblemError {
    Field(ProblemField),
    Pointer(ProblemPointer),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let slug = status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase()
            .replace(' ', "-");
        let body = Problem {
            kind: format!("https://psa.dev/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
            errors: match &self {
                ApiError::Pointed { issues, .. } => issues
                    .iter()
                    .map(|i| {
                        ProblemError::Pointer(ProblemPointer {
                            pointer: i.pointer.clone(),
                            reason: i.reason.clone(),
                        })
                    })
                    .collect(),
                _ => self
                    .fields()
                    .into_iter()
                    .map(|f| {
                        ProblemError::Field(ProblemField {
                            field: f.field,
                            message: f.message,
                        })
                    })
                    .collect(),
            },
            conflicts: match &self {
                ApiError::Overlaps(list) => Some(list.clone()),
                _ => None,
            },
        };
        let mut response = (status, Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        let retry_after = match &self {
            ApiError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            ApiError::Busy(_) | ApiError::Unavailable(_) => Some(1),
            _ => None,
        };
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<ApiError> for tonic::Status {
    fn from(e: ApiError) -> Self {
        use tonic::Code;
        let code = match &e {
            ApiError::Unauthenticated => Code::Unauthenticated,
            ApiError::Forbidden(_) => Code::PermissionDenied,
            ApiError::NotFound => Code::NotFound,
            ApiError::BadRequest { .. }
            | ApiError::Invalid(_)
            | ApiError::Malformed(_)
            | ApiError::Pointed { .. }
            | ApiError::PayloadTooLarge { .. } => Code::InvalidArgument,
            ApiError::UnsupportedMediaType => Code::InvalidArgument,
            ApiError::Conflict { .. } => Code::AlreadyExists,
            ApiError::InUse(_) | ApiError::Overlaps(_) => Code::FailedPrecondition,
            ApiError::Unavailable(_) | ApiError::Busy(_) => Code::Unavailable,
            ApiError::RateLimited { .. } => Code::ResourceExhausted,
            ApiError::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                Code::Internal
            }
        };
        let message = match &e {
            // The overlaps travel in the message, as JSON after the sentence.
            ApiError::Overlaps(list) => format!("{e}: {list}"),
            // Every error, as JSON after the sentence.
            ApiError::Pointed { issues, .. } => {
                format!("{e}: {}", serde_json::to_string(issues).unwrap_or_default())
            }
            _ => e.to_string(),
        };
        tonic::Status::new(code, message)
    }
}
