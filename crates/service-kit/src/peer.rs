//! Reading another service's state through its public API, for the few places where a
//! projection may not yet hold what the client was just told about (read-your-writes
//! at the edge). The caller's own `Authorization` goes along, so the owning service
//! decides what the caller may see, exactly as through the gateway.

use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::{ApiError, ErrorCode, ServiceName, Settings};

/// Seconds a client is told to wait when a peer cannot answer.
const RETRY_AFTER_SECS: u64 = 1;

/// Another service of the system, as an HTTP client sees it.
#[derive(Debug, Clone)]
pub struct Peer {
    name: ServiceName,
    /// `None` when the settings know no address for it (a service hosted alone in a
    /// test): every read is then a 503.
    base: Option<String>,
    client: reqwest::Client,
}

impl Peer {
    /// `name` at its configured URL, with the settings' upstream timeout.
    pub fn new(settings: &Settings, name: ServiceName) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(settings.upstream_timeout())
            .build()?;
        Ok(Self {
            name,
            base: settings.url_if_known(name),
            client,
        })
    }

    /// `GET` of the path made of `segments` (each escaped as one path segment, so an id
    /// cannot reach another route), as the caller whose request headers these are: the
    /// body on 200, `None` on 404. Anything else is a 503 with `Retry-After`: the peer
    /// is down, or answered what it never should, and the client's request did not
    /// happen.
    pub async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        caller: &HeaderMap,
    ) -> Result<Option<T>, ApiError> {
        let path = segments.join("/");
        let path = path.as_str();
        let unavailable = |cause: String| {
            tracing::warn!(peer = %self.name, path, %cause, "a peer service did not answer a read-through");
            ApiError::new(
                ErrorCode::Unavailable,
                format!("the {} service cannot be reached; retry later", self.name),
            )
            .retry_after(RETRY_AFTER_SECS)
        };
        let base = self
            .base
            .as_deref()
            .ok_or_else(|| unavailable("no address is configured".into()))?;
        let mut url = reqwest::Url::parse(base)
            .map_err(|e| ApiError::internal(format!("the {} URL is invalid: {e}", self.name)))?;
        url.path_segments_mut()
            .map_err(|()| ApiError::internal(format!("the {} URL cannot take a path", self.name)))?
            .pop_if_empty()
            .extend(segments);
        let mut request = self.client.get(url);
        if let Some(authorization) = caller.get(header::AUTHORIZATION) {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        let response = request
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        match response.status() {
            StatusCode::OK => response
                .json::<T>()
                .await
                .map(Some)
                .map_err(|e| unavailable(format!("unreadable answer: {e}"))),
            StatusCode::NOT_FOUND => Ok(None),
            other => Err(unavailable(format!("GET {path} answered {other}"))),
        }
    }
}
