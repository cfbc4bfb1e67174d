use crate::check::{CheckMeta, Evidence, Outcome, Status};
use crate::policy::Level;
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/agent-config",
    title: "Agent configuration",
    what: "Reads /etc/waagent.conf: `guide` requires Provisioning.RegenerateSshHostKeyPair=y and Provisioning.DeleteRootPassword=y (the agent's default for both is n); Provisioning.Agent=disabled, Provisioning.Agent=cloud-init without cloud-init installed, and a ResourceDisk.EnableSwap other than exactly y or n warn.",
    why: "These settings make the agent generalize each new VM: fresh SSH host keys and no root password shared by every VM. With provisioning disabled the VM is never provisioned, and LISA's verify_swap needs EnableSwap to be y or n.",
    remedy: "In /etc/waagent.conf set Provisioning.RegenerateSshHostKeyPair=y and Provisioning.DeleteRootPassword=y; set ResourceDisk.EnableSwap to y or n.",
    sources: &["Azure Marketplace VM image guide: waagent.conf settings", "WALinuxAgent azurelinuxagent/common/conf.py defaults", "LISA Storage.verify_swap"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check: in /etc/waagent.conf, the two provisioning keys are
/// set to y, ResourceDisk.EnableSwap to n when it is neither y nor n, and
/// Provisioning.Agent=cloud-init without cloud-init becomes auto (the agent then provisions
/// itself). A missing waagent.conf is left to the package that writes it.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    if r.actual == "no /etc/waagent.conf" {
        return None;
    }
    let mut sh = String::from("f=/etc/waagent.conf\nset_key() {\n    k=$(printf '%s' \"$1\" | sed 's/\\./\\\\./g')\n    if grep -q \"^[[:space:]]*$k=\" \"$f\"; then\n        if ! grep -q \"^[[:space:]]*$k=$2[[:space:]]*\\$\" \"$f\"; then sed -i \"s/^[[:space:]]*$k=.*/$1=$2/\" \"$f\"; say \"set $1=$2 in $f\"; fi\n    else\n        echo \"$1=$2\" >>\"$f\"; say \"added $1=$2 to $f\"\n    fi\n}\nset_key Provisioning.RegenerateSshHostKeyPair y\nset_key Provisioning.DeleteRootPassword y\ngrep -Eq '^[[:space:]]*ResourceDisk\\.EnableSwap=(y|n)[[:space:]]*$' \"$f\" || set_key ResourceDisk.EnableSwap n\n");
    if r.actual.contains("cloud-init is not installed") {
        sh.push_str("if ! command -v cloud-init >/dev/null 2>&1 && grep -q '^[[:space:]]*Provisioning\\.Agent=cloud-init' \"$f\"; then set_key Provisioning.Agent auto; fi\n");
    }
    Some(crate::fix::Block {
        changes: "sets Provisioning.RegenerateSshHostKeyPair=y and Provisioning.DeleteRootPassword=y in /etc/waagent.conf, ResourceDisk.EnableSwap=n when it is not y or n, and Provisioning.Agent=auto when it names a cloud-init that is not installed".into(),
        sh,
    })
}

/// The thresholds of this check: the `["linux/agent-config"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// What waagent.conf without RegenerateSshHostKeyPair=y or DeleteRootPassword=y gets.
    pub level: Level,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds { level: Level::Fail }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            level: Level::Warning,
        }
    }
}

