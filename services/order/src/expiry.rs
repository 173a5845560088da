//! Unpaid orders cannot hoard stock: a pending order whose payment window has closed
//! is cancelled (`payment_timeout`), and its `order.cancelled` makes product release
//! the stock and payment void the payment, as any cancellation does. A payment that
//! completes meanwhile loses to the cancellation and is refunded, as when a customer's
//! cancel races a capture; shipping never ships a cancelled order.

use std::time::Duration;

use doc_store::{Query, StoreError};
use event_bus::Outbox;
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    domain::Trigger,
    lifecycle::{Origin, plan},
    metrics::OrderMetrics,
    store::ORDERS,
};

/// How many pending orders one round reads at a time.
const PAGE: u64 = 200;

pub struct Expiry {
    pub outbox: Outbox,
    pub metrics: OrderMetrics,
    pub window: Duration,
}

impl Expiry {
    /// Looks a few times per window (at least every 30 s), so an order is cancelled
    /// within a quarter window of its deadline.
    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<()> {
        let every = (self.window / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
        let expiry = std::sync::Arc::new(self);
        service_kit::spawn_every(every, shutdown, move || {
            let expiry = expiry.clone();
            async move {
                if let Err(e) = expiry.sweep().await {
                    tracing::warn!(error = %e, "cannot cancel the unpaid orders now; trying again later");
                }
            }
        })
    }

    /// One round: cancels every pending order older than the window.
    pub async fn sweep(&self) -> Result<usize, StoreError> {
        let deadline = OffsetDateTime::now_utc() - self.window;
        let cause = format!(
            "not paid within the payment window ({} s)",
            self.window.as_secs()
        );
        let mut cancelled = 0;
        let mut cursor = None;
        loop {
            let query = Query::eq("status", "pending").page_after(cursor, PAGE);
            let page = ORDERS.find(self.outbox.store(), &query).await?;
            for order in &page.items {
                if order.value.created_at > deadline {
                    continue;
                }
                let correlation = format!("payment-window-{}", order.id);
                let origin = Origin::Deadline {
                    cause: &cause,
                    correlation: &correlation,
                };
                // A step that no longer applies (paid meanwhile) plans nothing.
                let Ok((writes, events, next)) = plan(order, Trigger::PaymentWindowClosed, origin)
                else {
                    continue;
                };
                match self.outbox.commit(writes, events).await {
                    Ok(()) => {
                        cancelled += 1;
                        self.metrics.entered(next.status);
                        tracing::info!(order_id = %order.id, "an unpaid order's payment window closed; cancelled");
                    }
                    // Moved meanwhile (paid, or cancelled by its customer): next round
                    // reads it again if it is still pending.
                    Err(StoreError::VersionConflict { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok(cancelled)
    }
}
