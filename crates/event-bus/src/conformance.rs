//! The delivery promises every [`EventBus`] transport must keep, as checks a transport's
//! test crate runs through [`bus_conformance_suite!`](crate::bus_conformance_suite).
//! A transport may be shared between checks and runs (a real broker keeps its topics),
//! so each check uses fresh groups and keys of its own and ignores everything else.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use event_contracts::{Envelope, Role, UserRegistered};
use tokio_util::sync::CancellationToken;

use crate::{
    BoxError, BusMetrics, EventBus, EventHandler, RetryPolicy, Subscription, handler_fn, too_early,
};

const TOPIC: &str = "user.registered";
/// Generous: a broker's group join and rebalance take seconds.
const PATIENCE: Duration = Duration::from_secs(45);

fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// An event keyed `key`, carrying `seq` in its email so order can be checked.
fn event(key: &str, seq: usize) -> Envelope {
    Envelope::new(
        &UserRegistered {
            user_id: key.into(),
            email: format!("n{seq}@example.com"),
            role: Role::Customer,
        },
        "conformance",
    )
}

fn seq_of(event: &Envelope) -> usize {
    event.data["email"].as_str().unwrap()[1..]
        .split('@')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

type Seen = Arc<Mutex<Vec<Envelope>>>;

/// Records the events whose key starts with `run`.
fn recorder(run: &str, seen: Seen) -> Arc<dyn EventHandler> {
    let run = run.to_owned();
    handler_fn(move |event: Envelope| {
        let (seen, run) = (seen.clone(), run.clone());
        async move {
            if event.key.starts_with(&run) {
                seen.lock().unwrap().push(event);
            }
            Ok::<_, BoxError>(())
        }
    })
}

fn subscription(group: &str, handler: Arc<dyn EventHandler>, max_attempts: u32) -> Subscription {
    Subscription {
        group: group.into(),
        topics: vec![TOPIC.into()],
        handler,
        retry: RetryPolicy {
            max_attempts,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
            early_wait: PATIENCE,
            outage_wait: PATIENCE,
        },
        metrics: BusMetrics::unregistered(),
    }
}

async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn every_group_receives_every_event_in_order_per_key(bus: Arc<dyn EventBus>) {
    let run = run_id();
    let stop = CancellationToken::new();
    let (a, b): (Seen, Seen) = Default::default();
    bus.subscribe(
        subscription(&format!("a-{run}"), recorder(&run, a.clone()), 3),
        stop.clone(),
    )
    .await
    .unwrap();
    bus.subscribe(
        subscription(&format!("b-{run}"), recorder(&run, b.clone()), 3),
        stop.clone(),
    )
    .await
    .unwrap();
    let events: Vec<Envelope> = (0..60)
        .map(|i| event(&format!("{run}-k{}", i % 4), i))
        .collect();
    for chunk in events.chunks(7) {
        bus.publish(chunk).await.unwrap();
    }
    eventually("both groups to see 60 events", || {
        a.lock().unwrap().len() >= 60 && b.lock().unwrap().len() >= 60
    })
    .await;
    for seen in [&a, &b] {
        let seen = seen.lock().unwrap();
        for key in 0..4 {
            let seqs: Vec<usize> = seen
                .iter()
                .filter(|e| e.key == format!("{run}-k{key}"))
                .map(seq_of)
                .collect();
            assert!(
                seqs.windows(2).all(|w| w[0] < w[1]),
                "key {key} out of order: {seqs:?}"
            );
            assert_eq!(seqs.len(), 15, "each event once per group");
        }
    }
    stop.cancel();
}

pub async fn a_handler_that_fails_then_succeeds_handles_the_event_once(bus: Arc<dyn EventBus>) {
    let run = run_id();
    let stop = CancellationToken::new();
    let attempts = Arc::new(AtomicU32::new(0));
    let counter = attempts.clone();
    let key = format!("{run}-flaky");
    let watched = key.clone();
    let flaky = handler_fn(move |event: Envelope| {
        let (counter, watched) = (counter.clone(), watched.clone());
        async move {
            if event.key != watched {
                return Ok(());
            }
            if counter.fetch_add(1, Ordering::SeqCst) < 2 {
                Err::<(), BoxError>("briefly down".into())
            } else {
                Ok(())
            }
        }
    });
    bus.subscribe(
        subscription(&format!("flaky-{run}"), flaky, 5),
        stop.clone(),
    )
    .await
    .unwrap();
    bus.publish(&[event(&key, 0)]).await.unwrap();
    eventually("three attempts", || attempts.load(Ordering::SeqCst) >= 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    let parked = bus.parked(TOPIC).await.unwrap();
    assert!(parked.iter().all(|p| p.event.key != key), "nothing parked");
    stop.cancel();
}

pub async fn an_event_that_arrives_too_early_waits_past_the_attempts_for_the_one_it_follows(
    bus: Arc<dyn EventBus>,
) {
    let run = run_id();
    let stop = CancellationToken::new();
    let attempts = Arc::new(AtomicU32::new(0));
    let counter = attempts.clone();
    let key = format!("{run}-early");
    let watched = key.clone();
    // "Too early" six times over, with two attempts allowed for failures.
    let waiting = handler_fn(move |event: Envelope| {
        let (counter, watched) = (counter.clone(), watched.clone());
        async move {
            if event.key != watched {
                return Ok(());
            }
            if counter.fetch_add(1, Ordering::SeqCst) < 6 {
                Err(too_early("the event it follows has not arrived"))
            } else {
                Ok(())
            }
        }
    });
    bus.subscribe(
        subscription(&format!("early-{run}"), waiting, 2),
        stop.clone(),
    )
    .await
    .unwrap();
    bus.publish(&[event(&key, 0)]).await.unwrap();
    eventually("seven attempts", || attempts.load(Ordering::SeqCst) >= 7).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        7,
        "handled once, then left"
    );
    let parked = bus.parked(TOPIC).await.unwrap();
    assert!(parked.iter().all(|p| p.event.key != key), "nothing parked");
    stop.cancel();
}

pub async fn a_failing_event_is_parked_with_its_error_and_can_be_replayed(bus: Arc<dyn EventBus>) {
    let run = run_id();
    let stop = CancellationToken::new();
    let broken = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let seen: Seen = Default::default();
    let (flag, log, prefix) = (broken.clone(), seen.clone(), run.clone());
    let poison = format!("{run}-poison");
    let handler = handler_fn(move |event: Envelope| {
        let (flag, log, prefix) = (flag.clone(), log.clone(), prefix.clone());
        async move {
            if !event.key.starts_with(&prefix) {
                return Ok(());
            }
            if event.key.ends_with("-poison") && flag.load(Ordering::SeqCst) {
                return Err::<(), BoxError>("cannot handle poison".into());
            }
            log.lock().unwrap().push(event);
            Ok(())
        }
    });
    let group = format!("park-{run}");
    bus.subscribe(subscription(&group, handler, 3), stop.clone())
        .await
        .unwrap();
    bus.publish(&[event(&poison, 0), event(&format!("{run}-after"), 1)])
        .await
        .unwrap();
    eventually("the event behind the poison one", || {
        seen.lock()
            .unwrap()
            .iter()
            .any(|e| e.key.ends_with("-after"))
    })
    .await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let parked = loop {
        let parked: Vec<_> = bus
            .parked(TOPIC)
            .await
            .unwrap()
            .into_iter()
            .filter(|p| p.event.key == poison)
            .collect();
        if !parked.is_empty() || tokio::time::Instant::now() > deadline {
            break parked;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(parked.len(), 1, "parked once");
    assert_eq!(parked[0].group, group);
    assert_eq!(parked[0].attempts, 3);
    assert!(
        parked[0].error.contains("cannot handle poison"),
        "{}",
        parked[0].error
    );

    broken.store(false, Ordering::SeqCst);
    assert!(bus.replay_parked(TOPIC).await.unwrap() >= 1);
    eventually("the replayed event", || {
        seen.lock().unwrap().iter().any(|e| e.key == poison)
    })
    .await;
    assert!(
        bus.parked(TOPIC)
            .await
            .unwrap()
            .iter()
            .all(|p| p.event.key != poison),
        "replayed events leave the dead-letter list"
    );
    stop.cancel();
}

pub async fn a_group_resumes_from_its_last_committed_position(bus: Arc<dyn EventBus>) {
    let run = run_id();
    let group = format!("resume-{run}");
    let first: Seen = Default::default();
    let stop = CancellationToken::new();
    let task = bus
        .subscribe(
            subscription(&group, recorder(&run, first.clone()), 3),
            stop.clone(),
        )
        .await
        .unwrap();
    bus.publish(&[event(&format!("{run}-a"), 0), event(&format!("{run}-b"), 1)])
        .await
        .unwrap();
    eventually("two events", || first.lock().unwrap().len() == 2).await;
    stop.cancel();
    task.await.unwrap();
    // Published while the group is down.
    bus.publish(&[event(&format!("{run}-c"), 2)]).await.unwrap();

    let second: Seen = Default::default();
    let stop = CancellationToken::new();
    bus.subscribe(
        subscription(&group, recorder(&run, second.clone()), 3),
        stop.clone(),
    )
    .await
    .unwrap();
    eventually("the event published while down", || {
        !second.lock().unwrap().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let keys: Vec<String> = second
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.key.clone())
        .collect();
    assert_eq!(
        keys,
        [format!("{run}-c")],
        "nothing already handled comes back"
    );
    stop.cancel();
}

/// Expands to one `#[tokio::test]` per check. `$factory` is an async fn returning
/// `Option<Arc<dyn EventBus>>`; `None` means the transport is not reachable, and the
/// factory must say why.
#[macro_export]
macro_rules! bus_conformance_suite {
    ($factory:path) => {
        $crate::bus_conformance_suite!(@each $factory;
            every_group_receives_every_event_in_order_per_key,
            a_handler_that_fails_then_succeeds_handles_the_event_once,
            an_event_that_arrives_too_early_waits_past_the_attempts_for_the_one_it_follows,
            a_failing_event_is_parked_with_its_error_and_can_be_replayed,
            a_group_resumes_from_its_last_committed_position
        );
    };
    (@each $factory:path; $($check:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                if let Some(bus) = $factory().await {
                    $crate::conformance::$check(bus).await;
                }
            }
        )+
    };
}
