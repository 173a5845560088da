//! order-service through its router, with `oneshot`, driven by other services' events.

mod helpers;

mod hoarding;
mod lifecycle;
mod metrics;
mod openapi;
mod visibility;
