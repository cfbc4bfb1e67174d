use vhdlint_guest::facts::{enabled_unit, masked_unit, sysv_start_link};

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/ssh-server",
    title: "SSH server enabled",
    what: "Looks for sshd (/usr/sbin/sshd) and whether it starts at boot: a systemd `*.wants/` link to ssh.service, sshd.service or ssh.socket (and no mask), or a SysV start link.",
    why: "Without an SSH server started at boot, nobody can log in to the VM, and the Certification Tool cannot test it.",
    remedy: "Install and enable the SSH server: apt-get install openssh-server && systemctl enable ssh (RHEL/SUSE: sshd).",
    sources: &["Azure Marketplace VM image guide: include and enable the SSH server"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

/// A masked sshd unit unmasked, an installed sshd enabled, with systemctl (which works offline
/// in a chroot) on the unit file the root ships. Not installed is a package to install, left to
/// the remedy.
fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    if r.actual == "not installed" {
        return None;
    }
    Some(crate::fix::Block {
        changes: "unmasks and enables the SSH server's unit (systemctl enable ssh or sshd)".into(),
        sh: r#"if ! command -v systemctl >/dev/null 2>&1; then
    echo "vhdlint fix: no systemctl here: enable the SSH server with the init system's own tool" >&2; exit 1
fi
for u in ssh.service sshd.service ssh.socket sshd.socket; do
    if [ "$(readlink "/etc/systemd/system/$u" 2>/dev/null)" = /dev/null ]; then systemctl unmask "$u" >/dev/null 2>&1; say "unmasked $u"; fi
done
enabled=
for u in ssh.service sshd.service; do
    for d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
        if [ -z "$enabled" ] && [ -f "$d/$u" ]; then
            if ! systemctl is-enabled -q "$u" 2>/dev/null; then systemctl enable "$u" >/dev/null 2>&1; say "enabled $u"; fi
            enabled=$u
        fi
    done
done
if [ -z "$enabled" ]; then
    echo "vhdlint fix: no ssh.service or sshd.service unit file: reinstall the SSH server package" >&2; exit 1
fi
"#
        .into(),
    })
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let required = "sshd installed and enabled at boot";
    // Paths that could not be looked up are not taken for absent: a binary, a mask or a start
    // link may be there (the notes make a pass or a warning an error).
    let mut lookup = Vec::new();
    let Some(bin) = ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"]
        .into_iter()
        .find(|b| g.view.exists_noted(b, &mut lookup))
    else {
        return Outcome::warning("not installed", required)
            .message("no sshd binary in /usr/sbin, /usr/bin or /sbin")
            .remedy(META.remedy)
            .noted(lookup);
    };
    // sshd was found: where else it could have been does not matter.
    let found_aside = std::mem::take(&mut lookup);
    let units = ["ssh.service", "sshd.service", "ssh.socket", "sshd.socket"];
    if let Some(u) = units.iter().find(|u| masked_unit(&g.view, u, &mut lookup)) {
        return Outcome::warning(format!("{u} masked"), required)
            .evidence(Evidence::path(
                format!("/etc/systemd/system/{u}"),
                None,
                "-> /dev/null",
            ))
            .aside(found_aside);
    }
    let link = units
        .iter()
        .find_map(|u| enabled_unit(&g.view, u, &mut lookup))
        .or_else(|| sysv_start_link(&g.view, "ssh", &mut lookup))
        .or_else(|| sysv_start_link(&g.view, "sshd", &mut lookup));
    let out = match link {
        Some(l) => Outcome::pass(format!("{bin}, enabled"), required).evidence(Evidence::path(l, None, "start link")),
        None => Outcome::warning(format!("{bin}, not enabled"), required)
            .message("sshd is installed but nothing starts it at boot (no *.wants/ link to ssh.service, sshd.service or ssh.socket, no SysV start link)")
            .evidence(Evidence::path(bin, None, "installed")),
    };
    out.noted(lookup).aside(found_aside)
}

#[cfg(test)]
mod tests {
    use super::{run, META};
    use vhdlint_guest::fs::FsError;

    use crate::check::Status;
    use crate::testing::{assert_errors_without_a_linux_guest, run_linux, said, MemFs};

    fn installed(bin: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file(bin, "");
        fs
    }

