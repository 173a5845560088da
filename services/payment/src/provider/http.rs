use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::{
    ChargeOutcome, ChargeRequest, PaymentProvider, ProviderError, RefundOutcome, RefundRequest,
    ReversalOutcome, ReversalRequest,
};

/// A real provider over HTTP:
///
/// - `POST {url}/charges` with `{idempotency_key, amount_minor, currency, card_number}`
///   answers 200 with `{"status":"approved","reference":..}` or
///   `{"status":"declined","reason":..}`;
/// - `POST {url}/refunds` with `{idempotency_key, charge_reference, amount_minor,
///   currency}` answers 200 with `{"status":"refunded","reference":..}` or
///   `{"status":"refused","reason":..}`.
/// - `POST {url}/reversals` with `{idempotency_key, charge_idempotency_key,
///   amount_minor, currency}` voids or refunds the charge made under that key, if any,
///   and closes the key to later charges; it answers 200 with
///   `{"status":"reversed","reference":..}` or `{"status":"not_charged"}`.
///
/// The idempotency key also goes in an `Idempotency-Key` header, the convention most
/// providers follow. A 5xx or 429 is [`ProviderError::Unavailable`], no answer within
/// the timeout is [`ProviderError::Timeout`], anything else unexpected is
/// [`ProviderError::Protocol`].
#[derive(Debug, Clone)]
pub struct HttpProvider {
    client: reqwest::Client,
    base_url: String,
}

#[derive(Serialize)]
struct ChargeBody<'a> {
    idempotency_key: &'a str,
    amount_minor: i64,
    currency: money::Currency,
    card_number: &'a str,
}

#[derive(Serialize)]
struct RefundBody<'a> {
    idempotency_key: &'a str,
    charge_reference: Option<&'a str>,
    amount_minor: i64,
    currency: money::Currency,
}

#[derive(Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum ChargeAnswer {
    Approved { reference: String },
    Declined { reason: String },
}

#[derive(Serialize)]
struct ReversalBody<'a> {
    idempotency_key: &'a str,
    charge_idempotency_key: &'a str,
    amount_minor: i64,
    currency: money::Currency,
}

#[derive(Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum ReversalAnswer {
    Reversed { reference: String },
    NotCharged,
}

#[derive(Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum RefundAnswer {
    Refunded {
        reference: String,
    },
    #[serde(alias = "declined")]
    Refused {
        reason: String,
    },
}

impl HttpProvider {
    /// A provider at `base_url` whose every request, body included, must finish within
    /// `timeout`: a customer is waiting on the answer.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, ProviderError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| ProviderError::Protocol(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    async fn post<B: Serialize, A: DeserializeOwned>(
        &self,
        path: &str,
        idempotency_key: &str,
        body: &B,
    ) -> Result<A, ProviderError> {
        let response = self
            .client
            .post(format!("{}{path}", self.base_url))
            .header("idempotency-key", idempotency_key)
            .json(body)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ProviderError::Unavailable(format!(
                "POST {path} answered {status}"
            )));
        }
        if !status.is_success() {
            return Err(ProviderError::Protocol(format!(
                "POST {path} answered {status}"
            )));
        }
        response.json::<A>().await.map_err(transport_error)
    }
}

/// What went wrong on the way, in the port's terms. reqwest's messages name the URL,
/// never the body, so they are safe to keep.
fn transport_error(e: reqwest::Error) -> ProviderError {
    if e.is_timeout() {
        ProviderError::Timeout
    } else if e.is_decode() {
        ProviderError::Protocol(format!("unreadable answer: {e}"))
    } else {
        ProviderError::Unavailable(e.to_string())
    }
}

#[async_trait]
impl PaymentProvider for HttpProvider {
    async fn charge(&self, request: ChargeRequest) -> Result<ChargeOutcome, ProviderError> {
        let body = ChargeBody {
            idempotency_key: &request.idempotency_key,
            amount_minor: request.amount.amount_minor(),
            currency: request.amount.currency(),
            card_number: request.card_number.expose(),
        };
        let answer = self
            .post("/charges", &request.idempotency_key, &body)
            .await?;
        Ok(match answer {
            ChargeAnswer::Approved { reference } => ChargeOutcome::Approved { reference },
            ChargeAnswer::Declined { reason } => ChargeOutcome::Declined { reason },
        })
    }

    async fn refund(&self, request: RefundRequest) -> Result<RefundOutcome, ProviderError> {
        let body = RefundBody {
            idempotency_key: &request.idempotency_key,
            charge_reference: request.charge_reference.as_deref(),
            amount_minor: request.amount.amount_minor(),
            currency: request.amount.currency(),
        };
        let answer = self
            .post("/refunds", &request.idempotency_key, &body)
            .await?;
        Ok(match answer {
            RefundAnswer::Refunded { reference } => RefundOutcome::Refunded { reference },
            RefundAnswer::Refused { reason } => RefundOutcome::Refused { reason },
        })
    }

    async fn reverse(&self, request: ReversalRequest) -> Result<ReversalOutcome, ProviderError> {
        let body = ReversalBody {
            idempotency_key: &request.idempotency_key,
            charge_idempotency_key: &request.charge_key,
            amount_minor: request.amount.amount_minor(),
            currency: request.amount.currency(),
        };
        let answer = self
            .post("/reversals", &request.idempotency_key, &body)
            .await?;
        Ok(match answer {
            ReversalAnswer::Reversed { reference } => ReversalOutcome::Reversed { reference },
            ReversalAnswer::NotCharged => ReversalOutcome::NothingCharged,
        })
    }
}
