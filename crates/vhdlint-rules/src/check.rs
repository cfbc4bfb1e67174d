//! What a check is (its metadata and its function) and what it answers.

use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::profile::Profile;

pub use vhdlint_guest::note::{Note, NoteKind, Unreadable};

/// The final status of a check, as the Certification Tool words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Skipped,
    Warning,
    Error,
    Fail,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warning => "warning",
            Status::Skipped => "skipped",
            Status::Error => "error",
        }
    }
    /// The Certification Tool's word.
    pub fn label(&self) -> &'static str {
        match self {
            Status::Pass => "Passed",
            Status::Fail => "Failed",
            Status::Warning => "Warning",
            Status::Skipped => "Skipped",
            Status::Error => "Error",
        }
    }
}

/// A piece of evidence: a byte offset in the image, or a path (and line) inside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    pub text: String,
}

impl Evidence {
    /// Bytes at `offset` of the image file (container structures) or the guest disk
    /// (partition tables); `text` says which.
    pub fn offset(offset: u64, text: impl Into<String>) -> Self {
        Self {
            path: None,
            line: None,
            offset: Some(offset),
            text: text.into(),
        }
    }
    /// A path inside the image, with the line when the evidence is one line of a file.
    pub fn path(path: impl Into<String>, line: Option<usize>, text: impl Into<String>) -> Self {
        Self {
            path: Some(path.into()),
            line: line.map(|l| l as u32),
            offset: None,
            text: text.into(),
        }
    }
    /// A registry value: `hive` (`SYSTEM`, `SOFTWARE`), the key's path in it, the value's
    /// name and its data as read (or what was found instead, such as "(no value)").
    pub fn reg(hive: &str, key: &str, name: &str, data: impl std::fmt::Display) -> Self {
        Self::path(format!("{hive}\\{key}"), None, format!("{name} = {data}"))
    }
    /// The control set the SYSTEM hive's values were read under (`Select\Current`).
    pub fn control_set(cs: &str) -> Self {
        Self::path("SYSTEM\\Select", None, format!("Current → {cs}"))
    }
    pub fn note(text: impl Into<String>) -> Self {
        Self {
            path: None,
            line: None,
            offset: None,
            text: text.into(),
        }
    }
}

impl From<Note> for Evidence {
    fn from(n: Note) -> Self {
        Self {
            path: n.path,
            line: n.line.map(|l| l as u32),
            offset: None,
            text: n.text,
        }
    }
}

/// A check's metadata: its public ID and its documentation.
#[derive(Debug)]
pub struct CheckMeta {
    /// Stable public ID, e.g. `disk/fixed`.
    pub id: &'static str,
    /// Short name shown in the table.
    pub title: &'static str,
    /// What the check looks at.
    pub what: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix a failure.
    pub remedy: &'static str,
    /// Where the rule comes from.
    pub sources: &'static [&'static str],
    /// Profiles the check applies to; on others it is skipped.
    pub profiles: &'static [Profile],
    /// The policies (their bases: `guide`, `current`) the check is part of; under the others
    /// the runner skips it.
    pub policies: &'static [&'static str],
}

/// A check: metadata beside its logic.
pub struct Check {
    pub meta: &'static CheckMeta,
    pub run: fn(&Context) -> Outcome,
    /// How `vhdlint fix` remedies it ([`crate::fix`]).
    pub fix: crate::fix::Fix,
}

/// What a check's logic answers; the runner turns it into a [`CheckResult`].
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    pub actual: String,
    pub required: String,
    pub message: String,
    pub evidence: Vec<Evidence>,
    /// A remedy specific to this result; the metadata's remedy otherwise.
    pub remedy: Option<String>,
    /// What the readers noticed while the check looked (bounds reached, files that could not
    /// be read, lines skipped). The runner applies the rules to them
    /// ([`crate::runner::apply_notes`]); a check never judges a note by its wording.
    pub notes: Vec<Note>,
}

