//! Bounded history: processed-event markers are pruned after their retention and a
//! redelivery inside it is still refused; the in-process log loses an entry only once
//! every group has passed it and its retention is over, and never a parked event; the
//! outbox is empty once relayed.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

mod common;

use common::{eventually, eventually_async};
use doc_store::{DocumentStore, EmbeddedStore, Query, Write};
use event_bus::{
    Applied, BoxError, BusMetrics, EventBus, EventHandler, HistoryPruner, InProcessBus, OUTBOX,
    Outbox, PROCESSED_EVENTS, PROCESSED_EVENTS_SPEC, Retention, RetryPolicy, Subscription,
    WatchedTopics, apply_once, handler_fn, prune_processed_events,
};
use event_contracts::{Envelope, Role, UserRegistered};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

const TOPIC: &str = "user.registered";
const HOUR: Duration = Duration::from_secs(3600);

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

/// An event that occurred two hours ago.
fn old(user: &str) -> Envelope {
    let mut event = registered(user);
    event.occurred_at -= time::Duration::hours(2);
    event
}

async fn markers_store() -> (Arc<dyn DocumentStore>, Outbox) {
    let store: Arc<dyn DocumentStore> = Arc::new(EmbeddedStore::in_memory());
    store
        .ensure_collections(&[PROCESSED_EVENTS_SPEC])
        .await
        .unwrap();
    let outbox = Outbox::new(store.clone());
    (store, outbox)
}

async fn apply(outbox: &Outbox, event: &Envelope) -> Applied {
    apply_once(outbox, event, vec![], vec![]).await.unwrap()
}

async fn has_marker(store: &dyn DocumentStore, event: &Envelope) -> bool {
    store
        .get(PROCESSED_EVENTS, &event.id)
        .await
        .unwrap()
        .is_some()
}

