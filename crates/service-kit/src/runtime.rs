//! What a service is given to run (its store namespace and the bus when it keeps
//! state, the token verifier, a shutdown signal, its peers) and the start-up every
//! service shares: outbox relay, consumer groups and the pruning of their history,
//! HTTP server.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::Router;
use doc_store::DocumentStore;
use event_bus::{
    BusMetrics, EventBus, EventHandler, HistoryPruner, OUTBOX_PARKED_SPEC, OUTBOX_SPEC, Outbox,
    PROCESSED_EVENTS_SPEC, Subscription, WatchedTopics,
};
use prometheus::Registry;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    OutboxState, Settings, TokenVerifier,
    health::{ConsumersReady, ReadinessCheck, StoreReady, TasksAlive},
    http,
    service::{Api, ServiceDef, ServiceName, Wiring},
};

/// Everything a service is given by the process that hosts it.
#[derive(Clone)]
pub struct ServiceContext {
    pub settings: Arc<Settings>,
    /// This service's own namespace, when it keeps state; no other service writes to it.
    pub store: Option<Arc<dyn DocumentStore>>,
    /// The bus, when the service keeps state (only a stateful service has an outbox to
    /// relay and can consume idempotently).
    pub bus: Option<Arc<dyn EventBus>>,
    pub verifier: Arc<TokenVerifier>,
    pub shutdown: CancellationToken,
    /// Every service of the system this one is part of, in start order: what the gateway
    /// routes to and merges the OpenAPI documents of.
    pub peers: &'static [&'static ServiceDef],
}

impl ServiceContext {
    /// The service's store namespace. Only a service that declares collections is given
    /// one, so calling this from any other is a wiring mistake.
    pub fn store(&self) -> &Arc<dyn DocumentStore> {
        self.store
            .as_ref()
            .expect("only a service that declares collections is given a store")
    }

    /// The bus; given, like the store, to a service that declares collections.
    pub fn bus(&self) -> &Arc<dyn EventBus> {
        self.bus
            .as_ref()
            .expect("only a service that declares collections is given the bus")
    }
}

/// Runs `round` every `period` (the first at once; a round that overruns delays the
/// next rather than bunching them) until `shutdown`: the loop of a service's periodic
/// work (a reconciler, a sweep). Hand the task to [`ServiceRuntime::track`].
pub fn spawn_every<F, Fut>(
    period: Duration,
    shutdown: CancellationToken,
    mut round: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                () = round() => {}
            }
        }
    })
}

/// The background tasks a service cannot run without (its consumers, outbox relay,
/// pruning, HTTP server and any it tracks). One that ends or panics while the service
/// runs is never silent: the service stops being ready, and [`Running::failed`]
/// resolves, so the host exits with a non-zero code and the orchestrator restarts it.
#[derive(Clone, Default)]
pub struct Vital {
    stopped: Arc<Mutex<Vec<String>>>,
    failed: CancellationToken,
}

impl Vital {
    /// The tasks that stopped while the service ran.
    pub fn stopped(&self) -> Vec<String> {
        self.stopped
            .lock()
            .expect("no holder of this lock panics")
            .clone()
    }

    /// Watches `task` (named `what`) until shutdown.
    fn watch(
        &self,
        what: String,
        task: JoinHandle<()>,
        shutdown: CancellationToken,
    ) -> JoinHandle<()> {
        let vital = self.clone();
        tokio::spawn(async move {
            let outcome = task.await;
            if shutdown.is_cancelled() {
                if let Err(e) = outcome {
                    tracing::error!(task = %what, error = %e, "a background task failed while stopping");
                }
                return;
            }
            let how = match outcome {
                Ok(()) => "ended".to_owned(),
                Err(e) => format!("failed: {e}"),
            };
            tracing::error!(task = %what, %how, "a background task stopped while the service runs; the service stops, to be restarted");
            vital
                .stopped
                .lock()
                .expect("no holder of this lock panics")
                .push(format!("{what} ({how})"));
            vital.failed.cancel();
        })
    }
}

