use crate::{
    CartCheckedOut, Event, OrderCancelled, OrderCompleted, OrderCreated, OrderReturnRequested,
    PaymentCompleted, PaymentFailed, PaymentRefunded, ProductCreated, ProductDecrement,
    ProductRemoved, ProductUpdated, ShipmentAwaiting, ShipmentCancelled, ShipmentDelivered,
    ShipmentReturned, StockRejected, StockReserved, UserDeleted, UserRegistered,
};

/// The JSON schema of one version of one event type's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSchema {
    pub event_type: &'static str,
    pub version: u32,
    /// The schema document, as written in `contracts/events/`.
    pub schema: &'static str,
}

/// The JSON schema of [`Envelope`](crate::Envelope).
pub const ENVELOPE_SCHEMA: &str = include_str!("../../../contracts/events/envelope.schema.json");

/// Builds the registry from each data type's `Event` constants, so the type
/// name and version cannot drift from the Rust type. The schema's location is
/// spelled out because `include_str!` needs a literal; the tests check that
/// it agrees with the constants.
macro_rules! registry {
    ($($ty:ty => $dir:literal),* $(,)?) => {
        /// Every known (type, version) with its data schema.
        pub const EVENT_TYPES: &[EventSchema] = &[$(
            EventSchema {
                event_type: <$ty as Event>::TYPE,
                version: <$ty as Event>::VERSION,
                schema: include_str!(concat!("../../../contracts/events/", $dir, ".schema.json")),
            },
        )*];
    };
}

registry! {
    UserRegistered => "user.registered/v1",
    UserDeleted => "user.deleted/v1",
    ProductCreated => "product.created/v1",
    ProductUpdated => "product.updated/v1",
    ProductRemoved => "product.removed/v1",
    CartCheckedOut => "cart.checkout/v1",
    OrderCreated => "order.created/v1",
    OrderCancelled => "order.cancelled/v1",
    PaymentCompleted => "payment.completed/v1",
    PaymentFailed => "payment.failed/v1",
    PaymentRefunded => "payment.refunded/v1",
    ShipmentAwaiting => "shipment.awaiting/v1",
    ShipmentDelivered => "shipment.delivered/v1",
    ShipmentReturned => "shipment.returned/v1",
    ShipmentCancelled => "shipment.cancelled/v1",
    OrderReturnRequested => "order.return_requested/v1",
    OrderCompleted => "order.completed/v1",
    ProductDecrement => "product.decrement/v1",
    StockReserved => "stock.reserved/v1",
    StockRejected => "stock.rejected/v1",
}

/// The registered schema for `event_type` at `version`, if any.
#[must_use]
pub fn schema_for(event_type: &str, version: u32) -> Option<&'static EventSchema> {
    EVENT_TYPES
        .iter()
        .find(|entry| entry.event_type == event_type && entry.version == version)
}
