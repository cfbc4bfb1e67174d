use crate::check::{CheckMeta, Evidence, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/network",
    title: "Networking on DHCP",
    what: "Reads every network configuration system the image may use (ifupdown /etc/network/interfaces with its sources, netplan with its files of /lib, /etc and /run merged as netplan merges them, systemd-networkd, ifcfg files of RHEL and SUSE, NetworkManager keyfiles, cloud-init) and looks for the primary interface (eth0, or a pattern matching it, or a bridge, bond or VLAN over it) on DHCP, brought up at boot. A netplan file that is not valid YAML fails: netplan then writes no configuration at all (cloud-init, which reads a broken file of its own as empty, is followed). Static addresses warn, and so does every configuration pinned to a MAC address: ifcfg HWADDR/MACADDR, netplan match: macaddress: (with or without set-name), NetworkManager keyfile mac-address=, systemd .network/.link [Match] MACAddress=, udev persistent-net rules and an enabled persistent-net generator. The current policy also reads the distribution's network files as LISA does (os-release decides the family): RHEL, CentOS, Oracle, Alma, Rocky and Fedora before 39 need /etc/sysconfig/network with NETWORKING=yes (any case) and /etc/sysconfig/network-scripts/ifcfg-eth0 containing DEVICE=eth0, BOOTPROTO=dhcp and ONBOOT=yes; Fedora 39 and later an eth0.nmconnection or cloud-init-eth0.nmconnection in /etc/NetworkManager/system-connections; SUSE /etc/sysconfig/network/dhcp with DHCLIENT_SET_HOSTNAME=\"no\"; Azure Linux / CBL-Mariner networkd.conf (/usr/lib/systemd from 4.0, else /etc/systemd) and `option host_name` in /etc/dhcpcd.conf (3.x and 4.x) or `host-name` in /etc/dhcp/dhclient.conf. A missing file or text fails, except an interface profile cloud-init writes at first boot when cloud-init configures the network.",
    why: "Azure gives each VM its address by DHCP; a static address or a MAC-pinned interface name from the build machine leaves the new VM without network, unreachable for provisioning and SSH.",
    remedy: "Configure eth0 for DHCP (`auto eth0` + `iface eth0 inet dhcp`, netplan `dhcp4: true`, ifcfg BOOTPROTO=dhcp ONBOOT=yes); delete HWADDR/MACADDR lines, netplan match: macaddress: (or the file cloud-init wrote, /etc/netplan/50-cloud-init.yaml), keyfile mac-address= lines, [Match] MACAddress= files and /etc/udev/rules.d/70-persistent-net.rules; mask the generator with `ln -s /dev/null /etc/udev/rules.d/75-persistent-net-generator.rules`; make every netplan file valid YAML (`netplan generate` names the line it cannot parse). For the current policy, on RHEL-family images put NETWORKING=yes in /etc/sysconfig/network and DEVICE=eth0, BOOTPROTO=dhcp, ONBOOT=yes in /etc/sysconfig/network-scripts/ifcfg-eth0 (Fedora 39 and later: an eth0 or cloud-init-eth0 NetworkManager profile); on SUSE DHCLIENT_SET_HOSTNAME=\"no\" in /etc/sysconfig/network/dhcp; on Azure Linux / CBL-Mariner keep networkd.conf and the DHCP client's host-name option.",
    sources: &["Azure Marketplace VM image guide: networking with DHCP, controllable by ifup/ifdown", "virt-sysprep operations net-hwaddr and udev-persistent-net", "LISA AzureImageStandard.verify_network_file_configuration", "LISA AzureImageStandard.verify_ifcfg_eth0", "LISA AzureImageStandard.verify_dhcp_file_configuration"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

/// The MAC pinning the check found, undone where it was found: netplan's `match: macaddress:`
/// (and a `set-name:` that needs it) removed with `netplan set`, ifcfg HWADDR=/MACADDR= and
/// keyfile mac-address= lines deleted, udev's persistent-net rules deleted and its generator
/// masked. A static address or a missing DHCP configuration is a choice of network design,
/// left to the remedy; so is a systemd-networkd `[Match] MACAddress=` (deleting the line would
/// make the file match every interface).
fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    use crate::fix::sh_quote;
    let mut sh = String::new();
    let mut seen: Vec<String> = Vec::new();
    for e in &r.evidence {
        let Some(path) = e.path.as_deref() else {
            continue;
        };
        let once = |what: &str, seen: &mut Vec<String>| {
            let key = format!("{what} {path}");
            let first = !seen.contains(&key);
            seen.push(key);
            first
        };
        if path.contains("/netplan/") {
            let Some((id, _)) = e.text.split_once(": match: macaddress:") else {
                continue;
            };
            if !once(id, &mut seen) {
                continue;
            }
            sh.push_str(&format!(
                r#"id={}
if ! command -v netplan >/dev/null 2>&1; then
    echo "vhdlint fix: netplan is not installed here: delete the match: macaddress: (and set-name:) of $id in {} by hand" >&2; exit 1
fi
if netplan get "ethernets.$id.match" | grep -q '^macaddress:'; then
    if netplan get "ethernets.$id.match" | grep -v '^macaddress:' | grep -q .; then
        netplan set "ethernets.$id.match.macaddress=null"
    else
        if [ "$(netplan get "ethernets.$id.set-name")" != null ]; then netplan set "ethernets.$id.set-name=null"; fi
        netplan set "ethernets.$id.match=null"
    fi
    say "netplan: $id no longer matches a MAC address (netplan set)"
fi
"#,
                sh_quote(id),
                crate::fix::comment(path).replace(['"', '$', '`', '\\'], "?"),
            ));
        } else if path.contains("/ifcfg-") && once("ifcfg", &mut seen) {
            sh.push_str(&format!(
                "f={}\nif [ -f \"$f\" ] && grep -Eq '^[[:space:]]*(HWADDR|MACADDR)=' \"$f\"; then\n    sed -i -E '/^[[:space:]]*(HWADDR|MACADDR)=/d' \"$f\"; say \"deleted the HWADDR/MACADDR lines of $f\"\nfi\n",
                sh_quote(path)
            ));
        } else if path.ends_with(".nmconnection") && once("keyfile", &mut seen) {
            sh.push_str(&format!(
                "f={}\nif [ -f \"$f\" ] && grep -Eq '^[[:space:]]*mac-address[[:space:]]*=' \"$f\"; then\n    sed -i -E '/^[[:space:]]*mac-address[[:space:]]*=/d' \"$f\"; say \"deleted the mac-address= lines of $f\"\nfi\n",
                sh_quote(path)
            ));
        } else if path.ends_with("/75-persistent-net-generator.rules")
            && once("generator", &mut seen)
        {
            sh.push_str("u=/etc/udev/rules.d/75-persistent-net-generator.rules\nif [ \"$(readlink \"$u\" 2>/dev/null)\" != /dev/null ]; then mkdir -p /etc/udev/rules.d; rm -f -- \"$u\"; ln -s /dev/null \"$u\"; say \"masked udev's persistent-net generator ($u)\"; fi\n");
        } else if path.ends_with("/70-persistent-net.rules") && once("rules", &mut seen) {
            sh.push_str(&crate::fix::delete_files_sh(&[path.to_string()]));
        }
    }
    (!sh.is_empty()).then(|| crate::fix::Block {
        changes: "removes the MAC pinning found: netplan match: macaddress: (netplan set), HWADDR/MACADDR and mac-address= lines, udev persistent-net rules and generator".into(),
        sh,
    })
}

/// The thresholds of this check: the `["linux/network"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// Whether the distribution's network files are judged as LISA's
    /// verify_network_file_configuration, verify_ifcfg_eth0 and
    /// verify_dhcp_file_configuration judge them (a missing file or setting fails).
    pub distribution_files: bool,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            distribution_files: false,
        }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            distribution_files: true,
        }
    }
}