/// The stateful part of a running service: its outbox and the metrics its relay and
/// consumers report.
struct State {
    bus_metrics: BusMetrics,
    outbox: Outbox,
    /// The topics consumed so far, once the pruning of processed-event markers (and of
    /// the bus's log) runs: from the first consumer on, since only consumers leave
    /// markers.
    pruning: Option<WatchedTopics>,
}

/// A service being started: its metrics registry, outbox relay, consumers and other
/// background tasks. A [`ServiceDef`]'s wiring adds to it; [`ServiceDef::start`] then
/// serves the API.
pub struct ServiceRuntime {
    name: ServiceName,
    ctx: ServiceContext,
    registry: Registry,
    state: Option<State>,
    tasks: Vec<JoinHandle<()>>,
    vital: Vital,
}

impl ServiceDef {
    /// Starts the service on `listener` until `ctx.shutdown`: what every host calls.
    pub async fn start(
        &'static self,
        ctx: ServiceContext,
        listener: TcpListener,
    ) -> anyhow::Result<Running> {
        let (runtime, api) = self.assemble(ctx).await?;
        runtime.serve(listener, api)
    }

    /// Everything but the listener: the store's collections declared, the relay and
    /// consumers running, and the API. Tests drive [`ServiceRuntime::router`] with
    /// `oneshot`.
    pub async fn assemble(
        &'static self,
        ctx: ServiceContext,
    ) -> anyhow::Result<(ServiceRuntime, Api)> {
        let mut runtime = ServiceRuntime::start(self, ctx).await?;
        let api = (self.wire)(&mut runtime).await?;
        Ok((runtime, api))
    }
}

impl ServiceRuntime {
    /// For a stateful service: declares its collections and starts its outbox relay.
    async fn start(def: &ServiceDef, ctx: ServiceContext) -> anyhow::Result<Self> {
        let registry = Registry::new();
        let vital = Vital::default();
        let mut tasks = Vec::new();
        let state = if def.is_stateful() {
            ctx.store().ensure_collections(def.collections).await?;
            ctx.store()
                .ensure_collections(&[OUTBOX_SPEC, OUTBOX_PARKED_SPEC])
                .await?;
            let bus_metrics = BusMetrics::register(&registry)?;
            let outbox = Outbox::new(ctx.store().clone());
            tasks.push(
                vital.watch(
                    format!("{} outbox relay", def.name),
                    outbox
                        .relay(ctx.bus().clone(), bus_metrics.clone())
                        .spawn(ctx.shutdown.clone()),
                    ctx.shutdown.clone(),
                ),
            );
            Some(State {
                bus_metrics,
                outbox,
                pruning: None,
            })
        } else {
            None
        };
        Ok(Self {
            name: def.name,
            ctx,
            registry,
            state,
            tasks,
            vital,
        })
    }

    /// Hands `task` to the watch of the service's vital tasks.
    fn vital(&mut self, what: String, task: JoinHandle<()>) {
        let watched = self.vital.watch(what, task, self.ctx.shutdown.clone());
        self.tasks.push(watched);
    }

    fn state(&self) -> &State {
        self.state
            .as_ref()
            .expect("only a service that declares collections has an outbox and consumers")
    }

    pub fn outbox(&self) -> &Outbox {
        &self.state().outbox
    }

    pub fn context(&self) -> &ServiceContext {
        &self.ctx
    }

    /// The registry `/metrics` serves, for the metrics a service reports of its own.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Hands a background task of the service (it must end on `ctx.shutdown`, and only
    /// then) to the runtime, so that stopping the service waits for it, and its ending
    /// any earlier stops the service.
    pub fn track(&mut self, task: JoinHandle<()>) {
        self.vital(format!("{} background task", self.name), task);
    }

