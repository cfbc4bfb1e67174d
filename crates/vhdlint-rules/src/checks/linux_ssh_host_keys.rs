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
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check: the host keys found, and their public halves, are
/// deleted (the agent or cloud-init makes new ones on the first boot of each VM).
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    let mut paths = Vec::new();
    for p in crate::fix::evidence_paths(r) {
        paths.push(format!("{p}.pub"));
        paths.push(p);
    }
    crate::fix::delete_files(
        &paths,
        "deletes the SSH host keys found and their .pub files; the Azure agent or cloud-init creates new ones on each VM's first boot",
    )
}

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
        notes.extend(c.notes_at(vhdlint_guest::facts::WAAGENT_CONF));
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

#[cfg(test)]
mod tests {
    use super::run;
    use crate::check::{Outcome, Status};
    use crate::testing::{assert_errors_without_a_linux_guest, run_linux, said, MemFs};

    fn keys() -> MemFs {
        let mut fs = MemFs::new();
        fs.file("/etc/ssh/ssh_host_ed25519_key", "k")
            .file("/etc/ssh/ssh_host_ed25519_key.pub", "k")
            .file("/etc/ssh/ssh_host_rsa_key", "k");
        fs
    }

    fn with_waagent(conf: &str) -> Outcome {
        let mut fs = keys();
        fs.file("/etc/waagent.conf", conf);
        run_linux(fs, run)
    }

    fn assert_keys(o: &Outcome, status: Status) {
        let s = said(o);
        assert_eq!(o.status, status, "{s}");
        assert_eq!(o.actual, "2 host key(s)", "{s}");
        assert!(
            o.message
                .contains("ssh_host_ed25519_key, ssh_host_rsa_key are in the image"),
            "{s}"
        );
        assert!(
            s.contains("/etc/ssh/ssh_host_rsa_key host private key"),
            "{s}"
        );
    }

    #[test]
    fn error_without_a_linux_guest() {
        assert_errors_without_a_linux_guest(run);
    }

    #[test]
    fn passes_without_host_keys() {
        let mut fs = MemFs::new();
        fs.file("/etc/ssh/ssh_host_rsa_key.pub", "k")
            .file("/etc/ssh/sshd_config", "")
            .file(
                "/etc/waagent.conf",
                "Provisioning.RegenerateSshHostKeyPair=y\n",
            );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "no host keys");
    }

    #[test]
    fn fails_when_the_agent_regenerates_them() {
        let o = with_waagent("Provisioning.Enabled=y\nProvisioning.RegenerateSshHostKeyPair=y\n");
        assert_keys(&o, Status::Fail);
        assert!(
            o.message.contains("waagent.conf asks for new ones"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn reads_the_setting_in_any_case_and_spacing() {
        let o = with_waagent("Provisioning.RegenerateSshHostKeyPair= Y \n");
        assert_keys(&o, Status::Fail);
    }

    #[test]
    fn warns_when_the_agent_does_not_regenerate_them() {
        let o = with_waagent("Provisioning.RegenerateSshHostKeyPair=n\n");
        assert_keys(&o, Status::Warning);
        assert!(
            o.message.contains("would be shared by every VM"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn warns_without_the_setting() {
        assert_keys(&with_waagent("Provisioning.Enabled=y\n"), Status::Warning);
    }

    #[test]
    fn warns_without_waagent_conf() {
        assert_keys(&run_linux(keys(), run), Status::Warning);
    }
}
