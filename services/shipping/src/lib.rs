//! shipping-service: being written.
