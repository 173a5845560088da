//! Produced by the shipment service.

use serde::{Deserialize, Serialize};

/// `shipment.awaiting`: a paid order's shipment was created and awaits
/// delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentAwaiting {
    pub shipment_id: String,
    pub order_id: String,
    pub user_id: String,
}
impl_event! { ShipmentAwaiting, "shipment.awaiting", version = 1, key = order_id }

/// `shipment.delivered`: the shipment reached the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentDelivered {
    pub shipment_id: String,
    pub order_id: String,
    pub user_id: String,
}
impl_event! { ShipmentDelivered, "shipment.delivered", version = 1, key = order_id }

/// `shipment.returned`: a returned shipment came back from the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentReturned {
    pub shipment_id: String,
    pub order_id: String,
    pub user_id: String,
}
impl_event! { ShipmentReturned, "shipment.returned", version = 1, key = order_id }

/// `shipment.cancelled`: a shipment was called off before it was delivered (its order
/// cancelled, or its payment refunded), so its goods never left the shop. Shipping is
/// the one service that knows where goods are; stock is put back on sale on this
/// event, never on a refund alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentCancelled {
    pub shipment_id: String,
    pub order_id: String,
    pub user_id: String,
}
impl_event! { ShipmentCancelled, "shipment.cancelled", version = 1, key = order_id }
