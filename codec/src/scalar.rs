//! The conversion rules for every non-container Avro type, shared by the JSON
//! and the Python input: a value seen as a [`Scalar`] is checked strictly and
//! written as Avro, or refused with an optional detail for the message.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::avro::{write_bytes, write_double, write_float, write_long};
use crate::logical::{encode_decimal, is_uuid, parse_date, parse_time, parse_timestamp};
use crate::schema::{Dialect, Node, Unit};

/// A value as an input presents it, before the schema gives it meaning.
#[derive(Debug)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    /// An integer (JSON integer token or Python int) within i64.
    Int(i64),
    /// An integer outside i64, as decimal text.
    BigInt(&'a str),
    /// A JSON number with a fraction or exponent, as written.
    Frac(&'a str),
    /// A Python float.
    Float(f64),
    Str(&'a str),
    /// Python bytes / bytearray.
    Bytes(&'a [u8]),
    /// A Python datetime: wall-clock microseconds since 1970-01-01T00:00:00
    /// and the UTC offset in microseconds when it is aware.
    DateTime {
        wall_us: i64,
        offset_us: Option<i64>,
    },
    /// A Python date, in days since the epoch.
    Date(i64),
    /// A Python time of day in microseconds (`aware`: it has a tzinfo).
    Time {
        us: i64,
        aware: bool,
    },
    /// A Python Decimal, as `str()` writes it.
    Decimal(&'a str),
    /// A Python UUID, canonical lowercase text.
    Uuid(&'a str),
    /// A JSON object / array (or Python container) where a scalar is expected.
    Container,
}

/// Why a scalar was refused: `None` is a plain type mismatch.
pub type Refusal = Option<String>;

fn int_in(v: i64, lo: i64, hi: i64, what: &str) -> Result<i64, Refusal> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(Some(format!("out of range for {what}")))
    }
}

/// A finite double from a number; the integer forms convert as Python's
/// float(int) does (so `-0` is 0.0).
fn to_double(s: &Scalar<'_>) -> Result<f64, Refusal> {
    let v = match s {
        Scalar::Int(i) => *i as f64,
        Scalar::BigInt(t) | Scalar::Frac(t) => t.parse::<f64>().map_err(|_| None)?,
        Scalar::Float(f) => *f,
        _ => return Err(None),
    };
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Some("not a finite number".into()))
    }
}

fn unit_of(unit: Unit) -> i64 {
    match unit {
        Unit::Millis => 1_000,
        Unit::Micros => 1,
    }
}

/// Microseconds in `unit`, refusing digits below it.
fn from_micros(us: i64, unit: Unit) -> Result<i64, Refusal> {
    let div = unit_of(unit);
    if us % div != 0 {
        return Err(Some("digits below milliseconds would be lost".into()));
    }
    Ok(us / div)
}

fn latin1(s: &str, size: Option<usize>) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        let Ok(b) = u8::try_from(u32::from(c)) else {
            return Err(Some(format!(
                "code point U+{:04X} is above U+00FF",
                u32::from(c)
            )));
        };
        out.push(b);
    }
    check_size(out, size)
}

fn check_size(b: Vec<u8>, size: Option<usize>) -> Result<Vec<u8>, Refusal> {
    match size {
        Some(n) if b.len() != n => Err(Some(format!("{} bytes, not {n}", b.len()))),
        _ => Ok(b),
    }
}

fn base64(s: &str, size: Option<usize>) -> Result<Vec<u8>, Refusal> {
    let b = STANDARD
        .decode(s)
        .map_err(|_| Some("not strict base64 (standard alphabet, padded)".to_string()))?;
    check_size(b, size)
}

