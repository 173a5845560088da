//! `cargo bench -p shop --bench scale`: the figures of issue 9's targets, in one run.
//!
//! For a small and a large store it starts the release `shop up` on an empty data
//! directory, registers a customer, stops it, seeds products, orders, payments and
//! shipments straight into the services' redb files (through their own document
//! types, so the seed keeps to their schemas), starts it again and measures it from
//! outside over HTTP: how soon it answers, the throughput and latency of the list
//! routes with a closed loop of concurrent connections, and the process's resident
//! memory. Then it prints one table with both sizes and the large/small ratios, and
//! writes it to `target/scale/report.md`. The system's own output goes to
//! `target/scale/shop.log`.
//!
//! Any list request that does not answer 200 fails the run (after the report).

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::Parser;
use doc_store::{CollectionSpec, DocumentStore, EmbeddedStore, Write};
use e2e::Target;
use event_contracts::{LineItem, Money};
use indicatif::{ProgressBar, ProgressStyle};
use local_processes::{Ending, Signal, free_ports, port_variable};
use order_service::{
    domain::OrderStatus,
    store::{HistoryEntry, ORDERS, Order},
};
use payment_service::{
    domain::Step,
    store::{PAYMENTS, Payment},
};
use product_service::{
    domain::Shelf,
    store::{PRODUCTS, Product},
};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use service_kit::{ServiceDef, ServiceName};
use shipping_service::{
    domain::ShipmentStatus,
    store::{SHIPMENTS, Shipment},
};
use time::OffsetDateTime;

#[derive(Parser)]
#[command(
    name = "scale",
    bin_name = "cargo bench -p shop --bench scale --",
    about = "How the list routes, start-up and memory of `shop up` scale with the data",
    long_about = "How the list routes, start-up and memory of `shop up` scale with the data \
                  (the targets of issue 9).\n\n\
                  For a small and a large store in turn, it starts the release `shop` binary \
                  (SHOP_BIN, else target/release/shop; build it with \
                  `cargo build --release -p shop`) as `shop up --data-dir <temporary dir>` on \
                  free ports, registers a customer, stops it, seeds products, and orders with \
                  their payments and shipments (half of them the customer's), straight into \
                  the services' store files, and starts it again. It then measures: the time \
                  from spawn to the gateway's /readyz answering 200; with --connections \
                  concurrent connections for --duration each, the throughput, p50 and p99 of \
                  GET /products?per_page=20 (product's port), the customer's \
                  GET /orders?per_page=20 (order's), GET /payments?order_id= and \
                  GET /shipments?order_id= for one of the customer's orders (payment's and \
                  shipping's); and the process's resident memory (VmRSS) idle, at its peak \
                  while browsing products, and 5 s after.\n\n\
                  It prints a markdown table of both sizes and the large/small ratios and \
                  writes it to target/scale/report.md. Any answer but 200 fails the run."
)]
struct Args {
    /// Products in the small store.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    small_products: u64,
    /// Orders in the small store (each with its payment and shipment).
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(2..))]
    small_orders: u64,
    /// Products in the large store.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    large_products: u64,
    /// Orders in the large store (each with its payment and shipment).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(2..))]
    large_orders: u64,
    /// Seconds each list route is browsed for.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    duration: u64,
    /// Concurrent connections, each sending its next request when the last one is answered.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
    connections: u64,
    /// What `cargo bench` passes to every bench; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Writes per store commit while seeding.
const BATCH: usize = 1_000;
/// How long one list request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `shop up` may take to serve, and to exit after SIGTERM.
const PATIENCE: Duration = Duration::from_secs(120);
/// How long after the product browsing the memory is read again.
const SETTLE: Duration = Duration::from_secs(5);
/// How often the memory is read while browsing.
const RSS_EVERY: Duration = Duration::from_millis(50);

/// One store size to measure.
struct Size {
    name: &'static str,
    products: u64,
    orders: u64,
}

/// What one size measured.
struct Figures {
    products: u64,
    orders: u64,
    seeding: Duration,
    on_disk: u64,
    answers_in: Duration,
    rss_idle: u64,
    rss_peak: u64,
    rss_after: u64,
    /// In the order of [`LISTS`].
    lists: Vec<Browsed>,
}

