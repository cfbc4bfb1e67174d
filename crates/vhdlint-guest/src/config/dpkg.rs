//! dpkg's database `/var/lib/dpkg/status` (RFC 822-style stanzas separated by blank lines,
//! continuation lines starting with a space or tab) and Debian version ordering.

use super::numbered_lines;
use std::cmp::Ordering;

/// A package's `Status:` field: `want flag state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// `install`, `hold`, `deinstall`, `purge`, `unknown`.
    pub want: String,
    /// `ok` or `reinstreq`.
    pub flag: String,
    /// `installed`, `config-files`, `half-installed`, `unpacked`, `half-configured`,
    /// `triggers-awaited`, `triggers-pending`, `not-installed`.
    pub state: String,
}

impl Status {
    /// Whether the package's files are installed and configured: flag `ok`, state
    /// `installed`, whatever the selection (`install ok installed`, but also `hold ok
    /// installed` — a held package — and `deinstall ok installed` — selected for removal, not
    /// yet removed — which `dpkg -l` lists as `hi` and `ri`).
    pub fn is_installed(&self) -> bool {
        self.flag == "ok" && self.state == "installed"
    }
}

/// One package stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub package: String,
    /// None when the stanza has no (well-formed, three-word) `Status:`.
    pub status: Option<Status>,
    pub version: Option<String>,
    pub architecture: Option<String>,
    pub source: Option<String>,
    pub provides: Option<String>,
    /// The line of `Package:`.
    pub line: usize,
    /// The line of `Version:`.
    pub version_line: Option<usize>,
}

impl Package {
    pub fn is_installed(&self) -> bool {
        self.status.as_ref().is_some_and(Status::is_installed)
    }
}

/// The parsed database.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DpkgStatus {
    pub packages: Vec<Package>,
}

impl DpkgStatus {
    /// The installed package called `name` (`name` or `name:arch`); see
    /// [`Status::is_installed`].
    pub fn installed(&self, name: &str) -> Option<&Package> {
        self.find(name).find(|p| p.is_installed())
    }

    /// Every stanza for `name` (`name` or `name:arch`), installed or not.
    pub fn find<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Package> + 'a {
        let (n, arch) = match name.split_once(':') {
            Some((n, a)) => (n.to_string(), Some(a.to_string())),
            None => (name.to_string(), None),
        };
        self.packages.iter().filter(move |p| {
            p.package == n
                && arch
                    .as_deref()
                    .is_none_or(|a| p.architecture.as_deref() == Some(a))
        })
    }
}

/// Parses `/var/lib/dpkg/status`.
pub fn parse(text: &str) -> DpkgStatus {
    let mut db = DpkgStatus::default();
    let mut cur: Option<Package> = None;
    let mut field = String::new();
    let flush = |cur: &mut Option<Package>, db: &mut DpkgStatus| {
        if let Some(p) = cur.take() {
            if !p.package.is_empty() {
                db.packages.push(p);
            }
        }
    };
    for (n, line) in numbered_lines(text) {
        if line.trim().is_empty() {
            flush(&mut cur, &mut db);
            field.clear();
            continue;
        }
        if line.starts_with([' ', '\t']) {
            // Continuation of `field` (Description, Conffiles, ...): nothing we keep.
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().to_string();
        field = name.trim().to_ascii_lowercase();
        let p = cur.get_or_insert_with(|| Package {
            package: String::new(),
            status: None,
            version: None,
            architecture: None,
            source: None,
            provides: None,
            line: n,
            version_line: None,
        });
        match field.as_str() {
            "package" => {
                p.package = value;
                p.line = n;
            }
            "status" => {
                let w: Vec<&str> = value.split_whitespace().collect();
                p.status = (w.len() == 3).then(|| Status {
                    want: w[0].to_string(),
                    flag: w[1].to_string(),
                    state: w[2].to_string(),
                });
            }
            "version" => {
                p.version = Some(value);
                p.version_line = Some(n);
            }
            "architecture" => p.architecture = Some(value),
            "source" => p.source = Some(value),
            "provides" => p.provides = Some(value),
            _ => {}
        }
    }
    flush(&mut cur, &mut db);
    db
}

/// A Debian version split into epoch, upstream version and revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebVersion<'a> {
    pub epoch: u64,
    pub upstream: &'a str,
    pub revision: &'a str,
}

