//! The hot parts of the checkout path, each on its own, with criterion:
//!
//! - cart pricing, for carts of 1, 10 and 100 lines;
//! - placing an order from a `cart.checkout` event (the handler, its store batch and
//!   outbox included), on the in-memory embedded store;
//! - the order state machine over every (status, trigger) pair;
//! - verifying an access token (EdDSA);
//! - serialising an `order.created` envelope and validating it against its schema;
//! - the embedded store's version-guarded update, and its indexed find;
//! - the outbox relay publishing a batch of 256 events to the in-process bus.
//!
//! `cargo bench -p shop --bench checkout_path` (add `-- <name>` for one group). The test
//! command compiles it in the test profile (`cargo test --benches --no-run`), so it
//! never rots, and never runs it: timings belong in reports, not in tests.

use std::{
    collections::HashMap,
    hint::black_box,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use cart_service::domain::{Cart, Catalog, Listing, Quantity, price};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use doc_store::{Collection, CollectionSpec, DocumentStore, EmbeddedStore, Query};
use event_bus::{
    BusMetrics, InProcessBus, OUTBOX_PARKED_SPEC, OUTBOX_SPEC, Outbox, PROCESSED_EVENTS_SPEC,
};
use event_contracts::{CartCheckedOut, Envelope, LineItem, Money, OrderCreated, Role};
use order_service::{
    domain::{OrderStatus, Trigger},
    events::{OrderEvents, PendingCaps},
};
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn eur(minor: i64) -> Money {
    Money::parse(minor, "EUR").expect("a valid amount")
}

fn line_items(n: usize) -> Vec<LineItem> {
    (0..n)
        .map(|i| LineItem {
            product_id: format!("product-{i}"),
            name: format!("Product {i}"),
            unit_price: eur(100 + i as i64),
            quantity: 2,
        })
        .collect()
}

fn cart_pricing(c: &mut Criterion) {
    let mut group = c.benchmark_group("cart_pricing");
    for lines in [1usize, 10, 100] {
        let mut cart = Cart::default();
        let mut catalog: Catalog = HashMap::new();
        for i in 0..lines {
            let id = format!("product-{i}");
            cart.add(&id, Quantity::parse(2).unwrap()).unwrap();
            catalog.insert(
                id,
                Listing {
                    name: format!("Product {i}"),
                    unit_price: eur(100 + i as i64),
                },
            );
        }
        group.throughput(Throughput::Elements(lines as u64));
        group.bench_with_input(BenchmarkId::from_parameter(lines), &lines, |b, _| {
            b.iter(|| price(black_box(&cart), black_box(&catalog)).unwrap())
        });
    }
    group.finish();
}

fn order_from_checkout(c: &mut Criterion) {
    let rt = runtime();
    let store: Arc<dyn DocumentStore> = Arc::new(EmbeddedStore::in_memory());
    rt.block_on(async {
        store
            .ensure_collections(order_service::store::COLLECTIONS)
            .await
            .unwrap();
        store
            .ensure_collections(&[OUTBOX_SPEC, OUTBOX_PARKED_SPEC, PROCESSED_EVENTS_SPEC])
            .await
            .unwrap();
    });
    let handler = OrderEvents {
        outbox: Outbox::new(store),
        metrics: order_service::OrderMetrics::register(&prometheus::Registry::new()).unwrap(),
        // Every order here is one customer's: no cap gets in the way of the measure.
        caps: PendingCaps {
            orders: u32::MAX,
            units: u32::MAX,
        },
    };
    let next = AtomicU64::new(0);
    let items = line_items(3);
    c.bench_function("order_from_checkout", |b| {
        b.iter(|| {
            let n = next.fetch_add(1, Ordering::Relaxed);
            // A user of its own per order: the cap reads that user's pending orders.
            let checkout = Envelope::new(
                &CartCheckedOut {
                    checkout_id: format!("checkout-{n}"),
                    order_id: format!("order-{n}"),
                    user_id: format!("user-{n}"),
                    items: items.clone(),
                    total: eur(1_000),
                },
                "bench",
            );
            rt.block_on(event_bus::EventHandler::handle(&handler, &checkout))
                .unwrap();
        })
    });
}

fn order_state_machine(c: &mut Criterion) {
    let (statuses, triggers) = (OrderStatus::ALL, Trigger::ALL);
    let mut group = c.benchmark_group("order_state_machine");
    group.throughput(Throughput::Elements(
        (statuses.len() * triggers.len()) as u64,
    ));
    group.bench_function("every_pair", |b| {
        b.iter(|| {
            for status in statuses {
                for trigger in triggers {
                    black_box(black_box(status).step(black_box(trigger)));
                }
            }
        })
    });
    group.finish();
}

fn jwt_verification(c: &mut Criterion) {
    let rt = runtime();
    let tokens = test_support::TestTokens::new();
    let token = tokens.customer("user-1");
    let verifier = tokens.verifier();
    c.bench_function("jwt_verification", |b| {
        b.iter(|| {
            let claims = rt.block_on(verifier.verify(black_box(&token))).unwrap();
            assert_eq!(claims.role, Role::Customer);
        })
    });
}

fn event_serialisation_and_validation(c: &mut Criterion) {
    let created = OrderCreated {
        order_id: "order-1".into(),
        checkout_id: "checkout-1".into(),
        user_id: "user-1".into(),
        items: line_items(3),
        total: eur(1_000),
    };
    c.bench_function("event_serialise_and_validate", |b| {
        b.iter(|| {
            let envelope = Envelope::new(black_box(&created), "bench");
            let bytes = serde_json::to_vec(&envelope).unwrap();
            event_contracts::validate(&envelope).unwrap();
            black_box(bytes)
        })
    });
}

#[derive(Clone, Serialize, Deserialize)]
struct Item {
    owner: String,
    count: u64,
}

const ITEMS: Collection<Item> = Collection::new("items");
const ITEMS_SPEC: CollectionSpec = ITEMS.spec(&[], &[&["owner"]]);

fn embedded_store(c: &mut Criterion) {
    let rt = runtime();
    let store = EmbeddedStore::in_memory();
    const STORED: u64 = 10_000;
    rt.block_on(async {
        store.ensure_collections(&[ITEMS_SPEC]).await.unwrap();
        for i in 0..STORED {
            let item = Item {
                owner: format!("owner-{}", i % 100),
                count: 0,
            };
            store
                .commit(vec![ITEMS.insert(format!("item-{i}"), &item)])
                .await
                .unwrap();
        }
    });
    let mut group = c.benchmark_group("embedded_store");
    let next = AtomicU64::new(0);
    group.bench_function("guarded_update", |b| {
        b.iter(|| {
            let id = format!("item-{}", next.fetch_add(1, Ordering::Relaxed) % STORED);
            rt.block_on(async {
                let current = ITEMS.get(&store, &id).await.unwrap().unwrap();
                let mut next = current.value.clone();
                next.count += 1;
                store
                    .commit(vec![ITEMS.update(&current, &next)])
                    .await
                    .unwrap();
            })
        })
    });
    // 100 of the 10 000 items belong to each owner; a page of 20 of them.
    group.bench_function("indexed_find_page_of_20", |b| {
        b.iter(|| {
            let owner = format!("owner-{}", next.fetch_add(1, Ordering::Relaxed) % 100);
            let page = rt
                .block_on(ITEMS.find(&store, &Query::eq("owner", owner).page(0, 20)))
                .unwrap();
            assert_eq!(page.items.len(), 20);
        })
    });
    group.finish();
}

fn outbox_relay(c: &mut Criterion) {
    const BATCH: u64 = 256;
    let rt = runtime();
    let mut group = c.benchmark_group("outbox_relay");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("publish_a_batch_of_256", |b| {
        b.iter_batched(
            || {
                // A fresh outbox holding one batch, stored outside the measure.
                let store: Arc<dyn DocumentStore> = Arc::new(EmbeddedStore::in_memory());
                let outbox = Outbox::new(store);
                rt.block_on(async {
                    for i in 0..BATCH {
                        let created = OrderCreated {
                            order_id: format!("order-{i}"),
                            checkout_id: format!("checkout-{i}"),
                            user_id: "user-1".into(),
                            items: line_items(1),
                            total: eur(100),
                        };
                        outbox
                            .commit(vec![], vec![Envelope::new(&created, "bench")])
                            .await
                            .unwrap();
                    }
                });
                outbox.relay(
                    Arc::new(InProcessBus::in_memory()),
                    BusMetrics::unregistered(),
                )
            },
            |relay| {
                let relayed = rt.block_on(relay.relay_batch()).unwrap();
                assert_eq!(relayed, BATCH);
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(
    checkout_path,
    cart_pricing,
    order_from_checkout,
    order_state_machine,
    jwt_verification,
    event_serialisation_and_validation,
    embedded_store,
    outbox_relay,
);
criterion_main!(checkout_path);