/// The list routes measured, by the service that answers them.
const LISTS: [&str; 4] = [
    "`GET /products?per_page=20` (product)",
    "customer's `GET /orders?per_page=20` (order)",
    "`GET /payments?order_id=` (payment)",
    "`GET /shipments?order_id=` (shipping)",
];

/// One list route browsed for a while.
struct Browsed {
    requests: u64,
    /// Answers other than 200, and requests that got no answer.
    failed: u64,
    first_failure: Option<String>,
    per_sec: f64,
    p50: Duration,
    p99: Duration,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let shop = shop_binary()?;
    let out = workspace_root().join("target/scale");
    std::fs::create_dir_all(&out)?;
    let log = File::create(out.join("shop.log"))?;
    let sizes = [
        Size {
            name: "small",
            products: args.small_products,
            orders: args.small_orders,
        },
        Size {
            name: "large",
            products: args.large_products,
            orders: args.large_orders,
        },
    ];
    let mut figures = Vec::new();
    for size in &sizes {
        eprintln!(
            "scale: {} store, {} products and {} orders",
            size.name, size.products, size.orders
        );
        figures.push(measure(&shop, &log, &args, size).await?);
    }
    let report = report(&args, &figures);
    println!("{report}");
    let path = out.join("report.md");
    std::fs::write(&path, &report)?;
    eprintln!("scale: wrote {}", path.display());

    let mut failures = Vec::new();
    for (size, figures) in sizes.iter().zip(&figures) {
        for (list, browsed) in LISTS.iter().zip(&figures.lists) {
            if browsed.failed > 0 {
                failures.push(format!(
                    "{} store, {list}: {} of {} requests failed, the first with {}",
                    size.name,
                    browsed.failed,
                    browsed.requests,
                    browsed.first_failure.as_deref().unwrap_or("?")
                ));
            }
        }
    }
    anyhow::ensure!(
        failures.is_empty(),
        "requests that did not answer 200:\n  {}",
        failures.join("\n  ")
    );
    Ok(())
}

/// Every step for one size, on a data directory of its own.
async fn measure(shop: &Path, log: &File, args: &Args, size: &Size) -> anyhow::Result<Figures> {
    let data = tempfile::tempdir()?;

    // A customer, registered through the gateway as any would be.
    let mut system = System::start(shop, data.path(), log)?;
    system.wait_until_serving().await?;
    let target = Target::remote(&system.url(&gateway_service::SERVICE));
    let customer = target
        .new_customer()
        .await
        .context("registering the customer")?;
    system.stop()?;

    let started = Instant::now();
    let probe_order = seed(data.path(), size, &customer.id).await?;
    let seeding = started.elapsed();
    let on_disk = bytes_under(data.path())?;

    let started = Instant::now();
    let mut system = System::start(shop, data.path(), log)?;
    system.wait_until_serving().await?;
    let answers_in = started.elapsed();
    eprintln!(
        "scale: {} store answers in {:.2} s",
        size.name,
        answers_in.as_secs_f64()
    );

    // The access token from the first start may have expired while seeding.
    let mut client = target.client();
    client
        .login(&customer.email, &customer.password)
        .await
        .context("logging the customer in")?;
    let token = client.token.clone().context("login gave no access token")?;
    let rss_idle = rss(system.pid())?;

    let duration = Duration::from_secs(args.duration);
    let connections = args.connections as usize;
    let urls = [
        (
            format!(
                "{}/api/v1/products?per_page=20",
                system.url(&product_service::SERVICE)
            ),
            None,
        ),
        (
            format!(
                "{}/api/v1/orders?per_page=20",
                system.url(&order_service::SERVICE)
            ),
            Some(token.as_str()),
        ),
        (
            format!(
                "{}/api/v1/payments?order_id={probe_order}",
                system.url(&payment_service::SERVICE)
            ),
            Some(token.as_str()),
        ),
        (
            format!(
                "{}/api/v1/shipments?order_id={probe_order}",
                system.url(&shipping_service::SERVICE)
            ),
            Some(token.as_str()),
        ),
    ];
    let mut lists = Vec::new();
    let (mut rss_peak, mut rss_after) = (0, 0);
    for (i, (url, token)) in urls.iter().enumerate() {
        eprintln!("scale: browsing {} for {duration:?}", LISTS[i]);
        check_lists_items(url, *token).await?;
        // Products are what a shop browses most; its memory is what the target is about.
        let peak = (i == 0).then(|| RssPeak::start(system.pid()));
        lists.push(browse(url, *token, connections, duration).await);
        if let Some(peak) = peak {
            rss_peak = peak.stop().await;
            tokio::time::sleep(SETTLE).await;
            rss_after = rss(system.pid())?;
        }
    }
    system.stop()?;
    Ok(Figures {
        products: size.products,
        orders: size.orders,
        seeding,
        on_disk,
        answers_in,
        rss_idle,
        rss_peak,
        rss_after,
        lists,
    })
}

