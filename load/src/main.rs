//! `shop-load`: load on the checkout path, with a report. `checkout-latency` measures
//! how long a checkout takes to become a pending order (the time from `POST
//! /cart/checkout` answering 202 to `GET /orders/{id}` answering 200), which is the
//! event path cart -> bus -> order. It runs against the embedded system it starts (the
//! `shop` binary beside this one, as `shop up --in-memory --free-ports`), or any system
//! at a URL. It links no service: it knows the system only by its gateway's URL.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use e2e::{Client, Target};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "shop-load",
    about = "Load and latency reports for the checkout path"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Checkout-to-pending-order latency over many checkouts, as p50/p90/p99/max.
    CheckoutLatency {
        /// Checkouts to measure.
        #[arg(long, default_value_t = 500)]
        count: usize,
        /// Customers checking out at the same time.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// A running system's base URL (its gateway); default: start the embedded
        /// system, in memory, as a child process of the `shop` binary (SHOP_BIN, else
        /// the one beside this program).
        #[arg(long, env = "E2E_BASE_URL")]
        target: Option<String>,
        /// How often a waiting client looks for the order; the figures are this coarse.
        #[arg(long, default_value_t = 1)]
        poll_ms: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::CheckoutLatency {
            count,
            concurrency,
            target,
            poll_ms,
        } => {
            let (target, system) = match target {
                Some(url) => (Target::remote(&url), None),
                None => {
                    let system = EmbeddedSystem::start().await?;
                    (Target::remote(&system.gateway), Some(system))
                }
            };
            let report = checkout_latency(&target, count, concurrency.max(1), poll_ms).await;
            drop(system);
            println!("{}", report?);
            Ok(())
        }
    }
}

/// The embedded system in a child process, in memory, on free ports; killed when
/// dropped (nothing it holds outlives it).
struct EmbeddedSystem {
    gateway: String,
    _child: tokio::process::Child,
}

impl EmbeddedSystem {
    async fn start() -> anyhow::Result<Self> {
        use tokio::io::AsyncBufReadExt;
        let shop = match std::env::var_os("SHOP_BIN") {
            Some(path) => path.into(),
            None => std::env::current_exe()?.with_file_name("shop"),
        };
        let mut child = tokio::process::Command::new(&shop)
            .args(["up", "--in-memory", "--free-ports"])
            .env("SHOP_BOOTSTRAP_ADMIN_EMAIL", e2e::ADMIN_EMAIL)
            .env("SHOP_BOOTSTRAP_ADMIN_PASSWORD", e2e::ADMIN_PASSWORD)
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| {
                format!(
                    "starting {} (build it with `cargo build --release -p shop`, or set SHOP_BIN)",
                    shop.display()
                )
            })?;
        // `shop up` prints its banner once every service listens; the gateway's line
        // says where it landed: `  gateway       http://127.0.0.1:PORT/api/v1`.
        let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("piped")).lines();
        let banner = async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = line.trim().strip_prefix("gateway") {
                    let url = url.trim().trim_end_matches("/api/v1").to_owned();
                    return anyhow::Ok(url);
                }
            }
            anyhow::bail!("shop up exited before it was ready")
        };
        let gateway = tokio::time::timeout(Duration::from_secs(60), banner)
            .await
            .context("shop up was not ready within a minute")??;
        Ok(Self {
            gateway,
            _child: child,
        })
    }
}

async fn one_checkout(client: &Client, product: &str, poll: Duration) -> anyhow::Result<Duration> {
    client.add_to_cart(product, 1).await?;
    let reply = client.post("/cart/checkout", serde_json::json!({})).await?;
    anyhow::ensure!(reply.status.as_u16() == 202, "checkout: {reply:?}");
    let started = Instant::now();
    let order_id = reply.body["order_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let path = format!("/orders/{order_id}");
    loop {
        let order = client.get(&path).await?;
        if order.status.is_success() {
            let latency = started.elapsed();
            anyhow::ensure!(
                order.body["status"] == "pending",
                "order {order_id} was not placed: {order:?}"
            );
            // Unpaid orders count against the customer's cap (SHOP_ORDER_MAX_PENDING),
            // and hold stock: a shopper who will not pay cancels.
            let cancelled = client
                .post(&format!("{path}/cancel"), serde_json::json!({}))
                .await?;
            anyhow::ensure!(
                cancelled.status.is_success(),
                "cancel {order_id}: {cancelled:?}"
            );
            return Ok(latency);
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "order {order_id} never appeared"
        );
        tokio::time::sleep(poll).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn checkout_latency(
    target: &Target,
    count: usize,
    concurrency: usize,
    poll_ms: u64,
) -> anyhow::Result<String> {
    let admin = target.admin().await.context("logging in as the admin")?;
    let product = admin
        .create_product("Load-test mug", 100, 1_000_000)
        .await
        .context("creating the product")?;
    let mut customers = Vec::new();
    for _ in 0..concurrency {
        customers.push(target.new_customer().await?.client);
    }
    let bar = ProgressBar::new(count as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} checkouts, {per_sec}, eta {eta}")
            .expect("a valid template"),
    );
    let started = Instant::now();
    let per_customer = count.div_ceil(concurrency);
    let poll = Duration::from_millis(poll_ms);
    let runs = customers.iter().enumerate().map(|(i, client)| {
        let (product, bar) = (product.clone(), bar.clone());
        let mine = per_customer.min(count.saturating_sub(i * per_customer));
        async move {
            let mut latencies = Vec::with_capacity(mine);
            for _ in 0..mine {
                latencies.push(one_checkout(client, &product, poll).await?);
                bar.inc(1);
            }
            anyhow::Ok(latencies)
        }
    });
    let mut latencies: Vec<Duration> = futures::future::try_join_all(runs)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    latencies.sort();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    Ok(format!(
        "checkout -> pending order over {} checkouts ({} concurrent customers, polled every {} ms)\n  \
         p50 {}  p90 {}  p99 {}  max {}\n  {:.0} checkouts/s overall (cart add + checkout + wait)",
        latencies.len(),
        concurrency,
        poll_ms,
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 90.0)),
        ms(percentile(&latencies, 99.0)),
        ms(*latencies.last().expect("at least one checkout")),
        latencies.len() as f64 / elapsed.as_secs_f64(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&sorted, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&sorted, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&sorted[..1], 99.0), Duration::from_millis(1));
    }
}
