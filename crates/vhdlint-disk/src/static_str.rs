//! Names that live for the whole run (`&'static str`: a format, a filesystem, a feature, a
//! check's ID) read back from a saved report. Each distinct text is kept once and shared by
//! every field that names it, so reading a report costs at most the report's own size.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

/// A name kept for the run. Fields read back with [`deserialize`] have this type rather than a
/// written-out `&'static str`, which serde's derive would take as text borrowed from the input
/// (and so demand input that lives for ever).
pub type Interned = &'static str;

/// The one copy of `text` kept for the run.
pub fn intern(text: &str) -> &'static str {
    static KEPT: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut kept = KEPT
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(s) = kept.get(text) {
        return s;
    }
    let s: &'static str = Box::leak(text.to_owned().into_boxed_str());
    kept.insert(s);
    s
}

/// Deserializes a string field into its kept copy (`#[serde(deserialize_with = …)]`).
pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Interned, D::Error> {
    let s: std::borrow::Cow<'de, str> = serde::Deserialize::deserialize(d)?;
    Ok(intern(&s))
}

/// Deserializes a list of strings into their kept copies.
pub fn deserialize_vec<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Interned>, D::Error> {
    let v: Vec<std::borrow::Cow<'de, str>> = serde::Deserialize::deserialize(d)?;
    Ok(v.iter().map(|s| intern(s)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_copy_per_text() {
        let a = intern(&String::from("ext4"));
        let b = intern("ext4");
        assert!(std::ptr::eq(a, b));
        assert_eq!(a, "ext4");
        assert!(!std::ptr::eq(intern("xfs"), a));
    }
}
