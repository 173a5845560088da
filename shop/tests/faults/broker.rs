//! A tansu broker owned by one test, and what a test needs to see inside a Kafka
//! broker: every record of every topic, and how far each consumer group has come.
//! Each test starts its own broker because the services' consumer groups are named
//! after the services: two systems on one broker would share (and split) them.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    time::{Duration, Instant},
};

use local_processes::Tansu;
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
    message::{Header, Headers, OwnedHeaders},
    producer::{FutureProducer, FutureRecord},
};

const TIMEOUT: Duration = Duration::from_secs(10);

pub struct Broker {
    tansu: Tansu,
}

impl Broker {
    /// A tansu broker from `SHOP_TEST_TANSU` on a free port, storing in `storage`
    /// (`memory://…` or `postgres://…`); `None` (and the reason on stderr) without it.
    pub fn start(storage: &str) -> Option<Self> {
        let Some(binary) = std::env::var_os("SHOP_TEST_TANSU") else {
            eprintln!(
                "SKIPPED: SHOP_TEST_TANSU (the tansu broker binary) is not set; \
                 cargo xtask test installs tansu and sets it"
            );
            return None;
        };
        // tansu logs to stdout; SHOP_TEST_TANSU_LOG_DIR keeps it, for a failure's story.
        let log_dir = std::env::var_os("SHOP_TEST_TANSU_LOG_DIR").map(PathBuf::from);
        let tansu = Tansu::start(binary, storage, log_dir).expect("tansu starts");
        Some(Self { tansu })
    }

    /// `host:port` for `bootstrap.servers`.
    pub fn address(&self) -> String {
        self.tansu.address()
    }

    /// SIGKILL: the broker dies as in a crash, with connections open.
    pub fn kill(&mut self) {
        self.tansu.kill();
    }

    /// Starts the broker again on the same port and storage, and waits until it listens.
    pub fn restart(&mut self) {
        self.tansu.restart().expect("tansu starts again");
    }

    fn client(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", self.address())
            // As the services' consumers (see event-bus-kafka): tansu 0.6.0 on
            // PostgreSQL 15 cannot answer read_committed offset queries.
            .set("isolation.level", "read_uncommitted");
        config
    }

    /// How many records each dead-letter topic holds.
    pub fn parked(&self) -> BTreeMap<String, i64> {
        let consumer: BaseConsumer = self.client().create().expect("a consumer");
        let mut parked = BTreeMap::new();
        for ((topic, _), (low, high)) in watermarks(&consumer, |t| t.ends_with(".dlq")) {
            *parked.entry(topic).or_default() += high - low;
        }
        parked
    }

    /// Reads every record ever written to an application topic and writes each once
    /// more, byte for byte (key, value and headers), to the same topic: every consumer
    /// group receives every event a second time, as after a producer's retry or an
    /// outbox relay that crashed between sending and marking sent. Returns the number
    /// of records copied per topic.
    pub async fn publish_everything_again(&self) -> BTreeMap<String, usize> {
        let config = self.client();
        let records = tokio::task::spawn_blocking(move || {
            let consumer: BaseConsumer = config
                .clone()
                .set("group.id", "fault-test-copier")
                .set("enable.auto.commit", "false")
                .create()
                .expect("a consumer");
            let mut ends = BTreeMap::new();
            let mut assignment = TopicPartitionList::new();
            for ((topic, partition), (low, high)) in watermarks(&consumer, |t| !t.ends_with(".dlq"))
            {
                if high > low {
                    assignment
                        .add_partition_offset(&topic, partition, Offset::Offset(low))
                        .unwrap();
                    ends.insert((topic, partition), high);
                }
            }
            consumer.assign(&assignment).expect("assign");
            let mut records = Vec::new();
            while !ends.is_empty() {
                let message = consumer
                    .poll(TIMEOUT)
                    .expect("the topics' records arrive")
                    .expect("a record");
                let at = (message.topic().to_owned(), message.partition());
                if ends
                    .get(&at)
                    .is_some_and(|end| message.offset() + 1 >= *end)
                {
                    ends.remove(&at);
                }
                let headers = message.headers().map(|h| {
                    h.iter()
                        .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                        .collect::<Vec<_>>()
                });
                records.push((
                    at.0,
                    message.key().map(<[u8]>::to_vec),
                    message.payload().map(<[u8]>::to_vec),
                    headers.unwrap_or_default(),
                ));
            }
            records
        })
        .await
        .unwrap();

        let producer: FutureProducer = self
            .client()
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .create()
            .expect("a producer");
        let mut copied = BTreeMap::new();
        for (topic, key, payload, headers) in &records {
            let mut owned = OwnedHeaders::new();
            for (key, value) in headers {
                owned = owned.insert(Header {
                    key,
                    value: value.as_deref(),
                });
            }
            let mut record = FutureRecord::<[u8], [u8]>::to(topic).headers(owned);
            if let Some(key) = key {
                record = record.key(key.as_slice());
            }
            if let Some(payload) = payload {
                record = record.payload(payload.as_slice());
            }
            producer
                .send(record, TIMEOUT)
                .await
                .unwrap_or_else(|(e, _)| panic!("copy to {topic}: {e}"));
            *copied.entry(topic.clone()).or_default() += 1;
        }
        copied
    }

