use axum::{
    Json,
    extract::{Path, State},
    http::HeaderMap,
};
use doc_store::{SortOrder, Versioned};
use money::Money;
use serde::{Deserialize, Serialize};
use service_kit::{
    AdminUser, ApiError, ApiJson, ApiQuery, AuthUser, CorrelationId, ErrorBody,
    openapi::{MalformedJson, NotAdmin, PagingRefused},
    paging::{PageParams, PageRequest, Paged, get_visible, visible_to},
    timestamp,
};
use utoipa::{IntoParams, ToSchema};

use super::{ApiState, Orders};
use crate::{
    domain::{CardNumber, PaymentStatus},
    store::{PAYMENTS, Payment, StatusChange},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    /// Also the provider's idempotency key for the charge.
    pub id: String,
    pub order_id: String,
    /// The customer who owns the order.
    pub user_id: String,
    /// The order total.
    pub amount: Money,
    pub status: PaymentStatus,
    /// True once the order's stock is reserved; only then can it be paid.
    pub payable: bool,
    /// The provider's id of the charge, once completed.
    pub provider_reference: Option<String>,
    /// The provider's id of the refund, once refunded.
    pub refund_reference: Option<String>,
    /// True while the order is cancelled but a charge whose outcome was never learnt
    /// is being reversed at the provider; the payment then becomes `voided`.
    pub reversing: bool,
    /// The provider's id of that reversal, when it gave money back.
    pub reversal_reference: Option<String>,
    /// Why the provider declined, when failed.
    pub failure_reason: Option<String>,
    /// Last four digits of the card charged; the rest is never kept.
    #[schema(example = "4242")]
    pub card_last4: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// Every status the payment had, oldest first.
    pub history: Vec<PaymentStatusChange>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentStatusChange {
    pub status: PaymentStatus,
    /// RFC 3339.
    pub at: String,
    /// What caused the change, e.g. the decline reason.
    pub note: Option<String>,
}

impl From<Versioned<Payment>> for PaymentView {
    fn from(p: Versioned<Payment>) -> Self {
        let v = p.value;
        Self {
            id: p.id,
            order_id: v.order_id,
            user_id: v.user_id,
            amount: v.amount,
            status: v.status,
            payable: v.payable,
            provider_reference: v.provider_reference,
            refund_reference: v.refund_reference,
            reversing: v.reversing,
            reversal_reference: v.reversal_reference,
            failure_reason: v.failure_reason,
            card_last4: v.card_last4,
            created_at: timestamp::rfc3339(v.created_at),
            updated_at: timestamp::rfc3339(v.updated_at),
            history: v
                .history
                .into_iter()
                .map(PaymentStatusChange::from)
                .collect(),
        }
    }
}

impl From<StatusChange> for PaymentStatusChange {
    fn from(c: StatusChange) -> Self {
        Self {
            status: c.status,
            at: timestamp::rfc3339(c.at),
            note: c.note,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentFilter {
    /// Only the payment of this order.
    pub order_id: Option<String>,
}

/// What the customer pays with. Nothing else is accepted, so a stray field is a 422
/// rather than silently ignored.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    /// 13 to 19 digits. The simulated provider approves 4242424242424242 and declines
    /// 4000000000000002 and every other number.
    #[schema(example = "4242424242424242", pattern = "^[0-9]{13,19}$")]
    pub card_number: String,
}

/// Hand-written so that a card number never reaches a log through `{:?}`.
impl std::fmt::Debug for PayRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PayRequest { card_number: <redacted> }")
    }
}

/// What the payment routes need of an order, as the order service answers it.
#[derive(Debug, Deserialize)]
struct OrderAsKnown {
    user_id: String,
    status: String,
    total: event_contracts::Money,
    stock_reserved: bool,
}

impl Orders {
    /// The order as the order service holds it now, read as the caller.
    async fn get(
        &self,
        order_id: &str,
        caller: &HeaderMap,
    ) -> Result<Option<OrderAsKnown>, ApiError> {
        self.0.get(&["api", "v1", "orders", order_id], caller).await
    }
}

fn no_such_payment() -> ApiError {
    ApiError::not_found("no such payment")
}

/// The payment if the caller owns it (or is an admin).
async fn visible(
    state: &ApiState,
    user: &AuthUser,
    id: &str,
) -> Result<Versioned<Payment>, ApiError> {
    let store = state.payments.store();
    get_visible(store, PAYMENTS, id, user, |p| &p.user_id, no_such_payment).await
}

/// The caller's payments, or every payment for an admin; newest first.
#[utoipa::path(
    get,
    path = "/api/v1/payments",
    security(("bearerAuth" = [])),
    params(PageParams, PaymentFilter),
    responses(
        (status = 200, description = "A page of payments, newest first", body = Paged<PaymentView>),
        (status = 503, description = "Asked for an order's payment not made yet, and the order service cannot be asked about the order; `Retry-After` says when to try again", body = ErrorBody),
        PagingRefused,
    )
)]
pub async fn list_payments(
    State(state): State<ApiState>,
    State(orders): State<Orders>,
    user: AuthUser,
    headers: HeaderMap,
    request: PageRequest,
    ApiQuery(filter): ApiQuery<PaymentFilter>,
) -> Result<Json<Paged<PaymentView>>, ApiError> {
    let mut query = visible_to(&user, "user_id");
    if let Some(order_id) = &filter.order_id {
        query = query.and_eq("order_id", order_id.as_str());
    }
    // Ids are UUID v7, so id order is creation order.
    let query = query.sort_by("_id", SortOrder::Desc);
    let page = Paged::find(
        state.payments.store(),
        PAYMENTS,
        query.clone(),
        request.clone(),
        PaymentView::from,
    )
    .await?;
    // The order's payment, asked for by a customer who just checked out, may not be
    // made yet (order.created on its way): the order service, asked as the caller,
    // says whether the order exists, and the payment is made from its answer.
    let Some(order_id) = filter.order_id.filter(|_| page.items.is_empty()) else {
        return Ok(Json(page));
    };
    let Some(order) = orders.get(&order_id, &headers).await? else {
        return Ok(Json(page));
    };
    let cancelled = (order.status == "cancelled").then_some("order cancelled");
    state
        .payments
        .adopt(
            &order_id,
            &order.user_id,
            order.total,
            order.stock_reserved && cancelled.is_none(),
            cancelled,
        )
        .await?;
    let page = Paged::find(
        state.payments.store(),
        PAYMENTS,
        query,
        request,
        PaymentView::from,
    )
    .await?;
    Ok(Json(page))
}

