//! JSON text to Avro in one streaming pass, driven by the plan: serde_json
//! visitors for records, maps and arrays (no DOM), raw text for scalars (read
//! exactly: numbers are never passed through a float unless the type is one)
//! and for union values (each branch is tried on the captured text).

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::avro::{close_block, write_bytes};
use crate::encoder::Ctx;
use crate::errors::{quote, truncate, Abort, Seg};
use crate::scalar::{self, Scalar};
use crate::schema::{Node, NodeId, Record};
use crate::union::{self, Num, UnionInput};

/// Marks an error that only stops a union probe (never reported as JSON).
const PROBE: &str = "union branch does not fit";

fn abort<E: serde::de::Error>(_: Abort) -> E {
    E::custom(PROBE)
}

/// Encodes the JSON value `text` as node `id`. Errors about the value are
/// collected in `cx`; the `Err` is a syntax error (or trailing data).
pub fn encode<'a>(cx: &mut Ctx<'a>, id: NodeId, text: &'a str) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    NodeSeed { cx, id }.deserialize(&mut de)?;
    de.end()
}

/// Encodes already-validated JSON text (a captured value) as node `id`.
fn encode_raw<'a>(cx: &mut Ctx<'a>, id: NodeId, raw: &'a RawValue) -> Result<(), Abort> {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    NodeSeed { cx, id }.deserialize(&mut de).map_err(|_| Abort)
}

/// The JSON type of a value, from its first character.
fn json_type(raw: &str) -> &'static str {
    match raw.as_bytes().first() {
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => "number",
    }
}

/// A captured scalar, with the storage an escaped string needs.
fn with_scalar<T>(raw: &str, f: impl FnOnce(Scalar<'_>) -> T) -> T {
    let b = raw.as_bytes();
    match b.first() {
        Some(b'"') => {
            let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
            if inner.contains('\\') {
                match serde_json::from_str::<String>(raw) {
                    Ok(owned) => f(Scalar::Str(&owned)),
                    Err(_) => f(Scalar::Container),
                }
            } else {
                f(Scalar::Str(inner))
            }
        }
        Some(b'n') => f(Scalar::Null),
        Some(b't') => f(Scalar::Bool(true)),
        Some(b'f') => f(Scalar::Bool(false)),
        Some(b'{' | b'[') | None => f(Scalar::Container),
        Some(_) => {
            if b.iter().any(|c| matches!(c, b'.' | b'e' | b'E')) {
                f(Scalar::Frac(raw))
            } else {
                match raw.parse::<i64>() {
                    Ok(i) => f(Scalar::Int(i)),
                    Err(_) => f(Scalar::BigInt(raw)),
                }
            }
        }
    }
}

fn scalar_raw<'a>(cx: &mut Ctx<'a>, id: NodeId, raw: &'a str) -> Result<(), Abort> {
    let plan = cx.plan;
    let dialect = cx.dialect;
    let node = plan.node(id);
    let refused = with_scalar(raw, |s| scalar::encode(node, &s, dialect, &mut cx.out));
    match refused {
        Ok(()) => Ok(()),
        Err(detail) => cx.errs.push(|| {
            let detail = detail.map(|d| format!(" ({d})")).unwrap_or_default();
            format!(
                "expected {}, got {}{detail}",
                plan.describe(id, dialect),
                truncate(raw)
            )
        }),
    }
}

impl<'a> UnionInput<'a> for &'a RawValue {
    fn is_null(&self) -> bool {
        self.get() == "null"
    }

    fn number(&self) -> Num {
        let t = self.get();
        match json_type(t) {
            "number" if t.bytes().any(|c| matches!(c, b'.' | b'e' | b'E')) => Num::Fraction,
            "number" => Num::Integer,
            _ => Num::NotNumber,
        }
    }

    fn tagged(&self) -> Option<(Cow<'a, str>, Self)> {
        if !self.get().starts_with('{') {
            return None;
        }
        let mut de = serde_json::Deserializer::from_str(self.get());
        de.deserialize_map(OneKey).ok().flatten()
    }

    fn encode(&self, cx: &mut Ctx<'a>, id: NodeId) -> Result<(), Abort> {
        encode_raw(cx, id, self)
    }

    fn got(&self) -> String {
        truncate(self.get())
    }
}

/// Reads a one-key object as (key, value); `None` for any other object.
struct OneKey;

