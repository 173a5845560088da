use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ContractError;

/// The data of one kind of event, tied to its type name and schema version.
pub trait Event: Serialize + DeserializeOwned {
    /// Event type, e.g. `"order.created"`; also the topic it is published on.
    const TYPE: &'static str;
    /// Version of the data schema this type (de)serialises.
    const VERSION: u32;
    /// Aggregate id used for partitioning, so events about one aggregate stay
    /// in order.
    fn key(&self) -> String;
}

/// What travels on the bus: metadata plus the event's data as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// UUID v7, unique per event; consumers deduplicate on it.
    pub id: String,
    /// Event type, e.g. `"order.created"`; also the topic name.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Version of the data schema, starting at 1.
    pub version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// Shared by every event of one business flow.
    pub correlation_id: String,
    /// Id of the event this one reacts to; `None` when a request started it.
    pub causation_id: Option<String>,
    /// Aggregate id used for partitioning / ordering.
    pub key: String,
    pub data: serde_json::Value,
}

impl Envelope {
    /// Wraps `event` as the first event of a flow, or one caused by a request
    /// rather than by another event.
    ///
    /// # Panics
    ///
    /// If `E`'s `Serialize` impl fails, which the event types of this crate
    /// never do.
    pub fn new<E: Event>(event: &E, correlation_id: impl Into<String>) -> Self {
        Self {
            // v7 ids sort by creation time, which keeps logs and stores that
            // index by id roughly chronological.
            id: Uuid::now_v7().to_string(),
            event_type: E::TYPE.to_owned(),
            version: E::VERSION,
            occurred_at: OffsetDateTime::now_utc(),
            correlation_id: correlation_id.into(),
            causation_id: None,
            key: event.key(),
            data: serde_json::to_value(event).expect("event data serialises to JSON"),
        }
    }

    /// Wraps `event` as a reaction to `cause`, continuing its flow.
    ///
    /// # Panics
    ///
    /// As [`Envelope::new`].
    pub fn caused_by<E: Event>(event: &E, cause: &Envelope) -> Self {
        Self {
            causation_id: Some(cause.id.clone()),
            ..Self::new(event, cause.correlation_id.clone())
        }
    }

    /// Reads the data as `E`, refusing an envelope of another type or version.
    ///
    /// This does not check the schema; see [`validate`](crate::validate).
    ///
    /// # Errors
    ///
    /// [`ContractError::WrongEvent`] if the envelope is not an `E::TYPE`
    /// event at `E::VERSION`, [`ContractError::InvalidData`] if its data does
    /// not deserialise as `E`.
    pub fn decode<E: Event>(&self) -> Result<E, ContractError> {
        if self.event_type != E::TYPE || self.version != E::VERSION {
            return Err(ContractError::WrongEvent {
                expected_type: E::TYPE,
                expected_version: E::VERSION,
                actual_type: self.event_type.clone(),
                actual_version: self.version,
            });
        }
        Ok(E::deserialize(&self.data)?)
    }
}
