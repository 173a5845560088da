use axum::{Json, extract::State};
use doc_store::{Query, SortOrder};
use serde::Serialize;
use service_kit::{
    ApiError, AuthUser, ErrorBody,
    openapi::PagingRefused,
    paging::{PageParams, PageRequest, Paged},
};
use utoipa::ToSchema;

use super::NotificationState;
use crate::{
    domain::{Notification, NotificationKind},
    store::NOTIFICATIONS,
};

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Notification)]
pub struct NotificationView {
    /// The id of the event the notification reports.
    pub id: String,
    /// The event type it reports, e.g. `payment.completed`.
    pub kind: NotificationKind,
    #[schema(example = "Payment received")]
    pub title: String,
    #[schema(
        example = "Payment of 12.34 EUR received for order 0190a3c4-7b2e-7c41-9d1e-2f6a8b3c4d5e."
    )]
    pub message: String,
    pub order_id: String,
    /// RFC 3339 time (UTC) of what the notification reports.
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            kind: n.kind,
            title: n.title,
            message: n.message,
            order_id: n.order_id,
            created_at: service_kit::timestamp::sortable::format(n.created_at),
        }
    }
}

/// The caller's own notifications, newest first. Admins get theirs too; there is no
/// view of other users' notifications.
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    security(("bearerAuth" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of the caller's notifications", body = Paged<NotificationView>),
        (status = 503, description = "Signing keys or storage unavailable; retry later", body = ErrorBody),
        PagingRefused,
    )
)]
pub async fn list_notifications(
    State(state): State<NotificationState>,
    user: AuthUser,
    request: PageRequest,
) -> Result<Json<Paged<NotificationView>>, ApiError> {
    // The store breaks ties in `created_at` by id, so pages never overlap or skip.
    let query = Query::eq("user_id", user.id.as_str()).sort_by("created_at", SortOrder::Desc);
    let page = Paged::find(state.store.as_ref(), NOTIFICATIONS, query, request, |n| {
        n.value.into()
    })
    .await?;
    Ok(Json(page))
}
