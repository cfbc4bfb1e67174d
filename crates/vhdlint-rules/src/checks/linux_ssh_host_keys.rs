use super::keyvalue_notes;
use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/ssh-host-keys",
    title: "SSH host keys removed",
    what: "Looks for /etc/ssh/ssh_host_*_key. Present while waagent.conf has Provisioning.RegenerateSshHostKeyPair=y: fail; present otherwise: warning.",
    why: "Host keys in the image would be shared by every VM made from it, so one VM could impersonate another; the image must be generalized so that each VM makes its own.",
    remedy: "rm -f /etc/ssh/ssh_host_* before capturing (waagent -deprovision does it), and keep Provisioning.RegenerateSshHostKeyPair=y.",
    sources: &["Azure Marketplace VM image guide: remove SSH host keys", "virt-sysprep operation ssh-hostkeys"],
    profiles: &[Profile::LinuxOs],
};

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let mut notes = Vec::new();
    let keys = g.view.glob_noted("/etc/ssh/ssh_host_*_key", &mut notes);
    let required = "no /etc/ssh/ssh_host_*_key";
    if keys.is_empty() {
        return Outcome::pass("no host keys", required).noted(notes);
    }
    let conf = g.facts.waagent(&g.view).ok();
    if let Some(c) = conf {
        notes.extend(keyvalue_notes(vhdlint_guest::facts::WAAGENT_CONF, c));
    }
    let regenerate = conf
        .and_then(|c| c.get("Provisioning.RegenerateSshHostKeyPair"))
        .is_some_and(|e| e.value.trim().eq_ignore_ascii_case("y"));
    let ev = keys
        .iter()
        .map(|k| Evidence::path(k.clone(), None, "host private key"));
    let names: Vec<&str> = keys
        .iter()
        .map(|k| k.rsplit('/').next().unwrap_or(k))
        .collect();
    let out = if regenerate {
        Outcome::fail(format!("{} host key(s)", keys.len()), required)
            .message(format!("host keys {} are in the image although waagent.conf asks for new ones: every VM would start with the same keys", names.join(", ")))
    } else {
        Outcome::warning(format!("{} host key(s)", keys.len()), required).message(format!(
            "host keys {} are in the image and would be shared by every VM",
            names.join(", ")
        ))
    };
    out.evidences(ev).noted(notes)
}
