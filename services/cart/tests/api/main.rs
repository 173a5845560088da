//! cart-service through its router, with `oneshot`.

mod helpers;

mod accounts;
mod catalog;
mod checkout;
mod items;
mod openapi;
