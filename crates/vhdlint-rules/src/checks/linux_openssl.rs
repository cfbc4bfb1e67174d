use std::cmp::Ordering;

use vhdlint_guest::view::GuestView;

use super::linux_python::texts_after;
use super::{upstream_version, version_cmp};
use crate::check::{CheckMeta, Evidence, Note, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/openssl",
    title: "OpenSSL",
    what: "Finds the OpenSSL version: the package database (openssl, libssl3, libssl1.1, libssl1.0.x) or, without one, the version string inside libcrypto (\"OpenSSL 3.0.7 1 Nov 2022\") or the libssl file name (libssl.so.1.1.1k). guide: fail below 1.0. current: as LISA runs `openssl version`, the version is that of the first openssl executable in the PATH directories (/usr/local/bin, /usr/bin, /bin, /usr/local/sbin, /usr/sbin, /sbin): the \"OpenSSL X.Y.Z\" it was built with (what `openssl version` prints first), else that of the libcrypto it links (found in the library directories), else, as the guide measures, that of the openssl package that ships it or of the libraries installed; no executable fails, one whose version cannot be told is an error; below 3.0.0 fails unless exactly 1.1.1 or 1.0.2 (any letter release).",
    why: "The Azure Linux Agent uses OpenSSL to decrypt the provisioning certificates and SSH keys; old OpenSSL is unsupported and insecure.",
    remedy: "Install the distribution's current openssl and libssl packages.",
    sources: &["Azure Marketplace VM image guide: OpenSSL 1.0 or greater", "LISA AzureImageStandard.verify_openssl_version"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual("the OpenSSL version is the distribution's: update its packages in the build (apt-get/dnf/zypper upgrade)");

/// The thresholds of this check: the `["linux/openssl"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// OpenSSL older than this fails…
    pub fail_below: String,
    /// …except these exact versions.
    pub allowed_older: Vec<String>,
    /// Whether the version is that of the openssl executable on PATH, as LISA runs it,
    /// rather than the installed package or library.
    pub from_path: bool,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            fail_below: "1.0".into(),
            allowed_older: Vec::new(),
            from_path: false,
        }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            fail_below: "3.0.0".into(),
            allowed_older: vec!["1.1.1".into(), "1.0.2".into()],
            from_path: true,
        }
    }
}

/// The version in "OpenSSL 3.0.7 1 Nov 2022" inside a library's bytes.
fn version_in(bytes: &[u8]) -> Option<String> {
    let pat = b"OpenSSL ";
    bytes.windows(pat.len() + 1).enumerate().find_map(|(i, w)| {
        if &w[..pat.len()] != pat || !w[pat.len()].is_ascii_digit() {
            return None;
        }
        let rest = &bytes[i + pat.len()..];
        let v: String = rest
            .iter()
            .take(16)
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'.')
            .map(|&c| char::from(c))
            .collect();
        (v.matches('.').count() >= 1).then_some(v)
    })
}

/// The directories the libraries are looked for in.
const LIB_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/lib64",
    "/lib/x86_64-linux-gnu",
];

/// How much of an executable or library is read for its version string.
const MAX_READ_BYTES: u64 = 16 << 20;

/// The libcrypto an executable links (`libcrypto.so.3`), from the names in its bytes.
fn linked_libcrypto(bytes: &[u8]) -> Option<String> {
    texts_after(bytes, b"libcrypto.so.", 12, |c| {
        c.is_ascii_alphanumeric() || c == b'.'
    })
    .find_map(|(v, after)| {
        (!v.is_empty() && after.first() == Some(&0)).then(|| format!("libcrypto.so.{v}"))
    })
}

