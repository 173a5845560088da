//! Full flows through the gateway. Each scenario gets its own target: the embedded
//! system on free ports, or the system at `E2E_BASE_URL`.

mod accounts;
mod edge;
mod restart;
