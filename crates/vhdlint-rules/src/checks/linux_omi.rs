use std::cmp::Ordering;

use vhdlint_guest::view::GuestView;

use super::version_cmp;
use crate::check::{CheckMeta, Evidence, Note, Outcome};
use crate::policy::Level;
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/omi",
    title: "OMI (OMIGOD)",
    what: "Looks for Open Management Infrastructure: the `omi` package in the dpkg or rpm database, else the version string in /opt/omi/bin/omiserver (\"OMI-1.6.8-1\") when /opt/omi exists. The version is read as LISA reads `omiserver --version`, `dpkg -l omi` and `rpm -q omi`: the package's version without its epoch, `-` read as `.` (OMI's packages are MAJOR.MINOR.PATCH-BUILD: 1.6.8-0 is 1.6.8.0). Below 1.6.8.1, or installed with no readable version: current fail, guide warning. Absent passes.",
    why: "OMI before 1.6.8.1 has the OMIGOD vulnerabilities (CVE-2021-38647 lets anyone who reaches the port run commands as root without authentication; CVE-2021-38648, -38645, -38649 raise privileges). Azure's certification (LISA verify_omi_version) fails an image that carries one.",
    remedy: "Remove OMI if nothing on the image needs it (apt-get purge omi / dnf remove omi), or update it to 1.6.8-1 or later from https://github.com/microsoft/omi/releases (or packages.microsoft.com).",
    sources: &["LISA AzureImageStandard verify_omi_version (OMI absent or ≥ 1.6.8.1)", "Microsoft Security Response Center: CVE-2021-38647 (OMIGOD), fixed in OMI 1.6.8-1"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(
    "OMI is a package: upgrade or remove it with the distribution's package manager in the build",
);

/// The thresholds of this check: the `["linux/omi"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// The first version without the OMIGOD vulnerabilities ("" switches the check off).
    pub fixed_in: String,
    /// What an older (or unreadable) version gets.
    pub older: Level,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            fixed_in: "1.6.8.1".into(),
            older: Level::Warning,
        }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            fixed_in: "1.6.8.1".into(),
            older: Level::Fail,
        }
    }
}

/// Where OMI installs itself.
const OMI_DIR: &str = "/opt/omi";
/// The server, whose `--version` prints the version compiled into it.
const OMISERVER: &str = "/opt/omi/bin/omiserver";
/// Bytes of omiserver read to find its version string (the real binary is about 1 MiB).
const MAX_OMISERVER_BYTES: u64 = 32 << 20;

/// A package version as LISA reads it: no epoch, `-` read as `.`.
fn lisa_version(v: &str) -> String {
    let v = v.split_once(':').map_or(v, |(_, r)| r);
    v.replace('-', ".")
}

/// The version in "OMI-1.6.8-1" inside omiserver's bytes, as LISA's pattern takes it
/// (MAJOR.MINOR.PATCH, then `.N` or `-N`).
fn version_in(bytes: &[u8]) -> Option<String> {
    let pat = b"OMI-";
    bytes.windows(pat.len() + 1).enumerate().find_map(|(i, w)| {
        if &w[..pat.len()] != pat || !w[pat.len()].is_ascii_digit() {
            return None;
        }
        let rest = &bytes[i + pat.len()..];
        let v: String = rest
            .iter()
            .take(32)
            .take_while(|c| c.is_ascii_digit() || **c == b'.' || **c == b'-')
            .map(|&c| char::from(c))
            .collect();
        // MAJOR.MINOR.PATCH and at most one more number.
        let parts: Vec<&str> = v.split(['.', '-']).collect();
        (parts.len() >= 3 && parts[..3].iter().all(|p| !p.is_empty())).then(|| {
            let n = if parts.len() >= 4 && !parts[3].is_empty() {
                4
            } else {
                3
            };
            parts[..n].join(".")
        })
    })
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let pol = &ctx.policy.linux_omi;
    let pkgs = g.facts.packages(&g.view);
    let required = if pol.fixed_in.is_empty() {
        "OMI absent or at any version (switched off by the policy)".to_string()
    } else {
        format!("OMI absent or ≥ {}", pol.fixed_in)
    };
    let found = match pkgs.installed.get("omi") {
        Some(p) => Some((
            Some(lisa_version(&p.version)),
            Evidence::path(p.path.clone(), p.line, format!("package omi {}", p.version)),
        )),
        None => match from_files(&g.view) {
            Ok(f) => f,
            Err(notes) => {
                return Outcome::error(format!("{OMI_DIR} could not be looked at")).noted(notes)
            }
        },
    };
    let Some((version, ev)) = found else {
        return Outcome::pass(
            format!("OMI not installed (no omi package, no {OMI_DIR})"),
            required,
        )
        .aside(pkgs.notes.clone());
    };
    let Some(version) = version else {
        return Outcome::with_status(pol.older.status(), "OMI installed, version unknown", required)
            .message(format!("{OMI_DIR} exists but no omi package is installed and {OMISERVER} holds no version string, so OMI cannot be shown to be {} or later", pol.fixed_in))
            .evidence(ev)
            .noted(pkgs.notes.clone());
    };
    if pol.fixed_in.is_empty() || version_cmp(None, &version, &pol.fixed_in) != Ordering::Less {
        return Outcome::pass(format!("OMI {version}"), required).evidence(ev);
    }
    Outcome::with_status(pol.older.status(), format!("OMI {version}"), required)
        .message(format!(
            "OMI {version} is older than {}: vulnerable to OMIGOD (CVE-2021-38647, CVE-2021-38648, CVE-2021-38645, CVE-2021-38649)",
            pol.fixed_in
        ))
        .evidence(ev)
}

