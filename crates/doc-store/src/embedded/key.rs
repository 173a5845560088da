//! Index keys: JSON values encoded as bytes whose order is the sort order of the port,
//! so redb's byte order over an index table is the order a query asks for.
//!
//! A key is the encoded values of the index's fields followed by the encoded id. Each
//! part starts with a type tag (missing and null < numbers < strings < booleans <
//! anything else, as MongoDB orders the types we store) and is self-delimiting, so a
//! key that extends another's prefix sorts after it and a prefix names a range.
//! Comparing two values for a sort that no index serves compares these same bytes,
//! which is what makes the answers with and without an index the same.

use serde_json::Value;

const NULL: u8 = 0x10;
const NUMBER: u8 = 0x20;
const STRING: u8 = 0x30;
const BOOL: u8 = 0x40;
const OTHER: u8 = 0x50;
/// Greater than every tag: `prefix + [END]` bounds the range of keys under `prefix`.
pub const END: u8 = 0xff;

/// Appends one value (`None` for a missing field) to `key`.
pub fn push_value(key: &mut Vec<u8>, value: Option<&Value>) {
    match value {
        None | Some(Value::Null) => key.push(NULL),
        Some(Value::Number(n)) => {
            key.push(NUMBER);
            // Numbers compare as f64 (integers beyond 2^53 tie, and ties fall to the id).
            let f = n.as_f64().unwrap_or(0.0);
            let f = if f == 0.0 { 0.0 } else { f }; // -0 and 0 are one value
            let bits = f.to_bits();
            let ordered = if bits >> 63 == 1 {
                !bits
            } else {
                bits | 1 << 63
            };
            key.extend_from_slice(&ordered.to_be_bytes());
        }
        Some(Value::String(s)) => push_text(key, STRING, s),
        Some(Value::Bool(b)) => key.extend_from_slice(&[BOOL, u8::from(*b)]),
        Some(other) => push_text(key, OTHER, &other.to_string()),
    }
}

/// Text, escaped so it ends where it ends: `00` becomes `00 ff` and the text is closed
/// by `00 01`, which sorts below any longer text with the same start.
fn push_text(key: &mut Vec<u8>, tag: u8, text: &str) {
    key.push(tag);
    for &b in text.as_bytes() {
        key.push(b);
        if b == 0 {
            key.push(0xff);
        }
    }
    key.extend_from_slice(&[0, 1]);
}

pub fn push_id(key: &mut Vec<u8>, id: &str) {
    push_text(key, STRING, id);
}

/// The key of `body` under the index on `fields`, ending with its id.
pub fn index_key(fields: &[String], id: &str, body: &Value) -> Vec<u8> {
    let mut key = Vec::with_capacity(32);
    for field in fields {
        push_value(&mut key, body.get(field));
    }
    push_id(&mut key, id);
    key
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn key(v: &Value) -> Vec<u8> {
        let mut k = Vec::new();
        push_value(&mut k, Some(v));
        k
    }

    #[test]
    fn types_order_as_mongodb_orders_them() {
        let ordered = [
            json!(null),
            json!(-1.5),
            json!(0),
            json!(2),
            json!(10),
            json!(""),
            json!("a"),
            json!("a\u{0}"),
            json!("ab"),
            json!("b"),
            json!(false),
            json!(true),
            json!([1]),
        ];
        for pair in ordered.windows(2) {
            assert!(key(&pair[0]) < key(&pair[1]), "{} < {}", pair[0], pair[1]);
        }
        let mut missing = Vec::new();
        push_value(&mut missing, None);
        assert_eq!(missing, key(&json!(null)), "missing sorts as null");
        assert_eq!(key(&json!(-0.0)), key(&json!(0)));
    }

    proptest! {
        #[test]
        fn numbers_keep_their_order(a in -1e15f64..1e15, b in -1e15f64..1e15) {
            prop_assert_eq!(key(&json!(a)).cmp(&key(&json!(b))), a.partial_cmp(&b).unwrap());
        }

        #[test]
        fn texts_keep_their_order_and_a_prefix_never_swallows_the_next_field(
            a in "[a\u{0}\u{1}\u{ff}]{0,6}", b in "[a\u{0}\u{1}\u{ff}]{0,6}", id in "[a-z]{1,3}"
        ) {
            let ka = index_key(&["f".into()], &id, &json!({"f": a}));
            let kb = index_key(&["f".into()], &id, &json!({"f": b}));
            prop_assert_eq!(ka.cmp(&kb), a.cmp(&b));
        }
    }
}
