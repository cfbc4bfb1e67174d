use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/defender",
    title: "Defender not pre-installed",
    what: "current policy: looks for Microsoft Defender for Endpoint where LISA's check-mdatp.sh (verify_mdatp_not_preinstalled) looks: the MDE extension's folders (/var/lib/waagent/Microsoft.Azure.AzureDefenderForServers.MDE.Linux*), its Azure and Arc logs (/var/log/azure/Microsoft.Azure.AzureDefenderForServers.MDE.Linux*, /var/lib/GuestConfig/extension_logs/Microsoft.Azure.AzureDefenderForServers.MDE.Linux*), the agent's configuration /etc/opt/microsoft/mdatp with its onboarding blob mdatp_onboard.json, and its logs /var/log/microsoft/mdatp with install.log. Anything there fails. (The script's last test, `mdatp health` reporting an org_id, needs the agent running; the onboarding it reports lives in /etc/opt/microsoft/mdatp.)",
    why: "Defender for Endpoint onboards each VM to its owner's tenant; pre-installed in an image, every customer's VM would report to the publisher's tenant. Certification fails such images.",
    remedy: "Uninstall mdatp (and the MDE extension) and remove /etc/opt/microsoft/mdatp, /var/log/microsoft/mdatp, /var/lib/waagent/Microsoft.Azure.AzureDefenderForServers.MDE.Linux*, /var/log/azure/Microsoft.Azure.AzureDefenderForServers.MDE.Linux* and /var/lib/GuestConfig/extension_logs/Microsoft.Azure.AzureDefenderForServers.MDE.Linux* before capturing; run check-mdatp.sh until it exits 0.",
    sources: &["Marketplace certification FAQ (2021+): Microsoft Defender for Endpoint must not be pre-installed", "LISA mdatp suite verify_mdatp_not_preinstalled (check-mdatp.sh)"],
    profiles: &[Profile::LinuxOs],
    policies: &[crate::policy::CURRENT],
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(
    "Defender for Endpoint is installed and onboarded by its own package and script",
);

/// The name the MDE extension's folders start with (a version follows).
const MDE_EXTENSION: &str = "Microsoft.Azure.AzureDefenderForServers.MDE.Linux";

/// The directories check-mdatp.sh globs for the extension's folders, and what it calls them.
const EXTENSION_DIRS: &[(&str, &str)] = &[
    ("/var/lib/waagent", "MDE extension installed"),
    ("/var/log/azure", "MDE extension logs"),
    (
        "/var/lib/GuestConfig/extension_logs",
        "MDE extension logs (Arc)",
    ),
];