/// Splits `[epoch:]upstream[-revision]` (the revision after the last `-`). A bad epoch reads
/// as 0 with the whole string as the upstream part.
pub fn split_version(v: &str) -> DebVersion<'_> {
    let v = v.trim();
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) if !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit()) => {
            (e.parse().unwrap_or(u64::MAX), r)
        }
        _ => (0, v),
    };
    let (upstream, revision) = match rest.rfind('-') {
        Some(p) => (&rest[..p], &rest[p + 1..]),
        None => (rest, ""),
    };
    DebVersion {
        epoch,
        upstream,
        revision,
    }
}

/// Compares two Debian versions like `dpkg --compare-versions` (epoch numerically, then
/// upstream and revision with dpkg's `verrevcmp`: `~` sorts before everything, even the end).
pub fn version_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (split_version(a), split_version(b));
    a.epoch
        .cmp(&b.epoch)
        .then_with(|| verrevcmp(a.upstream, b.upstream))
        .then_with(|| verrevcmp(a.revision, b.revision))
}

fn order(c: u8) -> i32 {
    match c {
        0 => 0,
        b'~' => -1,
        c if c.is_ascii_digit() => 0,
        c if c.is_ascii_alphabetic() => i32::from(c),
        c => i32::from(c) + 256,
    }
}

