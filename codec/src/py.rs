//! The Python face of the encoder (`streamlake._codec`): `Encoder` with
//! `encode_json` (JSON text, one streaming pass, no Python objects built) and
//! `encode_object` (Python objects walked directly, by the same rules), and
//! `EncodeError` carrying the kind, message, every (path, reason) and the key.

use std::borrow::Cow;

use pyo3::create_exception;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDate, PyDateAccess, PyDateTime, PyDelta, PyDeltaAccess, PyDict,
    PyFloat, PyInt, PyList, PyMapping, PyString, PyTime, PyTimeAccess, PyTuple, PyType,
    PyTzInfoAccess,
};

use crate::avro::{close_block, write_bytes};
use crate::encoder::{Ctx, Encoded, Encoder, Failure};
use crate::errors::{quote, truncate, Abort, Seg};
use crate::logical::days_from_civil;
use crate::scalar::{self, Scalar};
use crate::schema::{Dialect, Node, NodeId, Record};
use crate::union::{self, Num, UnionInput};

create_exception!(
    _codec,
    EncodeError,
    PyValueError,
    "An event the schema refuses. Attributes: kind (\"invalid_json\", \"missing_field\" or \"schema_validation\"), message, errors (list of (path, reason)), key (bytes or None)."
);

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static UUID: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static ENUM: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// An Avro encoder for one registered schema version.
#[pyclass(frozen, module = "streamlake._codec", name = "Encoder")]
struct PyEncoder {
    inner: Encoder,
    schema_id: u32,
    /// Field names as Python strings, per record node (dict look-ups).
    names: Vec<Vec<Py<PyString>>>,
}

fn failure(py: Python<'_>, f: Failure) -> PyErr {
    let message = f.message();
    let err = EncodeError::new_err(message.clone());
    let value = err.value(py);
    let set = || -> PyResult<()> {
        value.setattr("kind", f.kind.as_str())?;
        value.setattr("message", message)?;
        value.setattr("errors", f.errors)?;
        value.setattr("key", f.key.map(|k| PyBytes::new(py, &k)))?;
        Ok(())
    };
    match set() {
        Ok(()) => err,
        Err(e) => e,
    }
}

fn finish<'py>(
    py: Python<'py>,
    r: Result<Encoded, Failure>,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    match r {
        Ok((value, key)) => Ok((PyBytes::new(py, &value), PyBytes::new(py, &key))),
        Err(f) => Err(failure(py, f)),
    }
}

#[pymethods]
impl PyEncoder {
    #[new]
    #[pyo3(signature = (schema_json, schema_id, *, key_field, json_encoding = "natural", named_types = Vec::new()))]
    fn new(
        py: Python<'_>,
        schema_json: &str,
        schema_id: i64,
        key_field: &str,
        json_encoding: &str,
        named_types: Vec<String>,
    ) -> PyResult<Self> {
        let dialect = match json_encoding {
            "natural" => Dialect::Natural,
            "avro" => Dialect::Avro,
            other => {
                return Err(PyValueError::new_err(format!(
                    "json_encoding must be \"natural\" or \"avro\", not {other:?}"
                )))
            }
        };
        let Ok(id) = u32::try_from(schema_id) else {
            return Err(PyValueError::new_err(format!(
                "schema_id must be 0 to 4294967295, not {schema_id}"
            )));
        };
        let named: Vec<&str> = named_types.iter().map(String::as_str).collect();
        let inner = Encoder::new(schema_json, id, key_field, dialect, &named)
            .map_err(|e| PyValueError::new_err(format!("invalid schema: {e}")))?;
        let names = inner
            .plan()
            .nodes
            .iter()
            .map(|n| match n {
                Node::Record(r) => r
                    .fields
                    .iter()
                    .map(|f| PyString::intern(py, &f.name).unbind())
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        Ok(PyEncoder {
            inner,
            schema_id: id,
            names,
        })
    }

    #[getter]
    fn schema_id(&self) -> u32 {
        self.schema_id
    }

    /// JSON text (str or bytes): exactly one JSON value.
    fn encode_json<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let r = if let Ok(s) = data.cast::<PyString>() {
            match s.to_str() {
                Ok(text) => self.inner.encode_str(text),
                Err(_) => Err(Failure::invalid_json(
                    "not valid UTF-8: the str holds a lone surrogate".into(),
                    None,
                )),
            }
        } else if let Ok(b) = data.cast::<PyBytes>() {
            self.inner.encode_json(b.as_bytes())
        } else if let Ok(b) = data.cast::<PyByteArray>() {
            self.inner.encode_json(&b.to_vec())
        } else {
            return Err(PyTypeError::new_err(format!(
                "encode_json takes JSON text as str, bytes or bytearray, not {}",
                type_name(data)
            )));
        };
        finish(py, r)
    }

    /// Python objects: dict, list, tuple, str, int, float, bool, None,
    /// datetime, date, time, Decimal, UUID, bytes, bytearray, Enum members.
    fn encode_object<'py>(
        &self,
        py: Python<'py>,
        obj: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let mut cx = self.inner.ctx();
        let walker = Walker {
            py,
            names: &self.names,
        };
        let _ = walker.encode(&mut cx, self.inner.plan().root, obj);
        finish(py, self.inner.finish(cx))
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into())
}

