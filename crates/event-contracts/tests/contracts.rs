use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::Path;

use event_contracts::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

// --- Samples -------------------------------------------------------------

/// Receives one realistic instance of every event type, keeping its Rust type
/// so tests can decode and compare.
trait SampleVisitor {
    fn visit<E: Event + PartialEq + Debug>(&mut self, event: E);
}

fn eur(amount_minor: i64) -> Money {
    Money::parse(amount_minor, "EUR").unwrap()
}

fn line(product_id: &str, name: &str, unit_price: i64, quantity: u32) -> LineItem {
    LineItem {
        product_id: product_id.to_owned(),
        name: name.to_owned(),
        unit_price: eur(unit_price),
        quantity,
    }
}

fn stock(product_id: &str, quantity: u32) -> StockLine {
    StockLine {
        product_id: product_id.to_owned(),
        quantity,
    }
}

const USER: &str = "0199a3b0-7c1e-7d3a-9f2b-5c8e1d2f4a60";
const ADMIN: &str = "0199a3b0-7c1e-7d3a-9f2b-5c8e1d2f4a61";
const ORDER: &str = "0199a3b2-1111-7abc-8def-0123456789ab";
const CHECKOUT: &str = "0199a3b1-2222-7abc-8def-0123456789ab";
const MUG: &str = "0199a3a0-0001-7000-8000-000000000001";
const TEE: &str = "0199a3a0-0002-7000-8000-000000000002";

/// Adding an event type to the registry without adding a sample here fails
/// `every_registered_event_has_a_sample_and_every_sample_is_registered`.
fn visit_samples(v: &mut impl SampleVisitor) {
    let items = vec![
        line(MUG, "Enamel mug", 1_250, 2),
        line(TEE, "Logo T-shirt", 2_400, 1),
    ];
    let stock_lines = vec![stock(MUG, 2), stock(TEE, 1)];

    v.visit(UserRegistered {
        user_id: USER.to_owned(),
        email: "ada@example.com".to_owned(),
        role: Role::Customer,
    });
    v.visit(UserDeleted {
        user_id: USER.to_owned(),
    });
    v.visit(ProductCreated {
        product_id: MUG.to_owned(),
        owner_id: ADMIN.to_owned(),
        name: "Enamel mug".to_owned(),
        description: "350 ml, dishwasher safe.".to_owned(),
        price: eur(1_250),
        stock: 40,
    });
    v.visit(ProductUpdated {
        product_id: MUG.to_owned(),
        owner_id: ADMIN.to_owned(),
        name: "Enamel mug".to_owned(),
        description: String::new(),
        price: eur(1_100),
        stock: 0,
    });
    v.visit(ProductRemoved {
        product_id: MUG.to_owned(),
        owner_id: ADMIN.to_owned(),
    });
    v.visit(CartCheckedOut {
        checkout_id: CHECKOUT.to_owned(),
        order_id: ORDER.to_owned(),
        user_id: USER.to_owned(),
        items: items.clone(),
        total: eur(4_900),
    });
    v.visit(OrderCreated {
        order_id: ORDER.to_owned(),
        checkout_id: CHECKOUT.to_owned(),
        user_id: USER.to_owned(),
        items,
        total: eur(4_900),
    });
    v.visit(OrderCancelled {
        order_id: ORDER.to_owned(),
        user_id: USER.to_owned(),
        reason: CancelReason::PaymentFailed,
        items: stock_lines.clone(),
    });
    v.visit(PaymentCompleted {
        payment_id: "pay_3MtwBwLkdIwHu7ix".to_owned(),
        order_id: ORDER.to_owned(),
        user_id: USER.to_owned(),
        amount: eur(4_900),
    });
    v.visit(PaymentFailed {
        payment_id: "pay_3MtwBwLkdIwHu7iy".to_owned(),
        order_id: ORDER.to_owned(),
        user_id: USER.to_owned(),
        reason: "card declined: insufficient funds".to_owned(),
    });
    v.visit(PaymentRefunded {
        payment_id: "pay_3MtwBwLkdIwHu7ix".to_owned(),
        order_id: ORDER.to_owned(),
        user_id: USER.to_owned(),
        amount: eur(4_900),
    });
    v.visit(ShipmentAwaiting {
        shipment_id: "shp-000417".to_owned(),
        order_id: ORDER.to_owned(),
        user_id: USER.to_owned(),
    });
    v.visit(ShipmentDelivered {
        shipment_id: "shp-000417".to_owned(),
        order_id: ORDER.to_owned(),
        user_id: USER.to_owned(),
    });
    v.visit(ShipmentReturned {
        shipment_id: "shp-000417".to_owned(),
        order_id: ORDER.to_owned(),
        user_id: USER.to_owned(),
    });
    v.visit(ShipmentCancelled {
        shipment_id: "shp-000417".to_owned(),
        order_id: ORDER.to_owned(),
        user_id: USER.to_owned(),
    });
    v.visit(OrderReturnRequested {
        order_id: ORDER.to_owned(),
        user_id: USER.to_owned(),
    });
    v.visit(OrderCompleted {
        order_id: ORDER.to_owned(),
        user_id: USER.to_owned(),
    });
    v.visit(ProductDecrement {
        order_id: ORDER.to_owned(),
        items: stock_lines.clone(),
    });
    v.visit(StockReserved {
        order_id: ORDER.to_owned(),
        items: stock_lines,
    });
    v.visit(StockRejected {
        order_id: ORDER.to_owned(),
        reason: "not enough stock".to_owned(),
        shortages: vec![Shortage {
            product_id: MUG.to_owned(),
            requested: 2,
            available: 1,
        }],
    });
}

