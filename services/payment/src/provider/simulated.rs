use async_trait::async_trait;

use super::{
    ChargeOutcome, ChargeRequest, PaymentProvider, ProviderError, RefundOutcome, RefundRequest,
    ReversalOutcome, ReversalRequest,
};

/// The card the simulated provider approves; every other well-formed number is declined.
pub const APPROVED_CARD: &str = "4242424242424242";
/// The card documented as declined, for demos and tests.
pub const DECLINED_CARD: &str = "4000000000000002";

/// A provider in the process, for running the shop without a real one. References
/// derive from the idempotency key, so a repeated request gets the same answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimulatedProvider;

#[async_trait]
impl PaymentProvider for SimulatedProvider {
    async fn charge(&self, request: ChargeRequest) -> Result<ChargeOutcome, ProviderError> {
        Ok(match request.card_number.expose() {
            APPROVED_CARD => ChargeOutcome::Approved {
                reference: format!("sim_ch_{}", request.idempotency_key),
            },
            DECLINED_CARD => ChargeOutcome::Declined {
                reason: "the card was declined".into(),
            },
            _ => ChargeOutcome::Declined {
                reason: "the card was declined (unknown test card)".into(),
            },
        })
    }

    async fn refund(&self, request: RefundRequest) -> Result<RefundOutcome, ProviderError> {
        Ok(RefundOutcome::Refunded {
            reference: format!("sim_re_{}", request.idempotency_key),
        })
    }

    /// The simulation keeps no record of its charges, so it reverses as if the charge
    /// had been made. It always answers at once, so only a crash mid-charge asks it.
    async fn reverse(&self, request: ReversalRequest) -> Result<ReversalOutcome, ProviderError> {
        Ok(ReversalOutcome::Reversed {
            reference: format!("sim_rv_{}", request.idempotency_key),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CardNumber;

    fn charge(card: &str) -> ChargeRequest {
        ChargeRequest {
            idempotency_key: "pay-1".into(),
            amount: event_contracts::Money::parse(100, "EUR").unwrap(),
            card_number: CardNumber::parse(card).unwrap(),
        }
    }

    #[tokio::test]
    async fn only_the_approved_test_card_is_charged() {
        let approved = SimulatedProvider.charge(charge(APPROVED_CARD)).await;
        assert_eq!(
            approved,
            Ok(ChargeOutcome::Approved {
                reference: "sim_ch_pay-1".into()
            })
        );
        for card in [DECLINED_CARD, "4111111111111111", "5555555555554444"] {
            let outcome = SimulatedProvider.charge(charge(card)).await.unwrap();
            assert!(
                matches!(outcome, ChargeOutcome::Declined { .. }),
                "{card}: {outcome:?}"
            );
        }
    }

    #[tokio::test]
    async fn refunds_always_succeed() {
        let outcome = SimulatedProvider
            .refund(RefundRequest {
                idempotency_key: "pay-1:refund".into(),
                charge_reference: Some("sim_ch_pay-1".into()),
                amount: event_contracts::Money::parse(100, "EUR").unwrap(),
            })
            .await;
        assert!(matches!(outcome, Ok(RefundOutcome::Refunded { .. })));
    }
}
