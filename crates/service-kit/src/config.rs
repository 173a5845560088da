//! Settings for the whole system, layered: built-in defaults, then an optional TOML
//! file (`SHOP_CONFIG`, else `shop.toml` when present), then `SHOP_*` environment
//! variables (`SHOP_DATA_DIR`, `SHOP_AUTH_PORT`, ...). Secrets are wrapped so they never
//! reach a log line.

use std::{fmt, net::IpAddr, path::PathBuf, time::Duration};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The nine deployable services. Each owns a namespace in the store and a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceName {
    Gateway,
    Auth,
    User,
    Product,
    Cart,
    Order,
    Payment,
    Shipping,
    Notification,
}

impl ServiceName {
    pub const ALL: [ServiceName; 9] = [
        Self::Gateway,
        Self::Auth,
        Self::User,
        Self::Product,
        Self::Cart,
        Self::Order,
        Self::Payment,
        Self::Shipping,
        Self::Notification,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gateway => "gateway",
            Self::Auth => "auth",
            Self::User => "user",
            Self::Product => "product",
            Self::Cart => "cart",
            Self::Order => "order",
            Self::Payment => "payment",
            Self::Shipping => "shipping",
            Self::Notification => "notification",
        }
    }

    pub fn default_port(self) -> u16 {
        8080 + self as u16
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// Files under `data_dir`, one per service, plus the event log.
    Disk,
    /// Nothing survives the process; for tests and demos.
    Memory,
    /// MongoDB at `mongodb_uri`, one database per service (`<prefix><service>`).
    Mongodb,
}

