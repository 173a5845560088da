//! `shop`: run the whole system in one process (`up`), as nine processes on Kafka
//! (`up --distributed`), or one service (`serve`).

mod healthcheck;

use std::path::PathBuf;

use clap::{Parser, Subcommand, builder::PossibleValuesParser};
use service_kit::{
    Settings,
    config::{BusKind, StorageKind},
    telemetry,
};
use shop::{SERVICES, host::shutdown_signal};

#[derive(Parser)]
#[command(
    name = "shop",
    version,
    about = "The shop e-commerce backend",
    long_about = "The shop e-commerce backend. `shop up` runs every service in this one \
                  process with an embedded store and an in-process event bus; no database \
                  or broker needed. `shop up --distributed --kafka-brokers HOST:PORT` runs \
                  them as one process per service, talking through Kafka. Settings come from shop.toml \
                  (or SHOP_CONFIG) and SHOP_* environment variables; see the README."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start every service; Ctrl-C stops them, finishing in-flight work first.
    Up {
        /// Where the embedded stores (and the in-process event log) live
        /// (default: SHOP_DATA_DIR, else ./data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Keep everything in memory; nothing survives the process.
        #[arg(long, conflicts_with = "data_dir")]
        in_memory: bool,
        /// Let the OS pick a free port for each service instead of 8080..8088, and say
        /// which in the banner (for a harness that runs the system beside others).
        #[arg(long, conflicts_with = "distributed")]
        free_ports: bool,
        /// One process per service, events through Kafka.
        #[arg(long)]
        distributed: bool,
        /// Kafka bootstrap servers for --distributed (default: SHOP_KAFKA_BROKERS).
        #[arg(long, requires = "distributed")]
        kafka_brokers: Option<String>,
    },
    /// Events parked on a dead-letter list after their retries: list or replay them,
    /// on the bus the settings name (SHOP_BUS, SHOP_KAFKA_BROKERS, SHOP_DATA_DIR).
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
    },
    /// Run one service in this process, configured by SHOP_* variables (what
    /// `up --distributed` starts nine of, and what a container runs).
    Serve {
        #[arg(value_parser = PossibleValuesParser::new(SERVICES.iter().map(|s| s.name.as_str())))]
        service: String,
    },
    /// List the services this binary holds, one per line, in start order (the gateway
    /// last), for launchers that do not link them.
    Services,
    /// Ask a service on this host for GET /healthz: exit 0 on a 200, else 1 (the image's
    /// HEALTHCHECK).
    ///
    /// Exits 0 when the service answers 200 within 2 s; otherwise exits 1 and prints one
    /// line why. The port and address come from the settings, as for `serve`
    /// (SHOP_<SERVICE>_PORT, SHOP_HOST; a wildcard SHOP_HOST such as 0.0.0.0 is asked on
    /// loopback), so the image needs no shell or HTTP client for its healthcheck.
    Healthcheck {
        /// The service to ask (`shop services` lists them): by default the gateway, which
        /// `shop up` serves on 8080. A container running `serve <service>` names its own.
        // Checked by `shop::service`, not by clap, so that a wrong name exits 1 like any
        // other failure: Docker reserves a healthcheck's exit status 2.
        #[arg(
            env = "SHOP_HEALTHCHECK_SERVICE",
            default_value = gateway_service::SERVICE.name.as_str()
        )]
        service: String,
    },
}

