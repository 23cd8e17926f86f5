//! Every offending path of an event, collected in one pass, and the message
//! that names them (bounded).

use std::borrow::Cow;
use std::fmt::Write;

/// At most this many errors are kept; the rest are only counted.
const KEPT: usize = 100;
/// At most this many are spelled out in the message.
const LISTED: usize = 10;
/// Quoted values are cut to about this many characters.
const GOT_CHARS: usize = 60;

/// One step of the path to a value.
#[derive(Debug)]
pub enum Seg<'a> {
    /// A record field of the schema.
    Field(&'a str),
    /// A key of a JSON object that is not a field of the schema.
    Name(String),
    Index(usize),
    /// A map key.
    Key(Cow<'a, str>),
}

/// Why a union branch or an event stopped: the first error while probing a
/// union branch (the branch does not fit), nothing to report otherwise.
#[derive(Debug)]
pub struct Abort;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    InvalidJson,
    MissingField,
    SchemaValidation,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::InvalidJson => "invalid_json",
            Kind::MissingField => "missing_field",
            Kind::SchemaValidation => "schema_validation",
        }
    }
}

#[derive(Debug, Default)]
pub struct Errors<'a> {
    pub list: Vec<(String, String)>,
    pub total: usize,
    pub missing: bool,
    pub path: Vec<Seg<'a>>,
    /// > 0 while a union branch is being tried: the first error aborts it.
    pub probing: u32,
}

/// The state a union branch attempt restores when it fails.
pub struct Mark {
    path: usize,
}

impl<'a> Errors<'a> {
    pub fn failed(&self) -> bool {
        self.total > 0
    }

    pub fn path_string(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Seg::Field(name) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(name);
                }
                Seg::Name(name) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(name);
                }
                Seg::Index(i) => {
                    let _ = write!(s, "[{i}]");
                }
                Seg::Key(k) => {
                    let _ = write!(s, "[{}]", quote(k));
                }
            }
        }
        s
    }

    /// Records an error at the current path (or aborts a union probe).
    pub fn push(&mut self, reason: impl FnOnce() -> String) -> Result<(), Abort> {
        if self.probing > 0 {
            return Err(Abort);
        }
        self.total += 1;
        if self.list.len() < KEPT {
            let path = self.path_string();
            self.list.push((path, reason()));
        }
        Ok(())
    }

    /// Records a required field that is absent.
    pub fn push_missing(&mut self, reason: impl FnOnce() -> String) -> Result<(), Abort> {
        self.push(reason)?;
        self.missing = true;
        Ok(())
    }

    pub fn mark(&self) -> Mark {
        Mark {
            path: self.path.len(),
        }
    }

    /// After a probe: drops the path segments an aborted branch left behind.
    pub fn reset(&mut self, mark: &Mark) {
        self.path.truncate(mark.path);
    }

    pub fn kind(&self) -> Kind {
        if self.missing {
            Kind::MissingField
        } else {
            Kind::SchemaValidation
        }
    }
}

/// `path: reason; path: reason; ...; and N more`.
pub fn message(list: &[(String, String)], total: usize) -> String {
    let mut parts: Vec<String> = list
        .iter()
        .take(LISTED)
        .map(|(p, r)| {
            if p.is_empty() {
                r.clone()
            } else {
                format!("{p}: {r}")
            }
        })
        .collect();
    let shown = parts.len();
    if total > shown {
        parts.push(format!("and {} more", total - shown));
    }
    parts.join("; ")
}

/// A string as JSON text (quotes, escapes), for messages.
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// Cuts a value's text to about [`GOT_CHARS`] characters for a message.
pub fn truncate(text: &str) -> String {
    match text.char_indices().nth(GOT_CHARS) {
        None => text.to_string(),
        Some((at, _)) => format!("{}…", text.get(..at).unwrap_or(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_accessors() {
        let mut e = Errors::default();
        e.path.push(Seg::Field("items"));
        e.path.push(Seg::Index(2));
        e.path.push(Seg::Field("qty"));
        assert_eq!(e.path_string(), "items[2].qty");
        e.path.clear();
        e.path.push(Seg::Field("tags"));
        e.path.push(Seg::Key(Cow::Borrowed("k\"")));
        assert_eq!(e.path_string(), r#"tags["k\""]"#);
    }

    #[test]
    fn the_message_is_bounded() {
        let list: Vec<(String, String)> = (0..12)
            .map(|i| (format!("f{i}"), "bad".to_string()))
            .collect();
        let m = message(&list, 15);
        assert!(m.starts_with("f0: bad; f1: bad"));
        assert!(m.ends_with("f9: bad; and 5 more"));
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(100);
        assert_eq!(truncate(&long).chars().count(), GOT_CHARS + 1);
        assert_eq!(truncate("short"), "short");
    }
}
