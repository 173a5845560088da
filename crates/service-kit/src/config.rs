//! Settings for the whole system, layered: built-in defaults, then an optional TOML
//! file (`SHOP_CONFIG`, else `shop.toml` when present), then `SHOP_*` environment
//! variables (`SHOP_DATA_DIR`, `SHOP_AUTH_PORT`, ...). Secrets are wrapped so they never
//! reach a log line.

use std::{collections::BTreeMap, net::IpAddr, path::PathBuf, time::Duration};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
    value::{Dict, Value},
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::service::ServiceName;

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
    /// redb's page cache for each embedded store file, in MiB. Queries read a page's
    /// worth of documents, so a small cache costs little; redb's own default is 1 GiB.
    pub store_cache_mb: u32,
    /// Address every service binds to.
    pub host: IpAddr,
    /// Each service's port, by name (`SHOP_<SERVICE>_PORT`). The host fills in the
    /// default port of every service it knows ([`Settings::with_default_ports`]).
    pub ports: BTreeMap<String, u16>,
    /// Where a service reaches another, by name (`SHOP_<SERVICE>_URL`); a service not
    /// named here is at `http://<host>:<port>`.
    pub urls: BTreeMap<String, String>,

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
    /// How long an event is retried through an outage (its store or broker
    /// unavailable, a provider not answering) before those attempts count towards
    /// parking it.
    pub bus_outage_wait_secs: u64,
    /// How long a consumer keeps the marker of an event it applied, which is how long a
    /// redelivery of the event is still refused. Longer than `event_log_retention_secs`.
    pub processed_events_retention_secs: u64,
    /// How long the in-process log keeps an event (from when it occurred) once every
    /// consumer group has passed it. On Kafka the broker's `retention.ms` plays this
    /// part, and the processed-events retention must outlast that instead.
    pub event_log_retention_secs: u64,
    /// How often each consuming service prunes its markers and compacts the log.
    pub history_prune_interval_secs: u64,
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

    /// How long a pending order holds its stock unpaid before it is cancelled.
    pub order_payment_window_secs: u64,
    /// The most unpaid (pending) orders one customer may hold at once, and the most
    /// units across them: anyone can register, so without a cap anyone could hold a
    /// product's whole stock for free.
    pub order_max_pending: u32,
    pub order_max_pending_units: u32,

    /// `simulated` (built in; cards 4242424242424242 approved, 4000000000000002
    /// declined) or `http` (a real provider at `payment_provider_url`).
    pub payment_provider: String,
    pub payment_provider_url: Option<String>,
    pub payment_provider_timeout_ms: u64,
    /// How often the payment service asks the provider again for the reversals it
    /// owes (charges whose outcome it never learnt, for cancelled orders).
    pub payment_reconcile_interval_ms: u64,
    /// Where the notification service's webhook channel posts; unset disables it.
    pub notification_webhook_url: Option<String>,
    /// How hard a notification is delivered: attempts, then a backoff that doubles from
    /// the initial one up to the longest.
    pub notification_max_attempts: u32,
    pub notification_initial_backoff_ms: u64,
    pub notification_max_backoff_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            store_cache_mb: 4,
            storage: StorageKind::Disk,
            host: IpAddr::from([127, 0, 0, 1]),
            ports: BTreeMap::new(),
            urls: BTreeMap::new(),
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
            bus_outage_wait_secs: 600,
            // A week of markers against a day of log: a marker outlives by six days any
            // redelivery the log can make.
            processed_events_retention_secs: 7 * 24 * 60 * 60,
            event_log_retention_secs: 24 * 60 * 60,
            history_prune_interval_secs: 60,
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
            order_payment_window_secs: 30 * 60,
            order_max_pending: 5,
            order_max_pending_units: 100,
            payment_provider: "simulated".into(),
            payment_provider_url: None,
            payment_provider_timeout_ms: 5_000,
            payment_reconcile_interval_ms: 5_000,
            notification_webhook_url: None,
            // Eight attempts spread over about two minutes (1 s, 2 s, ... 64 s between
            // them): long enough to ride out a receiver's restart, short enough that a
            // stale "your order was delivered" is not sent hours late.
            notification_max_attempts: 8,
            notification_initial_backoff_ms: 1_000,
            notification_max_backoff_ms: 5 * 60 * 1_000,
        }
    }
}

