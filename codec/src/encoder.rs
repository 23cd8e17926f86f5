//! One encoder per registered schema version: the compiled plan, the wire
//! header, the dialect and the key field; the state of one encoding
//! ([`Ctx`]); and what both inputs share about records and keys.

use crate::errors::{message, Abort, Errors, Kind, Seg};
use crate::scalar::Scalar;
use crate::schema::{compile, Dialect, Node, NodeId, Plan, Record, SchemaError};

/// The state of one encoding: output so far, errors so far.
pub struct Ctx<'a> {
    pub plan: &'a Plan,
    pub dialect: Dialect,
    pub out: Vec<u8>,
    pub errs: Errors<'a>,
    /// Records, arrays and maps entered, bounded by [`crate::MAX_DEPTH`].
    pub depth: usize,
    /// The root record's key field, and its value once read.
    pub key_field: Option<usize>,
    pub key: Option<Vec<u8>>,
}

impl<'a> Ctx<'a> {
    pub fn new(plan: &'a Plan, dialect: Dialect, key_field: Option<usize>) -> Self {
        Ctx {
            plan,
            dialect,
            out: Vec::with_capacity(256),
            errs: Errors::default(),
            depth: 0,
            key_field,
            key: None,
        }
    }

    /// Enters a record, array or map; refuses (and reports) past the bound.
    pub fn enter(&mut self) -> Result<bool, Abort> {
        if self.depth >= crate::MAX_DEPTH {
            self.errs.push(|| {
                format!(
                    "nested deeper than {} records, arrays and maps",
                    crate::MAX_DEPTH
                )
            })?;
            return Ok(false);
        }
        self.depth += 1;
        Ok(true)
    }

    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Whether the record being entered at this depth is the event itself.
    pub fn is_root(&self) -> bool {
        self.depth == 1
    }

    /// A field the input did not give: its default, else an error (the key
    /// field is always required).
    pub fn absent(&mut self, rec: &'a Record, fi: usize) -> Result<Option<&'a [u8]>, Abort> {
        let Some(f) = rec.fields.get(fi) else {
            return Ok(None);
        };
        let is_key = self.is_root() && self.key_field == Some(fi);
        match &f.default {
            Some(d) if !is_key => Ok(Some(d)),
            _ => {
                self.errs.path.push(Seg::Field(&f.name));
                let r = self.errs.push_missing(|| {
                    if is_key {
                        "missing: the record key is required".into()
                    } else {
                        "missing: a required field (no default)".into()
                    }
                });
                self.errs.path.pop();
                r.map(|()| None)
            }
        }
    }

    /// Takes the record key from the key field's value (string as is,
    /// integer as decimal text); null or empty is a missing field.
    pub fn take_key(&mut self, s: &Scalar<'_>) -> Result<(), Abort> {
        let key = match s {
            Scalar::Str(t) | Scalar::Uuid(t) if !t.is_empty() => t.as_bytes().to_vec(),
            Scalar::Int(i) => i.to_string().into_bytes(),
            Scalar::Str(_) => {
                return self
                    .errs
                    .push_missing(|| "the record key must not be empty".into())
            }
            Scalar::Null => {
                return self
                    .errs
                    .push_missing(|| "the record key must not be null".into())
            }
            _ => return Ok(()),
        };
        self.key = Some(key);
        Ok(())
    }

    /// Writes the fields of a record in schema order, given where each one
    /// the input gave was written (`slots`, in input order from `start`).
    pub fn finish_record(
        &mut self,
        rec: &'a Record,
        start: usize,
        slots: &[(usize, usize)],
        in_order: bool,
    ) -> Result<(), Abort> {
        let mut defaults = false;
        for (fi, slot) in slots.iter().enumerate() {
            if slot.0 == usize::MAX {
                defaults = true;
                self.absent(rec, fi)?;
            }
        }
        if self.errs.failed() || (in_order && !defaults) {
            return Ok(());
        }
        let mut body = Vec::with_capacity(self.out.len() - start + 16);
        for (fi, slot) in slots.iter().enumerate() {
            if slot.0 == usize::MAX {
                let d = rec.fields.get(fi).and_then(|f| f.default.as_deref());
                body.extend_from_slice(d.unwrap_or_default());
            } else {
                body.extend_from_slice(self.out.get(slot.0..slot.1).unwrap_or_default());
            }
        }
        self.out.truncate(start);
        self.out.extend_from_slice(&body);
        Ok(())
    }
}

/// Why an event was refused.
#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub errors: Vec<(String, String)>,
    pub total: usize,
    /// The key, when it was read before the event failed.
    pub key: Option<Vec<u8>>,
}