/// The distribution families LISA tests network files of, as LISA tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Fedora and the Red Hat family (RHEL, CentOS, Oracle, Alma, Rocky): `new` for Fedora 39
    /// and later (NetworkManager profiles, no ifcfg files).
    Fedora {
        new: bool,
    },
    Suse,
    /// Azure Linux / CBL-Mariner, with its major version.
    Mariner {
        major: u64,
    },
}

fn family(os: &vhdlint_guest::linux::OsRelease) -> Option<Family> {
    let id = os.id.as_deref()?.to_ascii_lowercase();
    let major = || {
        os.version_id
            .as_deref()
            .and_then(|v| v.split('.').next())
            .and_then(|m| m.trim().parse::<u64>().ok())
    };
    match id.as_str() {
        "fedora" => Some(Family::Fedora {
            new: major().is_some_and(|m| m >= 39),
        }),
        "rhel" | "centos" | "ol" | "almalinux" | "rocky" | "scientific" => {
            Some(Family::Fedora { new: false })
        }
        "mariner" | "azurelinux" => Some(Family::Mariner {
            major: major().unwrap_or(0),
        }),
        i if i.starts_with("sles")
            || i.starts_with("sle-")
            || i.starts_with("sle_")
            || i.starts_with("opensuse")
            || i == "sl-micro" =>
        {
            Some(Family::Suse)
        }
        _ => None,
    }
}

