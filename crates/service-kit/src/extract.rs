//! Extractors whose rejections are answers in the error shape: JSON bodies and query
//! strings that name the field at fault, and the caller's identity from a bearer token.
//! A token that is present but invalid is always a 401, never "anonymous".

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{FromRef, FromRequest, FromRequestParts, Request},
    http::{HeaderMap, header, request::Parts},
};
use doc_store::DocumentStore;
use event_bus::Outbox;
use event_contracts::Role;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::{
    ApiError, ErrorCode, TokenVerifier,
    token::{AccessClaims, TokenError},
};

/// Like `axum::Json`, but a malformed body is a 400 saying where, a body that does not
/// fit is a 422 naming the field, and the answers use the error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "expected a body with content-type application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::PayloadTooLarge, "request body is over 1 MiB")
            } else {
                ApiError::bad_request(rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime.eq_ignore_ascii_case("application/json")
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
}

/// Parses a JSON body, turning serde's error into the answer a client can act on.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = field_at_fault(&path, &inner.to_string());
                let message = strip_position(&inner.to_string());
                ApiError::invalid(&field, format!("{field}: {message}"))
            }
            _ => ApiError::bad_request(format!("malformed JSON: {inner}"))
                .with_details(json!({ "line": inner.line(), "column": inner.column() })),
        }
    })?;
    de.end().map_err(|e| {
        ApiError::bad_request(format!("malformed JSON: {e}"))
            .with_details(json!({ "line": e.line(), "column": e.column() }))
    })?;
    Ok(value)
}

/// serde reports a missing field at its parent's path with the name in backticks;
/// everything else (an unknown field included) at the field's own path.
fn field_at_fault(path: &str, message: &str) -> String {
    let named = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (named, path) {
        (Some(name), ".") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, path) => path.to_owned(),
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Like `axum::extract::Query`, answering a bad query string with a 400 naming it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| ApiQuery(q.0))
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
    }
}

/// The authenticated caller, from a verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub id: String,
    pub email: String,
    pub role: Role,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Owners and admins may act on a resource; others get a 404 so that ids of other
    /// people's resources are not confirmed to exist.
    pub fn may_access(&self, owner_id: &str) -> bool {
        self.is_admin() || self.id == owner_id
    }
}

impl From<AccessClaims> for AuthUser {
    fn from(claims: AccessClaims) -> Self {
        Self {
            id: claims.sub,
            email: claims.email,
            role: claims.role,
        }
    }
}

fn bearer_token(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("authorization header is not valid text"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() => {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::unauthorized(
            "authorization header must be `Bearer <token>`",
        )),
    }
}

async fn verify<S>(parts: &Parts, state: &S, token: &str) -> Result<AuthUser, ApiError>
where
    Arc<TokenVerifier>: FromRef<S>,
{
    let verifier = Arc::<TokenVerifier>::from_ref(state);
    verifier
        .verify(token)
        .await
        .map(AuthUser::from)
        .map_err(|e| match e {
            // Not the caller's fault: a valid token cannot be checked right now.
            TokenError::KeysUnavailable(_) => ApiError::unavailable(e),
            TokenError::Invalid(_) => {
                tracing::debug!(uri = %parts.uri, error = %e, "token refused");
                ApiError::unauthorized(format!("invalid access token: {e}"))
            }
        })
}

impl<S> FromRequestParts<S> for AuthUser
where
    S: Send + Sync,
    Arc<TokenVerifier>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let token = bearer_token(parts)?
            .ok_or_else(|| ApiError::unauthorized("missing bearer access token"))?;
        verify(parts, state, token).await
    }
}

/// The state of a service whose routes write through its outbox: the outbox (and
/// through it the store) and the verifier that [`AuthUser`] checks tokens with.
#[derive(Clone, FromRef)]
pub struct OutboxState {
    pub outbox: Outbox,
    pub verifier: Arc<TokenVerifier>,
}

impl OutboxState {
    /// The store the outbox commits to, for reads and writes that announce nothing.
    pub fn store(&self) -> &dyn DocumentStore {
        self.outbox.store()
    }
}

/// An authenticated caller with the admin role; others get 403.
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

impl<S> FromRequestParts<S> for AdminUser
where
    S: Send + Sync,
    Arc<TokenVerifier>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        if user.is_admin() {
            Ok(AdminUser(user))
        } else {
            Err(ApiError::forbidden("this action needs the admin role"))
        }
    }
}

/// The caller if a token is sent; `None` only when no Authorization header is present.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl<S> FromRequestParts<S> for MaybeAuthUser
where
    S: Send + Sync,
    Arc<TokenVerifier>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match bearer_token(parts)? {
            None => Ok(MaybeAuthUser(None)),
            Some(token) => verify(parts, state, token)
                .await
                .map(|u| MaybeAuthUser(Some(u))),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Signup {
        email: String,
        age: u8,
        address: Option<Address>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Address {
        city: String,
    }

    fn field(e: &ApiError) -> String {
        e.body().details["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn malformed_json_is_a_bad_request_saying_where() {
        let e = parse_json::<Signup>(br#"{"email": "a@b.io",,}"#).unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadRequest);
        assert!(e.body().message.contains("malformed JSON"), "{e}");
        assert_eq!(e.body().details["line"], 1);
        let trailing = parse_json::<Signup>(br#"{"email": "a@b.io", "age": 3} x"#).unwrap_err();
        assert_eq!(trailing.code(), ErrorCode::BadRequest);
    }

    #[test]
    fn a_missing_field_is_a_422_naming_it() {
        let e = parse_json::<Signup>(br#"{"age": 3}"#).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed);
        assert_eq!(field(&e), "email");
    }

    #[test]
    fn a_wrongly_typed_nested_field_is_named_by_its_path() {
        let e = parse_json::<Signup>(br#"{"email": "a", "age": 3, "address": {"city": 5}}"#)
            .unwrap_err();
        assert_eq!(field(&e), "address.city");
        let e = parse_json::<Signup>(br#"{"email": "a", "age": 300}"#).unwrap_err();
        assert_eq!(field(&e), "age");
    }

    #[test]
    fn an_unknown_field_is_named() {
        let e = parse_json::<Signup>(br#"{"email": "a", "age": 3, "role": "admin"}"#).unwrap_err();
        assert_eq!(
            (e.code(), field(&e)),
            (ErrorCode::ValidationFailed, "role".into())
        );
    }
}

/// The id that ties a request to the events it causes: the request id the edge set
/// (`x-request-id`), or a fresh one when there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CorrelationId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let id = parts
            .headers
            .get(&crate::http::REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
        Ok(CorrelationId(id))
    }
}
