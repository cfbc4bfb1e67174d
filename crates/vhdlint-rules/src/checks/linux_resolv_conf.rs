use vhdlint_guest::fs::{FileKind, FsError};

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/resolv-conf",
    title: "No nameserver configuration",
    what: "Reads /etc/resolv.conf: a regular file with `nameserver` lines carries the build network's DNS servers; absent, or a symlink to a file generated at boot (systemd-resolved's stub, resolvconf, NetworkManager under /run), is fine.",
    why: "Azure gives every VM its DNS servers through DHCP; a nameserver hard-coded in the image points every VM at the network the image was built in.",
    remedy: "Remove the nameserver lines (or the file): rm -f /etc/resolv.conf, or link it to the resolver stub: ln -sf ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf",
    sources: &["Azure Marketplace VM image guide: remove /etc/resolv.conf nameserver configuration", "Azure docs, create-upload-generic"],
    profiles: &[Profile::LinuxOs],
};

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let path = "/etc/resolv.conf";
    let required = "no nameserver lines in a regular /etc/resolv.conf";
    match g.view.symlink_metadata(path) {
        Err(FsError::NotFound(_)) => return Outcome::pass("absent", required),
        Err(e) => return Outcome::error(format!("{path}: {e}")),
        Ok(m) if m.kind == FileKind::Symlink => {
            let target = g.view.read_link(path).unwrap_or_default();
            if target.contains("run/") {
                return Outcome::pass(format!("symlink to {target} (generated at boot)"), required)
                    .evidence(Evidence::path(path, None, format!("-> {target}")));
            }
        }
        Ok(_) => {}
    }
    let text = match g.view.read_config(path) {
        Ok(t) => t,
        Err(FsError::NotFound(_)) => {
            return Outcome::pass("a dangling symlink (nothing configured)", required)
        }
        Err(e) => return Outcome::error(format!("{path}: {e}")),
    };
    let lines: Vec<Evidence> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.split_whitespace().next() == Some("nameserver"))
        .map(|(i, l)| Evidence::path(path, Some(i + 1), l.trim()))
        .collect();
    if lines.is_empty() {
        return Outcome::pass("no nameserver lines", required);
    }
    Outcome::warning(format!("{} nameserver line(s)", lines.len()), required)
        .message(format!(
            "{path} is a regular file with {} nameserver line(s) from the build environment",
            lines.len()
        ))
        .evidences(lines)
}
