//! The gateway seen from outside: requests through its full router, with wiremock
//! standing in for the services behind it.

mod access;
mod cors;
mod forwarding;
mod helpers;
mod openapi;
mod rate_limits;
mod server;
mod upstream_failures;