/// Checks `s` against a non-container node and appends its Avro encoding.
pub fn encode(
    node: &Node,
    s: &Scalar<'_>,
    dialect: Dialect,
    out: &mut Vec<u8>,
) -> Result<(), Refusal> {
    let natural = dialect == Dialect::Natural;
    match (node, s) {
        (Node::Null, Scalar::Null) => {}
        (Node::Boolean, Scalar::Bool(b)) => out.push(u8::from(*b)),
        (Node::Int, Scalar::Int(i)) => {
            write_long(out, int_in(*i, i32::MIN.into(), i32::MAX.into(), "int")?)
        }
        (Node::Long, Scalar::Int(i)) => write_long(out, *i),
        (Node::Int | Node::Long, Scalar::BigInt(_)) => {
            return Err(Some("out of range".into()));
        }
        (Node::Double, _) => write_double(out, to_double(s)?),
        (Node::Float, _) => {
            let v = to_double(s)? as f32;
            if !v.is_finite() {
                return Err(Some("out of range for float".into()));
            }
            write_float(out, v)
        }
        (Node::String, Scalar::Str(t)) => write_bytes(out, t.as_bytes()),
        (Node::Bytes, Scalar::Bytes(b)) => write_bytes(out, b),
        (Node::Fixed { size, .. }, Scalar::Bytes(b)) => {
            out.extend_from_slice(&check_size(b.to_vec(), Some(*size))?)
        }
        (Node::Bytes, Scalar::Str(t)) => {
            let b = if natural {
                base64(t, None)?
            } else {
                latin1(t, None)?
            };
            write_bytes(out, &b)
        }
        (Node::Fixed { size, .. }, Scalar::Str(t)) => {
            let b = if natural {
                base64(t, Some(*size))?
            } else {
                latin1(t, Some(*size))?
            };
            out.extend_from_slice(&b)
        }
        (Node::Enum { symbols, .. }, Scalar::Str(t)) => {
            let Some(i) = symbols.iter().position(|x| x == t) else {
                return Err(None);
            };
            write_long(out, i as i64)
        }
        (Node::Date, Scalar::Int(i)) => {
            write_long(out, int_in(*i, i32::MIN.into(), i32::MAX.into(), "int")?)
        }
        (Node::Date, Scalar::Str(t)) if natural => write_long(out, parse_date(t).map_err(Some)?),
        (Node::Date, Scalar::Date(d)) => write_long(out, *d),
        (Node::Time(unit), Scalar::Int(i)) => {
            let day = 86_400 * 1_000_000 / unit_of(*unit);
            write_long(out, int_in(*i, 0, day - 1, "a time of day")?)
        }
        (Node::Time(unit), Scalar::Str(t)) if natural => {
            write_long(out, parse_time(t, *unit).map_err(Some)?)
        }
        (Node::Time(_), Scalar::Time { aware: true, .. }) => {
            return Err(Some("a time of day takes no tzinfo".into()));
        }
        (Node::Time(unit), Scalar::Time { us, .. }) => write_long(out, from_micros(*us, *unit)?),
        (Node::Timestamp { .. }, Scalar::Int(i)) => write_long(out, *i),
        (Node::Timestamp { unit, local }, Scalar::Str(t)) if natural => {
            write_long(out, parse_timestamp(t, *unit, *local).map_err(Some)?)
        }
        (Node::Timestamp { unit, local }, Scalar::DateTime { wall_us, offset_us }) => {
            let utc = match (offset_us, local) {
                (Some(o), false) => wall_us - o,
                (None, true) => *wall_us,
                (Some(_), true) => {
                    return Err(Some("a local timestamp takes a naive datetime".into()));
                }
                (None, false) => {
                    return Err(Some(
                        "a naive datetime has no offset: give it a tzinfo".into(),
                    ));
                }
            };
            write_long(out, from_micros(utc, *unit)?)
        }
        (Node::Uuid, Scalar::Str(t) | Scalar::Uuid(t)) => {
            if !is_uuid(t) {
                return Err(None);
            }
            write_bytes(out, t.as_bytes())
        }
        (
            Node::Decimal {
                precision,
                scale,
                fixed,
            },
            _,
        ) => {
            let size = fixed.as_ref().map(|(_, n)| *n);
            let spelled = matches!(s, Scalar::Str(_) | Scalar::Bytes(_) | Scalar::Decimal(_));
            if !natural && !spelled {
                // Avro's JSON encoding spells a decimal as its bytes only.
                return Err(None);
            }
            let owned;
            let text = match s {
                Scalar::Str(t) if !natural => {
                    let b = latin1(t, size)?;
                    return write_decimal_bytes(out, &b, size.is_some());
                }
                Scalar::Bytes(b) => {
                    let b = check_size(b.to_vec(), size)?;
                    return write_decimal_bytes(out, &b, size.is_some());
                }
                Scalar::Int(i) => {
                    owned = i.to_string();
                    owned.as_str()
                }
                Scalar::Float(f) if f.is_finite() => {
                    // The shortest text that reads back as this float, the
                    // digits json.dumps would write.
                    owned = format!("{f:e}");
                    owned.as_str()
                }
                Scalar::BigInt(t) | Scalar::Frac(t) | Scalar::Decimal(t) => t,
                Scalar::Str(t) => t,
                _ => return Err(None),
            };
            let b = encode_decimal(text, *precision, *scale, size).map_err(Some)?;
            return write_decimal_bytes(out, &b, size.is_some());
        }
        _ => return Err(None),
    }
    Ok(())
}

