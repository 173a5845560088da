//! Forwarding one request to the service that owns its path, after the edge checks:
//! path form, access rule, body size and rate limit.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, FromRequestParts, Request},
    http::{HeaderMap, HeaderName, HeaderValue, Method, header, request::Parts},
    response::Response,
};
use reqwest::Url;
use serde_json::json;
use service_kit::{
    ApiError, AuthUser, ErrorCode, MaybeAuthUser, ServiceName,
    http::{BODY_LIMIT, REQUEST_ID},
};

use crate::{
    GatewayState, cors,
    policy::{self, Access},
};

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

pub async fn forward(
    state: GatewayState,
    service: ServiceName,
    request: Request,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    ensure_normal_path(parts.uri.path())?;

    let access = policy::access(&parts.method, parts.uri.path());
    let MaybeAuthUser(caller) = MaybeAuthUser::from_request_parts(&mut parts, &state).await?;
    authorize(access, caller.as_ref())?;

    let client_ip = client_ip(&parts);
    let body = read_body(&parts.headers, body).await?;
    state
        .rate_limits()
        .check(&parts.method, parts.uri.path(), &body, client_ip)?;

    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let url = Url::parse(&format!("{}{path_and_query}", state.upstream(service)))
        .map_err(|e| ApiError::bad_request(format!("request target is not usable: {e}")))?;
    let upstream = state
        .http()
        .request(parts.method.clone(), url)
        .headers(upstream_headers(&parts.headers, client_ip))
        .body(body)
        .send()
        .await
        .map_err(|e| upstream_failed(service, e))?;

    let status = upstream.status();
    let headers = client_headers(upstream.headers(), &parts.method);
    let body = upstream
        .bytes()
        .await
        .map_err(|e| upstream_failed(service, e))?;
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// The upstream URL is built with the `url` crate, which resolves `.` and `..` segments
/// (percent-encoded ones too, and `\` as `/`). A path it would rewrite is refused:
/// otherwise the access rule would judge one path and the service would serve another.
fn ensure_normal_path(path: &str) -> Result<(), ApiError> {
    let normalized = Url::parse(&format!("http://gateway.invalid{path}"));
    if normalized.is_ok_and(|url| url.path() == path) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "the request path must be in normal form: no `.` or `..` segments, \
             backslashes or unescaped special characters",
        ))
    }
}

fn authorize(access: Access, caller: Option<&AuthUser>) -> Result<(), ApiError> {
    match (access, caller) {
        (Access::Public, _) => Ok(()),
        (_, None) => Err(ApiError::unauthorized(
            "this route needs a bearer access token",
        )),
        (Access::Admin, Some(user)) if !user.is_admin() => {
            Err(ApiError::forbidden("this action needs the admin role"))
        }
        (Access::Authenticated | Access::Admin, Some(_)) => Ok(()),
    }
}

/// The peer address of the connection. Requests that did not come over a socket (tests
/// through `oneshot`, an in-process caller) count as local.
fn client_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |ConnectInfo(addr)| {
            addr.ip().to_canonical()
        })
}

async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::new(ErrorCode::PayloadTooLarge, "request body is over 1 MiB");
    // A declared length over the limit is refused before anything is read.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > BODY_LIMIT as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|e| {
        if is_over_limit(&e) {
            too_large()
        } else {
            ApiError::bad_request("the request body could not be read")
        }
    })
}

fn is_over_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Headers that describe one connection, not the message, and so must not be relayed
/// (RFC 9110 section 7.6.1), plus those the client library sets itself.
fn is_hop_by_hop(name: &HeaderName, listed_in_connection: &[String]) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
    ) || name.as_str().starts_with("proxy-")
        || listed_in_connection.iter().any(|n| n == name.as_str())
}

fn without_hop_by_hop(headers: &HeaderMap) -> HeaderMap {
    let listed: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .collect();
    let mut kept = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if !is_hop_by_hop(name, &listed) {
            kept.append(name.clone(), value.clone());
        }
    }
    kept
}

/// What the service sees: the client's headers (its `x-request-id` included, which the
/// edge layers set when the client sent none) and the client's address appended to
/// `x-forwarded-for`. Entries before the last one come from the client and prove nothing.
fn upstream_headers(incoming: &HeaderMap, client_ip: IpAddr) -> HeaderMap {
    let mut headers = without_hop_by_hop(incoming);
    let earlier: Vec<&str> = incoming
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let forwarded_for = if earlier.is_empty() {
        client_ip.to_string()
    } else {
        format!("{}, {client_ip}", earlier.join(", "))
    };
    headers.remove(&X_FORWARDED_FOR);
    headers.insert(
        X_FORWARDED_FOR,
        HeaderValue::from_str(&forwarded_for)
            .expect("readable header values joined with an address form a valid value"),
    );
    headers
}

