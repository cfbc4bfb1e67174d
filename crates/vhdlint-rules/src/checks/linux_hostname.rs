use vhdlint_guest::fs::FsError;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/hostname",
    title: "Host name reset",
    what: "Reads /etc/hostname: absent, empty, `localhost` or `localhost.localdomain` pass.",
    why: "Azure sets the host name of each VM at provisioning; a host name baked into the image can survive and give every VM the same name.",
    remedy: "echo localhost.localdomain > /etc/hostname (or remove the file)",
    sources: &["Azure Marketplace VM image guide: set the host name to localhost.localdomain"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check: /etc/hostname is emptied (each VM gets its name from
/// Azure when it is provisioned).
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

fn fix(_: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    Some(crate::fix::Block {
        changes: "empties /etc/hostname (the agent or cloud-init sets each VM's name)".into(),
        sh: "if [ -s /etc/hostname ] && grep -qv -e '^[[:space:]]*$' -e '^[[:space:]]*#' -e '^localhost$' -e '^localhost.localdomain$' /etc/hostname; then\n    : >/etc/hostname; say 'emptied /etc/hostname'\nfi\n".into(),
    })
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let path = "/etc/hostname";
    let required = "absent, empty, localhost or localhost.localdomain";
    let text = match g.view.read_config(path) {
        Ok(t) => t,
        Err(FsError::NotFound(_)) => return Outcome::pass("absent", required),
        Err(e) => return Outcome::error(format!("{path}: {e}")),
    };
    let name = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    if matches!(name, "" | "localhost" | "localhost.localdomain") {
        return Outcome::pass(if name.is_empty() { "empty" } else { name }, required)
            .evidence(Evidence::path(path, None, name));
    }
    Outcome::warning(name, required)
        .message(format!("{path} sets the host name \"{name}\""))
        .evidence(Evidence::path(
            path,
            Some(text.lines().position(|l| l.trim() == name).unwrap_or(0) + 1),
            name,
        ))
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::check::Status;
    use crate::testing::{run_linux, run_no_linux, said, MemFs};

    /// A guest whose /etc/hostname is `text`.
    fn hostname(text: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file("/etc/hostname", text);
        fs
    }

    #[test]
    fn error_without_a_linux_guest() {
        let o = run_no_linux(run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.contains("no Linux filesystem"), "{}", said(&o));
    }

    #[test]
    fn passes_when_absent() {
        let o = run_linux(MemFs::new(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "absent");
    }

    #[test]
    fn error_when_it_cannot_be_read() {
        let mut fs = MemFs::new();
        fs.dir("/etc/hostname");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.starts_with("/etc/hostname: "), "{}", said(&o));
    }

    #[test]
    fn passes_when_empty() {
        for text in ["", "\n  \n", "# set at boot\n"] {
            let o = run_linux(hostname(text), run);
            assert_eq!(o.status, Status::Pass, "{text:?}: {}", said(&o));
            assert_eq!(o.actual, "empty", "{text:?}");
        }
    }

    #[test]
    fn passes_with_localhost() {
        for name in ["localhost", "localhost.localdomain"] {
            let o = run_linux(hostname(&format!("{name}\n")), run);
            let s = said(&o);
            assert_eq!(o.status, Status::Pass, "{s}");
            assert_eq!(o.actual, name);
            assert!(s.contains(&format!("/etc/hostname {name}")), "{s}");
        }
    }

    #[test]
    fn warns_on_a_host_name() {
        let o = run_linux(hostname("# the builder\n\n  build-vm-01  \n"), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "build-vm-01");
        assert_eq!(
            o.message,
            "/etc/hostname sets the host name \"build-vm-01\""
        );
        assert!(s.contains("/etc/hostname:3 build-vm-01"), "{s}");
    }

    #[test]
    fn the_first_name_is_the_one_used() {
        let o = run_linux(hostname("localhost\nbuild-vm-01\n"), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        let o = run_linux(hostname("build-vm-01\nlocalhost\n"), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(
            said(&o).contains("/etc/hostname:1 build-vm-01"),
            "{}",
            said(&o)
        );
    }
}