impl<'de> Visitor<'de> for OneKey {
    type Value = Option<(Cow<'de, str>, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(key) = map.next_key_seed(KeySeed)? else {
            return Ok(None);
        };
        let value: &'de RawValue = map.next_value()?;
        if map.next_key_seed(KeySeed)?.is_some() {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(None);
        }
        Ok(Some((key, value)))
    }
}

/// An object key, borrowed from the input when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

struct NodeSeed<'c, 'a> {
    cx: &'c mut Ctx<'a>,
    id: NodeId,
}

impl<'c, 'a> DeserializeSeed<'a> for NodeSeed<'c, 'a> {
    type Value = ();

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<(), D::Error> {
        let NodeSeed { cx, id } = self;
        let plan = cx.plan;
        match plan.node(id) {
            node @ (Node::Record(_) | Node::Map(_) | Node::Array(_)) => {
                if !cx.enter().map_err(abort)? {
                    IgnoredAny::deserialize(d)?;
                    return Ok(());
                }
                let r = d.deserialize_any(Container { cx, id, node });
                if r.is_ok() {
                    cx.leave();
                }
                r
            }
            Node::Union(branches) => {
                let raw = <&'a RawValue>::deserialize(d)?;
                union::encode(cx, id, branches, &raw).map_err(abort)
            }
            // Types that take no number: serde's own visit, no capture.
            Node::String
            | Node::Uuid
            | Node::Enum { .. }
            | Node::Bytes
            | Node::Fixed { .. }
            | Node::Boolean
            | Node::Null => d.deserialize_any(Textual { cx, id }),
            // A number's text decides (`-0` is the integer 0, `1.0` is no
            // int, a decimal is exact): capture it.
            _ => {
                let raw = <&'a RawValue>::deserialize(d)?;
                scalar_raw(cx, id, raw.get()).map_err(abort)
            }
        }
    }
}

/// Visits the value given for a type that takes strings, booleans or null.
struct Textual<'c, 'a> {
    cx: &'c mut Ctx<'a>,
    id: NodeId,
}

impl Textual<'_, '_> {
    fn take<E: serde::de::Error>(
        self,
        s: Scalar<'_>,
        got: impl FnOnce() -> String,
    ) -> Result<(), E> {
        let (plan, dialect, id) = (self.cx.plan, self.cx.dialect, self.id);
        match scalar::encode(plan.node(id), &s, dialect, &mut self.cx.out) {
            Ok(()) => Ok(()),
            Err(detail) => self
                .cx
                .errs
                .push(|| {
                    let detail = detail.map(|d| format!(" ({d})")).unwrap_or_default();
                    format!(
                        "expected {}, got {}{detail}",
                        plan.describe(id, dialect),
                        got()
                    )
                })
                .map_err(abort),
        }
    }
}

impl<'a> Visitor<'a> for Textual<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.take(Scalar::Str(v), || truncate(&quote(v)))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.take(Scalar::Bool(v), || v.to_string())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.take(Scalar::Null, || "null".into())
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.take(Scalar::Container, || v.to_string())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.take(Scalar::Container, || v.to_string())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        // Debug keeps the fraction (`1.0`), as the JSON text had it.
        self.take(Scalar::Container, || format!("{v:?}"))
    }

    fn visit_seq<A: SeqAccess<'a>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.take(Scalar::Container, || "array".into())
    }

    fn visit_map<A: MapAccess<'a>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.take(Scalar::Container, || "object".into())
    }
}

/// Visits the JSON value given for a record, map or array.
struct Container<'c, 'a> {
    cx: &'c mut Ctx<'a>,
    id: NodeId,
    node: &'a Node,
}

impl<'c, 'a> Container<'c, 'a> {
    fn wrong<E: serde::de::Error>(self, got: &str) -> Result<(), E> {
        let plan = self.cx.plan;
        let (id, dialect) = (self.id, self.cx.dialect);
        self.cx
            .errs
            .push(|| format!("expected {}, got {got}", plan.describe(id, dialect)))
            .map_err(abort)
    }

