//! What a reader, a parser or a fact noticed that a verdict may depend on, typed.
//!
//! Every parser and fact of the guest reports what it could not read, what a bound kept it
//! from reading, and what it skipped, as [`Note`]s. Checks pass the notes on with their
//! outcome; the runner (vhdlint-rules) applies one set of rules to them by their
//! [`NoteKind`], so that no check needs to recognise a note by its wording.

use std::fmt;

use serde::Serialize;

use crate::fs::FsError;

/// Why something could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unreadable {
    /// The structures on disk do not make sense.
    Corrupt,
    /// The bytes could not be read.
    Io,
    /// A feature or format the reader does not support (ext4 inline_data, an encrypted
    /// file, a Berkeley DB rpm database).
    Unsupported,
}

/// What kind of thing a note says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum NoteKind {
    /// A bound of vhdlint's readers was reached (its constant in `limits.rs`): what lies
    /// past it was not read.
    Bound { limit: &'static str },
    /// A file or structure that should have been read could not be.
    Unreadable { why: Unreadable },
    /// A line that does not parse, skipped as the program that reads it would skip it (or
    /// refuse to start).
    Syntax,
    /// Read, but it does not apply (inside a `Match` block, a default entry with no kernel).
    Ignored,
}

/// One thing noticed, where it was noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The file inside the image, when the note is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The 1-based line of `path`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(flatten)]
    pub kind: NoteKind,
    /// What was noticed, in words (names the bound and its value for a bound).
    pub text: String,
}

impl Note {
    fn new(kind: NoteKind, text: impl Into<String>) -> Self {
        Note {
            path: None,
            line: None,
            kind,
            text: text.into(),
        }
    }
    /// A bound `limit` (the constant's name) was reached.
    pub fn bound(limit: &'static str, text: impl Into<String>) -> Self {
        Self::new(NoteKind::Bound { limit }, text)
    }
    pub fn unreadable(why: Unreadable, text: impl Into<String>) -> Self {
        Self::new(NoteKind::Unreadable { why }, text)
    }
    pub fn syntax(text: impl Into<String>) -> Self {
        Self::new(NoteKind::Syntax, text)
    }
    pub fn ignored(text: impl Into<String>) -> Self {
        Self::new(NoteKind::Ignored, text)
    }
    /// The same note about file `path`.
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
    /// The same note about line `line` (1-based; 0 means the file as a whole).
    pub fn line(mut self, line: usize) -> Self {
        self.line = (line > 0).then_some(line);
        self
    }
    /// The note a failed read of `path` gives: a bound, or something unreadable. A missing
    /// file (or a path through a non-directory) is no note: not being there is an answer.
    pub fn from_fs_error(path: &str, e: &FsError) -> Option<Note> {
        let note = match e {
            FsError::NotFound(_)
            | FsError::NotADirectory(_)
            | FsError::IsADirectory(_)
            | FsError::NotASymlink(_) => return None,
            FsError::Limit(b) => Note::bound(b.limit, format!("{e}: not read")),
            FsError::Unsupported(_) => Note::unreadable(Unreadable::Unsupported, e.to_string()),
            FsError::Corrupt(_) => Note::unreadable(Unreadable::Corrupt, e.to_string()),
            FsError::Io(_) => Note::unreadable(Unreadable::Io, e.to_string()),
        };
        Some(note.at(path))
    }
    pub fn is_bound(&self) -> bool {
        matches!(self.kind, NoteKind::Bound { .. })
    }
    pub fn is_unreadable(&self) -> bool {
        matches!(self.kind, NoteKind::Unreadable { .. })
    }
}

/// `path:line: text`, `path: text` or `text`, without repeating a path the text names.
impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.line) {
            (Some(p), Some(l)) => write!(f, "{p}:{l}: {}", self.text),
            (Some(p), None) if !self.text.contains(p.as_str()) => write!(f, "{p}: {}", self.text),
            _ => f.write_str(&self.text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Bound;

    #[test]
    fn fs_errors_become_notes_by_kind() {
        let limit = FsError::Limit(Bound {
            limit: "MAX_CONFIG_BYTES",
            what: "/etc/x is larger than 1048576 bytes".into(),
        });
        let n = Note::from_fs_error("/etc/x", &limit).unwrap();
        assert_eq!(
            n.kind,
            NoteKind::Bound {
                limit: "MAX_CONFIG_BYTES"
            }
        );
        assert_eq!(n.path.as_deref(), Some("/etc/x"));
        assert!(Note::from_fs_error("/x", &FsError::NotFound("/x".into())).is_none());
        assert!(Note::from_fs_error("/x", &FsError::NotADirectory("/x".into())).is_none());
        let c = Note::from_fs_error("/x", &FsError::Corrupt("bad extent".into())).unwrap();
        assert_eq!(
            c.kind,
            NoteKind::Unreadable {
                why: Unreadable::Corrupt
            }
        );
        let u = Note::from_fs_error("/x", &FsError::Unsupported("inline".into())).unwrap();
        assert!(u.is_unreadable() && !u.is_bound());
        let io = Note::from_fs_error("/x", &FsError::Io("short read".into())).unwrap();
        assert_eq!(
            io.kind,
            NoteKind::Unreadable {
                why: Unreadable::Io
            }
        );
    }

    #[test]
    fn display_names_path_and_line_once() {
        let n = Note::syntax("invalid quotes")
            .at("/etc/ssh/sshd_config")
            .line(3);
        assert_eq!(n.to_string(), "/etc/ssh/sshd_config:3: invalid quotes");
        let n = Note::ignored("x").at("/a").line(0);
        assert_eq!(n.line, None);
        assert_eq!(n.to_string(), "/a: x");
        let n = Note::bound("MAX_GLOB_PATHS", "/a/*: too many").at("/a/*");
        assert_eq!(n.to_string(), "/a/*: too many");
    }
}
