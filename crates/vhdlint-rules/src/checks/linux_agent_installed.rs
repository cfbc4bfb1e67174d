use std::cmp::Ordering;

use vhdlint_guest::facts::enabled_unit;

use super::{keyvalue_notes, upstream_version, version_cmp};
use crate::check::{CheckMeta, Evidence, Note, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/agent-installed",
    title: "Azure Linux Agent",
    what: "Looks for the Azure Linux Agent: /usr/sbin/waagent or /usr/bin/waagent, or the package waagent/walinuxagent/WALinuxAgent; its version from the package database or from azurelinuxagent/common/version.py; whether its service is enabled (a *.wants/ link to walinuxagent.service or waagent.service). current: a version below 2.2.53.1 with AutoUpdate.Enabled=n fails.",
    why: "The agent provisions the VM (user, SSH key, host name), reports readiness and runs extensions; without it the VM never leaves provisioning. Old agents without auto-update lack fixes the platform relies on.",
    remedy: "Install and enable the distribution's agent package: apt-get install waagent (Debian) / walinuxagent (Ubuntu) / WALinuxAgent (RHEL, SUSE), then systemctl enable walinuxagent (or waagent).",
    sources: &["Azure Marketplace VM image guide: install the Azure Linux Agent", "Certification Test Tool: Linux Agent Version", "LISA AzureImageStandard verify_waagent_version"],
    profiles: &[Profile::LinuxOs],
};

/// The agent's version from its `version.py`; a glob cut short by its bound is noted in
/// `notes`.
fn version_py(
    view: &vhdlint_guest::view::GuestView,
    notes: &mut Vec<Note>,
) -> Option<(String, String, usize)> {
    let mut candidates =
        vec!["/usr/lib/python3/dist-packages/azurelinuxagent/common/version.py".to_string()];
    for pat in [
        "/usr/lib/python3*/site-packages/azurelinuxagent/common/version.py",
        "/usr/lib/python3*/dist-packages/azurelinuxagent/common/version.py",
        "/usr/local/lib/python3*/dist-packages/azurelinuxagent/common/version.py",
        "/usr/lib/python2*/site-packages/azurelinuxagent/common/version.py",
    ] {
        candidates.extend(view.glob_noted(pat, notes));
    }
    for p in candidates {
        let Some(t) = view.read_noted(&p, notes) else {
            continue;
        };
        for (i, l) in t.lines().enumerate() {
            let l = l.trim();
            if let Some(rest) = l.strip_prefix("AGENT_VERSION") {
                let v = rest
                    .trim_start()
                    .trim_start_matches('=')
                    .trim()
                    .trim_matches(['\'', '"']);
                if !v.is_empty() && v.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                    return Some((v.to_string(), p, i + 1));
                }
            }
        }
    }
    None
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let v = &g.view;
    let pkgs = g.facts.packages(v);
    let pkg = pkgs.any(&["waagent", "walinuxagent", "WALinuxAgent"]);
    let bin = [
        "/usr/sbin/waagent",
        "/usr/bin/waagent",
        "/usr/local/sbin/waagent",
    ]
    .into_iter()
    .find(|p| v.exists(p));
    let required = match &ctx.policy.agent_min_version {
        Some(m) => format!("installed and enabled; ≥ {m} unless auto-update is on"),
        None => "installed and enabled".to_string(),
    };
    let mut ev = Vec::new();
    // What was not read because of a bound, or not read at all: shown with every result.
    let mut notes = pkgs.notes.clone();
    if let Some(p) = pkg {
        ev.push(Evidence::path(
            p.path.clone(),
            p.line,
            format!("package {} {}", p.name, p.version),
        ));
    }
    if let Some(b) = bin {
        ev.push(Evidence::path(b, None, "agent executable"));
    }
    if pkg.is_none() && bin.is_none() {
        return Outcome::fail("not installed", required).message("no waagent executable (/usr/sbin/waagent, /usr/bin/waagent) and no waagent/walinuxagent/WALinuxAgent package").evidence(Evidence::note("looked for /usr/sbin/waagent, /usr/bin/waagent and the packages waagent, walinuxagent, WALinuxAgent")).aside(notes);
    }
    let (version, vsource) = match (pkg, version_py(v, &mut notes)) {
        (Some(p), _) if !p.version.is_empty() => (
            Some(upstream_version(&p.version).to_string()),
            format!("package {} {}", p.name, p.version),
        ),
        (_, Some((ver, path, line))) => {
            ev.push(Evidence::path(
                path.clone(),
                Some(line),
                format!("AGENT_VERSION = '{ver}'"),
            ));
            (Some(ver), path)
        }
        _ => (None, String::new()),
    };
    let mut status = Status::Pass;
    let mut problems = Vec::new();
    let unit = ["walinuxagent.service", "waagent.service"]
        .iter()
        .find_map(|u| enabled_unit(v, u));
    match &unit {
        Some(l) => ev.push(Evidence::path(l.clone(), None, "service enabled")),
        None => {
            status = Status::Warning;
            problems.push("its service is not enabled (no *.wants/ link to walinuxagent.service or waagent.service)".to_string());
        }
    }
    if let (Some(min), Some(ver)) = (&ctx.policy.agent_min_version, &version) {
        let conf = g.facts.waagent(v).ok();
        let auto = conf
            .and_then(|c| c.get("AutoUpdate.Enabled"))
            .map(|e| e.value.trim().eq_ignore_ascii_case("y"));
        if version_cmp(ver, min) == Ordering::Less {
            if let Some(c) = conf {
                notes.extend(keyvalue_notes(vhdlint_guest::facts::WAAGENT_CONF, c));
            }
        }
        if version_cmp(ver, min) == Ordering::Less && auto == Some(false) {
            status = Status::Fail;
            problems.push(format!(
                "version {ver} is older than {min} and AutoUpdate.Enabled=n"
            ));
        }
    }
    let actual = match &version {
        Some(ver) => format!(
            "version {ver} ({vsource}){}",
            if unit.is_some() { ", enabled" } else { "" }
        ),
        None => "installed, version unknown".to_string(),
    };
    let out = if status == Status::Pass {
        Outcome::pass(actual, required)
    } else {
        Outcome::with_status(status, actual, required).message(problems.join("; "))
    };
    out.evidences(ev).aside(notes)
}
