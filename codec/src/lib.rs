//! StreamLake's native Avro encoder.
//!
//! A schema is compiled once into a [`schema::Plan`]; events are then encoded
//! straight to the Confluent wire format, either from JSON text in one
//! streaming pass ([`json`]) or by walking Python objects (`py`, behind the
//! `python` feature so that `cargo test` needs no Python).
//!
//! Layout: `schema` compiles, `scalar` holds the per-type conversion rules
//! shared by both inputs, `logical` parses timestamps, dates, decimals and
//! uuids, `errors` collects every offending path, `avro` writes the binary.

pub mod avro;
pub mod encoder;
pub mod errors;
pub mod json;
pub mod logical;
pub mod scalar;
pub mod schema;
pub mod union;

#[cfg(feature = "python")]
mod py;

/// Deepest nesting of records, arrays and maps an event may have.
pub const MAX_DEPTH: usize = 64;
