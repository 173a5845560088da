//! Moving payments along their lifecycle with the provider: what the routes and the
//! event handlers share. The rules are in `domain`; this module adds the provider, the
//! guarded writes and the events.
//!
//! Never capturing twice rests on two things. A charge is first *claimed* with a
//! version-guarded write (`charge_attempt`), so of two concurrent attempts only one asks
//! the provider; and the payment id is the provider's idempotency key, so asking again
//! after a timeout or a crash cannot take the money a second time.
//!
//! A charge the provider gave no answer to is of unknown outcome, and stays on the
//! payment until an answer settles it: the customer paying again (the same key, so the
//! provider answers what it did the first time), or, once the order is cancelled, a
//! reversal at the provider by that key. The reversal is stored before it is asked for
//! and asked again by [`Payments::reconcile`] until the provider takes it.

use std::{sync::Arc, time::Duration};

use doc_store::{DocumentStore, Query, StoreError, Versioned};
use event_bus::{ConflictRetry, LostRace, Outbox};
use event_contracts::{Envelope, PaymentCompleted, PaymentFailed, PaymentRefunded};
use service_kit::{ApiError, ErrorCode};
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    domain::{CardNumber, PaymentStatus, Step, TransitionError},
    provider::{
        ChargeOutcome, ChargeRequest, PaymentProvider, ProviderError, RefundOutcome, RefundRequest,
        ReversalOutcome, ReversalRequest,
    },
    store::{ChargeAttempt, ORDERS_SEEN, PAYMENTS, Payment, payment_for_order},
};

/// How a write that lost a race is re-read and tried again: at once, 20 times in all.
const WRITE_RETRY: ConflictRetry = ConflictRetry {
    attempts: 20,
    spread: false,
};
/// How often a handler looks again while a charge is in flight.
const IN_FLIGHT_POLL: Duration = Duration::from_millis(50);
/// How many owed reversals the reconciler asks for in one round.
const RECONCILE_BATCH: u64 = 100;

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("the payment is being paid or changed right now; reload it to see the outcome")]
    Busy,
    #[error("the payment changed while the provider was charging it; reload it")]
    Superseded,
    #[error(
        "the order was cancelled while a charge's outcome was unknown; the charge is being \
         reversed at the provider, and the payment cannot be paid"
    )]
    Reversing,
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("the payment provider refused the refund: {0}")]
    RefundRefused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PaymentError> for ApiError {
    fn from(e: PaymentError) -> Self {
        match e {
            PaymentError::Transition(_)
            | PaymentError::Busy
            | PaymentError::Superseded
            | PaymentError::Reversing => ApiError::conflict(e.to_string()),
            // The detail (an internal URL, a status line) is logged where it happened;
            // the customer learns only what to do next.
            // The charge may have been made: paying again asks the provider under the
            // same key, so it cannot be taken twice.
            PaymentError::Provider(ProviderError::Timeout) => ApiError::new(
                ErrorCode::BadGateway,
                "the payment provider did not answer in time; the payment stays pending, and \
                 paying again charges the card at most once",
            ),
            PaymentError::Provider(_) => ApiError::new(
                ErrorCode::BadGateway,
                "the payment provider is unavailable; the payment stays pending, and paying \
                 again charges the card at most once",
            ),
            PaymentError::RefundRefused(_) => ApiError::new(
                ErrorCode::BadGateway,
                "the payment provider refused the refund; the payment is unchanged",
            ),
            PaymentError::Store(e) => e.into(),
        }
    }
}

impl LostRace for PaymentError {
    fn is_lost_race(&self) -> bool {
        matches!(self, PaymentError::Store(e) if e.is_lost_race())
    }
}

/// Runs a guarded write again on fresh state while it loses races; one that keeps
/// losing leaves the payment busy.
async fn retrying<T, F, Fut>(step: F) -> Result<T, PaymentError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, PaymentError>>,
{
    WRITE_RETRY.run(step).await.map_err(|e| {
        if e.is_lost_race() {
            PaymentError::Busy
        } else {
            e
        }
    })
}

/// The payments of this service and the provider that moves their money.
#[derive(Clone)]
pub struct Payments {
    outbox: Outbox,
    provider: Arc<dyn PaymentProvider>,
    /// How long a charge attempt keeps others off the payment. Longer than the provider
    /// may take to answer, so it only runs out for an attempt whose request died.
    charge_lease: Duration,
}

