use axum::{
    Json,
    extract::{Path, State},
    http::HeaderMap,
};
use doc_store::{SortOrder, Versioned};
use serde::{Deserialize, Serialize};
use serde_json::json;
use service_kit::{
    AdminUser, ApiError, ApiQuery, AuthUser, CorrelationId, ErrorBody, OutboxState,
    openapi::{NotAdmin, PagingRefused},
    paging::{PageParams, PageRequest, Paged, get_visible, visible_to},
    timestamp,
};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::Orders;
use crate::{
    domain::{Outcome, ShipmentStatus, Step},
    events::{Cause, announce},
    store::{SHIPMENTS, Shipment, StatusChange},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentView {
    pub id: String,
    pub order_id: String,
    /// The customer the order belongs to.
    pub user_id: String,
    pub status: ShipmentStatus,
    /// Every status the shipment entered, oldest first.
    pub history: Vec<ShipmentStatusChange>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339 time of the last status change.
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentStatusChange {
    pub status: ShipmentStatus,
    /// RFC 3339.
    pub at: String,
}

impl ShipmentView {
    fn new(id: String, s: Shipment) -> Self {
        Self {
            id,
            order_id: s.order_id,
            user_id: s.user_id,
            status: s.status,
            history: s
                .history
                .into_iter()
                .map(|StatusChange { status, at }| ShipmentStatusChange {
                    status,
                    at: timestamp::rfc3339(at),
                })
                .collect(),
            created_at: timestamp::rfc3339(s.created_at),
            updated_at: timestamp::rfc3339(s.updated_at),
        }
    }
}

/// Filters of the shipment list, besides paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShipmentFilter {
    /// Only the shipment of this order.
    pub order_id: Option<String>,
}

fn no_such_shipment() -> ApiError {
    ApiError::not_found("no such shipment")
}

/// The caller's shipments, or every shipment for an admin; newest first.
#[utoipa::path(
    get,
    path = "/api/v1/shipments",
    security(("bearerAuth" = [])),
    params(PageParams, ShipmentFilter),
    responses(
        (status = 200, description = "A page of shipments", body = Paged<ShipmentView>),
        (status = 503, description = "Storage or token keys unavailable, or (for an order whose shipment is not made yet) the order service; retry later", body = ErrorBody),
        PagingRefused,
    )
)]
pub async fn list_shipments(
    State(state): State<OutboxState>,
    State(orders): State<Orders>,
    user: AuthUser,
    headers: HeaderMap,
    CorrelationId(correlation): CorrelationId,
    request: PageRequest,
    ApiQuery(filter): ApiQuery<ShipmentFilter>,
) -> Result<Json<Paged<ShipmentView>>, ApiError> {
    let mut query = visible_to(&user, "user_id");
    if let Some(order_id) = &filter.order_id {
        query = query.and_eq("order_id", order_id.as_str());
    }
    let query = query.sort_by("created_at", SortOrder::Desc);
    let view = |s: Versioned<Shipment>| ShipmentView::new(s.id, s.value);
    let page = Paged::find(
        state.store(),
        SHIPMENTS,
        query.clone(),
        request.clone(),
        view,
    )
    .await?;
    // An order's shipment asked for right after checkout may not be made yet (its
    // events on their way): the order service, asked as the caller, says what state
    // the order is in, and the shipment is made as those events would have made it.
    let Some(order_id) = filter.order_id.filter(|_| page.items.is_empty()) else {
        return Ok(Json(page));
    };
    let Some(order) = orders.order(&order_id, &headers).await? else {
        return Ok(Json(page));
    };
    let step = match order.status.as_str() {
        "pending" => Step::Open,
        "paid" | "awaiting_shipment" => Step::Pay,
        "cancelled" | "refunded" => Step::Cancel,
        // Delivered or later: only shipping moves an order there, so its shipment exists.
        _ => return Ok(Json(page)),
    };
    if let Outcome::Enters(status) = ShipmentStatus::first(step) {
        let id = uuid::Uuid::now_v7().to_string();
        let shipment = Shipment::new(&order_id, &order.user_id, status, OffsetDateTime::now_utc());
        let events = announce(&id, &shipment, Cause::Request(&correlation))
            .into_iter()
            .collect();
        match state
            .outbox
            .commit(vec![SHIPMENTS.insert(&id, &shipment)], events)
            .await
        {
            // Made meanwhile by its event: that one stands.
            Ok(()) | Err(doc_store::StoreError::Duplicate { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Json(
        Paged::find(state.store(), SHIPMENTS, query, request, view).await?,
    ))
}

/// One shipment, for its customer or an admin.
#[utoipa::path(
    get,
    path = "/api/v1/shipments/{id}",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Shipment id")),
    responses(
        (status = 200, description = "Shipment with its status history", body = ShipmentView),
        (status = 404, description = "No such shipment, or not the caller's", body = ErrorBody),
        (status = 503, description = "Storage or token keys unavailable; retry later", body = ErrorBody),
    )
)]
pub async fn get_shipment(
    State(state): State<OutboxState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<ShipmentView>, ApiError> {
    let shipment = get_visible(
        state.store(),
        SHIPMENTS,
        &id,
        &user,
        |s| &s.user_id,
        no_such_shipment,
    )
    .await?;
    Ok(Json(ShipmentView::new(shipment.id, shipment.value)))
}

/// Marks an awaiting shipment delivered and announces `shipment.delivered`. The order
/// service is asked first: goods ship only for an order it holds as paid, which its
/// customer can no longer cancel.
#[utoipa::path(
    post,
    path = "/api/v1/shipments/{id}/deliver",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Shipment id")),
    responses(
        (status = 200, description = "Delivered shipment", body = ShipmentView),
        (status = 404, description = "No such shipment", body = ErrorBody),
        (status = 409, description = "Not awaiting delivery (`details.status` says what it is), changed concurrently, or its order is not paid (`details.order_status`): cancelled or refunded, or still pending, when `Retry-After` says to try again", body = ErrorBody),
        (status = 503, description = "Storage, token keys or the order service unavailable; retry later", body = ErrorBody),
        NotAdmin,
    )
)]
pub async fn deliver_shipment(
    State(state): State<OutboxState>,
    State(orders): State<Orders>,
    _admin: AdminUser,
    CorrelationId(correlation): CorrelationId,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ShipmentView>, ApiError> {
    let current = read(&state, &id).await?;
    let precondition = "only an awaiting shipment can be delivered";
    if matches!(current.value.status.on(Step::Deliver), Outcome::Enters(_)) {
        let order_status = orders.status_of(&current.value.order_id, &headers).await?;
        match order_status.as_str() {
            "paid" | "awaiting_shipment" => {}
            // Paid at the payment service, but not yet at the order service: until it
            // is, the customer may still cancel.
            "pending" => {
                return Err(ApiError::conflict(
                    "the order is still pending: its payment has not reached it yet, and \
                     until it has, its customer may cancel it; retry shortly",
                )
                .with_details(
                    json!({ "status": current.value.status, "order_status": order_status }),
                )
                .retry_after(1));
            }
            _ => {
                return Err(ApiError::conflict(format!(
                    "the order is {order_status}, so its goods must not ship; the shipment \
                     will be called off"
                ))
                .with_details(
                    json!({ "status": current.value.status, "order_status": order_status }),
                ));
            }
        }
    }
    advance(
        &state,
        current,
        &[Step::Deliver],
        precondition,
        &correlation,
    )
    .await
}

/// Records that the goods of an open return came back, and announces
/// `shipment.returned` (which makes the payment service refund).
#[utoipa::path(
    post,
    path = "/api/v1/shipments/{id}/return",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Shipment id")),
    responses(
        (status = 200, description = "Returned shipment", body = ShipmentView),
        (status = 404, description = "No such shipment", body = ErrorBody),
        (status = 409, description = "No return is open (`details.status` says what it is; for a delivered shipment, `details.order_status` what the order service says), or changed concurrently", body = ErrorBody),
        (status = 503, description = "Storage, token keys or the order service unavailable; retry later", body = ErrorBody),
        NotAdmin,
    )
)]
pub async fn return_shipment(
    State(state): State<OutboxState>,
    State(orders): State<Orders>,
    _admin: AdminUser,
    CorrelationId(correlation): CorrelationId,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ShipmentView>, ApiError> {
    let current = read(&state, &id).await?;
    let precondition = "only a shipment with an open return can be marked returned";
    // The customer's return answered at the order service, but its event has not
    // opened the return here yet: the order service is the authority, so open it now.
    if current.value.status == ShipmentStatus::Delivered {
        let order_status = orders.status_of(&current.value.order_id, &headers).await?;
        if order_status == "return_requested" {
            return advance(
                &state,
                current,
                &[Step::OpenReturn, Step::ReceiveReturn],
                precondition,
                &correlation,
            )
            .await;
        }
        return Err(ApiError::conflict(format!(
            "{precondition}; this one is delivered, and its order is {order_status}"
        ))
        .with_details(json!({ "status": current.value.status, "order_status": order_status })));
    }
    advance(
        &state,
        current,
        &[Step::ReceiveReturn],
        precondition,
        &correlation,
    )
    .await
}

/// What the shipping routes need of an order, as the order service answers it.
#[derive(Deserialize)]
struct OrderAsKnown {
    user_id: String,
    status: String,
}

impl Orders {
    /// The order as the order service holds it now, read as the caller.
    async fn order(
        &self,
        order_id: &str,
        caller: &HeaderMap,
    ) -> Result<Option<OrderAsKnown>, ApiError> {
        self.0.get(&["api", "v1", "orders", order_id], caller).await
    }

    /// The order's status as the order service holds it now, read as the caller.
    async fn status_of(&self, order_id: &str, caller: &HeaderMap) -> Result<String, ApiError> {
        match self.order(order_id, caller).await? {
            Some(order) => Ok(order.status),
            // The order is stored before its order.created, which made this shipment,
            // so this is the order service answering wrongly or from elsewhere.
            None => Err(ApiError::unavailable(format!(
                "the order service does not know order {order_id}"
            ))),
        }
    }
}

async fn read(state: &OutboxState, id: &str) -> Result<Versioned<Shipment>, ApiError> {
    SHIPMENTS
        .get(state.store(), id)
        .await?
        .ok_or_else(no_such_shipment)
}

/// An admin's steps, taken in turn: applied only if the domain allows each from the
/// status before it, and written at once guarded by the read's version, so of two
/// concurrent requests one wins and the other gets 409 without announcing anything.
/// The last status reached is announced.
async fn advance(
    state: &OutboxState,
    mut current: Versioned<Shipment>,
    steps: &[Step],
    precondition: &str,
    correlation: &str,
) -> Result<Json<ShipmentView>, ApiError> {
    // A race with an event about the same shipment (the one that opens a return, say)
    // is read again and decided on what the event stored; only a step another admin
    // took first ends in 409.
    for _ in 0..LOST_RACE_TRIES {
        let now = OffsetDateTime::now_utc();
        let mut updated = current.value.clone();
        let (last, leading) = steps.split_last().expect("an admin's action has a step");
        for step in leading {
            // Taken meanwhile by its event: nothing left to do for it.
            if let Outcome::Enters(next) = updated.status.on(*step) {
                updated = updated.entering(next, now);
            }
        }
        let status = updated.status;
        let Outcome::Enters(next) = status.on(*last) else {
            return Err(
                ApiError::conflict(format!("{precondition}; this one is {status}"))
                    .with_details(json!({ "status": status })),
            );
        };
        updated = updated.entering(next, now);
        let events = announce(&current.id, &updated, Cause::Request(correlation))
            .into_iter()
            .collect();
        match state
            .outbox
            .commit(vec![SHIPMENTS.update(&current, &updated)], events)
            .await
        {
            Ok(()) => {
                tracing::info!(shipment_id = %current.id, status = %next, "shipment moved by an admin");
                return Ok(Json(ShipmentView::new(current.id, updated)));
            }
            Err(doc_store::StoreError::VersionConflict { .. }) => {
                current = read(state, &current.id).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict(
        "the shipment kept changing while this was decided; retry",
    ))
}

/// How often an admin's step is decided again after losing a race with an event.
const LOST_RACE_TRIES: usize = 5;
