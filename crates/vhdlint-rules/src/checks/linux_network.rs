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
    policies: crate::policy::ALL,
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

#[cfg(test)]
mod tests {
    use super::run;
    use crate::check::Status;
    use crate::testing::{assert_errors_without_a_linux_guest, run_linux, said, MemFs};

    fn interfaces(text: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file("/etc/network/interfaces", text);
        fs
    }

    const ETH0_DHCP: &str = "auto lo\niface lo inet loopback\nauto eth0\niface eth0 inet dhcp\n";

    #[test]
    fn error_without_a_linux_guest() {
        assert_errors_without_a_linux_guest(run);
    }

    #[test]
    fn passes_with_eth0_on_dhcp_at_boot() {
        let o = run_linux(interfaces(ETH0_DHCP), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "eth0 on DHCP (ifupdown)");
        assert!(
            s.contains("/etc/network/interfaces:4 eth0 (ifupdown)"),
            "{s}"
        );
    }

    #[test]
    fn warns_when_dhcp_is_not_brought_up_at_boot() {
        let o = run_linux(interfaces("iface eth0 inet dhcp\n"), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "no DHCP configuration");
        assert!(
            o.message
                .contains("no configuration brings eth0 up with DHCP at boot"),
            "{s}"
        );
        assert!(
            s.contains("/etc/network/interfaces:1 eth0 (ifupdown)"),
            "{s}"
        );
    }

    #[test]
    fn warns_when_dhcp_is_only_on_another_interface() {
        let o = run_linux(interfaces("auto eth1\niface eth1 inet dhcp\n"), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "no DHCP configuration");
        assert!(s.contains("eth1 (ifupdown)"), "{s}");
    }

    #[test]
    fn warns_when_the_primary_interface_is_not_on_dhcp() {
        // A static stanza: no DHCP anywhere, and a static address on eth0.
        let o = run_linux(
            interfaces("auto eth0\niface eth0 inet static\n  address 10.0.0.4/24\n"),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "no DHCP configuration");
        assert!(o.message.contains("no configuration brings eth0 up"), "{s}");
        assert!(
            o.message
                .contains("eth0 has a static address (/etc/network/interfaces)"),
            "{s}"
        );
        assert!(s.contains("/etc/network/interfaces:2 static: "), "{s}");
    }

    #[test]
    fn warns_and_says_where_it_looked_without_any_configuration() {
        let o = run_linux(MemFs::new(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "no DHCP configuration");
        assert_eq!(o.evidence.len(), 1, "{s}");
        assert!(
            o.evidence[0]
                .text
                .contains("looked at /etc/network/interfaces"),
            "{s}"
        );
    }

    #[test]
    fn lists_a_configuration_without_dhcp_text_as_no_dhcp() {
        // An ifcfg file without BOOTPROTO has no text to show.
        let mut fs = MemFs::new();
        fs.file(
            "/etc/sysconfig/network-scripts/ifcfg-eth0",
            "DEVICE=eth0\nONBOOT=yes\n",
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            s.contains("/etc/sysconfig/network-scripts/ifcfg-eth0:1 eth0 (ifcfg): no DHCP"),
            "{s}"
        );
        assert!(!s.contains("looked at"), "{s}");
    }

    #[test]
    fn passes_with_cloud_init_networking() {
        let mut fs = MemFs::new();
        fs.file("/usr/bin/cloud-init", "")
            .file("/etc/cloud/cloud.cfg", "users: [default]\n");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "cloud-init networking (DHCP)");
        assert!(
            s.contains("/etc/cloud/cloud.cfg cloud-init configures DHCP on the primary interface"),
            "{s}"
        );
    }

    #[test]
    fn a_dhcp_configuration_is_named_before_cloud_init() {
        let mut fs = interfaces(ETH0_DHCP);
        fs.file("/usr/bin/cloud-init", "")
            .file("/etc/cloud/cloud.cfg", "users: [default]\n");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "eth0 on DHCP (ifupdown)");
        assert!(!s.contains("cloud-init configures"), "{s}");
    }

    #[test]
    fn passes_with_a_networkd_file_for_every_interface() {
        let mut fs = MemFs::new();
        fs.file(
            "/etc/systemd/network/99-dhcp.network",
            "[Network]\nDHCP=yes\n",
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "* on DHCP (networkd)");
    }

    #[test]
    fn passes_with_a_name_pattern_among_several() {
        let mut fs = MemFs::new();
        fs.file(
            "/etc/systemd/network/10-eth.network",
            "[Match]\nName=wlan0 eth*\n\n[Network]\nDHCP=ipv4\n",
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "wlan0 eth* on DHCP (networkd)");
    }

    #[test]
    fn passes_with_a_predictable_en_name() {
        let o = run_linux(interfaces("auto ens3\niface ens3 inet dhcp\n"), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "ens3 on DHCP (ifupdown)");
    }

    #[test]
    fn passes_with_the_id0_netplan_name() {
        let mut fs = MemFs::new();
        fs.file(
            "/etc/netplan/50.yaml",
            "network:\n  version: 2\n  ethernets:\n    id0:\n      dhcp4: true\n",
        );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "id0 on DHCP (netplan)");
    }

    #[test]
    fn warns_on_a_static_address_beside_dhcp() {
        let mut fs = interfaces(ETH0_DHCP);
        fs.file(
            "/etc/sysconfig/network-scripts/ifcfg-eth0",
            "DEVICE=eth0\nBOOTPROTO=static\nIPADDR=10.0.0.4\nONBOOT=yes\n",
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "eth0 on DHCP (ifupdown)");
        assert_eq!(
            o.message,
            "eth0 has a static address (/etc/sysconfig/network-scripts/ifcfg-eth0)"
        );
        assert!(
            s.contains("/etc/sysconfig/network-scripts/ifcfg-eth0:2 static: BOOTPROTO=static"),
            "{s}"
        );
    }

    #[test]
    fn ignores_a_static_address_on_another_interface() {
        let mut fs = interfaces(ETH0_DHCP);
        fs.file(
            "/usr/lib/systemd/network/80-container-ve.network",
            "[Match]\nName=ve-*\n\n[Network]\nAddress=0.0.0.0/28\n",
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert!(!s.contains("static"), "{s}");
    }

    #[test]
    fn warns_on_a_hwaddr_pin() {
        let mut fs = MemFs::new();
        fs.file(
            "/etc/sysconfig/network-scripts/ifcfg-eth0",
            "DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=yes\nHWADDR=00:15:5d:01:02:03\n",
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "eth0 on DHCP (ifcfg)");
        assert_eq!(
            o.message,
            "/etc/sysconfig/network-scripts/ifcfg-eth0:4 pins the interface to a MAC address"
        );
        assert!(
            s.contains("/etc/sysconfig/network-scripts/ifcfg-eth0:4 HWADDR=00:15:5d:01:02:03"),
            "{s}"
        );
    }

    #[test]
    fn warns_on_udev_persistent_net_rules() {
        let mut fs = interfaces(ETH0_DHCP);
        fs.file(
            "/etc/udev/rules.d/70-persistent-net.rules",
            "# generated\nSUBSYSTEM==\"net\", ATTR{address}==\"00:15:5d:01:02:03\", NAME=\"eth0\"\n",
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(
            o.message,
            "/etc/udev/rules.d/70-persistent-net.rules:2 pins the interface to a MAC address"
        );
    }
}
