//! What a service is given to run (its store namespace, the bus, the token verifier,
//! a shutdown signal) and the start-up every service shares: outbox relay, consumer
//! group, HTTP server.

use std::{net::SocketAddr, sync::Arc};

use axum::Router;
use doc_store::{CollectionSpec, DocumentStore};
use event_bus::{BusMetrics, EventBus, EventHandler, Outbox, Subscription};
use prometheus::Registry;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    ServiceName, Settings, TokenVerifier,
    health::{ReadinessCheck, StoreReady},
    http,
};

/// Everything a service needs from the process that hosts it.
#[derive(Clone)]
pub struct ServiceContext {
    pub settings: Arc<Settings>,
    /// This service's own namespace; no other service writes to it.
    pub store: Arc<dyn DocumentStore>,
    pub bus: Arc<dyn EventBus>,
    pub verifier: Arc<TokenVerifier>,
    pub shutdown: CancellationToken,
}

/// A service being started: its metrics registry, outbox relay and consumer tasks.
pub struct ServiceRuntime {
    name: ServiceName,
    ctx: ServiceContext,
    registry: Registry,
    bus_metrics: BusMetrics,
    outbox: Outbox,
    tasks: Vec<JoinHandle<()>>,
}

impl ServiceRuntime {
    /// Declares the service's collections and starts its outbox relay.
    pub async fn start(
        name: ServiceName,
        ctx: ServiceContext,
        collections: &[CollectionSpec],
    ) -> anyhow::Result<Self> {
        ctx.store.ensure_collections(collections).await?;
        let registry = Registry::new();
        let bus_metrics = BusMetrics::register(&registry)?;
        let outbox = Outbox::new(ctx.store.clone());
        let relay = outbox
            .relay(ctx.bus.clone(), bus_metrics.clone())
            .spawn(ctx.shutdown.clone());
        Ok(Self {
            name,
            ctx,
            registry,
            bus_metrics,
            outbox,
            tasks: vec![relay],
        })
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    pub fn context(&self) -> &ServiceContext {
        &self.ctx
    }

    /// Hands a background task of the service (it must end on `ctx.shutdown`) to the
    /// runtime, so that stopping the service waits for it.
    pub fn track(&mut self, task: JoinHandle<()>) {
        self.tasks.push(task);
    }

    /// Consumes `topics` in this service's consumer group (one group per service).
    pub async fn consume(
        &mut self,
        topics: &[&str],
        handler: Arc<dyn EventHandler>,
    ) -> anyhow::Result<()> {
        let subscription = Subscription {
            group: self.name.as_str().to_owned(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            handler,
            retry: self.ctx.settings.retry_policy(),
            metrics: self.bus_metrics.clone(),
        };
        let task = self
            .ctx
            .bus
            .subscribe(subscription, self.ctx.shutdown.clone())
            .await?;
        self.tasks.push(task);
        Ok(())
    }

    /// Serves the API on `listener` until shutdown.
    pub fn serve(
        mut self,
        listener: TcpListener,
        api: Router,
        openapi: serde_json::Value,
    ) -> anyhow::Result<Running> {
        let addr = listener.local_addr()?;
        let checks: Vec<Arc<dyn ReadinessCheck>> =
            vec![Arc::new(StoreReady(self.ctx.store.clone()))];
        let router = http::service_router(api, openapi, self.registry.clone(), checks);
        self.tasks.push(tokio::spawn(http::serve(
            listener,
            router,
            self.ctx.shutdown.clone(),
        )));
        tracing::info!(service = %self.name, %addr, "service listening");
        Ok(Running {
            name: self.name,
            addr,
            tasks: self.tasks,
        })
    }
}

/// A started service; `stopped` resolves once shutdown has drained all its tasks.
pub struct Running {
    pub name: ServiceName,
    pub addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    pub fn new(name: ServiceName, addr: SocketAddr, tasks: Vec<JoinHandle<()>>) -> Self {
        Self { name, addr, tasks }
    }

    pub async fn stopped(self) {
        for task in self.tasks {
            if let Err(e) = task.await {
                tracing::error!(service = %self.name, error = %e, "service task failed");
            }
        }
    }
}
