//! Project automation, so the README and CI call one command instead of growing shell
//! scripts. `cargo xtask test` runs every test: the workspace's tests in-process, the
//! Kafka transport suite against a tansu broker it installs (once, into ~/.cache/shop)
//! and starts, the fault tests (each on a tansu of its own; one on PostgreSQL storage
//! in a throwaway cluster), the end-to-end scenarios again against the nine services as
//! separate processes on tansu, the MongoDB path on a MongoDB-compatible server
//! (SecantusDB) it installs and starts, and, where Docker runs, once more on MongoDB and
//! Kafka from testcontainers. Before those, the shipped artifacts' checks and the live
//! monitoring check. `cargo xtask bless` rewrites the committed OpenAPI contracts after
//! an intended API change.
//!
//! This file is the command line; each part of the work has a module of its own: what
//! runs in which order ([`plan`]), the broker ([`broker`]), tansu's PostgreSQL
//! ([`postgres`]), the MongoDB-compatible server ([`secantus`]), the services as
//! processes ([`system`]), the containers
//! ([`containers`]), the shipped artifacts' checks ([`artifacts`]), the live monitoring
//! check ([`live`]) and the count of results ([`tally`]). Nothing here names a
//! service: the `shop` binary lists them.

mod artifacts;
mod broker;
mod cargo;
mod containers;
mod live;
mod plan;
mod postgres;
mod secantus;
mod system;
mod tally;

use clap::{Parser, Subcommand};

use crate::cargo::{cargo, check};

#[derive(Parser)]
#[command(name = "xtask", about = "Project automation for the shop workspace")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run every test: in-process, the fault tests, then the e2e scenarios on nine
    /// processes over Kafka (and on MongoDB and Kafka containers where Docker runs).
    Test {
        /// Skip the broker and the distributed pass (in-process tests only).
        #[arg(long)]
        in_process_only: bool,
        /// Extra arguments for the in-process test run, e.g. a filter.
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Check only the shipped artifacts (Dockerfile, Compose files) with the tools their
    /// users' pipelines run; `test` runs these checks too.
    Artifacts,
    /// Run only the live monitoring check: `shop up`, Prometheus with the project's
    /// scrape job and alert rules, Alertmanager, three scenarios, then every target up,
    /// every rule healthy and every dashboard query answered.
    Monitoring,
    /// Install the tansu broker into the cache (what `test` does when it is missing).
    InstallBroker,
    /// Regenerate contracts/api/*.json from the services' served OpenAPI documents.
    Bless,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Task::Test {
            in_process_only,
            args,
        } => plan::test(in_process_only, &args),
        Task::Artifacts => {
            let mut tally = tally::Tally::default();
            let result = artifacts::check_artifacts(&mut tally);
            println!("{tally}");
            result
        }
        Task::Monitoring => {
            let mut tally = tally::Tally::default();
            let result = live::live_check(&mut tally);
            println!("{tally}");
            result
        }
        Task::InstallBroker => broker::install_tansu().map(drop),
        Task::Bless => {
            let status = cargo()
                .args(["test", "--workspace", "--test", "api", "openapi"])
                .env("SHOP_BLESS", "1")
                .status()?;
            check("cargo test (bless)", status)
        }
    }
}
