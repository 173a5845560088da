//! notification-service: being written.
