use std::cmp::Ordering;

use vhdlint_guest::facts::enabled_unit;

use super::{upstream_version, version_cmp};
use crate::check::{CheckMeta, Evidence, Note, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/agent-installed",
    title: "Azure Linux Agent",
    what: "Looks for the Azure Linux Agent: /usr/sbin/waagent or /usr/bin/waagent, or the package waagent/walinuxagent/WALinuxAgent; its version from the package database or from azurelinuxagent/common/version.py; whether its service is enabled (a *.wants/ link to walinuxagent.service or waagent.service). current: a version below 2.2.53.1 with AutoUpdate.Enabled=n fails.",
    why: "The agent provisions the VM (user, SSH key, host name), reports readiness and runs extensions; without it the VM never leaves provisioning. Old agents without auto-update lack fixes the platform relies on.",
    remedy: "Install and enable the distribution's agent package: apt-get install waagent (Debian) / walinuxagent (Ubuntu) / WALinuxAgent (RHEL, SUSE), then systemctl enable walinuxagent (or waagent).",
    sources: &["Azure Marketplace VM image guide: install the Azure Linux Agent", "Certification Test Tool: Linux Agent Version", "LISA AzureImageStandard.verify_waagent_version"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(
    "installing or upgrading the agent is a package from the distribution's repositories: the build's package manager does it (apt-get, dnf, zypper), as the remedy says",
);

/// The thresholds of this check: the `["linux/agent-installed"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// Lowest Azure Linux Agent version accepted when auto-update is off ("": none, the
    /// version is only reported).
    #[serde(with = "crate::policy::empty_is_none")]
    pub min_version: Option<String>,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds { min_version: None }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            min_version: Some("2.2.53.1".into()),
        }
    }
}

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
    // Where the executable could have been but could not be looked up: named with the
    // result, and what a failure rests on when neither executable nor package is found.
    let mut bin_notes = Vec::new();
    let bin = [
        "/usr/sbin/waagent",
        "/usr/bin/waagent",
        "/usr/local/sbin/waagent",
    ]
    .into_iter()
    .find(|p| v.exists_noted(p, &mut bin_notes));
    let required = match &ctx.policy.linux_agent_installed.min_version {
        Some(m) => format!("installed and enabled; ≥ {m} unless auto-update is on"),
        None => "installed and enabled".to_string(),
    };
    let mut ev = Vec::new();
    // What was not read because of a bound, or not read at all: shown with every result.
    let mut notes = pkgs.notes.clone();
    // What the result rests on but could not be read: the runner's rules apply to it.
    let mut needed = Vec::new();
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
        return Outcome::fail("not installed", required).message("no waagent executable (/usr/sbin/waagent, /usr/bin/waagent) and no waagent/walinuxagent/WALinuxAgent package").evidence(Evidence::note("looked for /usr/sbin/waagent, /usr/bin/waagent and the packages waagent, walinuxagent, WALinuxAgent")).noted(bin_notes).aside(notes);
    }
    notes.append(&mut bin_notes);
    // The version, where it was read, and the package database it came from.
    let (version, vsource, db) = match (pkg, version_py(v, &mut notes)) {
        (Some(p), _) if !p.version.is_empty() => (
            Some(upstream_version(&p.version).to_string()),
            format!("package {} {}", p.name, p.version),
            pkgs.database,
        ),
        (_, Some((ver, path, line))) => {
            ev.push(Evidence::path(
                path.clone(),
                Some(line),
                format!("AGENT_VERSION = '{ver}'"),
            ));
            (Some(ver), path, None)
        }
        _ => (None, String::new(), None),
    };
    let mut status = Status::Pass;
    let mut problems = Vec::new();
    // A *.wants/ directory that could not be read may hold the link: "not enabled" would
    // rest on it.
    let unit = ["walinuxagent.service", "waagent.service"]
        .iter()
        .find_map(|u| enabled_unit(v, u, &mut needed));
    match &unit {
        Some(l) => ev.push(Evidence::path(l.clone(), None, "service enabled")),
        None => {
            status = Status::Warning;
            problems.push("its service is not enabled (no *.wants/ link to walinuxagent.service or waagent.service)".to_string());
        }
    }
    if let (Some(min), Some(ver)) = (&ctx.policy.linux_agent_installed.min_version, &version) {
        let path = vhdlint_guest::facts::WAAGENT_CONF;
        let read = g.facts.waagent(v);
        if version_cmp(db, ver, min) == Ordering::Less {
            match read {
                Ok(c) => notes.extend(c.notes_at(path)),
                // An old agent passes only when auto-update is not off: a waagent.conf that
                // could not be read may turn it off.
                Err(e) => needed.extend(Note::from_fs_error(path, e)),
            }
        }
        let conf = read.ok();
        let auto = conf
            .and_then(|c| c.get("AutoUpdate.Enabled"))
            .map(|e| e.value.trim().eq_ignore_ascii_case("y"));
        if version_cmp(db, ver, min) == Ordering::Less && auto == Some(false) {
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
    out.evidences(ev).noted(needed).aside(notes)
}

#[cfg(test)]
mod tests {
    use vhdlint_guest::fs::FsError;

    use super::run;
    use crate::check::Status;
    use crate::policy::Policy;
    use crate::testing::{run_linux, run_linux_with, run_no_linux, said, MemFs};

    const VERSION_PY: &str = "/usr/lib/python3/dist-packages/azurelinuxagent/common/version.py";
    const WANTS: &str = "/etc/systemd/system/multi-user.target.wants";

    /// A dpkg database holding `name` at `version` (no `Version:` field when empty).
    fn dpkg(fs: &mut MemFs, name: &str, version: &str) {
        let v = if version.is_empty() {
            String::new()
        } else {
            format!("Version: {version}\n")
        };
        fs.file(
            "/var/lib/dpkg/status",
            format!("Package: {name}\nStatus: install ok installed\n{v}"),
        );
    }

    /// The agent's service enabled as `unit`.
    fn enable(fs: &mut MemFs, unit: &str) {
        fs.link(
            &format!("{WANTS}/{unit}"),
            &format!("/lib/systemd/system/{unit}"),
        );
    }

    /// The walinuxagent package at `version`, its service enabled.
    fn installed(version: &str) -> MemFs {
        let mut fs = MemFs::new();
        dpkg(&mut fs, "walinuxagent", version);
        enable(&mut fs, "walinuxagent.service");
        fs
    }

    /// `installed(version)` with /etc/waagent.conf holding `conf`.
    fn installed_with_conf(version: &str, conf: &str) -> MemFs {
        let mut fs = installed(version);
        fs.file("/etc/waagent.conf", conf);
        fs
    }

    #[test]
    fn error_without_a_linux_guest() {
        let o = run_no_linux(run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.contains("no Linux filesystem"), "{}", said(&o));
    }

    #[test]
    fn fails_when_not_installed() {
        let o = run_linux(MemFs::new(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "not installed");
        assert_eq!(o.required, "installed and enabled");
    }

    #[test]
    fn fails_when_not_installed_and_names_the_package_database_not_read() {
        let mut fs = MemFs::new();
        fs.file("/var/lib/rpm/Packages", "");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(
            o.evidence
                .iter()
                .any(|e| e.text.contains("/var/lib/rpm/Packages")),
            "{s}"
        );
    }

    #[test]
    fn passes_with_the_package_installed_and_enabled() {
        let o = run_linux(installed("2.9.1.1-0ubuntu1"), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(
            o.actual,
            "version 2.9.1.1 (package walinuxagent 2.9.1.1-0ubuntu1), enabled"
        );
        assert!(
            s.contains("/var/lib/dpkg/status:3 package walinuxagent 2.9.1.1-0ubuntu1"),
            "{s}"
        );
        assert!(
            s.contains(&format!("{WANTS}/walinuxagent.service service enabled")),
            "{s}"
        );
    }

    #[test]
    fn finds_the_waagent_package() {
        let mut fs = MemFs::new();
        dpkg(&mut fs, "waagent", "2.9.0.4-1");
        enable(&mut fs, "waagent.service");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(
            o.actual,
            "version 2.9.0.4 (package waagent 2.9.0.4-1), enabled"
        );
        assert!(s.contains(&format!("{WANTS}/waagent.service")), "{s}");
    }

    #[test]
    fn finds_the_walinuxagent_package_of_rhel() {
        let mut fs = MemFs::new();
        dpkg(&mut fs, "WALinuxAgent", "2.7.0.6-1");
        enable(&mut fs, "waagent.service");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(
            o.actual.contains("package WALinuxAgent 2.7.0.6-1"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn finds_each_executable() {
        for bin in [
            "/usr/sbin/waagent",
            "/usr/bin/waagent",
            "/usr/local/sbin/waagent",
        ] {
            let mut fs = MemFs::new();
            fs.file(bin, "");
            enable(&mut fs, "waagent.service");
            let o = run_linux(fs, run);
            let s = said(&o);
            assert_eq!(o.status, Status::Pass, "{bin}: {s}");
            assert_eq!(o.actual, "installed, version unknown", "{bin}");
            assert!(s.contains(&format!("{bin} agent executable")), "{s}");
        }
    }

    #[test]
    fn reads_the_version_from_version_py() {
        let mut fs = MemFs::new();
        fs.file("/usr/sbin/waagent", "").file(
            VERSION_PY,
            "import os\nAGENT_NAME = 'WALinuxAgent'\nAGENT_VERSION = get_version()\nAGENT_VERSION = '2.2.45'\n",
        );
        enable(&mut fs, "waagent.service");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, format!("version 2.2.45 ({VERSION_PY}), enabled"));
        assert!(
            s.contains(&format!("{VERSION_PY}:4 AGENT_VERSION = '2.2.45'")),
            "{s}"
        );
    }

    #[test]
    fn reads_the_version_from_a_site_packages_version_py() {
        let path = "/usr/lib/python3.9/site-packages/azurelinuxagent/common/version.py";
        let mut fs = MemFs::new();
        fs.file("/usr/sbin/waagent", "")
            .file(path, "AGENT_VERSION = \"2.7.0.6\"\n");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, format!("version 2.7.0.6 ({path})"));
        assert!(s.contains(&format!("{path}:1")), "{s}");
    }

    #[test]
    fn reads_the_version_from_version_py_when_the_package_has_none() {
        let mut fs = installed("");
        fs.file(VERSION_PY, "AGENT_VERSION = '2.2.49'\n");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, format!("version 2.2.49 ({VERSION_PY}), enabled"));
    }

    #[test]
    fn the_package_version_comes_before_version_py() {
        let mut fs = installed("2.9.1.1-0ubuntu1");
        fs.file(VERSION_PY, "AGENT_VERSION = '2.2.49'\n");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert!(o.actual.starts_with("version 2.9.1.1 (package"), "{s}");
        assert!(!s.contains("2.2.49"), "{s}");
    }

    #[test]
    fn version_unknown_without_package_version_or_version_py() {
        let o = run_linux(installed(""), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "installed, version unknown");
    }

    #[test]
    fn warns_when_the_service_is_not_enabled() {
        let mut fs = MemFs::new();
        dpkg(&mut fs, "walinuxagent", "2.9.1.1-0ubuntu1");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(
            o.actual,
            "version 2.9.1.1 (package walinuxagent 2.9.1.1-0ubuntu1)"
        );
        assert!(o.message.starts_with("its service is not enabled"), "{s}");
    }

    #[test]
    fn current_names_the_minimum_version_in_what_is_required() {
        let o = run_linux_with(installed("2.9.1.1-0ubuntu1"), &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(
            o.required,
            "installed and enabled; ≥ 2.2.53.1 unless auto-update is on"
        );
    }

    #[test]
    fn current_fails_below_the_minimum_without_auto_update() {
        let fs = installed_with_conf("2.2.53-0ubuntu1", "AutoUpdate.Enabled=n\n");
        let o = run_linux_with(fs, &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(
            o.message,
            "version 2.2.53 is older than 2.2.53.1 and AutoUpdate.Enabled=n"
        );
    }

    #[test]
    fn current_fails_below_the_minimum_even_when_not_enabled() {
        let mut fs = MemFs::new();
        dpkg(&mut fs, "walinuxagent", "2.2.45-1");
        fs.file("/etc/waagent.conf", "AutoUpdate.Enabled=N\n");
        let o = run_linux_with(fs, &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("its service is not enabled"), "{s}");
        assert!(
            o.message.contains("version 2.2.45 is older than 2.2.53.1"),
            "{s}"
        );
    }

    #[test]
    fn current_passes_at_the_minimum() {
        let fs = installed_with_conf("2.2.53.1-0ubuntu1", "AutoUpdate.Enabled=n\n");
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(o.actual.starts_with("version 2.2.53.1 "), "{}", said(&o));
    }

    #[test]
    fn current_passes_below_the_minimum_with_auto_update_on() {
        let fs = installed_with_conf("2.2.45-1", "AutoUpdate.Enabled=Y\n");
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn current_passes_below_the_minimum_when_auto_update_is_not_set() {
        let fs = installed_with_conf("2.2.45-1", "Provisioning.Agent=auto\n");
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn current_passes_below_the_minimum_without_waagent_conf() {
        let o = run_linux_with(installed("2.2.45-1"), &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn current_passes_an_unknown_version() {
        let fs = installed_with_conf("", "AutoUpdate.Enabled=n\n");
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "installed, version unknown");
    }

    #[test]
    fn guide_has_no_minimum_version() {
        let fs = installed_with_conf("2.2.45-1", "AutoUpdate.Enabled=n\n");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.required, "installed and enabled");
    }

    #[test]
    fn not_installed_names_where_the_executable_could_not_be_looked_up() {
        let mut fs = MemFs::new();
        fs.broken_dir(
            "/usr/sbin",
            FsError::Corrupt("/usr/sbin: bad directory block".into()),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(s.contains("/usr/sbin: bad directory block"), "{s}");
        assert!(s.contains("not everything could be read"), "{s}");
        // Found elsewhere: a pass that names it aside.
        let mut fs = installed("");
        fs.file("/usr/bin/waagent", "").broken_dir(
            "/usr/sbin",
            FsError::Corrupt("/usr/sbin: bad directory block".into()),
        );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn error_when_where_the_service_link_would_be_cannot_be_read() {
        let mut fs = MemFs::new();
        dpkg(&mut fs, "walinuxagent", "2.9.1.1-0ubuntu1");
        fs.broken_dir(
            "/etc/systemd/system",
            FsError::Io("/etc/systemd/system: read error".into()),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/etc/systemd/system: read error"), "{s}");
    }

    #[test]
    fn current_errors_below_the_minimum_when_waagent_conf_cannot_be_read() {
        // Whether auto-update is off is unknown: the old agent neither passes nor fails.
        let mut fs = installed("2.2.45-1");
        fs.broken_file(
            "/etc/waagent.conf",
            FsError::Unsupported("/etc/waagent.conf: inline data".into()),
        );
        let o = run_linux_with(fs, &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/etc/waagent.conf: inline data"), "{s}");
        // At or above the minimum, auto-update does not matter.
        let mut fs = installed("2.9.1.1-1");
        fs.broken_file(
            "/etc/waagent.conf",
            FsError::Unsupported("/etc/waagent.conf: inline data".into()),
        );
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }
}
