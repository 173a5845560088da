//! `shop up`: the whole system in one process.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use service_kit::{Settings, config::StorageKind, runtime::shutdown_signal, telemetry};

#[derive(Parser)]
#[command(
    name = "shop",
    version,
    about = "The shop e-commerce backend",
    long_about = "The shop e-commerce backend. `shop up` runs every service in this one \
                  process with an embedded store and an in-process event bus; no database \
                  or broker needed. Settings come from shop.toml (or SHOP_CONFIG) and SHOP_* \
                  environment variables; see the README for the list."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start every service; Ctrl-C stops them, finishing in-flight work first.
    Up {
        /// Where the embedded store and event log live (default: SHOP_DATA_DIR, else ./data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Keep everything in memory; nothing survives the process.
        #[arg(long, conflicts_with = "data_dir")]
        in_memory: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Up {
            data_dir,
            in_memory,
        } => {
            let mut settings = Settings::load()?;
            if let Some(dir) = data_dir {
                settings.data_dir = dir;
            }
            if in_memory {
                settings.storage = StorageKind::Memory;
            }
            telemetry::init(settings.log_format);
            let system = shop::start(settings, shop::Ports::Configured).await?;
            print_banner(&system);
            shutdown_signal().await;
            eprintln!("stopping: finishing in-flight requests and events...");
            system.stop().await;
            eprintln!("stopped; nothing pending was lost");
            Ok(())
        }
    }
}

fn print_banner(system: &shop::RunningSystem) {
    let storage = match system.settings.storage {
        StorageKind::Disk => format!("embedded store in {}", system.settings.data_dir.display()),
        StorageKind::Memory => "in memory (nothing is kept)".to_owned(),
    };
    println!("shop is up ({storage}); Ctrl-C stops it");
    println!("  {:<13} {}/api/v1", "gateway", system.gateway_url());
    for (name, addr) in &system.services {
        println!("  {:<13} http://{addr}", name.as_str());
    }
    println!("  {:<13} {}/openapi.json", "openapi", system.gateway_url());
}
