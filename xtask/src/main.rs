//! Project automation, so the README and CI call one command instead of growing shell
//! scripts. `cargo xtask test` runs every test: the workspace's tests in-process, the
//! Kafka transport suite against a tansu broker it installs (once, into ~/.cache/shop)
//! and starts, the fault tests (each on a tansu of its own; one on PostgreSQL storage
//! in a throwaway cluster), the end-to-end scenarios again against the nine services as
//! separate processes on tansu, and, where Docker runs, once more on MongoDB and Kafka
//! from testcontainers. `cargo xtask bless` rewrites the committed OpenAPI contracts
//! after an intended API change.

use std::{
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

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
    /// Install the tansu broker into the cache (what `test` does when it is missing).
    InstallBroker,
    /// Regenerate contracts/api/*.json from the services' served OpenAPI documents.
    Bless,
}

/// The tansu release the tests were written against.
const TANSU_VERSION: &str = "0.6.0";
/// End-to-end scenarios that always build their own in-process system; the distributed
/// pass leaves them out rather than run them twice.
const IN_PROCESS_SCENARIOS: &str = "test(/redelivery|restart|too_many_logins/)";

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Task::Test {
            in_process_only,
            args,
        } => test(in_process_only, &args),
        Task::InstallBroker => install_tansu().map(drop),
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

