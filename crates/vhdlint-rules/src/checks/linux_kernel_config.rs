use vhdlint_guest::config::kconfig::Value;
use vhdlint_guest::view::GuestView;

use super::linux_hyperv_drivers::modules_dir;
use crate::check::{CheckMeta, Evidence, Note, Outcome};
use crate::policy::Level;
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/kernel-config",
    title: "Kernel configuration",
    what: "Reads /boot/config-VERSION of the default kernel (the boot entry's, else the newest in /lib/modules) as Kconfig reads it (the later setting of a symbol wins, `# CONFIG_X is not set` is off): CONFIG_WATCHDOG and CONFIG_CIFS must be y or m. current: fail otherwise; guide: warning. Without the file the module tree is looked at instead (kernel/fs/smb/client/cifs.ko* or kernel/fs/cifs/cifs.ko*, modules.builtin): CIFS found there is a warning (the file is missing, the watchdog cannot be confirmed), CIFS found nowhere is judged as a configuration without it.",
    why: "Azure's certification (LISA's verify_essential_kernel_modules) requires the watchdog framework and the CIFS/SMB client (Azure Files shares) in the kernel; an image whose kernel lacks either fails it.",
    remedy: "Boot the distribution's kernel for Azure or its generic one (Debian linux-image-cloud-amd64, Ubuntu linux-azure, RHEL/SUSE kernel-default or kernel-azure), or rebuild the kernel with CONFIG_WATCHDOG=y and CONFIG_CIFS=m, and install its /boot/config-VERSION with it.",
    sources: &["LISA AzureImageStandard verify_essential_kernel_modules (CONFIG_WATCHDOG and CONFIG_CIFS =y or =m in /boot/config-$(uname -r))"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(
    "the kernel configuration is built into the kernel package: install a kernel built with it",
);

/// The thresholds of this check: the `["linux/kernel-config"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// What a kernel without a required option gets.
    pub missing: Level,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            missing: Level::Warning,
        }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            missing: Level::Fail,
        }
    }
}

/// The options LISA requires.
const OPTIONS: [&str; 2] = ["CONFIG_WATCHDOG", "CONFIG_CIFS"];

const REQUIRED: &str = "CONFIG_WATCHDOG and CONFIG_CIFS =y or =m in /boot/config-VERSION";

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let level = ctx.policy.linux_kernel_config.missing;
    let mut lookup = Vec::new();
    let k = g.facts.kernel(&g.view);
    let found = match modules_dir(&g.view, k.version.as_deref(), &mut lookup) {
        Ok(f) => f,
        Err(unread) => {
            return Outcome::error(format!(
                "the modules directory of the default kernel {} could not be looked up",
                k.version.as_deref().unwrap_or("")
            ))
            .noted(unread)
        }
    };
    // The version: the boot entry's, else the newest kernel with modules.
    let Some(version) = found
        .as_ref()
        .map(|(v, _)| v.clone())
        .or_else(|| k.version.clone())
    else {
        return Outcome::error("no default kernel found (no boot entry, no /lib/modules/VERSION)")
            .noted(lookup);
    };
    judge(&g.view, &g.facts, &version, found.map(|f| f.1), level)
        .noted(k.notes.clone())
        .noted(lookup)
}

fn judge(
    v: &GuestView,
    facts: &vhdlint_guest::facts::Facts,
    version: &str,
    dir: Option<String>,
    level: Level,
) -> Outcome {
    let path = format!("/boot/config-{version}");
    let mut notes = Vec::new();
    match v.read_config(&path) {
        Ok(text) => {
            let cfg = facts.kernel_config(&path, &text);
            let mut ev = Vec::new();
            let mut missing = Vec::new();
            for o in OPTIONS {
                match cfg.get(o) {
                    Some(s) => {
                        ev.push(Evidence::path(path.clone(), Some(s.line), s.text.clone()));
                        if !matches!(s.value, Value::Yes | Value::Module) {
                            missing.push(o);
                        }
                    }
                    None => {
                        ev.push(Evidence::path(path.clone(), None, format!("{o} not set")));
                        missing.push(o);
                    }
                }
            }
            if missing.is_empty() {
                return Outcome::pass(
                    format!("kernel {version}: CONFIG_WATCHDOG and CONFIG_CIFS set"),
                    REQUIRED,
                )
                .evidences(ev);
            }
            Outcome::with_status(
                level.status(),
                format!("kernel {version}: {} not set", missing.join(", ")),
                REQUIRED,
            )
            .message(format!(
                "{path} has {} neither =y nor =m: {}",
                missing.join(" and "),
                if missing.contains(&"CONFIG_CIFS") {
                    "the kernel cannot mount SMB shares (Azure Files)"
                } else {
                    "the kernel has no watchdog framework"
                }
            ))
            .evidences(ev)
        }
        Err(vhdlint_guest::fs::FsError::NotFound(_)) => {
            without_config(v, version, &path, dir, level)
        }
        Err(e) => {
            notes.extend(Note::from_fs_error(&path, &e));
            Outcome::error(format!("{path}: {e}")).noted(notes)
        }
    }
}