/// Every sample, wrapped as the start of a flow.
fn sample_envelopes() -> Vec<Envelope> {
    struct Collect(Vec<Envelope>);
    impl SampleVisitor for Collect {
        fn visit<E: Event + PartialEq + Debug>(&mut self, event: E) {
            self.0.push(Envelope::new(&event, "req-7f3a9c"));
        }
    }
    let mut collect = Collect(Vec::new());
    visit_samples(&mut collect);
    collect.0
}

fn sample_of(event_type: &str) -> Envelope {
    sample_envelopes()
        .into_iter()
        .find(|envelope| envelope.event_type == event_type)
        .unwrap_or_else(|| panic!("no sample of {event_type}"))
}

fn registered_pairs() -> BTreeSet<(String, u32)> {
    EVENT_TYPES
        .iter()
        .map(|entry| (entry.event_type.to_owned(), entry.version))
        .collect()
}

// --- Registry and schema files -------------------------------------------

#[test]
fn every_registered_event_has_a_sample_and_every_sample_is_registered() {
    struct Types(Vec<(String, u32)>);
    impl SampleVisitor for Types {
        fn visit<E: Event + PartialEq + Debug>(&mut self, _: E) {
            self.0.push((E::TYPE.to_owned(), E::VERSION));
        }
    }
    let mut types = Types(Vec::new());
    visit_samples(&mut types);
    let sampled: BTreeSet<_> = types.0.iter().cloned().collect();

    assert_eq!(sampled.len(), types.0.len(), "a type is sampled twice");
    assert_eq!(sampled, registered_pairs());
}

#[test]
fn every_rust_event_type_is_registered() {
    macro_rules! pairs {
        ($($ty:ty),* $(,)?) => {
            [$(((<$ty as Event>::TYPE, <$ty as Event>::VERSION), stringify!($ty))),*]
        };
    }
    let rust_types = pairs![
        UserRegistered,
        UserDeleted,
        ProductCreated,
        ProductUpdated,
        ProductRemoved,
        CartCheckedOut,
        OrderCreated,
        OrderCancelled,
        PaymentCompleted,
        PaymentFailed,
        PaymentRefunded,
        ShipmentAwaiting,
        ShipmentDelivered,
        ShipmentReturned,
        ShipmentCancelled,
        OrderReturnRequested,
        OrderCompleted,
        ProductDecrement,
        StockReserved,
        StockRejected,
    ];
    for ((event_type, version), name) in rust_types {
        assert!(
            schema_for(event_type, version).is_some(),
            "{name} ({event_type} v{version}) has no registered schema"
        );
    }
    assert_eq!(EVENT_TYPES.len(), rust_types.len());
}

