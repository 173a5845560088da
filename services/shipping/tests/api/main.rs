//! shipping-service through its router, with `oneshot`, and fed events on its bus.

mod helpers;

mod actions;
mod flows;
mod listing;
mod openapi;
mod order_checks;