/// How messages quote a Python value: JSON for JSON's types, repr otherwise.
fn py_got(obj: &Bound<'_, PyAny>) -> String {
    if obj.is_none() {
        return "null".into();
    }
    if let Ok(b) = obj.cast_exact::<PyBool>() {
        return if b.is_true() { "true" } else { "false" }.into();
    }
    if let Ok(s) = obj.cast_exact::<PyString>() {
        return truncate(&quote(&s.to_string_lossy()));
    }
    match obj.repr() {
        Ok(r) => truncate(&r.to_string_lossy()),
        Err(_) => format!("<{}>", type_name(obj)),
    }
}

#[derive(Clone, Copy)]
struct Walker<'w, 'py> {
    py: Python<'py>,
    names: &'w [Vec<Py<PyString>>],
}

/// A Python value as a union sees it.
struct PyVal<'w, 'py> {
    walker: Walker<'w, 'py>,
    obj: Bound<'py, PyAny>,
}

impl<'a> UnionInput<'a> for PyVal<'_, '_> {
    fn is_null(&self) -> bool {
        self.obj.is_none()
    }

    fn number(&self) -> Num {
        if self.obj.is_instance_of::<PyBool>() {
            Num::NotNumber
        } else if self.obj.is_instance_of::<PyInt>() {
            Num::Integer
        } else if self.obj.is_instance_of::<PyFloat>() {
            Num::Fraction
        } else {
            Num::NotNumber
        }
    }

    fn tagged(&self) -> Option<(Cow<'a, str>, Self)> {
        let d = self.obj.cast::<PyDict>().ok()?;
        if d.len() != 1 {
            return None;
        }
        let (k, v) = d.iter().next()?;
        let k = k.cast::<PyString>().ok()?.to_str().ok()?.to_string();
        Some((
            Cow::Owned(k),
            PyVal {
                walker: self.walker,
                obj: v,
            },
        ))
    }

    fn encode(&self, cx: &mut Ctx<'a>, id: NodeId) -> Result<(), Abort> {
        self.walker.encode(cx, id, &self.obj)
    }

    fn got(&self) -> String {
        py_got(&self.obj)
    }
}

/// Why a Python value could not be seen as a scalar at all.
enum Unreadable {
    Container,
    Failed(String),
}

