//! What the order service reports beyond HTTP and events, in its own registry: each
//! status an order enters (the funnel), and how long the oldest pending order has
//! waited (an order stuck there means its stock or payment never answered).

use std::time::Duration;

use doc_store::{DocumentStore, Query, SortOrder, StoreError};
use prometheus::{Gauge, IntCounterVec, Opts, Registry};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{domain::OrderStatus, store::ORDERS};

/// How often the oldest pending order is looked up: well inside the alert's five
/// minutes, and one indexed read of one order each time.
pub const PENDING_REFRESH: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct OrderMetrics {
    transitions: IntCounterVec,
    pending_oldest: Gauge,
}

impl OrderMetrics {
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let transitions = IntCounterVec::new(
            Opts::new(
                "shop_order_transitions_total",
                "Orders that entered each status; pending counts placed orders",
            ),
            &["status"],
        )?;
        // Every status is reported from the start, at 0, so that a rate over the first
        // order into a status sees it rise from 0 rather than appear.
        for status in OrderStatus::ALL {
            transitions.with_label_values(&[status.name().as_str()]);
        }
        let pending_oldest = Gauge::new(
            "shop_orders_pending_oldest_seconds",
            "Age of the oldest order still pending, 0 when none is",
        )?;
        registry.register(Box::new(transitions.clone()))?;
        registry.register(Box::new(pending_oldest.clone()))?;
        Ok(Self {
            transitions,
            pending_oldest,
        })
    }

    /// An order entered `status`. Called only once the change is committed, and not for
    /// a redelivered event, so each move counts once.
    pub fn entered(&self, status: OrderStatus) {
        self.transitions
            .with_label_values(&[status.name().as_str()])
            .inc();
    }

    /// Looks up the oldest pending order every [`PENDING_REFRESH`] until `shutdown`,
    /// the first time at once, so the gauge is right from the first scrape.
    pub fn spawn_pending_refresh(
        self,
        store: std::sync::Arc<dyn DocumentStore>,
        shutdown: CancellationToken,
    ) -> JoinHandle<()> {
        service_kit::spawn_every(PENDING_REFRESH, shutdown, move || {
            let (store, metrics) = (store.clone(), self.clone());
            async move {
                // The gauge keeps its last value; the next refresh corrects it.
                if let Err(e) = refresh_once(store.as_ref(), &metrics).await {
                    tracing::warn!(error = %e, "cannot read the oldest pending order");
                }
            }
        })
    }
}

/// Sets the pending gauge to the age of the oldest order still pending (0 when none
/// is), and answers it. Ids are UUID v7, so the first by id is the first placed, and
/// the `status` index serves the read without walking the pending orders.
pub async fn refresh_once(
    store: &dyn DocumentStore,
    metrics: &OrderMetrics,
) -> Result<f64, StoreError> {
    let oldest = Query::eq("status", OrderStatus::Pending.name())
        .sort_by("_id", SortOrder::Asc)
        .page(0, 1);
    let page = ORDERS.find(store, &oldest).await?;
    let age = page.items.first().map_or(0.0, |order| {
        let waited = time::OffsetDateTime::now_utc() - order.value.created_at;
        // An order placed on a host whose clock runs ahead has not waited yet.
        waited.as_seconds_f64().max(0.0)
    });
    metrics.pending_oldest.set(age);
    Ok(age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_of_the_contract_is_reported_from_the_start() {
        let registry = Registry::new();
        OrderMetrics::register(&registry).unwrap();
        let mut statuses: Vec<String> = registry
            .gather()
            .iter()
            .filter(|family| family.name() == "shop_order_transitions_total")
            .flat_map(|family| family.get_metric())
            .map(|metric| {
                assert_eq!(metric.get_counter().get_value(), 0.0);
                metric.get_label()[0].value().to_owned()
            })
            .collect();
        statuses.sort();
        assert_eq!(
            statuses,
            [
                "awaiting_shipment",
                "cancelled",
                "completed",
                "delivered",
                "paid",
                "pending",
                "refunded",
                "return_requested",
                "returned",
            ]
        );
    }
}