/// The OpenSSL LISA would run: the first openssl on PATH and the version `openssl version`
/// prints first. `Ok(None)` when there is none; `Err(how it was found)` when one is there but
/// neither it nor the libcrypto it links holds a version string.
fn from_path(
    view: &GuestView,
    notes: &mut Vec<Note>,
) -> Result<Option<(String, Vec<Evidence>)>, String> {
    let Some((path, target)) = super::linux_python::on_path(view, "openssl", notes) else {
        return Ok(None);
    };
    let shown = if target == path {
        path.clone()
    } else {
        format!("{path} -> {target}")
    };
    let bytes = view
        .read_upto(&target, MAX_READ_BYTES)
        .map_err(|e| format!("{target}: {e}"))?;
    let built = version_in(&bytes);
    // The library it links: `openssl version` adds "(Library: …)" when it differs, and
    // prints the library's text alone when they are the same.
    let lib = linked_libcrypto(&bytes).and_then(|name| {
        LIB_DIRS.iter().find_map(|d| {
            let p = format!("{d}/{name}");
            if !view.exists_noted(&p, notes) {
                return None;
            }
            let v = view
                .read_upto(&p, MAX_READ_BYTES)
                .ok()
                .and_then(|b| version_in(&b));
            Some((p, v))
        })
    });
    let mut ev = Vec::new();
    if let Some(v) = &built {
        ev.push(Evidence::path(
            target.clone(),
            None,
            format!("`openssl` is {shown}, built with \"OpenSSL {v}\""),
        ));
    }
    if let Some((p, v)) = &lib {
        ev.push(Evidence::path(
            p.clone(),
            None,
            match v {
                Some(v) => format!("the libcrypto {shown} links: \"OpenSSL {v}\""),
                None => format!("the libcrypto {shown} links: no version string"),
            },
        ));
    }
    if let Some(v) = built.or_else(|| lib.and_then(|l| l.1)) {
        if ev.len() == 1 && !ev[0].text.contains("built with") {
            ev.insert(
                0,
                Evidence::path(target, None, format!("`openssl` is {shown}")),
            );
        }
        return Ok(Some((v, ev)));
    }
    // Neither says: what is installed says it (the package that ships the executable, else
    // the libraries), as the guide measures.
    Err(shown)
}

/// The newest version found in the library files; a directory a bound kept from being listed
/// is noted in `notes`.
fn from_files(view: &GuestView, notes: &mut Vec<Note>) -> Option<(String, Evidence)> {
    let mut found = Vec::new();
    for dir in LIB_DIRS.iter().copied() {
        let Some(entries) = view.read_dir_noted(dir, notes) else {
            continue;
        };
        for e in entries {
            if e.name.starts_with("libcrypto.so.") {
                let p = format!("{dir}/{}", e.name);
                if let Some(v) = view
                    .read_upto(&p, MAX_READ_BYTES)
                    .ok()
                    .and_then(|b| version_in(&b))
                {
                    found.push((
                        v.clone(),
                        Evidence::path(p, None, format!("version string \"OpenSSL {v}\"")),
                    ));
                }
            } else if let Some(v) = e
                .name
                .strip_prefix("libssl.so.")
                .filter(|v| v.matches('.').count() >= 2)
            {
                found.push((
                    v.to_string(),
                    Evidence::path(format!("{dir}/{}", e.name), None, "library file name"),
                ));
            }
        }
    }
    found
        .into_iter()
        .max_by(|a, b| version_cmp(None, &a.0, &b.0))
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let pol = &ctx.policy.linux_openssl;
    if pol.from_path {
        let mut notes = Vec::new();
        let required = required(pol);
        let (v, ev, db) = match from_path(&g.view, &mut notes) {
            Ok(Some((v, ev))) => (v, ev, None),
            Ok(None) => {
                return Outcome::fail("no openssl on PATH", required)
                    .message(format!(
                        "no openssl executable in {}: `openssl version` would fail",
                        super::linux_python::PATH_DIRS.join(", ")
                    ))
                    .evidence(Evidence::note(format!(
                        "looked for openssl in {}",
                        super::linux_python::PATH_DIRS.join(", ")
                    )))
                    .noted(notes)
            }
            Err(shown) => {
                let pkgs = g.facts.packages(&g.view);
                notes.extend(pkgs.notes.iter().cloned());
                let Some((v, ev, db)) = installed(&g.view, pkgs, &mut notes) else {
                    return Outcome::error(format!(
                        "`openssl` is {shown}, and neither it, a libcrypto it links, an OpenSSL package nor a library in /usr/lib*, /lib* says which OpenSSL it is"
                    ))
                    .noted(notes);
                };
                let exe = Evidence::path(
                    shown.split(" -> ").last().unwrap_or(&shown).to_string(),
                    None,
                    format!("`openssl` is {shown}, holding no version string"),
                );
                (v, vec![exe, ev], db)
            }
        };
        return judge(pol, v, ev, db, required).noted(notes);
    }
    let pkgs = g.facts.packages(&g.view);
    // What the package inventory could not read (the version then comes from the files).
    let mut notes = pkgs.notes.clone();
    let found = installed(&g.view, pkgs, &mut notes);
    let required = required(pol);
    let Some((v, ev, db)) = found else {
        let out = Outcome::fail("OpenSSL not found", required)
            .message("no openssl/libssl package and no libssl/libcrypto library")
            .evidence(Evidence::note(
                "looked in the package database and /usr/lib*, /lib*",
            ));
        return out.aside(notes);
    };
    judge(pol, v, vec![ev], db, required).aside(notes)
}

