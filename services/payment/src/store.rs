//! The payment service's collection and the shape of what it stores in it.

use std::time::Duration;

use doc_store::{Collection, CollectionSpec};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::domain::{Lifecycle, PaymentStatus, Step, TransitionError};

/// One order's payment. The id is assigned when the order is first seen (UUID v7, so
/// ids sort by creation time) and is the provider's idempotency key for the charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub order_id: String,
    pub user_id: String,
    /// The order total, in minor units.
    pub amount: event_contracts::Money,
    pub status: PaymentStatus,
    /// False until the order's stock is reserved: nobody pays for goods not held for them.
    pub payable: bool,
    /// The provider's id of the capture.
    pub provider_reference: Option<String>,
    /// The provider's id of the refund.
    pub refund_reference: Option<String>,
    /// Why the provider declined, for a failed payment.
    pub failure_reason: Option<String>,
    /// The only part of a card number ever stored.
    pub card_last4: Option<String>,
    /// A charge asked of the provider whose answer is not stored: still in flight
    /// (while it is fresh, nobody else charges, voids or refunds this payment, so at
    /// most one charge is in flight), or of unknown outcome (no answer came, or the
    /// process died before storing it). Only an answer clears it; a pending payment
    /// with one is voided through a reversal at the provider, never just marked voided.
    pub charge_attempt: Option<ChargeAttempt>,
    /// The order was cancelled while a charge's outcome was unknown, and the provider
    /// has not yet confirmed the reversal. The payment cannot be paid; it becomes
    /// `voided` once the provider answers. Top-level so that the reconciler finds
    /// these with an indexed query.
    #[serde(default)]
    pub reversing: bool,
    /// Why the payment is being reversed (the cancellation's note).
    #[serde(default)]
    pub reversal_note: Option<String>,
    /// The provider's id of the reversal, when it gave money back.
    #[serde(default)]
    pub reversal_reference: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Every status the payment had, oldest first.
    pub history: Vec<StatusChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargeAttempt {
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// The provider gave no answer we could act on (a timeout, a 5xx): it may or may
    /// not have charged. No longer in flight, but not forgotten either.
    #[serde(default)]
    pub outcome_unknown: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: PaymentStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What caused the change, e.g. the provider's decline reason.
    pub note: Option<String>,
}

impl Payment {
    pub fn new(
        order_id: String,
        user_id: String,
        amount: event_contracts::Money,
        now: OffsetDateTime,
    ) -> Self {
        let start = Lifecycle::new();
        Self {
            order_id,
            user_id,
            amount,
            status: start.status,
            payable: start.payable,
            provider_reference: None,
            refund_reference: None,
            failure_reason: None,
            card_last4: None,
            charge_attempt: None,
            reversing: false,
            reversal_note: None,
            reversal_reference: None,
            created_at: now,
            updated_at: now,
            history: vec![StatusChange {
                status: start.status,
                at: now,
                note: None,
            }],
        }
    }

    pub fn lifecycle(&self) -> Lifecycle {
        Lifecycle {
            status: self.status,
            payable: self.payable,
        }
    }

