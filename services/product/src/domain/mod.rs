//! Pure rules of the catalog and its stock: no I/O here.

mod draft;

/// Field-by-field validation of requests, each error naming its field.
pub mod fields {
    pub use super::draft::{FieldError, description, name, stock};
}
mod stock;

pub use draft::{ProductDraft, ProductPatch};
pub use stock::{
    GoodsNews, Movement, Reservation, ReservationState, Shelf, Shortage, StockError, Verdict,
    on_news, plan_reservation,
};
