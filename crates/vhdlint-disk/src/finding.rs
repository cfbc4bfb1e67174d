//! Defects found by the parsers, each with where it was seen.

use serde::Serialize;

/// How serious a defect is, as the parser sees it (checks may still map it per policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; not a defect.
    Note,
    /// Tolerated by some tools, rejected by others.
    Warning,
    /// The structure is wrong.
    Fail,
}

/// One defect of an on-disk structure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Byte offset in the image file (container structures) or the guest disk (partition
    /// tables, volumes) where the offending bytes are.
    pub offset: Option<u64>,
    /// What is wrong, in a sentence that names the structure and field.
    pub message: String,
}

impl Finding {
    pub fn fail(offset: impl Into<Option<u64>>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Fail,
            offset: offset.into(),
            message: message.into(),
        }
    }
    pub fn warning(offset: impl Into<Option<u64>>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            offset: offset.into(),
            message: message.into(),
        }
    }
    pub fn note(offset: impl Into<Option<u64>>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Note,
            offset: offset.into(),
            message: message.into(),
        }
    }
}
