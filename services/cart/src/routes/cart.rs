use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
};
use money::Money;
use serde::{Deserialize, Serialize};
use service_kit::{ApiError, ApiJson, AuthUser, ErrorBody, OutboxState, openapi::MalformedJson};
use utoipa::ToSchema;

use event_bus::BoxError;

use super::{Products, retrying};
use crate::{
    domain::{Listing, PricedCart, PricedLine, Quantity, SnapshotStamp, price},
    store::{
        CARTS, CATALOG, CartDoc, CatalogEntry, CatalogProduct, as_conflict, listings, save_cart,
    },
};

/// Longer ids are never product ids; refusing them keeps junk out of lookups and logs.
const MAX_PRODUCT_ID_CHARS: usize = 200;

/// The caller's cart with current names and prices, in integer minor units.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Cart)]
pub struct CartView {
    /// One line per product, in the order the products were first added.
    pub items: Vec<CartItemView>,
    /// Units in the cart, over all lines.
    #[schema(example = 3)]
    pub item_count: u64,
    /// Sum of the line totals, in the cart's currency; `null` while the cart is empty,
    /// as an empty cart has no currency.
    #[schema(required = true)]
    pub total: Option<Money>,
}

/// One product in the cart, at its current name and price.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CartItem)]
pub struct CartItemView {
    pub product_id: String,
    /// The product's current name.
    pub name: String,
    /// The product's current price.
    pub unit_price: Money,
    #[schema(minimum = 1, maximum = 1000, example = 2)]
    pub quantity: u32,
    /// `unit_price` times `quantity`.
    pub line_total: Money,
}

impl From<PricedLine> for CartItemView {
    fn from(line: PricedLine) -> Self {
        Self {
            product_id: line.product_id,
            name: line.name,
            unit_price: line.unit_price,
            quantity: line.quantity.get(),
            line_total: line.line_total,
        }
    }
}

impl From<PricedCart> for CartView {
    fn from(priced: PricedCart) -> Self {
        Self {
            item_count: priced.item_count(),
            total: priced.total,
            items: priced.lines.into_iter().map(CartItemView::from).collect(),
        }
    }
}

/// A product to put in the cart.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddItem {
    #[schema(example = "0196a0c4-7f1e-7d2a-9c41-5b7f0e3a9d10")]
    pub product_id: String,
    /// How many to add; added to what the cart already holds of the product.
    #[schema(minimum = 1, maximum = 1000, example = 2)]
    pub quantity: u32,
}

/// The new quantity of a product already in the cart.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetQuantity {
    #[schema(minimum = 1, maximum = 1000, example = 3)]
    pub quantity: u32,
}

fn product_id(raw: String) -> Result<String, ApiError> {
    if raw.is_empty() {
        return Err(ApiError::invalid(
            "product_id",
            "product_id cannot be empty",
        ));
    }
    if raw.chars().count() > MAX_PRODUCT_ID_CHARS {
        return Err(ApiError::invalid(
            "product_id",
            format!("product_id must be at most {MAX_PRODUCT_ID_CHARS} characters"),
        ));
    }
    Ok(raw)
}

/// One change a customer makes to their own cart.
#[derive(Debug)]
enum Change {
    Add {
        product_id: String,
        quantity: Quantity,
        /// The product as its service answered, when the catalog had not heard of it.
        read: Option<CatalogProduct>,
    },
    Set {
        product_id: String,
        quantity: Quantity,
    },
    Remove {
        product_id: String,
    },
}

/// Applies `change` to the caller's cart and stores it, all again if the cart changed
/// meanwhile. Answers the priced cart for the changes that show it.
async fn change_cart(
    state: &OutboxState,
    user_id: &str,
    change: Change,
) -> Result<Option<PricedCart>, ApiError> {
    retrying(|| apply(state, user_id, &change)).await
}

