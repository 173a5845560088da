use axum::{
    Json,
    extract::{Path, State},
};
use doc_store::{SortOrder, StoreError, Versioned};
use event_bus::ConflictRetry;
use event_contracts::Money;
use serde::{Deserialize, Serialize};
use service_kit::{
    ApiError, ApiQuery, AuthUser, CorrelationId, ErrorBody, OutboxState,
    openapi::PagingRefused,
    paging::{PageParams, PageRequest, Paged, get_visible, visible_to},
    timestamp,
};
use utoipa::{IntoParams, ToSchema};

use crate::{
    domain::{OrderStatus, Step, Trigger},
    lifecycle::{Origin, plan},
    metrics::OrderMetrics,
    store::{ORDERS, Order},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLine {
    pub product_id: String,
    pub name: String,
    pub unit_price: Money,
    pub quantity: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderStatusChange {
    pub status: OrderStatus,
    /// RFC 3339.
    pub at: String,
    /// The event or action that caused it.
    pub cause: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: String,
    pub user_id: String,
    pub checkout_id: String,
    pub status: OrderStatus,
    pub items: Vec<OrderLine>,
    pub total: Money,
    /// Whether the product service holds the stock for this order.
    pub stock_reserved: bool,
    /// Every status the order went through, oldest first.
    pub history: Vec<OrderStatusChange>,
    /// RFC 3339.
    pub created_at: String,
}

impl From<Versioned<Order>> for OrderView {
    fn from(o: Versioned<Order>) -> Self {
        let order = o.value;
        Self {
            id: o.id,
            user_id: order.user_id,
            checkout_id: order.checkout_id,
            status: order.status,
            items: order
                .items
                .into_iter()
                .map(|i| OrderLine {
                    product_id: i.product_id,
                    name: i.name,
                    unit_price: i.unit_price,
                    quantity: i.quantity,
                })
                .collect(),
            total: order.total,
            stock_reserved: order.stock_reserved,
            history: order
                .history
                .into_iter()
                .map(|h| OrderStatusChange {
                    status: h.status,
                    at: timestamp::rfc3339(h.at),
                    cause: h.cause,
                })
                .collect(),
            created_at: timestamp::rfc3339(order.created_at),
        }
    }
}

/// Filters of the order list, besides paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilter {
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
}

/// The caller's orders, newest first; an admin sees everyone's.
#[utoipa::path(
    get,
    path = "/api/v1/orders",
    security(("bearerAuth" = [])),
    params(PageParams, OrderFilter),
    responses(
        (status = 200, description = "A page of orders", body = Paged<OrderView>),
        PagingRefused,
    )
)]
pub async fn list(
    State(state): State<OutboxState>,
    user: AuthUser,
    request: PageRequest,
    ApiQuery(query): ApiQuery<OrderFilter>,
) -> Result<Json<Paged<OrderView>>, ApiError> {
    let mut filter = visible_to(&user, "user_id");
    if let Some(status) = query.status {
        filter = filter.and_eq(
            "status",
            serde_json::to_value(status).map_err(ApiError::internal)?,
        );
    }
    // Order ids are UUID v7, so id order is creation order.
    let filter = filter.sort_by("_id", SortOrder::Desc);
    let page = Paged::find(state.store(), ORDERS, filter, request, OrderView::from).await?;
    Ok(Json(page))
}

/// One order with its status history.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Order id (from the checkout answer)")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 404, description = "No such order, or not yet placed (checkout is asynchronous)", body = ErrorBody),
    )
)]
pub async fn get_one(
    State(state): State<OutboxState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let order = get_visible(
        state.store(),
        ORDERS,
        &id,
        &user,
        |o| &o.user_id,
        || ApiError::not_found("no such order"),
    )
    .await?;
    Ok(Json(order.into()))
}

/// A customer action on their own order. Only the owner acts (an admin has the
/// payment and shipment routes); a lost race with an event is retried on fresh state.
async fn act(
    state: &OutboxState,
    metrics: &OrderMetrics,
    user: &AuthUser,
    id: &str,
    trigger: Trigger,
    correlation: &str,
    refusal: &str,
) -> Result<Json<OrderView>, ApiError> {
    // The outer error is the store's (a lost race is tried again); the inner result is
    // the answer to the request.
    let retry = ConflictRetry {
        attempts: 5,
        spread: false,
    };
    let answer = retry
        .run(|| async {
            let Some(current) = ORDERS
                .get(state.store(), id)
                .await?
                .filter(|o| o.value.user_id == user.id)
            else {
                return Ok(Err(ApiError::not_found("no such order")));
            };
            let planned = plan(&current, trigger, Origin::Request(correlation));
            let (writes, events, next) = match planned {
                Ok(planned) => planned,
                Err(Step::Refuse | Step::Ignore | Step::TooEarly) => {
                    return Ok(Err(ApiError::conflict(format!(
                        "{refusal}; the order is {}",
                        serde_json::to_value(current.value.status)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default()
                    ))
                    .with_details(serde_json::json!({ "status": current.value.status }))));
                }
                Err(Step::To(_)) => unreachable!("plan returns Ok for a move"),
            };
            state.outbox.commit(writes, events).await?;
            metrics.entered(next.status);
            Ok(Ok(Json(OrderView::from(Versioned {
                id: current.id,
                version: current.version + 1,
                value: next,
            }))))
        })
        .await;
    match answer {
        Ok(answer) => answer,
        Err(StoreError::VersionConflict { .. }) => {
            Err(ApiError::conflict("the order keeps changing; retry"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Cancels an order that is still pending (not yet paid).
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/cancel",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "Cancelled", body = OrderView),
        (status = 404, description = "No such order of yours", body = ErrorBody),
        (status = 409, description = "The order is no longer pending", body = ErrorBody),
    )
)]
pub async fn cancel(
    State(state): State<OutboxState>,
    State(metrics): State<OrderMetrics>,
    user: AuthUser,
    CorrelationId(correlation): CorrelationId,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    act(
        &state,
        &metrics,
        &user,
        &id,
        Trigger::CustomerCancels,
        &correlation,
        "only a pending order can be cancelled",
    )
    .await
}

/// Accepts a delivered order: it is completed and its stock is committed.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/accept",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "Completed", body = OrderView),
        (status = 404, description = "No such order of yours", body = ErrorBody),
        (status = 409, description = "The order is not delivered", body = ErrorBody),
    )
)]
pub async fn accept(
    State(state): State<OutboxState>,
    State(metrics): State<OrderMetrics>,
    user: AuthUser,
    CorrelationId(correlation): CorrelationId,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    act(
        &state,
        &metrics,
        &user,
        &id,
        Trigger::CustomerAccepts,
        &correlation,
        "only a delivered order can be accepted",
    )
    .await
}

/// Asks to return a delivered order; it ends refunded once the shipment comes back.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/return",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "Return requested", body = OrderView),
        (status = 404, description = "No such order of yours", body = ErrorBody),
        (status = 409, description = "The order is not delivered", body = ErrorBody),
    )
)]
pub async fn request_return(
    State(state): State<OutboxState>,
    State(metrics): State<OrderMetrics>,
    user: AuthUser,
    CorrelationId(correlation): CorrelationId,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    act(
        &state,
        &metrics,
        &user,
        &id,
        Trigger::CustomerReturns,
        &correlation,
        "only a delivered order can be returned",
    )
    .await
}
