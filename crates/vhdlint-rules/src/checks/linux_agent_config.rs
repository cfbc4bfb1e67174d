use super::keyvalue_notes;
use crate::check::{CheckMeta, Evidence, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/agent-config",
    title: "Agent configuration",
    what: "Reads /etc/waagent.conf: `guide` requires Provisioning.RegenerateSshHostKeyPair=y and Provisioning.DeleteRootPassword=y (the agent's default for both is n); Provisioning.Agent=disabled, Provisioning.Agent=cloud-init without cloud-init installed, and a ResourceDisk.EnableSwap other than exactly y or n warn.",
    why: "These settings make the agent generalize each new VM: fresh SSH host keys and no root password shared by every VM. With provisioning disabled the VM is never provisioned, and LISA's verify_swap needs EnableSwap to be y or n.",
    remedy: "In /etc/waagent.conf set Provisioning.RegenerateSshHostKeyPair=y and Provisioning.DeleteRootPassword=y; set ResourceDisk.EnableSwap to y or n.",
    sources: &["Azure Marketplace VM image guide: waagent.conf settings", "WALinuxAgent azurelinuxagent/common/conf.py defaults", "LISA verify_swap"],
    profiles: &[Profile::LinuxOs],
};

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
    let level = ctx.policy.agent_config.status();
    let mut status = Status::Pass;
    let mut problems = Vec::new();
    let mut ev = Vec::new();
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
        let cloud_init = ["/usr/bin/cloud-init", "/bin/cloud-init"]
            .iter()
            .any(|p| g.view.exists(p));
        if !cloud_init {
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
    let notes = keyvalue_notes(path, conf);
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
