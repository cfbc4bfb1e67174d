use std::cmp::Ordering;

use vhdlint_guest::view::GuestView;

use super::{upstream_version, version_cmp};
use crate::check::{CheckMeta, Evidence, Note, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/python",
    title: "Python",
    what: "Finds the newest Python: the package database (python3, python3.N, python, python2.N) or, without one, the interpreters and library directories (/usr/bin/python3.N, /usr/lib/python3.N, /usr/lib64/python3.N). guide: fail without Python 2.6 or later, warn without pyasn1. current: as LISA runs `python3 --version`, else `python --version`, the version is that of the first python3 (else python) executable in the PATH directories (/usr/local/bin, /usr/bin, /bin, /usr/local/sbin, /usr/sbin, /sbin), symlinks followed: from the pythonX.Y name it resolves to, else the libpythonX.Y it links; none fails, one whose version cannot be told is an error; below 3.9 fails, 3.9 warns.",
    why: "The Azure Linux Agent is written in Python; without a supported interpreter it cannot provision the VM. Older agents needed pyasn1.",
    remedy: "Install the distribution's python3 (and python3-pyasn1 for older agents).",
    sources: &["Azure Marketplace VM image guide: Python 2.6+ and pyasn1", "LISA AzureImageStandard.verify_python_version (3.9)"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(
    "the Python version is the distribution's: moving to another is a release upgrade, not an edit",
);

/// The thresholds of this check: the `["linux/python"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// Python older than this fails.
    pub fail_below: String,
    /// Python older than this is a warning ("": none).
    #[serde(with = "crate::policy::empty_is_none")]
    pub warn_below: Option<String>,
    /// Whether a missing pyasn1 is reported.
    pub pyasn1: bool,
    /// Whether the version is that of the python3 (else python) on PATH, as LISA runs it,
    /// rather than the newest Python installed.
    pub from_path: bool,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            fail_below: "2.6".into(),
            warn_below: None,
            pyasn1: true,
            from_path: false,
        }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            fail_below: "3.9".into(),
            warn_below: Some("3.10".into()),
            pyasn1: false,
            from_path: true,
        }
    }
}

/// The directories a shell looks for a command in (the default PATHs of Debian, Ubuntu,
/// RHEL and SUSE users, together), in order.
pub(crate) const PATH_DIRS: &[&str] = &[
    "/usr/local/bin",
    "/usr/bin",
    "/bin",
    "/usr/local/sbin",
    "/usr/sbin",
    "/sbin",
];

/// The first executable `name` in [`PATH_DIRS`], as a shell finds it: (the path, the file it
/// resolves to). A dangling link or something not a file is passed over, as the shell does;
/// a path that could not be looked up is noted in `notes`.
pub(crate) fn on_path(
    view: &GuestView,
    name: &str,
    notes: &mut Vec<Note>,
) -> Option<(String, String)> {
    PATH_DIRS.iter().find_map(|dir| {
        let p = format!("{dir}/{name}");
        match view.metadata(&p) {
            Ok(m) if m.kind == vhdlint_guest::fs::FileKind::File => {
                let target = view.resolve(&p, true).unwrap_or_else(|_| p.clone());
                Some((p, target))
            }
            Ok(_) => None,
            Err(e) => {
                notes.extend(Note::from_fs_error(&p, &e));
                None
            }
        }
    })
}

/// `3.11` from `libpython3.11.so.1.0` (or `libpython3.11d.so`) among an executable's bytes:
/// the library an interpreter built with a shared libpython links.
fn linked_libpython(bytes: &[u8]) -> Option<String> {
    texts_after(bytes, b"libpython", 8, |c| c.is_ascii_digit() || c == b'.').find_map(|(v, _)| {
        let v = v.trim_end_matches('.');
        let parts: Vec<&str> = v.split('.').collect();
        (parts.len() == 2 && parts.iter().all(|p| !p.is_empty())).then(|| v.to_string())
    })
}