/// The OpenSSL installed: the package database's openssl or libssl package, else the newest
/// library file.
fn installed(
    view: &GuestView,
    pkgs: &vhdlint_guest::facts::Packages,
    notes: &mut Vec<Note>,
) -> Option<(String, Evidence, Option<&'static str>)> {
    pkgs.any(&[
        "openssl",
        "libssl3",
        "libssl3t64",
        "libssl1.1",
        "libssl1.0.2",
        "libssl1.0.0",
        "openssl-libs",
        "libopenssl3",
        "libopenssl1_1",
    ])
    .map(|p| {
        (
            upstream_version(&p.version).to_string(),
            Evidence::path(
                p.path.clone(),
                p.line,
                format!("package {} {}", p.name, p.version),
            ),
            pkgs.database,
        )
    })
    .or_else(|| from_files(view, notes).map(|(v, ev)| (v, ev, None)))
}

/// What the policy requires, in words.
fn required(pol: &Thresholds) -> String {
    if pol.allowed_older.is_empty() {
        format!("OpenSSL ≥ {}", pol.fail_below)
    } else {
        format!(
            "OpenSSL ≥ {} (or {})",
            pol.fail_below,
            pol.allowed_older.join(", ")
        )
    }
}

/// Judges version `v` (ordered as package database `db` orders them).
fn judge(
    pol: &Thresholds,
    v: String,
    ev: Vec<Evidence>,
    db: Option<&'static str>,
    required: String,
) -> Outcome {
    let allowed = pol.allowed_older.iter().any(|a| {
        v == *a
            || (v.starts_with(a.as_str()) && v[a.len()..].chars().all(|c| c.is_ascii_lowercase()))
    });
    if version_cmp(db, &v, &pol.fail_below) == Ordering::Less && !allowed {
        return Outcome::fail(format!("OpenSSL {v}"), required)
            .message(format!("OpenSSL {v} is older than {}", pol.fail_below))
            .evidences(ev);
    }
    Outcome::pass(format!("OpenSSL {v}"), required).evidences(ev)
}

#[cfg(test)]
mod tests {
    use vhdlint_guest::limits::MAX_DPKG_STATUS_BYTES;

    /// The current policy's thresholds, measured as the guide measures (the package database
    /// and the files), not from the executable on PATH.
    fn current_by_packages() -> Policy {
        let mut p = Policy::current();
        p.linux_openssl.from_path = false;
        p
    }

    use super::run;
    use crate::check::{Outcome, Status};
    use crate::policy::Policy;
    use crate::testing::{
        assert_errors_without_a_linux_guest, run_linux, run_linux_with, said, MemFs,
    };

    /// A guest whose dpkg database has `package` installed at `version`.
    fn package(package: &str, version: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file(
            "/var/lib/dpkg/status",
            format!(
                "Package: base-files\nStatus: install ok installed\nVersion: 12.4\n\nPackage: {package}\nStatus: install ok installed\nVersion: {version}\n"
            ),
        );
        fs
    }

    fn guide(version: &str) -> Outcome {
        run_linux(package("openssl", version), run)
    }

    fn current(version: &str) -> Outcome {
        run_linux_with(package("openssl", version), &current_by_packages(), run)
    }

    fn assert_status(o: &Outcome, status: Status, version: &str) {
        assert_eq!(o.status, status, "{}", said(o));
        assert_eq!(o.actual, format!("OpenSSL {version}"), "{}", said(o));
    }

    /// An openssl executable built with "OpenSSL `built`" linking libcrypto.so.`soname`,
    /// and that library holding "OpenSSL `lib`" (none: no library).
    fn executable(built: Option<&str>, soname: &str, lib: Option<&str>) -> MemFs {
        let mut fs = MemFs::new();
        let mut exe = b"\x7fELF\0libssl.so.3\0".to_vec();
        exe.extend_from_slice(format!("libcrypto.so.{soname}\0").as_bytes());
        if let Some(b) = built {
            exe.extend_from_slice(
                format!("%s (Library: %s)\0OpenSSL {b}  11 Sep 2023\0").as_bytes(),
            );
        }
        fs.file("/usr/bin/openssl", exe);
        if let Some(l) = lib {
            fs.file(
                &format!("/usr/lib64/libcrypto.so.{soname}"),
                format!("\x7fELF\0OpenSSL {l} 7 Apr 2026\0").into_bytes(),
            );
        }
        fs
    }

