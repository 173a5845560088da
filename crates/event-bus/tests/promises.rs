//! The delivery promises of ARCHITECTURE.md on the in-process transport: the shared
//! transport suite, plus what the outbox and idempotency helpers add, and a restart
//! against the same log file.

mod suite {
    use std::sync::Arc;

    use event_bus::{EventBus, InProcessBus};

    async fn in_memory() -> Option<Arc<dyn EventBus>> {
        Some(Arc::new(InProcessBus::in_memory()))
    }
    event_bus::bus_conformance_suite!(in_memory);
}

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

mod common;

use common::eventually;
use doc_store::{Collection, DocumentStore, EmbeddedStore, Write};
use event_bus::{
    Applied, BoxError, BusMetrics, EventBus, InProcessBus, Outbox, RetryPolicy, Subscription,
    apply_once, handler_fn,
};
use event_contracts::{Envelope, Role, UserRegistered};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

const TOPIC: &str = "user.registered";

fn registered(user: &str) -> Envelope {
    Envelope::new(
        &UserRegistered {
            user_id: user.into(),
            email: format!("{user}@example.com"),
            role: Role::Customer,
        },
        "test",
    )
}

fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        early_wait: Duration::from_secs(5),
        outage_wait: Duration::from_secs(5),
    }
}

type Seen = Arc<Mutex<Vec<String>>>;

fn recorder(seen: Seen) -> Arc<dyn event_bus::EventHandler> {
    handler_fn(move |event: Envelope| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(event.key.clone());
            Ok::<_, BoxError>(())
        }
    })
}

fn subscription(
    group: &str,
    handler: Arc<dyn event_bus::EventHandler>,
    retry: RetryPolicy,
) -> Subscription {
    Subscription {
        group: group.into(),
        topics: vec![TOPIC.into()],
        handler,
        retry,
        metrics: BusMetrics::unregistered(),
    }
}

#[tokio::test]
async fn a_group_resumes_after_a_restart_from_its_last_committed_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bus.redb");
    {
        let bus = InProcessBus::open(&path).unwrap();
        let stop = CancellationToken::new();
        let seen: Seen = Default::default();
        let task = bus
            .subscribe(
                subscription("g", recorder(seen.clone()), fast_retry(3)),
                stop.clone(),
            )
            .await
            .unwrap();
        bus.publish(&[registered("a"), registered("b")])
            .await
            .unwrap();
        eventually("two events", || seen.lock().unwrap().len() == 2).await;
        stop.cancel();
        task.await.unwrap();
        // Published while the consumer is down.
        bus.publish(&[registered("c")]).await.unwrap();
    }
    let bus = InProcessBus::open(&path).unwrap();
    let stop = CancellationToken::new();
    let seen: Seen = Default::default();
    bus.subscribe(
        subscription("g", recorder(seen.clone()), fast_retry(3)),
        stop.clone(),
    )
    .await
    .unwrap();
    eventually("the event published while down", || {
        !seen.lock().unwrap().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(*seen.lock().unwrap(), ["c"]);
    stop.cancel();
}

#[derive(Debug, Serialize, Deserialize)]
struct Tally {
    count: u64,
}
const TALLIES: Collection<Tally> = Collection::new("tallies");

#[tokio::test]
async fn a_duplicated_event_changes_nothing_twice() {
    let store: Arc<dyn DocumentStore> = Arc::new(EmbeddedStore::in_memory());
    let outbox = Outbox::new(store.clone());
    store
        .commit(vec![TALLIES.insert("t", &Tally { count: 0 })])
        .await
        .unwrap();
    let event = registered("u1");

    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let current = TALLIES.get(store.as_ref(), "t").await.unwrap().unwrap();
        let next = Tally {
            count: current.value.count + 1,
        };
        outcomes.push(
            apply_once(
                &outbox,
                &event,
                vec![TALLIES.update(&current, &next)],
                vec![],
            )
            .await
            .unwrap(),
        );
    }
    assert_eq!(outcomes, [Applied::Now, Applied::Already, Applied::Already]);
    let tally = TALLIES.get(store.as_ref(), "t").await.unwrap().unwrap();
    assert_eq!(tally.value.count, 1);
}

#[tokio::test]
async fn events_stored_before_a_crash_are_published_by_the_next_relay() {
    let store: Arc<dyn DocumentStore> = Arc::new(EmbeddedStore::in_memory());
    let bus = Arc::new(InProcessBus::in_memory());
    let outbox = Outbox::new(store.clone());
    // The state change and its event are stored; no relay runs (the process "crashed").
    outbox
        .commit(
            vec![Write::Insert {
                collection: "users".into(),
                id: "u1".into(),
                body: serde_json::json!({"email": "u1@example.com"}),
            }],
            vec![registered("u1")],
        )
        .await
        .unwrap();

    let stop = CancellationToken::new();
    let seen: Seen = Default::default();
    bus.subscribe(
        subscription("g", recorder(seen.clone()), fast_retry(3)),
        stop.clone(),
    )
    .await
    .unwrap();
    let metrics = BusMetrics::unregistered();
    outbox.relay(bus.clone(), metrics).spawn(stop.clone());
    eventually("the stored event to be delivered", || {
        seen.lock().unwrap().len() == 1
    })
    .await;
    // Published events leave the outbox.
    let left = store
        .find(event_bus::OUTBOX, &doc_store::Query::all())
        .await
        .unwrap();
    assert_eq!(left.items.len(), 0);
    stop.cancel();
}

