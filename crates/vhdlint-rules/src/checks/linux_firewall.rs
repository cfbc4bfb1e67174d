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
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

/// The rules that load at boot turned off where they were found: firewalld and nftables
/// disabled (systemctl where the root has it, else the links that enable them deleted), ufw's
/// ENABLED set to no, the iptables rule files emptied (a comment kept). A missing iptables is a
/// package to install, left to the remedy.
fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    use crate::fix::sh_quote;
    let mut sh = String::new();
    let mut emptied: Vec<&str> = Vec::new();
    for e in &r.evidence {
        let Some(path) = e.path.as_deref() else {
            continue;
        };
        if let Some(unit) = e.text.strip_suffix(" enabled") {
            if unit != "firewalld.service" && unit != "nftables.service" {
                continue;
            }
            sh.push_str(&format!(
                "u={}; l={}\nif [ -L \"$l\" ] || [ -e \"$l\" ]; then\n    if command -v systemctl >/dev/null 2>&1; then systemctl disable \"$u\" 2>/dev/null || true; fi\n    rm -f -- \"$l\"\n    say \"disabled $u\"\nfi\n",
                sh_quote(unit),
                sh_quote(path)
            ));
        } else if path == "/etc/ufw/ufw.conf" {
            sh.push_str("f=/etc/ufw/ufw.conf\nif grep -Eq '^[[:space:]]*ENABLED[[:space:]]*=[[:space:]]*[\"'\\'']?yes' \"$f\"; then\n    sed -i -E 's/^([[:space:]]*)ENABLED[[:space:]]*=.*/\\1ENABLED=no/' \"$f\"; say \"set ENABLED=no in $f (ufw stays installed, off at boot)\"\nfi\n");
        } else if (path.starts_with("/etc/iptables/") || path.starts_with("/etc/sysconfig/ip"))
            && !emptied.contains(&path)
        {
            emptied.push(path);
            sh.push_str(&format!(
                "f={}\nif grep -Eq '^[[:space:]]*-[AI] ' \"$f\"; then\n    printf '# rules removed before capture (vhdlint fix)\\n' >\"$f\"; say \"emptied $f\"\nfi\n",
                sh_quote(path)
            ));
        }
    }
    (!sh.is_empty()).then(|| crate::fix::Block {
        changes: "turns off the firewall rules that load at boot: disables firewalld/nftables, ufw ENABLED=no, empties the iptables rule files".into(),
        sh,
    })
}

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
    // Files a bound kept from being read, and files or directories that could not be read or
    // looked up: rules there, or a unit enabled there, would not be seen.
    let mut notes = Vec::new();
    let mut tool_notes = Vec::new();
    let tool = [
        "/usr/sbin/iptables",
        "/sbin/iptables",
        "/usr/sbin/nft",
        "/sbin/nft",
    ]
    .into_iter()
    .find(|p| {
        v.symlink_metadata(p)
            .map_err(|e| tool_notes.extend(Note::from_fs_error(p, &e)))
            .is_ok()
    });
    if tool.is_none() {
        // Where a tool could have been but could not be looked up.
        notes.append(&mut tool_notes);
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
    if let Some(l) = enabled_unit(v, "firewalld.service", &mut notes) {
        status = Status::Warning;
        problems.push("firewalld is enabled".into());
        ev.push(Evidence::path(l, None, "firewalld.service enabled"));
    }
    if let Some(t) = v.read_noted("/etc/ufw/ufw.conf", &mut notes) {
        if let Some((i, l)) = t.lines().enumerate().find(|(_, l)| {
            // ENABLED=yes, as ufw writes it; spaces and shell quotes as a hand edit leaves them.
            l.trim()
                .replace([' ', '"', '\''], "")
                .eq_ignore_ascii_case("enabled=yes")
        }) {
            status = Status::Warning;
            problems.push("ufw is enabled".into());
            ev.push(Evidence::path("/etc/ufw/ufw.conf", Some(i + 1), l.trim()));
        }
    }
    if let Some(l) = enabled_unit(v, "nftables.service", &mut notes) {
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

#[cfg(test)]
mod tests {
    use super::run;
    use crate::check::Status;
    use crate::testing::{run_linux, run_no_linux, said, MemFs};
    use vhdlint_guest::limits::MAX_CONFIG_BYTES;

    const WANTS: &str = "/etc/systemd/system/multi-user.target.wants";

    /// Debian's /etc/nftables.conf: chains with no rules.
    const NFT_EMPTY: &str = "#!/usr/sbin/nft -f\n\nflush ruleset\ndefine ssh = 22\ninclude \"/etc/nftables.d/*.nft\"\n\ntable inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter;\n\t\tpolicy accept;\n\t}\n\t# nothing here\n}\n";

    /// A guest with iptables installed.
    fn iptables() -> MemFs {
        let mut fs = MemFs::new();
        fs.file("/usr/sbin/iptables", "");
        fs
    }

    /// `unit` enabled through a `*.wants/` link.
    fn enable(fs: &mut MemFs, unit: &str) {
        fs.link(
            &format!("{WANTS}/{unit}"),
            &format!("/lib/systemd/system/{unit}"),
        );
    }

    #[test]
    fn error_without_a_linux_guest() {
        let o = run_no_linux(run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.contains("no Linux filesystem"), "{}", said(&o));
    }

    #[test]
    fn passes_with_iptables_and_no_rules() {
        let o = run_linux(iptables(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "/usr/sbin/iptables present, no rules at boot");
    }

    #[test]
    fn passes_with_each_tool() {
        for tool in ["/sbin/iptables", "/usr/sbin/nft", "/sbin/nft"] {
            let mut fs = MemFs::new();
            fs.file(tool, "");
            let o = run_linux(fs, run);
            assert_eq!(o.status, Status::Pass, "{tool}: {}", said(&o));
            assert_eq!(o.actual, format!("{tool} present, no rules at boot"));
        }
    }

    #[test]
    fn a_dangling_tool_link_counts_as_present() {
        let mut fs = MemFs::new();
        fs.link("/usr/sbin/iptables", "/etc/alternatives/iptables");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn warns_without_iptables_or_nft() {
        let o = run_linux(MemFs::new(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "neither iptables nor nft is installed");
        assert!(s.contains("looked for /usr/sbin/iptables"), "{s}");
    }

    #[test]
    fn warns_on_rules_in_each_rules_file() {
        for path in [
            "/etc/iptables/rules.v4",
            "/etc/iptables/rules.v6",
            "/etc/sysconfig/iptables",
            "/etc/sysconfig/ip6tables",
        ] {
            let mut fs = iptables();
            fs.file(
                path,
                "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j DROP\n  -I INPUT 1 -j ACCEPT\nCOMMIT\n",
            );
            let o = run_linux(fs, run);
            let s = said(&o);
            assert_eq!(o.status, Status::Warning, "{path}: {s}");
            assert_eq!(o.actual, format!("{path} holds rules"));
            assert!(
                s.contains(&format!("{path}:3 -A INPUT -p tcp --dport 22 -j DROP")),
                "{s}"
            );
            assert!(s.contains(&format!("{path}:4 -I INPUT 1 -j ACCEPT")), "{s}");
        }
    }

    #[test]
    fn passes_with_rules_files_without_rules() {
        let mut fs = iptables();
        fs.file(
            "/etc/iptables/rules.v4",
            "*filter\n:INPUT ACCEPT [0:0]\n# -A INPUT -j DROP\nCOMMIT\n",
        );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn shows_the_first_ten_rules() {
        let mut fs = iptables();
        let rules: String = (0..12)
            .map(|i| format!("-A INPUT -s 10.0.0.{i} -j DROP\n"))
            .collect();
        fs.file("/etc/iptables/rules.v4", rules);
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.evidence.len(), 10, "{}", said(&o));
    }

    #[test]
    fn warns_when_firewalld_is_enabled() {
        let mut fs = iptables();
        enable(&mut fs, "firewalld.service");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "firewalld is enabled");
        assert!(
            s.contains(&format!(
                "{WANTS}/firewalld.service firewalld.service enabled"
            )),
            "{s}"
        );
    }

    #[test]
    fn warns_when_ufw_is_enabled() {
        let mut fs = iptables();
        fs.file(
            "/etc/ufw/ufw.conf",
            "# ufw.conf\nENABLED = Yes\nLOGLEVEL=low\n",
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "ufw is enabled");
        assert!(s.contains("/etc/ufw/ufw.conf:2 ENABLED = Yes"), "{s}");
    }

    #[test]
    fn passes_when_ufw_is_disabled() {
        let mut fs = iptables();
        fs.file("/etc/ufw/ufw.conf", "ENABLED=no\nLOGLEVEL=low\n");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn warns_when_nftables_is_enabled_with_rules() {
        let mut fs = iptables();
        enable(&mut fs, "nftables.service");
        fs.file(
            "/etc/nftables.conf",
            NFT_EMPTY.replace("# nothing here", "tcp dport 22 drop"),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(
            o.actual,
            "nftables is enabled and /etc/nftables.conf has rules"
        );
        assert!(
            s.contains(&format!(
                "{WANTS}/nftables.service nftables.service enabled"
            )),
            "{s}"
        );
        assert!(s.contains("/etc/nftables.conf:12 tcp dport 22 drop"), "{s}");
    }

    #[test]
    fn passes_when_nftables_is_enabled_without_rules() {
        let mut fs = iptables();
        enable(&mut fs, "nftables.service");
        fs.file("/etc/nftables.conf", NFT_EMPTY);
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn passes_with_nftables_rules_when_nftables_is_not_enabled() {
        let mut fs = iptables();
        fs.file("/etc/nftables.conf", "tcp dport 22 drop\n");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn lists_every_problem() {
        let mut fs = MemFs::new();
        enable(&mut fs, "firewalld.service");
        fs.file("/etc/ufw/ufw.conf", "ENABLED=\"yes\"\n");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(
            o.actual,
            "neither iptables nor nft is installed; firewalld is enabled; ufw is enabled"
        );
        assert_eq!(o.message, o.actual);
    }

    #[test]
    fn a_rules_file_not_read_because_of_a_bound_is_not_a_pass() {
        let mut fs = iptables();
        fs.repeat("/etc/iptables/rules.v4", b'#', MAX_CONFIG_BYTES + 1);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.evidence
                .iter()
                .any(|e| e.path.as_deref() == Some("/etc/iptables/rules.v4")),
            "{s}"
        );
    }

    #[test]
    fn a_ufw_conf_not_read_because_of_a_bound_is_not_a_pass() {
        let mut fs = iptables();
        fs.repeat("/etc/ufw/ufw.conf", b'#', MAX_CONFIG_BYTES + 1);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.evidence
                .iter()
                .any(|e| e.path.as_deref() == Some("/etc/ufw/ufw.conf")),
            "{s}"
        );
    }

    #[test]
    fn error_when_where_a_firewall_unit_would_be_enabled_cannot_be_read() {
        let mut fs = iptables();
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
    fn no_tool_where_the_tools_cannot_be_looked_up_is_unknown() {
        let mut fs = MemFs::new();
        for dir in ["/usr/sbin", "/sbin"] {
            fs.broken_dir(
                dir,
                vhdlint_guest::fs::FsError::Io(format!("{dir}: read error")),
            );
        }
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/usr/sbin: read error"), "{s}");
        // Found in one place, the other does not matter.
        let mut fs = MemFs::new();
        fs.file("/sbin/iptables", "").broken_dir(
            "/usr/sbin",
            vhdlint_guest::fs::FsError::Io("/usr/sbin: read error".into()),
        );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }
}
