//! Applying a step of the state machine to a stored order, with the events the new
//! status causes, in one guarded batch. Event handlers and customer routes share it.

use doc_store::Versioned;
use event_contracts::{
    CancelReason, Envelope, Event, OrderCancelled, OrderCompleted, OrderReturnRequested,
    ProductDecrement, StockLine,
};

use crate::{
    domain::{OrderStatus, Step, Trigger},
    store::{ORDERS, Order},
};

/// What a change is answering: an event (its events are caused by it) or a request
/// (its events carry the request's correlation id).
#[derive(Clone, Copy)]
pub enum Origin<'a> {
    Event(&'a Envelope),
    Request(&'a str),
    /// A deadline the service itself keeps: why, in words, and a correlation id of
    /// its own for the events it causes.
    Deadline {
        cause: &'a str,
        correlation: &'a str,
    },
}

impl Origin<'_> {
    pub fn envelope<E: Event>(&self, event: &E) -> Envelope {
        match self {
            Origin::Event(cause) => Envelope::caused_by(event, cause),
            Origin::Request(correlation) => Envelope::new(event, *correlation),
            Origin::Deadline { correlation, .. } => Envelope::new(event, *correlation),
        }
    }

    fn cause(&self, trigger: Trigger) -> String {
        match self {
            Origin::Event(e) => e.event_type.clone(),
            Origin::Request(_) => format!("{trigger:?}"),
            Origin::Deadline { cause, .. } => (*cause).to_owned(),
        }
    }
}

fn stock_lines(order: &Order) -> Vec<StockLine> {
    order
        .items
        .iter()
        .map(|i| StockLine {
            product_id: i.product_id.clone(),
            quantity: i.quantity,
        })
        .collect()
}

fn cancel_reason(trigger: Trigger) -> CancelReason {
    match trigger {
        Trigger::StockRejected => CancelReason::StockRejected,
        Trigger::PaymentFailed => CancelReason::PaymentFailed,
        Trigger::PaymentWindowClosed => CancelReason::PaymentTimeout,
        _ => CancelReason::CustomerRequest,
    }
}

/// The events a new status announces.
fn announcements(
    id: &str,
    order: &Order,
    status: OrderStatus,
    trigger: Trigger,
    origin: Origin<'_>,
) -> Vec<Envelope> {
    let order_id = id.to_owned();
    let user_id = order.user_id.clone();
    match status {
        OrderStatus::Cancelled => vec![origin.envelope(&OrderCancelled {
            order_id,
            user_id,
            reason: cancel_reason(trigger),
            items: stock_lines(order),
        })],
        OrderStatus::Completed => vec![
            origin.envelope(&OrderCompleted {
                order_id: order_id.clone(),
                user_id,
            }),
            origin.envelope(&ProductDecrement {
                order_id,
                items: stock_lines(order),
            }),
        ],
        OrderStatus::ReturnRequested => {
            vec![origin.envelope(&OrderReturnRequested { order_id, user_id })]
        }
        _ => Vec::new(),
    }
}

/// The stored batch for a step that moves the order, or the step's verdict otherwise.
pub fn plan(
    current: &Versioned<Order>,
    trigger: Trigger,
    origin: Origin<'_>,
) -> Result<(Vec<doc_store::Write>, Vec<Envelope>, Order), Step> {
    match current.value.status.step(trigger) {
        Step::To(status) => {
            let mut next = current.value.clone();
            next.move_to(status, &origin.cause(trigger));
            let events = announcements(&current.id, &next, status, trigger, origin);
            Ok((vec![ORDERS.update(current, &next)], events, next))
        }
        verdict => Err(verdict),
    }
}
