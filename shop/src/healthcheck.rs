//! `shop healthcheck`: the image's HEALTHCHECK. The runtime image has no shell, curl or
//! wget, so the binary itself asks a service on this host for `/healthz`, reading the
//! same settings `shop serve` does, and answers with its exit status.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    time::Duration,
};

use service_kit::Settings;
use shop::SERVICES;

/// Below the image's HEALTHCHECK timeout, so a slow service is reported by this check,
/// with a reason, rather than killed by Docker without one.
const TIMEOUT: Duration = Duration::from_secs(2);

/// `Ok` when the service called `name` answers 200 to `GET /healthz` on this host;
/// otherwise why not, in one line.
pub async fn check(name: &str) -> Result<(), String> {
    let service = shop::service(name).ok_or_else(|| {
        let known: Vec<_> = SERVICES.iter().map(|s| s.name.as_str()).collect();
        format!("no service `{name}`; the services are {}", known.join(", "))
    })?;
    let settings = Settings::load()
        .map_err(anyhow::Error::from)
        .and_then(shop::settings)
        .map_err(|e| e.to_string())?;
    let address = SocketAddr::new(reachable(settings.host), settings.port(service.name));
    let url = format!("http://{address}/healthz");
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        // The service is on this host; an HTTP_PROXY in the container's environment
        // must not send the check elsewhere.
        .no_proxy()
        // Only the service's own answer counts, not wherever a redirect leads.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {}", causes(&e)))?;
    let name = service.name;
    match client.get(&url).send().await {
        Ok(response) if response.status() == reqwest::StatusCode::OK => Ok(()),
        Ok(response) => Err(format!("{name} at {url} answered {}", response.status())),
        Err(e) if e.is_timeout() => Err(format!(
            "{name} at {url} did not answer within {} s",
            TIMEOUT.as_secs()
        )),
        Err(e) => Err(format!("{name} at {url} did not answer: {}", causes(&e))),
    }
}

/// The address that reaches, from this host, a service bound to `host`. A container binds
/// the wildcard (SHOP_HOST=0.0.0.0), which is no address to connect to; loopback is.
fn reachable(host: IpAddr) -> IpAddr {
    match host {
        IpAddr::V4(v4) if v4.is_unspecified() => Ipv4Addr::LOCALHOST.into(),
        IpAddr::V6(v6) if v6.is_unspecified() => Ipv6Addr::LOCALHOST.into(),
        host => host,
    }
}

/// The innermost causes of `e` ("Connection refused"), which reqwest's own message,
/// naming only the URL, leaves out.
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}
