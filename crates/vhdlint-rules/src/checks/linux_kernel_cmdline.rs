use crate::check::{sentence, CheckMeta, Evidence, Outcome, Status};
use crate::policy::Level;
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/kernel-cmdline",
    title: "Kernel boot line",
    what: "Finds the default boot entry's command line the way GRUB would (grub.cfg `set default` with grubenv's saved_entry, submenus, BLS entries in /boot/loader/entries with grubenv `kernelopts`), and /etc/default/grub's GRUB_CMDLINE_LINUX(_DEFAULT). console=ttyS0 (ttyAMA0 on Arm) is required; earlyprintk=ttyS0 and rootdelay=300 are required by the guide (warnings in current); libata.atapi_enabled=0 and reserve=0x1f0,0x8 fail; grub.cfg and /etc/default/grub disagreeing warns.",
    why: "Azure's serial console and boot diagnostics read the kernel's console on ttyS0; without it a VM that fails to boot cannot be diagnosed. rootdelay gives Azure's storage time to attach; the two libata options break the DVD drive used for provisioning.",
    remedy: "Set GRUB_CMDLINE_LINUX=\"console=ttyS0 earlyprintk=ttyS0 rootdelay=300\" in /etc/default/grub and regenerate grub.cfg (update-grub, or grub2-mkconfig -o /boot/grub2/grub.cfg; on BLS systems grubby --update-kernel=ALL --args=...).",
    sources: &["Azure Marketplace VM image guide: kernel boot line console=ttyS0 earlyprintk=ttyS0 rootdelay=300", "Azure docs, create-upload-generic: libata.atapi_enabled=0 reserve=0x1f0,0x8 must be removed", "LISA verify_serial_console_is_enabled"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// The thresholds of this check: the `["linux/kernel-cmdline"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// What a boot line without earlyprintk=ttyS0 or rootdelay=300 gets.
    pub missing_extras: Level,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            missing_extras: Level::Fail,
        }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            missing_extras: Level::Warning,
        }
    }
}

const WANTED: &[&str] = &["earlyprintk=ttyS0", "rootdelay=300"];
const FORBIDDEN: &[&str] = &["libata.atapi_enabled=0", "reserve=0x1f0,0x8"];