    #[test]
    fn current_judges_what_openssl_version_prints_first() {
        // The executable's own version, as `openssl version` prints it first.
        let o = run_linux_with(
            executable(Some("1.1.0l"), "1.1", Some("1.1.1w")),
            &Policy::current(),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "OpenSSL 1.1.0l");
        assert!(
            s.contains("/usr/lib64/libcrypto.so.1.1 the libcrypto"),
            "{s}"
        );
        // Without one in the executable, the library's.
        let o = run_linux_with(
            executable(None, "3", Some("3.0.20")),
            &Policy::current(),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "OpenSSL 3.0.20");
        // A 1.0.2 letter release is allowed, as LISA's pattern reads 1.0.2k as 1.0.2.
        let o = run_linux_with(
            executable(Some("1.0.2k-fips"), "10", None),
            &Policy::current(),
            run,
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "OpenSSL 1.0.2k");
    }

    #[test]
    fn current_fails_without_an_openssl_executable() {
        // The library and the package are there; `openssl version` is not.
        let mut fs = package("libssl3", "3.0.11-1~deb12u2");
        fs.file(
            "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
            "OpenSSL 3.0.11 19 Sep 2023",
        );
        let o = run_linux_with(fs.clone(), &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "no openssl on PATH");
        let o = run_linux_with(fs, &current_by_packages(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn current_takes_the_openssl_package_when_the_executable_says_nothing() {
        let mut fs = package("openssl", "1.1.0l-1~deb9u6");
        fs.file("/usr/bin/openssl", "#!/bin/sh\n");
        let o = run_linux_with(fs, &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "OpenSSL 1.1.0l");
        assert!(s.contains("package openssl 1.1.0l-1~deb9u6"), "{s}");
    }

    #[test]
    fn an_executable_whose_version_cannot_be_told_is_an_error() {
        let o = run_linux_with(executable(None, "3", None), &Policy::current(), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            o.message.contains("`openssl` is /usr/bin/openssl"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_without_a_linux_guest() {
        assert_errors_without_a_linux_guest(run);
    }

    #[test]
    fn fails_when_not_found() {
        let o = run_linux(MemFs::new(), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "OpenSSL not found");
        assert_eq!(o.required, "OpenSSL ≥ 1.0");
    }

    #[test]
    fn passes_with_a_package_and_shows_it() {
        let o = guide("3.0.11-1~deb12u2");
        let s = said(&o);
        assert_status(&o, Status::Pass, "3.0.11");
        assert!(
            s.contains("/var/lib/dpkg/status:7 package openssl 3.0.11-1~deb12u2"),
            "{s}"
        );
    }

    #[test]
    fn reads_a_libssl_package() {
        let o = run_linux(package("libssl1.1", "1.1.1n-0+deb11u5"), run);
        assert_status(&o, Status::Pass, "1.1.1n");
        assert!(said(&o).contains("package libssl1.1"), "{}", said(&o));
    }

    #[test]
    fn guide_passes_at_1_0() {
        assert_status(&guide("1.0-1"), Status::Pass, "1.0");
    }

    #[test]
    fn guide_fails_below_1_0() {
        let o = guide("0.9.8zh-1");
        assert_status(&o, Status::Fail, "0.9.8zh");
        assert_eq!(o.message, "OpenSSL 0.9.8zh is older than 1.0");
        assert!(
            said(&o).contains("package openssl 0.9.8zh-1"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn current_passes_at_3_0_0() {
        let o = current("3.0.0-1");
        assert_status(&o, Status::Pass, "3.0.0");
        assert_eq!(o.required, "OpenSSL ≥ 3.0.0 (or 1.1.1, 1.0.2)");
    }

    #[test]
    fn current_fails_below_3_0_0() {
        let o = current("2.9.9-1");
        assert_status(&o, Status::Fail, "2.9.9");
        assert_eq!(o.message, "OpenSSL 2.9.9 is older than 3.0.0");
    }

    #[test]
    fn current_allows_exactly_1_1_1_and_1_0_2() {
        assert_status(&current("1.1.1-1"), Status::Pass, "1.1.1");
        assert_status(&current("1.0.2-1"), Status::Pass, "1.0.2");
    }

    #[test]
    fn current_allows_letter_releases_of_an_allowed_version() {
        assert_status(&current("1.1.1w-0+deb11u1"), Status::Pass, "1.1.1w");
        assert_status(&current("1.0.2zk-1"), Status::Pass, "1.0.2zk");
    }

    #[test]
    fn current_fails_on_what_only_begins_like_an_allowed_version() {
        assert_status(&current("1.1.10-1"), Status::Fail, "1.1.10");
        assert_status(&current("1.1.1W-1"), Status::Fail, "1.1.1W");
        assert_status(&current("1.1.0l-1"), Status::Fail, "1.1.0l");
    }

    #[test]
    fn guide_does_not_need_the_allowed_list() {
        // 0.9.8 fails under the guide; 1.1.0 passes under the guide and fails under current.
        assert_status(&guide("1.1.0l-1"), Status::Pass, "1.1.0l");
    }

    #[test]
    fn reads_the_version_inside_libcrypto() {
        // A version after other text, and "OpenSSL " followed by no version, come first.
        let mut bytes =
            b"\x7fELF\0GCC: (Debian 12.2.0-14) 12.2.0\0OpenSSL x\0OpenSSL 3 only\0".to_vec();
        bytes.extend_from_slice(b"OpenSSL 3.0.7 1 Nov 2022\0tail");
        let mut fs = MemFs::new();
        fs.file("/usr/lib/x86_64-linux-gnu/libcrypto.so.3", bytes);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_status(&o, Status::Pass, "3.0.7");
        assert!(
            s.contains("/usr/lib/x86_64-linux-gnu/libcrypto.so.3 version string \"OpenSSL 3.0.7\""),
            "{s}"
        );
    }

    #[test]
    fn reads_a_two_part_version_inside_libcrypto() {
        let mut fs = MemFs::new();
        fs.file("/usr/lib/libcrypto.so.1.0", b"OpenSSL 1.0 29 Mar 2010");
        assert_status(&run_linux(fs, run), Status::Pass, "1.0");
    }

    #[test]
    fn fails_on_an_old_libcrypto() {
        let mut fs = MemFs::new();
        fs.file(
            "/lib64/libcrypto.so.0.9.8",
            b"..OpenSSL 0.9.8e-fips-rhel5 01 Jul 2008",
        );
        let o = run_linux(fs, run);
        assert_status(&o, Status::Fail, "0.9.8e");
    }

    #[test]
    fn a_libcrypto_without_a_version_string_is_not_a_version() {
        let mut fs = MemFs::new();
        fs.file("/usr/lib64/libcrypto.so.3", b"OpenSSL 3\0no version");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "OpenSSL not found");
    }

    #[test]
    fn reads_the_version_in_the_libssl_file_name() {
        let mut fs = MemFs::new();
        fs.file("/usr/lib64/libssl.so.1.0.1e", "");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_status(&o, Status::Pass, "1.0.1e");
        assert!(
            s.contains("/usr/lib64/libssl.so.1.0.1e library file name"),
            "{s}"
        );
        let o = run_linux_with(
            {
                let mut fs = MemFs::new();
                fs.file("/usr/lib64/libssl.so.1.0.1e", "");
                fs
            },
            &current_by_packages(),
            run,
        );
        assert_status(&o, Status::Fail, "1.0.1e");
    }

    #[test]
    fn a_libssl_name_with_a_short_version_is_not_a_version() {
        let mut fs = MemFs::new();
        fs.file("/usr/lib/libssl.so.3", "")
            .file("/usr/lib/libssl.so.1.1", "");
        let o = run_linux(fs, run);
        assert_eq!(o.actual, "OpenSSL not found", "{}", said(&o));
    }

    #[test]
    fn the_newest_library_wins() {
        let mut fs = MemFs::new();
        fs.file(
            "/usr/lib64/libcrypto.so.10",
            b"OpenSSL 1.0.2k-fips  26 Jan 2017",
        )
        .file("/lib/x86_64-linux-gnu/libssl.so.1.1.1k", "")
        .file("/usr/lib/libssl.so.1.0.0a", "");
        let o = run_linux(fs, run);
        assert_status(&o, Status::Pass, "1.1.1k");
    }

    #[test]
    fn the_package_database_wins_over_the_files() {
        let mut fs = package("openssl", "0.9.8o-4");
        fs.file("/usr/lib/libssl.so.3.0.2", "");
        let o = run_linux(fs, run);
        assert_status(&o, Status::Fail, "0.9.8o");
    }

    #[test]
    fn falls_back_to_the_files_when_the_package_database_is_over_its_bound() {
        let mut fs = MemFs::new();
        fs.repeat("/var/lib/dpkg/status", b'#', MAX_DPKG_STATUS_BYTES + 1)
            .file("/usr/lib/libssl.so.3.0.2", "");
        let o = run_linux(fs, run);
        assert_status(&o, Status::Pass, "3.0.2");
        assert!(said(&o).contains("/var/lib/dpkg/status"), "{}", said(&o));
    }
}
