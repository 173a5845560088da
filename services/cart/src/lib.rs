//! cart-service: being written.