/// One payment, to its owner or an admin.
#[utoipa::path(
    get,
    path = "/api/v1/payments/{id}",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Payment id")),
    responses(
        (status = 200, description = "The payment", body = PaymentView),
        (status = 404, description = "No such payment, or not yours", body = ErrorBody),
    )
)]
pub async fn get_payment(
    State(state): State<ApiState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<PaymentView>, ApiError> {
    Ok(Json(visible(&state, &user, &id).await?.into()))
}

/// Pays for the order with a card, once the order service confirms the order is not
/// cancelled. A declined card is an answer, not an error: 200 with the payment `failed`
/// and the reason. Only a provider that gives no answer is a 502,
/// and then the payment stays `pending` and may be paid again.
#[utoipa::path(
    post,
    path = "/api/v1/payments/{id}/pay",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Payment id")),
    request_body = PayRequest,
    responses(
        (status = 200, description = "The provider answered: the payment is `completed`, or `failed` with the reason", body = PaymentView),
        (status = 403, description = "An admin cannot pay a customer's payment", body = ErrorBody),
        (status = 404, description = "No such payment, or not yours", body = ErrorBody),
        (status = 409, description = "Not pending, not payable yet (stock not reserved: `Retry-After` says when to try again), being paid right now, or its order was cancelled and a charge of unknown outcome is being reversed", body = ErrorBody),
        (status = 503, description = "The order service cannot be asked whether the order's stock is reserved; `Retry-After` says when to try again", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "card_number is not 13 to 19 digits, or an unknown field was sent", body = ErrorBody),
        (status = 502, description = "The payment provider did not answer: the payment stays pending, and paying again (the same idempotency key) charges the card at most once", body = ErrorBody),
        MalformedJson,
    )
)]
pub async fn pay(
    State(state): State<ApiState>,
    State(orders): State<Orders>,
    user: AuthUser,
    CorrelationId(correlation): CorrelationId,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<PayRequest>,
) -> Result<Json<PaymentView>, ApiError> {
    let card = CardNumber::parse(&request.card_number)
        .map_err(|message| ApiError::invalid("card_number", message))?;
    let mut payment = visible(&state, &user, &id).await?;
    if payment.value.user_id != user.id {
        // Only an admin gets this far with someone else's payment.
        return Err(ApiError::forbidden(
            "only the customer who placed the order can pay for it",
        ));
    }
    let p = &payment.value;
    if p.status == PaymentStatus::Pending && !p.reversing {
        // The order service is the authority on whether the order may be paid: its
        // cancellation, or its stock reservation, may not have reached us yet.
        let order = match orders.get(&p.order_id, &headers).await {
            Ok(order) => order,
            // A payable payment is paid all the same: a cancellation that arrives
            // later refunds it. One not payable yet must wait.
            Err(e) if p.payable => {
                tracing::warn!(payment_id = %id, error = %e, "cannot ask the order service before a charge; charging");
                None
            }
            Err(e) => return Err(e),
        };
        if order.as_ref().is_some_and(|o| o.status == "cancelled") {
            return Err(ApiError::conflict(
                "the order was cancelled, so it cannot be paid",
            ));
        }
        if !p.payable {
            if !order.is_some_and(|o| o.stock_reserved) {
                return Err(ApiError::conflict(
                    "the payment cannot be paid until the order's stock is reserved; retry shortly",
                )
                .retry_after(1));
            }
            payment = state.payments.mark_payable(&id).await?;
        }
    }
    // Runs to the end on its own task: if the client hangs up, axum drops this handler,
    // and a charge the provider made must still be recorded and announced.
    let payments = state.payments.clone();
    let paid = tokio::spawn(async move { payments.pay(payment, &card, &correlation).await })
        .await
        .map_err(ApiError::internal)??;
    Ok(Json(paid.into()))
}

/// Returns a completed payment's money to the customer.
#[utoipa::path(
    post,
    path = "/api/v1/payments/{id}/refund",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Payment id")),
    responses(
        (status = 200, description = "Refunded", body = PaymentView),
        (status = 404, description = "No such payment", body = ErrorBody),
        (status = 409, description = "The payment is not completed", body = ErrorBody),
        (status = 502, description = "The payment provider did not refund; the payment is still completed", body = ErrorBody),
        NotAdmin,
    )
)]
pub async fn refund(
    State(state): State<ApiState>,
    _admin: AdminUser,
    CorrelationId(correlation): CorrelationId,
    Path(id): Path<String>,
) -> Result<Json<PaymentView>, ApiError> {
    // On its own task for the same reason as a charge: money the provider returned is
    // recorded even if the admin's client hangs up.
    let payments = state.payments.clone();
    let refunded = tokio::spawn(async move { payments.refund_now(&id, &correlation).await })
        .await
        .map_err(ApiError::internal)??
        .ok_or_else(no_such_payment)?;
    Ok(Json(refunded.into()))
}
