use vhdlint_guest::fs::FileKind;

use crate::check::{CheckMeta, Evidence, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/agent-state",
    title: "No provisioning state left",
    what: "Looks for what provisioning leaves behind: the Azure Linux Agent's /var/lib/waagent/ovf-env.xml and goal-state files (GoalState.*.xml, SharedConfig.xml, HostingEnvironmentConfig.xml, Certificates.*, provisioned) fail; cloud-init instance state (/var/lib/cloud/instances), a non-empty /etc/machine-id and /var/log/waagent.log warn.",
    why: "An image captured from a provisioned VM carries that VM's identity: the agent would skip provisioning on new VMs, and a shared machine-id gives every VM the same identity for systemd and DHCP.",
    remedy: "Deprovision before capturing: waagent -force -deprovision+user (or remove /var/lib/waagent/*, /var/lib/cloud/instances, /var/log/waagent.log and truncate /etc/machine-id)",
    sources: &["Azure Marketplace VM image guide: deprovision with waagent -force -deprovision", "virt-sysprep operation machine-id"],
    profiles: &[Profile::LinuxOs],
};

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
    if g.view
        .metadata("/var/log/waagent.log")
        .is_ok_and(|m| m.kind == FileKind::File)
    {
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
