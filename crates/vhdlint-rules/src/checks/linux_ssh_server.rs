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
};

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let required = "sshd installed and enabled at boot";
    let Some(bin) = ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"]
        .into_iter()
        .find(|b| g.view.exists(b))
    else {
        return Outcome::warning("not installed", required)
            .message("no sshd binary in /usr/sbin, /usr/bin or /sbin")
            .remedy(META.remedy);
    };
    let units = ["ssh.service", "sshd.service", "ssh.socket", "sshd.socket"];
    if let Some(u) = units.iter().find(|u| masked_unit(&g.view, u)) {
        return Outcome::warning(format!("{u} masked"), required).evidence(Evidence::path(
            format!("/etc/systemd/system/{u}"),
            None,
            "-> /dev/null",
        ));
    }
    let link = units
        .iter()
        .find_map(|u| enabled_unit(&g.view, u))
        .or_else(|| sysv_start_link(&g.view, "ssh"))
        .or_else(|| sysv_start_link(&g.view, "sshd"));
    match link {
        Some(l) => Outcome::pass(format!("{bin}, enabled"), required).evidence(Evidence::path(l, None, "start link")),
        None => Outcome::warning(format!("{bin}, not enabled"), required)
            .message("sshd is installed but nothing starts it at boot (no *.wants/ link to ssh.service, sshd.service or ssh.socket, no SysV start link)")
            .evidence(Evidence::path(bin, None, "installed")),
    }
}
