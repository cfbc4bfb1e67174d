//! dpkg's database `/var/lib/dpkg/status` (RFC 822-style stanzas separated by blank lines,
//! continuation lines starting with a space or tab). Debian versions are ordered by
//! [`crate::version::dpkg_cmp`].

use crate::config::numbered_lines;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::dpkg_cmp;
    use std::cmp::Ordering;

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

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,500}", a in "\\PC{0,30}", b in "\\PC{0,30}") {
            let db = parse(&text);
            let _ = db.installed("a");
            let _ = dpkg_cmp(&a, &b);
            assert_eq!(dpkg_cmp(&a, &a), Ordering::Equal);
        }
    }
}
