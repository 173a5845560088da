use std::{future::Future, sync::Arc};

use axum::extract::FromRef;
use doc_store::StoreError;
use event_bus::{BoxError, retry_on_conflict};
use prometheus::{IntCounter, Registry};
use serde_json::json;
use service_kit::{Api, ApiError, OutboxState, TokenVerifier, openapi::ApiDoc};
use utoipa_axum::routes;

use crate::domain::{CartError, PricingError};

mod cart;
mod checkout;

const DOC: ApiDoc = ApiDoc {
    title: "cart-service",
    description: "Each customer's own cart, priced from the current catalog, and checkout. \
                  Every route acts on the caller's cart; there is no cart id.",
    tag: ("cart", "The caller's cart and checkout"),
};

/// What the cart routes share: the outbox and verifier every stateful service's routes
/// have, and the count of checkouts taken.
#[derive(Clone, FromRef)]
pub struct CartState {
    pub api: OutboxState,
    pub checkouts: Checkouts,
    pub products: Products,
}

/// The product service, asked about a product the cart's catalog has not heard of yet.
#[derive(Clone)]
pub struct Products(pub service_kit::Peer);

impl FromRef<CartState> for Arc<TokenVerifier> {
    fn from_ref(state: &CartState) -> Self {
        state.api.verifier.clone()
    }
}

/// Checkouts accepted: the top of the funnel, whose orders the order service counts.
#[derive(Clone)]
pub struct Checkouts(IntCounter);

impl Checkouts {
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let counter = IntCounter::new("shop_checkouts_total", "Checkouts accepted")?;
        registry.register(Box::new(counter.clone()))?;
        Ok(Self(counter))
    }

    /// A checkout was committed, and is answered 202.
    pub fn accepted(&self) {
        self.0.inc();
    }
}

pub fn api(state: CartState) -> Api {
    DOC.api(
        state,
        [
            routes!(cart::get_cart),
            routes!(cart::add_item),
            routes!(cart::update_item, cart::remove_item),
            routes!(checkout::checkout),
        ],
    )
}

impl From<CartError> for ApiError {
    fn from(e: CartError) -> Self {
        match &e {
            CartError::QuantityOutOfRange(_) | CartError::TooManyOfOne { .. } => {
                ApiError::invalid("quantity", e.to_string())
            }
            CartError::Full => ApiError::invalid("product_id", e.to_string()),
            CartError::NotInCart(_) => ApiError::not_found(e.to_string()),
        }
    }
}

/// Both name the line at fault, so the customer knows which one to change or remove.
impl From<PricingError> for ApiError {
    fn from(e: PricingError) -> Self {
        let (field, product_id) = match &e {
            PricingError::MixedCurrency { product_id, .. } => ("product_id", product_id),
            PricingError::Overflow { product_id } => ("quantity", product_id),
        };
        ApiError::invalid(field, e.to_string())
            .with_details(json!({ "field": field, "product_id": product_id }))
    }
}

/// Runs a read-decide-write step on the caller's cart again when another request of
/// the same user changed the cart in between (two tabs adding at once both count). The
/// step reports store errors as `StoreError` so lost races are recognised, and refusals
/// as `ApiError`.
async fn retrying<T, F, Fut>(step: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, BoxError>>,
{
    retry_on_conflict(step)
        .await
        .map_err(|e| match e.downcast::<ApiError>() {
            Ok(e) => *e,
            Err(e) => match e.downcast::<StoreError>() {
                Ok(e) => ApiError::from(*e),
                Err(e) => ApiError::internal(e),
            },
        })
}
