//! payment-service: being written.
