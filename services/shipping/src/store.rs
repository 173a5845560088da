//! The shipping service's collection and the shape of what it stores in it.

use doc_store::{Collection, CollectionSpec};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::domain::ShipmentStatus;

/// The one shipment of an order; the id is the shipment id the API and events use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    pub order_id: String,
    /// The customer who placed the order: the only one besides admins who may see it.
    pub user_id: String,
    pub status: ShipmentStatus,
    /// Every status the shipment entered, oldest first, starting with the one it was
    /// created in.
    pub history: Vec<StatusChange>,
    #[serde(with = "service_kit::timestamp::sortable")]
    pub created_at: OffsetDateTime,
    #[serde(with = "service_kit::timestamp::sortable")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: ShipmentStatus,
    #[serde(with = "service_kit::timestamp::sortable")]
    pub at: OffsetDateTime,
}

impl Shipment {
    pub fn new(order_id: &str, user_id: &str, status: ShipmentStatus, at: OffsetDateTime) -> Self {
        Self {
            order_id: order_id.to_owned(),
            user_id: user_id.to_owned(),
            status,
            history: vec![StatusChange { status, at }],
            created_at: at,
            updated_at: at,
        }
    }

    /// This shipment after entering `status`. Whether it may is the domain's call.
    pub fn entering(&self, status: ShipmentStatus, at: OffsetDateTime) -> Self {
        let mut next = self.clone();
        next.status = status;
        next.history.push(StatusChange { status, at });
        next.updated_at = at;
        next
    }
}

pub const SHIPMENTS: Collection<Shipment> = Collection::new("shipments");

// One shipment per order: two events racing to create it cannot both succeed.
pub const COLLECTIONS: &[CollectionSpec] =
    // The list is newest first, by owner or (an admin's) all; `order_id` finds one.
    &[SHIPMENTS.spec(
        &["order_id"],
        &[&["user_id", "created_at"], &["created_at"]],
    )];

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn stored_times_sort_as_text_in_time_order() {
        let whole = datetime!(2025-01-02 03:04:05 UTC);
        let later = datetime!(2025-01-02 03:04:05.5 UTC);
        let text = |at| {
            serde_json::to_value(Shipment::new("o", "u", ShipmentStatus::Pending, at))
            .unwrap()["created_at"]
            .as_str()
            .unwrap()
            .to_owned()
        };
        assert_eq!(text(whole), "2025-01-02T03:04:05.000000000Z");
        assert!(text(whole) < text(later));
        let shipment = Shipment::new("o", "u", ShipmentStatus::Pending, later);
        let back: Shipment =
            serde_json::from_value(serde_json::to_value(&shipment).unwrap()).unwrap();
        assert_eq!(back, shipment);
    }

    #[test]
    fn entering_a_status_records_it_in_the_history() {
        let t0 = datetime!(2025-01-02 03:04:05 UTC);
        let t1 = datetime!(2025-01-02 04:00:00 UTC);
        let shipment = Shipment::new("o", "u", ShipmentStatus::Pending, t0)
            .entering(ShipmentStatus::Awaiting, t1);
        assert_eq!(shipment.status, ShipmentStatus::Awaiting);
        assert_eq!(
            shipment.history,
            [
                StatusChange {
                    status: ShipmentStatus::Pending,
                    at: t0
                },
                StatusChange {
                    status: ShipmentStatus::Awaiting,
                    at: t1
                },
            ]
        );
        assert_eq!((shipment.created_at, shipment.updated_at), (t0, t1));
    }
}
