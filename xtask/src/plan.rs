//! The test plan: what `xtask test` runs, in which order, on which broker, store and
//! processes; and what it reports as skipped when a part cannot run here.

use std::process::Command;

use anyhow::bail;

use crate::{
    artifacts::check_artifacts,
    broker::{Broker, install_tansu},
    cargo::{cargo, check},
    containers::{Containers, docker_available},
    live::live_check,
    postgres::Postgres,
    secantus::{self, Secantus},
    system::System,
    tally::{Tally, count_tests, run_nextest, run_nextest_selected},
};

/// End-to-end scenarios that always build their own in-process system; the distributed
/// pass leaves them out rather than run them twice.
const IN_PROCESS_SCENARIOS: &str = "test(/redelivery|restart|too_many_logins/)";

pub fn test(in_process_only: bool, args: &[String]) -> anyhow::Result<()> {
    let mut tally = Tally::default();
    // The artifacts first (seconds), but a failure there does not stop the tests.
    let artifacts = check_artifacts(&mut tally);
    // Needs no broker (`shop up` runs in one process), so it runs in every mode; a
    // minute, mostly waiting for Prometheus's scrapes.
    let live = live_check(&mut tally);
    let result = run_all(in_process_only, args, &mut tally)
        .and(artifacts)
        .and(live);
    // Last, after the broker and the services have stopped: one line for the whole run.
    println!("{tally}");
    result
}

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run_all(in_process_only: bool, args: &[String], tally: &mut Tally) -> anyhow::Result<()> {
    if !has_nextest() {
        bail!("cargo-nextest is needed: cargo install cargo-nextest --locked");
    }
    // nextest does not run doc tests; run them first so that a test runner's summary
    // closes the output.
    let status = cargo().args(["test", "--workspace", "--doc"]).status()?;
    check("cargo test --doc", status)?;

    let broker = if in_process_only {
        eprintln!("xtask: --in-process-only: the Kafka suite will say SKIPPED");
        None
    } else {
        Some(Broker::start()?)
    };
    let mut run = cargo();
    run.args(["nextest", "run", "--workspace", "--no-fail-fast"])
        .args(args);
    // The fault tests run after, each on a broker of its own.
    let mut excluded = vec!["(package(shop) and binary(faults))"];
    // The MongoDB adapter's conformance suite needs a MongoDB: the one at
    // SHOP_TEST_MONGODB_URI, or one testcontainers starts where Docker runs.
    if std::env::var_os("SHOP_TEST_MONGODB_URI").is_some() {
        eprintln!("xtask: MongoDB conformance suite: against SHOP_TEST_MONGODB_URI");
    } else if docker_available() {
        eprintln!("xtask: MongoDB conformance suite: on a replica set from testcontainers");
    } else {
        excluded.push("(package(doc-store-mongo) and binary(conformance))");
        if in_process_only {
            eprintln!(
                "xtask: MongoDB conformance suite: SKIPPED (--in-process-only, no \
                 SHOP_TEST_MONGODB_URI is set and no Docker engine runs here); set \
                 SHOP_TEST_MONGODB_URI to a replica set to run it"
            );
            // nextest leaves a filtered-out binary out of its count; count its checks
            // here so the run's last line reports them as skipped.
            tally.skipped += count_tests(&["-p", "doc-store-mongo", "-E", "binary(conformance)"])?;
        } else {
            eprintln!(
                "xtask: MongoDB conformance suite: later, on {}",
                secantus::NAME
            );
        }
    }
    // nextest ORs several -E filters, so the exclusions go in one expression.
    run.arg("-E")
        .arg(format!("not ({})", excluded.join(" or ")));
    if let Some(broker) = &broker {
        run.env("SHOP_TEST_KAFKA_BROKERS", broker.address());
    }
    check("cargo nextest run (in-process)", run_nextest(run, tally)?)?;

    // The benches are compiled (never run) so they never rot: in the test profile, whose
    // dependencies the run above built, rather than a second, release build of it all.
    eprintln!("xtask: compiling the benches (cargo test --benches --no-run)");
    let mut benches = cargo();
    benches.args(["test", "--workspace", "--benches", "--no-run"]);
    check("cargo test --benches --no-run", benches.status()?)?;

    let Some(tansu) = broker else {
        return Ok(());
    };

    eprintln!("xtask: fault tests, each on a tansu broker of its own");
    {
        let mut faults = nextest_selecting("package(shop) and binary(faults)");
        faults
            // Each test runs ten processes; one at a time keeps their timing honest.
            .args(["--test-threads", "1"])
            .env("SHOP_TEST_TANSU", install_tansu()?);
        let _postgres = match Postgres::start()? {
            Ok((cluster, url)) => {
                faults.env("SHOP_TEST_TANSU_POSTGRES", url);
                Some(cluster)
            }
            Err(why) => {
                eprintln!("xtask: the broker-restart fault test will say SKIPPED: {why}");
                None
            }
        };
        check(
            "cargo nextest run (fault tests)",
            run_nextest_selected(faults, tally)?,
        )?;
    }
    eprintln!("xtask: end-to-end scenarios again, on the services as processes over Kafka (tansu)");
    {
        let (_system, gateway) = System::start(&tansu.address(), &[("SHOP_STORAGE", "memory")])?;
        run_e2e(
            &gateway,
            "all()",
            "distributed, Kafka (tansu), embedded store",
            tally,
        )?;
    }
    drop(tansu);
    // A failure here does not keep real MongoDB, where Docker runs, from its pass.
    let compatible = mongodb_compatible_pass(tally);
    compatible.and(real_mongodb_pass(tally))
}