/// OMI found without a package: its version from omiserver (None when it has none), or
/// `Ok(None)` when there is no /opt/omi. `Err` with what could not be looked up.
#[allow(clippy::type_complexity)]
fn from_files(v: &GuestView) -> Result<Option<(Option<String>, Evidence)>, Vec<Note>> {
    let mut notes = Vec::new();
    if !v.exists_noted(OMI_DIR, &mut notes) {
        return if notes.is_empty() {
            Ok(None)
        } else {
            Err(notes)
        };
    }
    match v.read_upto(OMISERVER, MAX_OMISERVER_BYTES) {
        Ok(bytes) => Ok(Some(match version_in(&bytes) {
            Some(ver) => (
                Some(ver.clone()),
                Evidence::path(OMISERVER, None, format!("version string \"OMI-{ver}\"")),
            ),
            None => (
                None,
                Evidence::path(
                    OMISERVER,
                    None,
                    "no version string (\"OMI-MAJOR.MINOR.PATCH-BUILD\")",
                ),
            ),
        })),
        Err(vhdlint_guest::fs::FsError::NotFound(_)) => Ok(Some((
            None,
            Evidence::path(OMI_DIR, None, format!("exists; no {OMISERVER}")),
        ))),
        Err(e) => {
            notes.extend(Note::from_fs_error(OMISERVER, &e));
            Err(notes)
        }
    }
}

#[cfg(test)]
mod tests {
    use vhdlint_guest::fs::FsError;

    use super::{run, version_in};
    use crate::check::Status;
    use crate::policy::Policy;
    use crate::testing::{run_linux, run_linux_with, said, MemFs};

    fn dpkg(version: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file(
            "/var/lib/dpkg/status",
            format!("Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n\nPackage: omi\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n\n"),
        );
        fs
    }

    #[test]
    fn an_old_package_fails_under_current_and_warns_under_guide() {
        let o = run_linux_with(dpkg("1.6.8-0"), &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "OMI 1.6.8.0");
        assert!(o.message.contains("CVE-2021-38647"), "{s}");
        assert!(
            s.contains("/var/lib/dpkg/status:8 package omi 1.6.8-0"),
            "{s}"
        );
        let o = run_linux(dpkg("1.6.8-0"), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn versions_are_read_as_lisa_reads_them() {
        for (v, want) in [
            ("1.6.8-1", Status::Pass),
            ("1.6.8.1", Status::Pass),
            ("1:1.6.8-1", Status::Pass),
            ("1.6.9-0", Status::Pass),
            ("1.7.0-0", Status::Pass),
            ("1.6.10-0", Status::Pass),
            ("1.6.8.0", Status::Fail),
            ("1.6.8", Status::Fail),
            ("1.6.4-0", Status::Fail),
            ("1.0.8.1", Status::Fail),
        ] {
            let o = run_linux_with(dpkg(v), &Policy::current(), run);
            assert_eq!(o.status, want, "{v}: {}", said(&o));
        }
    }

    #[test]
    fn absent_passes() {
        let mut fs = MemFs::new();
        fs.file(
            "/var/lib/dpkg/status",
            "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n\n",
        );
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "OMI not installed (no omi package, no /opt/omi)");
    }

    #[test]
    fn a_removed_package_is_not_installed() {
        let mut fs = MemFs::new();
        fs.file(
            "/var/lib/dpkg/status",
            "Package: omi\nStatus: deinstall ok config-files\nVersion: 1.6.8-0\n\n",
        );
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn reads_the_version_from_omiserver_without_a_package() {
        let mut fs = MemFs::new();
        fs.file(
            "/opt/omi/bin/omiserver",
            b"\x7fELF\0\0junk OMI- OMI-x OMI-1.6.8-0\0 - Sep 2021\0",
        );
        let o = run_linux_with(fs, &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "OMI 1.6.8.0");
        assert!(
            s.contains("/opt/omi/bin/omiserver version string \"OMI-1.6.8.0\""),
            "{s}"
        );
        assert_eq!(version_in(b"OMI-1.6.9-1 "), Some("1.6.9.1".into()));
        assert_eq!(version_in(b"OMI-1.7.0"), Some("1.7.0".into()));
        assert_eq!(version_in(b"OMI-1.7"), None);
    }

    #[test]
    fn omi_without_a_version_is_judged_as_old() {
        let mut fs = MemFs::new();
        fs.dir("/opt/omi/lib");
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "OMI installed, version unknown");
        let mut fs = MemFs::new();
        fs.file("/opt/omi/bin/omiserver", "no version here");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn an_unreadable_omiserver_is_an_error() {
        let mut fs = MemFs::new();
        fs.broken_file(
            "/opt/omi/bin/omiserver",
            FsError::Corrupt("omiserver: bad extent".into()),
        );
        let o = run_linux_with(fs, &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("omiserver: bad extent"), "{s}");
    }

    #[test]
    fn a_policy_can_switch_it_off() {
        let mut p = Policy::current();
        p.linux_omi.fixed_in = String::new();
        let o = run_linux_with(dpkg("1.0.8-1"), &p, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }
}
