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
};

pub fn run(ctx: &Context) -> Outcome {
    if !ctx.policy.network_manager_check {
        return Outcome::skipped(format!(
            "not part of the {} policy (the guide asks for it)",
            ctx.policy.name
        ));
    }
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let required = "NetworkManager not enabled (CentOS/RHEL 7: enabled)";
    let unit = "NetworkManager.service";
    let link = (!masked_unit(&g.view, unit))
        .then(|| enabled_unit(&g.view, unit))
        .flatten();
    let Some(link) = link else {
        return Outcome::pass("not enabled", required);
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
        return Outcome::pass("enabled (CentOS/RHEL 7 family: expected)", required).evidence(ev);
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
}
