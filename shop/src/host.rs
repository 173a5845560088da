//! Hosting a service in a process: choosing the store and bus adapters that the
//! settings name (embedded or in-memory store; in-process log or Kafka), and the life of
//! a standalone service process (settings, logs, listener, run until SIGTERM or Ctrl-C,
//! drain). Services never pick an adapter themselves; nothing here holds service logic.

use std::{future::Future, path::Path, sync::Arc};

use doc_store::DocumentStore;
use doc_store_mongo::{MongoConfig, MongoStore};
use event_bus::{EventBus, InProcessBus};
use event_bus_kafka::{KafkaBus, KafkaConfig};
use service_kit::{
    ServiceContext, ServiceDef, ServiceName, Settings, TokenVerifier,
    config::{BusKind, StorageKind},
    telemetry,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The service's namespace in the configured store: a file per service under
/// `data_dir`, memory, or the service's own MongoDB database.
pub async fn open_store(
    settings: &Settings,
    name: ServiceName,
) -> anyhow::Result<Arc<dyn DocumentStore>> {
    Ok(match settings.storage {
        StorageKind::Mongodb => {
            let uri = settings
                .mongodb_uri
                .clone()
                .ok_or_else(|| anyhow::anyhow!("storage = mongodb needs SHOP_MONGODB_URI"))?;
            let config = MongoConfig {
                uri,
                database: format!("{}{name}", settings.mongodb_database_prefix),
                timeout: std::time::Duration::from_millis(settings.mongodb_timeout_ms),
            };
            let store = MongoStore::connect(&config)
                .await
                .map_err(|e| anyhow::anyhow!("connecting to MongoDB for {name}: {e}"))?;
            store
                .ping()
                .await
                .map_err(|e| anyhow::anyhow!("MongoDB for {name} does not answer: {e}"))?;
            Arc::new(store)
        }
        StorageKind::Memory => Arc::new(doc_store::EmbeddedStore::in_memory()),
        StorageKind::Disk => {
            let path = settings.data_dir.join(format!("{name}.redb"));
            let cache = usize::try_from(settings.store_cache_mb).unwrap_or(usize::MAX) << 20;
            Arc::new(
                doc_store::EmbeddedStore::open_with_cache(&path, cache)
                    .map_err(|e| in_use(&path, e))?,
            )
        }
    })
}

/// The in-process log under `data_dir`, or in memory.
pub fn open_in_process_bus(settings: &Settings) -> anyhow::Result<InProcessBus> {
    Ok(match settings.storage {
        StorageKind::Memory => InProcessBus::in_memory(),
        // The in-process log is a file even when the services' data is in MongoDB.
        StorageKind::Disk | StorageKind::Mongodb => {
            let path = settings.data_dir.join("bus.redb");
            InProcessBus::open(&path).map_err(|e| in_use(&path, e))?
        }
    })
}

/// The configured bus, for a process that names itself `name` to the broker.
pub async fn open_bus(settings: &Settings, name: &str) -> anyhow::Result<Arc<dyn EventBus>> {
    Ok(match settings.bus {
        BusKind::InProcess => Arc::new(open_in_process_bus(settings)?),
        BusKind::Kafka => Arc::new(
            KafkaBus::connect(KafkaConfig {
                brokers: settings.kafka_brokers.clone(),
                partitions: settings.kafka_partitions,
                replication: settings.kafka_replication,
                client_id: format!("shop-{name}"),
                fetch_wait_max_ms: settings.kafka_fetch_wait_max_ms,
                instance_id: Some(
                    settings
                        .kafka_instance_id
                        .clone()
                        .unwrap_or_else(|| default_instance_id(&host_name(), settings, name)),
                ),
            })
            .await
            .map_err(|e| {
                anyhow::anyhow!("connecting to Kafka at {}: {e}", settings.kafka_brokers)
            })?,
        ),
    })
}

/// The static group membership id of a replica whose settings name none: the host name
/// and the port it serves on. Two replicas of a service on one host listen on two
/// ports, so their ids differ (one id for both would have each fence the other); a
/// replica restarted on its port rejoins as the member it was.
fn default_instance_id(host: &str, settings: &Settings, name: &str) -> String {
    match settings.ports.get(name) {
        Some(port) => format!("{host}-{port}"),
        None => host.to_owned(),
    }
}

/// This machine's name, for the Kafka instance id.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The embedded files take a lock; the likely cause of failing to open one is another
/// process using the same data directory, so say so.
fn in_use(path: &Path, e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!(
        "cannot open {}: {e} (is another shop process using this data directory? \
         stop it, or pass another --data-dir / SHOP_DATA_DIR)",
        path.display()
    )
}

/// Resolves on Ctrl-C or SIGTERM (what Docker and Kubernetes send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// The listener of `name` on `port` (0: one the OS picks).
pub(crate) async fn listen(
    settings: &Settings,
    name: ServiceName,
    port: u16,
) -> anyhow::Result<TcpListener> {
    TcpListener::bind((settings.host, port))
        .await
        .map_err(|e| anyhow::anyhow!("{name} cannot listen on {}:{port}: {e}", settings.host))
}

/// The token checks every service makes, against the keys auth publishes.
pub(crate) fn verifier(settings: &Settings) -> Arc<TokenVerifier> {
    Arc::new(TokenVerifier::remote(
        settings.jwks_url(),
        &settings.jwt_issuer,
        &settings.jwt_audience,
    ))
}

/// What a host gives `service`: a service that keeps state gets its store namespace and
/// the bus `open_bus` resolves to; a stateless one (the gateway) opens neither.
pub(crate) async fn context(
    service: &ServiceDef,
    settings: &Arc<Settings>,
    open_bus: impl Future<Output = anyhow::Result<Arc<dyn EventBus>>>,
    verifier: &Arc<TokenVerifier>,
    shutdown: &CancellationToken,
) -> anyhow::Result<ServiceContext> {
    let (store, bus) = if service.is_stateful() {
        (
            Some(open_store(settings, service.name).await?),
            Some(open_bus.await?),
        )
    } else {
        (None, None)
    };
    Ok(ServiceContext {
        settings: settings.clone(),
        store,
        bus,
        verifier: verifier.clone(),
        shutdown: shutdown.clone(),
        peers: crate::SERVICES,
    })
}

/// `shop serve <service>`: one service in this process, configured by the settings'
/// layers, until SIGTERM or Ctrl-C; then it drains.
pub async fn serve(service: &'static ServiceDef) -> anyhow::Result<()> {
    let settings = Arc::new(crate::settings(Settings::load()?)?);
    telemetry::init(settings.log_format);
    let name = service.name;
    let listener = listen(&settings, name, settings.port(name)).await?;
    let shutdown = CancellationToken::new();
    let bus = open_bus(&settings, name.as_str());
    let ctx = context(service, &settings, bus, &verifier(&settings), &shutdown).await?;
    let running = service.start(ctx, listener).await?;
    let failed = tokio::select! {
        _ = shutdown_signal() => None,
        what = running.failed() => Some(what),
    };
    tracing::info!(service = %name, "shutting down");
    shutdown.cancel();
    running.stopped().await;
    match failed {
        // Non-zero, so that the orchestrator restarts the service.
        Some(what) => anyhow::bail!("{name} stopped because a vital task did: {what}"),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_on_one_host_get_ids_of_their_own_that_survive_a_restart() {
        let mut one = Settings::default();
        one.ports.insert("order".into(), 8085);
        let mut two = Settings::default();
        two.ports.insert("order".into(), 9085);
        let first = default_instance_id("box", &one, "order");
        assert_eq!(first, "box-8085");
        assert_ne!(first, default_instance_id("box", &two, "order"));
        assert_eq!(first, default_instance_id("box", &one, "order"), "stable");
    }
}
