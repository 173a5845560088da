//! cart-service through its router, with `oneshot`.

mod helpers;

mod accounts;
mod catalog;
mod checkout;
mod fresh_products;
mod items;
mod openapi;
