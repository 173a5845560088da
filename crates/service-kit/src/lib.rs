//! What every service shares at its edge: typed settings, the one JSON error shape,
//! extractors that reject bad input in that shape, access-token signing and checking,
//! HTTP metrics, health probes, request ids, and running a service until shutdown.
//!
//! The kit must never hold a service's domain logic: it knows users only as token
//! claims, and stores and buses only as the ports their crates define.

pub mod config;
pub mod error;
pub mod extract;
pub mod health;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod paging;
pub mod peer;
pub mod runtime;
pub mod service;
pub mod telemetry;
pub mod timestamp;
pub mod token;

pub use config::Settings;
pub use error::{ApiError, ErrorBody, ErrorCode};
pub use extract::{
    AdminUser, ApiJson, ApiQuery, AuthUser, CorrelationId, MaybeAuthUser, OutboxState,
};
pub use peer::Peer;
pub use runtime::{Running, ServiceContext, ServiceRuntime, spawn_every};
pub use service::{Api, PublicApi, ServiceDef, ServiceName, Wiring};
pub use token::{AccessClaims, TokenSigner, TokenVerifier};
