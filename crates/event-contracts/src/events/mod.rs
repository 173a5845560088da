//! Event data types, one module per producing service.

/// Implements [`Event`](crate::Event) for a data type whose key is one of its
/// `String` fields.
macro_rules! impl_event {
    ($ty:ty, $event_type:literal, version = $version:literal, key = $key:ident) => {
        impl $crate::Event for $ty {
            const TYPE: &'static str = $event_type;
            const VERSION: u32 = $version;

            fn key(&self) -> String {
                self.$key.clone()
            }
        }
    };
}

mod cart;
mod order;
mod payment;
mod product;
mod shipment;
mod stock;
mod user;

pub use cart::CartCheckedOut;
pub use order::{
    CancelReason, OrderCancelled, OrderCompleted, OrderCreated, OrderReturnRequested,
    ProductDecrement,
};
pub use payment::{PaymentCompleted, PaymentFailed, PaymentRefunded};
pub use product::{ProductCreated, ProductRemoved, ProductUpdated};
pub use shipment::{ShipmentAwaiting, ShipmentCancelled, ShipmentDelivered, ShipmentReturned};
pub use stock::{Shortage, StockRejected, StockReserved};
pub use user::{UserDeleted, UserRegistered};
