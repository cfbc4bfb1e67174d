use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/dhcp-leases",
    title: "DHCP leases removed",
    what: "Looks for cached DHCP leases: files in /var/lib/dhcp, /var/lib/dhclient, /var/lib/dhcpcd and /var/lib/NetworkManager/*.lease. Empty files hold no lease and pass.",
    why: "A cached lease makes every VM ask first for the address the build machine had; the guide asks that the image be generalized, leases included.",
    remedy: "rm -f /var/lib/dhcp/* /var/lib/dhclient/* /var/lib/dhcpcd/* /var/lib/NetworkManager/*.lease",
    sources: &["Azure Marketplace VM image guide: generalize the image", "virt-sysprep operation dhcp-client-state"],
    profiles: &[Profile::LinuxOs],
};

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
            if let Ok(m) = g.view.metadata(&p) {
                if m.kind == vhdlint_guest::fs::FileKind::File {
                    files.push((p, m.len));
                }
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