/// No configuration file: the CIFS module is looked for in the module tree.
fn without_config(
    v: &GuestView,
    version: &str,
    config: &str,
    dir: Option<String>,
    level: Level,
) -> Outcome {
    let Some(dir) = dir else {
        return Outcome::warning(
            format!("kernel {version}: no {config}, no modules directory"),
            REQUIRED,
        )
        .message(format!(
            "{config} is missing and kernel {version} has no modules directory, so CONFIG_WATCHDOG and CONFIG_CIFS cannot be confirmed"
        ))
        .evidence(Evidence::path(config.to_string(), None, "missing"))
        .evidence(Evidence::path(
            format!("/lib/modules/{version}"),
            None,
            "missing",
        ));
    };
    let mut unread = Vec::new();
    let exts = [".ko", ".ko.xz", ".ko.zst", ".ko.gz"];
    let d = dir.as_str();
    let module = ["kernel/fs/smb/client", "kernel/fs/cifs"]
        .iter()
        .flat_map(|sub| exts.iter().map(move |e| format!("{d}/{sub}/cifs{e}")))
        .find(|p| v.exists_noted(p, &mut unread));
    let builtin_path = format!("{dir}/modules.builtin");
    let builtin = v.read_noted(&builtin_path, &mut unread).and_then(|t| {
        t.lines()
            .position(|l| l.trim_end().ends_with("/cifs.ko"))
            .map(|i| (i + 1, t.lines().nth(i).unwrap_or("").to_string()))
    });
    let missing_ev = Evidence::path(config.to_string(), None, "missing");
    if let Some(p) = module {
        return Outcome::warning(format!("kernel {version}: no {config}; cifs module present"), REQUIRED)
            .message(format!("{config} is missing, so CONFIG_WATCHDOG cannot be confirmed; the CIFS client is a module ({p})"))
            .evidence(missing_ev)
            .evidence(Evidence::path(p, None, "cifs module"));
    }
    if let Some((line, text)) = builtin {
        return Outcome::warning(format!("kernel {version}: no {config}; cifs built in"), REQUIRED)
            .message(format!("{config} is missing, so CONFIG_WATCHDOG cannot be confirmed; the CIFS client is built in"))
            .evidence(missing_ev)
            .evidence(Evidence::path(builtin_path, Some(line), text));
    }
    if !unread.is_empty() {
        return Outcome::warning(
            format!("kernel {version}: no {config}; cifs not confirmed"),
            REQUIRED,
        )
        .message(format!(
            "{config} is missing and the CIFS client was not found where it could be looked for"
        ))
        .evidence(missing_ev)
        .noted(unread);
    }
    Outcome::with_status(
        level.status(),
        format!("kernel {version}: no {config}; no cifs module"),
        REQUIRED,
    )
    .message(format!(
        "{config} is missing and kernel {version} has the CIFS client neither as a module ({dir}/kernel/fs/smb/client/cifs.ko*, {dir}/kernel/fs/cifs/cifs.ko*) nor built in ({builtin_path})"
    ))
    .evidence(missing_ev)
}

#[cfg(test)]
mod tests {
    use vhdlint_guest::fs::FsError;

    use super::run;
    use crate::check::Status;
    use crate::policy::Policy;
    use crate::testing::{run_linux, run_linux_with, said, MemFs};