/// The fixed paths check-mdatp.sh tests, and what it calls them.
const MDATP_PATHS: &[(&str, &str)] = &[
    ("/etc/opt/microsoft/mdatp", "mdatp agent installed"),
    ("/var/log/microsoft/mdatp", "mdatp logs"),
    ("/var/log/microsoft/mdatp/install.log", "mdatp install log"),
    (
        "/etc/opt/microsoft/mdatp/mdatp_onboard.json",
        "mdatp onboarding information",
    ),
];

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    // A path that could not be looked up, or a directory a bound kept from being listed:
    // what is there would not be seen.
    let mut notes = Vec::new();
    let mut found: Vec<(String, &str)> = Vec::new();
    for (dir, what) in EXTENSION_DIRS {
        // The shell's glob: names starting so, in the directory itself (hidden names aside,
        // which the prefix rules out).
        if let Some(entries) = g.view.read_dir_noted(dir, &mut notes) {
            let mut names: Vec<String> = entries
                .into_iter()
                .filter(|e| e.name.starts_with(MDE_EXTENSION))
                .map(|e| e.name)
                .collect();
            names.sort();
            found.extend(names.into_iter().map(|n| (format!("{dir}/{n}"), *what)));
        }
    }
    for (path, what) in MDATP_PATHS {
        // The script tests install.log and mdatp_onboard.json with -f (a regular file); a
        // directory of that name is still found under the -e test of its parent.
        if g.view.exists_noted(path, &mut notes) {
            found.push((path.to_string(), *what));
        }
    }
    let required = "no Defender for Endpoint files";
    if found.is_empty() {
        return Outcome::pass("not installed", required).noted(notes);
    }
    let out = Outcome::fail("Defender for Endpoint present", required)
        .message(format!(
            "found {}",
            found
                .iter()
                .map(|(p, _)| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .evidences(
            found
                .into_iter()
                .map(|(p, what)| Evidence::path(p, None, what)),
        );
    out.noted(notes)
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::check::Status;
    use crate::policy::Policy;
    use crate::testing::{run_linux, run_linux_with, run_no_linux, run_no_linux_with, said, MemFs};

    /// Runs the check with the current policy, which has it.
    fn current(fs: MemFs) -> crate::check::Outcome {
        run_linux_with(fs, &Policy::current(), run)
    }

    #[test]
    fn skipped_in_guide() {
        let mut fs = MemFs::new();
        fs.dir("/etc/opt/microsoft/mdatp");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        assert!(
            o.message.contains("not part of the guide policy"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn skipped_in_guide_even_without_a_linux_guest() {
        let o = run_no_linux(run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }

    #[test]
    fn error_without_a_linux_guest() {
        let o = run_no_linux_with(&Policy::current(), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.contains("no Linux filesystem"), "{}", said(&o));
    }

    #[test]
    fn passes_when_not_installed() {
        let mut fs = MemFs::new();
        fs.dir("/var/lib/waagent/Microsoft.OSTCExtensions.VMAccessForLinux-1.5.18")
            .dir("/etc/opt/microsoft/omsagent");
        let o = current(fs);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "not installed");
    }

    #[test]
    fn error_when_where_it_would_be_cannot_be_read() {
        let mut fs = MemFs::new();
        fs.broken_dir(
            "/etc/opt/microsoft",
            vhdlint_guest::fs::FsError::Corrupt("/etc/opt/microsoft: bad block".into()),
        );
        let o = current(fs);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("/etc/opt/microsoft: bad block"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn fails_on_each_mdatp_path_of_check_mdatp_sh() {
        for (path, what, dir) in [
            ("/etc/opt/microsoft/mdatp", "mdatp agent installed", true),
            ("/var/log/microsoft/mdatp", "mdatp logs", true),
            (
                "/var/log/microsoft/mdatp/install.log",
                "mdatp install log",
                false,
            ),
            (
                "/etc/opt/microsoft/mdatp/mdatp_onboard.json",
                "mdatp onboarding information",
                false,
            ),
        ] {
            let mut fs = MemFs::new();
            if dir {
                fs.dir(path);
            } else {
                fs.file(path, "{}");
            }
            let o = current(fs);
            let s = said(&o);
            assert_eq!(o.status, Status::Fail, "{path}: {s}");
            assert_eq!(o.actual, "Defender for Endpoint present");
            assert!(o.message.contains(path), "{s}");
            assert!(s.contains(&format!("{path} {what}")), "{s}");
        }
    }

    #[test]
    fn fails_on_the_extension_in_each_place_check_mdatp_sh_globs() {
        for (dir, what) in [
            ("/var/lib/waagent", "MDE extension installed"),
            ("/var/log/azure", "MDE extension logs"),
            (
                "/var/lib/GuestConfig/extension_logs",
                "MDE extension logs (Arc)",
            ),
        ] {
            let path = format!("{dir}/Microsoft.Azure.AzureDefenderForServers.MDE.Linux-1.0.5.2");
            let mut fs = MemFs::new();
            fs.dir(&path);
            let o = current(fs);
            let s = said(&o);
            assert_eq!(o.status, Status::Fail, "{dir}: {s}");
            assert_eq!(o.message, format!("found {path}"));
            assert!(s.contains(&format!("{path} {what}")), "{s}");
            // A file of that name is found as well (the script's -e).
            let mut fs = MemFs::new();
            fs.file(
                &format!("{dir}/Microsoft.Azure.AzureDefenderForServers.MDE.Linux"),
                "",
            );
            assert_eq!(current(fs).status, Status::Fail, "{dir}");
        }
    }

    #[test]
    fn other_extensions_are_not_the_mde_extension() {
        // The glob is the extension's name: other extensions, and names that only contain
        // "MDE" or "mdatp", are not Defender for Endpoint to check-mdatp.sh.
        for name in [
            "Qualys.MDE.Linux-1.0.0",
            "Microsoft.Azure.Security.AzureSecurityLinuxAgent-2.14.0",
            "microsoft.azure.azuredefenderforservers.mde.linux-1.0",
            "MDATP-install",
        ] {
            let mut fs = MemFs::new();
            fs.dir(&format!("/var/lib/waagent/{name}"))
                .dir(&format!("/var/log/azure/{name}"));
            let o = current(fs);
            assert_eq!(o.status, Status::Pass, "{name}: {}", said(&o));
        }
    }

    #[test]
    fn lists_everything_found() {
        let mut fs = MemFs::new();
        fs.dir("/etc/opt/microsoft/mdatp")
            .dir("/var/log/microsoft/mdatp")
            .dir("/var/lib/waagent/Microsoft.Azure.AzureDefenderForServers.MDE.Linux-1.0.3.2");
        let o = current(fs);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(
            o.message,
            "found /var/lib/waagent/Microsoft.Azure.AzureDefenderForServers.MDE.Linux-1.0.3.2, /etc/opt/microsoft/mdatp, /var/log/microsoft/mdatp"
        );
        assert_eq!(o.evidence.len(), 3, "{s}");
    }

    #[test]
    fn an_agent_directory_not_listed_because_of_a_bound_is_not_a_pass() {
        let mut fs = MemFs::new();
        fs.link("/var/lib/waagent", "/var/lib/waagent");
        let o = current(fs);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.evidence
                .iter()
                .any(|e| e.path.as_deref() == Some("/var/lib/waagent")),
            "{s}"
        );
    }
}
