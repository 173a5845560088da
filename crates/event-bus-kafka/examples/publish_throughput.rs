//! How fast the outbox relay can publish to Kafka, measured both ways in one run, so
//! the figure is a ratio to a baseline on the same machine and broker:
//!
//! - one event per `publish`, each acked before the next: what the relay did before
//!   it handed a whole batch to librdkafka at once;
//! - the relay's batches (256 events per `publish`).
//!
//! `SHOP_TEST_KAFKA_BROKERS=127.0.0.1:9092 cargo run --release -p event-bus-kafka \
//!  --example publish_throughput -- 2000`

use std::time::{Duration, Instant};

use event_bus::EventBus;
use event_bus_kafka::{KafkaBus, KafkaConfig};
use event_contracts::{Envelope, Role, UserRegistered};

const RELAY_BATCH: usize = 256;

fn events(n: usize, run: &str) -> Vec<Envelope> {
    (0..n)
        .map(|i| {
            Envelope::new(
                &UserRegistered {
                    user_id: format!("{run}-{i}"),
                    email: format!("{run}-{i}@example.com"),
                    role: Role::Customer,
                },
                run,
            )
        })
        .collect()
}

fn rate(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let brokers = std::env::var("SHOP_TEST_KAFKA_BROKERS")
        .map_err(|_| anyhow::anyhow!("set SHOP_TEST_KAFKA_BROKERS to a broker's address"))?;
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(2000);
    let bus = KafkaBus::connect(KafkaConfig {
        brokers,
        partitions: 3,
        replication: 1,
        client_id: "publish-throughput".into(),
        fetch_wait_max_ms: 100,
        instance_id: None,
    })
    .await?;
    // Warm the connections and metadata.
    bus.publish(&events(10, "warm-up")).await?;

    let one_by_one = events(n, "one-by-one");
    let started = Instant::now();
    for event in &one_by_one {
        bus.publish(std::slice::from_ref(event)).await?;
    }
    let sequential = started.elapsed();

    let batched = events(n, "batched");
    let started = Instant::now();
    for batch in batched.chunks(RELAY_BATCH) {
        bus.publish(batch).await?;
    }
    let in_batches = started.elapsed();

    println!(
        "{n} events: one acked at a time {:.0}/s ({:.2} s); in relay batches of {RELAY_BATCH} {:.0}/s ({:.2} s); ratio {:.1}x",
        rate(n, sequential),
        sequential.as_secs_f64(),
        rate(n, in_batches),
        in_batches.as_secs_f64(),
        sequential.as_secs_f64() / in_batches.as_secs_f64()
    );
    Ok(())
}
