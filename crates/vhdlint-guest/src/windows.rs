//! Finding the Windows system volume among the NTFS volumes, and its registry hives, each read
//! and parsed once.

use std::sync::{Arc, OnceLock};
use vhdlint_disk::timing::fact;

use serde::Serialize;
use vhdlint_disk::layout::Layout;
use vhdlint_disk::probe::FsKind;

use crate::fs::ntfs::NtfsFs;
use crate::fs::{FileKind, Filesystem, FsError};
use crate::limits::MAX_HIVE_BYTES;
use crate::registry::Hive;
use crate::view::{GuestView, Mount};

/// Where the hives are, inside the system volume.
pub const SYSTEM_HIVE: &str = "/Windows/System32/config/SYSTEM";
pub const SOFTWARE_HIVE: &str = "/Windows/System32/config/SOFTWARE";
/// The marker of a Windows system volume.
pub const SYSTEM_MARKER: &str = "\\Windows\\System32 (directory on an NTFS volume)";

/// One NTFS (or BitLocker) volume considered.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub volume: String,
    pub bitlocker: bool,
    /// Whether \Windows\System32 is there.
    pub system32: bool,
    pub error: Option<String>,
}

/// A hive as read: parsed, or why not.
pub type HiveResult = Result<Hive, String>;

/// A Windows system volume.
#[derive(Clone)]
pub struct WindowsGuest {
    pub volume: String,
    pub view: GuestView,
    system: Arc<OnceLock<HiveResult>>,
    software: Arc<OnceLock<HiveResult>>,
}

impl WindowsGuest {
    /// The system volume `volume` seen through `view`; its hives are read on first use.
    pub fn new(volume: impl Into<String>, view: GuestView) -> Self {
        WindowsGuest {
            volume: volume.into(),
            view,
            system: Arc::default(),
            software: Arc::default(),
        }
    }

    fn hive<'a>(&'a self, cell: &'a OnceLock<HiveResult>, path: &str) -> Result<&'a Hive, &'a str> {
        cell.get_or_init(|| {
            fact(&format!("windows hive {path}"), || {
                let bytes = self
                    .view
                    .read_upto(path, MAX_HIVE_BYTES + 1)
                    .map_err(|e| e.to_string())?;
                if bytes.len() as u64 > MAX_HIVE_BYTES {
                    return Err(format!(
                        "{path} is larger than {MAX_HIVE_BYTES} bytes, the limit of one hive"
                    ));
                }
                Hive::parse(bytes).map_err(|e| format!("{path}: {e}"))
            })
        })
        .as_ref()
        .map_err(String::as_str)
    }
    /// The SYSTEM hive, parsed once.
    pub fn system(&self) -> Result<&Hive, &str> {
        self.hive(&self.system, SYSTEM_HIVE)
    }
    /// The SOFTWARE hive, parsed once.
    pub fn software(&self) -> Result<&Hive, &str> {
        self.hive(&self.software, SOFTWARE_HIVE)
    }
}

/// The result of looking for a Windows system volume.
#[derive(Clone)]
pub struct WindowsInspection {
    pub candidates: Vec<Candidate>,
    pub guest: Option<WindowsGuest>,
}

/// Looks at every NTFS and BitLocker volume for \Windows\System32.
pub fn inspect(layout: &Layout) -> WindowsInspection {
    let mut candidates = Vec::new();
    let mut guest = None;
    for v in &layout.volumes {
        match v.probe.kind {
            FsKind::Bitlocker => candidates.push(Candidate {
                volume: v.id.clone(),
                bitlocker: true,
                system32: false,
                error: Some("BitLocker-encrypted: contents cannot be read".into()),
            }),
            FsKind::Ntfs => {
                let mut c = Candidate {
                    volume: v.id.clone(),
                    bitlocker: false,
                    system32: false,
                    error: None,
                };
                match NtfsFs::open(v.source.clone()) {
                    Err(e) => c.error = Some(e.to_string()),
                    Ok(fs) => {
                        let fs: Arc<dyn Filesystem> = Arc::new(fs);
                        match fs.symlink_metadata("/Windows/System32") {
                            Ok(m) => c.system32 = m.kind == FileKind::Dir,
                            // Not there is an answer; a volume that cannot be read there is not.
                            Err(
                                e @ (FsError::Corrupt(_)
                                | FsError::Io(_)
                                | FsError::Unsupported(_)
                                | FsError::Limit(_)),
                            ) => c.error = Some(e.to_string()),
                            Err(_) => {}
                        }
                        if c.system32 && guest.is_none() {
                            let view = GuestView::new(Mount {
                                point: "/".into(),
                                volume: v.id.clone(),
                                reason: "Windows system volume".into(),
                                fs,
                            });
                            guest = Some(WindowsGuest::new(v.id.clone(), view));
                        }
                    }
                }
                candidates.push(c);
            }
            _ => {}
        }
    }
    WindowsInspection { candidates, guest }
}

