use service_kit::{Api, OutboxState, openapi::ApiDoc};
use utoipa_axum::routes;

mod shipments;

const DOC: ApiDoc = ApiDoc {
    title: "shipping-service",
    description: "One shipment per order: customers follow theirs; admins record deliveries and returns.",
    tag: ("shipments", "Shipments of orders, their status and history"),
};

pub fn api(state: OutboxState) -> Api {
    DOC.api(
        state,
        [
            routes!(shipments::list_shipments),
            routes!(shipments::get_shipment),
            routes!(shipments::deliver_shipment),
            routes!(shipments::return_shipment),
        ],
    )
}