/// `SHOP_BIN`, else the release binary of this workspace.
fn shop_binary() -> anyhow::Result<PathBuf> {
    let path = match std::env::var_os("SHOP_BIN") {
        Some(path) => PathBuf::from(path),
        None => workspace_root().join("target/release/shop"),
    };
    anyhow::ensure!(
        path.is_file(),
        "no shop binary at {}: run `cargo build --release -p shop` first (or set SHOP_BIN)",
        path.display()
    );
    Ok(path)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("shop/ sits in the workspace")
        .to_owned()
}

/// `shop up` as a child process, every service on a free loopback port; stopped with
/// SIGTERM (then killed) when dropped, so that nothing outlives the bench.
struct System {
    child: Child,
    ports: Vec<(ServiceName, u16)>,
}

impl System {
    fn start(shop: &Path, data_dir: &Path, log: &File) -> anyhow::Result<Self> {
        let ports = free_ports(shop::SERVICES.len() as u16)?;
        let mut command = Command::new(shop);
        command
            .arg("up")
            .arg("--data-dir")
            .arg(data_dir)
            .env("SHOP_STORAGE", "disk")
            .env("SHOP_BUS", "in_process")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log.try_clone()?);
        for (service, port) in shop::SERVICES.iter().zip(&ports) {
            command.env(port_variable(service.name.as_str()), port.to_string());
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", shop.display()))?;
        Ok(Self {
            child,
            ports: shop::SERVICES.iter().map(|s| s.name).zip(ports).collect(),
        })
    }