/// The `ImageState=` line of State.ini.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageStateLine {
    /// 1-based line number.
    pub line: usize,
    /// The value, unquoted.
    pub value: String,
    /// The line as written, trimmed.
    pub raw: String,
}

/// Finds the first `ImageState=` line of a decoded State.ini (key case-insensitive, as
/// Windows' INI reader).
pub fn image_state(text: &str) -> Option<ImageStateLine> {
    text.lines().enumerate().find_map(|(i, l)| {
        let (k, v) = l.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("ImageState")
            .then(|| ImageStateLine {
                line: i + 1,
                value: v.trim().trim_matches('"').to_string(),
                raw: l.trim().to_string(),
            })
    })
}

/// Decodes a text file that may be UTF-16 (with a byte-order mark, as State.ini is) or UTF-8.
pub fn decode_text(bytes: &[u8]) -> Result<String, FsError> {
    let utf16 = |b: &[u8], le: bool| {
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|_| FsError::Corrupt("invalid UTF-16 text".into()))
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => Ok(String::from_utf8_lossy(rest).into_owned()),
        _ if bytes.len() >= 2 && bytes.len() % 2 == 0 && bytes[1] == 0 && bytes[0] != 0 => {
            utf16(bytes, true)
        }
        _ => Ok(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// The value `name` of key `key` (a path from the hive's root), if both exist.
pub fn reg_value(
    hive: &Hive,
    key: &str,
    name: &str,
) -> Result<Option<crate::registry::Value>, crate::registry::HiveError> {
    match hive.open(key)? {
        Some(k) => k.value(name),
        None => Ok(None),
    }
}

/// A value's data as evidence shows it: a DWORD or QWORD as its number, a string in quotes, a
/// REG_MULTI_SZ as its strings in quotes joined by `, `, anything else as its type and size.
pub fn show_data(v: &crate::registry::Value) -> String {
    use crate::registry::{
        REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_EXPAND_SZ, REG_MULTI_SZ, REG_QWORD, REG_SZ,
    };
    match v.kind {
        REG_DWORD | REG_DWORD_BIG_ENDIAN => v.as_u32().map(|n| n.to_string()).ok(),
        REG_QWORD => v.as_u64().map(|n| n.to_string()).ok(),
        REG_SZ | REG_EXPAND_SZ => v.as_string().ok().map(|s| quote(&s)),
        REG_MULTI_SZ => multi_sz_entries(v)
            .ok()
            .map(|l| l.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ")),
        _ => None,
    }
    .unwrap_or_else(|| format!("(type {}, {} bytes)", v.kind, v.data.len()))
}

/// A registry string in double quotes as Windows writes it (backslashes as they are); quotes
/// and control characters escaped, so the text stays one line.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_control() || c == '"' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Every string of a REG_MULTI_SZ, as hivexget prints them: empty strings inside the list are
/// kept (PendingFileRenameOperations pairs a source with an empty destination to delete it);
/// the list's closing NUL (after the last string's own) is not a string.
pub fn multi_sz_entries(
    v: &crate::registry::Value,
) -> Result<Vec<String>, crate::registry::HiveError> {
    // The type check is as_multi_string's.
    v.as_multi_string()?;
    let units: Vec<u16> = v
        .data
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    // The list ends with an empty string: one NUL after the last string's own.
    let mut units = units.as_slice();
    if let [rest @ .., 0, 0] = units {
        units = rest;
    } else if let [rest @ .., 0] = units {
        units = rest;
    }
    if units.is_empty() {
        return Ok(Vec::new());
    }
    Ok(units
        .split(|&u| u == 0)
        .map(String::from_utf16_lossy)
        .collect())
}

/// The names of the subkeys of `key`; `None` when the key does not exist.
pub fn reg_subkeys(
    hive: &Hive,
    key: &str,
) -> Result<Option<Vec<String>>, crate::registry::HiveError> {
    match hive.open(key)? {
        Some(k) => Ok(Some(
            k.subkeys()?.iter().map(|s| s.name().to_string()).collect(),
        )),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_encodings() {
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(
            "[State]\r\nImageState=X\r\n"
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes()),
        );
        assert_eq!(decode_text(&utf16).unwrap(), "[State]\r\nImageState=X\r\n");
        // Truncated mid-character: the odd byte is dropped, the rest decodes.
        assert_eq!(
            decode_text(&utf16[..utf16.len() - 1]).unwrap(),
            "[State]\r\nImageState=X\r"
        );
        // An unpaired surrogate is not text.
        assert!(decode_text(&[0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00]).is_err());
        assert_eq!(decode_text(b"ImageState=Y").unwrap(), "ImageState=Y");
        assert_eq!(decode_text(&[0xEF, 0xBB, 0xBF, b'a']).unwrap(), "a");
        assert_eq!(decode_text(&[]).unwrap(), "");
    }

    fn value(kind: u32, data: Vec<u8>) -> crate::registry::Value {
        crate::registry::Value {
            name: "v".into(),
            kind,
            data,
            offset: 0,
        }
    }

    fn utf16z(items: &[&str]) -> Vec<u8> {
        let mut b = Vec::new();
        for i in items {
            b.extend(i.encode_utf16().flat_map(|u| u.to_le_bytes()));
            b.extend([0, 0]);
        }
        b.extend([0, 0]);
        b
    }

    #[test]
    fn data_as_evidence_shows_it() {
        use crate::registry::*;
        assert_eq!(
            show_data(&value(REG_DWORD, 4u32.to_le_bytes().to_vec())),
            "4"
        );
        assert_eq!(
            show_data(&value(REG_QWORD, 7u64.to_le_bytes().to_vec())),
            "7"
        );
        assert_eq!(show_data(&value(REG_SZ, utf16z(&["C:\\x"]))), "\"C:\\x\"");
        assert_eq!(quote("a\"b\nc"), "\"a\\\"b\\nc\"");
        assert_eq!(
            show_data(&value(REG_MULTI_SZ, utf16z(&["a", "", "b"]))),
            "\"a\", \"\", \"b\""
        );
        assert_eq!(
            show_data(&value(REG_BINARY, vec![1, 2, 3])),
            "(type 3, 3 bytes)"
        );
        // A DWORD too short to read is described, not shown as a number.
        assert_eq!(show_data(&value(REG_DWORD, vec![1])), "(type 4, 1 bytes)");
    }

    #[test]
    fn multi_sz_keeps_inner_empty_strings() {
        use crate::registry::*;
        let v = value(
            REG_MULTI_SZ,
            utf16z(&["\\??\\C:\\a", "", "\\??\\C:\\b", "!\\??\\C:\\c"]),
        );
        assert_eq!(
            multi_sz_entries(&v).unwrap(),
            ["\\??\\C:\\a", "", "\\??\\C:\\b", "!\\??\\C:\\c"]
        );
        assert!(multi_sz_entries(&value(REG_MULTI_SZ, vec![0, 0]))
            .unwrap()
            .is_empty());
        assert!(multi_sz_entries(&value(REG_MULTI_SZ, vec![]))
            .unwrap()
            .is_empty());
        // Odd trailing byte ignored, as the other string readers do.
        assert_eq!(
            multi_sz_entries(&value(REG_MULTI_SZ, vec![b'a', 0, 0])).unwrap(),
            ["a"]
        );
        assert!(multi_sz_entries(&value(REG_SZ, utf16z(&["a"]))).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = decode_text(&b);
        }
    }
}