    /// Waits until every consumer group of the `services` has committed every record of
    /// every partition it consumes (has committed on), twice in a row a second apart,
    /// so that effects that publish further events have had their turn too.
    pub async fn wait_until_consumed(&self, services: &[&str]) {
        let config = self.client();
        let services: Vec<String> = services.iter().map(|s| (*s).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut settled = 0;
            while settled < 2 {
                let behind = lag(&config, &services);
                if behind.is_empty() {
                    settled += 1;
                } else {
                    settled = 0;
                    assert!(
                        Instant::now() < deadline,
                        "consumer groups still behind after a minute: {behind:?}"
                    );
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
        .await
        .unwrap();
    }
}

/// The partitions where a service's consumer group (`<service>.<topic>`, see
/// `event_bus_kafka::group_id`) has committed less than the high watermark.
fn lag(config: &ClientConfig, services: &[String]) -> Vec<(String, i32, i64)> {
    let probe: BaseConsumer = config.create().expect("a consumer");
    let ends = watermarks(&probe, |_| true);
    let groups = probe
        .fetch_group_list(None, TIMEOUT)
        .expect("the group list");
    let mut behind = Vec::new();
    let mut committed_partitions = 0;
    for group in groups.groups() {
        let Some((service, topic)) = group.name().split_once('.') else {
            continue;
        };
        if !services.iter().any(|s| s == service) {
            continue;
        }
        let mut partitions = TopicPartitionList::new();
        for (t, partition) in ends.keys() {
            if t == topic {
                partitions.add_partition(t, *partition);
            }
        }
        // Reading a group's committed offsets does not join the group.
        let reader: BaseConsumer = config
            .clone()
            .set("group.id", group.name())
            .create()
            .expect("a consumer");
        let committed = reader
            .committed_offsets(partitions, TIMEOUT)
            .expect("committed offsets");
        for element in committed.elements() {
            let Offset::Offset(at) = element.offset() else {
                continue;
            };
            committed_partitions += 1;
            let (_, end) = ends[&(element.topic().to_owned(), element.partition())];
            if at < end {
                behind.push((group.name().to_owned(), element.partition(), end - at));
            }
        }
    }
    // Nothing to wait for would make every wait pass: the services have consumed.
    assert!(
        committed_partitions > 0,
        "the broker listed no committed offsets of the services' consumer groups"
    );
    behind
}

/// Low and high watermarks of every partition of the topics `include` accepts
/// (the broker's internal topics apart).
fn watermarks(
    consumer: &BaseConsumer,
    include: impl Fn(&str) -> bool,
) -> BTreeMap<(String, i32), (i64, i64)> {
    let metadata = consumer.fetch_metadata(None, TIMEOUT).expect("metadata");
    let mut marks = BTreeMap::new();
    for topic in metadata.topics() {
        if topic.name().starts_with("__") || !include(topic.name()) {
            continue;
        }
        for partition in topic.partitions() {
            let mark = consumer
                .fetch_watermarks(topic.name(), partition.id(), TIMEOUT)
                .expect("watermarks");
            marks.insert((topic.name().to_owned(), partition.id()), mark);
        }
    }
    marks
}
