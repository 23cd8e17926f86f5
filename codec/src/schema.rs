//! Compiles an Avro schema (JSON text) into a [`Plan`]: a flat arena of nodes
//! where named types are resolved by full name (namespaces applied), recursion
//! is an index back into the arena, and field defaults are pre-encoded to Avro
//! bytes per the specification (a union's default is for its first branch).

use std::collections::HashMap;

use serde_json::Value;

pub type NodeId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Millis,
    Micros,
}

#[derive(Debug)]
pub struct Field {
    pub name: String,
    pub node: NodeId,
    /// The default, already Avro-encoded; `None`: the field is required.
    pub default: Option<Vec<u8>>,
}

#[derive(Debug)]
pub struct Record {
    pub name: String,
    pub fields: Vec<Field>,
    /// Field index by name, for records too wide for a linear scan.
    pub index: HashMap<String, usize>,
}

impl Record {
    pub fn field_index(&self, name: &str) -> Option<usize> {
        if self.fields.len() <= 8 {
            self.fields.iter().position(|f| f.name == name)
        } else {
            self.index.get(name).copied()
        }
    }
}

#[derive(Debug)]
pub enum Node {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Date,
    Time(Unit),
    /// timestamp-* (`local: false`) and local-timestamp-* (`local: true`).
    Timestamp {
        unit: Unit,
        local: bool,
    },
    Uuid,
    /// decimal on bytes (`fixed: None`) or on a fixed (its full name and size).
    Decimal {
        precision: u32,
        scale: u32,
        fixed: Option<(String, usize)>,
    },
    Fixed {
        name: String,
        size: usize,
    },
    Enum {
        name: String,
        symbols: Vec<String>,
    },
    Record(Record),
    Array(NodeId),
    Map(NodeId),
    Union(Vec<NodeId>),
    /// A record being compiled; never left in a finished plan.
    Pending,
}

/// How JSON text spells Avro values: StreamLake's natural JSON, Avro's own
/// JSON encoding, or the schema's default values (Avro encoding, and a union's
/// default is for its first branch, untagged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Natural,
    Avro,
    Default,
}

#[derive(Debug)]
pub struct Plan {
    pub nodes: Vec<Node>,
    pub root: NodeId,
}

impl Plan {
    pub fn node(&self, id: NodeId) -> &Node {
        // Ids come only from compilation; out of range cannot happen, and
        // Pending is a safe stand-in that rejects every value.
        self.nodes.get(id).unwrap_or(&Node::Pending)
    }

    /// The root record, when the schema is one.
    pub fn root_record(&self) -> Option<&Record> {
        match self.node(self.root) {
            Node::Record(r) => Some(r),
            _ => None,
        }
    }

    /// The names a union branch may be tagged with: its full name (named
    /// types) or type name, then an alternative (short name, or the
    /// underlying type of a logical type) accepted in natural JSON only.
    pub fn tag_names(&self, id: NodeId) -> (&str, Option<&str>) {
        fn short(full: &str) -> Option<&str> {
            full.rsplit_once('.').map(|(_, s)| s)
        }
        match self.node(id) {
            Node::Null => ("null", None),
            Node::Boolean => ("boolean", None),
            Node::Int => ("int", None),
            Node::Long => ("long", None),
            Node::Float => ("float", None),
            Node::Double => ("double", None),
            Node::Bytes => ("bytes", None),
            Node::String => ("string", None),
            Node::Date => ("int", Some("date")),
            Node::Time(Unit::Millis) => ("int", Some("time-millis")),
            Node::Time(Unit::Micros) => ("long", Some("time-micros")),
            Node::Timestamp { unit, local } => (
                "long",
                Some(match (unit, local) {
                    (Unit::Millis, false) => "timestamp-millis",
                    (Unit::Micros, false) => "timestamp-micros",
                    (Unit::Millis, true) => "local-timestamp-millis",
                    (Unit::Micros, true) => "local-timestamp-micros",
                }),
            ),
            Node::Uuid => ("string", Some("uuid")),
            Node::Decimal { fixed: None, .. } => ("bytes", Some("decimal")),
            Node::Decimal {
                fixed: Some((name, _)),
                ..
            } => (name, short(name)),
            Node::Fixed { name, .. } | Node::Enum { name, .. } => (name, short(name)),
            Node::Record(r) => (&r.name, short(&r.name)),
            Node::Array(_) => ("array", None),
            Node::Map(_) => ("map", None),
            Node::Union(_) | Node::Pending => ("union", None),
        }
    }

