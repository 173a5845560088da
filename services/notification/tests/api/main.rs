//! notification-service through its router, with `oneshot`, and its webhook channel
//! against a `wiremock` receiver.

mod helpers;

mod delivery;
mod listing;
mod openapi;