/// What the client sees of the service's answer. The gateway's own request id and CORS
/// headers are the ones that count, so the service's copies are dropped.
fn client_headers(upstream: &HeaderMap, method: &Method) -> HeaderMap {
    let mut headers = without_hop_by_hop(upstream);
    headers.remove(&REQUEST_ID);
    let cors_headers: Vec<HeaderName> = headers
        .keys()
        .filter(|name| cors::is_cors_header(name))
        .cloned()
        .collect();
    for name in cors_headers {
        headers.remove(name);
    }
    // A HEAD answer has no body to measure, so the service's length is the true one.
    if method == Method::HEAD {
        if let Some(length) = upstream.get(header::CONTENT_LENGTH) {
            headers.insert(header::CONTENT_LENGTH, length.clone());
        }
    }
    headers
}

/// Clients learn which service failed and how, never its internal address.
fn upstream_failed(service: ServiceName, error: reqwest::Error) -> ApiError {
    tracing::warn!(%service, error = %error, "upstream request failed");
    let details = json!({ "service": service.as_str() });
    if error.is_timeout() {
        ApiError::new(
            ErrorCode::GatewayTimeout,
            format!("the {service} service did not answer in time"),
        )
        .with_details(details)
    } else {
        ApiError::new(
            ErrorCode::BadGateway,
            format!("the {service} service is unavailable"),
        )
        .with_details(details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_normalise_to_another_path_are_refused() {
        for path in [
            "/api/v1/users/me/../u2",
            "/api/v1/users/me/%2e%2e/u2",
            "/api/v1/users/me/%2E./u2",
            "/api/v1/users/./u2",
            "/api/v1/users/me\\..\\u2",
        ] {
            assert!(ensure_normal_path(path).is_err(), "{path}");
        }
        for path in [
            "/api/v1/users/me",
            "/api/v1/products/a%20b",
            "/api/v1/x/.hidden",
        ] {
            assert!(ensure_normal_path(path).is_ok(), "{path}");
        }
    }

    #[test]
    fn connection_scoped_headers_are_not_relayed() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("connection", "keep-alive, x-secret-hop"),
            ("keep-alive", "timeout=5"),
            ("proxy-authorization", "Basic abc"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("host", "gateway.example"),
            ("x-secret-hop", "1"),
            ("authorization", "Bearer t"),
            ("accept", "application/json"),
            ("accept", "text/plain"),
        ] {
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        let kept = without_hop_by_hop(&headers);
        let mut names: Vec<&str> = kept.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["accept", "authorization"]);
        assert_eq!(kept.get_all("accept").iter().count(), 2);
    }

    #[test]
    fn the_client_address_is_appended_to_forwarded_for() {
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        let fresh = upstream_headers(&HeaderMap::new(), ip);
        assert_eq!(fresh[&X_FORWARDED_FOR], "192.0.2.9");

        let mut incoming = HeaderMap::new();
        incoming.insert(X_FORWARDED_FOR, HeaderValue::from_static("10.0.0.1"));
        let relayed = upstream_headers(&incoming, ip);
        assert_eq!(relayed[&X_FORWARDED_FOR], "10.0.0.1, 192.0.2.9");
        assert_eq!(relayed.get_all(&X_FORWARDED_FOR).iter().count(), 1);
    }

    #[test]
    fn only_admins_pass_admin_rules_and_only_callers_with_tokens_pass_the_rest() {
        let user = |role| AuthUser {
            id: "u1".into(),
            email: "u1@example.com".into(),
            role,
        };
        let customer = user(event_contracts::Role::Customer);
        let admin = user(event_contracts::Role::Admin);
        let code = |r: Result<(), ApiError>| r.err().map(|e| e.code());
        assert_eq!(code(authorize(Access::Public, None)), None);
        assert_eq!(
            code(authorize(Access::Authenticated, None)),
            Some(ErrorCode::Unauthorized)
        );
        assert_eq!(
            code(authorize(Access::Authenticated, Some(&customer))),
            None
        );
        assert_eq!(
            code(authorize(Access::Admin, None)),
            Some(ErrorCode::Unauthorized)
        );
        assert_eq!(
            code(authorize(Access::Admin, Some(&customer))),
            Some(ErrorCode::Forbidden)
        );
        assert_eq!(code(authorize(Access::Admin, Some(&admin))), None);
    }
}
