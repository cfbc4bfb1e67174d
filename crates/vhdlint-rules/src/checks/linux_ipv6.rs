use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/ipv6",
    title: "No static IPv6",
    what: "guide: looks for network configuration that enables static IPv6: ifcfg IPV6INIT=yes with IPV6ADDR (or autoconf off), `iface … inet6 static`, IPv6 addresses in netplan or systemd-networkd, NetworkManager `method=manual` for IPv6.",
    why: "The guide states IPv6 is not supported for Marketplace images; a static IPv6 configuration from the build network does not work on Azure's virtual network.",
    remedy: "Remove the static IPv6 configuration (IPV6INIT=no, drop `inet6 static` stanzas and IPv6 addresses).",
    sources: &["Azure Marketplace VM image guide: IPv6 is not supported"],
    profiles: &[Profile::LinuxOs],
    policies: &[crate::policy::GUIDE],
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(
    "a static IPv6 address is network design: removing it may need another configuration in its place, which only the publisher knows",
);

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let net = g.facts.network(&g.view);
    let found: Vec<_> = net.configs.iter().filter(|c| c.static_v6).collect();
    let required = "no static IPv6 configuration";
    // A file not read because of a bound could hold a static IPv6 address.
    let notes = net.notes.clone();
    if found.is_empty() {
        return Outcome::pass("no static IPv6", required).noted(notes);
    }
    let out = Outcome::warning(
        format!(
            "static IPv6 on {}",
            found
                .iter()
                .map(|c| c.iface.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        required,
    )
    .message("static IPv6 is configured; the guide says IPv6 is not supported")
    .evidences(found.iter().map(|c| {
        Evidence::path(
            c.path.clone(),
            Some(c.line),
            format!("{} ({})", c.text, c.kind),
        )
    }));
    out.noted(notes)
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::check::Status;
    use crate::policy::Policy;
    use crate::testing::{run_linux, run_linux_with, run_no_linux, run_no_linux_with, said, MemFs};
    use vhdlint_guest::limits::MAX_CONFIG_BYTES;

    /// A guest whose /etc/network/interfaces is `text`.
    fn interfaces(text: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file("/etc/network/interfaces", text);
        fs
    }

    #[test]
    fn skipped_in_current() {
        let o = run_linux_with(
            interfaces("auto eth0\niface eth0 inet6 static\n  address 2001:db8::2/64\n"),
            &Policy::current(),
            run,
        );
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        assert!(
            o.message.contains("not part of the current policy"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn skipped_in_current_even_without_a_linux_guest() {
        let o = run_no_linux_with(&Policy::current(), run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }

    #[test]
    fn error_without_a_linux_guest() {
        let o = run_no_linux(run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.contains("no Linux filesystem"), "{}", said(&o));
    }

    #[test]
    fn passes_without_network_configuration() {
        let o = run_linux(MemFs::new(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "no static IPv6");
    }

    #[test]
    fn passes_with_dhcp_and_ipv6_autoconfiguration() {
        let o = run_linux(
            interfaces("auto eth0\niface eth0 inet dhcp\niface eth0 inet6 auto\n"),
            run,
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn warns_on_static_ipv6() {
        let o = run_linux(
            interfaces("auto eth0\niface eth0 inet dhcp\niface eth0 inet6 static\n  address 2001:db8::2/64\n"),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "static IPv6 on eth0");
        assert!(
            s.contains("/etc/network/interfaces:3 iface eth0 inet6 static (ifupdown)"),
            "{s}"
        );
    }

    #[test]
    fn names_every_interface_with_static_ipv6() {
        let mut fs = interfaces("iface eth0 inet6 static\n  address 2001:db8::2/64\n");
        fs.file(
            "/etc/netplan/50-cloud-init.yaml",
            "network:\n  version: 2\n  ethernets:\n    eth1:\n      addresses: [\"2001:db8::3/64\"]\n",
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "static IPv6 on eth0, eth1");
        assert_eq!(o.evidence.len(), 2, "{s}");
        assert!(s.contains("/etc/netplan/50-cloud-init.yaml:4"), "{s}");
        assert!(s.contains("(netplan)"), "{s}");
    }

    #[test]
    fn a_netplan_file_not_read_because_of_a_bound_is_not_a_pass() {
        let mut fs = MemFs::new();
        fs.repeat(
            "/etc/netplan/50-cloud-init.yaml",
            b'#',
            MAX_CONFIG_BYTES + 1,
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.evidence
                .iter()
                .any(|e| e.text.contains("/etc/netplan/50-cloud-init.yaml")),
            "{s}"
        );
    }
}
