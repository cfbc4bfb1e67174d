use crate::check::{CheckMeta, Evidence, Note, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/dhcp-leases",
    title: "DHCP leases removed",
    what: "Looks for cached DHCP leases: files in /var/lib/dhcp, /var/lib/dhclient, /var/lib/dhcpcd and /var/lib/NetworkManager/*.lease. Empty files hold no lease and pass.",
    why: "A cached lease makes every VM ask first for the address the build machine had; the guide asks that the image be generalized, leases included.",
    remedy: "rm -f /var/lib/dhcp/* /var/lib/dhclient/* /var/lib/dhcpcd/* /var/lib/NetworkManager/*.lease",
    sources: &["Azure Marketplace VM image guide: generalize the image", "virt-sysprep operation dhcp-client-state"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check: the lease files found are deleted.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    crate::fix::delete_files(
        &crate::fix::evidence_paths(r),
        "deletes the cached DHCP leases found",
    )
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let mut files = Vec::new();
    // Directories a bound kept from being listed: leases there would not be seen.
    let mut notes = Vec::new();
    for dir in [
        "/var/lib/dhcp",
        "/var/lib/dhclient",
        "/var/lib/dhcpcd",
        "/var/lib/NetworkManager",
    ] {
        let Some(entries) = g.view.read_dir_noted(dir, &mut notes) else {
            continue;
        };
        for e in entries {
            if dir.ends_with("NetworkManager") && !e.name.ends_with(".lease") {
                continue;
            }
            let p = format!("{dir}/{}", e.name);
            match g.view.metadata(&p) {
                Ok(m) if m.kind == vhdlint_guest::fs::FileKind::File => files.push((p, m.len)),
                Ok(_) => {}
                Err(e) => notes.extend(Note::from_fs_error(&p, &e)),
            }
        }
    }
    let required = "no cached DHCP lease";
    let leases: Vec<Evidence> = files
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(p, n)| Evidence::path(p.clone(), None, format!("{n} bytes")))
        .collect();
    if leases.is_empty() {
        let note = if files.is_empty() {
            "no lease files".to_string()
        } else {
            format!("{} empty lease file(s)", files.len())
        };
        return Outcome::pass(note, required).noted(notes);
    }
    let out = Outcome::fail(format!("{} lease file(s)", leases.len()), required)
        .message(format!(
            "cached DHCP leases: {}",
            files
                .iter()
                .filter(|f| f.1 > 0)
                .map(|f| f.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .evidences(leases);
    out.noted(notes)
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::check::Status;
    use crate::testing::{run_linux, run_no_linux, said, MemFs};

    #[test]
    fn error_without_a_linux_guest() {
        let o = run_no_linux(run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.contains("no Linux filesystem"), "{}", said(&o));
    }

    #[test]
    fn passes_without_lease_files() {
        let mut fs = MemFs::new();
        fs.dir("/var/lib/dhcp").dir("/var/lib/dhcp/sub");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "no lease files");
    }

    #[test]
    fn passes_with_empty_lease_files() {
        let mut fs = MemFs::new();
        fs.file("/var/lib/dhcp/dhclient.eth0.leases", "")
            .file("/var/lib/dhclient/dhclient.leases", "");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "2 empty lease file(s)");
    }

    #[test]
    fn fails_on_a_lease_in_each_directory() {
        for p in [
            "/var/lib/dhcp/dhclient.eth0.leases",
            "/var/lib/dhclient/dhclient--eth0.lease",
            "/var/lib/dhcpcd/eth0.lease",
            "/var/lib/NetworkManager/internal-1234-eth0.lease",
        ] {
            let mut fs = MemFs::new();
            fs.file(p, "l");
            let o = run_linux(fs, run);
            let s = said(&o);
            assert_eq!(o.status, Status::Fail, "{p}: {s}");
            assert_eq!(o.actual, "1 lease file(s)");
            assert_eq!(o.message, format!("cached DHCP leases: {p}"));
            assert!(s.contains(&format!("{p} 1 bytes")), "{s}");
        }
    }

    #[test]
    fn passes_with_network_manager_files_that_are_not_leases() {
        let mut fs = MemFs::new();
        fs.file("/var/lib/NetworkManager/NetworkManager.state", "[main]\n")
            .file("/var/lib/NetworkManager/secret_key", "k");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "no lease files");
    }

    #[test]
    fn fails_on_the_leases_only() {
        let mut fs = MemFs::new();
        fs.file("/var/lib/dhcp/empty.leases", "")
            .file("/var/lib/dhcp/eth0.leases", "lease {}\n")
            .file("/var/lib/dhcpcd/eth1.lease", "ab");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "2 lease file(s)");
        assert_eq!(
            o.message,
            "cached DHCP leases: /var/lib/dhcp/eth0.leases, /var/lib/dhcpcd/eth1.lease"
        );
        assert_eq!(o.evidence.len(), 2, "{s}");
        assert!(s.contains("/var/lib/dhcp/eth0.leases 9 bytes"), "{s}");
    }

    #[test]
    fn a_lease_directory_not_listed_because_of_a_bound_is_not_a_pass() {
        let mut fs = MemFs::new();
        fs.link("/var/lib/dhcp", "/var/lib/dhcp");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.evidence
                .iter()
                .any(|e| e.path.as_deref() == Some("/var/lib/dhcp")),
            "{s}"
        );
    }

    #[test]
    fn error_when_a_lease_file_cannot_be_looked_up() {
        let mut fs = MemFs::new();
        fs.lost(
            "/var/lib/dhclient/dhclient.leases",
            vhdlint_guest::fs::FileKind::File,
            vhdlint_guest::fs::FsError::Io("inode 40: read error".into()),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("inode 40: read error"), "{s}");
    }
}