/// Where Docker runs: the scenarios on the services as processes with MongoDB and
/// Kafka from testcontainers; SKIPPED elsewhere.
fn real_mongodb_pass(tally: &mut Tally) -> anyhow::Result<()> {
    if docker_available() {
        eprintln!(
            "xtask: end-to-end scenarios once more, on the services as processes with MongoDB \
             and Kafka from testcontainers"
        );
        let (_containers, mongodb, kafka) = Containers::start()?;
        let (_system, gateway) = System::start(
            &kafka,
            &[("SHOP_STORAGE", "mongodb"), ("SHOP_MONGODB_URI", &mongodb)],
        )?;
        run_e2e(
            &gateway,
            "all()",
            "distributed, MongoDB and Kafka (testcontainers)",
            tally,
        )
    } else {
        eprintln!(
            "xtask: end-to-end scenarios on MongoDB and Kafka from testcontainers: SKIPPED \
             (no Docker engine runs here: no DOCKER_HOST, no /var/run/docker.sock); they ran \
             above on Kafka (tansu) with the embedded store and on a MongoDB-compatible server"
        );
        tally.skipped += count_tests(&["-p", "e2e", "-E", &format!("not {IN_PROCESS_SCENARIOS}")])?;
        Ok(())
    }
}

/// The MongoDB path on a MongoDB-compatible server started here (no Docker needed): the
/// store's conformance suite, every end-to-end scenario on the nine services as
/// processes with `SHOP_STORAGE=mongodb` and Kafka on tansu, and the consumer-crash
/// fault test on it (`SHOP_TEST_FAULTS_MONGODB_URI`; the order service SIGKILLed among
/// checkouts and restarted). Each part runs even when one before it failed.
fn mongodb_compatible_pass(tally: &mut Tally) -> anyhow::Result<()> {
    let name = secantus::NAME;
    eprintln!("xtask: the MongoDB path on a {name} server");
    // A broker of its own: on the last one the services' groups hold the static members
    // of the pass before, which tansu would leave waiting.
    let tansu = Broker::start()?;
    let server = Secantus::start()?;
    let uri = server.uri();

    let mut conformance = nextest_selecting("package(doc-store-mongo) and binary(conformance)");
    conformance.env("SHOP_TEST_MONGODB_URI", &uri);
    let conformance = check(
        &format!("the MongoDB store's conformance suite on {name}"),
        run_nextest_selected(conformance, tally)?,
    );

    let scenarios = System::start(
        &tansu.address(),
        &[("SHOP_STORAGE", "mongodb"), ("SHOP_MONGODB_URI", &uri)],
    )
    .and_then(|(_system, gateway)| {
        run_e2e(
            &gateway,
            "all()",
            &format!("distributed, {name} and Kafka (tansu)"),
            tally,
        )
    });

    drop(tansu);

    // After the scenarios' services are gone: ten processes of its own, timed honestly.
    let mut crash =
        nextest_selecting("package(shop) and binary(faults) and test(consumer_killed_mid_flow)");
    crash
        .env("SHOP_TEST_TANSU", install_tansu()?)
        .env("SHOP_TEST_FAULTS_MONGODB_URI", &uri);
    let crash = check(
        &format!("the consumer-crash fault test on {name}"),
        run_nextest_selected(crash, tally)?,
    );

    conformance.and(scenarios).and(crash)
}

/// `cargo nextest run` of the tests `filter` selects, over the workspace's test binaries
/// (built by the first run): building one package alone would build its dependencies
/// again, with other features. Run with `run_nextest_selected`: nextest calls every test
/// left out skipped.
fn nextest_selecting(filter: &str) -> Command {
    let mut run = cargo();
    run.args([
        "nextest",
        "run",
        "--workspace",
        "--no-fail-fast",
        "-E",
        filter,
    ]);
    run
}

/// The end-to-end scenarios that nextest's `filter` selects through the gateway at
/// `gateway` (a remote system: the in-process-only ones never match). Those left out
/// run in another pass, so only a pass of every scenario counts them as skipped.
pub fn run_e2e(gateway: &str, filter: &str, what: &str, tally: &mut Tally) -> anyhow::Result<()> {
    let mut e2e = cargo();
    e2e.args(["nextest", "run", "-p", "e2e", "--no-fail-fast", "-E"])
        .arg(format!("({filter}) and not {IN_PROCESS_SCENARIOS}"))
        .env("E2E_BASE_URL", gateway)
        .env("E2E_ADMIN_EMAIL", crate::system::ADMIN_EMAIL)
        .env("E2E_ADMIN_PASSWORD", crate::system::ADMIN_PASSWORD);
    let status = if filter == "all()" {
        run_nextest(e2e, tally)?
    } else {
        run_nextest_selected(e2e, tally)?
    };
    check(&format!("cargo nextest run -p e2e ({what})"), status)
}
