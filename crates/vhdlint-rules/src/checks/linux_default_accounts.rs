use vhdlint_guest::config::passwd::HashState;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/default-accounts",
    title: "No shared credentials",
    what: "Looks for credentials that would be the same on every VM: any /etc/shadow entry with a usable password hash, and any non-empty ~/.ssh/authorized_keys of an account with a login shell (cloud-init's \"Please login as the user\" root key excepted).",
    why: "Accounts with known passwords or keys give whoever built the image access to every customer VM. Azure creates the user's account and key at provisioning.",
    remedy: "Delete build-time users (userdel -r NAME) or lock their passwords (passwd -l NAME), and remove their authorized_keys before capturing (waagent -deprovision+user does it).",
    sources: &["Azure Marketplace VM image guide: remove default accounts and credentials", "Marketplace certification FAQ: no default passwords or keys", "LISA AzureImageStandard.verify_no_pre_exist_users"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

/// Each account with a password hash locked, each authorized_keys file found deleted. The
/// accounts themselves stay (deleting a build user is `waagent -deprovision+user`'s, the
/// script's optional last block).
fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    let mut sh = String::new();
    let mut keys = Vec::new();
    for e in &r.evidence {
        match e.path.as_deref() {
            Some("/etc/shadow") => {
                if let Some(name) = e.text.strip_suffix(": password hash") {
                    sh.push_str(&crate::fix::lock_password_sh(name));
                }
            }
            Some(p)
                if (p.ends_with("/authorized_keys") || p.ends_with("/authorized_keys2"))
                    && !keys.iter().any(|k| k == p) =>
            {
                keys.push(p.to_string());
            }
            _ => {}
        }
    }
    sh.push_str(&crate::fix::delete_files_sh(&keys));
    (!sh.is_empty()).then(|| crate::fix::Block {
        changes: "locks the passwords found in /etc/shadow (usermod -L) and deletes the authorized_keys files found (the agent or cloud-init installs each VM's key)".into(),
        sh,
    })
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let mut ev = Vec::new();
    let mut what = Vec::new();
    // authorized_keys files a bound kept from being read: keys there would not be seen.
    let mut notes = Vec::new();
    match g.facts.shadow(&g.view) {
        Ok(shadow) => {
            for e in shadow
                .entries
                .iter()
                .filter(|e| e.hash_state() == HashState::Hash)
            {
                what.push(format!("{} has a password", e.name));
                ev.push(Evidence::path(
                    "/etc/shadow",
                    Some(e.line),
                    format!("{}: password hash", e.name),
                ));
            }
        }
        Err(e) => return Outcome::error(format!("/etc/shadow: {e}")),
    }
    let passwd = match g.facts.passwd(&g.view) {
        Ok(p) => p,
        Err(e) => return Outcome::error(format!("/etc/passwd: {e}")),
    };
    for acct in passwd.entries.iter().filter(|a| a.has_login_shell()) {
        let home = if acct.home.is_empty() {
            "/".to_string()
        } else {
            acct.home.trim_end_matches('/').to_string()
        };
        for file in ["authorized_keys", "authorized_keys2"] {
            let p = format!("{home}/.ssh/{file}");
            let Some(t) = g.view.read_noted(&p, &mut notes) else {
                continue;
            };
            let keys: Vec<(usize, &str)> = t
                .lines()
                .enumerate()
                .map(|(i, l)| (i + 1, l.trim()))
                .filter(|(_, l)| {
                    !l.is_empty() && !l.starts_with('#') && !l.contains("Please login as the user")
                })
                .collect();
            if !keys.is_empty() {
                what.push(format!(
                    "{} has {} authorized key(s)",
                    acct.name,
                    keys.len()
                ));
                for (line, l) in keys.iter().take(5) {
                    let short: String = l.chars().take(60).collect();
                    ev.push(Evidence::path(p.clone(), Some(*line), format!("{short}…")));
                }
            }
        }
    }
    let required = "no password hashes, no authorized keys";
    if what.is_empty() {
        return Outcome::pass("none", required).noted(notes);
    }
    let out = Outcome::fail(what.join("; "), required)
        .message(format!(
            "credentials shared by every VM: {}",
            what.join("; ")
        ))
        .evidences(ev);
    out.noted(notes)
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::check::Status;
    use crate::testing::{run_linux, run_no_linux, said, MemFs};
    use vhdlint_guest::limits::MAX_CONFIG_BYTES;

    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl builder@host";

    /// A guest with these /etc/passwd and /etc/shadow.
    fn accounts(passwd: &str, shadow: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file("/etc/passwd", passwd).file("/etc/shadow", shadow);
        fs
    }

    /// root locked, alice with a login shell, a daemon without one; no passwords.
    fn plain() -> MemFs {
        accounts(
            "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n",
            "root:*:19000:0:99999:7:::\nalice:!:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
        )
    }

    #[test]
    fn error_without_a_linux_guest() {
        let o = run_no_linux(run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.contains("no Linux filesystem"), "{}", said(&o));
    }

    #[test]
    fn passes_without_passwords_or_keys() {
        let o = run_linux(plain(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "none");
        assert!(o.evidence.is_empty(), "{}", said(&o));
    }

    #[test]
    fn error_when_the_shadow_file_cannot_be_read() {
        let mut fs = MemFs::new();
        fs.file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.starts_with("/etc/shadow: "), "{}", said(&o));
    }

    #[test]
    fn error_when_the_passwd_file_cannot_be_read() {
        let mut fs = MemFs::new();
        fs.file("/etc/shadow", "root:*:19000::::::\n");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.starts_with("/etc/passwd: "), "{}", said(&o));
    }

    #[test]
    fn fails_on_a_password_hash() {
        let fs = accounts(
            "root:x:0:0:root:/root:/bin/bash\n",
            "root:*:19000::::::\nazure:$6$salt$abcdefghijklmnop:19000::::::\n",
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "azure has a password");
        assert!(s.contains("/etc/shadow:2 azure: password hash"), "{s}");
    }

    #[test]
    fn fails_on_authorized_keys_of_a_login_account() {
        let mut fs = plain();
        fs.file(
            "/home/alice/.ssh/authorized_keys",
            format!("# keys\n\n{KEY}\n"),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "alice has 1 authorized key(s)");
        let short: String = KEY.chars().take(60).collect();
        assert!(
            s.contains(&format!("/home/alice/.ssh/authorized_keys:3 {short}…")),
            "{s}"
        );
    }

    #[test]
    fn fails_on_authorized_keys2() {
        let mut fs = plain();
        fs.file("/root/.ssh/authorized_keys2", KEY);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "root has 1 authorized key(s)");
        assert!(s.contains("/root/.ssh/authorized_keys2:1"), "{s}");
    }

    #[test]
    fn passes_with_keys_of_an_account_without_a_login_shell() {
        let mut fs = plain();
        fs.file("/usr/sbin/.ssh/authorized_keys", KEY);
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn passes_with_cloud_inits_root_key_and_comments() {
        let mut fs = plain();
        fs.file(
            "/root/.ssh/authorized_keys",
            format!("# a comment\n   \nno-port-forwarding,command=\"echo 'Please login as the user \\\"azureuser\\\" rather than the user \\\"root\\\".';echo;sleep 10\" {KEY}\n"),
        );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn an_empty_home_is_the_root_directory() {
        let mut fs = accounts("bob:x:1001:1001:::/bin/sh\n", "bob:!:19000::::::\n");
        fs.file("/.ssh/authorized_keys", KEY);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(s.contains("/.ssh/authorized_keys:1"), "{s}");
    }

    #[test]
    fn a_home_with_a_trailing_slash_is_the_same_directory() {
        let mut fs = accounts(
            "bob:x:1001:1001::/home/bob/:/bin/sh\n",
            "bob:!:19000::::::\n",
        );
        fs.file("/home/bob/.ssh/authorized_keys", KEY);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(s.contains("/home/bob/.ssh/authorized_keys:1"), "{s}");
    }

    #[test]
    fn counts_every_key_and_shows_the_first_five() {
        let mut fs = plain();
        let keys: String = (1..=6).map(|i| format!("{KEY}{i}\n")).collect();
        fs.file("/home/alice/.ssh/authorized_keys", keys);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "alice has 6 authorized key(s)");
        assert_eq!(o.evidence.len(), 5, "{s}");
        assert_eq!(o.evidence[4].line, Some(5), "{s}");
    }

    #[test]
    fn lists_passwords_and_keys_together() {
        let mut fs = accounts(
            "root:x:0:0:root:/root:/bin/bash\n",
            "root:$6$salt$abcdefghijklmnop:19000::::::\n",
        );
        fs.file("/root/.ssh/authorized_keys", KEY);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(
            o.actual,
            "root has a password; root has 1 authorized key(s)"
        );
        assert_eq!(o.evidence.len(), 2, "{s}");
    }

    #[test]
    fn keys_not_read_because_of_a_bound_are_not_a_pass() {
        let mut fs = plain();
        fs.repeat(
            "/home/alice/.ssh/authorized_keys",
            b'#',
            MAX_CONFIG_BYTES + 1,
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.evidence
                .iter()
                .any(|e| e.path.as_deref() == Some("/home/alice/.ssh/authorized_keys")),
            "{s}"
        );
    }
}