/// Where the signing keys are published.
const AUTH: ServiceName = ServiceName::new("auth");

/// Which map a top-level `<service>_port` or `<service>_url` key belongs in, and the
/// service: one word before the suffix, as service names are. This is what keeps the
/// names `SHOP_ORDER_PORT`, `SHOP_ORDER_URL` (and `order_port` in `shop.toml`) for any
/// service; settings with longer names (`payment_provider_url`) are left as they are.
fn service_key(key: &str) -> Option<(&'static str, &str)> {
    [("_port", "ports"), ("_url", "urls")]
        .into_iter()
        .find_map(|(suffix, map)| {
            let service = key.strip_suffix(suffix)?;
            let one_word = !service.is_empty() && service.bytes().all(|b| b.is_ascii_lowercase());
            one_word.then_some((map, service))
        })
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
        let invalid = |e: figment::Error| ConfigError(e.to_string());
        // Every layer merged first, then each `<service>_port`/`_url` key folded into its
        // map, so the file and the environment name a service's port the same way.
        let merged = figment.extract::<Dict>().map_err(invalid)?;
        let (by_service, mut folded): (Dict, Dict) = merged
            .into_iter()
            .partition(|(key, _)| service_key(key).is_some());
        for (key, value) in by_service {
            let (map, service) = service_key(&key).expect("partitioned on it");
            let entry = folded
                .entry(map.to_owned())
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, services) = entry {
                services.insert(service.to_owned(), value);
            }
        }
        let settings: Settings = Figment::from(Serialized::defaults(folded))
            .extract()
            .map_err(invalid)?;
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
        if self.order_payment_window_secs == 0
            || self.order_max_pending == 0
            || self.order_max_pending_units == 0
        {
            return Err(ConfigError(
                "order_payment_window_secs, order_max_pending and order_max_pending_units \
                 must be at least 1"
                    .into(),
            ));
        }
        if self.payment_reconcile_interval_ms == 0 {
            return Err(ConfigError(
                "payment_reconcile_interval_ms must be at least 1".into(),
            ));
        }
        if self.rate_limit_login_per_minute == 0 || self.rate_limit_register_per_minute == 0 {
            return Err(ConfigError(
                "rate limits must be at least 1 per minute".into(),
            ));
        }
        // A marker pruned while its event can still be redelivered lets the event be
        // applied twice.
        if self.processed_events_retention_secs <= self.event_log_retention_secs {
            return Err(ConfigError(format!(
                "processed_events_retention_secs ({}) must be longer than \
                 event_log_retention_secs ({}): a processed-event marker must outlive \
                 every redelivery of its event",
                self.processed_events_retention_secs, self.event_log_retention_secs
            )));
        }
        if self.event_log_retention_secs == 0 || self.history_prune_interval_secs == 0 {
            return Err(ConfigError(
                "event_log_retention_secs and history_prune_interval_secs must be at least 1"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Fills in the port of each `(service, default port)` that no layer named.
    pub fn with_default_ports(
        mut self,
        defaults: impl IntoIterator<Item = (ServiceName, u16)>,
    ) -> Self {
        for (service, port) in defaults {
            self.ports
                .entry(service.as_str().to_owned())
                .or_insert(port);
        }
        self
    }

    /// Where `service` listens. Its host registered its default port, so a port that is
    /// missing here is a host's wiring mistake.
    pub fn port(&self, service: ServiceName) -> u16 {
        *self.ports.get(service.as_str()).unwrap_or_else(|| {
            panic!("no port for {service}: hosts call Settings::with_default_ports first")
        })
    }

    pub fn set_port(&mut self, service: ServiceName, port: u16) {
        self.ports.insert(service.as_str().to_owned(), port);
    }

    /// The base URL another service uses to reach `service`, without a trailing slash.
    pub fn url(&self, service: ServiceName) -> String {
        self.url_if_known(service).unwrap_or_else(|| {
            panic!("no port for {service}: hosts call Settings::with_default_ports first")
        })
    }

    /// [`Self::url`], or `None` when neither a URL nor a port is set for `service` (a
    /// service hosted alone in a test).
    pub fn url_if_known(&self, service: ServiceName) -> Option<String> {
        match self.urls.get(service.as_str()) {
            Some(url) => Some(url.trim_end_matches('/').to_owned()),
            None => self
                .ports
                .get(service.as_str())
                .map(|port| format!("http://{}:{port}", self.host)),
        }
    }

    pub fn jwks_url(&self) -> String {
        // Auth is the one service every other names: it holds the keys tokens are
        // checked with.
        format!("{}/api/v1/auth/jwks", self.url(AUTH))
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
            outage_wait: Duration::from_secs(self.bus_outage_wait_secs),
        }
    }

    pub fn history_retention(&self) -> event_bus::Retention {
        event_bus::Retention {
            processed_events: Duration::from_secs(self.processed_events_retention_secs),
            event_log: Duration::from_secs(self.event_log_retention_secs),
            every: Duration::from_secs(self.history_prune_interval_secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    const GATEWAY: ServiceName = ServiceName::new("gateway");
    const USER: ServiceName = ServiceName::new("user");

    #[test]
    fn a_service_is_at_its_default_port_on_the_host_unless_told_otherwise() {
        let s = Settings::default().with_default_ports([(GATEWAY, 8080), (AUTH, 8081)]);
        assert_eq!(s.port(GATEWAY), 8080);
        assert_eq!(s.url(AUTH), "http://127.0.0.1:8081");
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
        .unwrap()
        .with_default_ports([(AUTH, 8081), (USER, 8082)]);
        assert_eq!(s.url(AUTH), "http://127.0.0.1:9001");
        assert_eq!(s.url(USER), "http://users.internal:80");
        assert_eq!(
            s.bootstrap_admin_password.unwrap().expose_secret(),
            "s3cret-enough"
        );
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure returns figment's error
    fn service_ports_and_urls_come_from_their_variables_and_longer_names_stay_settings() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SHOP_ORDER_PORT", "9005");
            jail.set_env("SHOP_AUTH_URL", "http://auth.internal/");
            jail.set_env("SHOP_PAYMENT_PROVIDER", "http");
            jail.set_env("SHOP_PAYMENT_PROVIDER_URL", "http://psp.example");
            let s = Settings::load().unwrap();
            assert_eq!(s.port(ServiceName::new("order")), 9005);
            assert_eq!(s.url(AUTH), "http://auth.internal");
            assert_eq!(
                s.payment_provider_url.as_deref(),
                Some("http://psp.example")
            );
            assert!(!s.urls.contains_key("payment_provider"));
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure returns figment's error
    fn the_file_names_a_service_s_port_as_the_environment_does_and_the_environment_wins() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("shop.toml", "order_port = 9005\ncart_port = 9004\n")?;
            jail.set_env("SHOP_CART_PORT", "9104");
            let s = Settings::load().unwrap();
            assert_eq!(s.port(ServiceName::new("order")), 9005);
            assert_eq!(s.port(ServiceName::new("cart")), 9104);
            Ok(())
        });
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
    fn markers_must_be_kept_longer_than_the_log_keeps_their_events() {
        let s = Settings::default();
        assert!(s.processed_events_retention_secs > s.event_log_retention_secs);
        for (markers, log) in [("86400", "86400"), ("3600", "86400")] {
            let err = Settings::from_pairs([
                ("processed_events_retention_secs", markers),
                ("event_log_retention_secs", log),
            ])
            .unwrap_err();
            assert!(
                err.to_string().contains("processed_events_retention_secs"),
                "{err}"
            );
        }
        let s = Settings::from_pairs([
            ("processed_events_retention_secs", "10"),
            ("event_log_retention_secs", "5"),
            ("history_prune_interval_secs", "1"),
        ])
        .unwrap();
        assert_eq!(
            s.history_retention(),
            event_bus::Retention {
                processed_events: Duration::from_secs(10),
                event_log: Duration::from_secs(5),
                every: Duration::from_secs(1),
            }
        );
    }

    #[test]
    fn a_bootstrap_email_without_a_password_is_refused() {
        let err = Settings::from_pairs([("bootstrap_admin_email", "a@b.io")]).unwrap_err();
        assert!(err.to_string().contains("go together"), "{err}");
    }
}
