//! order-service: being written.