    /// The type in words, as error messages name it.
    pub fn describe(&self, id: NodeId, dialect: Dialect) -> String {
        let natural = dialect == Dialect::Natural;
        let unit_words = |u: &Unit| match u {
            Unit::Millis => "milliseconds",
            Unit::Micros => "microseconds",
        };
        match self.node(id) {
            Node::Null => "null".into(),
            Node::Boolean => "boolean".into(),
            Node::Int => "int".into(),
            Node::Long => "long".into(),
            Node::Float => "float".into(),
            Node::Double => "double".into(),
            Node::String => "string".into(),
            Node::Bytes if natural => "bytes (base64)".into(),
            Node::Bytes => "bytes (a string of code points U+0000 to U+00FF)".into(),
            Node::Fixed { name, size } if natural => {
                format!("fixed {name} (base64 of exactly {size} bytes)")
            }
            Node::Fixed { name, size } => {
                format!("fixed {name} (a string of exactly {size} code points U+0000 to U+00FF)")
            }
            Node::Date if natural => "date (YYYY-MM-DD, or days since 1970-01-01)".into(),
            Node::Date => "date (int: days since 1970-01-01)".into(),
            Node::Time(u) => {
                let (name, frac) = match u {
                    Unit::Millis => ("time-millis", "fff"),
                    Unit::Micros => ("time-micros", "ffffff"),
                };
                if natural {
                    format!("{name} (HH:MM:SS[.{frac}], or {} since midnight)", unit_words(u))
                } else {
                    format!("{name} ({} since midnight)", unit_words(u))
                }
            }
            Node::Timestamp { unit, local } => {
                let name = self.tag_names(id).1.unwrap_or("timestamp");
                match (natural, local) {
                    (true, false) => format!(
                        "{name} (RFC 3339 with offset, or epoch {})",
                        unit_words(unit)
                    ),
                    (true, true) => format!(
                        "{name} (RFC 3339 date-time without offset, or {} since 1970-01-01T00:00:00)",
                        unit_words(unit)
                    ),
                    (false, false) => format!("{name} (long: epoch {})", unit_words(unit)),
                    (false, true) => format!("{name} (long: local {})", unit_words(unit)),
                }
            }
            Node::Uuid => "uuid (8-4-4-4-12 hex)".into(),
            Node::Decimal {
                precision,
                scale,
                fixed,
            } => match (natural, fixed) {
                (true, _) => {
                    format!("decimal({precision},{scale}) (a JSON number or decimal string)")
                }
                (false, None) => format!(
                    "decimal({precision},{scale}) (bytes: a string of code points U+0000 to U+00FF)"
                ),
                (false, Some((name, size))) => format!(
                    "decimal({precision},{scale}) (fixed {name}: a string of exactly {size} code points)"
                ),
            },
            Node::Enum { name, symbols } => {
                let shown: Vec<&str> = symbols.iter().take(10).map(String::as_str).collect();
                let more = if symbols.len() > 10 { ", ..." } else { "" };
                format!("enum {name} (one of {}{more})", shown.join(", "))
            }
            Node::Record(_) => "a JSON object".into(),
            Node::Array(_) => "array".into(),
            Node::Map(_) => "map (a JSON object)".into(),
            Node::Union(branches) => {
                let names: Vec<String> = branches
                    .iter()
                    .map(|b| match self.node(*b) {
                        Node::Record(r) => format!("record {}", r.name),
                        _ => {
                            let (main, alt) = self.tag_names(*b);
                            alt.filter(|_| !matches!(self.node(*b), Node::Fixed { .. }))
                                .filter(|_| !matches!(self.node(*b), Node::Enum { .. }))
                                .unwrap_or(main)
                                .to_string()
                        }
                    })
                    .collect();
                format!("one of {}", names.join(", "))
            }
            Node::Pending => "(unresolved type)".into(),
        }
    }
}

/// A schema that cannot be compiled: the message says where and why.
#[derive(Debug)]
pub struct SchemaError(pub String);

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

type Res<T> = Result<T, SchemaError>;

fn err<T>(msg: impl Into<String>) -> Res<T> {
    Err(SchemaError(msg.into()))
}

struct PendingDefault {
    record: NodeId,
    field: usize,
    node: NodeId,
    value: Value,
}

