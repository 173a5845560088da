//! Project automation, so the README and CI call one command instead of growing shell
//! scripts: `cargo xtask test` runs every test; `cargo xtask bless` rewrites the
//! committed OpenAPI contracts from the code after an intended API change.

use std::process::{Command, ExitStatus};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask", about = "Project automation for the shop workspace")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run every test of the workspace: unit, router, conformance, bus, contract and
    /// end-to-end scenarios (with cargo-nextest when installed), then the doc tests.
    Test {
        /// Extra arguments for the test runner, e.g. a filter.
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Regenerate contracts/api/*.json from the services' served OpenAPI documents.
    Bless,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Task::Test { args } => test(&args),
        Task::Bless => {
            let status = cargo()
                .args(["test", "--workspace", "--test", "api", "openapi"])
                .env("SHOP_BLESS", "1")
                .status()?;
            check("cargo test (bless)", status)
        }
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn test(args: &[String]) -> anyhow::Result<()> {
    if has_nextest() {
        // nextest does not run doc tests; run them first so that nextest's summary is
        // the last word of the run.
        let status = cargo()
            .args(["test", "--workspace", "--doc"])
            .status()
            .context("running doc tests")?;
        check("cargo test --doc", status)?;
        let status = cargo()
            .args(["nextest", "run", "--workspace", "--no-fail-fast"])
            .args(args)
            .status()
            .context("running cargo nextest")?;
        check("cargo nextest run", status)
    } else {
        eprintln!("xtask: cargo-nextest not found; using cargo test");
        let status = cargo()
            .args(["test", "--workspace", "--no-fail-fast"])
            .args(args)
            .status()
            .context("running cargo test")?;
        check("cargo test", status)
    }
}

fn check(what: &str, status: ExitStatus) -> anyhow::Result<()> {
    if status.success() {
        Ok(())
    } else {
        bail!("{what} failed ({status})")
    }
}
