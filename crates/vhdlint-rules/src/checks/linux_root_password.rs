use vhdlint_guest::config::passwd::HashState;

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
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

/// root's password locked (usermod -L, or the same `!` written into /etc/shadow).
fn fix(_: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    Some(crate::fix::Block {
        changes: "locks root's password (usermod -L root): the hash stays, no password opens root; the agent's Provisioning.DeleteRootPassword=y is linux/agent-config's".into(),
        sh: crate::fix::lock_password_sh("root"),
    })
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let path = "/etc/shadow";
    let shadow = match g.facts.shadow(&g.view) {
        Ok(s) => s,
        Err(e) => return Outcome::error(format!("{path}: {e}")),
    };
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

#[cfg(test)]
mod tests {
    use super::run;
    use crate::check::{Outcome, Status};
    use crate::testing::{assert_errors_without_a_linux_guest, run_linux, said, MemFs};

    /// A guest whose /etc/shadow gives root the password field `hash` (on line 2).
    fn root(hash: &str) -> Outcome {
        let mut fs = MemFs::new();
        fs.file(
            "/etc/shadow",
            format!("daemon:*:19000:0:99999:7:::\nroot:{hash}:19000:0:99999:7:::\n"),
        );
        run_linux(fs, run)
    }

    fn assert_outcome(o: &Outcome, status: Status, actual: &str, shown: &str) {
        let s = said(o);
        assert_eq!(o.status, status, "{s}");
        assert_eq!(o.actual, actual, "{s}");
        assert!(s.contains(&format!("/etc/shadow:2 root:{shown}:…")), "{s}");
    }

    #[test]
    fn error_without_a_linux_guest() {
        assert_errors_without_a_linux_guest(run);
    }

    #[test]
    fn error_without_a_shadow_file() {
        let o = run_linux(MemFs::new(), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.starts_with("/etc/shadow: "), "{}", said(&o));
    }

    #[test]
    fn error_without_a_root_entry() {
        let mut fs = MemFs::new();
        fs.file("/etc/shadow", "daemon:*:19000:0:99999:7:::\n");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert_eq!(o.message, "/etc/shadow has no root entry");
    }

    #[test]
    fn fails_on_a_password_hash_and_shows_only_its_start() {
        let o = root("$6$saltsalt$0123456789abcdef");
        assert_outcome(&o, Status::Fail, "root has a password hash", "$6$salts…");
        assert!(!said(&o).contains("0123456789"), "{}", said(&o));
    }

    #[test]
    fn shows_a_field_of_eight_characters_whole() {
        let o = root("$1$abcde");
        assert_outcome(&o, Status::Fail, "root has a password hash", "$1$abcde");
        let o = root("$1$abcdef");
        assert_outcome(&o, Status::Fail, "root has a password hash", "$1$abcde…");
    }

    #[test]
    fn shortens_a_field_by_characters_not_bytes() {
        // Nine two-byte characters: eight are shown.
        let o = root("ééééééééé");
        assert_outcome(&o, Status::Pass, "no password", "éééééééé…");
    }

    #[test]
    fn warns_on_an_empty_password_field() {
        let o = root("");
        assert_outcome(&o, Status::Warning, "empty password field", "");
    }

    #[test]
    fn passes_when_locked() {
        assert_outcome(&root("!"), Status::Pass, "locked", "!");
        assert_outcome(&root("!$6$salt$hash"), Status::Pass, "locked", "!$6$salt…");
    }

    #[test]
    fn passes_without_a_password() {
        assert_outcome(&root("*"), Status::Pass, "no password", "*");
        assert_outcome(&root("x"), Status::Pass, "no password", "x");
    }
}