struct Compiler {
    nodes: Vec<Node>,
    names: HashMap<String, NodeId>,
    defaults: Vec<PendingDefault>,
}

const PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

fn primitive(name: &str) -> Option<Node> {
    Some(match name {
        "null" => Node::Null,
        "boolean" => Node::Boolean,
        "int" => Node::Int,
        "long" => Node::Long,
        "float" => Node::Float,
        "double" => Node::Double,
        "bytes" => Node::Bytes,
        "string" => Node::String,
        _ => return None,
    })
}

fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The full name and namespace of a named type declared in namespace `ns`.
fn full_name(obj: &serde_json::Map<String, Value>, ns: &str) -> Res<(String, String)> {
    let Some(Value::String(name)) = obj.get("name") else {
        return err("a named type (record, enum, fixed) needs a string \"name\"");
    };
    let full = if name.contains('.') {
        name.clone()
    } else {
        match obj.get("namespace") {
            Some(Value::String(n)) if !n.is_empty() => format!("{n}.{name}"),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                if ns.is_empty() || obj.contains_key("namespace") {
                    name.clone()
                } else {
                    format!("{ns}.{name}")
                }
            }
            Some(_) => return err(format!("{name}: \"namespace\" must be a string")),
        }
    };
    let (space, short) = full.rsplit_once('.').unwrap_or(("", &full));
    if !valid_name(short) || (!space.is_empty() && !space.split('.').all(valid_name)) {
        return err(format!("{full:?} is not a valid Avro name"));
    }
    if PRIMITIVES.contains(&full.as_str()) {
        return err(format!("{full:?} redefines a primitive type"));
    }
    Ok((full.clone(), space.to_string()))
}

fn uint(obj: &serde_json::Map<String, Value>, key: &str) -> Option<u64> {
    obj.get(key).and_then(Value::as_u64)
}

impl Compiler {
    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn declare(&mut self, full: &str, id: NodeId) -> Res<()> {
        if self.names.insert(full.to_string(), id).is_some() {
            return err(format!("{full} is defined twice"));
        }
        Ok(())
    }

    fn resolve(&self, name: &str, ns: &str) -> Res<NodeId> {
        if !name.contains('.') && !ns.is_empty() {
            if let Some(id) = self.names.get(&format!("{ns}.{name}")) {
                return Ok(*id);
            }
        }
        match self.names.get(name) {
            Some(id) => Ok(*id),
            None => err(format!(
                "unknown type {name:?} (not a primitive, and no named type of that name is defined before it)"
            )),
        }
    }

    fn compile(&mut self, v: &Value, ns: &str) -> Res<NodeId> {
        match v {
            Value::String(name) => match primitive(name) {
                Some(node) => Ok(self.push(node)),
                None => self.resolve(name, ns),
            },
            Value::Array(branches) => self.compile_union(branches, ns),
            Value::Object(obj) => self.compile_object(obj, ns),
            other => err(format!("not an Avro schema: {other}")),
        }
    }

    fn compile_union(&mut self, branches: &[Value], ns: &str) -> Res<NodeId> {
        if branches.is_empty() {
            return err("a union needs at least one branch");
        }
        let mut ids = Vec::with_capacity(branches.len());
        let mut seen: Vec<String> = Vec::new();
        for b in branches {
            let id = self.compile(b, ns)?;
            let tag = match &self.nodes[id] {
                Node::Union(_) => return err("a union may not directly contain a union"),
                Node::Record(r) => r.name.clone(),
                Node::Pending => {
                    // A reference to a record still being compiled.
                    self.names
                        .iter()
                        .find(|(_, v)| **v == id)
                        .map(|(k, _)| k.clone())
                        .unwrap_or_default()
                }
                _ => Plan::tag_names_of(&self.nodes, id).0.to_string(),
            };
            if seen.contains(&tag) {
                return err(format!("a union contains {tag} twice"));
            }
            seen.push(tag);
            ids.push(id);
        }
        Ok(self.push(Node::Union(ids)))
    }