fn check(what: &str, status: ExitStatus) -> anyhow::Result<()> {
    if status.success() {
        Ok(())
    } else {
        bail!("{what} failed ({status})")
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/tmp"))
        .join("shop")
}

/// The tansu binary, installed from crates.io on first use (about ten minutes on two
/// cores) into a cache outside the checkout, so later runs and fresh clones reuse it.
fn install_tansu() -> anyhow::Result<PathBuf> {
    let root = cache_dir().join(format!("tansu-{TANSU_VERSION}"));
    let binary = root.join("bin/tansu");
    if binary.exists() {
        return Ok(binary);
    }
    eprintln!(
        "xtask: installing the tansu Kafka broker {TANSU_VERSION} into {} (once; about ten minutes)",
        root.display()
    );
    let status = cargo()
        .args(["install", "tansu", "--locked", "--version", TANSU_VERSION])
        .args(["--features", "dynostore,postgres", "--root"])
        .arg(&root)
        .status()
        .context("running cargo install tansu")?;
    check("cargo install tansu", status)?;
    Ok(binary)
}

/// A block of `n` consecutive ports that are free now. Taken below Linux's ephemeral
/// range (32768 and up), so an outgoing connection cannot grab one between our check
/// and the service's bind, as it can with a port the kernel handed out for port 0.
fn free_ports(n: u16) -> anyhow::Result<Vec<u16>> {
    let start = 20_000 + (std::process::id() % 500) as u16 * 20;
    for base in (start..30_000)
        .step_by(20)
        .chain((20_000..start).step_by(20))
    {
        let held: Vec<TcpListener> = (base..base + n)
            .map_while(|p| TcpListener::bind(("127.0.0.1", p)).ok())
            .collect();
        if held.len() == usize::from(n) {
            return Ok((base..base + n).collect());
        }
    }
    bail!("no block of {n} free ports between 20000 and 30000")
}

fn wait_for_port(port: u16, what: &str, child: &mut Child) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait()? {
            bail!("{what} exited before listening ({status})");
        }
        if Instant::now() > deadline {
            bail!("{what} did not listen on port {port} within a minute");
        }
        sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// A child process stopped when dropped, whatever way the run ends.
struct Stopped {
    what: &'static str,
    child: Child,
    /// SIGTERM first (the system drains); otherwise kill at once.
    graceful: bool,
}

impl Drop for Stopped {
    fn drop(&mut self) {
        if self.graceful {
            let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    eprintln!("xtask: stopped {}", self.what);
                    return;
                }
                sleep(Duration::from_millis(100));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("xtask: stopped {}", self.what);
    }
}

fn start_tansu() -> anyhow::Result<(Stopped, String)> {
    let binary = install_tansu()?;
    let port = free_ports(1)?[0];
    let url = format!("tcp://127.0.0.1:{port}");
    let mut child = Command::new(binary)
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ])
        .args(["--storage-engine", "memory://tansu/"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting tansu")?;
    wait_for_port(port, "tansu", &mut child)?;
    eprintln!("xtask: tansu broker listening on 127.0.0.1:{port}");
    Ok((
        Stopped {
            what: "the tansu broker",
            child,
            graceful: false,
        },
        format!("127.0.0.1:{port}"),
    ))
}

/// A throwaway PostgreSQL cluster holding tansu's durable storage for the broker-restart
/// fault test: initdb into a temporary directory, started on a free loopback port with
/// trust authentication, the tables tansu needs created from `tansu-postgres.sql`, and
/// stopped and deleted when dropped.
struct Postgres {
    dir: PathBuf,
    /// The server, a direct child in our process group: Ctrl-C reaches it as it
    /// reaches the broker (pg_ctl would detach it).
    server: Option<Child>,
}

impl Postgres {
    /// The cluster and its URL, or the reason there is none (no PostgreSQL here).
    fn start() -> anyhow::Result<Result<(Self, String), String>> {
        let Some(bin) = postgres_bin() else {
            return Ok(Err(
                "no PostgreSQL server binaries (initdb, postgres) on PATH or under \
                 /usr/lib/postgresql; apt-get install postgresql"
                    .into(),
            ));
        };
        // Debian's server directory has psql too; elsewhere it may only be on PATH.
        let Some(psql) = Some(bin.join("psql"))
            .filter(|p| p.is_file())
            .or_else(|| which("psql"))
        else {
            return Ok(Err(
                "no psql beside initdb or on PATH; apt-get install postgresql-client".into(),
            ));
        };
        // initdb and postgres refuse to run as root: then they run as `postgres`.
        let owner = if nix::unistd::geteuid().is_root() {
            match nix::unistd::User::from_name("postgres")? {
                Some(user) => Some((user.uid, user.gid)),
                None => {
                    return Ok(Err(
                        "running as root and there is no postgres user to own a cluster".into(),
                    ));
                }
            }
        } else {
            None
        };
        let as_owner = |program: &str| {
            let mut command = Command::new(bin.join(program));
            if let Some((uid, gid)) = owner {
                use std::os::unix::process::CommandExt;
                command.uid(uid.as_raw()).gid(gid.as_raw());
            }
            command
        };
        // A fresh directory only we (then postgres) can enter: creating it fails rather
        // than adopt one somebody else put there.
        let dir = std::env::temp_dir().join(format!("shop-tansu-pg-{}", random_hex(6)?));
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        }
        let mut cluster = Self { dir, server: None };
        // Local users other than us must not get a superuser on the loopback port: the
        // socket lives in our 0700 directory, TCP needs the password.
        let password = random_hex(16)?;
        let pwfile = cluster.dir.join("pwfile");
        std::fs::write(&pwfile, &password)?;
        if let Some((uid, gid)) = owner {
            for path in [&cluster.dir, &pwfile] {
                std::os::unix::fs::chown(path, Some(uid.as_raw()), Some(gid.as_raw()))?;
            }
        }
        let data = cluster.dir.join("data");
        let status = as_owner("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth-local=trust"])
            .args(["--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .stdout(Stdio::null())
            .status()?;
        check("initdb", status)?;
        let port = free_ports(1)?[0];
        let log = std::fs::File::create(cluster.dir.join("log"))?;
        let server = cluster.server.insert(
            as_owner("postgres")
                .arg("-D")
                .arg(&data)
                .args(["-p", &port.to_string(), "-k"])
                .arg(&cluster.dir)
                .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .context("starting postgres")?,
        );
        wait_for_port(port, "postgres", server)?;
        // Listening comes a moment before accepting; psql is retried over that moment.
        let schema = workspace_root().join("xtask/tansu-postgres.sql");
        let mut tries = 0;
        loop {
            let status = Command::new(&psql)
                .args(["-X", "-h", "127.0.0.1", "-p", &port.to_string()])
                .args(["-U", "postgres", "-d", "postgres"])
                .args(["-v", "ON_ERROR_STOP=1", "-q", "-f"])
                .arg(&schema)
                .env("PGPASSWORD", &password)
                .stdout(Stdio::null())
                .stderr(if tries < 20 {
                    Stdio::null()
                } else {
                    Stdio::inherit()
                })
                .status()?;
            if status.success() {
                break;
            }
            tries += 1;
            if tries > 20 {
                check("creating tansu's tables (psql)", status)?;
            }
            sleep(Duration::from_millis(250));
        }
        eprintln!("xtask: PostgreSQL for tansu listening on 127.0.0.1:{port}");
        Ok(Ok((
            cluster,
            format!("postgres://postgres:{password}@127.0.0.1:{port}/postgres"),
        )))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            // SIGINT is PostgreSQL's fast shutdown; nothing here needs keeping.
            let pid = nix::unistd::Pid::from_raw(server.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline && matches!(server.try_wait(), Ok(None)) {
                sleep(Duration::from_millis(100));
            }
            let _ = server.kill();
            let _ = server.wait();
            eprintln!("xtask: stopped PostgreSQL");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `bytes` random bytes from the kernel, in hex.
fn random_hex(bytes: usize) -> anyhow::Result<String> {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// The directory of initdb and postgres: Debian's versioned directory (PATH often
/// holds only symlinks to it), or PATH.
fn postgres_bin() -> Option<PathBuf> {
    let on_path = which("initdb").and_then(|initdb| {
        let bin = std::fs::canonicalize(initdb).ok()?.parent()?.to_path_buf();
        bin.join("postgres").is_file().then_some(bin)
    });
    if on_path.is_some() {
        return on_path;
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("postgres").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

const SERVICES: [&str; 9] = [
    "gateway",
    "auth",
    "user",
    "product",
    "cart",
    "order",
    "payment",
    "shipping",
    "notification",
];

/// The nine services as processes on the broker, on free ports, with the storage that
/// `storage` (`SHOP_STORAGE` and what it needs) selects.
fn start_distributed(brokers: &str, storage: &[(&str, &str)]) -> anyhow::Result<(Stopped, String)> {
    let status = cargo().args(["build", "-p", "shop"]).status()?;
    check("cargo build -p shop", status)?;
    let binary = workspace_root().join("target/debug/shop");
    let mut command = Command::new(binary);
    command
        .args(["up", "--distributed", "--kafka-brokers", brokers])
        .envs(storage.iter().copied())
        .env("SHOP_BOOTSTRAP_ADMIN_EMAIL", "admin@shop.test")
        .env("SHOP_BOOTSTRAP_ADMIN_PASSWORD", "admin password for e2e")
        // Scenarios register and log in many accounts from one address.
        .env("SHOP_RATE_LIMIT_LOGIN_PER_MINUTE", "10000")
        .env("SHOP_RATE_LIMIT_REGISTER_PER_MINUTE", "10000")
        .env("SHOP_BUS_INITIAL_BACKOFF_MS", "50")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    // The broker's port (taken just before) is in use now, so the blocks differ.
    let ports = free_ports(SERVICES.len() as u16)?;
    for (service, port) in SERVICES.iter().zip(&ports) {
        command.env(
            format!("SHOP_{}_PORT", service.to_uppercase()),
            port.to_string(),
        );
    }
    let gateway_port = ports[0];
    let mut child = command.spawn().context("starting shop up --distributed")?;
    // `up --distributed` prints its banner once every service answers /readyz.
    let stdout = child.stdout.take().expect("stdout is piped");
    let (ready, banner) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            eprintln!("{line}");
            if line.starts_with("shop is up") {
                let _ = ready.send(());
            }
        }
    });
    let mut system = Stopped {
        what: "the nine service processes",
        child,
        graceful: true,
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    while banner.try_recv().is_err() {
        if let Some(status) = system.child.try_wait()? {
            bail!("shop up --distributed exited before it was ready ({status})");
        }
        if Instant::now() > deadline {
            bail!("the nine services were not ready within 90 s");
        }
        sleep(Duration::from_millis(100));
    }
    Ok((system, format!("http://127.0.0.1:{gateway_port}")))
}

/// Passed, failed and skipped tests, added up over the runs of one `xtask test`.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    passed: u64,
    failed: u64,
    skipped: u64,
}

impl Tally {
    /// Reads nextest's summary line (`… 411 tests run: 400 passed, 11 failed, 0 skipped`).
    fn add_summary(&mut self, line: &str) {
        let Some((_, counts)) = line.split_once("tests run:") else {
            return;
        };
        for part in counts.split(',') {
            let mut words = part.split_whitespace();
            let (Some(n), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = n.parse::<u64>() else { continue };
            match what {
                "passed" => self.passed += n,
                "failed" | "timed" => self.failed += n,
                "skipped" => self.skipped += n,
                _ => {}
            }
        }
    }
}

/// Runs nextest, passing its output through, and adds its summary to the tally.
fn run_nextest(mut command: Command, tally: &mut Tally) -> anyhow::Result<ExitStatus> {
    use std::io::{BufRead, Write};
    let mut child = command.stderr(Stdio::piped()).spawn()?;
    let stderr = child.stderr.take().expect("stderr is piped");
    for line in std::io::BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
    {
        let _ = writeln!(std::io::stderr(), "{line}");
        if line.trim_start().starts_with("Summary") {
            tally.add_summary(&line);
        }
    }
    Ok(child.wait()?)
}

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn test(in_process_only: bool, args: &[String]) -> anyhow::Result<()> {
    let mut tally = Tally::default();
    let result = run_all(in_process_only, args, &mut tally);
    // Last, after the broker and the services have stopped: one line for the whole run.
    println!(
        "tests: {} passed, {} failed, {} skipped",
        tally.passed, tally.failed, tally.skipped
    );
    result
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
        Some(start_tansu()?)
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
        eprintln!(
            "xtask: MongoDB conformance suite: SKIPPED (no SHOP_TEST_MONGODB_URI is set and \
             no Docker engine runs here for testcontainers); set SHOP_TEST_MONGODB_URI to a \
             replica set to run it"
        );
        excluded.push("(package(doc-store-mongo) and binary(conformance))");
        // nextest leaves a filtered-out binary out of its count; count its checks here
        // so the run's last line reports them as skipped.
        tally.skipped += count_tests(&["-p", "doc-store-mongo", "-E", "binary(conformance)"])?;
    }
    // nextest ORs several -E filters, so the exclusions go in one expression.
    run.arg("-E")
        .arg(format!("not ({})", excluded.join(" or ")));
    if let Some((_, brokers)) = &broker {
        run.env("SHOP_TEST_KAFKA_BROKERS", brokers);
    }
    check("cargo nextest run (in-process)", run_nextest(run, tally)?)?;

    let Some((tansu, brokers)) = broker else {
        return Ok(());
    };

    eprintln!("xtask: fault tests, each on a tansu broker of its own");
    {
        let mut faults = cargo();
        faults
            .args(["nextest", "run", "-p", "shop", "--test", "faults"])
            // Each test runs ten processes; one at a time keeps their timing honest.
            .args(["--no-fail-fast", "--test-threads", "1"])
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
            run_nextest(faults, tally)?,
        )?;
    }
    eprintln!("xtask: end-to-end scenarios again, on nine processes over Kafka (tansu)");
    {
        let (_system, gateway) = start_distributed(&brokers, &[("SHOP_STORAGE", "memory")])?;
        run_e2e(
            &gateway,
            "distributed, Kafka (tansu), embedded store",
            tally,
        )?;
    }
    drop(tansu);
    if docker_available() {
        eprintln!(
            "xtask: end-to-end scenarios a third time, on nine processes with MongoDB and \
             Kafka from testcontainers"
        );
        let (_containers, mongodb, kafka) = start_containers()?;
        let (_system, gateway) = start_distributed(
            &kafka,
            &[("SHOP_STORAGE", "mongodb"), ("SHOP_MONGODB_URI", &mongodb)],
        )?;
        run_e2e(
            &gateway,
            "distributed, MongoDB and Kafka (testcontainers)",
            tally,
        )
    } else {
        eprintln!(
            "xtask: end-to-end scenarios on MongoDB and Kafka from testcontainers: SKIPPED \
             (no Docker engine runs here: no DOCKER_HOST, no /var/run/docker.sock); they ran \
             above on Kafka (tansu) with the embedded store"
        );
        tally.skipped += count_tests(&["-p", "e2e", "-E", &format!("not {IN_PROCESS_SCENARIOS}")])?;
        Ok(())
    }
}

/// The end-to-end scenarios (those that can run against a remote system) through the
/// gateway at `gateway`.
fn run_e2e(gateway: &str, what: &str, tally: &mut Tally) -> anyhow::Result<()> {
    let mut e2e = cargo();
    e2e.args(["nextest", "run", "-p", "e2e", "--no-fail-fast", "-E"])
        .arg(format!("not {IN_PROCESS_SCENARIOS}"))
        .env("E2E_BASE_URL", gateway)
        .env("E2E_ADMIN_EMAIL", "admin@shop.test")
        .env("E2E_ADMIN_PASSWORD", "admin password for e2e");
    check(
        &format!("cargo nextest run -p e2e ({what})"),
        run_nextest(e2e, tally)?,
    )
}

/// How many tests nextest would run with `filter` (for those a run leaves out, so the
/// closing line still counts them, as skipped).
fn count_tests(filter: &[&str]) -> anyhow::Result<u64> {
    let listed = cargo()
        .args(["nextest", "list"])
        .args(filter)
        .args(["--message-format", "oneline"])
        .stderr(Stdio::null())
        .output()?;
    Ok(String::from_utf8_lossy(&listed.stdout).lines().count() as u64)
}

fn docker_available() -> bool {
    std::env::var_os("DOCKER_HOST").is_some()
        || std::path::Path::new("/var/run/docker.sock").exists()
}

/// A MongoDB replica set and an Apache Kafka broker in containers, started by the
/// `e2e-containers` binary (testcontainers); removed when dropped.
struct Containers {
    child: Child,
}

/// The containers, the MongoDB URI and the Kafka bootstrap address.
fn start_containers() -> anyhow::Result<(Containers, String, String)> {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    let mut child = cargo()
        .args(["run", "-q", "-p", "e2e", "--features", "containers"])
        .args(["--bin", "e2e-containers"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        // Out of the terminal's process group: Ctrl-C stops xtask, whose exit closes
        // the pipe, and e2e-containers then removes the containers instead of dying
        // with them still running.
        .process_group(0)
        .spawn()
        .context("starting e2e-containers")?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut containers = Containers { child };
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let (mut mongodb, mut kafka) = (None, None);
    // Pulling the images the first time takes a while; a hang must not last forever.
    let deadline = Instant::now() + Duration::from_secs(600);
    while mongodb.is_none() || kafka.is_none() {
        match received.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                if let Some(uri) = line.strip_prefix("mongodb=") {
                    mongodb = Some(uri.to_owned());
                } else if let Some(address) = line.strip_prefix("kafka=") {
                    kafka = Some(address.to_owned());
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if containers.child.try_wait()?.is_some() || Instant::now() > deadline {
                    break;
                }
            }
        }
    }
    match (mongodb, kafka) {
        (Some(mongodb), Some(kafka)) => {
            eprintln!("xtask: MongoDB at {mongodb}, Kafka at {kafka} (containers)");
            Ok((containers, mongodb, kafka))
        }
        _ => {
            bail!("e2e-containers did not report both containers up within ten minutes (see above)")
        }
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        // Closing its stdin tells e2e-containers to remove them.
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                eprintln!("xtask: removed the MongoDB and Kafka containers");
                return;
            }
            sleep(Duration::from_millis(200));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("xtask: e2e-containers did not exit; its containers may remain");
    }
}
