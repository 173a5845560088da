use axum::{
    Json,
    extract::{Path, State},
    http::{StatusCode, header},
    response::IntoResponse,
};
use doc_store::{Query, SortOrder, Versioned};
use event_contracts::{Envelope, ProductCreated, ProductRemoved, ProductUpdated};
use money::Money;
use serde::{Deserialize, Serialize};
use service_kit::{
    ApiError, ApiJson, ApiQuery, AuthUser, CorrelationId, ErrorBody, OutboxState,
    openapi::{MalformedJson, PagingRefused},
    paging::{PageParams, PageRequest, Paged},
};
use utoipa::{IntoParams, ToSchema};

use crate::{
    domain::{ProductDraft, ProductPatch, Shelf, fields},
    store::{PRODUCTS, Product},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    /// Units that can be bought now.
    pub stock: u32,
    /// RFC 3339.
    pub created_at: String,
}

impl From<Versioned<Product>> for ProductView {
    fn from(p: Versioned<Product>) -> Self {
        Self {
            id: p.id,
            owner_id: p.value.owner_id,
            name: p.value.name,
            description: p.value.description,
            price: p.value.price,
            stock: p.value.shelf.available,
            created_at: service_kit::timestamp::rfc3339(p.value.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    #[schema(example = "Blue mug")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub price: Money,
    /// Units on sale, 0 to 1,000,000.
    #[schema(example = 10)]
    pub stock: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<Money>,
    /// Sets the units on sale; units held for open orders are not affected.
    pub stock: Option<i64>,
}

/// Filters of the catalog, besides paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogFilter {
    /// Only products whose name contains this text, ignoring case.
    pub name: Option<String>,
}

/// The catalog, by name, paged; anyone may browse it.
#[utoipa::path(
    get,
    path = "/api/v1/products",
    params(PageParams, CatalogFilter),
    responses(
        (status = 200, description = "A page of products", body = Paged<ProductView>),
        PagingRefused,
    )
)]
pub async fn list(
    State(state): State<OutboxState>,
    request: PageRequest,
    ApiQuery(filter): ApiQuery<CatalogFilter>,
) -> Result<Json<Paged<ProductView>>, ApiError> {
    let mut query = Query::all();
    if let Some(name) = filter
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        // No index serves a substring: the walk goes down the name index and checks
        // each name, stopping at a full page. A common word costs about a page; only a
        // rare one walks far, which a shop's search box can afford until it needs a
        // text index (MongoDB walks its name index the same way).
        query = query.and_contains("name", name);
    }
    let query = query.sort_by("name", SortOrder::Asc);
    let page = Paged::find(state.store(), PRODUCTS, query, request, ProductView::from).await?;
    Ok(Json(page))
}

/// One product; anyone may look.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}",
    params(("id" = String, Path, description = "Product id")),
    responses(
        (status = 200, description = "The product", body = ProductView),
        (status = 404, description = "No such product", body = ErrorBody),
    )
)]
pub async fn get_one(
    State(state): State<OutboxState>,
    Path(id): Path<String>,
) -> Result<Json<ProductView>, ApiError> {
    let product = PRODUCTS
        .get(state.store(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such product"))?;
    Ok(Json(product.into()))
}

/// Puts a product on sale. A customer's product is owned by them; an admin's by the admin.
#[utoipa::path(
    post,
    path = "/api/v1/products",
    security(("bearerAuth" = [])),
    request_body = NewProduct,
    responses(
        (status = 201, description = "Created", body = ProductView,
         headers(("location" = String, description = "URL of the new product"))),
        (status = 422, description = "A field is invalid", body = ErrorBody),
        MalformedJson,
    )
)]
pub async fn create(
    State(state): State<OutboxState>,
    user: AuthUser,
    CorrelationId(correlation): CorrelationId,
    ApiJson(body): ApiJson<NewProduct>,
) -> Result<impl IntoResponse, ApiError> {
    let draft = ProductDraft {
        name: fields::name(&body.name)?,
        description: fields::description(&body.description)?,
        price: body.price,
        stock: fields::stock(body.stock)?,
    };
    let id = uuid::Uuid::now_v7().to_string();
    let now = time::OffsetDateTime::now_utc();
    let product = Product {
        owner_id: user.id.clone(),
        name: draft.name,
        description: draft.description,
        price: draft.price,
        shelf: Shelf {
            available: draft.stock,
            reserved: 0,
        },
        created_at: now,
        updated_at: now,
    };
    let event = Envelope::new(
        &ProductCreated {
            product_id: id.clone(),
            owner_id: product.owner_id.clone(),
            name: product.name.clone(),
            description: product.description.clone(),
            price: product.price,
            stock: product.shelf.available,
        },
        correlation,
    );
    state
        .outbox
        .commit(vec![PRODUCTS.insert(&id, &product)], vec![event])
        .await?;
    let view = ProductView::from(Versioned {
        id: id.clone(),
        version: 1,
        value: product,
    });
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/products/{id}"))],
        Json(view),
    ))
}

