//! The channel port deliveries go out through, and its webhook adapter.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use service_kit::Settings;

use crate::domain::Notification;

/// Somewhere a notification is sent besides the in-app list. Email, SMS and push
/// adapters plug in here: implement `deliver`, give the channel a stable `name` (it is
/// stored with each delivery), and add it in [`from_settings`]. The dispatcher owns
/// retries and backoff, so an adapter makes one attempt and reports how it went; it
/// should bound its own time (the webhook gives up after five seconds).
#[async_trait]
pub trait Channel: Send + Sync {
    /// Stable: pending deliveries name their channel by it across restarts.
    fn name(&self) -> &'static str;

    /// One attempt at handing `notification` over. The same notification may be handed
    /// over again after an error or a crash, so receivers should deduplicate on its id.
    async fn deliver(&self, notification: &Notification) -> Result<(), ChannelError>;
}

/// Why an attempt failed; the dispatcher retries either kind until its policy gives up.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("could not reach the channel: {0}")]
    Unreachable(String),
    #[error("the channel refused the notification: {0}")]
    Refused(String),
}

/// The channels configured in `settings`: the webhook when
/// `SHOP_NOTIFICATION_WEBHOOK_URL` is set. An unusable URL stops the start-up rather
/// than every delivery failing later.
pub fn from_settings(settings: &Settings) -> anyhow::Result<Vec<Arc<dyn Channel>>> {
    let mut channels: Vec<Arc<dyn Channel>> = Vec::new();
    if let Some(url) = &settings.notification_webhook_url {
        channels.push(Arc::new(WebhookChannel::new(url)?));
    }
    Ok(channels)
}

/// POSTs each notification as JSON to a URL; any 2xx answer means delivered. The
/// notification id also goes in an `Idempotency-Key` header, for receivers that
/// deduplicate on headers.
pub struct WebhookChannel {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl WebhookChannel {
    pub const NAME: &'static str = "webhook";
    /// A receiver that hangs must not hold a dispatcher slot for long.
    pub const TIMEOUT: Duration = Duration::from_secs(5);

    pub fn new(url: &str) -> anyhow::Result<Self> {
        let url = reqwest::Url::parse(url)
            .map_err(|e| anyhow::anyhow!("notification_webhook_url {url:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            anyhow::bail!("notification_webhook_url must be http(s), not {url}");
        }
        let client = reqwest::Client::builder().timeout(Self::TIMEOUT).build()?;
        Ok(Self { client, url })
    }
}

#[async_trait]
impl Channel for WebhookChannel {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn deliver(&self, notification: &Notification) -> Result<(), ChannelError> {
        let response = self
            .client
            .post(self.url.clone())
            .header("Idempotency-Key", notification.id.as_str())
            .json(notification)
            .send()
            .await
            .map_err(|e| ChannelError::Unreachable(error_chain(&e)))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(ChannelError::Refused(format!("HTTP {status}")))
        }
    }
}

/// reqwest's top-level message ("error sending request") hides the useful part
/// ("connection refused"); the stored `last_error` should say what went wrong.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhook_is_configured_only_when_its_url_is_set() {
        assert!(from_settings(&Settings::default()).unwrap().is_empty());
        let settings = Settings {
            notification_webhook_url: Some("http://hooks.example/notify".into()),
            ..Settings::default()
        };
        let channels = from_settings(&settings).unwrap();
        assert_eq!(
            channels.iter().map(|c| c.name()).collect::<Vec<_>>(),
            ["webhook"]
        );
    }

    #[test]
    fn an_unusable_webhook_url_is_refused_at_start_up() {
        for url in ["not a url", "ftp://hooks.example/notify"] {
            let settings = Settings {
                notification_webhook_url: Some(url.into()),
                ..Settings::default()
            };
            assert!(from_settings(&settings).is_err(), "{url}");
        }
    }
}
