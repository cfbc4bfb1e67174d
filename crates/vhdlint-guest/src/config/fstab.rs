//! `/etc/fstab`, read like libmount: whitespace-separated fields, `#` comment lines, octal
//! escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash) decoded, `options`
//! defaulting to `defaults` and `dump`/`pass` to 0 when absent.

use super::numbered_lines;

/// One mount line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FstabEntry {
    /// The source (`UUID=...`, `/dev/sda1`, `LABEL=root`, `/swapfile`), decoded.
    pub spec: String,
    /// The mount point (`/`, `/boot/efi`, `none`/`swap` for swap), decoded.
    pub mountpoint: String,
    pub fstype: String,
    /// The options, split at commas.
    pub options: Vec<String>,
    pub dump: u32,
    pub pass: u32,
    pub line: usize,
    pub text: String,
}

impl FstabEntry {
    /// Whether `opt` is among the options (exact match, `noauto`, `nofail`, ...).
    pub fn has_option(&self, opt: &str) -> bool {
        self.options.iter().any(|o| o == opt)
    }

    /// The value of an option `name=value` (`x-systemd.device-timeout=10`).
    pub fn option_value(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find_map(|o| o.strip_prefix(name)?.strip_prefix('='))
    }

    /// Whether this is a swap entry (`swap` type).
    pub fn is_swap(&self) -> bool {
        self.fstype == "swap"
    }

    /// The tag of a `TAG=value` source (`UUID`, `PARTUUID`, `LABEL`, `PARTLABEL`, `ID`), with
    /// the value unquoted; None for a path.
    pub fn spec_tag(&self) -> Option<(&str, &str)> {
        split_tag(&self.spec)
    }
}

/// A parsed fstab.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fstab {
    pub entries: Vec<FstabEntry>,
    /// Lines libmount would reject (fewer than three fields, non-numeric dump/pass):
    /// `(line, text)`.
    pub malformed: Vec<(usize, String)>,
}

impl Fstab {
    /// The entry mounted at `mountpoint` (the last one, as `mount -a` would leave it).
    pub fn mount(&self, mountpoint: &str) -> Option<&FstabEntry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.mountpoint == mountpoint)
    }

    /// The swap entries.
    pub fn swaps(&self) -> impl Iterator<Item = &FstabEntry> {
        self.entries.iter().filter(|e| e.is_swap())
    }
}

/// Decodes `\NNN` octal escapes (libmount's `unmangle`).
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 4 <= b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = u32::from(b[i + 1] - b'0') * 64
                + u32::from(b[i + 2] - b'0') * 8
                + u32::from(b[i + 3] - b'0');
            if let Ok(byte) = u8::try_from(v) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `/etc/fstab`.
pub fn parse(text: &str) -> Fstab {
    let mut f = Fstab::default();
    for (n, line) in numbered_lines(text) {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = t.split_ascii_whitespace().collect();
        let num = |i: usize| -> Option<u32> {
            match fields.get(i) {
                None => Some(0),
                Some(s) => s.parse().ok(),
            }
        };
        let (Some(dump), Some(pass)) = (num(4), num(5)) else {
            f.malformed.push((n, line.to_string()));
            continue;
        };
        if fields.len() < 3 {
            f.malformed.push((n, line.to_string()));
            continue;
        }
        f.entries.push(FstabEntry {
            spec: unescape(fields[0]),
            mountpoint: unescape(fields[1]),
            fstype: unescape(fields[2]),
            options: unescape(fields.get(3).copied().unwrap_or("defaults"))
                .split(',')
                .map(str::to_string)
                .collect(),
            dump,
            pass,
            line: n,
            text: line.to_string(),
        });
    }
    f
}

/// `TAG=value` with the value unquoted, for the tags libmount knows (`UUID`, `PARTUUID`,
/// `LABEL`, `PARTLABEL`, `ID`); None for a path.
pub fn split_tag(spec: &str) -> Option<(&str, &str)> {
    let (tag, v) = spec.split_once('=')?;
    if !matches!(tag, "UUID" | "PARTUUID" | "LABEL" | "PARTLABEL" | "ID") {
        return None;
    }
    let v = v
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
        .unwrap_or(v);
    Some((tag, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str = "# /etc/fstab: static file system information.\n#\n# Use 'blkid' to print the universally unique identifier for a\n# device; this may be used with UUID= as a more robust way to name devices\n# that works even if disks are added and removed. See fstab(5).\n#\n# <file system> <mount point>   <type>  <options>       <dump>  <pass>\nPARTUUID=8b3c4d5e-01  /  ext4  rw,discard,errors=remount-ro,x-systemd.growfs  0  1\nPARTUUID=8b3c4d5e-0f  /boot/efi  vfat  defaults  0  0\n/swapfile none swap sw 0 0\n";

    #[test]
    fn debian_cloud() {
        let f = parse(DEBIAN);
        assert!(f.malformed.is_empty());
        assert_eq!(f.entries.len(), 3);
        let root = f.mount("/").unwrap();
        assert_eq!(root.line, 8);
        assert_eq!(root.spec_tag(), Some(("PARTUUID", "8b3c4d5e-01")));
        assert_eq!(root.pass, 1);
        assert!(root.has_option("x-systemd.growfs"));
        assert_eq!(root.option_value("errors"), Some("remount-ro"));
        let swaps: Vec<_> = f.swaps().collect();
        assert_eq!(swaps.len(), 1);
        assert_eq!(swaps[0].spec, "/swapfile");
    }

    #[test]
    fn rhel_lvm_and_escapes() {
        let f = parse("\n#\n# /etc/fstab\n# Created by anaconda on Tue Nov  7 10:00:00 2023\n#\n/dev/mapper/rhel-root   /                       xfs     defaults        0 0\r\nUUID=\"7b8f\" /boot                   xfs     defaults        0 0\nUUID=1A2B          /boot/efi               vfat    umask=0077,shortname=winnt 0 2\n/dev/mapper/rhel-swap   none                    swap    defaults        0 0\n/dev/sdb1\t/mnt/My\\040Data\text4\tnofail\n tmpfs /tmp tmpfs\nbad line\n/dev/x /y ext4 defaults zero 0\n");
        assert_eq!(f.entries.len(), 6);
        assert_eq!(f.entries[1].spec_tag(), Some(("UUID", "7b8f")));
        assert_eq!(f.entries[4].mountpoint, "/mnt/My Data");
        assert_eq!(f.entries[4].dump, 0);
        assert_eq!(f.entries[5].options, vec!["defaults"]);
        assert_eq!(f.malformed.len(), 2);
        assert_eq!(f.malformed[0].0, 12);
        assert_eq!(unescape("a\\011b\\134\\12"), "a\tb\\\\12");
        assert_eq!(unescape("\\777x\\040"), "\\777x ");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,500}") {
            let f = parse(&text);
            for e in &f.entries {
                let _ = e.spec_tag();
                let _ = e.option_value("x");
            }
        }

        #[test]
        fn shaped_never_panics(lines in proptest::collection::vec("[#A-Z=\"a-z/ \\t\\\\0-9,]{0,40}", 0..20)) {
            let _ = parse(&lines.join("\n"));
        }
    }
}