/// One file LISA reads: where, and the texts it must contain (`upper`: compared upper-cased).
struct Wanted {
    path: &'static str,
    texts: &'static [&'static str],
    upper: bool,
    /// Written by cloud-init's network renderer at first boot when cloud-init configures
    /// the network, so its absence from the image is no failure then.
    first_boot: bool,
    test: &'static str,
}

/// What LISA wants of `family`'s network files; the paths where one of several will do come
/// as one entry per path with the same `test`, the first being the one named.
fn wanted(f: Family) -> Vec<Vec<Wanted>> {
    let one = |path, texts, upper, first_boot, test| {
        vec![Wanted {
            path,
            texts,
            upper,
            first_boot,
            test,
        }]
    };
    match f {
        Family::Fedora { new: false } => vec![
            one(
                "/etc/sysconfig/network",
                &["NETWORKING=YES"],
                true,
                false,
                "verify_network_file_configuration",
            ),
            one(
                "/etc/sysconfig/network-scripts/ifcfg-eth0",
                &["DEVICE=eth0", "BOOTPROTO=dhcp", "ONBOOT=yes"],
                false,
                true,
                "verify_ifcfg_eth0",
            ),
        ],
        Family::Fedora { new: true } => vec![[
            "/etc/NetworkManager/system-connections/eth0.nmconnection",
            "/etc/NetworkManager/system-connections/cloud-init-eth0.nmconnection",
        ]
        .into_iter()
        .map(|path| Wanted {
            path,
            texts: &[],
            upper: false,
            first_boot: true,
            test: "verify_network_file_configuration",
        })
        .collect()],
        Family::Suse => vec![one(
            "/etc/sysconfig/network/dhcp",
            &["DHCLIENT_SET_HOSTNAME=\"no\""],
            false,
            false,
            "verify_dhcp_file_configuration",
        )],
        Family::Mariner { major } => vec![
            one(
                if major >= 4 {
                    "/usr/lib/systemd/networkd.conf"
                } else {
                    "/etc/systemd/networkd.conf"
                },
                &[],
                false,
                false,
                "verify_network_file_configuration",
            ),
            if major == 3 || major == 4 {
                one(
                    "/etc/dhcpcd.conf",
                    &["option host_name"],
                    false,
                    false,
                    "verify_dhcp_file_configuration",
                )
            } else {
                one(
                    "/etc/dhcp/dhclient.conf",
                    &["host-name"],
                    false,
                    false,
                    "verify_dhcp_file_configuration",
                )
            },
        ],
    }
}