impl Outcome {
    fn new(status: Status, actual: impl Into<String>, required: impl Into<String>) -> Self {
        Self {
            status,
            actual: actual.into(),
            required: required.into(),
            message: String::new(),
            evidence: Vec::new(),
            remedy: None,
            notes: Vec::new(),
        }
    }
    pub fn pass(actual: impl Into<String>, required: impl Into<String>) -> Self {
        Self::new(Status::Pass, actual, required)
    }
    pub fn fail(actual: impl Into<String>, required: impl Into<String>) -> Self {
        Self::new(Status::Fail, actual, required)
    }
    pub fn warning(actual: impl Into<String>, required: impl Into<String>) -> Self {
        Self::new(Status::Warning, actual, required)
    }
    /// With `status` chosen by the caller (from a policy level, say).
    pub fn with_status(
        status: Status,
        actual: impl Into<String>,
        required: impl Into<String>,
    ) -> Self {
        Self::new(status, actual, required)
    }
    /// Does not apply to this image; `reason` says why.
    pub fn skipped(reason: impl Into<String>) -> Self {
        let r = reason.into();
        Self {
            message: r.clone(),
            ..Self::new(Status::Skipped, "not applicable", r)
        }
    }
    /// Could not be evaluated; `reason` says what could not be read.
    pub fn error(reason: impl Into<String>) -> Self {
        let r = reason.into();
        Self {
            message: r.clone(),
            evidence: vec![Evidence::note(r.clone())],
            ..Self::new(
                Status::Error,
                "could not be evaluated",
                "evidence that could not be read",
            )
        }
    }
    pub fn message(mut self, m: impl Into<String>) -> Self {
        self.message = m.into();
        self
    }
    pub fn evidence(mut self, e: Evidence) -> Self {
        self.evidence.push(e);
        self
    }
    pub fn evidences(mut self, e: impl IntoIterator<Item = Evidence>) -> Self {
        self.evidence.extend(e);
        self
    }
    pub fn remedy(mut self, r: impl Into<String>) -> Self {
        self.remedy = Some(r.into());
        self
    }
    /// Notes about what the check needed to look at: the runner applies the rules to them (a
    /// bound makes a pass a warning; something unreadable makes a pass, warning or skip an
    /// error).
    pub fn noted(mut self, notes: impl IntoIterator<Item = Note>) -> Self {
        self.notes.extend(notes);
        self
    }
    /// Notes about what the check did not need, since it answered from elsewhere (an rpm
    /// database not read, versions taken from the files themselves): shown as evidence and
    /// named in the message, the status stays.
    pub fn aside(self, notes: impl IntoIterator<Item = Note>) -> Self {
        let notes: Vec<Note> = notes.into_iter().collect();
        if notes.is_empty() || self.status == Status::Skipped {
            return self.evidences(notes.into_iter().map(Evidence::from));
        }
        let before = self.said();
        let m = format!("{before}; not everything was read: {}", sentence(&notes));
        self.message(m)
            .evidences(notes.into_iter().map(Evidence::from))
    }
    /// The message, or the actual value when there is no message.
    pub(crate) fn said(&self) -> String {
        if self.message.is_empty() {
            self.actual.clone()
        } else {
            self.message.clone()
        }
    }
}

/// The notes as one sentence for a message.
pub(crate) fn sentence<'a>(notes: impl IntoIterator<Item = &'a Note>) -> String {
    notes
        .into_iter()
        .map(Note::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// One check's result in a report. Field names are a public interface.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    #[serde(deserialize_with = "vhdlint_disk::static_str::deserialize")]
    pub id: vhdlint_disk::static_str::Interned,
    #[serde(deserialize_with = "vhdlint_disk::static_str::deserialize")]
    pub title: vhdlint_disk::static_str::Interned,
    pub status: Status,
    pub actual: String,
    pub required: String,
    pub message: String,
    pub evidence: Vec<Evidence>,
    /// Set on every non-pass result.
    pub remedy: Option<String>,
    /// The waiver that accepts this result, if any.
    pub waived: Option<String>,
    /// Wall time of the check in microseconds, the shared facts it was the first to need (or
    /// waited for) included; next to nothing for a check that did not look (a skip). It changes
    /// from run to run: never compare reports on it.
    pub elapsed_us: u64,
}

impl CheckResult {
    pub fn from_outcome(meta: &'static CheckMeta, o: Outcome) -> Self {
        let remedy = match o.status {
            Status::Pass => None,
            Status::Skipped => o.remedy,
            _ => Some(o.remedy.unwrap_or_else(|| meta.remedy.to_string())),
        };
        let message = if o.message.is_empty() {
            format!("{}: {}", meta.title, o.actual)
        } else {
            o.message
        };
        Self {
            id: meta.id,
            title: meta.title,
            status: o.status,
            actual: o.actual,
            required: o.required,
            message,
            evidence: o.evidence,
            remedy,
            waived: None,
            elapsed_us: 0,
        }
    }
}
