use doc_store::{Collection, CollectionSpec};
use event_contracts::{LineItem, Money};
use serde::{Deserialize, Serialize};

use crate::domain::OrderStatus;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub status: OrderStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
    /// What moved it: the event type or the customer action.
    pub cause: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    pub user_id: String,
    pub checkout_id: String,
    pub items: Vec<LineItem>,
    pub total: Money,
    pub status: OrderStatus,
    /// Set when product confirms the stock is held.
    pub stock_reserved: bool,
    pub history: Vec<HistoryEntry>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

impl Order {
    pub fn move_to(&mut self, status: OrderStatus, cause: &str) {
        self.status = status;
        self.history.push(HistoryEntry {
            status,
            at: time::OffsetDateTime::now_utc(),
            cause: cause.to_owned(),
        });
    }
}

pub const ORDERS: Collection<Order> = Collection::new("orders");

/// The list is newest first by id (UUID v7): a customer's orders by `user_id`, with a
/// status by `user_id, status`, an admin's by `status` or by the collection itself.
pub const COLLECTIONS: &[CollectionSpec] = &[ORDERS.spec(
    &["checkout_id"],
    &[&["user_id"], &["status"], &["user_id", "status"]],
)];
