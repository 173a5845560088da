//! `cargo bench -p event-bus --bench history`: the event history returns to a bounded
//! size once its retention has passed (issue 9, bounded history).
//!
//! On an on-disk in-process bus and embedded store (in a temporary directory) it
//! publishes `EVENTS` `cart.checkout` events, consumes them in one group that applies
//! each with `apply_once` (so each leaves a processed-event marker, as the order service
//! does), waits out a retention of a few seconds, and runs one pass of the
//! `HistoryPruner` every consuming service runs, with the `Retention` the settings give
//! it. It prints the log's entries, the markers and both redb files' sizes: before, after
//! the pass, and after redb's own compaction of the quiescent files (redb reuses the
//! freed pages but does not give them back to the file system until it is compacted).
//!
//! `HISTORY_EVENTS` overrides the number of events.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use doc_store::{DocumentStore, EmbeddedStore, Query};
use event_bus::{
    BoxError, BusMetrics, EventBus, HistoryPruner, InProcessBus, Outbox, PROCESSED_EVENTS,
    PROCESSED_EVENTS_SPEC, Retention, RetryPolicy, Subscription, WatchedTopics, apply_once,
    handler_fn,
};
use event_contracts::{CartCheckedOut, Envelope, LineItem, Money};
use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

const EVENTS: u64 = 100_000;
const TOPIC: &str = "cart.checkout";
/// Events per publish: what one relay batch hands the bus.
const PUBLISH_BATCH: u64 = 256;
/// Short, so the run waits seconds; markers outlive the log, as the settings demand.
const RETENTION: Retention = Retention {
    processed_events: Duration::from_secs(4),
    event_log: Duration::from_secs(2),
    every: Duration::from_secs(1),
};

fn checkout(n: u64) -> Envelope {
    let user = format!("user-{}", n % 1_000);
    let unit = Money::parse(1250, "EUR").expect("a valid price");
    Envelope::new(
        &CartCheckedOut {
            checkout_id: format!("checkout-{n}"),
            order_id: format!("order-{n}"),
            user_id: user,
            items: vec![
                LineItem {
                    product_id: format!("product-{}", n % 5_000),
                    name: "Blue mug".into(),
                    unit_price: unit,
                    quantity: 2,
                },
                LineItem {
                    product_id: format!("product-{}", (n + 1) % 5_000),
                    name: "Teapot".into(),
                    unit_price: Money::parse(3900, "EUR").expect("a valid price"),
                    quantity: 1,
                },
            ],
            total: Money::parse(6400, "EUR").expect("a valid total"),
        },
        format!("flow-{n}"),
    )
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>10} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta})",
        )
        .expect("a valid template"),
    );
    bar.set_message(what.to_owned());
    bar
}

