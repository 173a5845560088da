//! order-service through its router, with `oneshot`, driven by other services' events.

mod helpers;

mod lifecycle;
mod openapi;
mod visibility;
