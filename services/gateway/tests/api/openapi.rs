use axum::http::Method;
use gateway_service::routing::Routes;
use serde_json::Value;
use test_support::call;

use crate::helpers::{spawn_gateway, upstream_services};

/// Each service behind the gateway with its committed document.
fn service_docs() -> Vec<(&'static str, &'static str)> {
    upstream_services()
        .map(|s| (s.name.as_str(), s.public_api.unwrap().contract))
        .collect()
}

#[tokio::test]
async fn the_served_document_is_openapi_3_1_with_the_paths_of_every_service_document() {
    let app = spawn_gateway().await;

    let response = call(Method::GET, "/openapi.json").send(&app.router).await;

    assert_eq!(response.status, 200);
    let served = &response.body;
    assert!(
        served["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        served["openapi"]
    );
    assert_eq!(served["info"]["title"], "shop API (via gateway)");
    assert_eq!(
        served["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    for (service, text) in service_docs() {
        let doc: Value = serde_json::from_str(text).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for (path, item) in paths {
            assert_eq!(&served["paths"][path], item, "{service}: {path}");
        }
        for (name, schema) in doc["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
        {
            assert_eq!(
                &served["components"]["schemas"][name], schema,
                "{service}: {name}"
            );
        }
    }
}

#[test]
fn every_documented_path_is_routed_to_the_service_that_documents_it() {
    let routes = Routes::of(shop::SERVICES).unwrap();
    for (service, text) in service_docs() {
        let doc: Value = serde_json::from_str(text).unwrap();
        for path in doc["paths"].as_object().unwrap().keys() {
            let owner = routes.owner(path).map(|s| s.as_str());
            assert_eq!(owner, Some(service), "{path} in the {service} document");
        }
    }
}

#[test]
fn the_committed_service_documents_merge() {
    let merged = gateway_service::openapi::combined_document(shop::SERVICES).unwrap();
    assert!(merged["openapi"].as_str().unwrap().starts_with("3.1"));
}
