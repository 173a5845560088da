//! Pieces every service's OpenAPI document shares: how a document starts, the answers
//! many operations give alike, and bearer security with its 401. A route's
//! `#[utoipa::path]` then states only what is specific to it.

use utoipa::{
    IntoResponses, Modify,
    openapi::{
        ComponentsBuilder, InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder,
        path::{Operation, PathItem},
        security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme},
        tag::TagBuilder,
    },
};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use crate::{ErrorBody, service::Api};

/// Every service's API is version 1: `/api/v1/...`, `contracts/api/<name>.v1.json`.
const VERSION: &str = "1";

/// What a service's document says of the service as a whole; its routes, added with
/// `utoipa_axum::routes!`, document themselves.
pub struct ApiDoc {
    pub title: &'static str,
    pub description: &'static str,
    /// The one tag every operation of the service is filed under, so that no route
    /// names it: its name and description.
    pub tag: (&'static str, &'static str),
}

impl ApiDoc {
    /// The service's API: its `routes`, each from `utoipa_axum::routes!`, given `state`,
    /// and their document, with what every operation shares added: the service's tag,
    /// and [`BearerAuth`].
    pub fn api<S>(&self, state: S, routes: impl IntoIterator<Item = UtoipaMethodRouter<S>>) -> Api
    where
        S: Send + Sync + Clone + 'static,
    {
        let routes = routes.into_iter().fold(
            OpenApiRouter::with_openapi(self.document()),
            OpenApiRouter::routes,
        );
        let (router, mut openapi) = routes.with_state(state).split_for_parts();
        let (tag, _) = self.tag;
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                operation.tags.get_or_insert_with(|| vec![tag.to_owned()]);
            }
        }
        BearerAuth.modify(&mut openapi);
        Api::new(router, &openapi)
    }

    fn document(&self) -> OpenApi {
        // The workspace's license, which every service crate inherits.
        let license = env!("CARGO_PKG_LICENSE");
        let info = InfoBuilder::new()
            .title(self.title)
            .version(VERSION)
            .description(Some(self.description))
            .license(Some(
                LicenseBuilder::new()
                    .name(license)
                    .identifier(Some(license))
                    .build(),
            ))
            .build();
        let (tag, about) = self.tag;
        OpenApiBuilder::new()
            .info(info)
            // Referred to by the error answers of every route.
            .components(Some(
                ComponentsBuilder::new().schema_from::<ErrorBody>().build(),
            ))
            .tags(Some([TagBuilder::new()
                .name(tag)
                .description(Some(about))
                .build()]))
            .build()
    }
}

/// Bearer security with its 401: every operation that says
/// `security(("bearerAuth" = []))` also answers [`NotLoggedIn`], and a document with
/// such an operation declares the `bearerAuth` scheme (an access token from
/// `POST /api/v1/auth/login`). It runs once all routes are in the document.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let bearer = SecurityRequirement::new("bearerAuth", [""; 0]);
        let mut secured = false;
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                if operation
                    .security
                    .as_ref()
                    .is_some_and(|s| s.contains(&bearer))
                {
                    secured = true;
                    for (status, response) in NotLoggedIn::responses() {
                        // What a route says itself wins.
                        operation
                            .responses
                            .responses
                            .entry(status)
                            .or_insert(response);
                    }
                }
            }
        }
        if secured {
            let components = openapi.components.get_or_insert_with(Default::default);
            let mut scheme = Http::new(HttpAuthScheme::Bearer);
            scheme.bearer_format = Some("JWT".into());
            components.add_security_scheme("bearerAuth", SecurityScheme::Http(scheme));
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
        &mut item.query,
    ]
    .into_iter()
    .flatten()
}

/// What `AuthUser` answers when the bearer token is missing or refused. [`BearerAuth`]
/// adds it to every operation that takes the token; routes do not list it.
#[derive(IntoResponses)]
#[response(status = 401, description = "Not logged in")]
struct NotLoggedIn(#[allow(dead_code)] ErrorBody);

/// What `ApiJson` answers to a body that is not well-formed JSON; listed by every
/// route that reads one.
#[derive(IntoResponses)]
#[response(status = 400, description = "Malformed JSON")]
pub struct MalformedJson(pub ErrorBody);

/// What `AdminUser` answers to a caller without the admin role; listed by every
/// admin-only route.
#[derive(IntoResponses)]
#[response(status = 403, description = "Not an admin")]
pub struct NotAdmin(pub ErrorBody);

/// What every paged list answers to a query string it cannot read, and to a page out
/// of range (see [`crate::paging::PageRequest`]).
#[derive(IntoResponses)]
pub enum PagingRefused {
    #[response(status = 400, description = "Bad query string")]
    BadQuery(ErrorBody),
    #[response(status = 422, description = "Paging out of range")]
    OutOfRange(ErrorBody),
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

#[cfg(test)]
mod tests {
    use utoipa::openapi::{
        PathsBuilder,
        path::{HttpMethod, OperationBuilder},
    };

    use super::*;

    fn finished(operation: OperationBuilder) -> serde_json::Value {
        let item = PathItem::new(HttpMethod::Get, operation);
        let mut openapi = OpenApiBuilder::new()
            .paths(PathsBuilder::new().path("/api/v1/things", item))
            .build();
        BearerAuth.modify(&mut openapi);
        to_json(&openapi)
    }

    #[test]
    fn an_operation_that_takes_a_bearer_token_answers_401_and_the_scheme_is_declared() {
        let bearer = SecurityRequirement::new("bearerAuth", [""; 0]);
        let document = finished(OperationBuilder::new().security(bearer));
        let answers = &document["paths"]["/api/v1/things"]["get"]["responses"];
        assert_eq!(answers["401"]["description"], "Not logged in");
        let scheme = &document["components"]["securitySchemes"]["bearerAuth"];
        assert_eq!(scheme["scheme"], "bearer");
        assert_eq!(scheme["bearerFormat"], "JWT");
    }

    #[test]
    fn a_document_without_a_secured_operation_has_no_401_and_no_scheme() {
        let document = finished(OperationBuilder::new());
        let answers = &document["paths"]["/api/v1/things"]["get"]["responses"];
        assert!(answers.get("401").is_none());
        assert!(document["components"].get("securitySchemes").is_none());
    }
}
