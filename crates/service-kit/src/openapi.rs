//! Pieces every service's OpenAPI document shares.

use utoipa::{
    Modify,
    openapi::{
        OpenApi,
        security::{Http, HttpAuthScheme, SecurityScheme},
    },
};

/// Declares the `bearerAuth` scheme (an access token from `POST /api/v1/auth/login`)
/// that protected operations refer to with `security(("bearerAuth" = []))`.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".into());
        components.add_security_scheme("bearerAuth", SecurityScheme::Http(scheme));
    }
}

/// The document as served at `/openapi.json` and committed under `contracts/api/`.
pub fn to_json(openapi: &OpenApi) -> serde_json::Value {
    serde_json::to_value(openapi).expect("an OpenAPI document serialises")
}

/// How roles appear in documents: `event_contracts::Role` is plain data without a
/// schema, so fields of that type point here with `#[schema(value_type = RoleSchema)]`.
#[derive(utoipa::ToSchema)]
#[schema(as = Role)]
#[allow(dead_code)]
#[serde(rename_all = "snake_case")]
pub enum RoleSchema {
    Customer,
    Admin,
}
