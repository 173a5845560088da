use axum::{Json, extract::State};
use doc_store::{Query, SortOrder};
use event_contracts::Money;
use serde::{Deserialize, Serialize};
use service_kit::{
    ApiError, ApiJson, AuthUser, ErrorBody, OutboxState,
    openapi::{MalformedJson, PagingRefused, RoleSchema},
    paging::{PageParams, PageRequest, Paged},
};
use utoipa::ToSchema;

use doc_store::{StoreError, Versioned};

use crate::{
    domain::profile_text,
    store::{DELETED_ACCOUNTS, OWNED_PRODUCTS, PROFILES, Profile},
};

/// The caller's profile. One not made yet (`user.registered` still on its way) is made
/// now from the caller's verified token, which is auth's word that the account exists,
/// with its email and role; `user.registered` then finds it made. An account deleted
/// since has none.
async fn profile_of(state: &OutboxState, user: &AuthUser) -> Result<Versioned<Profile>, ApiError> {
    let store = state.store();
    if let Some(profile) = PROFILES.get(store, &user.id).await? {
        return Ok(profile);
    }
    if DELETED_ACCOUNTS.get(store, &user.id).await?.is_some() {
        return Err(ApiError::not_found("this account was deleted"));
    }
    let profile = Profile::registered(user.email.clone(), user.role);
    match store
        .commit(vec![PROFILES.insert(&user.id, &profile)])
        .await
    {
        // Made meanwhile, by the event or another request: that one stands.
        Ok(()) | Err(StoreError::Duplicate { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    PROFILES
        .get(store, &user.id)
        .await?
        .ok_or_else(|| ApiError::not_found("this account was deleted"))
}

/// A product the caller sells, as the catalog last announced it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnedProductView {
    pub id: String,
    pub name: String,
    pub price: Money,
    pub stock: u32,
}

/// The products the caller owns (their personal products), by name.
#[utoipa::path(
    get,
    path = "/api/v1/users/me/products",
    security(("bearerAuth" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of the caller's products", body = Paged<OwnedProductView>),
        PagingRefused,
    )
)]
pub async fn my_products(
    State(state): State<OutboxState>,
    user: AuthUser,
    request: PageRequest,
) -> Result<Json<Paged<OwnedProductView>>, ApiError> {
    let query = Query::eq("owner_id", user.id.as_str())
        .and_eq("removed", false)
        .sort_by("name", SortOrder::Asc);
    let page = Paged::find(state.store(), OWNED_PRODUCTS, query, request, |p| {
        OwnedProductView {
            id: p.id,
            name: p.value.name,
            price: p.value.price,
            stock: p.value.stock,
        }
    })
    .await?;
    Ok(Json(page))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    pub id: String,
    pub email: String,
    #[schema(value_type = RoleSchema)]
    pub role: event_contracts::Role,
    pub display_name: Option<String>,
    pub shipping_address: Option<String>,
    /// RFC 3339 time of registration.
    pub created_at: String,
}

impl ProfileView {
    pub fn new(id: String, p: Profile) -> Self {
        Self {
            id,
            email: p.email,
            role: p.role,
            display_name: p.display_name,
            shipping_address: p.shipping_address,
            created_at: service_kit::timestamp::rfc3339(p.created_at),
        }
    }
}

/// The fields a user may change about themselves; id, email and role are not here,
/// and sending them is refused rather than silently ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    #[schema(example = "Ada Lovelace")]
    pub display_name: Option<String>,
    #[schema(example = "12 Analytical Row, London")]
    pub shipping_address: Option<String>,
}

/// The caller's own profile.
#[utoipa::path(
    get,
    path = "/api/v1/users/me",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Profile", body = ProfileView),
        (status = 404, description = "The account was deleted", body = ErrorBody),
    )
)]
pub async fn get_me(
    State(state): State<OutboxState>,
    user: AuthUser,
) -> Result<Json<ProfileView>, ApiError> {
    let profile = profile_of(&state, &user).await?;
    Ok(Json(ProfileView::new(profile.id, profile.value)))
}

/// Changes the caller's display name or shipping address.
#[utoipa::path(
    patch,
    path = "/api/v1/users/me",
    security(("bearerAuth" = [])),
    request_body = ProfileUpdate,
    responses(
        (status = 200, description = "Updated profile", body = ProfileView),
        (status = 404, description = "The account was deleted", body = ErrorBody),
        (status = 409, description = "Changed concurrently; retry", body = ErrorBody),
        (status = 422, description = "A field is invalid or may not be changed", body = ErrorBody),
        MalformedJson,
    )
)]
pub async fn update_me(
    State(state): State<OutboxState>,
    user: AuthUser,
    ApiJson(update): ApiJson<ProfileUpdate>,
) -> Result<Json<ProfileView>, ApiError> {
    let display_name = update
        .display_name
        .map(|v| profile_text("display_name", &v, 100))
        .transpose()?;
    let shipping_address = update
        .shipping_address
        .map(|v| profile_text("shipping_address", &v, 500))
        .transpose()?;
    let current = profile_of(&state, &user).await?;
    let mut profile = current.value.clone();
    if display_name.is_some() {
        profile.display_name = display_name;
    }
    if shipping_address.is_some() {
        profile.shipping_address = shipping_address;
    }
    profile.updated_at = time::OffsetDateTime::now_utc();
    state
        .outbox
        .store()
        .commit(vec![PROFILES.update(&current, &profile)])
        .await?;
    Ok(Json(ProfileView::new(current.id, profile)))
}
