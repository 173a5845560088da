//! The rules of a payment, with no I/O: which status may follow which, and what a card
//! number must look like. Everything that moves money asks [`Lifecycle::apply`] first.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a payment is in its life. `failed`, `voided` and `refunded` are final;
/// `completed` only ever becomes `refunded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Waiting to be paid (and, until the order's stock is reserved, not yet payable).
    Pending,
    /// The provider captured the money.
    Completed,
    /// The provider declined the card.
    Failed,
    /// The order was cancelled before it was paid; no money moved.
    Voided,
    /// The captured money went back to the customer.
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Voided => "voided",
            Self::Refunded => "refunded",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Failed | Self::Voided | Self::Refunded)
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that can happen to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The order's stock is reserved, so the customer may now pay.
    MarkPayable,
    /// The provider approved the charge.
    Capture,
    /// The provider declined the charge.
    Decline,
    /// The order was cancelled before payment.
    Void,
    /// The captured money is returned.
    Refund,
}

impl Step {
    fn verb(self) -> &'static str {
        match self {
            Self::MarkPayable => "made payable",
            Self::Capture | Self::Decline => "paid",
            Self::Void => "voided",
            Self::Refund => "refunded",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the payment cannot be paid until the order's stock is reserved")]
    NotPayableYet,
    #[error("the payment is {status}, so it cannot be {}", step.verb())]
    WrongStatus { status: PaymentStatus, step: Step },
}

/// The part of a payment the state machine decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    pub status: PaymentStatus,
    pub payable: bool,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self::new()
    }
}

impl Lifecycle {
    /// A new payment: pending, and not payable until stock is reserved.
    pub const fn new() -> Self {
        Self {
            status: PaymentStatus::Pending,
            payable: false,
        }
    }

    /// The lifecycle after `step`, or why the step is not allowed now. Every step from a
    /// final status is refused, which is what makes a second capture or refund impossible.
    pub fn apply(self, step: Step) -> Result<Self, TransitionError> {
        use PaymentStatus::*;
        let refuse = || TransitionError::WrongStatus {
            status: self.status,
            step,
        };
        match (step, self.status) {
            (Step::MarkPayable, Pending) => Ok(Self {
                payable: true,
                ..self
            }),
            (Step::Capture | Step::Decline, Pending) if !self.payable => {
                Err(TransitionError::NotPayableYet)
            }
            (Step::Capture, Pending) => Ok(Self {
                status: Completed,
                ..self
            }),
            (Step::Decline, Pending) => Ok(Self {
                status: Failed,
                ..self
            }),
            (Step::Void, Pending) => Ok(Self {
                status: Voided,
                ..self
            }),
            (Step::Refund, Completed) => Ok(Self {
                status: Refunded,
                ..self
            }),
            _ => Err(refuse()),
        }
    }

    /// Whether the customer may ask the provider for the money now.
    pub fn check_chargeable(self) -> Result<(), TransitionError> {
        self.apply(Step::Capture).map(|_| ())
    }
}

/// A card number as the customer typed it: 13 to 19 ASCII digits. It is only ever
/// handed to the provider; its `Debug` shows the last four digits and nothing more, so
/// it cannot leak through a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber(String);

impl CardNumber {
    pub const MIN_DIGITS: usize = 13;
    pub const MAX_DIGITS: usize = 19;

