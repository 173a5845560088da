use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use doc_store::{Query, SortOrder};
use event_contracts::{Envelope, UserDeleted};
use service_kit::{
    AdminUser, ApiError, CorrelationId, ErrorBody, OutboxState,
    openapi::{NotAdmin, PagingRefused},
    paging::{PageParams, PageRequest, Paged},
};

use super::me::ProfileView;
use crate::store::{DELETED_ACCOUNTS, DeletedAccount, PROFILES};

/// Every profile, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    security(("bearerAuth" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of profiles", body = Paged<ProfileView>),
        NotAdmin,
        PagingRefused,
    )
)]
pub async fn list_users(
    State(state): State<OutboxState>,
    _admin: AdminUser,
    request: PageRequest,
) -> Result<Json<Paged<ProfileView>>, ApiError> {
    // User ids are UUID v7 from registration: id order is sign-up order (sorting the
    // RFC 3339 text would misorder times whose fractions drop trailing zeros).
    let query = Query::all().sort_by("_id", SortOrder::Asc);
    let page = Paged::find(state.store(), PROFILES, query, request, |p| {
        ProfileView::new(p.id, p.value)
    })
    .await?;
    Ok(Json(page))
}

/// One user's profile.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "Profile", body = ProfileView),
        (status = 404, description = "No such user", body = ErrorBody),
        NotAdmin,
    )
)]
pub async fn get_user(
    State(state): State<OutboxState>,
    _admin: AdminUser,
    Path(id): Path<String>,
) -> Result<Json<ProfileView>, ApiError> {
    let profile = PROFILES
        .get(state.store(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    Ok(Json(ProfileView::new(profile.id, profile.value)))
}

/// Deletes an account: the profile goes now, and `user.deleted` tells auth to revoke
/// the credentials and every other service to drop the account's data.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "An admin cannot delete their own account", body = ErrorBody),
        NotAdmin,
    )
)]
pub async fn delete_user(
    State(state): State<OutboxState>,
    AdminUser(admin): AdminUser,
    CorrelationId(correlation): CorrelationId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if id == admin.id {
        // Deleting the last admin would leave nobody able to administer the shop.
        return Err(ApiError::conflict(
            "an admin cannot delete their own account",
        ));
    }
    let profile = PROFILES
        .get(state.store(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    let event = Envelope::new(&UserDeleted { user_id: id }, correlation);
    state
        .outbox
        .commit(
            vec![
                PROFILES.delete(&profile),
                DELETED_ACCOUNTS.insert(
                    &profile.id,
                    &DeletedAccount {
                        at: time::OffsetDateTime::now_utc(),
                    },
                ),
            ],
            vec![event],
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
