//! Produced by the order service.

use serde::{Deserialize, Serialize};

use crate::{LineItem, Money, StockLine};

/// `order.created`: an order was recorded from a checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCreated {
    pub order_id: String,
    pub checkout_id: String,
    pub user_id: String,
    pub items: Vec<LineItem>,
    pub total: Money,
}
impl_event! { OrderCreated, "order.created", version = 1, key = order_id }

/// `order.cancelled`: an order was cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCancelled {
    pub order_id: String,
    pub user_id: String,
    pub reason: CancelReason,
    /// The order's lines, so stock reserved for them can be put back.
    pub items: Vec<StockLine>,
}
impl_event! { OrderCancelled, "order.cancelled", version = 1, key = order_id }

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    CustomerRequest,
    PaymentFailed,
    /// Nothing was reserved, so there is no stock to put back.
    StockRejected,
    /// Not paid within the payment window: what it held is released for others.
    PaymentTimeout,
}

/// `order.return_requested`: the customer asked to return a delivered order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderReturnRequested {
    pub order_id: String,
    pub user_id: String,
}
impl_event! { OrderReturnRequested, "order.return_requested", version = 1, key = order_id }

/// `order.completed`: the order reached its final successful state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCompleted {
    pub order_id: String,
    pub user_id: String,
}
impl_event! { OrderCompleted, "order.completed", version = 1, key = order_id }

/// `product.decrement`: asks the product service to take an order's
/// quantities out of stock; answered by `stock.reserved` or `stock.rejected`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDecrement {
    pub order_id: String,
    pub items: Vec<StockLine>,
}
impl_event! { ProductDecrement, "product.decrement", version = 1, key = order_id }
