//! The codec's rules through its pure-Rust API: each rejection names its path.

use _codec::encoder::{Encoder, Failure};
use _codec::errors::Kind;
use _codec::schema::Dialect;

const ORDERS: &str = include_str!("../../avro/orders/v2.avsc");

fn orders() -> Encoder {
    Encoder::new(ORDERS, 3, "order_id", Dialect::Natural, &[]).expect("orders compiles")
}

fn with_field(ty: &str, dialect: Dialect) -> Encoder {
    let schema = format!(
        r#"{{"type":"record","name":"R","namespace":"n","fields":[
            {{"name":"id","type":"string"}},{{"name":"v","type":{ty}}}]}}"#
    );
    Encoder::new(&schema, 1, "id", dialect, &[]).expect("schema compiles")
}

/// The Avro bytes of `{"id": "k", "v": <value>}` after the header and key.
fn value(enc: &Encoder, v: &str) -> Result<Vec<u8>, Failure> {
    let (bytes, key) = enc.encode_str(&format!(r#"{{"id":"k","v":{v}}}"#))?;
    assert_eq!(key, b"k");
    Ok(bytes[7..].to_vec())
}

fn refused(enc: &Encoder, v: &str) -> Failure {
    match value(enc, v) {
        Ok(b) => panic!("{v} was accepted as {b:?}"),
        Err(f) => f,
    }
}

fn natural(ty: &str) -> Encoder {
    with_field(ty, Dialect::Natural)
}

#[test]
fn an_orders_event_becomes_the_confluent_wire_format_and_its_key() {
    let (v, k) = orders()
        .encode_str(r#"{"order_id":"ORD-1","customer_id":"C","amount":1.5,"event_time":"t","currency":null}"#)
        .expect("valid");
    assert_eq!(k, b"ORD-1");
    let mut want = vec![0, 0, 0, 0, 3, 10];
    want.extend_from_slice(b"ORD-1");
    want.extend_from_slice(&[2, b'C']);
    want.extend_from_slice(&1.5f64.to_le_bytes());
    want.extend_from_slice(&[2, b't', 0]);
    assert_eq!(v, want);
}

#[test]
fn fields_in_any_order_encode_in_schema_order_and_defaults_fill_the_rest() {
    let a = orders()
        .encode_str(r#"{"event_time":"t","amount":1.5,"customer_id":"C","order_id":"O"}"#)
        .expect("valid");
    let b = orders()
        .encode_str(
            r#"{"order_id":"O","customer_id":"C","amount":1.5,"event_time":"t","currency":null}"#,
        )
        .expect("valid");
    assert_eq!(a, b);
}

#[test]
fn every_offending_path_is_named_and_a_missing_field_decides_the_kind() {
    let f = orders()
        .encode_str(r#"{"order_id":"O","amount":"lots","extra":1,"event_time":5}"#)
        .expect_err("invalid");
    assert_eq!(f.kind, Kind::MissingField);
    let m = f.message();
    assert!(m.contains(r#"amount: expected double, got "lots""#), "{m}");
    assert!(
        m.contains("extra: not a field of io.streamlake.orders.Order"),
        "{m}"
    );
    assert!(m.contains("customer_id: missing"), "{m}");
    assert!(m.contains("event_time: expected string, got 5"), "{m}");
    assert_eq!(f.key.as_deref(), Some(&b"O"[..]));
}

#[test]
fn an_absent_empty_or_null_key_is_a_missing_field() {
    for event in [
        r#"{"customer_id":"C","amount":1,"event_time":"t"}"#,
        r#"{"order_id":"","customer_id":"C","amount":1,"event_time":"t"}"#,
        r#"{"order_id":null,"customer_id":"C","amount":1,"event_time":"t"}"#,
    ] {
        let f = orders().encode_str(event).expect_err(event);
        assert_eq!(f.kind, Kind::MissingField, "{event}");
        assert!(f.message().starts_with("order_id: "), "{}", f.message());
    }
}

#[test]
fn not_one_json_value_is_invalid_json() {
    for text in [
        "",
        "{",
        r#"{"order_id":"O"} x"#,
        r#"{"order_id":"O","amount":NaN}"#,
        r#"{"order_id":"O","amount":Infinity}"#,
        "\u{feff}{}",
    ] {
        let f = orders().encode_str(text).expect_err(text);
        assert_eq!(f.kind, Kind::InvalidJson, "{text}");
    }
    let f = orders()
        .encode_json(b"{\"order_id\":\"\xff\"}")
        .expect_err("not utf-8");
    assert_eq!(f.kind, Kind::InvalidJson);
}

#[test]
fn a_json_string_where_the_event_should_be_is_never_parsed_again() {
    let f = orders()
        .encode_str(r#""{\"order_id\": \"O\"}""#)
        .expect_err("a string");
    assert_eq!(f.kind, Kind::SchemaValidation);
    assert_eq!(f.message(), "expected a JSON object, got string");
}

#[test]
fn ints_take_integers_only() {
    let e = natural(r#""int""#);
    assert_eq!(value(&e, "-0").expect("-0 is the integer 0"), [0]);
    assert!(refused(&e, "1.0")
        .message()
        .contains("v: expected int, got 1.0"));
    assert!(refused(&e, "true").message().contains("got true"));
    assert!(refused(&e, "2147483648").message().contains("out of range"));
    assert!(refused(&e, r#""1""#).message().contains(r#"got "1""#));
    let s = natural(r#""string""#);
    assert!(refused(&s, "1.0")
        .message()
        .contains("v: expected string, got 1.0"));
}

#[test]
fn paths_name_array_indexes_and_map_keys() {
    let e = natural(
        r#"{"type":"record","name":"O","fields":[
            {"name":"items","type":{"type":"array","items":{"type":"record","name":"I","fields":[{"name":"qty","type":"int"}]}}},
            {"name":"tags","type":{"type":"map","values":"long"}}]}"#,
    );
    let f = refused(
        &e,
        r#"{"items":[{"qty":1},{"qty":2},{"qty":1.5}],"tags":{"a":1,"k":"x","a":2}}"#,
    );
    let m = f.message();
    assert!(m.contains("v.items[2].qty: expected int, got 1.5"), "{m}");
    assert!(m.contains(r#"v.tags["k"]: expected long, got "x""#), "{m}");
    assert!(m.contains(r#"v.tags["a"]: appears twice"#), "{m}");
}

#[test]
fn a_duplicate_record_field_is_rejected() {
    let f = orders()
        .encode_str(
            r#"{"order_id":"O","order_id":"P","customer_id":"C","amount":1,"event_time":"t"}"#,
        )
        .expect_err("duplicate");
    assert!(
        f.message().contains("order_id: appears twice"),
        "{}",
        f.message()
    );
}

#[test]
fn timestamps_explain_what_they_take() {
    let e = natural(r#"{"type":"long","logicalType":"timestamp-millis"}"#);
    let m = refused(&e, r#""2026-01-21T10:00:00""#).message();
    assert!(
        m.starts_with(
            r#"v: expected timestamp-millis (RFC 3339 with offset, or epoch milliseconds), got "2026-01-21T10:00:00""#
        ),
        "{m}"
    );
    assert_eq!(
        value(&e, r#""1970-01-01T00:00:00.001Z""#).expect("valid"),
        [2]
    );
    assert_eq!(value(&e, "1").expect("epoch millis"), [2]);
}

#[test]
fn decimals_are_exact_and_never_rounded() {
    let e = natural(r#"{"type":"bytes","logicalType":"decimal","precision":5,"scale":2}"#);
    assert_eq!(value(&e, "199.99").expect("number"), [4, 0x4e, 0x1f]);
    assert_eq!(value(&e, r#""199.99""#).expect("string"), [4, 0x4e, 0x1f]);
    assert_eq!(value(&e, "199.9").expect("quantized"), [4, 0x4e, 0x16]);
    assert!(refused(&e, "199.999").message().contains("fraction digits"));
    assert!(refused(&e, "1000").message().contains("more than 5 digits"));
}

#[test]
fn a_union_value_must_fit_exactly_one_branch() {
    let e = natural(r#"["null","string",{"type":"enum","name":"E","symbols":["A"]}]"#);
    assert_eq!(value(&e, "null").expect("null branch"), [0]);
    let m = refused(&e, r#""A""#).message();
    assert!(m.contains("fits more than one branch"), "{m}");
    assert!(
        m.contains(r#"tag it as {"string": value} or {"n.E": value}"#),
        "{m}"
    );
    assert_eq!(value(&e, r#"{"n.E":"A"}"#).expect("tagged"), [4, 0]);
    assert_eq!(value(&e, r#"{"E":"A"}"#).expect("short name"), [4, 0]);
    assert_eq!(
        value(&e, r#"{"string":"A"}"#).expect("tagged"),
        [2, 2, b'A']
    );
    assert_eq!(value(&e, r#""B""#).expect("only a string"), [2, 2, b'B']);
}

#[test]
fn numeric_ties_prefer_the_integer_branch_then_double() {
    let e = natural(r#"["null","double","float","long","int"]"#);
    assert_eq!(value(&e, "3").expect("integer"), [6, 6]);
    let v = value(&e, "1.5").expect("fraction");
    assert_eq!(v[0], 2, "double");
    let e = natural(r#"["float","double"]"#);
    assert_eq!(value(&e, "3").expect("integer")[0], 2, "double");
}

#[test]
fn the_avro_dialect_needs_tags_and_code_point_bytes() {
    let e = with_field(r#"["null","bytes","string"]"#, Dialect::Avro);
    assert_eq!(
        value(&e, r#"{"bytes":"\u00ff"}"#).expect("tagged"),
        [2, 2, 0xff]
    );
    assert!(refused(&e, r#""x""#).message().contains("tagged"));
    assert!(refused(&e, r#"{"bytes":"\u0100"}"#)
        .message()
        .contains("U+0100"));
    let e = with_field(
        r#"{"type":"long","logicalType":"timestamp-millis"}"#,
        Dialect::Avro,
    );
    assert_eq!(value(&e, "1").expect("underlying long"), [2]);
    assert!(value(&e, r#""1970-01-01T00:00:00Z""#).is_err());
}

#[test]
fn defaults_are_encoded_per_the_specification() {
    let e = natural(
        r#"{"type":"record","name":"D","fields":[
            {"name":"u","type":["long","null"],"default":7},
            {"name":"b","type":"bytes","default":"\u00ff"},
            {"name":"r","type":{"type":"record","name":"In","fields":[{"name":"x","type":"int","default":1}]},"default":{}}]}"#,
    );
    assert_eq!(value(&e, "{}").expect("all defaults"), [0, 14, 2, 0xff, 2]);
    let bad = r#"{"type":"record","name":"R","fields":[{"name":"id","type":"string"},
        {"name":"u","type":["null","long"],"default":7}]}"#;
    let err = Encoder::new(bad, 1, "id", Dialect::Natural, &[])
        .err()
        .expect("invalid default");
    assert!(err.0.contains("R.u: invalid default 7"), "{}", err.0);
}

#[test]
fn named_types_are_resolved_by_full_name() {
    let money = r#"{"type":"record","name":"Money","namespace":"com.acme","fields":[{"name":"cents","type":"long"}]}"#;
    let schema = r#"{"type":"record","name":"P","namespace":"com.acme","fields":[
        {"name":"id","type":"string"},{"name":"a","type":"Money"},{"name":"b","type":"com.acme.Money"}]}"#;
    let e = Encoder::new(schema, 1, "id", Dialect::Natural, &[money]).expect("compiles");
    let (v, _) = e
        .encode_str(r#"{"id":"k","a":{"cents":1},"b":{"cents":-1}}"#)
        .expect("valid");
    assert_eq!(&v[7..], [2, 1]);
    let missing = Encoder::new(schema, 1, "id", Dialect::Natural, &[])
        .err()
        .expect("unknown");
    assert!(
        missing.0.contains("unknown type \"Money\""),
        "{}",
        missing.0
    );
}

#[test]
fn nesting_is_bounded() {
    let schema = r#"{"type":"record","name":"N","fields":[{"name":"id","type":"string"},
        {"name":"next","type":["null","N"],"default":null}]}"#;
    let e = Encoder::new(schema, 1, "id", Dialect::Natural, &[]).expect("recursive");
    let mut text = String::new();
    for _ in 0..100 {
        text.push_str(r#"{"id":"k","next":"#);
    }
    text.push_str("null");
    text.push_str(&"}".repeat(100));
    let f = e.encode_str(&text).expect_err("too deep");
    assert!(
        f.message().contains("nested deeper than 64"),
        "{}",
        f.message()
    );
    assert_eq!(f.kind, Kind::SchemaValidation);
    let ok = format!(
        "{}null{}",
        r#"{"id":"k","next":"#.repeat(10),
        "}".repeat(10)
    );
    assert!(e.encode_str(&ok).is_ok());
}

#[test]
fn the_message_lists_ten_errors_then_counts_the_rest() {
    let e = natural(r#"{"type":"array","items":"int"}"#);
    let items = vec![r#""x""#; 15].join(",");
    let f = refused(&e, &format!("[{items}]"));
    assert_eq!(f.total, 15);
    assert!(f.message().ends_with("; and 5 more"), "{}", f.message());
}

#[test]
fn bytes_and_fixed_take_strict_base64() {
    let e = natural(r#"{"type":"fixed","name":"F","size":2}"#);
    assert_eq!(value(&e, r#""AAE=""#).expect("2 bytes"), [0, 1]);
    assert!(refused(&e, r#""AAEC""#)
        .message()
        .contains("3 bytes, not 2"));
    assert!(refused(&e, r#""AAE""#).message().contains("base64"));
}