/// Judges the distribution's network files as LISA does: problems (each failing), evidence,
/// and what could not be read.
fn distribution_files(
    view: &vhdlint_guest::view::GuestView,
    cloud_init: Option<&str>,
    problems: &mut Vec<String>,
    ev: &mut Vec<Evidence>,
    notes: &mut Vec<crate::check::Note>,
) -> bool {
    let os = vhdlint_guest::linux::os_release(view);
    let Some(f) = family(&os) else {
        return true;
    };
    let mut ok = true;
    for alternatives in wanted(f) {
        let test = alternatives[0].test;
        let mut found = None;
        for w in &alternatives {
            if view.exists_noted(w.path, notes) {
                found = Some(w);
                break;
            }
        }
        let Some(w) = found else {
            let w = &alternatives[0];
            let names = alternatives
                .iter()
                .map(|a| a.path)
                .collect::<Vec<_>>()
                .join(" or ");
            match cloud_init {
                Some(ci) if w.first_boot => ev.push(Evidence::path(
                    ci.to_string(),
                    None,
                    format!("no {names}: cloud-init writes it at first boot (LISA {test})"),
                )),
                _ => {
                    ok = false;
                    problems.push(format!("no {names} (LISA {test})"));
                    ev.push(Evidence::path(w.path, None, "missing"));
                }
            }
            continue;
        };
        let text = if w.texts.is_empty() {
            String::new()
        } else {
            match view.read_config(w.path) {
                Ok(t) => t,
                Err(e) => {
                    notes.extend(crate::check::Note::from_fs_error(w.path, &e));
                    continue;
                }
            }
        };
        let seen = if w.upper { text.to_uppercase() } else { text };
        let missing: Vec<&str> = w
            .texts
            .iter()
            .copied()
            .filter(|t| !seen.contains(t))
            .collect();
        if missing.is_empty() {
            ev.push(Evidence::path(
                w.path,
                None,
                if w.texts.is_empty() {
                    format!("present (LISA {test})")
                } else {
                    format!("has {} (LISA {test})", w.texts.join(", "))
                },
            ));
        } else {
            ok = false;
            problems.push(format!(
                "{} lacks {} (LISA {test})",
                w.path,
                missing.join(", ")
            ));
            ev.push(Evidence::path(
                w.path,
                None,
                format!("no {}", missing.join(", ")),
            ));
        }
    }
    ok
}

/// Whether a configuration is for the primary NIC: its interface name (or pattern) covers it,
/// or it runs over it (a bridge or bond with it as a member, a VLAN on it).
fn on_primary(c: &vhdlint_guest::facts::NetConfig) -> bool {
    primary(&c.iface) || c.over.iter().any(|o| primary(o))
}

