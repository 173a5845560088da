//! Produced by the cart service.

use serde::{Deserialize, Serialize};

use crate::{LineItem, Money};

/// `cart.checkout`: a customer checked out their cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartCheckedOut {
    /// Identifies this checkout, so the order service can drop redeliveries.
    pub checkout_id: String,
    /// Assigned by the cart service so it can answer `202 Accepted` with the
    /// order id before the order service has created the order.
    pub order_id: String,
    pub user_id: String,
    pub items: Vec<LineItem>,
    pub total: Money,
}
impl_event! { CartCheckedOut, "cart.checkout", version = 1, key = user_id }
