//! The shipment state machine. No I/O.
//!
//! `pending -> awaiting -> delivered -> return_open -> returned`, and `pending` or
//! `awaiting` -> `cancelled`. Events arrive at least once and in any order across
//! topics, so every step answers one of three things: it moves the shipment forward,
//! it is already behind the shipment (redelivered, overtaken, or the shipment is
//! final), or it came before the step that must precede it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    /// The order exists but is not paid; nothing to ship yet.
    Pending,
    /// Paid: waiting to be handed to the customer.
    Awaiting,
    Delivered,
    /// The customer asked to send it back; the goods are on their way to us.
    ReturnOpen,
    /// The goods came back. Final.
    Returned,
    /// The order was cancelled or refunded before delivery. Final.
    Cancelled,
}

impl ShipmentStatus {
    pub const ALL: [ShipmentStatus; 6] = [
        Self::Pending,
        Self::Awaiting,
        Self::Delivered,
        Self::ReturnOpen,
        Self::Returned,
        Self::Cancelled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Awaiting => "awaiting",
            Self::Delivered => "delivered",
            Self::ReturnOpen => "return_open",
            Self::Returned => "returned",
            Self::Cancelled => "cancelled",
        }
    }

    pub const fn is_final(self) -> bool {
        matches!(self, Self::Returned | Self::Cancelled)
    }

    /// What `step` does to a shipment in this status.
    pub fn on(self, step: Step) -> Outcome {
        use Outcome::{AlreadyPast, Enters, TooEarly};
        use ShipmentStatus::*;
        // Spelled out per step, without a catch-all, so that a new status or step
        // cannot slip through unconsidered.
        match step {
            // The shipment exists already (made by this order's `order.created` or by
            // an earlier `payment.completed`).
            Step::Open => AlreadyPast,
            Step::Pay => match self {
                Pending => Enters(Awaiting),
                Awaiting | Delivered | ReturnOpen | Returned | Cancelled => AlreadyPast,
            },
            Step::Deliver => match self {
                Awaiting => Enters(Delivered),
                Pending => TooEarly,
                Delivered | ReturnOpen | Returned | Cancelled => AlreadyPast,
            },
            Step::OpenReturn => match self {
                Delivered => Enters(ReturnOpen),
                Pending | Awaiting => TooEarly,
                ReturnOpen | Returned | Cancelled => AlreadyPast,
            },
            Step::ReceiveReturn => match self {
                ReturnOpen => Enters(Returned),
                Pending | Awaiting | Delivered => TooEarly,
                Returned | Cancelled => AlreadyPast,
            },
            // Once the parcel is with the customer, cancelling the order or refunding
            // it no longer stops the shipment; the return flow is the way back.
            Step::Cancel => match self {
                Pending | Awaiting => Enters(Cancelled),
                Delivered | ReturnOpen | Returned | Cancelled => AlreadyPast,
            },
        }
    }

    /// What `step` does for an order that has no shipment yet: the events that carry
    /// enough to create one do so in the status they lead to, so that arriving before
    /// `order.created` loses nothing.
    pub fn first(step: Step) -> Outcome {
        match step {
            Step::Open => Outcome::Enters(Self::Pending),
            Step::Pay => Outcome::Enters(Self::Awaiting),
            // Recorded as cancelled so that a later `order.created` or
            // `payment.completed` finds it final instead of starting a live shipment.
            Step::Cancel => Outcome::Enters(Self::Cancelled),
            Step::Deliver | Step::OpenReturn | Step::ReceiveReturn => Outcome::TooEarly,
        }
    }
}

