//! The one error shape every service answers with: `{code, message, details}`.
//! Each [`ErrorCode`] has a stable snake_case name and its HTTP status, side by side.
//! Causes of 5xx answers are logged, never sent.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use doc_store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 400: the request cannot be read (malformed JSON, bad query string).
    BadRequest,
    /// 422: the request was read but a field is invalid; `details.field` names it.
    ValidationFailed,
    /// 401: no valid credentials (missing, expired or forged token; wrong password).
    Unauthorized,
    /// 403: authenticated, but not allowed.
    Forbidden,
    /// 404: no such route or resource (or not yours to see).
    NotFound,
    /// 405
    MethodNotAllowed,
    /// 409: the request conflicts with the current state (duplicate, wrong status).
    Conflict,
    /// 413: body over the 1 MiB limit.
    PayloadTooLarge,
    /// 415: body is not `application/json`.
    UnsupportedMediaType,
    /// 429: rate limited; `Retry-After` says when to come back.
    RateLimited,
    /// 500: our fault; the cause is in the logs.
    Internal,
    /// 502: an upstream service is down.
    BadGateway,
    /// 503: a dependency (store, bus) is not available.
    Unavailable,
    /// 504: an upstream service did not answer in time.
    GatewayTimeout,
}

impl ErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::ValidationFailed => "validation_failed",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
            Self::BadGateway => "bad_gateway",
            Self::Unavailable => "unavailable",
            Self::GatewayTimeout => "gateway_timeout",
        }
    }

    pub const fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::BadGateway => StatusCode::BAD_GATEWAY,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::GatewayTimeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }
}

/// The JSON body of every error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `validation_failed`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Structured context, e.g. `{"field": "email"}`; `null` when there is none.
    pub details: Value,
}

#[derive(Debug)]
pub struct ApiError(Box<Parts>);

#[derive(Debug)]
struct Parts {
    code: ErrorCode,
    message: String,
    details: Value,
    retry_after_secs: Option<u64>,
    /// Logged for 5xx answers instead of being sent.
    cause: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        // Boxed: errors travel in every handler's Result, which stays one pointer wide.
        Self(Box::new(Parts {
            code,
            message: message.into(),
            details: Value::Null,
            retry_after_secs: None,
            cause: None,
        }))
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.0.details = details;
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    /// A 422 naming the field at fault.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, message).with_details(json!({ "field": field }))
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            ErrorCode::RateLimited,
            format!("too many requests; retry in {retry_after_secs} s"),
        )
        .with_details(json!({ "retry_after_secs": retry_after_secs }));
        e.0.retry_after_secs = Some(retry_after_secs);
        e
    }

    /// A 500 whose cause goes to the log and never to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(ErrorCode::Internal, "internal error");
        e.0.cause = Some(cause.to_string());
        e
    }

    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            ErrorCode::Unavailable,
            "a dependency is unavailable; retry later",
        );
        e.0.cause = Some(cause.to_string());
        e
    }

    /// Adds `Retry-After`: the answer will change once something on its way arrives.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.0.retry_after_secs = Some(secs);
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.0.code.as_str().to_owned(),
            message: self.0.message.clone(),
            details: self.0.details.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.code.as_str(), self.0.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.code.status();
        if status.is_server_error() {
            tracing::error!(
                code = self.0.code.as_str(),
                cause = self.0.cause.as_deref().unwrap_or(&self.0.message),
                "request failed"
            );
        }
        let mut response = (status, Json(self.body())).into_response();
        if let Some(secs) = self.0.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Storage failures as clients should see them: a taken unique value or a lost race is
/// a 409 they can act on; anything else is ours.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate { field, .. } => {
                ApiError::conflict(format!("{field} is already taken"))
                    .with_details(json!({ "field": field }))
            }
            StoreError::VersionConflict { .. } => {
                ApiError::conflict("the resource was changed concurrently; retry")
            }
            StoreError::Unavailable(_) => ApiError::unavailable(e),
            StoreError::Corrupt { .. } | StoreError::Rejected(_) => ApiError::internal(e),
        }
    }
}

/// Answers for unknown routes and methods, in the error shape.
pub async fn not_found_fallback() -> ApiError {
    ApiError::not_found("no such route")
}

pub async fn method_not_allowed_fallback() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "method not allowed on this route",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_distinct_name_and_an_error_status() {
        let codes = [
            ErrorCode::BadRequest,
            ErrorCode::ValidationFailed,
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Conflict,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::RateLimited,
            ErrorCode::Internal,
            ErrorCode::BadGateway,
            ErrorCode::Unavailable,
            ErrorCode::GatewayTimeout,
        ];
        let names: std::collections::HashSet<_> = codes.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), codes.len());
        assert!(codes.iter().all(|c| c.status().as_u16() >= 400));
    }

    #[tokio::test]
    async fn a_server_error_hides_its_cause_from_the_client() {
        let response = ApiError::internal("disk on fire at /var/lib/x").into_response();
        assert_eq!(response.status(), 500);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("disk on fire"), "{text}");
        assert!(text.contains("\"code\":\"internal\""));
    }

    #[test]
    fn a_rate_limited_answer_says_when_to_retry() {
        let response = ApiError::rate_limited(42).into_response();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()[header::RETRY_AFTER], "42");
    }

    #[test]
    fn a_duplicate_unique_value_is_a_conflict_naming_the_field() {
        let e: ApiError = StoreError::Duplicate {
            collection: "credentials".into(),
            field: "email".into(),
        }
        .into();
        assert_eq!(e.code(), ErrorCode::Conflict);
        assert_eq!(e.body().details["field"], "email");
    }
}
