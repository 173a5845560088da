//! The order lifecycle as a pure state machine: what each trigger does to each status.
//! No I/O here.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Paid,
    AwaitingShipment,
    Delivered,
    Completed,
    ReturnRequested,
    Returned,
    Refunded,
    Cancelled,
}

/// What can happen to an order: events from other services and the customer's actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    StockRejected,
    PaymentCompleted,
    PaymentFailed,
    PaymentRefunded,
    ShipmentAwaiting,
    ShipmentDelivered,
    ShipmentReturned,
    CustomerCancels,
    CustomerAccepts,
    CustomerReturns,
    /// Still pending when the payment window closed.
    PaymentWindowClosed,
}

impl Trigger {
    /// Every trigger, for tests and benches that try them all.
    pub const ALL: [Trigger; 11] = [
        Self::StockRejected,
        Self::PaymentCompleted,
        Self::PaymentFailed,
        Self::PaymentRefunded,
        Self::ShipmentAwaiting,
        Self::ShipmentDelivered,
        Self::ShipmentReturned,
        Self::CustomerCancels,
        Self::CustomerAccepts,
        Self::CustomerReturns,
        Self::PaymentWindowClosed,
    ];
}

/// The answer of the state machine to a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Move to this status.
    To(OrderStatus),
    /// The order is already past this (or finished): acknowledge, change nothing.
    Ignore,
    /// A trigger that must come after another one that has not arrived yet; the event
    /// is retried (events on different topics may arrive in either order).
    TooEarly,
    /// A customer action whose precondition does not hold: 409.
    Refuse,
}

impl OrderStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [OrderStatus; 9] = [
        Self::Pending,
        Self::Paid,
        Self::AwaitingShipment,
        Self::Delivered,
        Self::Completed,
        Self::ReturnRequested,
        Self::Returned,
        Self::Refunded,
        Self::Cancelled,
    ];

    /// The name an order stores and clients see (`awaiting_shipment`).
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => name,
            other => unreachable!("a unit variant serialises as a string, not {other:?}"),
        }
    }

    /// How far along the lifecycle a status is; a step never lowers it.
    pub fn progress(self) -> u8 {
        match self {
            Self::Pending => 0,
            Self::Paid => 1,
            Self::AwaitingShipment => 2,
            Self::Delivered => 3,
            Self::Completed | Self::ReturnRequested => 4,
            Self::Returned => 5,
            Self::Refunded | Self::Cancelled => 6,
        }
    }

    /// Nothing moves a refunded or cancelled order. A completed order is done for the
    /// customer, but an admin may still refund it (a goodwill refund).
    pub fn is_final(self) -> bool {
        matches!(self, Self::Refunded | Self::Cancelled)
    }

    pub fn step(self, trigger: Trigger) -> Step {
        use OrderStatus::*;
        use Trigger::*;
        match (trigger, self) {
            (StockRejected | PaymentFailed | CustomerCancels | PaymentWindowClosed, Pending) => {
                Step::To(Cancelled)
            }
            (CustomerCancels | CustomerAccepts | CustomerReturns, _) => match (trigger, self) {
                (CustomerAccepts, Delivered) => Step::To(Completed),
                (CustomerReturns, Delivered) => Step::To(ReturnRequested),
                _ => Step::Refuse,
            },
            (PaymentCompleted, Pending) => Step::To(Paid),
            (ShipmentAwaiting, Paid) => Step::To(AwaitingShipment),
            (ShipmentAwaiting, Pending) => Step::TooEarly,
            (ShipmentDelivered, AwaitingShipment) => Step::To(Delivered),
            (ShipmentDelivered, Pending | Paid) => Step::TooEarly,
            (ShipmentReturned, ReturnRequested) => Step::To(Returned),
            (ShipmentReturned, Delivered) => Step::TooEarly,
            // A refund ends any order that was paid for and is not finished; the admin
            // may also refund a completed one.
            (
                PaymentRefunded,
                Paid | AwaitingShipment | Delivered | ReturnRequested | Returned | Completed,
            ) => Step::To(Refunded),
            (PaymentRefunded, Pending) => Step::TooEarly,
            _ => Step::Ignore,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{OrderStatus::*, Step, Trigger, Trigger::*};

    #[test]
    fn the_happy_path_runs_from_pending_to_completed() {
        let mut status = Pending;
        for trigger in [
            PaymentCompleted,
            ShipmentAwaiting,
            ShipmentDelivered,
            CustomerAccepts,
        ] {
            let Step::To(next) = status.step(trigger) else {
                panic!("{trigger:?} stuck at {status:?}");
            };
            status = next;
        }
        assert_eq!(status, Completed);
    }

    #[test]
    fn the_return_path_ends_refunded() {
        assert_eq!(Delivered.step(CustomerReturns), Step::To(ReturnRequested));
        assert_eq!(ReturnRequested.step(ShipmentReturned), Step::To(Returned));
        assert_eq!(Returned.step(PaymentRefunded), Step::To(Refunded));
    }

    #[test]
    fn customer_actions_outside_their_status_are_refused() {
        assert_eq!(Paid.step(CustomerCancels), Step::Refuse);
        assert_eq!(Pending.step(CustomerAccepts), Step::Refuse);
        assert_eq!(Completed.step(CustomerReturns), Step::Refuse);
        assert_eq!(Cancelled.step(CustomerCancels), Step::Refuse);
    }

    #[test]
    fn events_that_overtook_their_cause_wait_for_it() {
        assert_eq!(Pending.step(ShipmentAwaiting), Step::TooEarly);
        assert_eq!(Paid.step(ShipmentDelivered), Step::TooEarly);
    }

    #[test]
    fn only_a_pending_order_is_cancelled_when_its_payment_window_closes() {
        assert_eq!(Pending.step(PaymentWindowClosed), Step::To(Cancelled));
        for status in [Paid, AwaitingShipment, Delivered, Cancelled, Refunded] {
            assert_eq!(status.step(PaymentWindowClosed), Step::Ignore, "{status:?}");
        }
    }

    #[test]
    fn a_payment_arriving_after_cancellation_is_ignored() {
        assert_eq!(Cancelled.step(PaymentCompleted), Step::Ignore);
        assert_eq!(Cancelled.step(PaymentRefunded), Step::Ignore);
    }

    fn any_trigger() -> impl Strategy<Value = Trigger> {
        prop::sample::select(Trigger::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn no_sequence_of_triggers_moves_an_order_backwards_or_out_of_a_final_status(
            triggers in proptest::collection::vec(any_trigger(), 0..40)
        ) {
            let mut status = Pending;
            for trigger in triggers {
                if let Step::To(next) = status.step(trigger) {
                    prop_assert!(!status.is_final(), "{status:?} left by {trigger:?}");
                    prop_assert!(next.progress() > status.progress(),
                        "{status:?} -> {next:?} on {trigger:?}");
                    status = next;
                }
            }
        }
    }
}