impl<'w, 'py> Walker<'w, 'py> {
    fn encode<'a>(
        self,
        cx: &mut Ctx<'a>,
        id: NodeId,
        obj: &Bound<'py, PyAny>,
    ) -> Result<(), Abort> {
        let plan = cx.plan;
        let node = plan.node(id);
        let obj = match self.unwrap_enum(obj) {
            Ok(o) => o,
            Err(e) => return cx.errs.push(|| format!("could not read the value: {e}")),
        };
        match node {
            Node::Record(rec) => self.container(cx, id, &obj, |w, cx, obj| {
                let dict = as_dict(obj)?;
                w.record(cx, id, rec, &dict).map(Some).or(Ok(None))
            }),
            Node::Map(values) => self.container(cx, id, &obj, |w, cx, obj| {
                let dict = as_dict(obj)?;
                w.map(cx, *values, &dict).map(Some).or(Ok(None))
            }),
            Node::Array(items) => self.container(cx, id, &obj, |w, cx, obj| {
                if let Ok(l) = obj.cast::<PyList>() {
                    w.array(cx, *items, l.iter()).map(Some).or(Ok(None))
                } else if let Ok(t) = obj.cast::<PyTuple>() {
                    w.array(cx, *items, t.iter()).map(Some).or(Ok(None))
                } else {
                    Err(())
                }
            }),
            Node::Union(branches) => union::encode(
                cx,
                id,
                branches,
                &PyVal {
                    walker: self,
                    obj: obj.clone(),
                },
            ),
            _ => {
                let dialect = cx.dialect;
                let refused =
                    match with_scalar(&obj, |s| scalar::encode(node, &s, dialect, &mut cx.out)) {
                        Ok(Ok(())) => return Ok(()),
                        Ok(Err(detail)) => detail,
                        Err(Unreadable::Container) => None,
                        Err(Unreadable::Failed(why)) => Some(why),
                    };
                cx.errs.push(|| {
                    let detail = refused.map(|d| format!(" ({d})")).unwrap_or_default();
                    format!(
                        "expected {}, got {}{detail}",
                        plan.describe(id, dialect),
                        py_got(&obj)
                    )
                })
            }
        }
    }

    /// Enum members stand for their value.
    fn unwrap_enum(&self, obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let mut obj = obj.clone();
        for _ in 0..8 {
            if obj.is_exact_instance_of::<PyString>()
                || obj.is_exact_instance_of::<PyDict>()
                || obj.is_exact_instance_of::<PyInt>()
                || obj.is_exact_instance_of::<PyFloat>()
                || obj.is_exact_instance_of::<PyList>()
                || obj.is_none()
            {
                break;
            }
            let enum_type = ENUM.import(self.py, "enum", "Enum")?;
            if !obj.is_instance(enum_type)? {
                break;
            }
            obj = obj.getattr("value")?;
        }
        Ok(obj)
    }

    /// Enters a record, map or array; `f` gives `None` when it reported,
    /// `Err` when the value is not the container type.
    fn container<'a>(
        self,
        cx: &mut Ctx<'a>,
        id: NodeId,
        obj: &Bound<'py, PyAny>,
        f: impl FnOnce(Self, &mut Ctx<'a>, &Bound<'py, PyAny>) -> Result<Option<()>, ()>,
    ) -> Result<(), Abort> {
        if !cx.enter()? {
            return Ok(());
        }
        let r = f(self, cx, obj);
        let plan = cx.plan;
        match r {
            Ok(Some(())) => {
                cx.leave();
                Ok(())
            }
            Ok(None) => Err(Abort),
            Err(()) => {
                cx.leave();
                let dialect = cx.dialect;
                cx.errs.push(|| {
                    format!(
                        "expected {}, got {} {}",
                        plan.describe(id, dialect),
                        type_name(obj),
                        py_got(obj)
                    )
                })
            }
        }
    }

    fn record<'a>(
        self,
        cx: &mut Ctx<'a>,
        id: NodeId,
        rec: &'a Record,
        dict: &Bound<'py, PyDict>,
    ) -> Result<(), Abort> {
        let names = self.names.get(id).map(Vec::as_slice).unwrap_or_default();
        let root = cx.is_root();
        let mut found = 0usize;
        for (fi, f) in rec.fields.iter().enumerate() {
            let value = match names.get(fi) {
                Some(name) => dict.get_item(name.bind(self.py)),
                None => dict.get_item(&f.name),
            };
            match value {
                Ok(Some(v)) => {
                    found += 1;
                    cx.errs.path.push(Seg::Field(&f.name));
                    if root && cx.key_field == Some(fi) {
                        let tagged = PyVal {
                            walker: self,
                            obj: v.clone(),
                        }
                        .tagged();
                        let key = tagged.map_or(v.clone(), |(_, inner)| inner.obj);
                        if let Ok(key) = self.unwrap_enum(&key) {
                            with_scalar(&key, |s| cx.take_key(&s)).unwrap_or(Ok(()))?;
                        }
                    }
                    self.encode(cx, f.node, &v)?;
                    cx.errs.path.pop();
                }
                Ok(None) => {
                    if let Some(d) = cx.absent(rec, fi)? {
                        cx.out.extend_from_slice(d);
                    }
                }
                Err(e) => {
                    cx.errs.path.push(Seg::Field(&f.name));
                    cx.errs.push(|| format!("could not read the field: {e}"))?;
                    cx.errs.path.pop();
                }
            }
        }
        if found < dict.len() {
            for (k, _) in dict.iter() {
                let known = k
                    .cast::<PyString>()
                    .ok()
                    .and_then(|s| s.to_str().ok().map(|s| rec.field_index(s).is_some()))
                    .unwrap_or(false);
                if !known {
                    let name = match k.cast::<PyString>() {
                        Ok(s) => s.to_string_lossy().into_owned(),
                        Err(_) => py_got(&k),
                    };
                    cx.errs.path.push(Seg::Name(name));
                    cx.errs.push(|| format!("not a field of {}", rec.name))?;
                    cx.errs.path.pop();
                }
            }
        }
        Ok(())
    }

    fn map<'a>(
        self,
        cx: &mut Ctx<'a>,
        values: NodeId,
        dict: &Bound<'py, PyDict>,
    ) -> Result<(), Abort> {
        let start = cx.out.len();
        let mut count = 0usize;
        for (k, v) in dict.iter() {
            let key = match k.cast::<PyString>().map(|s| s.to_str()) {
                Ok(Ok(s)) => s.to_string(),
                _ => {
                    cx.errs.path.push(Seg::Name(py_got(&k)));
                    cx.errs.push(|| "a map key must be a str".into())?;
                    cx.errs.path.pop();
                    continue;
                }
            };
            write_bytes(&mut cx.out, key.as_bytes());
            cx.errs.path.push(Seg::Key(Cow::Owned(key)));
            self.encode(cx, values, &v)?;
            cx.errs.path.pop();
            count += 1;
        }
        close_block(&mut cx.out, start, count);
        Ok(())
    }

    fn array<'a>(
        self,
        cx: &mut Ctx<'a>,
        items: NodeId,
        iter: impl Iterator<Item = Bound<'py, PyAny>>,
    ) -> Result<(), Abort> {
        let start = cx.out.len();
        let mut count = 0usize;
        for v in iter {
            cx.errs.path.push(Seg::Index(count));
            self.encode(cx, items, &v)?;
            cx.errs.path.pop();
            count += 1;
        }
        close_block(&mut cx.out, start, count);
        Ok(())
    }
}

