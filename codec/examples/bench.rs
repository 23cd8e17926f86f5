use _codec::encoder::Encoder;
use _codec::schema::Dialect;
fn main() {
    let mode = std::env::args().nth(1).unwrap();
    let n: usize = std::env::args().nth(2).unwrap().parse().unwrap();
    let schema = std::fs::read_to_string("/tmp/cx/big.avsc").unwrap();
    let line = std::fs::read_to_string("/tmp/cx/big.json").unwrap();
    let enc = Encoder::new(&schema, 1, "id", Dialect::Natural, &[]).unwrap();
    let orders = std::fs::read_to_string("../avro/orders/v2.avsc").unwrap();
    let oenc = Encoder::new(&orders, 1, "order_id", Dialect::Natural, &[]).unwrap();
    let oline = r#"{"order_id": "ORD-1", "customer_id": "CUST-42", "amount": 12.5, "event_time": "2026-01-21T10:00:00Z", "currency": "EUR"}"#;
    for _ in 0..n {
        match mode.as_str() {
            "orders" => {
                std::hint::black_box(oenc.encode_str(std::hint::black_box(oline)).unwrap());
            }
            "big" => {
                std::hint::black_box(enc.encode_str(std::hint::black_box(&line)).unwrap());
            }
            "ignored" => {
                let v: serde::de::IgnoredAny =
                    serde_json::from_str(std::hint::black_box(&line)).unwrap();
                std::hint::black_box(v);
            }
            "oignored" => {
                let v: serde::de::IgnoredAny =
                    serde_json::from_str(std::hint::black_box(oline)).unwrap();
                std::hint::black_box(v);
            }
            "value" => {
                let v: serde_json::Value =
                    serde_json::from_str(std::hint::black_box(&line)).unwrap();
                std::hint::black_box(v);
            }
            "ovalue" => {
                let v: serde_json::Value =
                    serde_json::from_str(std::hint::black_box(oline)).unwrap();
                std::hint::black_box(v);
            }
            _ => panic!(),
        }
    }
}