/// Which transport carries events between services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusKind {
    /// A durable log inside the process (under `data_dir`, or in memory): every
    /// service must run in this one process.
    InProcess,
    /// Kafka (or a Kafka-protocol broker) at `kafka_brokers`.
    Kafka,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub storage: StorageKind,
    /// Address every service binds to.
    pub host: IpAddr,
    pub gateway_port: u16,
    pub auth_port: u16,
    pub user_port: u16,
    pub product_port: u16,
    pub cart_port: u16,
    pub order_port: u16,
    pub payment_port: u16,
    pub shipping_port: u16,
    pub notification_port: u16,
    /// Where a service reaches another; defaults to `http://<host>:<port>`.
    pub auth_url: Option<String>,
    pub user_url: Option<String>,
    pub product_url: Option<String>,
    pub cart_url: Option<String>,
    pub order_url: Option<String>,
    pub payment_url: Option<String>,
    pub shipping_url: Option<String>,
    pub notification_url: Option<String>,

    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    pub bootstrap_admin_email: Option<String>,
    #[serde(skip_serializing)]
    pub bootstrap_admin_password: Option<SecretString>,

    pub rate_limit_login_per_minute: u32,
    pub rate_limit_register_per_minute: u32,
    /// Origins allowed by CORS at the gateway; `*` allows any.
    pub cors_allowed_origins: Vec<String>,
    pub upstream_timeout_ms: u64,

    pub bus_max_attempts: u32,
    pub bus_initial_backoff_ms: u64,
    /// How long an event that arrived before the one it follows is retried before it is
    /// parked (an outage can hold one topic back for that long).
    pub bus_early_wait_secs: u64,
    pub log_format: LogFormat,

    pub mongodb_uri: Option<String>,
    pub mongodb_database_prefix: String,
    pub mongodb_timeout_ms: u64,

    pub bus: BusKind,
    pub kafka_brokers: String,
    /// Used when topics are created at start-up; existing topics are left alone.
    pub kafka_partitions: i32,
    pub kafka_replication: i32,
    /// librdkafka's `fetch.wait.max.ms`: the most an event can wait on a broker that
    /// does not answer a waiting fetch early.
    pub kafka_fetch_wait_max_ms: u32,
    /// Names this replica to the broker as a static group member
    /// (`group.instance.id`): restarted, it takes its partitions back at once instead
    /// of waiting out the old member's session. Unset: the host name. Replicas of one
    /// service on one host need ids of their own.
    pub kafka_instance_id: Option<String>,

    /// `simulated` (built in; cards 4242424242424242 approved, 4000000000000002
    /// declined) or `http` (a real provider at `payment_provider_url`).
    pub payment_provider: String,
    pub payment_provider_url: Option<String>,
    pub payment_provider_timeout_ms: u64,
    /// Where the notification service's webhook channel posts; unset disables it.
    pub notification_webhook_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            storage: StorageKind::Disk,
            host: IpAddr::from([127, 0, 0, 1]),
            gateway_port: ServiceName::Gateway.default_port(),
            auth_port: ServiceName::Auth.default_port(),
            user_port: ServiceName::User.default_port(),
            product_port: ServiceName::Product.default_port(),
            cart_port: ServiceName::Cart.default_port(),
            order_port: ServiceName::Order.default_port(),
            payment_port: ServiceName::Payment.default_port(),
            shipping_port: ServiceName::Shipping.default_port(),
            notification_port: ServiceName::Notification.default_port(),
            auth_url: None,
            user_url: None,
            product_url: None,
            cart_url: None,
            order_url: None,
            payment_url: None,
            shipping_url: None,
            notification_url: None,
            jwt_issuer: "shop-auth".into(),
            jwt_audience: "shop".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 60 * 60,
            bootstrap_admin_email: None,
            bootstrap_admin_password: None,
            rate_limit_login_per_minute: 10,
            rate_limit_register_per_minute: 30,
            cors_allowed_origins: vec!["*".into()],
            upstream_timeout_ms: 10_000,
            // About 11 s of retries before parking: long enough for an event that
            // overtook its cause on another topic to find it, even under load.
            bus_max_attempts: 8,
            bus_initial_backoff_ms: 100,
            bus_early_wait_secs: 120,
            log_format: LogFormat::Pretty,
            mongodb_uri: None,
            mongodb_database_prefix: "shop_".into(),
            mongodb_timeout_ms: 5_000,
            bus: BusKind::InProcess,
            kafka_brokers: "127.0.0.1:9092".into(),
            kafka_partitions: 3,
            kafka_replication: 1,
            kafka_fetch_wait_max_ms: 100,
            kafka_instance_id: None,
            payment_provider: "simulated".into(),
            payment_provider_url: None,
            payment_provider_timeout_ms: 5_000,
            notification_webhook_url: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Settings {
    /// Defaults, then the TOML file, then `SHOP_*` variables.
    pub fn load() -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match std::env::var_os("SHOP_CONFIG") {
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file("shop.toml")),
        }
        Self::extract(figment.merge(Env::prefixed("SHOP_").ignore(&["config"])))
    }

    /// Like [`Settings::load`] but from explicit `(key, value)` pairs over the defaults;
    /// what tests use instead of touching the process environment.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        for (key, value) in pairs {
            // Parsed the way environment values are, so "9001" becomes a number.
            let value: figment::value::Value = value.parse().expect("parsing is infallible");
            figment = figment.merge((key, value));
        }
        Self::extract(figment)
    }

    fn extract(figment: Figment) -> Result<Self, ConfigError> {
        let settings: Settings = figment.extract().map_err(|e| ConfigError(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.access_token_ttl_secs == 0 || self.access_token_ttl_secs > 15 * 60 {
            return Err(ConfigError(
                "access_token_ttl_secs must be between 1 and 900 (15 minutes)".into(),
            ));
        }
        if self.bootstrap_admin_email.is_some() != self.bootstrap_admin_password.is_some() {
            return Err(ConfigError(
                "SHOP_BOOTSTRAP_ADMIN_EMAIL and SHOP_BOOTSTRAP_ADMIN_PASSWORD go together".into(),
            ));
        }
        if self.storage == StorageKind::Mongodb && self.mongodb_uri.is_none() {
            return Err(ConfigError(
                "storage = mongodb needs SHOP_MONGODB_URI".into(),
            ));
        }
        match (self.payment_provider.as_str(), &self.payment_provider_url) {
            ("simulated", _) | ("http", Some(_)) => {}
            ("http", None) => {
                return Err(ConfigError(
                    "payment_provider = http needs SHOP_PAYMENT_PROVIDER_URL".into(),
                ));
            }
            (other, _) => {
                return Err(ConfigError(format!(
                    "payment_provider must be `simulated` or `http`, not `{other}`"
                )));
            }
        }
        if self.rate_limit_login_per_minute == 0 || self.rate_limit_register_per_minute == 0 {
            return Err(ConfigError(
                "rate limits must be at least 1 per minute".into(),
            ));
        }
        Ok(())
    }

    pub fn port(&self, service: ServiceName) -> u16 {
        match service {
            ServiceName::Gateway => self.gateway_port,
            ServiceName::Auth => self.auth_port,
            ServiceName::User => self.user_port,
            ServiceName::Product => self.product_port,
            ServiceName::Cart => self.cart_port,
            ServiceName::Order => self.order_port,
            ServiceName::Payment => self.payment_port,
            ServiceName::Shipping => self.shipping_port,
            ServiceName::Notification => self.notification_port,
        }
    }

    pub fn set_port(&mut self, service: ServiceName, port: u16) {
        *match service {
            ServiceName::Gateway => &mut self.gateway_port,
            ServiceName::Auth => &mut self.auth_port,
            ServiceName::User => &mut self.user_port,
            ServiceName::Product => &mut self.product_port,
            ServiceName::Cart => &mut self.cart_port,
            ServiceName::Order => &mut self.order_port,
            ServiceName::Payment => &mut self.payment_port,
            ServiceName::Shipping => &mut self.shipping_port,
            ServiceName::Notification => &mut self.notification_port,
        } = port;
    }

    fn url_override(&self, service: ServiceName) -> Option<&String> {
        match service {
            ServiceName::Gateway => None,
            ServiceName::Auth => self.auth_url.as_ref(),
            ServiceName::User => self.user_url.as_ref(),
            ServiceName::Product => self.product_url.as_ref(),
            ServiceName::Cart => self.cart_url.as_ref(),
            ServiceName::Order => self.order_url.as_ref(),
            ServiceName::Payment => self.payment_url.as_ref(),
            ServiceName::Shipping => self.shipping_url.as_ref(),
            ServiceName::Notification => self.notification_url.as_ref(),
        }
    }

    /// The base URL another service uses to reach `service`, without a trailing slash.
    pub fn url(&self, service: ServiceName) -> String {
        match self.url_override(service) {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}:{}", self.host, self.port(service)),
        }
    }

    /// Where a service answers, the gateway included.
    pub fn url_of(&self, service: ServiceName) -> String {
        match service {
            ServiceName::Gateway => format!("http://{}:{}", self.host, self.gateway_port),
            other => self.url(other),
        }
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/api/v1/auth/jwks", self.url(ServiceName::Auth))
    }

    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_millis(self.upstream_timeout_ms)
    }

    pub fn retry_policy(&self) -> event_bus::RetryPolicy {
        event_bus::RetryPolicy {
            max_attempts: self.bus_max_attempts.max(1),
            initial_backoff: Duration::from_millis(self.bus_initial_backoff_ms),
            max_backoff: Duration::from_secs(5),
            early_wait: Duration::from_secs(self.bus_early_wait_secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn defaults_put_the_gateway_on_8080_and_services_after_it() {
        let s = Settings::default();
        assert_eq!(s.port(ServiceName::Gateway), 8080);
        assert_eq!(s.port(ServiceName::Notification), 8088);
        assert_eq!(s.url(ServiceName::Auth), "http://127.0.0.1:8081");
        assert_eq!(s.jwks_url(), "http://127.0.0.1:8081/api/v1/auth/jwks");
    }

    #[test]
    fn later_layers_override_earlier_ones_and_urls_can_be_pinned() {
        let s = Settings::from_pairs([
            ("auth_port", "9001"),
            ("user_url", "http://users.internal:80/"),
            ("bootstrap_admin_email", "root@example.com"),
            ("bootstrap_admin_password", "s3cret-enough"),
        ])
        .unwrap();
        assert_eq!(s.url(ServiceName::Auth), "http://127.0.0.1:9001");
        assert_eq!(s.url(ServiceName::User), "http://users.internal:80");
        assert_eq!(
            s.bootstrap_admin_password.unwrap().expose_secret(),
            "s3cret-enough"
        );
    }

    #[test]
    fn secrets_never_print() {
        let s = Settings::from_pairs([
            ("bootstrap_admin_email", "root@example.com"),
            ("bootstrap_admin_password", "hunter2-hunter2"),
        ])
        .unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn an_access_token_lifetime_over_fifteen_minutes_is_refused() {
        let err = Settings::from_pairs([("access_token_ttl_secs", "3600")]).unwrap_err();
        assert!(err.to_string().contains("access_token_ttl_secs"), "{err}");
    }

    #[test]
    fn a_bootstrap_email_without_a_password_is_refused() {
        let err = Settings::from_pairs([("bootstrap_admin_email", "a@b.io")]).unwrap_err();
        assert!(err.to_string().contains("go together"), "{err}");
    }
}