/// Reads the cart and the listings of its products, applies the change and commits it,
/// guarded by the cart version read. Lines of products that left the catalog are
/// dropped on the way: they are no longer shown, so keeping them would only surprise
/// the customer later.
async fn apply(
    state: &OutboxState,
    user_id: &str,
    change: &Change,
) -> Result<Option<PricedCart>, BoxError> {
    let store = state.store();
    let current = CARTS.get(store, user_id).await?;
    let mut cart = current
        .as_ref()
        .map(|c| c.value.cart.clone())
        .unwrap_or_default();
    let added = match change {
        Change::Add { product_id, .. } => Some(product_id.as_str()),
        _ => None,
    };
    // Collected first: a future holding the lazy iterator (and its closure) across the
    // await would not be `Send` for every lifetime, as axum handlers must be.
    let wanted: Vec<&str> = cart.product_ids().chain(added).collect();
    let mut catalog = listings(store, wanted).await?;
    cart.retain_products(|id| catalog.contains_key(id));
    let mut learnt = None;
    if let Change::Add {
        product_id,
        read: Some(product),
        ..
    } = change
        && !catalog.contains_key(product_id)
        // Removed meanwhile: the tombstone stands.
        && CATALOG.get(store, product_id).await?.is_none()
    {
        catalog.insert(
            product_id.clone(),
            Listing {
                name: product.name.clone(),
                unit_price: product.price,
            },
        );
        let entry = CatalogEntry {
            product: Some(product.clone()),
            stamp: SnapshotStamp::read_through(),
            updated_at: time::OffsetDateTime::now_utc(),
        };
        // An insert: should the event have stored the product meanwhile, the batch
        // fails as a conflict and runs again on what the event stored.
        learnt = Some(CATALOG.insert(product_id, &entry));
    }
    let priced = match change {
        Change::Add {
            product_id,
            quantity,
            ..
        } => {
            if !catalog.contains_key(product_id) {
                return Err(ApiError::invalid(
                    "product_id",
                    format!("no product {product_id} in the catalog"),
                )
                .into());
            }
            cart.add(product_id, *quantity).map_err(ApiError::from)?;
            Some(price(&cart, &catalog).map_err(ApiError::from)?)
        }
        Change::Set {
            product_id,
            quantity,
        } => {
            cart.set(product_id, *quantity).map_err(ApiError::from)?;
            Some(price(&cart, &catalog).map_err(ApiError::from)?)
        }
        // No pricing: taking a line out must work even when the rest cannot be totalled.
        Change::Remove { product_id } => {
            cart.remove(product_id).map_err(ApiError::from)?;
            None
        }
    };
    let mut writes = save_cart(user_id, current.as_ref(), &CartDoc::new(cart));
    writes.extend(learnt);
    store.commit(writes).await.map_err(as_conflict)?;
    Ok(priced)
}

/// The caller's cart, priced from the current catalog.
#[utoipa::path(
    get,
    path = "/api/v1/cart",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The cart (empty if nothing was ever added). Products that left the catalog are not shown.", body = CartView),
        (status = 422, description = "The cart cannot be totalled: a product in it changed currency, or the total overflows; `details.product_id` names the line to change or remove", body = ErrorBody),
    )
)]
pub async fn get_cart(
    State(state): State<OutboxState>,
    user: AuthUser,
) -> Result<Json<CartView>, ApiError> {
    let store = state.store();
    let cart = CARTS
        .get(store, &user.id)
        .await?
        .map(|c| c.value.cart)
        .unwrap_or_default();
    let catalog = listings(store, cart.product_ids()).await?;
    Ok(Json(price(&cart, &catalog)?.into()))
}

