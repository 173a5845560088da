//! The gateway is the single public edge of the shop, on port 8080: it proxies each
//! `/api/v1/<resource>/...` request over HTTP to the service that owns the resource,
//! after edge checks (access tokens and roles by route, body size, rate limits on
//! login and registration, CORS), and serves one OpenAPI document for the whole API.
//!
//! It must never hold business logic (it knows routes, not orders or carts), and it
//! must never be the only security wall: every service checks tokens, roles and
//! ownership again, as if the gateway were not there.

pub mod cors;
pub mod openapi;
pub mod policy;
mod proxy;
pub mod rate_limit;
pub mod routing;
mod startup;

pub(crate) use startup::GatewayState;
pub use startup::SERVICE;