async fn owned(
    state: &OutboxState,
    user: &AuthUser,
    id: &str,
) -> Result<Versioned<Product>, ApiError> {
    let product = PRODUCTS
        .get(state.store(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such product"))?;
    if !user.may_access(&product.value.owner_id) {
        // The catalog is public, so the product's existence is no secret: 403, not 404.
        return Err(ApiError::forbidden(
            "only the owner or an admin may change a product",
        ));
    }
    Ok(product)
}

/// Changes a product; its owner or an admin only.
#[utoipa::path(
    patch,
    path = "/api/v1/products/{id}",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Product id")),
    request_body = ProductChanges,
    responses(
        (status = 200, description = "Updated", body = ProductView),
        (status = 403, description = "Not the owner or an admin", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 409, description = "Changed concurrently; retry", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
        MalformedJson,
    )
)]
pub async fn update(
    State(state): State<OutboxState>,
    user: AuthUser,
    CorrelationId(correlation): CorrelationId,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ProductChanges>,
) -> Result<Json<ProductView>, ApiError> {
    let patch = ProductPatch {
        name: body.name.as_deref().map(fields::name).transpose()?,
        description: body
            .description
            .as_deref()
            .map(fields::description)
            .transpose()?,
        price: body.price,
        stock: body.stock.map(fields::stock).transpose()?,
    };
    let current = owned(&state, &user, &id).await?;
    let mut product = current.value.clone();
    if let Some(name) = patch.name {
        product.name = name;
    }
    if let Some(description) = patch.description {
        product.description = description;
    }
    if let Some(price) = patch.price {
        product.price = price;
    }
    if let Some(stock) = patch.stock {
        product.shelf.available = stock;
    }
    product.updated_at = time::OffsetDateTime::now_utc();
    let event = Envelope::new(
        &ProductUpdated {
            product_id: id.clone(),
            owner_id: product.owner_id.clone(),
            name: product.name.clone(),
            description: product.description.clone(),
            price: product.price,
            stock: product.shelf.available,
        },
        correlation,
    );
    state
        .outbox
        .commit(vec![PRODUCTS.update(&current, &product)], vec![event])
        .await?;
    Ok(Json(ProductView::from(Versioned {
        id,
        version: current.version + 1,
        value: product,
    })))
}

/// Takes a product off sale; its owner or an admin only. Orders already placed keep
/// their reservations' outcome.
#[utoipa::path(
    delete,
    path = "/api/v1/products/{id}",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Product id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not the owner or an admin", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 409, description = "Changed concurrently; retry", body = ErrorBody),
    )
)]
pub async fn remove(
    State(state): State<OutboxState>,
    user: AuthUser,
    CorrelationId(correlation): CorrelationId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let current = owned(&state, &user, &id).await?;
    let event = Envelope::new(
        &ProductRemoved {
            product_id: id,
            owner_id: current.value.owner_id.clone(),
        },
        correlation,
    );
    state
        .outbox
        .commit(vec![PRODUCTS.delete(&current)], vec![event])
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use service_kit::extract::parse_json;

    use super::*;

    fn field_at_fault(body: serde_json::Value) -> String {
        let e = parse_json::<NewProduct>(body.to_string().as_bytes()).unwrap_err();
        e.body().details["field"].as_str().unwrap().to_owned()
    }

    #[test]
    fn a_price_is_read_as_money_naming_the_field_at_fault() {
        let bad_currency =
            json!({"name": "x", "price": {"amount_minor": 1, "currency": "eur"}, "stock": 1});
        assert_eq!(field_at_fault(bad_currency), "price.currency");
        let negative =
            json!({"name": "x", "price": {"amount_minor": -1, "currency": "EUR"}, "stock": 1});
        assert_eq!(field_at_fault(negative), "price.amount_minor");
        let good =
            json!({"name": "x", "price": {"amount_minor": 1999, "currency": "EUR"}, "stock": 1});
        let p = parse_json::<NewProduct>(good.to_string().as_bytes())
            .unwrap()
            .price;
        assert_eq!(p.to_string(), "19.99 EUR");
    }
}