/// Whether an interface name (or pattern) covers the primary NIC.
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
        .filter(|c| c.dhcp4 && c.at_boot && on_primary(c))
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
    // netplan refuses the whole configuration over one file it cannot parse.
    for f in &net.netplan_invalid {
        status = Status::Fail;
        problems.push(format!(
            "netplan cannot parse {} (line {}), so it writes no network configuration at boot",
            f.path, f.line
        ));
        ev.push(Evidence::path(f.path.clone(), Some(f.line), f.text.clone()));
    }
    // Only configurations for the primary interface matter: systemd ships static ones for
    // container interfaces (ve-*, vz-*), for instance.
    for c in net.configs.iter().filter(|c| c.static_v4 && on_primary(c)) {
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
    let mut notes = net.notes.clone();
    if ctx.policy.linux_network.distribution_files
        && !distribution_files(
            &g.view,
            net.cloud_init.as_deref(),
            &mut problems,
            &mut ev,
            &mut notes,
        )
    {
        status = Status::Fail;
    }
    let actual = match dhcp.first() {
        Some(c) => format!("{} on DHCP ({})", c.iface, c.kind),
        None if net.cloud_init.is_some() => "cloud-init networking (DHCP)".to_string(),
        None => "no DHCP configuration".to_string(),
    };
    // A file not read (or read only in part) because of a bound could hold a static address
    // or a MAC pin, or the DHCP configuration itself.
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
    use crate::policy::Policy;
    use crate::testing::{
        assert_errors_without_a_linux_guest, run_linux, run_linux_with, said, MemFs,
    };

    const IFCFG: &str = "/etc/sysconfig/network-scripts/ifcfg-eth0";
    const IFCFG_DHCP: &str = "DEVICE=eth0\nONBOOT=yes\nBOOTPROTO=dhcp\nTYPE=Ethernet\nUSERCTL=no\nPEERDNS=yes\nIPV6INIT=no\n";

    /// A RHEL-family guest (`id`, `version`) with `files`.
    fn distro(id: &str, version: &str, files: &[(&str, &str)]) -> MemFs {
        let mut fs = MemFs::new();
        fs.file(
            "/etc/os-release",
            format!("NAME=\"x\"\nID=\"{id}\"\nVERSION_ID=\"{version}\"\n"),
        );
        for (p, t) in files {
            fs.file(p, *t);
        }
        fs
    }

    #[test]
    fn current_passes_a_rhel_image_with_lisas_network_files() {
        for id in ["rhel", "centos", "ol", "almalinux", "rocky"] {
            let fs = distro(
                id,
                "9.3",
                &[
                    ("/etc/sysconfig/network", "networking=yes\n"),
                    (IFCFG, IFCFG_DHCP),
                ],
            );
            let o = run_linux_with(fs, &Policy::current(), run);
            let s = said(&o);
            assert_eq!(o.status, Status::Pass, "{id}: {s}");
            assert!(s.contains("LISA verify_ifcfg_eth0"), "{s}");
        }
    }

    #[test]
    fn current_fails_a_rhel_image_without_them_and_the_guide_does_not_look() {
        for (files, said_) in [
            (
                vec![(IFCFG, IFCFG_DHCP)],
                "no /etc/sysconfig/network (LISA verify_network_file_configuration)",
            ),
            (
                vec![("/etc/sysconfig/network", "# Created by anaconda\n"), (IFCFG, IFCFG_DHCP)],
                "/etc/sysconfig/network lacks NETWORKING=YES (LISA verify_network_file_configuration)",
            ),
            (
                vec![
                    ("/etc/sysconfig/network", "NETWORKING=yes\n"),
                    (IFCFG, "DEVICE=\"eth0\"\nONBOOT=yes\nBOOTPROTO=dhcp\n"),
                ],
                "/etc/sysconfig/network-scripts/ifcfg-eth0 lacks DEVICE=eth0 (LISA verify_ifcfg_eth0)",
            ),
            (
                vec![("/etc/sysconfig/network", "NETWORKING=yes\n")],
                "no /etc/sysconfig/network-scripts/ifcfg-eth0 (LISA verify_ifcfg_eth0)",
            ),
        ] {
            let fs = distro("rhel", "8.10", &files);
            let o = run_linux_with(fs.clone(), &Policy::current(), run);
            let s = said(&o);
            assert_eq!(o.status, Status::Fail, "{said_}: {s}");
            assert!(o.message.contains(said_), "{said_}: {s}");
            let o = run_linux(fs, run);
            assert!(!o.message.contains("LISA"), "{}", said(&o));
        }
    }

    #[test]
    fn an_interface_profile_cloud_init_writes_at_first_boot_may_be_missing() {
        let mut fs = distro(
            "rhel",
            "9.4",
            &[("/etc/sysconfig/network", "NETWORKING=yes\n")],
        );
        fs.file("/etc/cloud/cloud.cfg", "datasource_list: [ Azure ]\n")
            .file("/usr/bin/cloud-init", "");
        let o = run_linux_with(fs, &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert!(s.contains("cloud-init writes it at first boot"), "{s}");
    }

    #[test]
    fn current_reads_fedora_39_and_later_suse_and_mariner_files() {
        let nm = "/etc/NetworkManager/system-connections/cloud-init-eth0.nmconnection";
        for (id, version, files, fails) in [
            (
                "fedora",
                "40",
                vec![(nm, "[connection]\nid=cloud-init eth0\n")],
                false,
            ),
            ("fedora", "40", vec![], true),
            ("fedora", "38", vec![(nm, "")], true),
            (
                "sles",
                "15.6",
                vec![(
                    "/etc/sysconfig/network/dhcp",
                    "DHCLIENT_SET_HOSTNAME=\"no\"\n",
                )],
                false,
            ),
            (
                "opensuse-leap",
                "15.6",
                vec![(
                    "/etc/sysconfig/network/dhcp",
                    "DHCLIENT_SET_HOSTNAME=\"yes\"\n",
                )],
                true,
            ),
            (
                "azurelinux",
                "3.0",
                vec![
                    ("/etc/systemd/networkd.conf", ""),
                    ("/etc/dhcpcd.conf", "option host_name\n"),
                ],
                false,
            ),
            (
                "azurelinux",
                "3.0",
                vec![
                    ("/etc/systemd/networkd.conf", ""),
                    ("/etc/dhcp/dhclient.conf", "send host-name\n"),
                ],
                true,
            ),
            (
                "mariner",
                "2.0",
                vec![
                    ("/etc/systemd/networkd.conf", ""),
                    (
                        "/etc/dhcp/dhclient.conf",
                        "send host-name = gethostname();\n",
                    ),
                ],
                false,
            ),
            ("debian", "12", vec![], false),
        ] {
            let o = run_linux_with(distro(id, version, &files), &Policy::current(), run);
            let s = said(&o);
            assert_eq!(
                o.status == Status::Fail,
                fails,
                "{id} {version} {files:?}: {s}"
            );
        }
    }

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

    /// cloud-init reads a configuration file that is not valid YAML as empty: its
    /// `network: {config: disabled}` does not count, and the file is named.
    #[test]
    fn cloud_init_ignores_a_file_that_is_not_yaml() {
        let mut fs = MemFs::new();
        fs.file("/usr/bin/cloud-init", "")
            .file("/etc/cloud/cloud.cfg", "users: [default]\n")
            .file(
                "/etc/cloud/cloud.cfg.d/99-off.cfg",
                "network: {config: disabled\nother: [\n",
            );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "cloud-init networking (DHCP)");
        assert!(
            s.contains("99-off.cfg") && s.contains("cloud-init ignores this file"),
            "{s}"
        );
    }

    /// netplan refuses every file over one it cannot parse: the DHCP of the valid one does not
    /// count, and the check fails at the broken line.
    #[test]
    fn fails_when_netplan_cannot_parse_a_file() {
        let o = run_linux(
            netplan(&[
                (
                    "/etc/netplan/01-dhcp.yaml",
                    "network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n",
                ),
                (
                    "/etc/netplan/90-broken.yaml",
                    "network:\n  ethernets:\n    eth1:\n      dhcp4: true\n     mtu: 1500\n",
                ),
            ]),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(
            s.contains("netplan cannot parse /etc/netplan/90-broken.yaml (line 5)"),
            "{s}"
        );
        assert!(
            s.contains("/etc/netplan/90-broken.yaml:5 not valid YAML"),
            "{s}"
        );
        assert!(!s.contains("eth0 on DHCP"), "{s}");
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

    fn netplan(files: &[(&str, &str)]) -> MemFs {
        let mut fs = MemFs::new();
        for (path, text) in files {
            fs.file(path, *text);
        }
        fs
    }

    /// What cloud-init writes on a first boot on Azure.
    const CLOUD_INIT_50: &str = "network:\n    ethernets:\n        eth0:\n            dhcp4: true\n            dhcp4-overrides:\n                route-metric: 100\n            dhcp6: false\n            match:\n                driver: hv_netvsc\n                macaddress: 00:0d:3a:12:34:56\n            set-name: eth0\n    version: 2\n";

    #[test]
    fn warns_on_a_netplan_definition_matched_by_mac_address_with_set_name() {
        let o = run_linux(
            netplan(&[("/etc/netplan/50-cloud-init.yaml", CLOUD_INIT_50)]),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "eth0 on DHCP (netplan)");
        assert_eq!(
            o.message,
            "/etc/netplan/50-cloud-init.yaml:10 pins the interface to a MAC address"
        );
        assert!(
            s.contains("/etc/netplan/50-cloud-init.yaml:10 eth0: match: macaddress: 00:0d:3a:12:34:56, set-name: eth0"),
            "{s}"
        );
    }

    #[test]
    fn warns_on_a_netplan_mac_match_without_set_name() {
        let o = run_linux(
            netplan(&[(
                "/etc/netplan/01.yaml",
                "network:\n  version: 2\n  ethernets:\n    nic:\n      match: {macaddress: \"00:15:5d:01:02:03\"}\n      dhcp4: yes\n",
            )]),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            s.contains("/etc/netplan/01.yaml:5 nic: match: macaddress: 00:15:5d:01:02:03"),
            "{s}"
        );
    }

    #[test]
    fn passes_with_a_netplan_driver_match_and_no_mac() {
        let o = run_linux(
            netplan(&[(
                "/etc/netplan/50.yaml",
                "network:\n  version: 2\n  ethernets:\n    eth0:\n      match: {driver: hv_netvsc, name: eth0}\n      dhcp4: on\n",
            )]),
            run,
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn passes_with_a_netplan_bridge_or_bond_on_dhcp_over_eth0() {
        for (kind, extra) in [
            ("bridges", ""),
            ("bonds", "      parameters: {mode: active-backup}\n"),
        ] {
            let yaml = format!("network:\n  version: 2\n  ethernets:\n    eth0: {{dhcp4: false}}\n  {kind}:\n    x0:\n      interfaces: [eth0]\n      dhcp4: true\n{extra}");
            let o = run_linux(netplan(&[("/etc/netplan/60.yaml", &yaml)]), run);
            let s = said(&o);
            assert_eq!(o.status, Status::Pass, "{kind}: {s}");
            assert_eq!(o.actual, "x0 on DHCP (netplan)", "{kind}");
        }
        // The same bridge over another interface is not the primary's DHCP.
        let o = run_linux(
            netplan(&[("/etc/netplan/60.yaml", "network:\n  ethernets:\n    eth1: {}\n  bridges:\n    x0: {interfaces: [eth1], dhcp4: true}\n")]),
            run,
        );
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn warns_on_a_static_vlan_over_eth0() {
        let o = run_linux(
            netplan(&[(
                "/etc/netplan/60.yaml",
                "network:\n  version: 2\n  ethernets:\n    eth0: {dhcp4: true}\n  vlans:\n    vlan10:\n      id: 10\n      link: eth0\n      addresses: [10.10.0.4/24]\n",
            )]),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "eth0 on DHCP (netplan)");
        assert_eq!(
            o.message,
            "vlan10 has a static address (/etc/netplan/60.yaml)"
        );
        assert!(
            s.contains("/etc/netplan/60.yaml:9 static: vlan10: dhcp4 false"),
            "{s}"
        );
    }

    #[test]
    fn netplan_files_merge_in_name_order_and_later_values_win() {
        // 90 turns DHCP off; the addresses of both files add up.
        let o = run_linux(
            netplan(&[
                ("/etc/netplan/10.yaml", "network:\n  ethernets:\n    eth0:\n      dhcp4: true\n"),
                ("/lib/netplan/90.yaml", "network:\n  ethernets:\n    eth0:\n      dhcp4: no\n      addresses: [10.0.0.4/24]\n"),
            ]),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "no DHCP configuration");
        assert!(
            s.contains("/lib/netplan/90.yaml:4 static: eth0: dhcp4 false"),
            "{s}"
        );
        // A file of /run shadows the same name in /etc.
        let o = run_linux(
            netplan(&[
                (
                    "/etc/netplan/50.yaml",
                    "network:\n  ethernets:\n    eth0:\n      addresses: [10.0.0.4/24]\n",
                ),
                (
                    "/run/netplan/50.yaml",
                    "network:\n  ethernets:\n    eth0:\n      dhcp4: true\n",
                ),
            ]),
            run,
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "eth0 on DHCP (netplan)");
    }

    #[test]
    fn warns_on_a_networkmanager_keyfile_pinned_to_a_mac_address() {
        for section in ["ethernet", "802-3-ethernet"] {
            let mut fs = interfaces(ETH0_DHCP);
            fs.file(
                "/etc/NetworkManager/system-connections/eth0.nmconnection",
                format!("[connection]\nid=eth0\ntype=ethernet\n\n[{section}]\nmac-address=00:15:5D:01:02:03\n\n[ipv4]\nmethod=auto\n"),
            );
            let o = run_linux(fs, run);
            let s = said(&o);
            assert_eq!(o.status, Status::Warning, "{section}: {s}");
            assert_eq!(
                o.message,
                "/etc/NetworkManager/system-connections/eth0.nmconnection:6 pins the interface to a MAC address"
            );
            assert!(
                s.contains(&format!("[{section}] mac-address=00:15:5D:01:02:03")),
                "{s}"
            );
        }
        // An empty mac-address= pins nothing.
        let mut fs = interfaces(ETH0_DHCP);
        fs.file(
            "/etc/NetworkManager/system-connections/eth0.nmconnection",
            "[ethernet]\nmac-address=\n[ipv4]\nmethod=auto\n",
        );
        assert_eq!(run_linux(fs, run).status, Status::Pass);
    }

    #[test]
    fn warns_on_systemd_network_and_link_files_matching_a_mac_address() {
        for (path, text, line) in [
            (
                "/etc/systemd/network/10-eth0.network",
                "[Match]\nMACAddress=00:15:5d:01:02:03\n\n[Network]\nDHCP=yes\n",
                2,
            ),
            (
                "/etc/systemd/network/10-eth0.link",
                "[Match]\nPermanentMACAddress=00:15:5d:01:02:03\n[Link]\nName=eth0\n",
                2,
            ),
            (
                "/usr/lib/systemd/network/10-lan.link",
                "# pinned\n[Match]\nMACAddress=00:15:5d:01:02:03\n[Link]\nName=lan0\n",
                3,
            ),
        ] {
            let mut fs = interfaces(ETH0_DHCP);
            fs.file(path, text);
            let o = run_linux(fs, run);
            let s = said(&o);
            assert_eq!(o.status, Status::Warning, "{path}: {s}");
            assert_eq!(
                o.message,
                format!("{path}:{line} pins the interface to a MAC address")
            );
        }
        // systemd's own 99-default.link matches by name: no pin.
        let mut fs = interfaces(ETH0_DHCP);
        fs.file(
            "/usr/lib/systemd/network/99-default.link",
            "[Match]\nOriginalName=*\n\n[Link]\nNamePolicy=keep kernel database onboard slot path\nMACAddressPolicy=persistent\n",
        );
        assert_eq!(run_linux(fs, run).status, Status::Pass);
    }

    const GENERATOR: &str = "# do not edit this file, it will be overwritten on update\nACTION!=\"add\", GOTO=\"persistent_net_generator_end\"\nSUBSYSTEM!=\"net\", GOTO=\"persistent_net_generator_end\"\n";

    #[test]
    fn warns_on_an_enabled_persistent_net_generator() {
        let mut fs = interfaces(ETH0_DHCP);
        fs.file(
            "/lib/udev/rules.d/75-persistent-net-generator.rules",
            GENERATOR,
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(
            o.message,
            "/lib/udev/rules.d/75-persistent-net-generator.rules:2 pins the interface to a MAC address"
        );
        assert!(
            s.contains("persistent-net generator enabled: ACTION!="),
            "{s}"
        );
    }

    #[test]
    fn a_masked_persistent_net_generator_pins_nothing() {
        for masked in [true, false] {
            let mut fs = interfaces(ETH0_DHCP);
            fs.file(
                "/lib/udev/rules.d/75-persistent-net-generator.rules",
                GENERATOR,
            );
            if masked {
                fs.link(
                    "/etc/udev/rules.d/75-persistent-net-generator.rules",
                    "/dev/null",
                );
            } else {
                fs.file(
                    "/etc/udev/rules.d/75-persistent-net-generator.rules",
                    "# emptied\n",
                );
            }
            let o = run_linux(fs, run);
            assert_eq!(
                o.status,
                Status::Pass,
                "masked by link: {masked}: {}",
                said(&o)
            );
        }
    }

    #[test]
    fn warns_on_a_macaddr_pin() {
        let mut fs = MemFs::new();
        fs.file(
            "/etc/sysconfig/network/ifcfg-eth0",
            "BOOTPROTO='dhcp'\nSTARTMODE='auto'\nMACADDR='00:15:5d:01:02:03'\n",
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(
            o.message,
            "/etc/sysconfig/network/ifcfg-eth0:3 pins the interface to a MAC address"
        );
    }

    #[test]
    fn error_when_the_udev_rules_cannot_be_listed() {
        // A persistent-net rule pinning eth0 to a MAC address may be there (the generator is
        // masked, so only the listing looks into /lib/udev/rules.d).
        let mut fs = interfaces(ETH0_DHCP);
        fs.link(
            "/etc/udev/rules.d/75-persistent-net-generator.rules",
            "/dev/null",
        )
        .broken_dir(
            "/lib/udev/rules.d",
            vhdlint_guest::fs::FsError::Corrupt("/lib/udev/rules.d: bad block".into()),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/lib/udev/rules.d: bad block"), "{s}");
    }
}
