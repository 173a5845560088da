//! Produced by the payment service.

use serde::{Deserialize, Serialize};

use crate::Money;

/// `payment.completed`: an order was paid in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentCompleted {
    pub payment_id: String,
    pub order_id: String,
    pub user_id: String,
    pub amount: Money,
}
impl_event! { PaymentCompleted, "payment.completed", version = 1, key = order_id }

/// `payment.failed`: charging for an order failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub payment_id: String,
    pub order_id: String,
    pub user_id: String,
    /// Human-readable; not meant to be parsed.
    pub reason: String,
}
impl_event! { PaymentFailed, "payment.failed", version = 1, key = order_id }

/// `payment.refunded`: an order's payment was returned to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRefunded {
    pub payment_id: String,
    pub order_id: String,
    pub user_id: String,
    pub amount: Money,
}
impl_event! { PaymentRefunded, "payment.refunded", version = 1, key = order_id }
