use std::cmp::Ordering;

use vhdlint_guest::view::GuestView;

use super::{upstream_version, version_cmp};
use crate::check::{CheckMeta, Evidence, Note, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/python",
    title: "Python",
    what: "Finds the newest Python: the package database (python3, python3.N, python, python2.N) or, without one, the interpreters and library directories (/usr/bin/python3.N, /usr/lib/python3.N, /usr/lib64/python3.N). guide: fail without Python 2.6 or later, warn without pyasn1; current: fail below 3.9, warn at 3.9.",
    why: "The Azure Linux Agent is written in Python; without a supported interpreter it cannot provision the VM. Older agents needed pyasn1.",
    remedy: "Install the distribution's python3 (and python3-pyasn1 for older agents).",
    sources: &["Azure Marketplace VM image guide: Python 2.6+ and pyasn1", "LISA AzureImageStandard verify_python_version (3.9)"],
    profiles: &[Profile::LinuxOs],
};

/// `3.11` from `python3.11`, `python3.11-minimal`, `libpython3.11`.
fn minor_of(name: &str) -> Option<String> {
    let rest = name.strip_prefix("python")?;
    let v: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (v.contains('.') && v.split('.').all(|p| !p.is_empty())).then_some(v)
}

/// (version, where) of every Python found; a directory a bound kept from being listed is
/// noted in `notes`.
fn pythons(
    view: &GuestView,
    pkgs: &vhdlint_guest::facts::Packages,
    notes: &mut Vec<Note>,
) -> Vec<(String, Evidence)> {
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
                if view.exists(&p) {
                    out.push((v, Evidence::path(p, None, "present")));
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
    let pol = ctx.policy;
    let pkgs = g.facts.packages(&g.view);
    // What the package inventory could not read (the interpreters are then found as files).
    let mut notes = pkgs.notes.clone();
    let found = pythons(&g.view, pkgs, &mut notes);
    let required = match &pol.python_warn_below {
        Some(w) => format!("Python ≥ {} (≥ {w} recommended)", pol.python_fail_below),
        None => format!(
            "Python ≥ {}{}",
            pol.python_fail_below,
            if pol.python_pyasn1 {
                " with pyasn1"
            } else {
                ""
            }
        ),
    };
    let Some((best, ev)) = found.iter().max_by(|a, b| version_cmp(&a.0, &b.0)).cloned() else {
        return Outcome::fail("no Python found", required).message("no Python package, interpreter (/usr/bin/pythonX.Y) or library directory (/usr/lib/pythonX.Y)").evidence(Evidence::note("looked in the package database, /usr/bin, /usr/lib, /usr/lib64, /usr/local/bin")).aside(notes);
    };
    let mut status = Status::Pass;
    let mut problems = Vec::new();
    if version_cmp(&best, &pol.python_fail_below) == Ordering::Less {
        status = Status::Fail;
        problems.push(format!(
            "Python {best} is older than {}",
            pol.python_fail_below
        ));
    } else if pol
        .python_warn_below
        .as_ref()
        .is_some_and(|w| version_cmp(&best, w) == Ordering::Less)
    {
        status = Status::Warning;
        problems.push(format!(
            "Python {best} is older than the recommended {}",
            pol.python_warn_below.as_deref().unwrap_or("")
        ));
    }
    let mut evs = vec![ev];
    if pol.python_pyasn1 {
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
        .aside(notes)
}