    /// The record after `step`, if the state machine allows it. A status change is
    /// recorded in the history and ends any charge attempt and reversal (settled by
    /// this step).
    pub fn after(
        &self,
        step: Step,
        note: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Payment, TransitionError> {
        let next = self.lifecycle().apply(step)?;
        let mut payment = self.clone();
        payment.payable = next.payable;
        payment.updated_at = now;
        if next.status != self.status {
            payment.status = next.status;
            payment.charge_attempt = None;
            payment.reversing = false;
            payment.history.push(StatusChange {
                status: next.status,
                at: now,
                note,
            });
        }
        Ok(payment)
    }

    /// Whether a charge is being asked of the provider right now. An attempt older
    /// than `lease` belongs to a request that died (a crash, a lost connection) and no
    /// longer blocks anyone.
    pub fn charge_in_flight(&self, now: OffsetDateTime, lease: Duration) -> bool {
        self.charge_attempt
            .as_ref()
            .is_some_and(|attempt| !attempt.outcome_unknown && now < attempt.started_at + lease)
    }

    /// This pending payment, voided because its order was cancelled (`note` says why).
    /// With a charge of unknown outcome it cannot just be marked voided, since the
    /// provider may have taken the money: it is marked for a reversal instead, and
    /// becomes `voided` once the provider confirms it.
    pub fn voided(&self, note: &str, now: OffsetDateTime) -> Result<Payment, TransitionError> {
        if self.charge_attempt.is_none() {
            return self.after(Step::Void, Some(note.to_owned()), now);
        }
        // Checked now, so that a payment that could not be voided is not reversed.
        self.lifecycle().apply(Step::Void)?;
        let mut payment = self.clone();
        payment.payable = false;
        payment.reversing = true;
        payment.reversal_note = Some(note.to_owned());
        payment.updated_at = now;
        Ok(payment)
    }
}

pub const PAYMENTS: Collection<Payment> = Collection::new("payments");

/// An order this service has heard of, under the order's id: created (its payment
/// exists), or cancelled before its `order.created` came (on another topic, so it may
/// come much later). A cancellation that comes first is kept here rather than parked,
/// and the payment `order.created` then makes starts voided. Both handlers insert this
/// record, so of a creation and a cancellation that race, one insert loses and its
/// handler runs again on what the other stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderSeen {
    /// Why the order was cancelled, when the cancellation came first.
    pub cancelled_first: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

pub const ORDERS_SEEN: Collection<OrderSeen> = Collection::new("orders_seen");

/// The writes that give an order its payment, for `order.created` or for a read of the
/// order service before that event came: the payment (voided from the start when the
/// order's cancellation came first, as `seen` says), and the marker that the order was
/// seen. Both are inserts, so of two creators that race one loses and reads again.
/// `cancelled` says why the order is cancelled already, when the order service said so.
pub fn payment_for_order(
    order_id: &str,
    user_id: &str,
    total: event_contracts::Money,
    payable: bool,
    cancelled: Option<&str>,
    seen: Option<&OrderSeen>,
    now: OffsetDateTime,
) -> Result<Vec<doc_store::Write>, TransitionError> {
    let mut payment = Payment::new(order_id.to_owned(), user_id.to_owned(), total, now);
    if payable {
        payment = payment.after(Step::MarkPayable, None, now)?;
    }
    let void_note = seen
        .and_then(|s| s.cancelled_first.clone())
        .or(cancelled.map(str::to_owned));
    if let Some(note) = void_note {
        payment = payment.after(Step::Void, Some(note), now)?;
    }
    let id = uuid::Uuid::now_v7().to_string();
    Ok(match seen {
        Some(_) => vec![PAYMENTS.insert(id, &payment)],
        None => vec![
            PAYMENTS.insert(id, &payment),
            ORDERS_SEEN.insert(
                order_id,
                &OrderSeen {
                    cancelled_first: None,
                    at: now,
                },
            ),
        ],
    })
}

/// The list is newest first by id (UUID v7), by owner; `order_id` (unique) finds one;
/// the reconciler finds the payments it owes a reversal by `reversing`.
pub const COLLECTIONS: &[CollectionSpec] = &[
    PAYMENTS.spec(&["order_id"], &[&["user_id"], &["reversing"]]),
    ORDERS_SEEN.spec(&[], &[]),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn payment() -> Payment {
        Payment::new(
            "o1".into(),
            "u1".into(),
            event_contracts::Money::parse(1999, "EUR").unwrap(),
            OffsetDateTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn a_status_change_is_recorded_in_the_history_and_ends_the_charge_attempt() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::from_secs(60);
        let mut p = payment().after(Step::MarkPayable, None, now).unwrap();
        assert_eq!(p.history.len(), 1, "payable is not a status");
        p.charge_attempt = Some(ChargeAttempt {
            id: "a1".into(),
            started_at: now,
            outcome_unknown: false,
        });
        let done = p
            .after(Step::Decline, Some("insufficient funds".into()), now)
            .unwrap();
        assert_eq!(done.status, PaymentStatus::Failed);
        assert_eq!(done.charge_attempt, None);
        let last = done.history.last().unwrap();
        assert_eq!(
            (last.status, last.note.as_deref()),
            (PaymentStatus::Failed, Some("insufficient funds"))
        );
    }

    #[test]
    fn a_charge_attempt_stops_blocking_once_its_lease_runs_out() {
        let start = OffsetDateTime::UNIX_EPOCH;
        let mut p = payment();
        assert!(!p.charge_in_flight(start, Duration::from_secs(10)));
        p.charge_attempt = Some(ChargeAttempt {
            id: "a1".into(),
            started_at: start,
            outcome_unknown: false,
        });
        let lease = Duration::from_secs(10);
        assert!(p.charge_in_flight(start + Duration::from_secs(9), lease));
        assert!(!p.charge_in_flight(start + Duration::from_secs(10), lease));
    }

    #[test]
    fn a_charge_of_unknown_outcome_is_not_in_flight_but_its_payment_is_voided_by_reversal() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let lease = Duration::from_secs(10);
        let mut p = payment().after(Step::MarkPayable, None, now).unwrap();
        let plain = p.voided("order cancelled", now).unwrap();
        assert_eq!(
            (plain.status, plain.reversing),
            (PaymentStatus::Voided, false)
        );

        p.charge_attempt = Some(ChargeAttempt {
            id: "a1".into(),
            started_at: now,
            outcome_unknown: true,
        });
        assert!(!p.charge_in_flight(now, lease), "nobody waits on it");
        let reversing = p.voided("order cancelled", now).unwrap();
        assert_eq!(reversing.status, PaymentStatus::Pending);
        assert!(reversing.reversing && !reversing.payable);
        assert_eq!(reversing.reversal_note.as_deref(), Some("order cancelled"));
        assert!(
            reversing.charge_attempt.is_some(),
            "kept until the provider answers"
        );

        // The provider's answer voids it and ends the reversal.
        let done = reversing
            .after(Step::Void, Some("reversed".into()), now)
            .unwrap();
        assert_eq!(
            (done.status, done.reversing),
            (PaymentStatus::Voided, false)
        );
        assert_eq!(done.charge_attempt, None);
        assert!(
            payment()
                .after(Step::MarkPayable, None, now)
                .unwrap()
                .after(Step::Capture, None, now)
                .unwrap()
                .voided("x", now)
                .is_err()
        );
    }
}