impl std::fmt::Display for ShipmentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that happens to a shipment, from an event or an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `order.created`.
    Open,
    /// `payment.completed`.
    Pay,
    /// An admin handed it to the customer.
    Deliver,
    /// `order.return_requested`.
    OpenReturn,
    /// An admin received the returned goods.
    ReceiveReturn,
    /// `order.cancelled` or `payment.refunded`.
    Cancel,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Self::Open,
        Self::Pay,
        Self::Deliver,
        Self::OpenReturn,
        Self::ReceiveReturn,
        Self::Cancel,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The shipment moves to this status (or, if it does not exist, is created in it).
    Enters(ShipmentStatus),
    /// The shipment is already at or past where the step leads, or final: nothing to do.
    AlreadyPast,
    /// A step that must come first has not happened yet.
    TooEarly,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Outcome::*, ShipmentStatus::*, *};

    #[test]
    fn the_happy_path_and_the_return_flow_move_forward_one_step_at_a_time() {
        assert_eq!(ShipmentStatus::first(Step::Open), Enters(Pending));
        assert_eq!(Pending.on(Step::Pay), Enters(Awaiting));
        assert_eq!(Awaiting.on(Step::Deliver), Enters(Delivered));
        assert_eq!(Delivered.on(Step::OpenReturn), Enters(ReturnOpen));
        assert_eq!(ReturnOpen.on(Step::ReceiveReturn), Enters(Returned));
    }

    #[test]
    fn only_an_undelivered_shipment_can_be_cancelled() {
        assert_eq!(Pending.on(Step::Cancel), Enters(Cancelled));
        assert_eq!(Awaiting.on(Step::Cancel), Enters(Cancelled));
        for status in [Delivered, ReturnOpen, Returned, Cancelled] {
            assert_eq!(status.on(Step::Cancel), AlreadyPast, "{status}");
        }
    }

    #[test]
    fn a_payment_for_a_missing_shipment_creates_it_already_awaiting() {
        assert_eq!(ShipmentStatus::first(Step::Pay), Enters(Awaiting));
        assert_eq!(ShipmentStatus::first(Step::Cancel), Enters(Cancelled));
        assert_eq!(ShipmentStatus::first(Step::Deliver), TooEarly);
        assert_eq!(ShipmentStatus::first(Step::OpenReturn), TooEarly);
    }

    #[test]
    fn an_order_created_after_the_payment_changes_nothing() {
        for status in ShipmentStatus::ALL {
            assert_eq!(status.on(Step::Open), AlreadyPast, "{status}");
        }
    }

    #[test]
    fn delivering_twice_or_before_payment_does_not_deliver() {
        assert_eq!(Delivered.on(Step::Deliver), AlreadyPast);
        assert_eq!(Pending.on(Step::Deliver), TooEarly);
        assert_eq!(Cancelled.on(Step::Deliver), AlreadyPast);
    }

    #[test]
    fn a_return_request_before_delivery_is_too_early_so_it_is_retried() {
        assert_eq!(Pending.on(Step::OpenReturn), TooEarly);
        assert_eq!(Awaiting.on(Step::OpenReturn), TooEarly);
        assert_eq!(ReturnOpen.on(Step::OpenReturn), AlreadyPast);
        assert_eq!(Delivered.on(Step::ReceiveReturn), TooEarly);
    }

    #[test]
    fn statuses_are_named_as_the_api_shows_them() {
        for status in ShipmentStatus::ALL {
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
    }

    /// Position along the main line; `cancelled` leaves it sideways, from before
    /// delivery only, and is checked separately.
    fn stage(status: ShipmentStatus) -> u8 {
        match status {
            Pending => 0,
            Awaiting => 1,
            Delivered => 2,
            ReturnOpen => 3,
            Returned => 4,
            Cancelled => 5,
        }
    }

    fn any_step() -> impl Strategy<Value = Step> {
        proptest::sample::select(Step::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn no_sequence_of_steps_moves_a_shipment_backwards_or_out_of_a_final_state(
            steps in proptest::collection::vec(any_step(), 1..40)
        ) {
            let mut status: Option<ShipmentStatus> = None;
            let mut visited = Vec::new();
            for step in steps {
                let outcome = match status {
                    None => ShipmentStatus::first(step),
                    Some(current) => current.on(step),
                };
                let Enters(next) = outcome else { continue };
                if let Some(current) = status {
                    prop_assert!(!current.is_final(), "{current} left a final state for {next}");
                    prop_assert!(stage(next) > stage(current), "{current} -> {next} goes backwards");
                    if next == Cancelled {
                        prop_assert!(matches!(current, Pending | Awaiting), "{current} was cancelled");
                    }
                }
                prop_assert!(!visited.contains(&next), "{next} entered twice");
                visited.push(next);
                status = Some(next);
            }
        }

        #[test]
        fn a_step_repeated_after_it_applied_changes_nothing(
            start in proptest::sample::select(ShipmentStatus::ALL.to_vec()),
            step in any_step(),
        ) {
            if let Enters(next) = start.on(step) {
                prop_assert!(!matches!(next.on(step), Enters(_)), "{step:?} applied twice from {start}");
            }
        }
    }
}
