//! Which browser origins may call the API. Only the gateway answers CORS: services
//! are never reached by browsers directly.

use std::time::Duration;

use anyhow::Context;
use http::{HeaderName, HeaderValue, Method, header};
use service_kit::http::REQUEST_ID;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// `*` among `origins` allows any origin; otherwise only the listed ones.
pub fn layer(origins: &[String]) -> anyhow::Result<CorsLayer> {
    let allow_origin = if origins.iter().any(|o| o.trim() == "*") {
        AllowOrigin::any()
    } else {
        let origins = origins
            .iter()
            .map(|o| {
                HeaderValue::from_str(o.trim().trim_end_matches('/'))
                    .with_context(|| format!("CORS origin `{o}` is not a valid header value"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        AllowOrigin::list(origins)
    };
    Ok(CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, REQUEST_ID])
        .expose_headers([REQUEST_ID, header::RETRY_AFTER, header::LOCATION])
        // Saves browsers a preflight before every call; the policy changes only on restart.
        .max_age(Duration::from_secs(600)))
}

/// Headers only the gateway may set on an answer to a browser.
pub fn is_cors_header(name: &HeaderName) -> bool {
    name.as_str().starts_with("access-control-")
}