    fn compile_object(&mut self, obj: &serde_json::Map<String, Value>, ns: &str) -> Res<NodeId> {
        let Some(ty) = obj.get("type") else {
            return err("a schema object needs a \"type\"");
        };
        let ty = match ty {
            Value::String(s) => s.as_str(),
            nested => return self.compile(nested, ns),
        };
        let logical = obj.get("logicalType").and_then(Value::as_str);
        match ty {
            "record" | "error" => self.compile_record(obj, ns),
            "enum" => {
                let (full, _) = full_name(obj, ns)?;
                let Some(Value::Array(syms)) = obj.get("symbols") else {
                    return err(format!("enum {full} needs a \"symbols\" list"));
                };
                let mut symbols = Vec::with_capacity(syms.len());
                for s in syms {
                    match s.as_str() {
                        Some(s) if valid_name(s) && !symbols.iter().any(|x: &String| x == s) => {
                            symbols.push(s.to_string())
                        }
                        _ => return err(format!("enum {full}: invalid or repeated symbol {s}")),
                    }
                }
                let id = self.push(Node::Enum {
                    name: full.clone(),
                    symbols,
                });
                self.declare(&full, id)?;
                Ok(id)
            }
            "fixed" => {
                let (full, _) = full_name(obj, ns)?;
                // Avro's Java implementation holds a size in an int.
                let Some(size) = uint(obj, "size")
                    .filter(|s| *s <= i32::MAX as u64)
                    .and_then(|s| usize::try_from(s).ok())
                else {
                    return err(format!(
                        "fixed {full} needs an integer \"size\" from 0 to 2147483647"
                    ));
                };
                let node = match decimal_params(obj, logical, Some(size)) {
                    Some((precision, scale)) => Node::Decimal {
                        precision,
                        scale,
                        fixed: Some((full.clone(), size)),
                    },
                    None => Node::Fixed {
                        name: full.clone(),
                        size,
                    },
                };
                let id = self.push(node);
                self.declare(&full, id)?;
                Ok(id)
            }
            "array" => {
                let Some(items) = obj.get("items") else {
                    return err("an array needs \"items\"");
                };
                let item = self.compile(items, ns)?;
                Ok(self.push(Node::Array(item)))
            }
            "map" => {
                let Some(values) = obj.get("values") else {
                    return err("a map needs \"values\"");
                };
                let value = self.compile(values, ns)?;
                Ok(self.push(Node::Map(value)))
            }
            prim => {
                let Some(base) = primitive(prim) else {
                    // {"type": "SomeNamedType"} refers to a named type.
                    return self.resolve(prim, ns);
                };
                // Logical types the spec defines on this base; an unknown or
                // invalid one is ignored, as the specification says.
                let node = match (logical, base) {
                    (Some("date"), Node::Int) => Node::Date,
                    (Some("time-millis"), Node::Int) => Node::Time(Unit::Millis),
                    (Some("time-micros"), Node::Long) => Node::Time(Unit::Micros),
                    (Some("timestamp-millis"), Node::Long) => Node::Timestamp {
                        unit: Unit::Millis,
                        local: false,
                    },
                    (Some("timestamp-micros"), Node::Long) => Node::Timestamp {
                        unit: Unit::Micros,
                        local: false,
                    },
                    (Some("local-timestamp-millis"), Node::Long) => Node::Timestamp {
                        unit: Unit::Millis,
                        local: true,
                    },
                    (Some("local-timestamp-micros"), Node::Long) => Node::Timestamp {
                        unit: Unit::Micros,
                        local: true,
                    },
                    (Some("uuid"), Node::String) => Node::Uuid,
                    (Some("decimal"), Node::Bytes) => match decimal_params(obj, logical, None) {
                        Some((precision, scale)) => Node::Decimal {
                            precision,
                            scale,
                            fixed: None,
                        },
                        None => Node::Bytes,
                    },
                    (_, base) => base,
                };
                Ok(self.push(node))
            }
        }
    }

    fn compile_record(&mut self, obj: &serde_json::Map<String, Value>, ns: &str) -> Res<NodeId> {
        let (full, space) = full_name(obj, ns)?;
        let Some(Value::Array(fields)) = obj.get("fields") else {
            return err(format!("record {full} needs a \"fields\" list"));
        };
        let id = self.push(Node::Pending);
        self.declare(&full, id)?;
        let mut compiled = Vec::with_capacity(fields.len());
        let mut index = HashMap::with_capacity(fields.len());
        for f in fields {
            let Some(Value::String(name)) = f.get("name") else {
                return err(format!(
                    "record {full}: every field needs a string \"name\""
                ));
            };
            if !valid_name(name) {
                return err(format!("record {full}: {name:?} is not a valid field name"));
            }
            let Some(ty) = f.get("type") else {
                return err(format!("record {full}: field {name} needs a \"type\""));
            };
            let node = self
                .compile(ty, &space)
                .map_err(|e| SchemaError(format!("{full}.{name}: {}", e.0)))?;
            if index.insert(name.clone(), compiled.len()).is_some() {
                return err(format!("record {full}: field {name} is defined twice"));
            }
            if let Some(d) = f.get("default") {
                self.defaults.push(PendingDefault {
                    record: id,
                    field: compiled.len(),
                    node,
                    value: d.clone(),
                });
            }
            compiled.push(Field {
                name: name.clone(),
                node,
                default: None,
            });
        }
        self.nodes[id] = Node::Record(Record {
            name: full,
            fields: compiled,
            index,
        });
        Ok(id)
    }
}