fn has(args: &[String], a: &str) -> bool {
    args.iter().any(|x| x == a)
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let k = g.facts.kernel(&g.view);
    let (src, from_default) = match (&k.boot_entry, &k.default_grub) {
        (Some(b), _) => (b, false),
        (None, Some(d)) => (d, true),
        (None, None) => {
            return Outcome::error(format!(
                "no boot loader configuration to read the kernel command line from: {}",
                sentence(&k.notes)
            ))
        }
    };
    let args = &src.args;
    let mut status = Status::Pass;
    let mut problems = Vec::new();
    let console = args.iter().any(|a| {
        a == "console=ttyS0"
            || a.starts_with("console=ttyS0,")
            || a == "console=ttyAMA0"
            || a.starts_with("console=ttyAMA0,")
    });
    if !console {
        status = Status::Fail;
        problems.push("no console=ttyS0".to_string());
    }
    for w in WANTED {
        if !has(args, w) {
            status = status.max(ctx.policy.linux_kernel_cmdline.missing_extras.status());
            problems.push(format!("no {w}"));
        }
    }
    for f in FORBIDDEN {
        if has(args, f) {
            status = Status::Fail;
            problems.push(format!("{f} must be removed"));
        }
    }
    let mut ev = vec![Evidence::path(src.path.clone(), src.line, src.text.clone())];
    if from_default {
        status = status.max(Status::Warning);
        problems.push(format!(
            "no grub.cfg or BLS entry found ({}); judged from /etc/default/grub",
            sentence(&k.notes)
        ));
    } else if let Some(d) = &k.default_grub {
        let relevant = |a: &String| {
            a.starts_with("console=")
                || WANTED.contains(&a.as_str())
                || FORBIDDEN.contains(&a.as_str())
        };
        let mut only_cfg: Vec<&String> = args
            .iter()
            .filter(|a| relevant(a) && !d.args.contains(a))
            .collect();
        let mut only_default: Vec<&String> = d
            .args
            .iter()
            .filter(|a| relevant(a) && !args.contains(a))
            .collect();
        only_cfg.dedup();
        only_default.dedup();
        if !only_cfg.is_empty() || !only_default.is_empty() {
            status = status.max(Status::Warning);
            problems.push(format!(
                "{} and /etc/default/grub disagree (only in the boot entry: {}; only in /etc/default/grub: {}): regenerate grub.cfg",
                src.path,
                if only_cfg.is_empty() { "-".into() } else { only_cfg.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ") },
                if only_default.is_empty() { "-".into() } else { only_default.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ") }
            ));
            ev.push(Evidence::path(d.path.clone(), d.line, d.text.clone()));
        }
    }
    let actual = args.join(" ");
    let required = "console=ttyS0 earlyprintk=ttyS0 rootdelay=300, no libata.atapi_enabled=0 / reserve=0x1f0,0x8";
    let out = if status == Status::Pass {
        Outcome::pass(actual, required).evidences(ev)
    } else {
        Outcome::with_status(status, actual, required)
            .message(format!("{}: {}", src.path, problems.join("; ")))
            .evidences(ev)
    };
    let notes = k.notes.clone();
    if from_default {
        // Already said: they are why /etc/default/grub is what was judged.
        return out.evidences(notes.into_iter().map(Evidence::from));
    }
    // With a boot entry found, the notes are what a bound kept from being read (a BLS entry,
    // a line of /etc/default/grub): the entry or the comparison could be wrong.
    out.noted(notes)
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::check::Status;
    use crate::policy::Policy;
    use crate::testing::{run_linux, run_linux_with, run_no_linux, said, MemFs};
    use vhdlint_guest::limits::MAX_CONFIG_BYTES;

    const CFG: &str = "/boot/grub/grub.cfg";
    const GOOD: &str = "console=ttyS0 earlyprintk=ttyS0 rootdelay=300";

    /// A guest whose default GRUB entry boots with `args` (on line 3 of grub.cfg).
    fn boot(args: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file(
            CFG,
            format!(
                "set default=0\nmenuentry 'Linux' {{\n  linux /boot/vmlinuz-6.1.0 root=/dev/sda1 {args}\n}}\n"
            ),
        );
        fs
    }

    /// `boot(args)` with /etc/default/grub's GRUB_CMDLINE_LINUX set to `default`.
    fn boot_and_default(args: &str, default: &str) -> MemFs {
        let mut fs = boot(args);
        fs.file(
            "/etc/default/grub",
            format!("GRUB_TIMEOUT=1\nGRUB_CMDLINE_LINUX=\"{default}\"\n"),
        );
        fs
    }

    /// A guest with /etc/default/grub's GRUB_CMDLINE_LINUX set to `default` and no grub.cfg.
    fn default_only(default: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file(
            "/etc/default/grub",
            format!("GRUB_CMDLINE_LINUX=\"{default}\"\n"),
        );
        fs
    }

    #[test]
    fn error_without_a_linux_guest() {
        let o = run_no_linux(run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.contains("no Linux filesystem"), "{}", said(&o));
    }

    #[test]
    fn error_without_a_boot_loader_configuration() {
        let o = run_linux(MemFs::new(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(
            o.message
                .starts_with("no boot loader configuration to read the kernel command line from: "),
            "{s}"
        );
        assert!(o.message.contains("no /boot/grub/grub.cfg"), "{s}");
    }

    #[test]
    fn passes_with_the_required_line() {
        let o = run_linux(boot(GOOD), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, format!("root=/dev/sda1 {GOOD}"));
        assert!(
            s.contains(&format!(
                "{CFG}:3 linux /boot/vmlinuz-6.1.0 root=/dev/sda1 {GOOD}"
            )),
            "{s}"
        );
        assert_eq!(o.evidence.len(), 1, "{s}");
    }

    #[test]
    fn passes_with_each_serial_console() {
        for console in [
            "console=ttyS0,115200n8",
            "console=ttyAMA0",
            "console=ttyAMA0,115200",
        ] {
            let o = run_linux(
                boot(&format!(
                    "console=tty1 {console} earlyprintk=ttyS0 rootdelay=300"
                )),
                run,
            );
            assert_eq!(o.status, Status::Pass, "{console}: {}", said(&o));
        }
    }

    #[test]
    fn fails_without_a_serial_console() {
        for console in ["console=tty1", "console=ttyS01", "console=ttyS1,115200"] {
            let o = run_linux_with(
                boot(&format!("{console} earlyprintk=ttyS0 rootdelay=300")),
                &Policy::current(),
                run,
            );
            let s = said(&o);
            assert_eq!(o.status, Status::Fail, "{console}: {s}");
            assert_eq!(o.message, format!("{CFG}: no console=ttyS0"));
        }
    }

    #[test]
    fn fails_in_guide_without_earlyprintk() {
        let o = run_linux(boot("console=ttyS0 rootdelay=300"), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.message, format!("{CFG}: no earlyprintk=ttyS0"));
    }

    #[test]
    fn fails_in_guide_without_rootdelay() {
        let o = run_linux(boot("console=ttyS0 earlyprintk=ttyS0 rootdelay=30"), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.message, format!("{CFG}: no rootdelay=300"));
    }

    #[test]
    fn warns_in_current_without_earlyprintk_or_rootdelay() {
        let o = run_linux_with(boot("console=ttyS0"), &Policy::current(), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(
            o.message,
            format!("{CFG}: no earlyprintk=ttyS0; no rootdelay=300")
        );
    }

    #[test]
    fn a_missing_console_fails_in_current_beside_warnings() {
        let o = run_linux_with(boot("quiet"), &Policy::current(), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(
            o.message,
            format!("{CFG}: no console=ttyS0; no earlyprintk=ttyS0; no rootdelay=300")
        );
    }

    #[test]
    fn fails_on_each_forbidden_option_in_either_policy() {
        for f in ["libata.atapi_enabled=0", "reserve=0x1f0,0x8"] {
            for policy in [Policy::guide(), Policy::current()] {
                let o = run_linux_with(boot(&format!("{GOOD} {f}")), &policy, run);
                let s = said(&o);
                assert_eq!(o.status, Status::Fail, "{f} {}: {s}", policy.name);
                assert_eq!(o.message, format!("{CFG}: {f} must be removed"));
            }
        }
    }

    #[test]
    fn warns_when_judged_from_default_grub() {
        let o = run_linux(default_only(GOOD), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, GOOD);
        assert_eq!(
            o.message,
            "/etc/default/grub: no grub.cfg or BLS entry found (no /boot/grub/grub.cfg, /boot/grub2/grub.cfg or /boot/loader/entries/*.conf); judged from /etc/default/grub"
        );
        assert!(
            s.contains(&format!(
                "/etc/default/grub:1 GRUB_CMDLINE_LINUX=\"{GOOD}\""
            )),
            "{s}"
        );
        assert!(
            o.evidence
                .iter()
                .any(|e| e.path.is_none() && e.text.contains("no /boot/grub/grub.cfg")),
            "{s}"
        );
    }

    #[test]
    fn fails_when_judged_from_a_default_grub_without_console() {
        let o = run_linux(default_only("earlyprintk=ttyS0 rootdelay=300"), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(
            o.message
                .starts_with("/etc/default/grub: no console=ttyS0; no grub.cfg or BLS entry found"),
            "{s}"
        );
    }

    #[test]
    fn passes_when_grub_cfg_and_default_grub_agree() {
        // Arguments that do not matter here may differ.
        let o = run_linux(
            boot_and_default(&format!("{GOOD} quiet"), &format!("splash {GOOD}")),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.evidence.len(), 1, "{s}");
    }

    #[test]
    fn warns_when_a_console_is_only_in_the_boot_entry() {
        let o = run_linux(
            boot_and_default(&format!("{GOOD} console=tty1 console=tty1"), GOOD),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(
            o.message,
            format!("{CFG}: {CFG} and /etc/default/grub disagree (only in the boot entry: console=tty1; only in /etc/default/grub: -): regenerate grub.cfg")
        );
        assert!(
            s.contains(&format!(
                "/etc/default/grub:2 GRUB_CMDLINE_LINUX=\"{GOOD}\""
            )),
            "{s}"
        );
        assert_eq!(o.evidence.len(), 2, "{s}");
    }

    #[test]
    fn warns_when_a_wanted_option_is_only_in_default_grub() {
        let o = run_linux_with(
            boot_and_default("console=ttyS0 earlyprintk=ttyS0", GOOD),
            &Policy::current(),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.message
                .contains("(only in the boot entry: -; only in /etc/default/grub: rootdelay=300)"),
            "{s}"
        );
    }

    #[test]
    fn warns_when_a_forbidden_option_is_only_in_default_grub() {
        let o = run_linux(
            boot_and_default(GOOD, &format!("{GOOD} reserve=0x1f0,0x8 reserve=0x1f0,0x8")),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.message
                .contains("only in /etc/default/grub: reserve=0x1f0,0x8)"),
            "{s}"
        );
    }

    #[test]
    fn a_failure_stays_a_failure_when_the_files_disagree() {
        let o = run_linux(boot_and_default("console=ttyS0", GOOD), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("no earlyprintk=ttyS0"), "{s}");
        assert!(o.message.contains("disagree"), "{s}");
    }

    #[test]
    fn a_default_grub_not_read_because_of_a_bound_is_not_a_pass() {
        let mut fs = boot(GOOD);
        fs.repeat("/etc/default/grub", b'#', MAX_CONFIG_BYTES + 1);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.evidence
                .iter()
                .any(|e| e.text.contains("/etc/default/grub")),
            "{s}"
        );
    }
}