#[derive(Subcommand)]
enum DlqAction {
    /// Show the parked events of a topic (an event type, e.g. order.created).
    List { topic: String },
    /// Publish a topic's parked events again; consumers are idempotent.
    Replay { topic: String },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve { service } => {
            shop::host::serve(shop::service(&service).expect("clap allows only known services"))
                .await
        }
        Command::Services => {
            for service in SERVICES {
                println!("{}", service.name);
            }
            Ok(())
        }
        Command::Dlq { action } => dlq(action).await,
        Command::Healthcheck { service } => {
            if let Err(why) = healthcheck::check(&service).await {
                eprintln!("unhealthy: {why}");
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Up {
            data_dir,
            in_memory,
            free_ports,
            distributed,
            kafka_brokers,
        } => {
            let mut settings = shop::settings(Settings::load()?)?;
            let mut env = Vec::new();
            if let Some(dir) = data_dir {
                env.push(("SHOP_DATA_DIR".to_owned(), dir.display().to_string()));
                settings.data_dir = dir;
            }
            if in_memory {
                settings.storage = StorageKind::Memory;
                env.push(("SHOP_STORAGE".to_owned(), "memory".to_owned()));
            }
            telemetry::init(settings.log_format);
            if distributed {
                if let Some(brokers) = kafka_brokers {
                    settings.kafka_brokers = brokers;
                }
                settings.bus = BusKind::Kafka;
                env.push(("SHOP_BUS".to_owned(), "kafka".to_owned()));
                env.push((
                    "SHOP_KAFKA_BROKERS".to_owned(),
                    settings.kafka_brokers.clone(),
                ));
                up_distributed(settings, env).await
            } else {
                let ports = if free_ports {
                    shop::Ports::Ephemeral
                } else {
                    shop::Ports::Configured
                };
                up_in_process(settings, ports).await
            }
        }
    }
}

async fn dlq(action: DlqAction) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    // The in-process log is a file another running shop holds open; stop it first.
    let bus = shop::host::open_bus(&settings, "dlq").await?;
    match action {
        DlqAction::List { topic } => {
            let parked = bus.parked(&topic).await?;
            if parked.is_empty() {
                println!("no parked events on {topic}");
            }
            for p in parked {
                println!(
                    "{}  key {}  group {}  after {} attempts: {}",
                    p.event.id, p.event.key, p.group, p.attempts, p.error
                );
            }
        }
        DlqAction::Replay { topic } => {
            let n = bus.replay_parked(&topic).await?;
            println!("replayed {n} parked events on {topic}");
        }
    }
    Ok(())
}

fn storage_line(settings: &Settings) -> String {
    match settings.storage {
        StorageKind::Disk => format!("embedded store in {}", settings.data_dir.display()),
        StorageKind::Memory => "in memory (nothing is kept)".to_owned(),
        StorageKind::Mongodb => format!(
            "MongoDB, databases {}<service>",
            settings.mongodb_database_prefix
        ),
    }
}

async fn up_in_process(settings: Settings, ports: shop::Ports) -> anyhow::Result<()> {
    let system = shop::start(settings, ports).await?;
    println!(
        "shop is up ({}); Ctrl-C stops it",
        storage_line(&system.settings)
    );
    println!("  {:<13} {}/api/v1", "gateway", system.gateway_url());
    for (name, addr) in system.services() {
        println!("  {:<13} http://{addr}", name.as_str());
    }
    println!("  {:<13} {}/openapi.json", "openapi", system.gateway_url());
    let failed = tokio::select! {
        _ = shutdown_signal() => None,
        what = system.failed() => Some(what),
    };
    eprintln!("stopping: finishing in-flight requests and events...");
    system.stop().await;
    if let Some(what) = failed {
        anyhow::bail!("stopped because a vital task did: {what}");
    }
    eprintln!("stopped; nothing pending was lost");
    Ok(())
}

async fn up_distributed(settings: Settings, env: Vec<(String, String)>) -> anyhow::Result<()> {
    let mut processes = shop::distributed::Processes::start(&settings, &env).await?;
    println!(
        "shop is up as {} processes ({}, events via Kafka at {}); Ctrl-C stops them",
        SERVICES.len(),
        storage_line(&settings),
        settings.kafka_brokers
    );
    for service in SERVICES {
        println!(
            "  {:<13} {}",
            service.name.as_str(),
            settings.url(service.name)
        );
    }
    tokio::select! {
        _ = shutdown_signal() => {}
        name = processes.any_exit() => eprintln!("{name} exited; stopping the others"),
    }
    eprintln!("stopping: each service finishes its in-flight work...");
    processes.stop().await;
    eprintln!("stopped");
    Ok(())
}
