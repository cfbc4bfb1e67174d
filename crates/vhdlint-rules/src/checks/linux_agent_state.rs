use vhdlint_guest::fs::FileKind;

use crate::check::{CheckMeta, Evidence, Note, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/agent-state",
    title: "No provisioning state left",
    what: "Looks for what provisioning leaves behind: the Azure Linux Agent's /var/lib/waagent/ovf-env.xml and goal-state files (GoalState.*.xml, SharedConfig.xml, HostingEnvironmentConfig.xml, Certificates.*, provisioned) fail; cloud-init instance state (/var/lib/cloud/instances), a non-empty /etc/machine-id and /var/log/waagent.log warn.",
    why: "An image captured from a provisioned VM carries that VM's identity: the agent would skip provisioning on new VMs, and a shared machine-id gives every VM the same identity for systemd and DHCP.",
    remedy: "Deprovision before capturing: waagent -force -deprovision+user (or remove /var/lib/waagent/*, /var/lib/cloud/instances, /var/log/waagent.log and truncate /etc/machine-id)",
    sources: &["Azure Marketplace VM image guide: deprovision with waagent -force -deprovision", "virt-sysprep operation machine-id"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check: what the agent and cloud-init left of a provisioned
/// VM goes (`cloud-init clean --logs` where cloud-init is installed), and the machine-id is
/// emptied (systemd makes a new one on first boot).
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    let paths = crate::fix::evidence_paths(r);
    let agent: Vec<String> = paths
        .iter()
        .filter(|p| p.starts_with("/var/lib/waagent/") || *p == "/var/log/waagent.log")
        .cloned()
        .collect();
    let mut sh = crate::fix::delete_files_sh(&agent);
    if paths.iter().any(|p| p == "/var/lib/cloud/instances") {
        sh.push_str("if command -v cloud-init >/dev/null 2>&1; then\n    if [ -n \"$(ls -A /var/lib/cloud/instances 2>/dev/null)\" ]; then cloud-init clean --logs; say 'ran cloud-init clean --logs'; fi\nelif [ -d /var/lib/cloud/instances ] && [ -n \"$(ls -A /var/lib/cloud/instances)\" ]; then\n    rm -rf /var/lib/cloud/instances/* /var/lib/cloud/instance; say 'deleted the cloud-init instance state'\nfi\n");
    }
    if paths.iter().any(|p| p == "/etc/machine-id") {
        sh.push_str("if [ -s /etc/machine-id ] && [ \"$(cat /etc/machine-id)\" != uninitialized ]; then\n    : >/etc/machine-id; say 'emptied /etc/machine-id'\nfi\nif [ -f /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then\n    rm -f /var/lib/dbus/machine-id; say 'deleted /var/lib/dbus/machine-id'\nfi\n");
    }
    (!sh.is_empty()).then(|| crate::fix::Block {
        changes: "deletes the provisioning state found (agent goal state and log, cloud-init instances) and empties the machine-id".into(),
        sh,
    })
}

fn is_goal_state(name: &str) -> bool {
    name == "ovf-env.xml"
        || name == "provisioned"
        || name == "SharedConfig.xml"
        || name == "HostingEnvironmentConfig.xml"
        || name.starts_with("GoalState.")
        || name.starts_with("Certificates.")
        || name.ends_with(".prv")
        || name.ends_with(".crt")
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let mut status = Status::Pass;
    let mut ev = Vec::new();
    let mut what = Vec::new();
    // What a bound kept from being read: provisioning state there would not be seen.
    let mut notes = Vec::new();
    if let Some(entries) = g.view.read_dir_noted("/var/lib/waagent", &mut notes) {
        for e in entries.iter().filter(|e| is_goal_state(&e.name)) {
            status = Status::Fail;
            what.push(format!("/var/lib/waagent/{}", e.name));
            ev.push(Evidence::path(
                format!("/var/lib/waagent/{}", e.name),
                None,
                "agent provisioning state",
            ));
        }
    }
    if let Some(entries) = g
        .view
        .read_dir_noted("/var/lib/cloud/instances", &mut notes)
    {
        if !entries.is_empty() {
            status = status.max(Status::Warning);
            what.push("cloud-init instance state".into());
            ev.push(Evidence::path(
                "/var/lib/cloud/instances",
                None,
                format!(
                    "{} instance(s): {}",
                    entries.len(),
                    entries
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    if let Some(id) = g.view.read_noted("/etc/machine-id", &mut notes) {
        let id = id.trim();
        if !id.is_empty() && id != "uninitialized" {
            status = status.max(Status::Warning);
            what.push("a machine-id".into());
            ev.push(Evidence::path("/etc/machine-id", Some(1), id));
        }
    }
    let log = match g.view.metadata("/var/log/waagent.log") {
        Ok(m) => m.kind == FileKind::File,
        Err(e) => {
            notes.extend(Note::from_fs_error("/var/log/waagent.log", &e));
            false
        }
    };
    if log {
        status = status.max(Status::Warning);
        what.push("/var/log/waagent.log".into());
        ev.push(Evidence::path(
            "/var/log/waagent.log",
            None,
            "agent log from a provisioned VM",
        ));
    }
    let required = "no agent goal state, no cloud-init instance, empty machine-id, no agent log";
    if status == Status::Pass {
        return Outcome::pass("no provisioning state", required).noted(notes);
    }
    let out = Outcome::with_status(status, what.join(", "), required)
        .message(format!("left behind: {}", what.join(", ")))
        .evidences(ev);
    out.noted(notes)
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::check::Status;
    use crate::testing::{run_linux, run_no_linux, said, MemFs};
    use vhdlint_guest::limits::MAX_CONFIG_BYTES;

    #[test]
    fn error_without_a_linux_guest() {
        let o = run_no_linux(run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.contains("no Linux filesystem"), "{}", said(&o));
    }

    #[test]
    fn passes_on_a_clean_guest() {
        let o = run_linux(MemFs::new(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "no provisioning state");
        assert!(o.evidence.is_empty(), "{}", said(&o));
    }

    #[test]
    fn passes_with_agent_files_that_are_not_goal_state() {
        let mut fs = MemFs::new();
        for name in [
            "waagent_status.json",
            "history",
            "GoalState",
            "Certificates",
            "ovf-env.xml.bak",
            "provisioned.old",
            "x.prv.bak",
            "x.crt.old",
            "SharedConfig.xml.1",
            "HostingEnvironmentConfig",
        ] {
            fs.file(&format!("/var/lib/waagent/{name}"), "x");
        }
        fs.dir("/var/lib/cloud/instances");
        fs.file("/etc/machine-id", "");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn fails_on_each_kind_of_goal_state() {
        for name in [
            "ovf-env.xml",
            "provisioned",
            "SharedConfig.xml",
            "HostingEnvironmentConfig.xml",
            "GoalState.1.xml",
            "Certificates.p7m",
            "ABCDEF.prv",
            "ABCDEF.crt",
        ] {
            let mut fs = MemFs::new();
            fs.file(&format!("/var/lib/waagent/{name}"), "x");
            let o = run_linux(fs, run);
            let s = said(&o);
            assert_eq!(o.status, Status::Fail, "{name}: {s}");
            assert_eq!(o.actual, format!("/var/lib/waagent/{name}"));
            assert!(
                s.contains(&format!("/var/lib/waagent/{name} agent provisioning state")),
                "{s}"
            );
        }
    }

    #[test]
    fn warns_on_cloud_init_instances() {
        let mut fs = MemFs::new();
        fs.dir("/var/lib/cloud/instances/iid-1")
            .dir("/var/lib/cloud/instances/iid-2");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "cloud-init instance state");
        assert!(
            s.contains("/var/lib/cloud/instances 2 instance(s): iid-1, iid-2"),
            "{s}"
        );
    }

    #[test]
    fn warns_on_a_machine_id() {
        let mut fs = MemFs::new();
        fs.file("/etc/machine-id", "0123456789abcdef0123456789abcdef\n");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "a machine-id");
        assert!(
            s.contains("/etc/machine-id:1 0123456789abcdef0123456789abcdef"),
            "{s}"
        );
    }

    #[test]
    fn passes_with_an_empty_or_uninitialized_machine_id() {
        for id in ["", "\n", "  \n", "uninitialized\n"] {
            let mut fs = MemFs::new();
            fs.file("/etc/machine-id", id);
            let o = run_linux(fs, run);
            assert_eq!(o.status, Status::Pass, "{id:?}: {}", said(&o));
        }
    }

    #[test]
    fn warns_on_the_agent_log() {
        let mut fs = MemFs::new();
        fs.file("/var/log/waagent.log", "");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "/var/log/waagent.log");
        assert!(s.contains("/var/log/waagent.log agent log"), "{s}");
    }

    #[test]
    fn passes_with_a_directory_named_like_the_agent_log() {
        let mut fs = MemFs::new();
        fs.dir("/var/log/waagent.log");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn fails_and_lists_everything_left_behind() {
        let mut fs = MemFs::new();
        fs.file("/var/log/waagent.log", "")
            .file("/etc/machine-id", "abc\n")
            .dir("/var/lib/cloud/instances/iid-1")
            .file("/var/lib/waagent/ovf-env.xml", "<xml/>");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(
            o.actual,
            "/var/lib/waagent/ovf-env.xml, cloud-init instance state, a machine-id, /var/log/waagent.log"
        );
        assert_eq!(o.evidence.len(), 4, "{s}");
    }

    #[test]
    fn a_machine_id_not_read_because_of_a_bound_is_not_a_pass() {
        let mut fs = MemFs::new();
        fs.repeat("/etc/machine-id", b'a', MAX_CONFIG_BYTES + 1);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.evidence
                .iter()
                .any(|e| e.path.as_deref() == Some("/etc/machine-id")),
            "{s}"
        );
    }

    #[test]
    fn an_agent_directory_not_listed_because_of_a_bound_is_not_a_pass() {
        let mut fs = MemFs::new();
        fs.link("/var/lib/waagent", "/var/lib/waagent");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.evidence
                .iter()
                .any(|e| e.path.as_deref() == Some("/var/lib/waagent")),
            "{s}"
        );
    }

    #[test]
    fn error_when_the_agent_log_cannot_be_looked_up() {
        let mut fs = MemFs::new();
        fs.broken_dir(
            "/var/log",
            vhdlint_guest::fs::FsError::Corrupt("/var/log: bad directory block".into()),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/var/log: bad directory block"), "{s}");
    }
}
