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
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check: the nameserver lines of the build environment are
/// removed from a regular /etc/resolv.conf (a symbolic link, as systemd-resolved makes it, is
/// left alone).
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

fn fix(_: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    Some(crate::fix::Block {
        changes: "removes the nameserver lines of the build environment from /etc/resolv.conf (DHCP writes Azure's on each VM)".into(),
        sh: "f=/etc/resolv.conf\nif [ -f \"$f\" ] && [ ! -L \"$f\" ] && grep -q '^[[:space:]]*nameserver[[:space:]]' \"$f\"; then\n    sed -i '/^[[:space:]]*nameserver[[:space:]]/d' \"$f\"; say \"removed the nameserver lines of $f\"\nfi\n".into(),
    })
}

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

#[cfg(test)]
mod tests {
    use vhdlint_guest::limits::MAX_CONFIG_BYTES;

    use super::run;
    use crate::check::{Outcome, Status};
    use crate::testing::{assert_errors_without_a_linux_guest, run_linux, said, MemFs};

    fn resolv(text: &str) -> Outcome {
        let mut fs = MemFs::new();
        fs.file("/etc/resolv.conf", text);
        run_linux(fs, run)
    }

    fn linked(target: &str, fs: impl FnOnce(&mut MemFs)) -> Outcome {
        let mut m = MemFs::new();
        m.link("/etc/resolv.conf", target);
        fs(&mut m);
        run_linux(m, run)
    }

    #[test]
    fn error_without_a_linux_guest() {
        assert_errors_without_a_linux_guest(run);
    }

    #[test]
    fn passes_when_absent() {
        let o = run_linux(MemFs::new(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "absent");
    }

    #[test]
    fn passes_without_nameserver_lines() {
        let o = resolv(
            "# nameserver 10.0.0.1\nsearch example.com\nnameservers 1.1.1.1\noptions rotate\n",
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "no nameserver lines");
    }

    #[test]
    fn warns_on_nameserver_lines() {
        let o = resolv("search example.com\nnameserver 10.0.0.1\n  nameserver\t10.0.0.2  \n");
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "2 nameserver line(s)");
        assert!(o.message.contains("2 nameserver line(s)"), "{s}");
        assert!(s.contains("/etc/resolv.conf:2 nameserver 10.0.0.1"), "{s}");
        assert!(s.contains("/etc/resolv.conf:3 nameserver\t10.0.0.2"), "{s}");
    }

    #[test]
    fn passes_on_a_link_to_a_file_generated_at_boot() {
        let o = linked("../run/systemd/resolve/stub-resolv.conf", |_| {});
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(
            o.actual,
            "symlink to ../run/systemd/resolve/stub-resolv.conf (generated at boot)"
        );
        assert!(
            s.contains("/etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf"),
            "{s}"
        );
    }

    #[test]
    fn a_link_to_run_passes_even_with_nameservers_in_the_image() {
        let o = linked("/run/NetworkManager/resolv.conf", |fs| {
            fs.file("/run/NetworkManager/resolv.conf", "nameserver 10.0.0.1\n");
        });
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(o.actual.starts_with("symlink to /run/"), "{}", said(&o));
    }

    #[test]
    fn warns_on_a_link_to_a_static_file_with_nameservers() {
        let o = linked("/etc/resolvconf/resolv.conf.static", |fs| {
            fs.file(
                "/etc/resolvconf/resolv.conf.static",
                "nameserver 10.0.0.1\n",
            );
        });
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "1 nameserver line(s)");
        assert!(s.contains("/etc/resolv.conf:1 nameserver 10.0.0.1"), "{s}");
    }

    #[test]
    fn passes_on_a_dangling_link() {
        let o = linked("/etc/resolvconf/gone", |_| {});
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "a dangling symlink (nothing configured)");
    }

    #[test]
    fn error_when_the_file_is_over_its_bound() {
        let mut fs = MemFs::new();
        fs.repeat("/etc/resolv.conf", b'#', MAX_CONFIG_BYTES + 1);
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.starts_with("/etc/resolv.conf: "), "{}", said(&o));
    }

    #[test]
    fn error_when_the_path_cannot_be_looked_up() {
        // /etc is a symlink to itself: looking /etc/resolv.conf up never ends.
        let mut fs = MemFs::new();
        fs.link("/etc", "/etc");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.starts_with("/etc/resolv.conf: "), "{}", said(&o));
    }
}