impl Failure {
    pub fn message(&self) -> String {
        message(&self.errors, self.total)
    }

    pub fn invalid_json(reason: String, key: Option<Vec<u8>>) -> Self {
        Failure {
            kind: Kind::InvalidJson,
            errors: vec![(String::new(), reason)],
            total: 1,
            key,
        }
    }
}

pub type Encoded = (Vec<u8>, Vec<u8>);

pub struct Encoder {
    plan: Plan,
    header: [u8; 5],
    dialect: Dialect,
    key_field: usize,
}

impl Encoder {
    pub fn new(
        schema: &str,
        schema_id: u32,
        key_field: &str,
        dialect: Dialect,
        named_types: &[&str],
    ) -> Result<Self, SchemaError> {
        let plan = compile(schema, named_types)?;
        let Some(root) = plan.root_record() else {
            return Err(SchemaError("the schema must be a record".into()));
        };
        let Some(fi) = root.field_index(key_field) else {
            return Err(SchemaError(format!(
                "the key field {key_field:?} is not a field of {}",
                root.name
            )));
        };
        let keyable = |id: NodeId| {
            matches!(
                plan.node(id),
                Node::String | Node::Uuid | Node::Int | Node::Long
            )
        };
        let key_node = root.fields.get(fi).map_or(0, |f| f.node);
        let ok = keyable(key_node)
            || match plan.node(key_node) {
                Node::Union(b) => b
                    .iter()
                    .all(|x| keyable(*x) || matches!(plan.node(*x), Node::Null)),
                _ => false,
            };
        if !ok {
            return Err(SchemaError(format!(
                "the key field {key_field:?} must be a string, int or long (optionally with null), not {}",
                plan.describe(key_node, Dialect::Avro)
            )));
        }
        let mut header = [0u8; 5];
        header[1..].copy_from_slice(&schema_id.to_be_bytes());
        Ok(Encoder {
            plan,
            header,
            dialect,
            key_field: fi,
        })
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// A fresh encoding state, the wire header already written.
    pub fn ctx(&self) -> Ctx<'_> {
        let mut cx = Ctx::new(&self.plan, self.dialect, Some(self.key_field));
        cx.out.extend_from_slice(&self.header);
        cx
    }

    /// The result of an encoding whose input was read completely.
    pub fn finish(&self, cx: Ctx<'_>) -> Result<Encoded, Failure> {
        match (cx.errs.failed(), cx.key) {
            (false, Some(key)) => Ok((cx.out, key)),
            (failed, key) => Err(Failure {
                kind: if failed {
                    cx.errs.kind()
                } else {
                    Kind::MissingField
                },
                errors: if failed {
                    cx.errs.list
                } else {
                    vec![(String::new(), "the record key is missing".into())]
                },
                total: cx.errs.total.max(1),
                key,
            }),
        }
    }

    /// JSON text, as bytes that must be UTF-8.
    pub fn encode_json(&self, text: &[u8]) -> Result<Encoded, Failure> {
        match std::str::from_utf8(text) {
            Ok(s) => self.encode_str(s),
            Err(e) => Err(Failure::invalid_json(
                format!(
                    "not valid UTF-8: invalid byte at offset {}",
                    e.valid_up_to()
                ),
                None,
            )),
        }
    }

    pub fn encode_str(&self, text: &str) -> Result<Encoded, Failure> {
        if text.starts_with('\u{feff}') {
            return Err(Failure::invalid_json(
                "not valid JSON: it starts with a byte order mark (U+FEFF); send UTF-8 without one"
                    .into(),
                None,
            ));
        }
        let mut cx = self.ctx();
        if let Err(e) = crate::json::encode(&mut cx, self.plan.root, text) {
            return Err(Failure::invalid_json(
                format!("not valid JSON: {e}"),
                cx.key,
            ));
        }
        self.finish(cx)
    }
}

/// A field default (JSON text) as Avro bytes, per the specification's rules.
pub fn encode_default(plan: &Plan, id: NodeId, text: &str) -> Result<Vec<u8>, String> {
    let mut cx = Ctx::new(plan, Dialect::Default, None);
    crate::json::encode(&mut cx, id, text).map_err(|e| e.to_string())?;
    if cx.errs.failed() {
        return Err(message(&cx.errs.list, cx.errs.total));
    }
    Ok(cx.out)
}