fn write_decimal_bytes(out: &mut Vec<u8>, b: &[u8], fixed: bool) -> Result<(), Refusal> {
    if fixed {
        out.extend_from_slice(b);
    } else {
        write_bytes(out, b);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(node: Node, s: Scalar<'_>, dialect: Dialect) -> Result<Vec<u8>, Refusal> {
        let mut out = Vec::new();
        encode(&node, &s, dialect, &mut out).map(|()| out)
    }

    fn nat(node: Node, s: Scalar<'_>) -> Result<Vec<u8>, Refusal> {
        enc(node, s, Dialect::Natural)
    }

    #[test]
    fn ints_are_integers_only_and_range_checked() {
        assert_eq!(nat(Node::Int, Scalar::Int(1)), Ok(vec![2]));
        assert!(nat(Node::Int, Scalar::Int(1 << 31)).is_err());
        assert!(nat(Node::Int, Scalar::Bool(true)).is_err());
        assert!(nat(Node::Int, Scalar::Frac("1.0")).is_err());
        assert!(nat(Node::Long, Scalar::BigInt("99999999999999999999")).is_err());
        assert!(nat(Node::Long, Scalar::Float(1.0)).is_err());
    }

    #[test]
    fn doubles_take_any_finite_number_and_minus_zero_integer_is_zero() {
        assert_eq!(
            nat(Node::Double, Scalar::Int(0)),
            Ok(0f64.to_le_bytes().to_vec())
        );
        assert_eq!(
            nat(Node::Double, Scalar::Frac("-0.0")),
            Ok((-0f64).to_le_bytes().to_vec())
        );
        assert!(nat(Node::Double, Scalar::Frac("1e400")).is_err());
        assert!(nat(Node::Double, Scalar::Str("1.5")).is_err());
        assert!(nat(Node::Float, Scalar::Frac("1e39")).is_err());
        assert_eq!(
            nat(Node::Float, Scalar::Frac("0.1")),
            Ok(0.1f32.to_le_bytes().to_vec())
        );
    }

    #[test]
    fn bytes_are_strict_base64_in_natural_and_code_points_in_avro() {
        assert_eq!(nat(Node::Bytes, Scalar::Str("AAE=")), Ok(vec![4, 0, 1]));
        assert!(nat(Node::Bytes, Scalar::Str("AAE")).is_err());
        assert!(nat(Node::Bytes, Scalar::Str("AA E=")).is_err());
        assert!(nat(Node::Bytes, Scalar::Str("AA-_")).is_err());
        assert_eq!(
            enc(Node::Bytes, Scalar::Str("\u{0}\u{ff}"), Dialect::Avro),
            Ok(vec![4, 0, 0xff])
        );
        assert!(enc(Node::Bytes, Scalar::Str("\u{100}"), Dialect::Avro).is_err());
        let fixed = || Node::Fixed {
            name: "F".into(),
            size: 2,
        };
        assert_eq!(nat(fixed(), Scalar::Str("AAE=")), Ok(vec![0, 1]));
        assert!(nat(fixed(), Scalar::Str("AA==")).is_err());
    }

    #[test]
    fn logical_types_take_text_or_their_unit() {
        let ts = || Node::Timestamp {
            unit: Unit::Millis,
            local: false,
        };
        assert!(nat(ts(), Scalar::Str("2026-01-21T10:00:00")).is_err());
        assert!(nat(ts(), Scalar::Str("2026-01-21T10:00:00Z")).is_ok());
        assert_eq!(nat(ts(), Scalar::Int(-1)), Ok(vec![1]));
        assert!(enc(ts(), Scalar::Str("2026-01-21T10:00:00Z"), Dialect::Avro).is_err());
        assert!(nat(Node::Date, Scalar::Str("2026-01-21T10:00:00Z")).is_err());
        assert!(nat(Node::Time(Unit::Millis), Scalar::Int(86_400_000)).is_err());
        assert!(nat(Node::Uuid, Scalar::Str("not-a-uuid")).is_err());
        let naive = Scalar::DateTime {
            wall_us: 1_500,
            offset_us: None,
        };
        assert!(nat(ts(), naive).is_err());
        let aware = Scalar::DateTime {
            wall_us: 1_500,
            offset_us: Some(0),
        };
        assert!(nat(ts(), aware).is_err(), "sub-millisecond digits");
    }

    #[test]
    fn decimals_are_read_exactly() {
        let dec = || Node::Decimal {
            precision: 5,
            scale: 2,
            fixed: None,
        };
        assert_eq!(nat(dec(), Scalar::Frac("199.99")), Ok(vec![4, 0x4e, 0x1f]));
        assert_eq!(nat(dec(), Scalar::Str("199.99")), Ok(vec![4, 0x4e, 0x1f]));
        assert_eq!(nat(dec(), Scalar::Float(199.99)), Ok(vec![4, 0x4e, 0x1f]));
        assert!(nat(dec(), Scalar::Decimal("199.999")).is_err());
        assert!(nat(dec(), Scalar::Decimal("NaN")).is_err());
        assert!(nat(dec(), Scalar::Float(f64::NAN)).is_err());
    }
}