#[test]
fn every_schema_has_an_event_type_and_every_type_a_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts/events");
    let mut on_disk = BTreeSet::new();
    for dir in std::fs::read_dir(&root).expect("contracts/events is readable") {
        let dir = dir.unwrap();
        let dir_name = dir.file_name().into_string().unwrap();
        if dir_name == "envelope.schema.json" {
            continue;
        }
        assert!(dir.file_type().unwrap().is_dir(), "stray file {dir_name}");
        for file in std::fs::read_dir(dir.path()).unwrap() {
            let file_name = file.unwrap().file_name().into_string().unwrap();
            let version = file_name
                .strip_prefix('v')
                .and_then(|rest| rest.strip_suffix(".schema.json"))
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or_else(|| panic!("{dir_name}/{file_name} is not named v<N>.schema.json"));
            on_disk.insert((dir_name.clone(), version));
        }
    }

    assert_eq!(on_disk, registered_pairs());
}

#[test]
fn every_registered_schema_is_the_file_for_its_type_and_version() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts/events");
    for entry in EVENT_TYPES {
        let path = root
            .join(entry.event_type)
            .join(format!("v{}.schema.json", entry.version));
        let on_disk = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            entry.schema, on_disk,
            "{} v{} embeds the wrong file",
            entry.event_type, entry.version
        );
    }
    let envelope = std::fs::read_to_string(root.join("envelope.schema.json")).unwrap();
    assert_eq!(ENVELOPE_SCHEMA, envelope);
}