    fn record<A: MapAccess<'a>>(self, rec: &'a Record, mut map: A) -> Result<(), A::Error> {
        let cx = self.cx;
        let n = rec.fields.len();
        let start = cx.out.len();
        // Where each field was written; on the stack for common widths.
        let mut stack = [(usize::MAX, 0usize); 16];
        let mut heap = Vec::new();
        let slots: &mut [(usize, usize)] = if n <= stack.len() {
            stack.get_mut(..n).unwrap_or_default()
        } else {
            heap.resize(n, (usize::MAX, 0usize));
            &mut heap
        };
        let mut in_order = true;
        let mut next = 0;
        let root = cx.is_root();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let Some(fi) = rec.field_index(&key) else {
                let name = key.into_owned();
                cx.errs.path.push(Seg::Name(name));
                cx.errs
                    .push(|| format!("not a field of {}", rec.name))
                    .map_err(abort)?;
                cx.errs.path.pop();
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let Some(field) = rec.fields.get(fi) else {
                continue;
            };
            cx.errs.path.push(Seg::Field(&field.name));
            if slots.get(fi).is_some_and(|s| s.0 != usize::MAX) {
                cx.errs
                    .push(|| "appears twice in the JSON object".into())
                    .map_err(abort)?;
                map.next_value::<IgnoredAny>()?;
                cx.errs.path.pop();
                continue;
            }
            in_order &= fi == next;
            next = fi + 1;
            let s = cx.out.len();
            if root && cx.key_field == Some(fi) {
                let raw: &'a RawValue = map.next_value()?;
                // A tagged key ({"string": "ORD-1"}) is read inside its tag.
                let key_raw = raw.tagged().map_or(raw, |(_, inner)| inner);
                with_scalar(key_raw.get(), |sc| cx.take_key(&sc)).map_err(abort)?;
                encode_raw(cx, field.node, raw).map_err(abort)?;
            } else {
                map.next_value_seed(NodeSeed {
                    cx: &mut *cx,
                    id: field.node,
                })?;
            }
            cx.errs.path.pop();
            if let Some(slot) = slots.get_mut(fi) {
                *slot = (s, cx.out.len());
            }
        }
        cx.finish_record(rec, start, slots, in_order).map_err(abort)
    }

    fn map<A: MapAccess<'a>>(self, values: NodeId, mut map: A) -> Result<(), A::Error> {
        let cx = self.cx;
        let start = cx.out.len();
        let mut count = 0usize;
        let mut seen: Vec<Cow<'a, str>> = Vec::new();
        let mut index: std::collections::HashSet<Cow<'a, str>> = Default::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let dup = if seen.len() < 16 {
                let d = seen.contains(&key);
                if !d {
                    seen.push(key.clone());
                }
                d
            } else {
                if index.is_empty() {
                    index.extend(seen.iter().cloned());
                }
                !index.insert(key.clone())
            };
            write_bytes(&mut cx.out, key.as_bytes());
            cx.errs.path.push(Seg::Key(key));
            if dup {
                cx.errs
                    .push(|| "appears twice in the JSON object".into())
                    .map_err(abort)?;
                map.next_value::<IgnoredAny>()?;
            } else {
                map.next_value_seed(NodeSeed {
                    cx: &mut *cx,
                    id: values,
                })?;
            }
            cx.errs.path.pop();
            count += 1;
        }
        close_block(&mut cx.out, start, count);
        Ok(())
    }
}

macro_rules! wrong_type {
    ($($method:ident($($arg:ty)?) => $got:expr;)*) => {
        $(fn $method<E: serde::de::Error>(self $(, _v: $arg)?) -> Result<(), E> {
            self.wrong($got)
        })*
    };
}

impl<'c, 'a> Visitor<'a> for Container<'c, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    wrong_type! {
        visit_bool(bool) => "boolean";
        visit_i64(i64) => "number";
        visit_u64(u64) => "number";
        visit_f64(f64) => "number";
        visit_str(&str) => "string";
        visit_unit() => "null";
    }

    fn visit_seq<A: SeqAccess<'a>>(self, mut seq: A) -> Result<(), A::Error> {
        let Node::Array(items) = self.node else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return self.wrong("array");
        };
        let cx = self.cx;
        let start = cx.out.len();
        let mut count = 0usize;
        loop {
            cx.errs.path.push(Seg::Index(count));
            let more = seq.next_element_seed(NodeSeed {
                cx: &mut *cx,
                id: *items,
            })?;
            cx.errs.path.pop();
            if more.is_none() {
                break;
            }
            count += 1;
        }
        close_block(&mut cx.out, start, count);
        Ok(())
    }

    fn visit_map<A: MapAccess<'a>>(self, mut map: A) -> Result<(), A::Error> {
        match self.node {
            Node::Record(rec) => self.record(rec, map),
            Node::Map(values) => {
                let values = *values;
                self.map(values, map)
            }
            _ => {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                self.wrong("object")
            }
        }
    }
}

impl fmt::Debug for Container<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Container({})", self.id)
    }
}
