//! The HTTP provider adapter against a mock provider.

use std::time::Duration;

use payment_service::{
    domain::CardNumber,
    provider::{
        ChargeOutcome, ChargeRequest, HttpProvider, PaymentProvider, ProviderError, RefundOutcome,
        RefundRequest,
    },
};
use serde_json::json;
use test_support::closed_port_url;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, header, method, path},
};

use crate::helpers::{approved, refunded};

const TIMEOUT: Duration = Duration::from_millis(200);

fn eur(amount_minor: i64) -> event_contracts::Money {
    event_contracts::Money::parse(amount_minor, "EUR").unwrap()
}

fn charge(card: &str) -> ChargeRequest {
    ChargeRequest {
        idempotency_key: "pay-1".into(),
        amount: eur(1999),
        card_number: CardNumber::parse(card).unwrap(),
    }
}

fn refund() -> RefundRequest {
    RefundRequest {
        idempotency_key: "pay-1:refund".into(),
        charge_reference: Some("ch_1".into()),
        amount: eur(1999),
    }
}

async fn provider_answering(route: &str, response: ResponseTemplate) -> (MockServer, HttpProvider) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(response)
        .mount(&server)
        .await;
    let provider = HttpProvider::new(&server.uri(), TIMEOUT).unwrap();
    (server, provider)
}

#[tokio::test]
async fn an_approved_charge_sends_the_amount_card_and_idempotency_key_and_returns_the_reference() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/charges"))
        .and(header("idempotency-key", "pay-1"))
        .and(body_json(json!({
            "idempotency_key": "pay-1",
            "amount_minor": 1999,
            "currency": "EUR",
            "card_number": "4242424242424242",
        })))
        .respond_with(approved("ch_123"))
        .expect(1)
        .mount(&server)
        .await;
    // A trailing slash in the configured URL does not double up.
    let provider = HttpProvider::new(&format!("{}/", server.uri()), TIMEOUT).unwrap();
    let outcome = provider.charge(charge("4242424242424242")).await;
    assert_eq!(
        outcome,
        Ok(ChargeOutcome::Approved {
            reference: "ch_123".into()
        })
    );
}

#[tokio::test]
async fn a_declined_charge_returns_the_providers_reason() {
    let (_server, provider) = provider_answering(
        "/charges",
        ResponseTemplate::new(200)
            .set_body_json(json!({"status": "declined", "reason": "insufficient funds"})),
    )
    .await;
    let outcome = provider.charge(charge("4000000000000002")).await;
    assert_eq!(
        outcome,
        Ok(ChargeOutcome::Declined {
            reason: "insufficient funds".into()
        })
    );
}

#[tokio::test]
async fn a_server_error_from_the_provider_is_unavailable() {
    for status in [500, 502, 503, 429] {
        let (_server, provider) =
            provider_answering("/charges", ResponseTemplate::new(status)).await;
        let outcome = provider.charge(charge("4242424242424242")).await;
        assert!(
            matches!(outcome, Err(ProviderError::Unavailable(_))),
            "{status}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_a_timeout() {
    let (_server, provider) = provider_answering(
        "/charges",
        ResponseTemplate::new(200)
            .set_body_json(json!({"status": "approved", "reference": "ch_late"}))
            .set_delay(Duration::from_secs(2)),
    )
    .await;
    let started = std::time::Instant::now();
    let outcome = provider.charge(charge("4242424242424242")).await;
    assert_eq!(outcome, Err(ProviderError::Timeout));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "gave up on time"
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_unavailable() {
    let provider = HttpProvider::new(&closed_port_url(), TIMEOUT).unwrap();
    let outcome = provider.charge(charge("4242424242424242")).await;
    assert!(
        matches!(outcome, Err(ProviderError::Unavailable(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn an_answer_the_contract_does_not_describe_is_a_protocol_error() {
    for response in [
        ResponseTemplate::new(200).set_body_json(json!({"status": "maybe"})),
        ResponseTemplate::new(200).set_body_string("<html>approved</html>"),
        ResponseTemplate::new(400).set_body_json(json!({"error": "bad request"})),
    ] {
        let (_server, provider) = provider_answering("/charges", response).await;
        let outcome = provider.charge(charge("4242424242424242")).await;
        assert!(
            matches!(outcome, Err(ProviderError::Protocol(_))),
            "{outcome:?}"
        );
    }
}

#[tokio::test]
async fn a_refund_sends_the_charge_reference_and_returns_the_refund_reference() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .and(body_json(json!({
            "idempotency_key": "pay-1:refund",
            "charge_reference": "ch_1",
            "amount_minor": 1999,
            "currency": "EUR",
        })))
        .respond_with(refunded("re_1"))
        .expect(1)
        .mount(&server)
        .await;
    let provider = HttpProvider::new(&server.uri(), TIMEOUT).unwrap();
    assert_eq!(
        provider.refund(refund()).await,
        Ok(RefundOutcome::Refunded {
            reference: "re_1".into()
        })
    );
}

#[tokio::test]
async fn a_refused_or_failed_refund_is_reported_as_such() {
    let (_server, provider) = provider_answering(
        "/refunds",
        ResponseTemplate::new(200)
            .set_body_json(json!({"status": "refused", "reason": "charge too old"})),
    )
    .await;
    assert_eq!(
        provider.refund(refund()).await,
        Ok(RefundOutcome::Refused {
            reason: "charge too old".into()
        })
    );
    let (_server, provider) = provider_answering("/refunds", ResponseTemplate::new(503)).await;
    assert!(matches!(
        provider.refund(refund()).await,
        Err(ProviderError::Unavailable(_))
    ));
}
