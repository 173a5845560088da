//! The port to whoever actually moves the money, and its two adapters: the built-in
//! [`SimulatedProvider`] and the [`HttpProvider`] for a real one. Settings choose which.
//!
//! Every request carries an idempotency key (the payment id for a charge), so asking
//! twice, after a timeout or a crash, moves the money once.

mod http;
mod simulated;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use service_kit::Settings;

pub use self::http::HttpProvider;
pub use self::simulated::SimulatedProvider;
use crate::domain::CardNumber;

/// Take `amount_minor` of `currency` from the card.
#[derive(Debug, Clone)]
pub struct ChargeRequest {
    pub idempotency_key: String,
    pub amount: event_contracts::Money,
    /// Prints as its last four digits only.
    pub card_number: CardNumber,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    Approved { reference: String },
    Declined { reason: String },
}

/// Give back the whole amount of an earlier charge.
#[derive(Debug, Clone)]
pub struct RefundRequest {
    pub idempotency_key: String,
    /// The provider's reference of the charge being refunded.
    pub charge_reference: Option<String>,
    pub amount: event_contracts::Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    Refunded {
        reference: String,
    },
    /// The provider will not refund (e.g. the charge is too old); a person must look.
    Refused {
        reason: String,
    },
}

/// Undo whatever a charge under `charge_key` (its idempotency key) did, for a charge
/// whose outcome we never learnt: a timeout, or a crash before its answer was stored.
/// The provider voids or refunds it if it exists, and refuses any charge under that key
/// from then on, so a request still on its way cannot take the money later. This is
/// what providers call a technical cancel, by the merchant's reference rather than
/// theirs (which we never received).
#[derive(Debug, Clone)]
pub struct ReversalRequest {
    pub idempotency_key: String,
    pub charge_key: String,
    pub amount: event_contracts::Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReversalOutcome {
    /// The provider had charged the card, and gave the money back.
    Reversed { reference: String },
    /// The provider had charged nothing under that key, and never will.
    NothingCharged,
}

/// The provider did not give an answer we can act on. Nothing is known about whether
/// money moved, so the payment stays as it was and the request may be repeated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("the payment provider did not answer in time")]
    Timeout,
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    #[error("the payment provider answered something unexpected: {0}")]
    Protocol(String),
}

#[async_trait]
pub trait PaymentProvider: Send + Sync {
    async fn charge(&self, request: ChargeRequest) -> Result<ChargeOutcome, ProviderError>;
    async fn refund(&self, request: RefundRequest) -> Result<RefundOutcome, ProviderError>;
    async fn reverse(&self, request: ReversalRequest) -> Result<ReversalOutcome, ProviderError>;
}

/// The provider `settings.payment_provider` names (`simulated` or `http`).
pub fn from_settings(settings: &Settings) -> anyhow::Result<Arc<dyn PaymentProvider>> {
    match settings.payment_provider.as_str() {
        "simulated" => Ok(Arc::new(SimulatedProvider)),
        "http" => {
            let url = settings
                .payment_provider_url
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("payment_provider = http needs a URL"))?;
            Ok(Arc::new(HttpProvider::new(
                url,
                Duration::from_millis(settings.payment_provider_timeout_ms),
            )?))
        }
        other => anyhow::bail!("unknown payment provider `{other}`"),
    }
}
