use vhdlint_guest::facts::enabled_unit;
use vhdlint_guest::view::GuestView;

use crate::check::{CheckMeta, Evidence, Note, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/firewall",
    title: "iptables present, no rules at boot",
    what: "Looks for iptables or nft, and for firewall rules that would load at boot: iptables-persistent's /etc/iptables/rules.v4|v6 and RHEL's /etc/sysconfig/iptables with -A lines, an enabled firewalld, ufw with ENABLED=yes, an enabled nftables.service whose /etc/nftables.conf has rules.",
    why: "The guide asks that iptables be present (the agent and extensions use it) but that no rules be enabled: rules from the build environment can block SSH or the Azure fabric on every VM.",
    remedy: "Keep iptables installed; remove rules that load at boot (empty /etc/iptables/rules.v4, systemctl disable firewalld / ufw disable / systemctl disable nftables).",
    sources: &["Azure Marketplace VM image guide: iptables installed, no rules enabled"],
    profiles: &[Profile::LinuxOs],
};

/// The first rules of `path`; a file a bound kept from being read is noted in `notes`.
fn rule_lines(
    view: &GuestView,
    path: &str,
    is_rule: impl Fn(&str) -> bool,
    notes: &mut Vec<Note>,
) -> Vec<Evidence> {
    view.read_noted(path, notes)
        .map(|t| {
            t.lines()
                .enumerate()
                .filter(|(_, l)| is_rule(l.trim()))
                .take(10)
                .map(|(i, l)| Evidence::path(path, Some(i + 1), l.trim()))
                .collect()
        })
        .unwrap_or_default()
}

/// Lines of an nftables script that are rules: inside a chain, not its `type … hook`/`policy`
/// header, not braces or comments.
fn nft_rule(l: &str) -> bool {
    !(l.is_empty()
        || l.starts_with('#')
        || l.starts_with("table")
        || l.starts_with("chain")
        || l.starts_with("type ")
        || l.starts_with("policy")
        || l.starts_with("flush")
        || l.starts_with("include")
        || l.starts_with("define")
        || l.starts_with('}')
        || l.starts_with("#!"))
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let v = &g.view;
    let required = "iptables installed, no firewall rules loaded at boot";
    let mut status = Status::Pass;
    let mut problems = Vec::new();
    let mut ev = Vec::new();
    // Files a bound kept from being read: rules there would not be seen.
    let mut notes = Vec::new();
    let tool = [
        "/usr/sbin/iptables",
        "/sbin/iptables",
        "/usr/sbin/nft",
        "/sbin/nft",
    ]
    .into_iter()
    .find(|p| v.symlink_metadata(p).is_ok());
    if tool.is_none() {
        status = Status::Warning;
        problems.push("neither iptables nor nft is installed".to_string());
        ev.push(Evidence::note(
            "looked for /usr/sbin/iptables, /sbin/iptables, /usr/sbin/nft, /sbin/nft",
        ));
    }
    for path in [
        "/etc/iptables/rules.v4",
        "/etc/iptables/rules.v6",
        "/etc/sysconfig/iptables",
        "/etc/sysconfig/ip6tables",
    ] {
        let lines = rule_lines(
            v,
            path,
            |l| l.starts_with("-A ") || l.starts_with("-I "),
            &mut notes,
        );
        if !lines.is_empty() {
            status = Status::Warning;
            problems.push(format!("{path} holds rules"));
            ev.extend(lines);
        }
    }
    if let Some(l) = enabled_unit(v, "firewalld.service") {
        status = Status::Warning;
        problems.push("firewalld is enabled".into());
        ev.push(Evidence::path(l, None, "firewalld.service enabled"));
    }
    if let Some(t) = v.read_noted("/etc/ufw/ufw.conf", &mut notes) {
        if let Some((i, l)) = t.lines().enumerate().find(|(_, l)| {
            l.trim()
                .replace(' ', "")
                .eq_ignore_ascii_case("enabled=yes")
        }) {
            status = Status::Warning;
            problems.push("ufw is enabled".into());
            ev.push(Evidence::path("/etc/ufw/ufw.conf", Some(i + 1), l.trim()));
        }
    }
    if let Some(l) = enabled_unit(v, "nftables.service") {
        let rules = rule_lines(v, "/etc/nftables.conf", nft_rule, &mut notes);
        if !rules.is_empty() {
            status = Status::Warning;
            problems.push("nftables is enabled and /etc/nftables.conf has rules".into());
            ev.push(Evidence::path(l, None, "nftables.service enabled"));
            ev.extend(rules);
        }
    }
    if status == Status::Pass {
        return Outcome::pass(
            format!("{} present, no rules at boot", tool.unwrap_or("iptables")),
            required,
        )
        .noted(notes);
    }
    let out = Outcome::with_status(status, problems.join("; "), required)
        .message(problems.join("; "))
        .evidences(ev);
    out.noted(notes)
}