/// A dict, or a Mapping copied into one; `Err` for anything else.
fn as_dict<'py>(obj: &Bound<'py, PyAny>) -> Result<Bound<'py, PyDict>, ()> {
    if let Ok(d) = obj.cast::<PyDict>() {
        return Ok(d.clone());
    }
    let m = obj.cast::<PyMapping>().map_err(|_| ())?;
    let d = PyDict::new(obj.py());
    d.update(m).map_err(|_| ())?;
    Ok(d)
}

const US_PER_DAY: i64 = 86_400_000_000;

fn delta_us(d: &Bound<'_, PyDelta>) -> i64 {
    i64::from(d.get_days()) * US_PER_DAY
        + i64::from(d.get_seconds()) * 1_000_000
        + i64::from(d.get_microseconds())
}

/// Sees a Python value as a scalar and hands it to `f`.
fn with_scalar<T>(
    obj: &Bound<'_, PyAny>,
    f: impl FnOnce(Scalar<'_>) -> T,
) -> Result<T, Unreadable> {
    let failed = |e: PyErr| Unreadable::Failed(e.to_string());
    if obj.is_none() {
        return Ok(f(Scalar::Null));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_str().map_err(|_| {
            Unreadable::Failed("a str with a lone surrogate is not UTF-8 text".into())
        })?;
        return Ok(f(Scalar::Str(s)));
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(f(Scalar::Bool(b.is_true())));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        return Ok(match i.extract::<i64>() {
            Ok(v) => f(Scalar::Int(v)),
            Err(_) => {
                let text = i.str().map_err(failed)?;
                f(Scalar::BigInt(&text.to_string_lossy()))
            }
        });
    }
    if let Ok(x) = obj.cast::<PyFloat>() {
        return Ok(f(Scalar::Float(x.value())));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(f(Scalar::Bytes(b.as_bytes())));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(f(Scalar::Bytes(&b.to_vec())));
    }
    if let Ok(dt) = obj.cast::<PyDateTime>() {
        let days = days_from_civil(
            i64::from(dt.get_year()),
            i64::from(dt.get_month()),
            i64::from(dt.get_day()),
        );
        let wall_us = days * US_PER_DAY
            + i64::from(dt.get_hour()) * 3_600_000_000
            + i64::from(dt.get_minute()) * 60_000_000
            + i64::from(dt.get_second()) * 1_000_000
            + i64::from(dt.get_microsecond());
        let offset_us = match dt.get_tzinfo() {
            None => None,
            Some(_) => {
                let off = obj.call_method0("utcoffset").map_err(failed)?;
                match off.cast::<PyDelta>() {
                    Ok(d) => Some(delta_us(d)),
                    Err(_) => None,
                }
            }
        };
        return Ok(f(Scalar::DateTime { wall_us, offset_us }));
    }
    if let Ok(d) = obj.cast::<PyDate>() {
        let days = days_from_civil(
            i64::from(d.get_year()),
            i64::from(d.get_month()),
            i64::from(d.get_day()),
        );
        return Ok(f(Scalar::Date(days)));
    }
    if let Ok(t) = obj.cast::<PyTime>() {
        let us = i64::from(t.get_hour()) * 3_600_000_000
            + i64::from(t.get_minute()) * 60_000_000
            + i64::from(t.get_second()) * 1_000_000
            + i64::from(t.get_microsecond());
        return Ok(f(Scalar::Time {
            us,
            aware: t.get_tzinfo().is_some(),
        }));
    }
    let py = obj.py();
    if obj
        .is_instance(DECIMAL.import(py, "decimal", "Decimal").map_err(failed)?)
        .map_err(failed)?
    {
        let text = obj.str().map_err(failed)?;
        return Ok(f(Scalar::Decimal(&text.to_string_lossy())));
    }
    if obj
        .is_instance(UUID.import(py, "uuid", "UUID").map_err(failed)?)
        .map_err(failed)?
    {
        let text = obj.str().map_err(failed)?;
        return Ok(f(Scalar::Uuid(&text.to_string_lossy())));
    }
    Err(Unreadable::Container)
}

#[pymodule]
fn _codec(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEncoder>()?;
    m.add("EncodeError", m.py().get_type::<EncodeError>())?;
    Ok(())
}