#[tokio::test]
async fn a_change_that_fails_to_commit_publishes_no_event() {
    let store: Arc<dyn DocumentStore> = Arc::new(EmbeddedStore::in_memory());
    let outbox = Outbox::new(store.clone());
    let insert = || Write::Insert {
        collection: "users".into(),
        id: "u1".into(),
        body: serde_json::json!({}),
    };
    outbox
        .commit(vec![insert()], vec![registered("u1")])
        .await
        .unwrap();
    outbox
        .commit(vec![insert()], vec![registered("u1-again")])
        .await
        .unwrap_err();
    let pending = store
        .find(event_bus::OUTBOX, &doc_store::Query::all())
        .await
        .unwrap();
    assert_eq!(
        pending.items.len(),
        1,
        "only the committed change's event is pending"
    );
}

#[tokio::test]
async fn an_event_that_breaks_its_contract_is_refused_with_its_state_change() {
    let store: Arc<dyn DocumentStore> = Arc::new(EmbeddedStore::in_memory());
    let outbox = Outbox::new(store.clone());
    let mut off_contract = registered("u1");
    off_contract.data["role"] = serde_json::json!("superuser");
    let mut unknown_type = registered("u2");
    unknown_type.event_type = "user.teleported".into();
    for event in [off_contract, unknown_type] {
        let err = outbox
            .commit(
                vec![Write::Insert {
                    collection: "users".into(),
                    id: event.key.clone(),
                    body: serde_json::json!({}),
                }],
                vec![event],
            )
            .await
            .unwrap_err();
        assert!(matches!(err, doc_store::StoreError::Rejected(_)), "{err:?}");
    }
    assert_eq!(
        store
            .count("users", &doc_store::Query::all())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .count(event_bus::OUTBOX, &doc_store::Query::all())
            .await
            .unwrap(),
        0
    );
}

/// A bus that refuses, for good, any event whose user is `poison`: as a broker refuses
/// a message that is too large. Everything else goes to the in-process bus.
struct Refusing(InProcessBus);

#[async_trait::async_trait]
impl EventBus for Refusing {
    async fn publish(&self, events: &[Envelope]) -> Result<(), event_bus::BusError> {
        let (bad, good): (Vec<_>, Vec<_>) = events
            .iter()
            .cloned()
            .partition(|e| e.data["user_id"] == "poison");
        self.0.publish(&good).await?;
        if bad.is_empty() {
            return Ok(());
        }
        Err(event_bus::BusError::Rejected {
            event_ids: bad.iter().map(|e| e.id.clone()).collect(),
            reason: "message too large".into(),
        })
    }

    async fn subscribe(
        &self,
        subscription: Subscription,
        shutdown: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>, event_bus::BusError> {
        self.0.subscribe(subscription, shutdown).await
    }

    async fn parked(
        &self,
        topic: &str,
    ) -> Result<Vec<event_bus::ParkedEvent>, event_bus::BusError> {
        self.0.parked(topic).await
    }

    async fn replay_parked(&self, topic: &str) -> Result<usize, event_bus::BusError> {
        self.0.replay_parked(topic).await
    }
}

/// One outbox entry that can never be published (unreadable, or refused by the broker
/// for good) must not hold up every event behind it: it is parked, with why, and the
/// rest go out.
#[tokio::test]
async fn an_outbox_entry_that_can_never_be_published_is_parked_and_the_rest_go_out() {
    let store: Arc<dyn DocumentStore> = Arc::new(EmbeddedStore::in_memory());
    store
        .ensure_collections(&[event_bus::OUTBOX_SPEC, event_bus::OUTBOX_PARKED_SPEC])
        .await
        .unwrap();
    let outbox = Outbox::new(store.clone());
    outbox.commit(vec![], vec![registered("u1")]).await.unwrap();
    // What a bug or a hand edit might leave: not an event at all.
    store
        .commit(vec![Write::Insert {
            collection: event_bus::OUTBOX.into(),
            id: "0000-garbage".into(),
            body: serde_json::json!({"not": "an event"}),
        }])
        .await
        .unwrap();
    outbox
        .commit(vec![], vec![registered("poison")])
        .await
        .unwrap();
    outbox.commit(vec![], vec![registered("u2")]).await.unwrap();

    let bus = InProcessBus::in_memory();
    let refusing = Arc::new(Refusing(bus.clone()));
    let metrics = BusMetrics::unregistered();
    let relay = outbox.relay(refusing, metrics.clone());
    assert_eq!(relay.relay_batch().await.unwrap(), 4);

    let published: Vec<String> = bus
        .topic_log(TOPIC)
        .await
        .unwrap()
        .iter()
        .map(|e| e.data["user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(published, ["u1", "u2"]);
    assert_eq!(
        store
            .count(event_bus::OUTBOX, &doc_store::Query::all())
            .await
            .unwrap(),
        0
    );
    let parked = store
        .find(event_bus::OUTBOX_PARKED, &doc_store::Query::all())
        .await
        .unwrap()
        .items;
    let reasons: Vec<String> = parked
        .iter()
        .map(|d| d.body["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(parked.len(), 2, "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("unreadable")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("message too large")),
        "{reasons:?}"
    );
    assert_eq!(metrics.outbox_parked_count(), 2);
}
