use vhdlint_guest::facts::{enabled_unit, masked_unit};

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/network-manager",
    title: "NetworkManager disabled",
    what: "guide: looks for NetworkManager enabled at boot (a *.wants/ link to NetworkManager.service, not masked); CentOS/RHEL 7 family images are exempt, where it should stay enabled.",
    why: "The guide asks that networking be controllable with ifup/ifdown; NetworkManager can conflict with the Azure Linux Agent's handling of the network on older distributions.",
    remedy: "systemctl disable NetworkManager (and configure eth0 with ifupdown, netplan/networkd or ifcfg on DHCP).",
    sources: &["Azure Marketplace VM image guide: NetworkManager should be disabled (except CentOS/RHEL 7)"],
    profiles: &[Profile::LinuxOs],
    policies: &[crate::policy::GUIDE],
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

/// NetworkManager disabled, but only where something else brings eth0 up on DHCP at boot:
/// ifupdown (`iface eth0 inet dhcp` and ifup installed) or systemd-networkd (enabled, with a
/// .network file that turns DHCP on, or netplan files with DHCP and no NetworkManager
/// renderer, which netplan renders for networkd at boot). Anywhere else
/// disabling it would leave the VM without network: the block says so and changes nothing.
fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    let link = r
        .evidence
        .iter()
        .filter_map(|e| e.path.as_deref())
        .find(|p| p.ends_with("/NetworkManager.service"))?;
    Some(crate::fix::Block {
        changes: "disables NetworkManager where ifupdown or systemd-networkd already brings eth0 up on DHCP (otherwise leaves it, saying why)".into(),
        sh: format!(
            r#"link={}
if [ -L "$link" ] || [ -e "$link" ]; then
    other=
    if command -v ifup >/dev/null 2>&1 && cat /etc/network/interfaces /etc/network/interfaces.d/* 2>/dev/null | grep -Eq '^[[:space:]]*iface[[:space:]]+eth0[[:space:]]+inet[[:space:]]+dhcp'; then
        other=ifupdown
    elif ls /etc/systemd/system/*.wants/systemd-networkd.service >/dev/null 2>&1; then
        if cat /etc/systemd/network/*.network 2>/dev/null | grep -Eqi '^[[:space:]]*DHCP[[:space:]]*=[[:space:]]*(yes|true|ipv4|1)'; then
            other=systemd-networkd
        elif ls /etc/netplan/*.yaml >/dev/null 2>&1 && ! cat /etc/netplan/*.yaml | grep -Eq 'renderer:[[:space:]]*NetworkManager' && cat /etc/netplan/*.yaml | grep -Eq 'dhcp4:[[:space:]]*(true|yes|on)'; then
            other="netplan with systemd-networkd"
        fi
    fi
    if [ -n "$other" ]; then
        if command -v systemctl >/dev/null 2>&1; then
            systemctl disable NetworkManager.service NetworkManager-wait-online.service NetworkManager-dispatcher.service >/dev/null 2>&1 || true
        fi
        rm -f -- "$link" /etc/systemd/system/*.wants/NetworkManager-wait-online.service /etc/systemd/system/dbus-org.freedesktop.nm-dispatcher.service
        say "disabled NetworkManager ($other brings eth0 up on DHCP)"
    else
        echo "vhdlint fix: NetworkManager left enabled: nothing else here brings eth0 up on DHCP (configure ifupdown or systemd-networkd first)" >&2
    fi
fi
"#,
            crate::fix::sh_quote(link)
        ),
    })
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let required = "NetworkManager not enabled (CentOS/RHEL 7: enabled)";
    let unit = "NetworkManager.service";
    // A mask or a *.wants/ directory that could not be read is not taken for absent.
    let (mut mask_notes, mut link_notes) = (Vec::new(), Vec::new());
    let link = (!masked_unit(&g.view, unit, &mut mask_notes))
        .then(|| enabled_unit(&g.view, unit, &mut link_notes))
        .flatten();
    let Some(link) = link else {
        // Not enabled whether masked or not: only where a link could be matters.
        return Outcome::pass("not enabled", required)
            .noted(link_notes)
            .aside(mask_notes);
    };
    let os = &g.os;
    let rhel7 = os
        .version_id
        .as_deref()
        .is_some_and(|v| v == "7" || v.starts_with("7."))
        && (matches!(
            os.id.as_deref(),
            Some("rhel" | "centos" | "ol" | "oracle" | "scientific")
        ) || os.id_like.iter().any(|l| l == "rhel" || l == "fedora"));
    let ev = Evidence::path(link, None, "NetworkManager.service enabled");
    if rhel7 {
        return Outcome::pass("enabled (CentOS/RHEL 7 family: expected)", required)
            .evidence(ev)
            .noted(mask_notes);
    }
    Outcome::warning("enabled", required)
        .message(format!(
            "NetworkManager is enabled on {}",
            os.pretty_name
                .as_deref()
                .or(os.id.as_deref())
                .unwrap_or("this distribution")
        ))
        .evidence(ev)
        .noted(mask_notes)
}

#[cfg(test)]
mod tests {
    use vhdlint_guest::linux::OsRelease;

    use super::run;
    use crate::check::Status;
    use crate::policy::Policy;
    use crate::testing::{
        assert_errors_without_a_linux_guest, run_linux, run_linux_os, run_no_linux_guest, said,
        MemFs,
    };

    const WANTS: &str = "/etc/systemd/system/multi-user.target.wants/NetworkManager.service";

    fn enabled() -> MemFs {
        let mut fs = MemFs::new();
        fs.link(WANTS, "/usr/lib/systemd/system/NetworkManager.service");
        fs
    }

    fn os(id: Option<&str>, version: Option<&str>, like: &[&str]) -> OsRelease {
        OsRelease {
            id: id.map(str::to_string),
            version_id: version.map(str::to_string),
            id_like: like.iter().map(|s| s.to_string()).collect(),
            ..OsRelease::default()
        }
    }

    fn on(os: OsRelease) -> crate::check::Outcome {
        run_linux_os(enabled(), os, &Policy::guide(), run)
    }

    #[test]
    fn skipped_when_the_policy_does_not_ask_for_it() {
        let o = run_no_linux_guest(Vec::new(), &Policy::current(), run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        assert!(o.message.contains("current"), "{}", said(&o));
    }

    #[test]
    fn error_without_a_linux_guest() {
        assert_errors_without_a_linux_guest(run);
    }

    #[test]
    fn passes_when_not_enabled() {
        let o = run_linux(MemFs::new(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "not enabled");
    }

    #[test]
    fn passes_when_enabled_but_masked() {
        let mut fs = enabled();
        fs.link("/etc/systemd/system/NetworkManager.service", "/dev/null");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "not enabled");
    }

    #[test]
    fn warns_when_enabled_and_names_the_distribution() {
        let o = on(OsRelease {
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
            ..os(Some("debian"), Some("12"), &[])
        });
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "enabled");
        assert_eq!(
            o.message,
            "NetworkManager is enabled on Debian GNU/Linux 12 (bookworm)"
        );
        assert!(s.contains(WANTS), "{s}");
    }

    #[test]
    fn warns_naming_the_id_without_a_pretty_name() {
        let o = on(os(Some("fedora"), Some("39"), &[]));
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.message, "NetworkManager is enabled on fedora");
    }

    #[test]
    fn warns_on_an_unknown_distribution() {
        let o = run_linux(enabled(), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.message, "NetworkManager is enabled on this distribution");
    }

    #[test]
    fn passes_when_enabled_on_rhel_7() {
        let o = on(os(Some("rhel"), Some("7"), &[]));
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "enabled (CentOS/RHEL 7 family: expected)");
        assert!(s.contains(WANTS), "{s}");
    }

    #[test]
    fn passes_when_enabled_on_centos_7_point_release() {
        let o = on(os(Some("centos"), Some("7.9.2009"), &[]));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "enabled (CentOS/RHEL 7 family: expected)");
    }

    #[test]
    fn passes_on_each_rhel_7_family_id() {
        for id in ["ol", "oracle", "scientific"] {
            let o = on(os(Some(id), Some("7.6"), &[]));
            assert_eq!(o.status, Status::Pass, "{id}: {}", said(&o));
        }
    }

    #[test]
    fn passes_on_a_rhel_like_7() {
        for like in ["rhel", "fedora"] {
            let o = on(os(Some("derived"), Some("7"), &["centos", like]));
            assert_eq!(o.status, Status::Pass, "{like}: {}", said(&o));
        }
    }

    #[test]
    fn warns_on_rhel_8() {
        let o = on(os(Some("rhel"), Some("8.9"), &["fedora"]));
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn warns_on_a_version_that_only_begins_with_7() {
        let o = on(os(Some("centos"), Some("70"), &[]));
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn warns_on_rhel_without_a_version() {
        let o = on(os(Some("rhel"), None, &[]));
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn warns_on_version_7_of_another_family() {
        let o = on(os(Some("debian"), Some("7"), &["suse"]));
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn error_when_where_a_link_would_be_cannot_be_read() {
        let mut fs = MemFs::new();
        fs.broken_dir(
            "/etc/systemd/system",
            vhdlint_guest::fs::FsError::Corrupt("/etc/systemd/system: bad block".into()),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/etc/systemd/system: bad block"), "{s}");
    }

    #[test]
    fn error_when_an_enabled_unit_may_be_masked() {
        // Enabled from /usr/lib, but the mask in /etc/systemd/system cannot be looked up.
        let mut fs = MemFs::new();
        fs.link(
            "/usr/lib/systemd/system/multi-user.target.wants/NetworkManager.service",
            "../NetworkManager.service",
        )
        .broken_dir(
            "/etc/systemd/system",
            vhdlint_guest::fs::FsError::Io("/etc/systemd/system: read error".into()),
        );
        let o = run_linux_os(
            fs,
            os(Some("centos"), Some("7"), &[]),
            &Policy::guide(),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/etc/systemd/system: read error"), "{s}");
    }
}