    /// Consumes `topics`, each in the service's own consumer group. The first call also
    /// declares the processed-event markers (indexed by when they were applied) and
    /// starts pruning them, and the bus's log, on the settings' retention.
    pub async fn consume(
        &mut self,
        topics: &[&str],
        handler: Arc<dyn EventHandler>,
    ) -> anyhow::Result<()> {
        if self.state().pruning.is_none() {
            self.ctx
                .store()
                .ensure_collections(&[PROCESSED_EVENTS_SPEC])
                .await?;
            let topics = WatchedTopics::default();
            let pruner = HistoryPruner::new(
                self.ctx.store().clone(),
                self.ctx.bus().clone(),
                self.ctx.settings.history_retention(),
                topics.clone(),
            );
            let pruning = pruner.spawn(self.ctx.shutdown.clone());
            self.vital(format!("{} history pruner", self.name), pruning);
            self.state.as_mut().expect("state() answered above").pruning = Some(topics);
        }
        if let Some(watched) = &self.state().pruning {
            watched.add(topics);
        }
        let subscription = Subscription {
            group: self.name.as_str().to_owned(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            handler,
            retry: self.ctx.settings.retry_policy(),
            metrics: self.state().bus_metrics.clone(),
        };
        subscription.metrics.consuming(&subscription.topics);
        let task = self
            .ctx
            .bus()
            .subscribe(subscription, self.ctx.shutdown.clone())
            .await?;
        self.vital(
            format!("{} consumer of {}", self.name, topics.join(", ")),
            task,
        );
        Ok(())
    }

    /// The whole wiring of a service whose event handler holds only its outbox and whose
    /// routes take an [`OutboxState`]: consumes `topics` with `handler(outbox)` and
    /// returns `api(state)`. Most services are this; one that needs more (keys, a
    /// provider, a dispatcher) writes its wiring out.
    pub fn wire_with_outbox<H: EventHandler + 'static>(
        &mut self,
        topics: &'static [&'static str],
        handler: fn(Outbox) -> H,
        api: fn(OutboxState) -> Api,
    ) -> Wiring<'_> {
        Box::pin(async move {
            let outbox = self.outbox().clone();
            self.consume(topics, Arc::new(handler(outbox.clone())))
                .await?;
            let verifier = self.ctx.verifier.clone();
            Ok(api(OutboxState { outbox, verifier }))
        })
    }

    /// The whole HTTP service: `api` behind the ops routes, the service's metrics and
    /// its readiness checks (for a stateful service, its store answers and its consumers
    /// hold their partitions; a stateless service is ready once it answers).
    pub fn router(&self, api: Api) -> Router {
        let mut checks: Vec<Arc<dyn ReadinessCheck>> = match &self.ctx.store {
            Some(store) => vec![
                Arc::new(StoreReady(store.clone())),
                Arc::new(ConsumersReady(self.ctx.bus().clone())),
            ],
            None => Vec::new(),
        };
        checks.push(Arc::new(TasksAlive(self.vital.clone())));
        let router = http::service_router(api.router, api.openapi, self.registry.clone(), checks);
        match api.outer {
            Some(wrap) => wrap(router),
            None => router,
        }
    }

    /// Serves `api` on `listener` until shutdown.
    pub fn serve(mut self, listener: TcpListener, api: Api) -> anyhow::Result<Running> {
        let addr = listener.local_addr()?;
        let router = self.router(api);
        let serving = tokio::spawn(http::serve(listener, router, self.ctx.shutdown.clone()));
        self.vital(format!("{} HTTP server", self.name), serving);
        tracing::info!(service = %self.name, %addr, "service listening");
        Ok(Running {
            name: self.name,
            addr,
            tasks: self.tasks,
            vital: self.vital,
        })
    }
}

/// A started service; `stopped` resolves once shutdown has drained all its tasks.
pub struct Running {
    pub name: ServiceName,
    pub addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
    vital: Vital,
}

impl Running {
    /// Resolves once a vital task has stopped while the service runs, with what
    /// stopped: the host then stops and exits non-zero. Never resolves otherwise.
    pub async fn failed(&self) -> String {
        self.vital.failed.cancelled().await;
        self.vital.stopped().join("; ")
    }

    pub async fn stopped(self) {
        for task in self.tasks {
            if let Err(e) = task.await {
                tracing::error!(service = %self.name, error = %e, "service task failed");
            }
        }
    }
}
