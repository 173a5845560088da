//! product-service: being written.
