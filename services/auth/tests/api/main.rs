//! auth-service through its router, with `oneshot`.

mod helpers;

mod account_deletion;
mod bootstrap;
mod login;
mod openapi;
mod register;
mod sessions;
