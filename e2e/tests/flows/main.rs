//! Full flows through the gateway. Each scenario gets its own target: the embedded
//! system on free ports, or the system at `E2E_BASE_URL`.

mod access;
mod accounts;
mod concurrency;
mod edge;
mod purchase;
mod redelivery;
mod restart;
mod returns;
mod system;
