//! user-service through its router, with `oneshot`.

mod helpers;

mod admin;
mod openapi;
mod profile;