    pub fn parse(input: &str) -> Result<Self, String> {
        if !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err("card_number must contain digits only".into());
        }
        if !(Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&input.len()) {
            return Err(format!(
                "card_number must be {} to {} digits",
                Self::MIN_DIGITS,
                Self::MAX_DIGITS
            ));
        }
        Ok(Self(input.to_owned()))
    }

    /// The full number, for the provider only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The most of the number that may be stored or shown.
    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber(****{})", self.last4())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn payable() -> Lifecycle {
        Lifecycle::new().apply(Step::MarkPayable).unwrap()
    }

    #[test]
    fn a_new_payment_is_pending_and_cannot_be_paid_before_stock_is_reserved() {
        let new = Lifecycle::new();
        assert_eq!(new.status, PaymentStatus::Pending);
        assert_eq!(
            new.apply(Step::Capture),
            Err(TransitionError::NotPayableYet)
        );
        assert_eq!(new.check_chargeable(), Err(TransitionError::NotPayableYet));
    }

    #[test]
    fn a_payable_payment_is_captured_or_declined_once() {
        let completed = payable().apply(Step::Capture).unwrap();
        assert_eq!(completed.status, PaymentStatus::Completed);
        assert!(completed.apply(Step::Capture).is_err());
        assert!(completed.apply(Step::Decline).is_err());
        let failed = payable().apply(Step::Decline).unwrap();
        assert_eq!(failed.status, PaymentStatus::Failed);
        assert!(failed.apply(Step::Capture).is_err());
    }

    #[test]
    fn only_a_completed_payment_is_refunded_and_only_once() {
        assert!(payable().apply(Step::Refund).is_err());
        let refunded = payable()
            .apply(Step::Capture)
            .and_then(|l| l.apply(Step::Refund))
            .unwrap();
        assert_eq!(refunded.status, PaymentStatus::Refunded);
        let again = refunded.apply(Step::Refund).unwrap_err();
        assert_eq!(
            again.to_string(),
            "the payment is refunded, so it cannot be refunded"
        );
    }

    #[test]
    fn only_a_pending_payment_is_voided() {
        assert_eq!(
            Lifecycle::new().apply(Step::Void).unwrap().status,
            PaymentStatus::Voided
        );
        assert!(
            payable()
                .apply(Step::Capture)
                .unwrap()
                .apply(Step::Void)
                .is_err()
        );
    }

    #[test]
    fn card_numbers_are_13_to_19_digits() {
        for good in [
            "4242424242424242",
            "4000000000000002",
            "1234567890123",
            &"9".repeat(19),
        ] {
            assert!(CardNumber::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "424242424242",
            &"4".repeat(20),
            "4242 4242 4242 4242",
            "4242-4242-4242-4242",
            "42424242424242x2",
            "４２４２４２４２４２４２４２４２",
        ] {
            assert!(CardNumber::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_card_number_never_prints_more_than_its_last_four_digits() {
        let card = CardNumber::parse("4242424242421234").unwrap();
        assert_eq!(card.last4(), "1234");
        let shown = format!("{card:?}");
        assert_eq!(shown, "CardNumber(****1234)");
        assert!(!shown.contains("424242"));
    }

    fn any_step() -> impl Strategy<Value = Step> {
        prop_oneof![
            Just(Step::MarkPayable),
            Just(Step::Capture),
            Just(Step::Decline),
            Just(Step::Void),
            Just(Step::Refund),
        ]
    }

    proptest! {
        #[test]
        fn no_sequence_of_steps_captures_or_refunds_twice_or_leaves_a_final_status(
            steps in proptest::collection::vec(any_step(), 0..40)
        ) {
            let mut state = Lifecycle::new();
            let (mut captures, mut refunds) = (0, 0);
            for step in steps {
                let before = state;
                // A refused step changes nothing: `state` stays as it was.
                let Ok(after) = state.apply(step) else { continue };
                prop_assert!(!before.status.is_final(), "{before:?} moved by {step:?}");
                let changed = after.status != before.status;
                if changed && after.status == PaymentStatus::Completed {
                    captures += 1;
                }
                if changed && after.status == PaymentStatus::Refunded {
                    prop_assert_eq!(before.status, PaymentStatus::Completed);
                    refunds += 1;
                }
                // The provider is only asked once stock is reserved.
                if changed && matches!(after.status, PaymentStatus::Completed | PaymentStatus::Failed) {
                    prop_assert!(before.payable);
                }
                state = after;
            }
            prop_assert!(captures <= 1, "captured {captures} times");
            prop_assert!(refunds <= 1, "refunded {refunds} times");
            prop_assert!(refunds <= captures);
        }

        #[test]
        fn any_run_of_13_to_19_digits_is_a_card_number_that_keeps_only_its_last_four(
            digits in "[0-9]{13,19}"
        ) {
            let card = CardNumber::parse(&digits).unwrap();
            prop_assert_eq!(card.expose(), digits.as_str());
            prop_assert_eq!(card.last4(), &digits[digits.len() - 4..]);
        }

        #[test]
        fn text_with_anything_but_digits_is_never_a_card_number(
            prefix in "[0-9]{0,10}", junk in "[^0-9]", suffix in "[0-9]{0,10}"
        ) {
            let input = format!("{prefix}{junk}{suffix}");
            prop_assert!(CardNumber::parse(&input).is_err());
        }
    }
}
