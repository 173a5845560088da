//! The Kafka transport against the shared delivery-promise suite, on the broker named
//! by `SHOP_TEST_KAFKA_BROKERS` (`cargo xtask test` starts one). Without it every check
//! says it was skipped and why.

use std::sync::Arc;

use event_bus::EventBus;
use event_bus_kafka::{KafkaBus, KafkaConfig};

async fn broker() -> Option<Arc<dyn EventBus>> {
    let Ok(brokers) = std::env::var("SHOP_TEST_KAFKA_BROKERS") else {
        eprintln!("SKIPPED: SHOP_TEST_KAFKA_BROKERS is not set (cargo xtask test starts a broker)");
        return None;
    };
    let bus = KafkaBus::connect(KafkaConfig {
        brokers,
        partitions: 3,
        replication: 1,
        client_id: "event-bus-kafka-tests".into(),
        fetch_wait_max_ms: 100,
        // Static membership, as the services use it; each check has groups of its own.
        instance_id: Some("conformance".into()),
    })
    .await
    .expect("the test broker accepts connections and topic creation");
    Some(Arc::new(bus))
}

event_bus::bus_conformance_suite!(broker);
