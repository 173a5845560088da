use service_kit::{Api, OutboxState, openapi::ApiDoc};
use utoipa_axum::routes;

mod orders;

const DOC: ApiDoc = ApiDoc {
    title: "order-service",
    description: "Orders and their lifecycle: pending, paid, awaiting_shipment, delivered, \
                  completed; return_requested, returned, refunded; cancelled.",
    tag: ("orders", "A customer's orders; admins see every order"),
};

pub fn api(state: OutboxState) -> Api {
    DOC.api(
        state,
        [
            routes!(orders::list),
            routes!(orders::get_one),
            routes!(orders::cancel),
            routes!(orders::accept),
            routes!(orders::request_return),
        ],
    )
}
