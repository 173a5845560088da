//! Event contracts shared by every service: the event envelope, the Rust type
//! of every event's data, and validation of events against the JSON schemas in
//! `contracts/events/`, which are the source of truth. This crate never does
//! I/O beyond reading the schemas compiled in with `include_str!`.
//!
//! Producers build an [`Envelope`] from a typed event with [`Envelope::new`]
//! (or [`Envelope::caused_by`] when reacting to another event), and consumers
//! turn it back into the typed event with [`Envelope::decode`]. [`validate`]
//! checks an envelope and its data against the schemas, so a service can
//! refuse to publish, or quarantine on receipt, anything off-contract.
//!
//! ```
//! use event_contracts::{Envelope, UserDeleted, UserRegistered, Role, validate};
//!
//! let registered = UserRegistered {
//!     user_id: "u-1".into(),
//!     email: "ada@example.com".into(),
//!     role: Role::Customer,
//! };
//! let envelope = Envelope::new(&registered, "req-1");
//! validate(&envelope)?;
//!
//! let deleted = Envelope::caused_by(&UserDeleted { user_id: "u-1".into() }, &envelope);
//! assert_eq!(deleted.causation_id.as_deref(), Some(envelope.id.as_str()));
//!
//! assert_eq!(envelope.decode::<UserRegistered>()?, registered);
//! assert!(envelope.decode::<UserDeleted>().is_err());
//! # Ok::<(), event_contracts::ContractError>(())
//! ```

mod envelope;
mod error;
mod events;
mod registry;
mod types;
mod validate;

pub use envelope::{Envelope, Event};
pub use error::{ContractError, Violation};
pub use events::*;
pub use registry::{ENVELOPE_SCHEMA, EVENT_TYPES, EventSchema, schema_for};
pub use types::{LineItem, Money, Role, StockLine};
pub use validate::validate;