fn yes(v: &str) -> bool {
    v.trim().eq_ignore_ascii_case("y")
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let path = vhdlint_guest::facts::WAAGENT_CONF;
    let conf = match g.facts.waagent(&g.view) {
        Ok(c) => c,
        Err(vhdlint_guest::fs::FsError::NotFound(_)) => {
            return Outcome::fail(
                "no /etc/waagent.conf",
                "waagent.conf that generalizes the image",
            )
            .message("/etc/waagent.conf is missing (see linux/agent-installed)")
            .evidence(Evidence::path(path, None, "missing"))
        }
        Err(e) => return Outcome::error(format!("{path}: {e}")),
    };
    let required = "RegenerateSshHostKeyPair=y, DeleteRootPassword=y, EnableSwap y|n";
    let level = ctx.policy.linux_agent_config.level.status();
    let mut status = Status::Pass;
    let mut problems = Vec::new();
    let mut ev = Vec::new();
    // Where cloud-init could be but could not be looked up: the warning that it is missing
    // would rest on it.
    let mut lookup = Vec::new();
    for key in [
        "Provisioning.RegenerateSshHostKeyPair",
        "Provisioning.DeleteRootPassword",
    ] {
        let e = conf.get(key);
        match e {
            Some(e) if yes(&e.value) => ev.push(Evidence::path(path, Some(e.line), e.raw.trim())),
            Some(e) => {
                status = status.max(level);
                problems.push(format!("{key}={} (needs y)", e.value));
                ev.push(Evidence::path(path, Some(e.line), e.raw.trim()));
            }
            None => {
                status = status.max(level);
                problems.push(format!("{key} not set (the agent's default is n)"));
            }
        }
    }
    if let Some(e) = conf
        .get("Provisioning.Agent")
        .filter(|e| e.value.trim().eq_ignore_ascii_case("disabled"))
    {
        status = status.max(Status::Warning);
        problems.push("Provisioning.Agent=disabled: new VMs are not provisioned".into());
        ev.push(Evidence::path(path, Some(e.line), e.raw.trim()));
    }
    if let Some(e) = conf
        .get("Provisioning.Agent")
        .filter(|e| e.value.trim() == "cloud-init")
    {
        let mut unread = Vec::new();
        let cloud_init = ["/usr/bin/cloud-init", "/bin/cloud-init"]
            .iter()
            .any(|p| g.view.exists_noted(p, &mut unread));
        if !cloud_init {
            lookup.append(&mut unread);
            status = status.max(Status::Warning);
            problems.push("Provisioning.Agent=cloud-init but cloud-init is not installed: nothing would provision new VMs".into());
            ev.push(Evidence::path(path, Some(e.line), e.raw.trim()));
        }
    }
    match conf.get("ResourceDisk.EnableSwap") {
        Some(e) if e.value == "y" || e.value == "n" => {
            ev.push(Evidence::path(path, Some(e.line), e.raw.trim()))
        }
        Some(e) => {
            status = status.max(Status::Warning);
            problems.push(format!(
                "ResourceDisk.EnableSwap=\"{}\" is not exactly y or n",
                e.value
            ));
            ev.push(Evidence::path(path, Some(e.line), e.raw.trim()));
        }
        None => {
            status = status.max(Status::Warning);
            problems.push("ResourceDisk.EnableSwap not set (must be y or n)".into());
        }
    }
    // A line the parser gave up on because of a bound may hold one of the settings above;
    // the runner makes a pass a warning for it.
    let mut notes = conf.notes_at(path).collect::<Vec<_>>();
    notes.append(&mut lookup);
    if status == Status::Pass {
        return Outcome::pass("generalizes the image", required)
            .evidences(ev)
            .noted(notes);
    }
    Outcome::with_status(status, problems.join("; "), required)
        .message(format!("{path}: {}", problems.join("; ")))
        .evidences(ev)
        .noted(notes)
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::check::Status;
    use crate::policy::Policy;
    use crate::testing::{run_linux, run_linux_with, run_no_linux, said, MemFs};

    const REGENERATE: &str = "Provisioning.RegenerateSshHostKeyPair=y\n";
    const DELETE: &str = "Provisioning.DeleteRootPassword=y\n";
    const SWAP: &str = "ResourceDisk.EnableSwap=n\n";

    /// A guest whose /etc/waagent.conf is `text`.
    fn conf(text: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file("/etc/waagent.conf", text);
        fs
    }

    /// The three settings the check wants, then `more`.
    fn good_then(more: &str) -> MemFs {
        conf(&format!("{REGENERATE}{DELETE}{SWAP}{more}"))
    }

    #[test]
    fn error_without_a_linux_guest() {
        let o = run_no_linux(run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.contains("no Linux filesystem"), "{}", said(&o));
    }

    #[test]
    fn passes_when_the_image_is_generalized() {
        let o = run_linux(good_then(""), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "generalizes the image");
        let lines: Vec<_> = o.evidence.iter().map(|e| e.line).collect();
        assert_eq!(lines, [Some(1), Some(2), Some(3)], "{s}");
        assert!(
            s.contains("/etc/waagent.conf:3 ResourceDisk.EnableSwap=n"),
            "{s}"
        );
    }

    #[test]
    fn passes_with_enable_swap_y() {
        let o = run_linux(
            conf(&format!("{REGENERATE}{DELETE}ResourceDisk.EnableSwap=y\n")),
            run,
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(
            said(&o).contains(":3 ResourceDisk.EnableSwap=y"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn a_y_in_capitals_is_yes() {
        let o = run_linux(
            conf(&format!(
                "Provisioning.RegenerateSshHostKeyPair=Y\nProvisioning.DeleteRootPassword=Y\n{SWAP}"
            )),
            run,
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn fails_when_the_config_is_missing() {
        let o = run_linux(MemFs::new(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "no /etc/waagent.conf");
        assert!(s.contains("/etc/waagent.conf missing"), "{s}");
    }

    #[test]
    fn error_when_the_config_cannot_be_read() {
        let mut fs = MemFs::new();
        fs.dir("/etc/waagent.conf");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.starts_with("/etc/waagent.conf: "), "{}", said(&o));
    }

    #[test]
    fn fails_in_guide_when_regenerate_is_n() {
        let fs = conf(&format!(
            "Provisioning.RegenerateSshHostKeyPair=n\n{DELETE}{SWAP}"
        ));
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(
            o.actual,
            "Provisioning.RegenerateSshHostKeyPair=n (needs y)"
        );
        assert!(
            s.contains("/etc/waagent.conf:1 Provisioning.RegenerateSshHostKeyPair=n"),
            "{s}"
        );
    }

    #[test]
    fn warns_in_current_when_regenerate_is_n() {
        let fs = conf(&format!(
            "Provisioning.RegenerateSshHostKeyPair=n\n{DELETE}{SWAP}"
        ));
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(
            o.actual,
            "Provisioning.RegenerateSshHostKeyPair=n (needs y)"
        );
    }

    #[test]
    fn fails_in_guide_when_delete_root_password_is_not_set() {
        let o = run_linux(conf(&format!("{REGENERATE}{SWAP}")), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(
            o.actual,
            "Provisioning.DeleteRootPassword not set (the agent's default is n)"
        );
    }

    #[test]
    fn warns_in_current_when_delete_root_password_is_not_set() {
        let o = run_linux_with(
            conf(&format!("{REGENERATE}{SWAP}")),
            &Policy::current(),
            run,
        );
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(
            o.actual.contains("DeleteRootPassword not set"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn warns_when_provisioning_is_disabled() {
        let o = run_linux(good_then("Provisioning.Agent=disabled\n"), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(
            o.actual,
            "Provisioning.Agent=disabled: new VMs are not provisioned"
        );
        assert!(
            s.contains("/etc/waagent.conf:4 Provisioning.Agent=disabled"),
            "{s}"
        );
    }

    #[test]
    fn a_failure_stays_a_failure_beside_a_warning() {
        let o = run_linux(
            conf(&format!(
                "Provisioning.RegenerateSshHostKeyPair=n\n{DELETE}{SWAP}Provisioning.Agent=disabled\n"
            )),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.actual.contains("RegenerateSshHostKeyPair=n"), "{s}");
        assert!(o.actual.contains("Provisioning.Agent=disabled"), "{s}");
    }

    #[test]
    fn passes_with_the_agent_provisioning() {
        let o = run_linux(good_then("Provisioning.Agent=auto\n"), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn warns_when_cloud_init_provisions_but_is_not_installed() {
        let o = run_linux(good_then("Provisioning.Agent=cloud-init\n"), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.actual
                .starts_with("Provisioning.Agent=cloud-init but cloud-init is not installed"),
            "{s}"
        );
        assert!(
            s.contains("/etc/waagent.conf:4 Provisioning.Agent=cloud-init"),
            "{s}"
        );
    }

    #[test]
    fn passes_when_cloud_init_provisions_from_usr_bin() {
        let mut fs = good_then("Provisioning.Agent=cloud-init\n");
        fs.file("/usr/bin/cloud-init", "");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn error_when_where_cloud_init_would_be_cannot_be_read() {
        let mut fs = good_then("Provisioning.Agent=cloud-init\n");
        fs.broken_dir(
            "/usr/bin",
            vhdlint_guest::fs::FsError::Corrupt("/usr/bin: bad directory block".into()),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/usr/bin: bad directory block"), "{s}");
        // Found in /bin, /usr/bin does not matter.
        let mut fs = good_then("Provisioning.Agent=cloud-init\n");
        fs.file("/bin/cloud-init", "").broken_dir(
            "/usr/bin",
            vhdlint_guest::fs::FsError::Corrupt("/usr/bin: bad directory block".into()),
        );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn passes_when_cloud_init_provisions_from_bin() {
        let mut fs = good_then("Provisioning.Agent=cloud-init\n");
        fs.file("/bin/cloud-init", "");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn warns_when_enable_swap_is_not_exactly_y_or_n() {
        let o = run_linux(
            conf(&format!("{REGENERATE}{DELETE}ResourceDisk.EnableSwap=Y\n")),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(
            o.actual,
            "ResourceDisk.EnableSwap=\"Y\" is not exactly y or n"
        );
        assert!(
            s.contains("/etc/waagent.conf:3 ResourceDisk.EnableSwap=Y"),
            "{s}"
        );
    }

    #[test]
    fn warns_when_enable_swap_is_not_set() {
        let o = run_linux(conf(&format!("{REGENERATE}{DELETE}")), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "ResourceDisk.EnableSwap not set (must be y or n)");
        assert!(o.message.starts_with("/etc/waagent.conf: "), "{}", said(&o));
    }
}
