use vhdlint_guest::config::passwd::{parse_shadow, HashState};

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/root-password",
    title: "Root password deleted",
    what: "Reads root's entry in /etc/shadow: a usable password hash fails; `*`, `!…` (locked) pass; an empty field warns (login without a password wherever PAM allows nullok).",
    why: "A root password in the image is the same on every VM made from it and known to the publisher; the guide asks that it be deleted (waagent.conf Provisioning.DeleteRootPassword=y, or passwd -d root before capture).",
    remedy: "Lock or delete root's password before capturing: passwd -l root (or usermod -p '*' root), and set Provisioning.DeleteRootPassword=y in /etc/waagent.conf.",
    sources: &["Azure Marketplace VM image guide: delete the root password", "Certification Test Tool: root password"],
    profiles: &[Profile::LinuxOs],
};

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let path = "/etc/shadow";
    let text = match g.view.read_config(path) {
        Ok(t) => t,
        Err(e) => return Outcome::error(format!("{path}: {e}")),
    };
    let shadow = parse_shadow(&text);
    let required = "no password hash for root (`*`, `!`-locked)";
    let Some(root) = shadow.get("root") else {
        return Outcome::error(format!("{path} has no root entry"));
    };
    let shown = |h: &str| {
        if h.len() > 8 {
            format!(
                "{}…",
                &h[..h.char_indices().nth(8).map_or(h.len(), |c| c.0)]
            )
        } else {
            h.to_string()
        }
    };
    let ev = Evidence::path(
        path,
        Some(root.line),
        format!("root:{}:…", shown(&root.hash)),
    );
    match root.hash_state() {
        HashState::Hash => Outcome::fail("root has a password hash", required).message("root's /etc/shadow entry holds a usable password hash, shared by every VM made from the image").evidence(ev),
        HashState::Empty => Outcome::warning("empty password field", required).message("root's password field is empty: login without a password wherever PAM allows nullok").evidence(ev),
        HashState::Locked => Outcome::pass("locked", required).evidence(ev),
        HashState::NoPassword | HashState::Invalid => Outcome::pass("no password", required).evidence(ev),
    }
}