/// Walks every subschema that declares `properties`.
fn object_schemas<'a>(schema: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties") {
                out.push((path.clone(), schema));
            }
            for (key, child) in map {
                object_schemas(child, format!("{path}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                object_schemas(child, format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_schema_is_valid_draft_2020_12_and_closed_with_all_fields_required() {
    let envelope = ("envelope", 0, ENVELOPE_SCHEMA);
    let events = EVENT_TYPES
        .iter()
        .map(|e| (e.event_type, e.version, e.schema));
    for (event_type, version, text) in std::iter::once(envelope).chain(events) {
        let schema: Value = serde_json::from_str(text).unwrap();
        let name = format!("{event_type} v{version}");

        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        if version > 0 {
            assert_eq!(
                schema["$id"],
                format!("urn:shop:event:{event_type}:v{version}"),
                "{name}"
            );
        }
        for keyword in ["title", "description"] {
            let text = schema[keyword].as_str().unwrap_or_default();
            assert!(!text.is_empty(), "{name} has no {keyword}");
        }
        assert_eq!(schema["type"], "object", "{name}");
        if let Err(err) = jsonschema::meta::validate(&schema) {
            panic!("{name} is not a valid schema: {err}");
        }

        let mut objects = Vec::new();
        object_schemas(&schema, String::new(), &mut objects);
        for (path, object) in objects {
            assert_eq!(
                object["additionalProperties"], false,
                "{name} {path} is open"
            );
            let properties: BTreeSet<&str> = object["properties"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let required: BTreeSet<&str> = object["required"]
                .as_array()
                .unwrap_or_else(|| panic!("{name} {path} has no required list"))
                .iter()
                .map(|field| field.as_str().unwrap())
                .collect();
            assert_eq!(required, properties, "{name} {path}");
        }
    }
}

// --- Validation ----------------------------------------------------------

#[test]
fn every_sample_event_validates_against_its_schema() {
    for envelope in sample_envelopes() {
        if let Err(err) = validate(&envelope) {
            panic!("sample {} is invalid: {err}", envelope.event_type);
        }
    }
}

/// Validates `envelope`, expecting a schema violation, and returns the paths
/// of the violations.
fn violation_paths(envelope: &Envelope) -> Vec<String> {
    match validate(envelope) {
        Err(ContractError::SchemaViolation { violations, .. }) => violations
            .into_iter()
            .map(|violation| violation.instance_path)
            .collect(),
        other => panic!("expected a schema violation, got {other:?}"),
    }
}

fn with_data(event_type: &str, change: impl FnOnce(&mut Value)) -> Envelope {
    let mut envelope = sample_of(event_type);
    change(&mut envelope.data);
    envelope
}

#[test]
fn data_missing_a_required_field_is_rejected() {
    let envelope = with_data("order.created", |data| {
        data.as_object_mut().unwrap().remove("total");
    });
    assert_eq!(violation_paths(&envelope), ["/data"]);

    let envelope = with_data("order.created", |data| {
        data["items"][1]
            .as_object_mut()
            .unwrap()
            .remove("unit_price");
    });
    assert_eq!(violation_paths(&envelope), ["/data/items/1"]);
}

#[test]
fn data_with_an_extra_field_is_rejected() {
    let envelope = with_data("payment.completed", |data| {
        data["card_number"] = json!("4242424242424242");
    });
    assert_eq!(violation_paths(&envelope), ["/data"]);

    let envelope = with_data("payment.completed", |data| {
        data["amount"]["amount_major"] = json!(49);
    });
    assert_eq!(violation_paths(&envelope), ["/data/amount"]);
}

#[test]
fn a_negative_amount_is_rejected() {
    let envelope = with_data("cart.checkout", |data| {
        data["items"][0]["unit_price"]["amount_minor"] = json!(-1);
    });
    assert_eq!(
        violation_paths(&envelope),
        ["/data/items/0/unit_price/amount_minor"]
    );
}

#[test]
fn a_currency_that_is_not_three_uppercase_letters_is_rejected() {
    for currency in ["eur", "EURO", "EU", "€€€", ""] {
        let envelope = with_data("payment.refunded", |data| {
            data["amount"]["currency"] = json!(currency);
        });
        assert_eq!(
            violation_paths(&envelope),
            ["/data/amount/currency"],
            "{currency:?}"
        );
    }
}

#[test]
fn a_zero_quantity_is_rejected() {
    let envelope = with_data("order.created", |data| {
        data["items"][0]["quantity"] = json!(0);
    });
    assert_eq!(violation_paths(&envelope), ["/data/items/0/quantity"]);

    let envelope = with_data("product.decrement", |data| {
        data["items"][1]["quantity"] = json!(0);
    });
    assert_eq!(violation_paths(&envelope), ["/data/items/1/quantity"]);
}

#[test]
fn an_empty_id_or_a_wrongly_typed_field_is_rejected() {
    let envelope = with_data("user.deleted", |data| data["user_id"] = json!(""));
    assert_eq!(violation_paths(&envelope), ["/data/user_id"]);

    let envelope = with_data("product.created", |data| data["stock"] = json!(-3));
    assert_eq!(violation_paths(&envelope), ["/data/stock"]);

    let envelope = with_data("user.registered", |data| data["role"] = json!("root"));
    assert_eq!(violation_paths(&envelope), ["/data/role"]);
}

#[test]
fn an_unknown_type_or_version_is_rejected_as_unknown() {
    let mut envelope = sample_of("order.created");
    envelope.event_type = "order.exploded".to_owned();
    assert!(matches!(
        validate(&envelope),
        Err(ContractError::UnknownEvent { event_type, version: 1 }) if event_type == "order.exploded"
    ));

    let mut envelope = sample_of("order.created");
    envelope.version = 2;
    assert!(matches!(
        validate(&envelope),
        Err(ContractError::UnknownEvent { version: 2, .. })
    ));
}

#[test]
fn a_malformed_envelope_is_rejected() {
    let mut envelope = sample_of("order.created");
    envelope.version = 0;
    envelope.correlation_id.clear();
    envelope.causation_id = Some(String::new());
    envelope.id = "42".to_owned();
    let mut paths = violation_paths(&envelope);
    paths.sort();
    assert_eq!(
        paths,
        ["/causation_id", "/correlation_id", "/id", "/version"]
    );

    let mut envelope = sample_of("order.created");
    envelope.event_type = "Order.Created".to_owned();
    assert_eq!(violation_paths(&envelope), ["/type"]);

    let mut envelope = sample_of("order.created");
    envelope.data = json!([1, 2, 3]);
    assert_eq!(violation_paths(&envelope), ["/data"]);
}

#[test]
fn violation_messages_do_not_echo_event_data() {
    let envelope = with_data("user.registered", |data| {
        data["email"] = json!(["ada@example.com"]);
    });
    let err = validate(&envelope).unwrap_err().to_string();
    assert!(err.contains("/data/email"), "{err}");
    assert!(!err.contains("ada@example.com"), "{err}");
}

// --- Envelope ------------------------------------------------------------

#[test]
fn new_envelope_carries_type_version_key_and_a_fresh_v7_id() {
    let event = PaymentFailed {
        payment_id: "pay_1".to_owned(),
        order_id: ORDER.to_owned(),
        user_id: USER.to_owned(),
        reason: "card expired".to_owned(),
    };
    let before = OffsetDateTime::now_utc();
    let first = Envelope::new(&event, "req-1");
    let second = Envelope::new(&event, "req-1");

    assert_eq!(first.event_type, "payment.failed");
    assert_eq!(first.version, 1);
    assert_eq!(first.key, ORDER);
    assert_eq!(first.correlation_id, "req-1");
    assert_eq!(first.causation_id, None);
    assert!(first.occurred_at >= before && first.occurred_at <= OffsetDateTime::now_utc());
    let id = uuid::Uuid::parse_str(&first.id).unwrap();
    assert_eq!(id.get_version_num(), 7);
    assert_ne!(first.id, second.id);
}

#[test]
fn every_sample_key_is_its_aggregate_id() {
    for envelope in sample_envelopes() {
        let aggregate = match envelope.event_type.split('.').next().unwrap() {
            "user" | "cart" => "user_id",
            "product" if envelope.event_type != "product.decrement" => "product_id",
            _ => "order_id",
        };
        assert_eq!(
            envelope.data[aggregate], envelope.key,
            "{}",
            envelope.event_type
        );
    }
}

#[test]
fn caused_by_continues_the_flow_of_its_cause() {
    let cause = sample_of("order.created");
    let effect = Envelope::caused_by(
        &ProductDecrement {
            order_id: ORDER.to_owned(),
            items: vec![stock(MUG, 2)],
        },
        &cause,
    );

    assert_eq!(effect.correlation_id, cause.correlation_id);
    assert_eq!(effect.causation_id.as_deref(), Some(cause.id.as_str()));
    assert_ne!(effect.id, cause.id);
    assert_eq!(effect.event_type, "product.decrement");
    validate(&effect).unwrap();
}

#[test]
fn envelope_serialises_with_type_rfc3339_time_and_null_causation() {
    let envelope = Envelope {
        id: "0199a3b5-0000-7000-8000-000000000000".to_owned(),
        event_type: "user.deleted".to_owned(),
        version: 1,
        occurred_at: datetime!(2025-03-01 12:30:05.25 UTC),
        correlation_id: "req-1".to_owned(),
        causation_id: None,
        key: USER.to_owned(),
        data: json!({ "user_id": USER }),
    };
    assert_eq!(
        serde_json::to_value(&envelope).unwrap(),
        json!({
            "id": "0199a3b5-0000-7000-8000-000000000000",
            "type": "user.deleted",
            "version": 1,
            "occurred_at": "2025-03-01T12:30:05.25Z",
            "correlation_id": "req-1",
            "causation_id": null,
            "key": USER,
            "data": { "user_id": USER },
        })
    );
}

#[test]
fn every_sample_decodes_back_to_the_same_event_after_a_trip_through_json() {
    struct RoundTrip;
    impl SampleVisitor for RoundTrip {
        fn visit<E: Event + PartialEq + Debug>(&mut self, event: E) {
            let wire = serde_json::to_string(&Envelope::new(&event, "req-1")).unwrap();
            let received: Envelope = serde_json::from_str(&wire).unwrap();
            assert_eq!(received.decode::<E>().unwrap(), event);
        }
    }
    visit_samples(&mut RoundTrip);
}

#[test]
fn decode_refuses_another_type_or_version() {
    let envelope = sample_of("user.registered");
    // Same data shape would deserialise fine, so only the type check stops it.
    assert!(matches!(
        envelope.decode::<UserDeleted>(),
        Err(ContractError::WrongEvent {
            expected_type: "user.deleted",
            expected_version: 1,
            actual_type,
            actual_version: 1,
        }) if actual_type == "user.registered"
    ));

    let mut envelope = envelope;
    envelope.version = 2;
    assert!(matches!(
        envelope.decode::<UserRegistered>(),
        Err(ContractError::WrongEvent {
            actual_version: 2,
            ..
        })
    ));
}

#[test]
fn decode_reports_data_that_does_not_fit_the_type() {
    let envelope = with_data("user.registered", |data| {
        data.as_object_mut().unwrap().remove("email");
    });
    assert!(matches!(
        envelope.decode::<UserRegistered>(),
        Err(ContractError::InvalidData(_))
    ));
}

// --- Properties ----------------------------------------------------------

fn money() -> impl Strategy<Value = Money> {
    (0..=i64::MAX, "[A-Z]{3}")
        .prop_map(|(amount_minor, currency)| Money::parse(amount_minor, &currency).unwrap())
}

fn line_item() -> impl Strategy<Value = LineItem> {
    ("[a-zA-Z0-9-]{1,36}", "\\PC{1,40}", money(), 1..=u32::MAX).prop_map(
        |(product_id, name, unit_price, quantity)| LineItem {
            product_id,
            name,
            unit_price,
            quantity,
        },
    )
}

fn checkout() -> impl Strategy<Value = CartCheckedOut> {
    (
        "[a-z0-9-]{1,36}",
        "[a-z0-9-]{1,36}",
        "[a-z0-9-]{1,36}",
        prop::collection::vec(line_item(), 1..8),
        money(),
    )
        .prop_map(
            |(checkout_id, order_id, user_id, items, total)| CartCheckedOut {
                checkout_id,
                order_id,
                user_id,
                items,
                total,
            },
        )
}

fn occurred_at() -> impl Strategy<Value = OffsetDateTime> {
    // Years 1..=9998 stay inside RFC 3339's four-digit range after applying
    // any offset; offsets are whole minutes because RFC 3339 has no seconds.
    let start = datetime!(0001-01-02 00:00 UTC).unix_timestamp();
    let end = datetime!(9998-12-31 00:00 UTC).unix_timestamp();
    (
        start..end,
        0..1_000_000_000u32,
        -(23 * 60 + 59)..=(23 * 60 + 59),
    )
        .prop_map(|(seconds, nanos, offset_minutes)| {
            let offset = time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap();
            OffsetDateTime::from_unix_timestamp(seconds)
                .unwrap()
                .replace_nanosecond(nanos)
                .unwrap()
                .to_offset(offset)
        })
}

fn envelope() -> impl Strategy<Value = Envelope> {
    (
        any::<u128>(),
        "[a-z]{1,10}(\\.[a-z_]{1,12}){1,2}",
        1..=u32::MAX,
        occurred_at(),
        "\\PC{1,30}",
        proptest::option::of("\\PC{1,30}"),
        "\\PC{1,30}",
        checkout(),
    )
        .prop_map(
            |(id, event_type, version, occurred_at, correlation_id, causation_id, key, data)| {
                Envelope {
                    id: uuid::Uuid::from_u128(id).to_string(),
                    event_type,
                    version,
                    occurred_at,
                    correlation_id,
                    causation_id,
                    key,
                    data: serde_json::to_value(data).unwrap(),
                }
            },
        )
}

proptest! {
    #[test]
    fn any_money_and_line_items_in_a_checkout_validate(checkout in checkout()) {
        let envelope = Envelope::new(&checkout, "req-1");
        prop_assert!(validate(&envelope).is_ok(), "{:?}", validate(&envelope));
        prop_assert_eq!(envelope.decode::<CartCheckedOut>().unwrap(), checkout);
    }

    #[test]
    fn any_envelope_round_trips_through_json_unchanged(envelope in envelope()) {
        let wire = serde_json::to_string(&envelope).unwrap();
        let parsed: Envelope = serde_json::from_str(&wire).unwrap();
        prop_assert_eq!(&parsed, &envelope);
        // `OffsetDateTime` equality compares instants and ignores the offset.
        prop_assert_eq!(parsed.occurred_at.offset(), envelope.occurred_at.offset());
        prop_assert_eq!(serde_json::to_string(&parsed).unwrap(), wire);
    }
}
