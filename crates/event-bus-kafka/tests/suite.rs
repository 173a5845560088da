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

/// A service is ready only once its consumers have joined their groups (until then,
/// events published meanwhile wait for the group to settle), and not once one stopped.
#[tokio::test]
async fn a_consumer_is_waited_for_until_it_joins_its_group_and_once_it_stops() {
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use event_bus::{BusMetrics, RetryPolicy, Subscription, handler_fn};
    use tokio_util::sync::CancellationToken;

    let Some(bus) = broker().await else { return };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let group = format!("readiness-{nanos}");
    let topic = event_contracts::EVENT_TYPES[0].event_type.to_owned();
    let shutdown = CancellationToken::new();
    let consuming = bus
        .subscribe(
            Subscription {
                group: group.clone(),
                topics: vec![topic.clone()],
                handler: handler_fn(|_| async { Ok(()) }),
                retry: RetryPolicy::default(),
                metrics: BusMetrics::unregistered(),
            },
            shutdown.clone(),
        )
        .await
        .unwrap();
    // Joining a group takes round trips to the broker; nothing is assigned yet.
    assert_eq!(bus.consumers_waiting(), [format!("{group}/{topic}")]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !bus.consumers_waiting().is_empty() {
        assert!(
            Instant::now() < deadline,
            "no partitions after a minute: {:?}",
            bus.consumers_waiting()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A consumer whose task has ended consumes nothing: not ready again.
    shutdown.cancel();
    consuming.await.unwrap();
    assert_eq!(bus.consumers_waiting(), [format!("{group}/{topic}")]);
}

/// An event the broker will never take (here, larger than a message may be) is refused
/// for good and by name, and the events around it are published: the relay then sets
/// that one aside rather than retrying the whole batch for ever.
#[tokio::test]
async fn an_event_too_large_to_publish_is_refused_by_name_and_the_rest_go_out() {
    use event_bus::BusError;
    use event_contracts::{Envelope, Role, UserRegistered};

    let Some(bus) = broker().await else { return };
    let registered = |email: String| {
        Envelope::new(
            &UserRegistered {
                user_id: "u1".into(),
                email,
                role: Role::Customer,
            },
            "too-large",
        )
    };
    let before = registered("before@example.com".into());
    // librdkafka's default message.max.bytes is 1 MB.
    let huge = registered("x".repeat(2 << 20));
    let after = registered("after@example.com".into());
    let result = bus.publish(&[before, huge.clone(), after]).await;
    match result {
        Err(BusError::Rejected { event_ids, reason }) => {
            assert_eq!(event_ids, [huge.id], "{reason}");
        }
        other => panic!("expected the large event refused for good, got {other:?}"),
    }
}
