use axum::{
    Json,
    extract::State,
    http::{HeaderName, StatusCode, header},
};
use event_contracts::{CartCheckedOut, Envelope, LineItem};
use serde::Serialize;
use service_kit::{ApiError, AuthUser, CorrelationId, ErrorBody, OutboxState};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{Cart, price},
    routes::Checkouts,
    store::{CARTS, CartDoc, listings, save_cart},
};

/// A checkout that was taken: the order is created from it shortly.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutAccepted {
    /// The id the order will have; `GET /api/v1/orders/{order_id}` finds it once the
    /// order service has processed the checkout.
    #[schema(example = "0196a0c5-1b2c-7e3d-8f40-1a2b3c4d5e6f")]
    pub order_id: String,
    /// Identifies this checkout.
    #[schema(example = "0196a0c5-1b2c-7e3d-8f40-6f5e4d3c2b1a")]
    pub checkout_id: String,
}

/// Checks out the caller's cart: snapshots its lines at current names and prices,
/// empties it and asks for the order, all at once.
#[utoipa::path(
    post,
    path = "/api/v1/cart/checkout",
    security(("bearerAuth" = [])),
    responses(
        (status = 202, description = "Checkout taken; the order appears at `Location` once the order service has it",
            body = CheckoutAccepted,
            headers(("Location" = String, description = "/api/v1/orders/{order_id}"))),
        (status = 409, description = "The cart is empty, or it changed (or was checked out) concurrently", body = ErrorBody),
        (status = 422, description = "The cart cannot be totalled: a product in it changed currency, or the total overflows; `details.product_id` names the line", body = ErrorBody),
    )
)]
pub async fn checkout(
    State(state): State<OutboxState>,
    State(checkouts): State<Checkouts>,
    user: AuthUser,
    CorrelationId(correlation_id): CorrelationId,
) -> Result<
    (
        StatusCode,
        [(HeaderName, String); 1],
        Json<CheckoutAccepted>,
    ),
    ApiError,
> {
    let store = state.store();
    let empty = || ApiError::conflict("the cart is empty");
    let current = CARTS.get(store, &user.id).await?.ok_or_else(empty)?;
    let catalog = listings(store, current.value.cart.product_ids()).await?;
    let priced = price(&current.value.cart, &catalog)?;
    // Lines whose product left the catalog are not priced, so a cart of only those
    // is as empty as it looks.
    let total = priced.total.ok_or_else(empty)?;

    let order_id = Uuid::now_v7().to_string();
    let checkout_id = Uuid::now_v7().to_string();
    let checked_out = CartCheckedOut {
        checkout_id: checkout_id.clone(),
        order_id: order_id.clone(),
        user_id: user.id.clone(),
        items: priced
            .lines
            .into_iter()
            .map(|line| LineItem {
                product_id: line.product_id,
                name: line.name,
                unit_price: line.unit_price,
                quantity: line.quantity.get(),
            })
            .collect(),
        total,
    };
    // Emptying the cart is guarded by the version just read: of two checkouts racing on
    // one cart, only one batch commits, so the same lines never become two orders. The
    // loser gets a 409, and is not retried: its cart is gone.
    let writes = save_cart(&user.id, Some(&current), &CartDoc::new(Cart::default()));
    state
        .outbox
        .commit(writes, vec![Envelope::new(&checked_out, correlation_id)])
        .await?;
    checkouts.accepted();
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/api/v1/orders/{order_id}"))],
        Json(CheckoutAccepted {
            order_id,
            checkout_id,
        }),
    ))
}