    const V: &str = "6.1.0-13-cloud-amd64";
    const CONFIG: &str = "/boot/config-6.1.0-13-cloud-amd64";
    const DIR: &str = "/lib/modules/6.1.0-13-cloud-amd64";
    const GOOD: &str = "#\n# Linux/x86 6.1.0 Kernel Configuration\n#\nCONFIG_WATCHDOG=y\nCONFIG_WATCHDOG_CORE=m\nCONFIG_CIFS=m\n";

    fn guest(config: Option<&str>) -> MemFs {
        let mut fs = MemFs::new();
        fs.dir(&format!("{DIR}/kernel"));
        if let Some(c) = config {
            fs.file(CONFIG, c);
        }
        fs
    }

    #[test]
    fn passes_with_both_options() {
        let o = run_linux_with(guest(Some(GOOD)), &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert!(s.contains(&format!("{CONFIG}:4 CONFIG_WATCHDOG=y")), "{s}");
        assert!(s.contains(&format!("{CONFIG}:6 CONFIG_CIFS=m")), "{s}");
    }

    #[test]
    fn cifs_not_set_fails_under_current_and_warns_under_guide() {
        let c = GOOD.replace("CONFIG_CIFS=m", "# CONFIG_CIFS is not set");
        let o = run_linux_with(guest(Some(&c)), &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, format!("kernel {V}: CONFIG_CIFS not set"));
        assert!(
            s.contains(&format!("{CONFIG}:6 # CONFIG_CIFS is not set")),
            "{s}"
        );
        assert!(o.message.contains("SMB"), "{s}");
        let o = run_linux(guest(Some(&c)), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn an_absent_or_n_option_is_missing_too() {
        let c = "CONFIG_WATCHDOG=n\n";
        let o = run_linux_with(guest(Some(c)), &Policy::current(), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(
            o.actual,
            format!("kernel {V}: CONFIG_WATCHDOG, CONFIG_CIFS not set")
        );
    }

    #[test]
    fn the_later_setting_wins() {
        let c = format!("{GOOD}# CONFIG_WATCHDOG is not set\n");
        let o = run_linux_with(guest(Some(&c)), &Policy::current(), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        let c = "# CONFIG_CIFS is not set\nCONFIG_WATCHDOG=y\nCONFIG_CIFS=y\n";
        let o = run_linux_with(guest(Some(c)), &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn without_the_file_a_cifs_module_warns() {
        for sub in ["kernel/fs/smb/client/cifs.ko.zst", "kernel/fs/cifs/cifs.ko"] {
            let mut fs = guest(None);
            fs.file(&format!("{DIR}/{sub}"), "\x7fELF");
            let o = run_linux_with(fs, &Policy::current(), run);
            let s = said(&o);
            assert_eq!(o.status, Status::Warning, "{s}");
            assert!(s.contains(&format!("{DIR}/{sub} cifs module")), "{s}");
        }
        let mut fs = guest(None);
        fs.file(
            &format!("{DIR}/modules.builtin"),
            "kernel/fs/smb/client/cifs.ko\n",
        );
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(o.actual.ends_with("cifs built in"), "{}", said(&o));
    }

    #[test]
    fn without_the_file_and_without_cifs_it_is_missing() {
        let o = run_linux_with(guest(None), &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, format!("kernel {V}: no {CONFIG}; no cifs module"));
        let o = run_linux(guest(None), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn a_module_tree_that_cannot_be_read_cannot_answer() {
        let mut fs = guest(None);
        fs.broken_dir(
            &format!("{DIR}/kernel/fs"),
            FsError::Corrupt("fs: bad block".into()),
        );
        let o = run_linux_with(fs, &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("fs: bad block"), "{s}");
    }

    #[test]
    fn an_unreadable_config_is_an_error() {
        let mut fs = guest(None);
        fs.broken_file(CONFIG, FsError::Corrupt("config: bad extent".into()));
        let o = run_linux_with(fs, &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("config: bad extent"), "{s}");
    }

    #[test]
    fn no_kernel_at_all_is_an_error() {
        let mut fs = MemFs::new();
        fs.dir("/etc");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
    }
}
