//! product-service through its router, with `oneshot`, and its stock through events.

mod helpers;

mod catalog;
mod openapi;
mod stock;