    fn url(&self, service: &ServiceDef) -> String {
        let (_, port) = self
            .ports
            .iter()
            .find(|(name, _)| *name == service.name)
            .expect("every service has a port");
        format!("http://127.0.0.1:{port}")
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the gateway, started last, says the system is ready.
    async fn wait_until_serving(&mut self) -> anyhow::Result<()> {
        let readyz = format!("{}/readyz", self.url(&gateway_service::SERVICE));
        let http = reqwest::Client::new();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(answer) = http.get(&readyz).send().await
                && answer.status() == reqwest::StatusCode::OK
            {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!(
                    "shop up exited before serving ({status}); see target/scale/shop.log"
                );
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "shop up did not serve within {PATIENCE:?}; see target/scale/shop.log"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// SIGTERM, and waits for it to finish its in-flight work and exit.
    fn stop(mut self) -> anyhow::Result<()> {
        let ending = tokio::task::block_in_place(|| {
            local_processes::stop(&mut self.child, Signal::SIGTERM, PATIENCE)
        });
        anyhow::ensure!(
            ending == Ending::Exited,
            "shop up did not exit within {PATIENCE:?} of SIGTERM and was killed"
        );
        Ok(())
    }
}

impl Drop for System {
    fn drop(&mut self) {
        // Already reaped after `stop`, in which case this does nothing.
        local_processes::stop(&mut self.child, Signal::SIGTERM, Duration::from_secs(10));
    }
}

/// The resident memory of process `pid`, in bytes.
fn rss(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .context("no VmRSS in /proc/<pid>/status")?;
    Ok(kib * 1024)
}

/// The highest resident memory of a process, read every [`RSS_EVERY`] until stopped.
struct RssPeak {
    done: Arc<AtomicBool>,
    sampler: tokio::task::JoinHandle<u64>,
}

impl RssPeak {
    fn start(pid: u32) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let peak = AtomicU64::new(0);
        let sampler = tokio::spawn({
            let done = done.clone();
            async move {
                while !done.load(Ordering::Relaxed) {
                    peak.fetch_max(rss(pid).unwrap_or(0), Ordering::Relaxed);
                    tokio::time::sleep(RSS_EVERY).await;
                }
                peak.load(Ordering::Relaxed)
            }
        });
        Self { done, sampler }
    }

    async fn stop(self) -> u64 {
        self.done.store(true, Ordering::Relaxed);
        self.sampler.await.unwrap_or(0)
    }
}

/// One request first, so that a route answering empty pages (a seed the service cannot
/// see) fails the run instead of being measured.
async fn check_lists_items(url: &str, token: Option<&str>) -> anyhow::Result<()> {
    let mut request = reqwest::Client::new().get(url).timeout(REQUEST_TIMEOUT);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await?;
    let status = answer.status();
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    let items = body["items"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(
        status == reqwest::StatusCode::OK && items > 0,
        "GET {url} answered {status} with {items} items: {body}"
    );
    Ok(())
}

/// `connections` clients, each on a connection of its own, each sending its next `GET
/// url` as soon as the last is answered, until `duration` has passed.
async fn browse(url: &str, token: Option<&str>, connections: usize, duration: Duration) -> Browsed {
    let started = Instant::now();
    let clients: Vec<_> = (0..connections)
        .map(|_| {
            let (url, token) = (url.to_owned(), token.map(str::to_owned));
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .timeout(REQUEST_TIMEOUT)
                    .build()
                    .expect("a plain HTTP client builds");
                let mut latencies = Vec::new();
                let mut failures = Vec::new();
                while started.elapsed() < duration {
                    let sent = Instant::now();
                    let mut request = http.get(&url);
                    if let Some(token) = &token {
                        request = request.bearer_auth(token);
                    }
                    // The body is read whole: it is part of the answer, and the connection
                    // is reused only after it.
                    let outcome = match request.send().await {
                        Ok(answer) => {
                            let status = answer.status();
                            match answer.bytes().await {
                                Ok(_) if status == reqwest::StatusCode::OK => None,
                                Ok(body) => Some(format!(
                                    "{status}: {}",
                                    String::from_utf8_lossy(&body[..body.len().min(200)])
                                )),
                                Err(e) => Some(format!("reading the body: {e}")),
                            }
                        }
                        Err(e) => Some(e.to_string()),
                    };
                    latencies.push(sent.elapsed());
                    failures.extend(outcome);
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    for client in clients {
        let (l, f) = client.await.expect("a browsing task panicked");
        latencies.extend(l);
        failures.extend(f);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Browsed {
        requests: latencies.len() as u64,
        failed: failures.len() as u64,
        first_failure: failures.into_iter().next(),
        per_sec: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
    }
}

/// The nearest-rank percentile of sorted durations (zero for none).
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The services' store files, opened (with the system stopped) and their collections
/// declared as the services declare them, so their indexes are built as they fill.
async fn open_store(
    data_dir: &Path,
    service: &ServiceDef,
    collections: &[CollectionSpec],
) -> anyhow::Result<EmbeddedStore> {
    let path = data_dir.join(format!("{}.redb", service.name.as_str()));
    let store =
        EmbeddedStore::open(&path).with_context(|| format!("opening {}", path.display()))?;
    store.ensure_collections(collections).await?;
    Ok(store)
}

/// Writes kept until there are [`BATCH`] of them, then committed as one batch.
struct Batch<'a> {
    store: &'a EmbeddedStore,
    writes: Vec<Write>,
}

impl<'a> Batch<'a> {
    fn new(store: &'a EmbeddedStore) -> Self {
        Self {
            store,
            writes: Vec::with_capacity(BATCH),
        }
    }

    async fn push(&mut self, write: Write) -> anyhow::Result<()> {
        self.writes.push(write);
        if self.writes.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        if !self.writes.is_empty() {
            self.store.commit(std::mem::take(&mut self.writes)).await?;
        }
        Ok(())
    }
}

/// How a seeded order ended, with its payment and its shipment to match: the paths of
/// docs/flows.md, each status with what moved the order there.
struct Fate {
    order: &'static [(OrderStatus, &'static str)],
    payment: &'static [Step],
    shipment: &'static [ShipmentStatus],
}

const FATES: &[Fate] = {
    use OrderStatus as O;
    use ShipmentStatus as S;
    const CHECKOUT: (OrderStatus, &str) = (O::Pending, "cart.checkout");
    const PAID: [(OrderStatus, &str); 3] = [
        CHECKOUT,
        (O::Paid, "payment.completed"),
        (O::AwaitingShipment, "shipment.awaiting"),
    ];
    const DELIVERED: [(OrderStatus, &str); 4] = [
        PAID[0],
        PAID[1],
        PAID[2],
        (O::Delivered, "shipment.delivered"),
    ];
    &[
        Fate {
            order: &[CHECKOUT],
            payment: &[Step::MarkPayable],
            shipment: &[],
        },
        Fate {
            order: &[CHECKOUT, (O::Cancelled, "payment.failed")],
            payment: &[Step::MarkPayable, Step::Decline],
            shipment: &[S::Cancelled],
        },
        Fate {
            order: &PAID,
            payment: &[Step::MarkPayable, Step::Capture],
            shipment: &[S::Awaiting],
        },
        Fate {
            order: &DELIVERED,
            payment: &[Step::MarkPayable, Step::Capture],
            shipment: &[S::Awaiting, S::Delivered],
        },
        Fate {
            order: &[
                DELIVERED[0],
                DELIVERED[1],
                DELIVERED[2],
                DELIVERED[3],
                (O::Completed, "CustomerAccepts"),
            ],
            payment: &[Step::MarkPayable, Step::Capture],
            shipment: &[S::Awaiting, S::Delivered],
        },
        Fate {
            order: &[
                DELIVERED[0],
                DELIVERED[1],
                DELIVERED[2],
                DELIVERED[3],
                (O::ReturnRequested, "CustomerReturns"),
                (O::Returned, "shipment.returned"),
                (O::Refunded, "payment.refunded"),
            ],
            payment: &[Step::MarkPayable, Step::Capture, Step::Refund],
            shipment: &[S::Awaiting, S::Delivered, S::ReturnOpen, S::Returned],
        },
    ]
};

const ADJECTIVES: &[&str] = &[
    "Blue", "Red", "Small", "Large", "Vintage", "Modern", "Rustic", "Sleek", "Cosy", "Bright",
];
const MATERIALS: &[&str] = &[
    "ceramic", "oak", "steel", "linen", "glass", "cotton", "leather", "bamboo",
];
const THINGS: &[&str] = &[
    "mug", "lamp", "chair", "scarf", "bowl", "notebook", "backpack", "clock", "vase", "rug",
];

/// Fills the stopped system's store files: `size.products` products, then
/// `size.orders` orders, every other one the customer's, each with its payment and
/// shipment. Returns one of the customer's orders.
async fn seed(data_dir: &Path, size: &Size, customer: &str) -> anyhow::Result<String> {
    let bar = ProgressBar::new(size.products + size.orders).with_style(
        ProgressStyle::with_template(
            "seeding {msg} {bar:40} {pos}/{len} products and orders, {per_sec}, eta {eta}",
        )
        .expect("a valid template"),
    );
    bar.set_message(size.name);
    // The same data on every run.
    let mut rng = StdRng::seed_from_u64(9);
    let now = OffsetDateTime::now_utc();
    let year_ago = now - time::Duration::days(365);

    let sellers: Vec<String> = (0..50).map(|_| random_id(&mut rng)).collect();
    let store = open_store(
        data_dir,
        &product_service::SERVICE,
        product_service::store::COLLECTIONS,
    )
    .await?;
    let mut products = Batch::new(&store);
    // What an order line copies from the product it is for.
    let mut catalog = Vec::new();
    for i in 0..size.products {
        let created_at = random_time(&mut rng, year_ago, now);
        let name = format!(
            "{} {} {} {i}",
            ADJECTIVES.choose(&mut rng).expect("words"),
            MATERIALS.choose(&mut rng).expect("words"),
            THINGS.choose(&mut rng).expect("words"),
        );
        let product = Product {
            owner_id: sellers.choose(&mut rng).expect("sellers").clone(),
            name: name.clone(),
            description: format!("{name}, seeded for the scale bench"),
            price: Money::parse(rng.gen_range(100..50_000), "EUR")?,
            shelf: Shelf {
                available: rng.gen_range(0..500),
                reserved: 0,
            },
            created_at,
            updated_at: created_at,
        };
        let id = time_ordered_id(&mut rng, created_at);
        products.push(PRODUCTS.insert(&id, &product)).await?;
        catalog.push(LineItem {
            product_id: id,
            name,
            unit_price: product.price,
            quantity: 1,
        });
        bar.inc(1);
    }
    products.flush().await?;
    drop(store);

    let others: Vec<String> = (0..1_000).map(|_| random_id(&mut rng)).collect();
    let order_store = open_store(
        data_dir,
        &order_service::SERVICE,
        order_service::store::COLLECTIONS,
    )
    .await?;
    let payment_store = open_store(
        data_dir,
        &payment_service::SERVICE,
        payment_service::store::COLLECTIONS,
    )
    .await?;
    let shipping_store = open_store(
        data_dir,
        &shipping_service::SERVICE,
        shipping_service::store::COLLECTIONS,
    )
    .await?;
    let (mut orders, mut payments, mut shipments) = (
        Batch::new(&order_store),
        Batch::new(&payment_store),
        Batch::new(&shipping_store),
    );
    let mut probe = None;
    for i in 0..size.orders {
        let user_id = if i % 2 == 0 {
            customer.to_owned()
        } else {
            others.choose(&mut rng).expect("users").clone()
        };
        let created_at = random_time(&mut rng, year_ago, now);
        // The k-th step of the order's life, hours apart.
        let gap = time::Duration::minutes(rng.gen_range(1..600));
        let at = |k: usize| created_at + gap * k as u32;
        let fate = FATES.choose(&mut rng).expect("fates");

        let items: Vec<LineItem> = (0..rng.gen_range(1..=3))
            .map(|_| LineItem {
                quantity: rng.gen_range(1..=3),
                ..catalog.choose(&mut rng).expect("products").clone()
            })
            .collect();
        let mut total = Money::zero(items[0].unit_price.currency());
        for item in &items {
            total = total.checked_add(item.unit_price.times(item.quantity)?)?;
        }
        let (status, _) = *fate.order.last().expect("an order has a status");
        let order = Order {
            user_id: user_id.clone(),
            checkout_id: random_id(&mut rng),
            items,
            total,
            status,
            stock_reserved: status != OrderStatus::Pending,
            history: fate
                .order
                .iter()
                .enumerate()
                .map(|(k, &(status, cause))| HistoryEntry {
                    status,
                    at: at(k),
                    cause: cause.to_owned(),
                })
                .collect(),
            created_at,
        };
        let order_id = time_ordered_id(&mut rng, created_at);
        orders.push(ORDERS.insert(&order_id, &order)).await?;

        // Payment and shipping hear of the order by event, a moment after it.
        let heard_at = created_at + time::Duration::milliseconds(20);
        let mut payment = Payment::new(order_id.clone(), user_id.clone(), total, heard_at);
        for (k, &step) in fate.payment.iter().enumerate() {
            let note = (step == Step::Decline).then(|| "card declined".to_owned());
            payment = payment.after(step, note, at(k + 1))?;
            match step {
                Step::Capture => {
                    payment.card_last4 = Some("4242".into());
                    payment.provider_reference = Some(random_id(&mut rng));
                }
                Step::Decline => {
                    payment.card_last4 = Some("0002".into());
                    payment.failure_reason = Some("card declined".into());
                }
                Step::Refund => payment.refund_reference = Some(random_id(&mut rng)),
                Step::MarkPayable | Step::Void => {}
            }
        }
        let payment_id = time_ordered_id(&mut rng, heard_at);
        payments.push(PAYMENTS.insert(payment_id, &payment)).await?;

        let mut shipment = Shipment::new(&order_id, &user_id, ShipmentStatus::Pending, heard_at);
        for (k, &status) in fate.shipment.iter().enumerate() {
            shipment = shipment.entering(status, at(k + 2));
        }
        let shipment_id = time_ordered_id(&mut rng, heard_at);
        shipments
            .push(SHIPMENTS.insert(shipment_id, &shipment))
            .await?;

        if user_id == customer {
            probe.get_or_insert(order_id);
        }
        bar.inc(1);
    }
    orders.flush().await?;
    payments.flush().await?;
    shipments.flush().await?;
    bar.finish_and_clear();
    probe.context("the customer has no order")
}

/// A time between `from` and `to`, to the millisecond.
fn random_time(rng: &mut StdRng, from: OffsetDateTime, to: OffsetDateTime) -> OffsetDateTime {
    let span = (to - from).whole_milliseconds() as i64;
    from + time::Duration::milliseconds(rng.gen_range(0..span))
}

/// A UUID v7 of `at`, as the services give the documents they create then (so id
/// order is creation order, which the order and payment lists sort by).
fn time_ordered_id(rng: &mut StdRng, at: OffsetDateTime) -> String {
    let mut random = [0u8; 10];
    rng.fill(&mut random);
    let millis = (at.unix_timestamp_nanos() / 1_000_000) as u64;
    uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .to_string()
}

fn random_id(rng: &mut StdRng) -> String {
    let mut random = [0u8; 16];
    rng.fill(&mut random);
    uuid::Builder::from_random_bytes(random)
        .into_uuid()
        .to_string()
}

/// The size of every file under `dir`.
fn bytes_under(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            bytes_under(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// The markdown table of both sizes, side by side, with the large/small ratios.
fn report(args: &Args, figures: &[Figures]) -> String {
    let [small, large] = figures else {
        unreachable!("two sizes are measured")
    };
    let mut table = vec![
        "| | small | large | large / small |".to_owned(),
        "|---|---:|---:|---:|".to_owned(),
    ];
    let mut row = |label: &str, small: String, large: String, ratio: String| {
        table.push(format!("| {label} | {small} | {large} | {ratio} |"));
    };
    row(
        "products stored",
        thousands(small.products),
        thousands(large.products),
        String::new(),
    );
    row(
        "orders stored (each with a payment and a shipment; half the customer's)",
        thousands(small.orders),
        thousands(large.orders),
        String::new(),
    );
    row(
        "seeding, offline into the redb files",
        seconds(small.seeding),
        seconds(large.seeding),
        String::new(),
    );
    row(
        "data directory on disk after seeding",
        mib(small.on_disk),
        mib(large.on_disk),
        String::new(),
    );
    row(
        "`shop up` answers (spawn to the gateway's `/readyz` 200)",
        seconds(small.answers_in),
        seconds(large.answers_in),
        ratio(
            large.answers_in.as_secs_f64(),
            small.answers_in.as_secs_f64(),
        ),
    );
    row(
        "RSS idle, before browsing",
        mib(small.rss_idle),
        mib(large.rss_idle),
        String::new(),
    );
    for (i, list) in LISTS.iter().enumerate() {
        let (s, l) = (&small.lists[i], &large.lists[i]);
        row(
            &format!("{list}: throughput"),
            format!("{:.0} req/s", s.per_sec),
            format!("{:.0} req/s", l.per_sec),
            ratio(l.per_sec, s.per_sec),
        );
        row(
            &format!("{list}: p50"),
            millis(s.p50),
            millis(l.p50),
            ratio(l.p50.as_secs_f64(), s.p50.as_secs_f64()),
        );
        row(
            &format!("{list}: p99"),
            millis(s.p99),
            millis(l.p99),
            ratio(l.p99.as_secs_f64(), s.p99.as_secs_f64()),
        );
        row(
            &format!("{list}: not 200 (of requests)"),
            format!("{} of {}", s.failed, thousands(s.requests)),
            format!("{} of {}", l.failed, thousands(l.requests)),
            String::new(),
        );
        if i == 0 {
            row(
                "RSS peak while browsing products",
                mib(small.rss_peak),
                mib(large.rss_peak),
                String::new(),
            );
            row(
                &format!("RSS {} s after browsing products", SETTLE.as_secs()),
                mib(small.rss_after),
                mib(large.rss_after),
                String::new(),
            );
        }
    }
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "## Scale: `cargo bench -p shop --bench scale`\n\n\
         The release `shop up` on disk, measured over HTTP from outside, {connections} \
         connections in a closed loop for {duration} s per list, straight to each \
         service's port; bench and system share this machine's {cpus} CPUs. \
         Run on {date}.\n\n{table}\n",
        connections = args.connections,
        duration = args.duration,
        date = now_text(),
        table = table.join("\n"),
    )
}

fn now_text() -> String {
    let now = OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute()
    )
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn ratio(large: f64, small: f64) -> String {
    if small > 0.0 {
        format!("{:.2}×", large / small)
    } else {
        "n/a".to_owned()
    }
}