/// What the table shows at one point.
struct Sizes {
    log_entries: usize,
    markers: u64,
    bus_bytes: u64,
    store_bytes: u64,
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

async fn measure(bus: &InProcessBus, store: &dyn DocumentStore, dir: &Path) -> Sizes {
    Sizes {
        log_entries: bus.topic_log(TOPIC).await.expect("the log reads").len(),
        markers: store
            .count(PROCESSED_EVENTS, &Query::all())
            .await
            .expect("the store counts"),
        bus_bytes: file_size(&dir.join("bus.redb")),
        store_bytes: file_size(&dir.join("store.redb")),
    }
}

/// Compacts a redb file no one has open, until redb finds nothing more to move.
fn redb_compact(path: &Path) {
    let mut db = redb::Database::open(path).expect("the quiescent file opens");
    while db.compact().expect("redb compacts a quiescent file") {}
}

fn mib(bytes: u64) -> String {
    let kib = bytes as f64 / 1024.0;
    if kib < 1024.0 {
        format!("{kib:.0} KiB")
    } else {
        format!("{:.1} MiB", kib / 1024.0)
    }
}

#[tokio::main]
async fn main() {
    let events: u64 = std::env::var("HISTORY_EVENTS")
        .ok()
        .map(|n| n.parse().expect("HISTORY_EVENTS is a number"))
        .unwrap_or(EVENTS);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (bus_path, store_path) = (dir.path().join("bus.redb"), dir.path().join("store.redb"));
    let bus = InProcessBus::open(&bus_path).expect("the bus file opens");
    let store: Arc<dyn DocumentStore> =
        Arc::new(EmbeddedStore::open(&store_path).expect("the store file opens"));
    store
        .ensure_collections(&[PROCESSED_EVENTS_SPEC])
        .await
        .expect("the markers are declared");

    let started = Instant::now();
    let publishing = bar(events, "publish");
    let mut n = 0;
    while n < events {
        let batch: Vec<Envelope> = (n..(n + PUBLISH_BATCH).min(events)).map(checkout).collect();
        bus.publish(&batch).await.expect("the bus takes events");
        n += batch.len() as u64;
        publishing.set_position(n);
    }
    publishing.finish();
    let publish_time = started.elapsed();

    let started = Instant::now();
    let handled = Arc::new(AtomicU64::new(0));
    let outbox = Outbox::new(store.clone());
    let handler = {
        let (handled, outbox) = (handled.clone(), outbox.clone());
        handler_fn(move |event: Envelope| {
            let (handled, outbox) = (handled.clone(), outbox.clone());
            async move {
                apply_once(&outbox, &event, vec![], vec![]).await?;
                handled.fetch_add(1, Ordering::Relaxed);
                Ok::<_, BoxError>(())
            }
        })
    };
    let stop = CancellationToken::new();
    let consumer = bus
        .subscribe(
            Subscription {
                group: "order".into(),
                topics: vec![TOPIC.into()],
                handler,
                retry: RetryPolicy::default(),
                metrics: BusMetrics::unregistered(),
            },
            stop.clone(),
        )
        .await
        .expect("the group subscribes");
    let consuming = bar(events, "consume");
    while handled.load(Ordering::Relaxed) < events {
        consuming.set_position(handled.load(Ordering::Relaxed));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    consuming.finish();
    let consume_time = started.elapsed();
    let last_applied = Instant::now();

    let before = measure(&bus, store.as_ref(), dir.path()).await;

    // Past both retentions for every marker and entry (the markers' is the longer).
    let wait = RETENTION.processed_events + Duration::from_millis(500);
    let waiting = bar(wait.as_secs(), "retention");
    while last_applied.elapsed() < wait {
        waiting.set_position(last_applied.elapsed().as_secs());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    waiting.finish();

    let started = Instant::now();
    let bus_port: Arc<dyn EventBus> = Arc::new(bus.clone());
    let pruned = HistoryPruner::new(
        store.clone(),
        bus_port.clone(),
        RETENTION,
        WatchedTopics::default(),
    )
    .prune()
    .await
    .expect("the history prunes");
    let prune_time = started.elapsed();
    let after = measure(&bus, store.as_ref(), dir.path()).await;

    // redb gives the freed pages back only when it compacts a file nobody has open.
    stop.cancel();
    consumer.await.expect("the consumer stops");
    drop((bus, bus_port, store, outbox));
    let started = Instant::now();
    redb_compact(&bus_path);
    redb_compact(&store_path);
    let redb_compact_time = started.elapsed();
    let (bus, store) = (
        InProcessBus::open(&bus_path).expect("the bus file opens again"),
        EmbeddedStore::open(&store_path).expect("the store file opens again"),
    );
    let compacted = measure(&bus, &store, dir.path()).await;

    println!();
    println!(
        "{events} `cart.checkout` events, one consumer group, retention {} s (markers) and {} s (log)",
        RETENTION.processed_events.as_secs(),
        RETENTION.event_log.as_secs()
    );
    println!();
    println!("| | before | after pruning | after redb compaction |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| log entries (`{TOPIC}`) | {} | {} | {} |",
        before.log_entries, after.log_entries, compacted.log_entries
    );
    println!(
        "| `processed_events` markers | {} | {} | {} |",
        before.markers, after.markers, compacted.markers
    );
    println!(
        "| bus.redb | {} | {} | {} |",
        mib(before.bus_bytes),
        mib(after.bus_bytes),
        mib(compacted.bus_bytes)
    );
    println!(
        "| store.redb | {} | {} | {} |",
        mib(before.store_bytes),
        mib(after.store_bytes),
        mib(compacted.store_bytes)
    );
    println!();
    println!(
        "publish {:.1} s, consume {:.1} s, one pruning pass {:.2} s ({} markers, {} log entries), redb compaction {:.2} s",
        publish_time.as_secs_f64(),
        consume_time.as_secs_f64(),
        prune_time.as_secs_f64(),
        pruned.markers,
        pruned.log_entries,
        redb_compact_time.as_secs_f64()
    );
}
