use crate::check::{CheckMeta, Evidence, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/network",
    title: "Networking on DHCP",
    what: "Reads every network configuration system the image may use (ifupdown /etc/network/interfaces with its sources, netplan, systemd-networkd, ifcfg files of RHEL and SUSE, NetworkManager keyfiles, cloud-init) and looks for the primary interface (eth0, or a pattern matching it) on DHCP, brought up at boot. Static addresses, hard-coded HWADDR/MACADDR lines and udev persistent-net rules warn.",
    why: "Azure gives each VM its address by DHCP; a static address or a MAC-pinned interface name from the build machine leaves the new VM without network, unreachable for provisioning and SSH.",
    remedy: "Configure eth0 for DHCP (`auto eth0` + `iface eth0 inet dhcp`, netplan `dhcp4: true`, ifcfg BOOTPROTO=dhcp ONBOOT=yes), and delete HWADDR lines and /etc/udev/rules.d/70-persistent-net.rules.",
    sources: &["Azure Marketplace VM image guide: networking with DHCP, controllable by ifup/ifdown", "virt-sysprep operations net-hwaddr and udev-persistent-net"],
    profiles: &[Profile::LinuxOs],
};

/// Whether a configuration's interface name (or pattern) covers the primary NIC.
fn primary(iface: &str) -> bool {
    iface == "*"
        || iface.split_whitespace().any(|p| {
            vhdlint_guest::config::glob_match(p, "eth0") || p.starts_with("en") || p == "id0"
        })
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let net = g.facts.network(&g.view);
    let required = "primary interface on DHCP at boot, no static addresses, no MAC pinning";
    let mut status = Status::Pass;
    let mut problems = Vec::new();
    let mut ev = Vec::new();
    let dhcp: Vec<_> = net
        .configs
        .iter()
        .filter(|c| c.dhcp4 && c.at_boot && primary(&c.iface))
        .collect();
    for c in &dhcp {
        ev.push(Evidence::path(
            c.path.clone(),
            Some(c.line),
            format!("{} ({}): {}", c.iface, c.kind, c.text),
        ));
    }
    if dhcp.is_empty() {
        match &net.cloud_init {
            Some(p) => ev.push(Evidence::path(
                p.clone(),
                None,
                "cloud-init configures DHCP on the primary interface",
            )),
            None => {
                status = Status::Warning;
                problems.push("no configuration brings eth0 up with DHCP at boot".to_string());
                ev.extend(net.configs.iter().map(|c| {
                    Evidence::path(
                        c.path.clone(),
                        Some(c.line),
                        format!(
                            "{} ({}): {}",
                            c.iface,
                            c.kind,
                            if c.text.is_empty() {
                                "no DHCP"
                            } else {
                                c.text.as_str()
                            }
                        ),
                    )
                }));
                if net.configs.is_empty() {
                    ev.push(Evidence::note("looked at /etc/network/interfaces, /etc/netplan, /etc/systemd/network, ifcfg files, NetworkManager keyfiles and cloud-init"));
                }
            }
        }
    }
    // Only configurations for the primary interface matter: systemd ships static ones for
    // container interfaces (ve-*, vz-*), for instance.
    for c in net
        .configs
        .iter()
        .filter(|c| c.static_v4 && primary(&c.iface))
    {
        status = status.max(Status::Warning);
        problems.push(format!("{} has a static address ({})", c.iface, c.path));
        ev.push(Evidence::path(
            c.path.clone(),
            Some(c.line),
            format!("static: {}", c.text),
        ));
    }
    for p in &net.pinned {
        status = status.max(Status::Warning);
        problems.push(format!(
            "{}:{} pins the interface to a MAC address",
            p.path, p.line
        ));
        ev.push(Evidence::path(p.path.clone(), Some(p.line), p.text.clone()));
    }
    let actual = match dhcp.first() {
        Some(c) => format!("{} on DHCP ({})", c.iface, c.kind),
        None if net.cloud_init.is_some() => "cloud-init networking (DHCP)".to_string(),
        None => "no DHCP configuration".to_string(),
    };
    // A file not read (or read only in part) because of a bound could hold a static address
    // or a MAC pin, or the DHCP configuration itself.
    let notes = net.notes.clone();
    if status == Status::Pass {
        return Outcome::pass(actual, required).evidences(ev).noted(notes);
    }
    Outcome::with_status(status, actual, required)
        .message(problems.join("; "))
        .evidences(ev)
        .noted(notes)
}