/// Every place `prefix` stands in `bytes`: the text after it (at most `max` bytes for which
/// `allowed` holds) and the bytes after that text — how a library name such as
/// `libpython3.11.so` or `libcrypto.so.3` is found in an executable.
pub(crate) fn texts_after<'a>(
    bytes: &'a [u8],
    prefix: &'a [u8],
    max: usize,
    allowed: fn(u8) -> bool,
) -> impl Iterator<Item = (String, &'a [u8])> + 'a {
    bytes
        .windows(prefix.len())
        .enumerate()
        .filter(move |(_, w)| *w == prefix)
        .map(move |(i, _)| {
            let rest = &bytes[i + prefix.len()..];
            let n = rest.iter().take(max).take_while(|&&c| allowed(c)).count();
            (String::from_utf8_lossy(&rest[..n]).into_owned(), &rest[n..])
        })
}

/// The Python LISA would run: the first python3, else python, on PATH, with its version.
/// `Ok(None)` when there is none; `Err` when one is there but its version cannot be told.
fn from_path(
    view: &GuestView,
    notes: &mut Vec<Note>,
) -> Result<Option<(String, Evidence)>, String> {
    for name in ["python3", "python"] {
        let Some((path, target)) = on_path(view, name, notes) else {
            continue;
        };
        let file = target.rsplit('/').next().unwrap_or(&target);
        let shown = if target == path {
            path.clone()
        } else {
            format!("{path} -> {target}")
        };
        if let Some(v) = minor_of(file) {
            return Ok(Some((
                v,
                Evidence::path(target.clone(), None, format!("`{name}` is {shown}")),
            )));
        }
        let bytes = view
            .read_upto(&target, MAX_INTERPRETER_BYTES)
            .map_err(|e| format!("{target}: {e}"))?;
        return match linked_libpython(&bytes) {
            Some(v) => Ok(Some((
                v.clone(),
                Evidence::path(
                    target,
                    None,
                    format!("`{name}` is {shown}, which links libpython{v}"),
                ),
            ))),
            None => Err(format!(
                "`{name}` is {shown}, and neither its name nor a libpython it links says which Python it is"
            )),
        };
    }
    Ok(None)
}

/// How much of an interpreter is read to find the libpython it links.
const MAX_INTERPRETER_BYTES: u64 = 16 << 20;

/// `3.11` from `python3.11`, `python3.11-minimal`, `libpython3.11`.
fn minor_of(name: &str) -> Option<String> {
    let rest = name.strip_prefix("python")?;
    let v: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (v.contains('.') && v.split('.').all(|p| !p.is_empty())).then_some(v)
}

/// (version, where, the package database it came from) of every Python found; a directory a
/// bound kept from being listed is noted in `notes`, and an interpreter or library directory
/// listed but not looked up is in `unread` with the version its name gives.
fn pythons(
    view: &GuestView,
    pkgs: &vhdlint_guest::facts::Packages,
    notes: &mut Vec<Note>,
    unread: &mut Vec<(String, Note)>,
) -> Vec<(String, Evidence, Option<&'static str>)> {
    let mut out = Vec::new();
    for (name, p) in &pkgs.installed {
        if matches!(
            name.as_str(),
            "python3" | "python" | "python2" | "python3-minimal"
        ) || minor_of(name).is_some_and(|_| !name.contains('-') || name.ends_with("-minimal"))
        {
            out.push((
                upstream_version(&p.version).to_string(),
                Evidence::path(
                    p.path.clone(),
                    p.line,
                    format!("package {name} {}", p.version),
                ),
                pkgs.database,
            ));
        }
    }
    for dir in ["/usr/bin", "/usr/lib", "/usr/lib64", "/usr/local/bin"] {
        let Some(entries) = view.read_dir_noted(dir, notes) else {
            continue;
        };
        for e in entries {
            if let Some(v) = minor_of(&e.name) {
                let p = format!("{dir}/{}", e.name);
                let mut lookup = Vec::new();
                if view.exists_noted(&p, &mut lookup) {
                    out.push((v, Evidence::path(p, None, "present"), None));
                } else {
                    unread.extend(lookup.into_iter().map(|n| (v.clone(), n)));
                }
            }
        }
    }
    out
}

/// Where pyasn1 is; a glob cut short by its bound is noted in `notes`.
fn has_pyasn1(
    view: &GuestView,
    pkgs: &vhdlint_guest::facts::Packages,
    notes: &mut Vec<Note>,
) -> Option<Evidence> {
    if let Some(p) = pkgs.any(&["python3-pyasn1", "python-pyasn1", "python3-pyasn1-modules"]) {
        return Some(Evidence::path(
            p.path.clone(),
            p.line,
            format!("package {} {}", p.name, p.version),
        ));
    }
    for pat in [
        "/usr/lib/python3/dist-packages/pyasn1",
        "/usr/lib/python3*/site-packages/pyasn1",
        "/usr/lib64/python3*/site-packages/pyasn1",
        "/usr/lib/python2*/*-packages/pyasn1",
    ] {
        if let Some(p) = view.glob_noted(pat, notes).into_iter().next() {
            return Some(Evidence::path(p, None, "pyasn1 module"));
        }
    }
    None
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let pol = &ctx.policy.linux_python;
    if pol.from_path {
        return judge_from_path(ctx, &g.view);
    }
    let pkgs = g.facts.packages(&g.view);
    // What the package inventory could not read (the interpreters are then found as files).
    let mut notes = pkgs.notes.clone();
    let mut unread = Vec::new();
    let found = pythons(&g.view, pkgs, &mut notes, &mut unread);
    let required = match &pol.warn_below {
        Some(w) => format!("Python ≥ {} (≥ {w} recommended)", pol.fail_below),
        None => format!(
            "Python ≥ {}{}",
            pol.fail_below,
            if pol.pyasn1 { " with pyasn1" } else { "" }
        ),
    };
    // Versions from different places are ordered as rpm orders them.
    let Some((best, ev, db)) = found
        .iter()
        .max_by(|a, b| version_cmp(if a.2 == b.2 { a.2 } else { None }, &a.0, &b.0))
        .cloned()
    else {
        return Outcome::fail("no Python found", required).message("no Python package, interpreter (/usr/bin/pythonX.Y) or library directory (/usr/lib/pythonX.Y)").evidence(Evidence::note("looked in the package database, /usr/bin, /usr/lib, /usr/lib64, /usr/local/bin")).noted(unread.into_iter().map(|u| u.1)).aside(notes);
    };
    let mut status = Status::Pass;
    let mut problems = Vec::new();
    if version_cmp(db, &best, &pol.fail_below) == Ordering::Less {
        status = Status::Fail;
        problems.push(format!("Python {best} is older than {}", pol.fail_below));
    } else if pol
        .warn_below
        .as_ref()
        .is_some_and(|w| version_cmp(db, &best, w) == Ordering::Less)
    {
        status = Status::Warning;
        problems.push(format!(
            "Python {best} is older than the recommended {}",
            pol.warn_below.as_deref().unwrap_or("")
        ));
    }
    // An interpreter that could not be looked up matters when its name gives a newer version
    // than the one judged, and that one is not good enough: the verdict would rest on it.
    let (needed, aside): (Vec<_>, Vec<_>) = unread.into_iter().partition(|(v, _)| {
        status != Status::Pass && version_cmp(None, v, &best) == Ordering::Greater
    });
    notes.extend(aside.into_iter().map(|u| u.1));
    let needed: Vec<Note> = needed.into_iter().map(|u| u.1).collect();
    let mut evs = vec![ev];
    if pol.pyasn1 {
        match has_pyasn1(&g.view, pkgs, &mut notes) {
            Some(e) => evs.push(e),
            None => {
                status = status.max(Status::Warning);
                problems.push("pyasn1 is not installed".into());
            }
        }
    }
    let actual = format!("Python {best}");
    if status == Status::Pass {
        return Outcome::pass(actual, required).evidences(evs).aside(notes);
    }
    Outcome::with_status(status, actual, required)
        .message(problems.join("; "))
        .evidences(evs)
        .noted(needed)
        .aside(notes)
}

/// The required text of a policy.
fn required(pol: &Thresholds) -> String {
    match &pol.warn_below {
        Some(w) => format!("Python ≥ {} (≥ {w} recommended)", pol.fail_below),
        None => format!(
            "Python ≥ {}{}",
            pol.fail_below,
            if pol.pyasn1 { " with pyasn1" } else { "" }
        ),
    }
}

/// The version of the Python on PATH, judged as LISA's verify_python_version does.
fn judge_from_path(ctx: &Context, view: &GuestView) -> Outcome {
    let pol = &ctx.policy.linux_python;
    let required = required(pol);
    let mut notes = Vec::new();
    let (v, ev) = match from_path(view, &mut notes) {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Outcome::fail("no python3 or python on PATH", required)
                .message(format!(
                    "no python3 or python executable in {}: `python3 --version` would fail",
                    PATH_DIRS.join(", ")
                ))
                .evidence(Evidence::note(format!(
                    "looked for python3, then python, in {}",
                    PATH_DIRS.join(", ")
                )))
                .noted(notes)
        }
        Err(e) => return Outcome::error(e).noted(notes),
    };
    let (status, message) = if version_cmp(None, &v, &pol.fail_below) == Ordering::Less {
        (
            Status::Fail,
            format!("Python {v} is older than {}", pol.fail_below),
        )
    } else if let Some(w) = pol
        .warn_below
        .as_ref()
        .filter(|w| version_cmp(None, &v, w) == Ordering::Less)
    {
        (
            Status::Warning,
            format!("Python {v} is older than the recommended {w}"),
        )
    } else {
        (Status::Pass, String::new())
    };
    let mut evs = vec![ev];
    let mut status = status;
    let mut message = message;
    if pol.pyasn1 {
        let pkgs = ctx
            .linux_guest()
            .ok()
            .map(|g| g.facts.packages(&g.view).clone());
        let found = pkgs.and_then(|p| has_pyasn1(view, &p, &mut notes));
        match found {
            Some(e) => evs.push(e),
            None => {
                status = status.max(Status::Warning);
                if !message.is_empty() {
                    message.push_str("; ");
                }
                message.push_str("pyasn1 is not installed");
            }
        }
    }
    let out = Outcome::with_status(status, format!("Python {v}"), required).evidences(evs);
    let out = if message.is_empty() {
        out
    } else {
        out.message(message)
    };
    out.noted(notes)
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::check::{Outcome, Status};
    use crate::policy::Policy;
    use crate::testing::{
        assert_errors_without_a_linux_guest, run_linux, run_linux_with, said, MemFs,
    };

    /// The current policy's thresholds, measured as the guide measures (the package database
    /// and the files), not from the executable on PATH.
    fn current_by_packages() -> Policy {
        let mut p = Policy::current();
        p.linux_python.from_path = false;
        p
    }

    /// A dpkg database with these (package, version) installed.
    fn dpkg(packages: &[(&str, &str)]) -> MemFs {
        let text: Vec<String> = packages
            .iter()
            .map(|(p, v)| format!("Package: {p}\nStatus: install ok installed\nVersion: {v}\n"))
            .collect();
        let mut fs = MemFs::new();
        fs.file("/var/lib/dpkg/status", text.join("\n"));
        fs
    }

    /// A guest with /usr/bin/pythonX.Y for `version` and pyasn1 installed.
    fn interpreter(version: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file(&format!("/usr/bin/python{version}"), "")
            .dir("/usr/lib/python3/dist-packages/pyasn1");
        fs
    }

    fn current(version: &str) -> Outcome {
        run_linux_with(interpreter(version), &current_by_packages(), run)
    }

    fn assert_status(o: &Outcome, status: Status, version: &str) {
        assert_eq!(o.status, status, "{}", said(o));
        assert_eq!(o.actual, format!("Python {version}"), "{}", said(o));
    }

    #[test]
    fn current_judges_the_python3_on_path_not_the_newest_installed() {
        // RHEL 8 with python3.11 from a module stream: `python3` is still 3.6.
        let mut fs = MemFs::new();
        fs.file("/usr/bin/python3.6", "")
            .link("/usr/bin/python3", "python3.6")
            .file("/usr/bin/python3.11", "");
        let o = run_linux_with(fs.clone(), &Policy::current(), run);
        let s = said(&o);
        assert_status(&o, Status::Fail, "3.6");
        assert!(
            s.contains("`python3` is /usr/bin/python3 -> /usr/bin/python3.6"),
            "{s}"
        );
        // Measured as the guide measures, 3.11 would have been judged.
        let o = run_linux_with(fs, &current_by_packages(), run);
        assert_status(&o, Status::Pass, "3.11");
    }

    #[test]
    fn current_takes_python_when_there_is_no_python3() {
        let mut fs = MemFs::new();
        fs.file("/usr/bin/python2.7", "")
            .link("/usr/local/bin/python", "/usr/bin/python2.7")
            .file("/usr/lib/python3.12/os.py", "");
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_status(&o, Status::Fail, "2.7");
    }

    #[test]
    fn current_reads_the_libpython_an_unversioned_interpreter_links() {
        let mut fs = MemFs::new();
        fs.file(
            "/usr/local/bin/python3",
            b"\x7fELF\0\0libc.so.6\0libpython3.12.so.1.0\0",
        );
        let o = run_linux_with(fs, &Policy::current(), run);
        let s = said(&o);
        assert_status(&o, Status::Pass, "3.12");
        assert!(s.contains("links libpython3.12"), "{s}");
        // Neither name nor library: not known, so not judged.
        let mut fs = MemFs::new();
        fs.file("/usr/bin/python3", "#!/bin/sh\nexec pyenv python \"$@\"\n");
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
    }

    #[test]
    fn current_fails_without_an_executable_on_path() {
        // A package and a library directory, but nothing `python3 --version` would run;
        // a dangling link is passed over as the shell passes it over.
        let mut fs = dpkg(&[("python3.11", "3.11.2-6")]);
        fs.dir("/usr/lib/python3.11")
            .link("/usr/bin/python3", "python3.11");
        let o = run_linux_with(fs, &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "no python3 or python on PATH");
    }

    #[test]
    fn error_without_a_linux_guest() {
        assert_errors_without_a_linux_guest(run);
    }

    #[test]
    fn fails_without_python() {
        let o = run_linux(MemFs::new(), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "no Python found");
        assert_eq!(o.required, "Python ≥ 2.6 with pyasn1");
    }

    #[test]
    fn guide_passes_at_2_6_with_pyasn1() {
        let o = run_linux(interpreter("2.6"), run);
        let s = said(&o);
        assert_status(&o, Status::Pass, "2.6");
        assert!(s.contains("/usr/bin/python2.6 present"), "{s}");
        assert!(
            s.contains("/usr/lib/python3/dist-packages/pyasn1 pyasn1 module"),
            "{s}"
        );
    }

    #[test]
    fn guide_fails_below_2_6() {
        let o = run_linux(interpreter("2.5"), run);
        assert_status(&o, Status::Fail, "2.5");
        assert_eq!(o.message, "Python 2.5 is older than 2.6");
    }

    #[test]
    fn guide_warns_without_pyasn1() {
        let mut fs = MemFs::new();
        fs.file("/usr/bin/python3.11", "");
        let o = run_linux(fs, run);
        assert_status(&o, Status::Warning, "3.11");
        assert_eq!(o.message, "pyasn1 is not installed");
    }

    #[test]
    fn guide_fails_below_2_6_without_pyasn1_too() {
        let mut fs = MemFs::new();
        fs.file("/usr/bin/python2.4", "");
        let o = run_linux(fs, run);
        assert_status(&o, Status::Fail, "2.4");
        assert_eq!(
            o.message,
            "Python 2.4 is older than 2.6; pyasn1 is not installed"
        );
    }

    #[test]
    fn finds_pyasn1_as_a_package() {
        let mut fs = dpkg(&[("python3", "3.11.2-1+b1"), ("python3-pyasn1", "0.4.8-3")]);
        fs.file("/usr/bin/python3.11", "");
        let o = run_linux(fs, run);
        assert_status(&o, Status::Pass, "3.11.2");
        assert!(
            said(&o).contains("package python3-pyasn1 0.4.8-3"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn finds_pyasn1_in_each_module_directory() {
        for dir in [
            "/usr/lib/python3.6/site-packages/pyasn1",
            "/usr/lib64/python3.6/site-packages/pyasn1",
            "/usr/lib/python2.7/dist-packages/pyasn1",
        ] {
            let mut fs = MemFs::new();
            fs.file("/usr/bin/python3.6", "").dir(dir);
            let o = run_linux(fs, run);
            assert_status(&o, Status::Pass, "3.6");
            assert!(
                said(&o).contains(&format!("{dir} pyasn1 module")),
                "{}",
                said(&o)
            );
        }
    }

    #[test]
    fn current_fails_below_3_9() {
        let o = current("3.8");
        assert_status(&o, Status::Fail, "3.8");
        assert_eq!(o.message, "Python 3.8 is older than 3.9");
        assert_eq!(o.required, "Python ≥ 3.9 (≥ 3.10 recommended)");
    }

    #[test]
    fn current_warns_at_3_9() {
        let o = current("3.9");
        assert_status(&o, Status::Warning, "3.9");
        assert_eq!(o.message, "Python 3.9 is older than the recommended 3.10");
    }

    #[test]
    fn current_passes_at_3_10_without_pyasn1() {
        let mut fs = MemFs::new();
        fs.file("/usr/bin/python3.10", "");
        let o = run_linux_with(fs, &current_by_packages(), run);
        assert_status(&o, Status::Pass, "3.10");
        assert_eq!(o.evidence.len(), 1, "{}", said(&o));
    }

    #[test]
    fn a_policy_without_pyasn1_or_a_recommendation_says_so() {
        let mut p = Policy::guide();
        p.linux_python.pyasn1 = false;
        let mut fs = MemFs::new();
        fs.file("/usr/bin/python2.7", "");
        let o = run_linux_with(fs, &p, run);
        assert_status(&o, Status::Pass, "2.7");
        assert_eq!(o.required, "Python ≥ 2.6");
    }

    #[test]
    fn the_newest_python_wins() {
        let mut fs = dpkg(&[("python2.7", "2.7.18-8"), ("python3.8-minimal", "3.8.10-0")]);
        fs.file("/usr/local/bin/python3.12", "")
            .dir("/usr/lib64/python3.9")
            .file("/usr/bin/python3.10", "");
        let o = run_linux_with(fs, &current_by_packages(), run);
        assert_status(&o, Status::Pass, "3.12");
        assert!(
            said(&o).contains("/usr/local/bin/python3.12 present"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn reads_each_interpreter_package_name() {
        for name in [
            "python3",
            "python",
            "python2",
            "python3-minimal",
            "python3.11",
            "python3.11-minimal",
        ] {
            let o = run_linux_with(dpkg(&[(name, "3.11.4-1")]), &current_by_packages(), run);
            assert_status(&o, Status::Pass, "3.11.4");
            assert!(
                said(&o).contains(&format!("package {name} 3.11.4-1")),
                "{}",
                said(&o)
            );
        }
    }

    #[test]
    fn ignores_packages_that_are_not_an_interpreter() {
        let o = run_linux(
            dpkg(&[
                ("python3.11-venv", "3.11.4-1"),
                ("libpython3.11", "3.11.4-1"),
                ("python3-pyasn1", "0.4.8-3"),
                ("python-is-python3", "3.11.1-3"),
            ]),
            run,
        );
        assert_eq!(o.actual, "no Python found", "{}", said(&o));
    }

    #[test]
    fn finds_a_library_directory() {
        let mut fs = MemFs::new();
        fs.dir("/usr/lib/python3.9/site-packages/pyasn1");
        let o = run_linux(fs, run);
        assert_status(&o, Status::Pass, "3.9");
        assert!(
            said(&o).contains("/usr/lib/python3.9 present"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn ignores_names_without_a_whole_version() {
        let mut fs = MemFs::new();
        fs.file("/usr/bin/python3", "")
            .file("/usr/bin/python3.", "")
            .file("/usr/bin/python.1", "")
            .file("/usr/bin/pythonista", "");
        let o = run_linux(fs, run);
        assert_eq!(o.actual, "no Python found", "{}", said(&o));
    }

    #[test]
    fn ignores_a_dangling_interpreter_link() {
        let mut fs = MemFs::new();
        fs.link("/usr/bin/python3.12", "/opt/gone/python3.12");
        let o = run_linux(fs, run);
        assert_eq!(o.actual, "no Python found", "{}", said(&o));
    }

    /// `fs` with /usr/bin/pythonX.Y for `version` a link into a directory that cannot be read.
    fn unreadable_interpreter(fs: &mut MemFs, version: &str) {
        fs.link(
            &format!("/usr/bin/python{version}"),
            &format!("/opt/py/bin/python{version}"),
        )
        .broken_dir(
            "/opt/py",
            vhdlint_guest::fs::FsError::Corrupt("/opt/py: bad directory block".into()),
        );
    }

    #[test]
    fn an_interpreter_that_cannot_be_looked_up_is_not_taken_for_absent() {
        // 3.9 warns under current, but the 3.12 beside it could not be looked up.
        let mut fs = interpreter("3.9");
        unreadable_interpreter(&mut fs, "3.12");
        let o = run_linux_with(fs, &current_by_packages(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/opt/py: bad directory block"), "{s}");
        // An older one does not change the verdict: named aside.
        let mut fs = interpreter("3.9");
        unreadable_interpreter(&mut fs, "3.8");
        let o = run_linux_with(fs, &current_by_packages(), run);
        let s = said(&o);
        assert_status(&o, Status::Warning, "3.9");
        assert!(s.contains("/opt/py: bad directory block"), "{s}");
        // Nor does a newer one when the one found passes.
        let mut fs = interpreter("3.11");
        unreadable_interpreter(&mut fs, "3.12");
        let o = run_linux_with(fs, &current_by_packages(), run);
        assert_status(&o, Status::Pass, "3.11");
        // None found but one not looked up: the failure says so.
        let mut fs = MemFs::new();
        unreadable_interpreter(&mut fs, "3.12");
        let o = run_linux_with(fs, &current_by_packages(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(s.contains("not everything could be read"), "{s}");
        assert!(s.contains("/opt/py: bad directory block"), "{s}");
    }
}