impl Plan {
    fn tag_names_of(nodes: &[Node], id: NodeId) -> (&str, Option<&str>) {
        // Only called while compiling, for duplicate detection; a throwaway
        // plan view borrows the arena.
        match nodes.get(id) {
            Some(Node::Fixed { name, .. }) | Some(Node::Enum { name, .. }) => (name, None),
            Some(Node::Decimal {
                fixed: Some((name, _)),
                ..
            }) => (name, None),
            Some(Node::Null) => ("null", None),
            Some(Node::Boolean) => ("boolean", None),
            Some(Node::Int | Node::Date | Node::Time(Unit::Millis)) => ("int", None),
            Some(Node::Long | Node::Time(Unit::Micros) | Node::Timestamp { .. }) => ("long", None),
            Some(Node::Float) => ("float", None),
            Some(Node::Double) => ("double", None),
            Some(Node::Bytes | Node::Decimal { fixed: None, .. }) => ("bytes", None),
            Some(Node::String | Node::Uuid) => ("string", None),
            Some(Node::Array(_)) => ("array", None),
            Some(Node::Map(_)) => ("map", None),
            _ => ("", None),
        }
    }
}

/// (precision, scale) of a valid decimal logical type, else None (ignored).
fn decimal_params(
    obj: &serde_json::Map<String, Value>,
    logical: Option<&str>,
    fixed_size: Option<usize>,
) -> Option<(u32, u32)> {
    if logical != Some("decimal") {
        return None;
    }
    let precision = u32::try_from(uint(obj, "precision")?).ok()?;
    let scale = match obj.get("scale") {
        None => 0,
        Some(v) => u32::try_from(v.as_u64()?).ok()?,
    };
    if precision == 0 || scale > precision {
        return None;
    }
    if let Some(size) = fixed_size {
        // The largest precision a signed `size`-byte integer holds.
        let max = if size == 0 {
            0
        } else {
            (size.saturating_mul(8).saturating_sub(1) as f64 * std::f64::consts::LOG10_2).floor()
                as u32
        };
        if precision > max {
            return None;
        }
    }
    Some((precision, scale))
}

/// Compiles `schema` after the named types it references (`named_types`, each
/// a JSON text of a record, enum or fixed, dependencies first).
pub fn compile(schema: &str, named_types: &[&str]) -> Result<Plan, SchemaError> {
    let mut c = Compiler {
        nodes: Vec::new(),
        names: HashMap::new(),
        defaults: Vec::new(),
    };
    for (i, text) in named_types.iter().enumerate() {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| SchemaError(format!("named type #{}: not JSON: {e}", i + 1)))?;
        c.compile(&v, "")
            .map_err(|e| SchemaError(format!("named type #{}: {}", i + 1, e.0)))?;
    }
    let v: Value = serde_json::from_str(schema)
        .map_err(|e| SchemaError(format!("schema is not JSON: {e}")))?;
    let root = c.compile(&v, "")?;
    let mut plan = Plan {
        nodes: c.nodes,
        root,
    };
    for d in c.defaults {
        let text = d.value.to_string();
        let bytes = crate::encoder::encode_default(&plan, d.node, &text).map_err(|reason| {
            let (rec, field) = match plan.node(d.record) {
                Node::Record(r) => (
                    r.name.as_str(),
                    r.fields.get(d.field).map_or("?", |f| f.name.as_str()),
                ),
                _ => ("?", "?"),
            };
            SchemaError(format!("{rec}.{field}: invalid default {text}: {reason}"))
        })?;
        if let Some(Node::Record(r)) = plan.nodes.get_mut(d.record) {
            if let Some(f) = r.fields.get_mut(d.field) {
                f.default = Some(bytes);
            }
        }
    }
    Ok(plan)
}
