//! One OpenAPI document for the whole public API, merged from the documents the
//! services commit under `contracts/api/` (each service's definition carries its own),
//! so clients import a single file from the one address they call.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use service_kit::ServiceDef;

pub const TITLE: &str = "shop API (via gateway)";
const BEARER_AUTH: &str = "bearerAuth";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MergeError {
    #[error("the {service} OpenAPI document is not valid JSON: {reason}")]
    NotJson { service: String, reason: String },
    #[error("the {service} OpenAPI document has no `paths` object")]
    NoPaths { service: String },
    #[error("{kind} `{name}` is defined differently by {first} and {second}")]
    Conflict {
        kind: String,
        name: String,
        first: String,
        second: String,
    },
}

/// The merged document of the committed documents of `services` (each service's
/// [`PublicApi::contract`](service_kit::PublicApi), compiled in, so the served document
/// is exactly what was committed and reviewed).
pub fn combined_document(services: &[&ServiceDef]) -> Result<Value, MergeError> {
    let docs = services
        .iter()
        .filter_map(|service| Some((service.name.as_str(), service.public_api?.contract)))
        .map(|(service, text)| {
            serde_json::from_str(text)
                .map(|doc| (service, doc))
                .map_err(|e| MergeError::NotJson {
                    service: service.to_owned(),
                    reason: e.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    merge(&docs)
}

/// Unites the services' `paths` and every `components` section. Services share one
/// namespace for schema names, so a name two services define differently would make
/// clients generate one type for two shapes: that is refused, not resolved.
pub fn merge(docs: &[(&str, Value)]) -> Result<Value, MergeError> {
    let mut paths = Table::new("path");
    let mut sections: HashMap<String, Table> = HashMap::new();
    let mut tags: Vec<Value> = Vec::new();

    sections
        .entry("securitySchemes".to_owned())
        .or_insert_with(|| Table::new("securitySchemes"))
        .insert(
            BEARER_AUTH,
            json!({ "type": "http", "scheme": "bearer", "bearerFormat": "JWT" }),
            "gateway",
        )?;

    for (service, doc) in docs {
        let service_paths = doc["paths"]
            .as_object()
            .ok_or_else(|| MergeError::NoPaths {
                service: (*service).to_owned(),
            })?;
        for (path, item) in service_paths {
            paths.insert(path, item.clone(), service)?;
        }
        if let Some(components) = doc["components"].as_object() {
            for (section, entries) in components {
                let Some(entries) = entries.as_object() else {
                    continue;
                };
                let table = sections
                    .entry(section.clone())
                    .or_insert_with(|| Table::new(section));
                for (name, definition) in entries {
                    table.insert(name, definition.clone(), service)?;
                }
            }
        }
        for tag in doc["tags"].as_array().into_iter().flatten() {
            if !tags.iter().any(|t| t["name"] == tag["name"]) {
                tags.push(tag.clone());
            }
        }
    }

    let components: Map<String, Value> = sections
        .into_iter()
        .map(|(section, table)| (section, Value::Object(table.entries)))
        .collect();
    let mut merged = json!({
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": "1",
            "description": "Every public route, as reached through the gateway under /api/v1. \
                            Send access tokens as `Authorization: Bearer <token>`.",
        },
        "paths": paths.entries,
        "components": components,
    });
    if !tags.is_empty() {
        merged["tags"] = Value::Array(tags);
    }
    Ok(merged)
}

/// Named definitions and which service defined each first.
struct Table {
    kind: String,
    entries: Map<String, Value>,
    owners: HashMap<String, String>,
}

impl Table {
    fn new(kind: &str) -> Self {
        Self {
            kind: kind.to_owned(),
            entries: Map::new(),
            owners: HashMap::new(),
        }
    }

    /// The same definition twice is fine (services may share a schema such as `Error`).
    fn insert(&mut self, name: &str, definition: Value, service: &str) -> Result<(), MergeError> {
        match self.entries.get(name) {
            Some(existing) if *existing == definition => Ok(()),
            Some(_) => Err(MergeError::Conflict {
                kind: self.kind.clone(),
                name: name.to_owned(),
                first: self.owners[name].clone(),
                second: service.to_owned(),
            }),
            None => {
                self.entries.insert(name.to_owned(), definition);
                self.owners.insert(name.to_owned(), service.to_owned());
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(paths: Value, schemas: Value) -> Value {
        json!({
            "openapi": "3.1.0",
            "info": { "title": "x", "version": "1" },
            "paths": paths,
            "components": { "schemas": schemas },
        })
    }

    fn error_schema() -> Value {
        json!({ "type": "object", "required": ["code", "message", "details"] })
    }

    #[test]
    fn paths_and_schemas_of_every_service_end_up_in_one_document() {
        let auth = doc(
            json!({ "/api/v1/auth/login": { "post": {} } }),
            json!({ "Login": { "type": "object" }, "Error": error_schema() }),
        );
        let user = doc(
            json!({ "/api/v1/users/me": { "get": {} }, "/api/v1/users": { "get": {} } }),
            json!({ "Profile": { "type": "object" }, "Error": error_schema() }),
        );
        let merged = merge(&[("auth", auth), ("user", user)]).unwrap();

        assert_eq!(merged["openapi"], "3.1.0");
        assert_eq!(merged["info"]["title"], TITLE);
        let mut paths: Vec<&String> = merged["paths"].as_object().unwrap().keys().collect();
        paths.sort();
        assert_eq!(
            paths,
            ["/api/v1/auth/login", "/api/v1/users", "/api/v1/users/me"]
        );
        let mut schemas: Vec<&String> = merged["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        schemas.sort();
        assert_eq!(schemas, ["Error", "Login", "Profile"]);
    }

    #[test]
    fn the_document_declares_bearer_jwt_authentication() {
        let merged = merge(&[]).unwrap();
        assert_eq!(
            merged["components"]["securitySchemes"][BEARER_AUTH],
            json!({ "type": "http", "scheme": "bearer", "bearerFormat": "JWT" })
        );
    }

    #[test]
    fn a_schema_name_two_services_define_differently_is_an_error_naming_both() {
        let auth = doc(json!({}), json!({ "Account": { "type": "object" } }));
        let user = doc(json!({}), json!({ "Account": { "type": "string" } }));
        let err = merge(&[("auth", auth), ("user", user)]).unwrap_err();
        assert_eq!(
            err,
            MergeError::Conflict {
                kind: "schemas".into(),
                name: "Account".into(),
                first: "auth".into(),
                second: "user".into(),
            }
        );
    }

    #[test]
    fn a_path_documented_differently_by_two_services_is_an_error() {
        let a = doc(json!({ "/api/v1/x": { "get": {} } }), json!({}));
        let b = doc(json!({ "/api/v1/x": { "post": {} } }), json!({}));
        assert!(matches!(
            merge(&[("a", a), ("b", b)]),
            Err(MergeError::Conflict { kind, .. }) if kind == "path"
        ));
    }

    #[test]
    fn a_service_redefining_the_bearer_scheme_differently_is_an_error() {
        let mut auth = doc(json!({}), json!({}));
        auth["components"]["securitySchemes"] =
            json!({ BEARER_AUTH: { "type": "apiKey", "in": "header", "name": "x-key" } });
        assert!(merge(&[("auth", auth)]).is_err());
    }

    #[test]
    fn a_document_without_paths_is_refused() {
        let err = merge(&[("auth", json!({ "openapi": "3.1.0" }))]).unwrap_err();
        assert_eq!(
            err,
            MergeError::NoPaths {
                service: "auth".into()
            }
        );
    }

    #[test]
    fn tags_are_merged_once_by_name() {
        let mut a = doc(json!({}), json!({}));
        a["tags"] = json!([{ "name": "auth" }, { "name": "shared" }]);
        let mut b = doc(json!({}), json!({}));
        b["tags"] = json!([{ "name": "shared" }, { "name": "users" }]);
        let merged = merge(&[("a", a), ("b", b)]).unwrap();
        assert_eq!(
            merged["tags"],
            json!([{ "name": "auth" }, { "name": "shared" }, { "name": "users" }])
        );
    }
}