fn verrevcmp(a: &str, b: &str) -> Ordering {
    // As in dpkg, whose strings are C strings, a version ends at its first NUL byte: past it,
    // `at` could not tell the byte from the end and the loop below would not advance.
    fn upto_nul(s: &str) -> &[u8] {
        let b = s.as_bytes();
        &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]
    }
    let (a, b) = (upto_nul(a), upto_nul(b));
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (at(a, i) != 0 && !at(a, i).is_ascii_digit())
            || (at(b, j) != 0 && !at(b, j).is_ascii_digit())
        {
            let (ac, bc) = (order(at(a, i)), order(at(b, j)));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while at(a, i) == b'0' {
            i += 1;
        }
        while at(b, j) == b'0' {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while at(a, i).is_ascii_digit() && at(b, j).is_ascii_digit() {
            if first_diff == Ordering::Equal {
                first_diff = at(a, i).cmp(&at(b, j));
            }
            i += 1;
            j += 1;
        }
        if at(a, i).is_ascii_digit() {
            return Ordering::Greater;
        }
        if at(b, j).is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_byte_ends_a_version() {
        // Found by fuzzing config_dpkg: an embedded NUL made the comparison loop forever.
        assert_eq!(version_cmp("1\0a", "1"), Ordering::Equal);
        assert_eq!(version_cmp("1.2\0", "1.10"), Ordering::Less);
        assert_eq!(version_cmp("\0", ""), Ordering::Equal);
    }

    const STATUS: &str = "Package: openssh-server\nStatus: install ok installed\nPriority: optional\nSection: net\nInstalled-Size: 1953\nMaintainer: Debian OpenSSH Maintainers <debian-ssh@lists.debian.org>\nArchitecture: amd64\nMulti-Arch: foreign\nSource: openssh\nVersion: 1:9.2p1-2+deb12u1\nReplaces: openssh-client (<< 1:7.9p1-8), ssh (<< 1:6.5p1-2)\nProvides: ssh-server\nDepends: libpam-modules, libpam-runtime, lsb-base, openssh-client (= 1:9.2p1-2+deb12u1)\nConffiles:\n /etc/default/ssh 500e3a4a8d8d6fb3b5b1bd3b6f6f6b2e\n /etc/init.d/ssh 3649a6fe8c18ad1d5245fd91737de507\nDescription: secure shell (SSH) server, for secure access from remote machines\n This is the portable version of OpenSSH, a free implementation of\n the Secure Shell protocol as specified by the IETF secsh working\n group.\n .\n Package: not-a-field-in-a-continuation\n\nPackage: waagent\nStatus: hold ok installed\nArchitecture: all\nVersion: 2.9.0.4-1\n\nPackage: libssl3\r\nStatus: install ok installed\r\nArchitecture: amd64\r\nVersion: 3.0.11-1~deb12u2\r\n\r\nPackage: libssl3\nStatus: install ok installed\nArchitecture: i386\nVersion: 3.0.11-1~deb12u1\n\nPackage: network-manager\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1.42.4-1\n\nPackage: broken\nStatus: install reinstreq half-installed\nVersion: 1\n\n\n\nPackage: nostatus\nVersion: 1\n";

    #[test]
    fn status_file() {
        let db = parse(STATUS);
        assert_eq!(db.packages.len(), 7);
        let ssh = db.installed("openssh-server").unwrap();
        assert_eq!(ssh.version.as_deref(), Some("1:9.2p1-2+deb12u1"));
        assert_eq!((ssh.line, ssh.version_line), (1, Some(10)));
        assert_eq!(ssh.source.as_deref(), Some("openssh"));
        assert_eq!(ssh.provides.as_deref(), Some("ssh-server"));
        assert!(db.installed("not-a-field-in-a-continuation").is_none());
        assert_eq!(db.installed("waagent").unwrap().line, 24);
        assert_eq!(
            db.installed("libssl3:i386").unwrap().version.as_deref(),
            Some("3.0.11-1~deb12u1")
        );
        assert_eq!(db.installed("libssl3").unwrap().line, 29);
        assert_eq!(db.find("libssl3").count(), 2);
        assert!(db.installed("network-manager").is_none());
        assert_eq!(db.find("network-manager").count(), 1);
        assert!(db.installed("broken").is_none());
        assert!(db.installed("nostatus").is_none());
        assert_eq!(db.find("nostatus").next().unwrap().line, 50);
    }

    #[test]
    fn debian_policy_ordering() {
        use Ordering::*;
        // Debian Policy 5.6.12: "~~" < "~~a" < "~" < "" < "a".
        let chain = ["~~", "~~a", "~", "", "a"];
        for w in chain.windows(2) {
            assert_eq!(verrevcmp(w[0], w[1]), Less, "{:?}", w);
            assert_eq!(verrevcmp(w[1], w[0]), Greater, "{:?}", w);
        }
        let cases = [
            ("1.0~rc1", "1.0", Less),
            ("1.0", "1.0-0", Equal),
            ("1:1.0", "2.0", Greater),
            ("0:1.0", "1.0", Equal),
            ("1.0-1", "1.0-2", Less),
            ("1.0-1", "1.0-1+b1", Less),
            ("2.30-1", "2.4-1", Greater),
            ("1.2.3", "1.2.3a", Less),
            ("1.2a", "1.2+", Less),
            ("1.02", "1.2", Equal),
            ("1:9.2p1-2+deb12u1", "1:9.2p1-2", Greater),
            ("3.0.11-1~deb12u2", "3.0.11-1", Less),
            ("2.2.53.1", "2.2.53", Greater),
            ("2.9.1.1-0ubuntu0.22.04.1", "2.9.1.1", Greater),
            ("1.0-a-1", "1.0-a-2", Less),
            ("7.6p1-4", "7.6p1-4ubuntu0.7", Less),
            ("10", "9", Greater),
            ("1.1.1w-0+deb11u1", "1.1.1n-0+deb11u5", Greater),
        ];
        for (a, b, o) in cases {
            assert_eq!(version_cmp(a, b), o, "{a} vs {b}");
            assert_eq!(version_cmp(b, a), o.reverse(), "{b} vs {a}");
        }
        let v = split_version("1:2.3-4-5");
        assert_eq!((v.epoch, v.upstream, v.revision), (1, "2.3-4", "5"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,500}", a in "\\PC{0,30}", b in "\\PC{0,30}") {
            let db = parse(&text);
            let _ = db.installed("a");
            let _ = version_cmp(&a, &b);
            assert_eq!(version_cmp(&a, &a), Ordering::Equal);
        }

        #[test]
        fn cmp_is_antisymmetric(a in "[0-9:.~+a-z-]{0,12}", b in "[0-9:.~+a-z-]{0,12}") {
            assert_eq!(version_cmp(&a, &b), version_cmp(&b, &a).reverse());
        }
    }
}