impl Payments {
    pub fn new(outbox: Outbox, provider: Arc<dyn PaymentProvider>, charge_lease: Duration) -> Self {
        Self {
            outbox,
            provider,
            charge_lease,
        }
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    pub fn store(&self) -> &dyn DocumentStore {
        self.outbox.store()
    }

    pub async fn get(&self, id: &str) -> Result<Option<Versioned<Payment>>, StoreError> {
        PAYMENTS.get(self.store(), id).await
    }

    pub async fn for_order(
        &self,
        order_id: &str,
    ) -> Result<Option<Versioned<Payment>>, StoreError> {
        PAYMENTS
            .find_one(self.store(), Query::eq("order_id", order_id))
            .await
    }

    /// Gives an order its payment from what the order service says of it, when the
    /// order's `order.created` has not come yet: `payable` when it holds the order's
    /// stock as reserved, voided when it holds the order as cancelled (`cancelled` says
    /// why). Nothing happens if the payment exists meanwhile.
    pub async fn adopt(
        &self,
        order_id: &str,
        user_id: &str,
        total: event_contracts::Money,
        payable: bool,
        cancelled: Option<&str>,
    ) -> Result<(), PaymentError> {
        let seen = ORDERS_SEEN.get(self.store(), order_id).await?;
        let writes = payment_for_order(
            order_id,
            user_id,
            total,
            payable,
            cancelled,
            seen.as_ref().map(|s| &s.value),
            OffsetDateTime::now_utc(),
        )?;
        match self.store().commit(writes).await {
            // Made meanwhile (by the event, or another request): that one stands.
            Ok(()) | Err(StoreError::Duplicate { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Marks a pending payment payable because the order service holds its stock as
    /// reserved, before `stock.reserved` reached us; the payment as it is now.
    pub async fn mark_payable(&self, id: &str) -> Result<Versioned<Payment>, PaymentError> {
        retrying(|| async {
            let current = self.get(id).await?.ok_or(PaymentError::Superseded)?;
            if current.value.payable || current.value.status != PaymentStatus::Pending {
                return Ok(current);
            }
            let next = current
                .value
                .after(Step::MarkPayable, None, OffsetDateTime::now_utc())?;
            self.store()
                .commit(vec![PAYMENTS.update(&current, &next)])
                .await?;
            Ok(stored(current, next))
        })
        .await
    }

    /// The order's payment once no charge is in flight for it. Voiding or refunding
    /// while the provider is charging could leave money taken for a voided payment, so
    /// this waits for the charge's answer; the lease bounds the wait.
    pub async fn settled_for_order(
        &self,
        order_id: &str,
    ) -> Result<Option<Versioned<Payment>>, StoreError> {
        loop {
            let Some(payment) = self.for_order(order_id).await? else {
                return Ok(None);
            };
            if !payment
                .value
                .charge_in_flight(OffsetDateTime::now_utc(), self.charge_lease)
            {
                return Ok(Some(payment));
            }
            tokio::time::sleep(IN_FLIGHT_POLL).await;
        }
    }

    /// Charges the card for a pending, payable payment: approved completes it and
    /// declined fails it, each with its event. When the provider gives no answer, the
    /// payment stays pending with a charge of unknown outcome, and the error says so.
    pub async fn pay(
        &self,
        current: Versioned<Payment>,
        card: &CardNumber,
        correlation_id: &str,
    ) -> Result<Versioned<Payment>, PaymentError> {
        let attempt = ChargeAttempt {
            id: uuid::Uuid::now_v7().to_string(),
            started_at: OffsetDateTime::now_utc(),
            outcome_unknown: false,
        };
        // The claim is decided again on fresh state when an event's write (a redelivered
        // stock.reserved, say) beat it; another claim, or a void, ends it.
        let mut current = current;
        let mut tries = WRITE_RETRY.attempts;
        loop {
            if current.value.reversing {
                return Err(PaymentError::Reversing);
            }
            current.value.lifecycle().check_chargeable()?;
            if current
                .value
                .charge_in_flight(OffsetDateTime::now_utc(), self.charge_lease)
            {
                return Err(PaymentError::Busy);
            }
            // Replaces an attempt of unknown outcome: this one asks under the same key.
            let mut claimed = current.value.clone();
            claimed.charge_attempt = Some(attempt.clone());
            match self
                .store()
                .commit(vec![PAYMENTS.update(&current, &claimed)])
                .await
            {
                Ok(()) => break,
                Err(StoreError::VersionConflict { .. }) if tries > 1 => {
                    tries -= 1;
                    current = self
                        .get(&current.id)
                        .await?
                        .ok_or(PaymentError::Superseded)?;
                }
                Err(StoreError::VersionConflict { .. }) => return Err(PaymentError::Busy),
                Err(other) => return Err(other.into()),
            }
        }

        let request = ChargeRequest {
            idempotency_key: current.id.clone(),
            amount: current.value.amount,
            card_number: card.clone(),
        };
        match self.provider.charge(request).await {
            Ok(outcome) => {
                self.settle(&current.id, &attempt.id, outcome, card, correlation_id)
                    .await
            }
            Err(e) => {
                tracing::warn!(
                    payment_id = %current.id,
                    error = %e,
                    "the provider gave no answer to a charge; its outcome is unknown"
                );
                self.mark_unknown(&current.id, &attempt.id).await;
                Err(e.into())
            }
        }
    }

    /// Stores the provider's answer to our charge attempt, with its event.
    async fn settle(
        &self,
        id: &str,
        attempt_id: &str,
        outcome: ChargeOutcome,
        card: &CardNumber,
        correlation_id: &str,
    ) -> Result<Versioned<Payment>, PaymentError> {
        // Someone may write something else meanwhile (a redelivered stock.reserved, say);
        // our claim is checked again on each re-read. A claim that keeps losing stays and
        // runs out; a retry asks the provider again with the same idempotency key and
        // gets this same answer.
        retrying(|| async {
            let current = self.get(id).await?.ok_or(PaymentError::Superseded)?;
            let still_ours = current.value.status == PaymentStatus::Pending
                && !current.value.reversing
                && current
                    .value
                    .charge_attempt
                    .as_ref()
                    .is_some_and(|a| a.id == attempt_id);
            if !still_ours {
                // Our attempt outlived its lease and someone took over: a charge under the
                // same idempotency key (the same charge), or a cancellation, whose
                // reversal by that key gives back what this answer says was taken.
                return Err(PaymentError::Superseded);
            }
            let now = OffsetDateTime::now_utc();
            let p = &current.value;
            let (next, event) = match &outcome {
                ChargeOutcome::Approved { reference } => {
                    let mut next = p.after(Step::Capture, None, now)?;
                    next.provider_reference = Some(reference.clone());
                    next.card_last4 = Some(card.last4().to_owned());
                    let completed = PaymentCompleted {
                        payment_id: current.id.clone(),
                        order_id: p.order_id.clone(),
                        user_id: p.user_id.clone(),
                        amount: p.amount,
                    };
                    (next, Envelope::new(&completed, correlation_id))
                }
                ChargeOutcome::Declined { reason } => {
                    let reason = match reason.trim() {
                        "" => "declined by the payment provider".to_owned(),
                        given => given.to_owned(),
                    };
                    let mut next = p.after(Step::Decline, Some(reason.clone()), now)?;
                    next.failure_reason = Some(reason.clone());
                    next.card_last4 = Some(card.last4().to_owned());
                    let failed = PaymentFailed {
                        payment_id: current.id.clone(),
                        order_id: p.order_id.clone(),
                        user_id: p.user_id.clone(),
                        reason,
                    };
                    (next, Envelope::new(&failed, correlation_id))
                }
            };
            self.outbox
                .commit(vec![PAYMENTS.update(&current, &next)], vec![event])
                .await?;
            Ok(stored(current, next))
        })
        .await
    }

    /// Marks our charge attempt as answered with nothing we can act on: no longer in
    /// flight, so the customer can try again now rather than after the lease, and kept,
    /// so that a cancellation reverses it.
    async fn mark_unknown(&self, id: &str, attempt_id: &str) {
        let marked = WRITE_RETRY
            .run(|| async {
                let Some(current) = self.get(id).await? else {
                    return Ok(());
                };
                if current.value.charge_attempt.as_ref().map(|a| a.id.as_str()) != Some(attempt_id)
                {
                    return Ok(());
                }
                let mut marked = current.value.clone();
                if let Some(attempt) = marked.charge_attempt.as_mut() {
                    attempt.outcome_unknown = true;
                }
                self.store()
                    .commit(vec![PAYMENTS.update(&current, &marked)])
                    .await
            })
            .await;
        // Unmarked, the attempt still counts as of unknown outcome once its lease ends.
        if let Err(e) = marked {
            tracing::warn!(payment_id = %id, error = %e, "cannot mark a charge attempt as unanswered; it stays in flight until its lease ends");
        }
    }

    /// Asks the provider once for the reversal a payment is owed, and voids the payment
    /// when it answers. Nothing to do when none is owed (any more).
    pub async fn reverse(&self, id: &str) -> Result<(), PaymentError> {
        let Some(current) = self.get(id).await? else {
            return Ok(());
        };
        if !current.value.reversing {
            return Ok(());
        }
        let request = ReversalRequest {
            idempotency_key: format!("{id}:reversal"),
            charge_key: current.id.clone(),
            amount: current.value.amount,
        };
        let outcome = self.provider.reverse(request).await?;
        let (what, reference) = match outcome {
            ReversalOutcome::Reversed { reference } => (
                "a charge of unknown outcome was reversed at the provider",
                Some(reference),
            ),
            ReversalOutcome::NothingCharged => ("the provider charged nothing", None),
        };
        retrying(|| async {
            let Some(current) = self.get(id).await? else {
                return Ok(());
            };
            // Another round (or process) stored the same answer first.
            if !current.value.reversing {
                return Ok(());
            }
            let note = match &current.value.reversal_note {
                Some(why) => format!("{why}; {what}"),
                None => what.to_owned(),
            };
            let mut next =
                current
                    .value
                    .after(Step::Void, Some(note), OffsetDateTime::now_utc())?;
            next.reversal_reference = reference.clone();
            self.store()
                .commit(vec![PAYMENTS.update(&current, &next)])
                .await?;
            Ok(())
        })
        .await
    }

    /// One round of the reconciler: asks for every reversal still owed.
    pub async fn reconcile(&self) {
        let owed = PAYMENTS
            .find(
                self.store(),
                &Query::eq("reversing", true).page(0, RECONCILE_BATCH),
            )
            .await;
        let owed = match owed {
            Ok(page) => page.items,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the reversals owed; trying again later");
                return;
            }
        };
        for payment in owed {
            if let Err(e) = self.reverse(&payment.id).await {
                tracing::warn!(payment_id = %payment.id, error = %e, "the provider did not take a reversal; asking again later");
            }
        }
    }

    /// Runs [`Payments::reconcile`] every `every` until shutdown.
    pub fn spawn_reconciler(self, every: Duration, shutdown: CancellationToken) -> JoinHandle<()> {
        service_kit::spawn_every(every, shutdown, move || {
            let payments = self.clone();
            async move { payments.reconcile().await }
        })
    }

    /// Has the provider return a completed payment's money, and gives the refunded
    /// record and the event data to store. Nothing is stored here; the caller commits
    /// both, guarded by `current`'s version.
    pub async fn refund(
        &self,
        current: &Versioned<Payment>,
        note: &str,
    ) -> Result<(Payment, PaymentRefunded), PaymentError> {
        // Checked before any money moves; checked again when building the record.
        current.value.lifecycle().apply(Step::Refund)?;
        let request = RefundRequest {
            idempotency_key: refund_key(&current.id),
            charge_reference: current.value.provider_reference.clone(),
            amount: current.value.amount,
        };
        let reference = match self.provider.refund(request).await {
            Ok(RefundOutcome::Refunded { reference }) => reference,
            Ok(RefundOutcome::Refused { reason }) => {
                tracing::error!(payment_id = %current.id, %reason, "the provider refused a refund");
                return Err(PaymentError::RefundRefused(reason));
            }
            Err(e) => {
                tracing::warn!(payment_id = %current.id, error = %e, "the provider gave no answer to a refund");
                return Err(e.into());
            }
        };
        let mut next = current.value.after(
            Step::Refund,
            Some(note.to_owned()),
            OffsetDateTime::now_utc(),
        )?;
        next.refund_reference = Some(reference);
        let refunded = PaymentRefunded {
            payment_id: current.id.clone(),
            order_id: next.order_id.clone(),
            user_id: next.user_id.clone(),
            amount: next.amount,
        };
        Ok((next, refunded))
    }

    /// An admin's refund of a completed payment; `None` when there is no such payment.
    pub async fn refund_now(
        &self,
        id: &str,
        correlation_id: &str,
    ) -> Result<Option<Versioned<Payment>>, PaymentError> {
        // On a lost race, re-read: if the race was another refund, the next round answers
        // 409; the provider saw the same idempotency key and refunded once.
        retrying(|| async {
            let Some(current) = self.get(id).await? else {
                return Ok(None);
            };
            let (next, refunded) = self.refund(&current, "refunded by an admin").await?;
            let event = Envelope::new(&refunded, correlation_id);
            self.outbox
                .commit(vec![PAYMENTS.update(&current, &next)], vec![event])
                .await?;
            Ok(Some(stored(current, next)))
        })
        .await
    }
}

/// One refund per payment: every refund request for it carries this key.
fn refund_key(payment_id: &str) -> String {
    format!("{payment_id}:refund")
}

/// The record as the guarded update of `before` stored it.
fn stored(before: Versioned<Payment>, value: Payment) -> Versioned<Payment> {
    Versioned {
        id: before.id,
        version: before.version + 1,
        value,
    }
}