/// Puts a product in the caller's cart, or more of it if it is already there.
#[utoipa::path(
    post,
    path = "/api/v1/cart/items",
    security(("bearerAuth" = [])),
    request_body = AddItem,
    responses(
        (status = 200, description = "The cart after the addition", body = CartView),
        (status = 409, description = "The cart kept changing concurrently; retry", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 415, description = "Body is not JSON", body = ErrorBody),
        (status = 422, description = "`quantity` is not 1 to 1000 (after adding to what the cart holds), or `product_id` names no product in the catalog, is priced in another currency than the cart, or would be the 101st product; an unknown field is refused too. `details.field` names the field", body = ErrorBody),
        (status = 503, description = "The product is new to the cart and the product service cannot be asked about it; `Retry-After` says when to try again", body = ErrorBody),
        MalformedJson,
    )
)]
pub async fn add_item(
    State(state): State<OutboxState>,
    State(products): State<Products>,
    user: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AddItem>,
) -> Result<Json<CartView>, ApiError> {
    let quantity = Quantity::parse(body.quantity)?;
    let product_id = product_id(body.product_id)?;
    let read = products.unheard_of(&state, &product_id, &headers).await?;
    let change = Change::Add {
        product_id,
        quantity,
        read,
    };
    let priced = change_cart(&state, &user.id, change).await?;
    Ok(Json(priced.unwrap_or_default().into()))
}

impl Products {
    /// A product the cart's catalog has never heard of (not even as removed), as the
    /// product service answers now: it may have been created a moment ago, its
    /// `product.created` still on its way. `None` when the catalog knows it, or when it
    /// does not exist.
    async fn unheard_of(
        &self,
        state: &OutboxState,
        product_id: &str,
        caller: &HeaderMap,
    ) -> Result<Option<CatalogProduct>, ApiError> {
        #[derive(Deserialize)]
        struct Listed {
            name: String,
            owner_id: String,
            price: event_contracts::Money,
        }
        if CATALOG.get(state.store(), product_id).await?.is_some() {
            return Ok(None);
        }
        Ok(self
            .0
            .get::<Listed>(&["api", "v1", "products", product_id], caller)
            .await?
            .map(|p| CatalogProduct::new(p.name, p.owner_id, p.price)))
    }
}

/// Sets how many of a product the caller's cart holds.
#[utoipa::path(
    patch,
    path = "/api/v1/cart/items/{product_id}",
    security(("bearerAuth" = [])),
    params(("product_id" = String, Path, description = "A product in the cart")),
    request_body = SetQuantity,
    responses(
        (status = 200, description = "The cart after the change", body = CartView),
        (status = 404, description = "The product is not in the cart", body = ErrorBody),
        (status = 409, description = "The cart kept changing concurrently; retry", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 415, description = "Body is not JSON", body = ErrorBody),
        (status = 422, description = "`quantity` is not 1 to 1000 (remove the line to drop the product), or the cart cannot be totalled (`details.product_id` names the line)", body = ErrorBody),
        MalformedJson,
    )
)]
pub async fn update_item(
    State(state): State<OutboxState>,
    user: AuthUser,
    Path(product_id): Path<String>,
    ApiJson(body): ApiJson<SetQuantity>,
) -> Result<Json<CartView>, ApiError> {
    let quantity = Quantity::parse(body.quantity)?;
    let change = Change::Set {
        product_id,
        quantity,
    };
    let priced = change_cart(&state, &user.id, change).await?;
    Ok(Json(priced.unwrap_or_default().into()))
}

/// Takes a product out of the caller's cart. Answers without a body so that removing a
/// line always works, even from a cart that cannot be totalled any more.
#[utoipa::path(
    delete,
    path = "/api/v1/cart/items/{product_id}",
    security(("bearerAuth" = [])),
    params(("product_id" = String, Path, description = "A product in the cart")),
    responses(
        (status = 204, description = "Removed; `GET /api/v1/cart` shows the rest"),
        (status = 404, description = "The product is not in the cart", body = ErrorBody),
        (status = 409, description = "The cart kept changing concurrently; retry", body = ErrorBody),
    )
)]
pub async fn remove_item(
    State(state): State<OutboxState>,
    user: AuthUser,
    Path(product_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    change_cart(&state, &user.id, Change::Remove { product_id }).await?;
    Ok(StatusCode::NO_CONTENT)
}