    #[test]
    fn error_without_a_linux_guest() {
        assert_errors_without_a_linux_guest(run);
    }

    #[test]
    fn warns_when_not_installed() {
        let mut fs = MemFs::new();
        fs.link(
            "/etc/systemd/system/multi-user.target.wants/ssh.service",
            "/lib/systemd/system/ssh.service",
        );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "not installed");
        assert_eq!(o.remedy.as_deref(), Some(META.remedy));
    }

    #[test]
    fn warns_when_installed_but_not_enabled() {
        for bin in ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"] {
            let o = run_linux(installed(bin), run);
            let s = said(&o);
            assert_eq!(o.status, Status::Warning, "{s}");
            assert_eq!(o.actual, format!("{bin}, not enabled"));
            assert!(s.contains(&format!("{bin} installed")), "{s}");
        }
    }

    #[test]
    fn passes_when_each_unit_is_enabled() {
        for unit in ["ssh.service", "sshd.service", "ssh.socket", "sshd.socket"] {
            let link = format!("/etc/systemd/system/multi-user.target.wants/{unit}");
            let mut fs = installed("/usr/sbin/sshd");
            fs.link(&link, &format!("/lib/systemd/system/{unit}"));
            let o = run_linux(fs, run);
            let s = said(&o);
            assert_eq!(o.status, Status::Pass, "{unit}: {s}");
            assert_eq!(o.actual, "/usr/sbin/sshd, enabled");
            assert!(s.contains(&format!("{link} start link")), "{s}");
        }
    }

    #[test]
    fn passes_with_a_sysv_start_link() {
        for (name, link) in [("ssh", "/etc/rc2.d/S02ssh"), ("sshd", "/etc/rc3.d/S55sshd")] {
            let mut fs = installed("/usr/sbin/sshd");
            fs.link(link, &format!("../init.d/{name}"));
            let o = run_linux(fs, run);
            let s = said(&o);
            assert_eq!(o.status, Status::Pass, "{s}");
            assert!(s.contains(&format!("{link} start link")), "{s}");
        }
    }

    #[test]
    fn warns_when_a_unit_is_masked() {
        for unit in ["ssh.service", "sshd.service", "ssh.socket", "sshd.socket"] {
            let mut fs = installed("/usr/sbin/sshd");
            fs.link(
                "/etc/systemd/system/multi-user.target.wants/sshd.service",
                "/usr/lib/systemd/system/sshd.service",
            )
            .link(&format!("/etc/systemd/system/{unit}"), "/dev/null");
            let o = run_linux(fs, run);
            let s = said(&o);
            assert_eq!(o.status, Status::Warning, "{unit}: {s}");
            assert_eq!(o.actual, format!("{unit} masked"));
            assert!(
                s.contains(&format!("/etc/systemd/system/{unit} -> /dev/null")),
                "{s}"
            );
        }
    }

    #[test]
    fn error_when_where_sshd_would_be_cannot_be_read() {
        // /usr/sbin cannot be listed: whether sshd is installed is unknown, not "no".
        let mut fs = MemFs::new();
        fs.broken_dir(
            "/usr/sbin",
            FsError::Corrupt("/usr/sbin: bad directory block".into()),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/usr/sbin: bad directory block"), "{s}");
        // Found elsewhere, the binary's other places do not matter.
        let mut fs = installed("/sbin/sshd");
        fs.broken_dir(
            "/usr/sbin",
            FsError::Corrupt("/usr/sbin: bad directory block".into()),
        )
        .link("/etc/rc2.d/S02ssh", "../init.d/ssh");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn error_when_a_mask_cannot_be_looked_up() {
        // Started by a SysV link, but whether systemd masks it cannot be read.
        let mut fs = installed("/usr/sbin/sshd");
        fs.link("/etc/rc2.d/S02ssh", "../init.d/ssh").broken_dir(
            "/etc/systemd/system",
            FsError::Io("/etc/systemd/system: read error".into()),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/etc/systemd/system: read error"), "{s}");
    }

    #[test]
    fn error_when_no_start_link_is_found_where_one_cannot_be_read() {
        let mut fs = installed("/usr/sbin/sshd");
        fs.broken_dir(
            "/etc/rc3.d",
            FsError::Corrupt("/etc/rc3.d: bad block".into()),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/etc/rc3.d: bad block"), "{s}");
    }
}
