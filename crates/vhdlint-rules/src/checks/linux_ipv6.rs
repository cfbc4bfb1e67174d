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
};

pub fn run(ctx: &Context) -> Outcome {
    if !ctx.policy.ipv6_check {
        return Outcome::skipped(format!(
            "not part of the {} policy (the guide asks for it)",
            ctx.policy.name
        ));
    }
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