#[tokio::test]
async fn markers_applied_before_the_cutoff_are_pruned_and_later_ones_kept() {
    let (store, outbox) = markers_store().await;
    // More than one pruning batch of old markers.
    let earlier: Vec<Envelope> = (0..300).map(|i| registered(&format!("old{i}"))).collect();
    for event in &earlier {
        assert_eq!(apply(&outbox, event).await, Applied::Now);
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    let cutoff = OffsetDateTime::now_utc();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let later: Vec<Envelope> = (0..10).map(|i| registered(&format!("new{i}"))).collect();
    for event in &later {
        apply(&outbox, event).await;
    }

    let pruned = prune_processed_events(store.as_ref(), cutoff)
        .await
        .unwrap();

    assert_eq!(pruned, 300);
    assert_eq!(
        store.count(PROCESSED_EVENTS, &Query::all()).await.unwrap(),
        10
    );
    for event in &later {
        assert!(has_marker(store.as_ref(), event).await);
        assert_eq!(apply(&outbox, event).await, Applied::Already);
    }
    // Which is why the retention must outlast every redelivery: past it, an event
    // counts as new again.
    assert_eq!(apply(&outbox, &earlier[0]).await, Applied::Now);
    // Nothing is left to prune a second time.
    assert_eq!(
        prune_processed_events(store.as_ref(), cutoff)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn an_event_redelivered_inside_the_retention_is_still_refused() {
    let (store, outbox) = markers_store().await;
    let bus: Arc<dyn EventBus> = Arc::new(InProcessBus::in_memory());
    let pruner = HistoryPruner::new(
        store.clone(),
        bus,
        Retention {
            processed_events: HOUR,
            event_log: HOUR / 2,
            every: Duration::from_secs(60),
        },
        WatchedTopics::default(),
    );
    let event = registered("u1");
    assert_eq!(apply(&outbox, &event).await, Applied::Now);

    let pruned = pruner.prune().await.unwrap();

    assert_eq!(pruned.markers, 0);
    assert_eq!(apply(&outbox, &event).await, Applied::Already);
}

#[tokio::test]
async fn a_marker_written_without_a_time_is_given_one_and_kept_a_whole_retention() {
    let (store, outbox) = markers_store().await;
    let legacy = registered("legacy");
    store
        .commit(vec![Write::Insert {
            collection: PROCESSED_EVENTS.into(),
            id: legacy.id.clone(),
            body: serde_json::json!({ "type": legacy.event_type }),
        }])
        .await
        .unwrap();
    let stale = registered("stale");
    apply(&outbox, &stale).await;
    tokio::time::sleep(Duration::from_millis(5)).await;

    let pruned = prune_processed_events(store.as_ref(), OffsetDateTime::now_utc())
        .await
        .unwrap();

    assert_eq!(pruned, 1);
    assert!(!has_marker(store.as_ref(), &stale).await);
    let kept = store
        .get(PROCESSED_EVENTS, &legacy.id)
        .await
        .unwrap()
        .expect("the marker without a time is kept");
    assert!(kept.body["at"].is_string(), "{:?}", kept.body);
    assert_eq!(apply(&outbox, &legacy).await, Applied::Already);
}

#[tokio::test]
async fn the_pruner_runs_on_its_period_and_stops_on_shutdown() {
    let (store, outbox) = markers_store().await;
    let bus: Arc<dyn EventBus> = Arc::new(InProcessBus::in_memory());
    let event = registered("u1");
    apply(&outbox, &event).await;
    let stop = CancellationToken::new();
    let task = HistoryPruner::new(
        store.clone(),
        bus,
        Retention {
            processed_events: Duration::from_millis(300),
            event_log: Duration::from_millis(100),
            every: Duration::from_millis(50),
        },
        WatchedTopics::default(),
    )
    .spawn(stop.clone());

    // Kept through its retention, gone soon after.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(has_marker(store.as_ref(), &event).await);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while has_marker(store.as_ref(), &event).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "marker never pruned"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("the pruner stops on shutdown")
        .unwrap();
}

fn subscription(group: &str, handler: Arc<dyn EventHandler>, max_attempts: u32) -> Subscription {
    Subscription {
        group: group.into(),
        topics: vec![TOPIC.into()],
        handler,
        retry: RetryPolicy {
            max_attempts,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            early_wait: Duration::from_secs(5),
            outage_wait: Duration::from_secs(5),
        },
        metrics: BusMetrics::unregistered(),
    }
}

/// A handler that records the key of each event it is handed, then waits until the
/// test allows that many events through.
#[derive(Default, Clone)]
struct Gate {
    entered: Arc<Mutex<Vec<String>>>,
    allowed: Arc<AtomicUsize>,
}

impl Gate {
    fn open() -> Self {
        let gate = Self::default();
        gate.allow(usize::MAX);
        gate
    }

    fn allow(&self, n: usize) {
        self.allowed.store(n, Ordering::SeqCst);
    }

    fn entered(&self) -> usize {
        self.entered.lock().unwrap().len()
    }

    fn handler(&self) -> Arc<dyn EventHandler> {
        let gate = self.clone();
        handler_fn(move |event: Envelope| {
            let gate = gate.clone();
            async move {
                let nth = {
                    let mut entered = gate.entered.lock().unwrap();
                    entered.push(event.key.clone());
                    entered.len()
                };
                while gate.allowed.load(Ordering::SeqCst) < nth {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                Ok::<_, BoxError>(())
            }
        })
    }
}

fn keys(events: &[Envelope]) -> Vec<&str> {
    events.iter().map(|e| e.key.as_str()).collect()
}

#[tokio::test]
async fn compaction_removes_only_entries_every_group_has_passed_and_past_their_retention() {
    let bus = InProcessBus::in_memory();
    let stop = CancellationToken::new();
    let (a, b) = (Gate::open(), Gate::open());
    bus.subscribe(subscription("a", a.handler(), 3), stop.clone())
        .await
        .unwrap();
    bus.subscribe(subscription("b", b.handler(), 3), stop.clone())
        .await
        .unwrap();
    bus.publish(&[old("o1"), old("o2"), old("o3")])
        .await
        .unwrap();
    bus.publish(&[registered("n1"), old("o4"), registered("n2")])
        .await
        .unwrap();
    eventually("both groups to pass every entry", || {
        a.entered() == 6 && b.entered() == 6
    })
    .await;
    // Each group has entered its last event, so has committed every offset before it:
    // all the newest entry, which always stays, needs.

    let removed = bus.compact(HOUR).await.unwrap();

    // The old entry behind a young one waits for it: the log stays one run of offsets.
    assert_eq!(removed, 3);
    assert_eq!(
        keys(&bus.topic_log(TOPIC).await.unwrap()),
        ["n1", "o4", "n2"]
    );
    assert_eq!(bus.compact(HOUR).await.unwrap(), 0);
    // A retention of zero takes all but the newest entry, which the next offset is
    // counted from: events published afterwards still reach both groups.
    assert_eq!(bus.compact(Duration::ZERO).await.unwrap(), 2);
    assert_eq!(keys(&bus.topic_log(TOPIC).await.unwrap()), ["n2"]);
    bus.publish(&[registered("n3")]).await.unwrap();
    eventually("both groups to get the next event", || {
        a.entered() == 7 && b.entered() == 7
    })
    .await;
    stop.cancel();
}

#[tokio::test]
async fn a_group_that_lags_keeps_the_entries_it_has_not_passed() {
    let bus = InProcessBus::in_memory();
    let stop = CancellationToken::new();
    let (fast, slow) = (Gate::open(), Gate::default());
    bus.subscribe(subscription("fast", fast.handler(), 3), stop.clone())
        .await
        .unwrap();
    bus.subscribe(subscription("slow", slow.handler(), 3), stop.clone())
        .await
        .unwrap();
    let events: Vec<Envelope> = (1..=5).map(|i| old(&format!("o{i}"))).collect();
    bus.publish(&events).await.unwrap();
    eventually("the fast group to pass every entry", || fast.entered() == 5).await;
    eventually("the slow group to hold its first event", || {
        slow.entered() == 1
    })
    .await;

    // Subscribed but with no offset committed yet: it holds the whole log.
    assert_eq!(bus.compact(HOUR).await.unwrap(), 0);

    slow.allow(2);
    // Entering the third event means the second one's offset is committed.
    eventually("the slow group to reach its third event", || {
        slow.entered() == 3
    })
    .await;
    assert_eq!(bus.compact(HOUR).await.unwrap(), 2);
    assert_eq!(
        keys(&bus.topic_log(TOPIC).await.unwrap()),
        ["o3", "o4", "o5"]
    );

    slow.allow(usize::MAX);
    eventually("the slow group to catch up", || slow.entered() == 5).await;
    assert_eq!(bus.compact(HOUR).await.unwrap(), 2);
    assert_eq!(keys(&bus.topic_log(TOPIC).await.unwrap()), ["o5"]);
    stop.cancel();
}

#[tokio::test]
async fn compaction_leaves_parked_events_and_their_replay_alone() {
    let bus = InProcessBus::in_memory();
    let stop = CancellationToken::new();
    let failing = Arc::new(AtomicUsize::new(0));
    let seen = failing.clone();
    let handler = handler_fn(move |_event: Envelope| {
        let seen = seen.clone();
        async move {
            // The first three deliveries fail (one attempt each: parked); later ones pass.
            if seen.fetch_add(1, Ordering::SeqCst) < 3 {
                Err::<(), BoxError>("broken".into())
            } else {
                Ok(())
            }
        }
    });
    bus.subscribe(subscription("g", handler, 1), stop.clone())
        .await
        .unwrap();
    bus.publish(&[old("p1"), old("p2"), old("p3")])
        .await
        .unwrap();
    let parked_keys = |bus: InProcessBus| async move {
        bus.parked(TOPIC)
            .await
            .unwrap()
            .iter()
            .map(|p| p.event.key.clone())
            .collect::<Vec<_>>()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while parked_keys(bus.clone()).await.len() < 3 {
        assert!(tokio::time::Instant::now() < deadline, "never parked");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    assert_eq!(bus.compact(HOUR).await.unwrap(), 2);
    assert_eq!(keys(&bus.topic_log(TOPIC).await.unwrap()), ["p3"]);
    assert_eq!(parked_keys(bus.clone()).await, ["p1", "p2", "p3"]);

    // The replay puts them back after the entry that was kept, where the group reads on.
    assert_eq!(bus.replay_parked(TOPIC).await.unwrap(), 3);
    eventually("the replayed events to be handled", || {
        failing.load(Ordering::SeqCst) == 6
    })
    .await;
    assert!(parked_keys(bus.clone()).await.is_empty());
    assert_eq!(
        keys(&bus.topic_log(TOPIC).await.unwrap()),
        ["p3", "p1", "p2", "p3"]
    );
    stop.cancel();
}

#[tokio::test]
async fn the_outbox_is_empty_once_relayed() {
    let store: Arc<dyn DocumentStore> = Arc::new(EmbeddedStore::in_memory());
    let bus = Arc::new(InProcessBus::in_memory());
    let outbox = Outbox::new(store.clone());
    // More than one relay batch.
    for i in 0..600 {
        outbox
            .commit(vec![], vec![registered(&format!("u{i}"))])
            .await
            .unwrap();
    }
    let relay = outbox.relay(bus.clone(), BusMetrics::unregistered());
    let mut relayed = 0;
    loop {
        let n = relay.relay_batch().await.unwrap();
        if n == 0 {
            break;
        }
        relayed += n;
    }
    assert_eq!(relayed, 600);
    assert_eq!(store.count(OUTBOX, &Query::all()).await.unwrap(), 0);
    assert_eq!(bus.topic_log(TOPIC).await.unwrap().len(), 600);
}

/// A parked event may be replayed to every group at any time: until it is, the markers
/// of events as old as it stay, whatever their retention says.
#[tokio::test]
async fn markers_younger_than_an_event_parked_on_a_watched_topic_are_kept() {
    let (store, outbox) = markers_store().await;
    let bus = InProcessBus::in_memory();
    let stop = CancellationToken::new();
    let always_failing =
        handler_fn(|_event: Envelope| async { Err::<(), BoxError>("broken".into()) });
    bus.subscribe(subscription("g", always_failing, 1), stop.clone())
        .await
        .unwrap();
    bus.publish(&[old("parked")]).await.unwrap();
    eventually_async("the event to be parked", || {
        let bus = bus.clone();
        async move { !bus.parked(TOPIC).await.unwrap().is_empty() }
    })
    .await;
    let applied = registered("applied-now");
    assert_eq!(apply(&outbox, &applied).await, Applied::Now);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let retention = Retention {
        processed_events: Duration::from_millis(1),
        event_log: HOUR,
        every: Duration::from_secs(60),
    };
    let bus: Arc<dyn EventBus> = Arc::new(bus);

    let watched = WatchedTopics::default();
    watched.add(&[TOPIC]);
    let pruned = HistoryPruner::new(store.clone(), bus.clone(), retention, watched)
        .prune()
        .await
        .unwrap();
    assert_eq!(
        pruned.markers, 0,
        "held back by the event parked two hours ago"
    );
    assert!(has_marker(store.as_ref(), &applied).await);

    // A service that does not consume the topic is not held back by it.
    let pruned = HistoryPruner::new(store.clone(), bus, retention, WatchedTopics::default())
        .prune()
        .await
        .unwrap();
    assert_eq!(pruned.markers, 1);
    stop.cancel();
}
