//! payment-service through its router, with `oneshot`, and its HTTP provider adapter
//! against a mock provider.

mod helpers;

mod events;
mod fresh_orders;
mod http_provider;
mod listing;
mod openapi;
mod paying;
mod provider_failures;
mod refunds;
