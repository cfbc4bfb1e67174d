use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/defender",
    title: "Defender not pre-installed",
    what: "current policy: looks for Microsoft Defender for Endpoint: /etc/opt/microsoft/mdatp, /var/log/microsoft/mdatp, and MDE extension folders under /var/lib/waagent.",
    why: "Defender for Endpoint onboards each VM to its owner's tenant; pre-installed in an image, every customer's VM would report to the publisher's tenant. Certification fails such images.",
    remedy: "Uninstall mdatp and remove /etc/opt/microsoft/mdatp, /var/log/microsoft/mdatp and the MDE extension folders before capturing.",
    sources: &["Marketplace certification FAQ (2021+): Microsoft Defender for Endpoint must not be pre-installed"],
    profiles: &[Profile::LinuxOs],
    policies: &[crate::policy::CURRENT],
};

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    // A path that could not be looked up, or a directory a bound kept from being listed:
    // what is there would not be seen.
    let mut notes = Vec::new();
    let mut found: Vec<String> = ["/etc/opt/microsoft/mdatp", "/var/log/microsoft/mdatp"]
        .iter()
        .filter(|p| g.view.exists_noted(p, &mut notes))
        .map(|p| p.to_string())
        .collect();
    if let Some(entries) = g.view.read_dir_noted("/var/lib/waagent", &mut notes) {
        for e in entries {
            let n = e.name.to_ascii_lowercase();
            if n.contains("mde.linux")
                || n.contains("azuresecuritylinuxagent")
                || n.contains("defenderforservers")
                || n.contains("mdatp")
            {
                found.push(format!("/var/lib/waagent/{}", e.name));
            }
        }
    }
    let required = "no Defender for Endpoint files";
    if found.is_empty() {
        return Outcome::pass("not installed", required).noted(notes);
    }
    let out = Outcome::fail("Defender for Endpoint present", required)
        .message(format!("found {}", found.join(", ")))
        .evidences(
            found
                .into_iter()
                .map(|p| Evidence::path(p, None, "Defender for Endpoint")),
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
    fn fails_on_each_mdatp_directory() {
        for dir in ["/etc/opt/microsoft/mdatp", "/var/log/microsoft/mdatp"] {
            let mut fs = MemFs::new();
            fs.dir(dir);
            let o = current(fs);
            let s = said(&o);
            assert_eq!(o.status, Status::Fail, "{dir}: {s}");
            assert_eq!(o.actual, "Defender for Endpoint present");
            assert_eq!(o.message, format!("found {dir}"));
            assert!(s.contains(&format!("{dir} Defender for Endpoint")), "{s}");
        }
    }

    #[test]
    fn fails_on_each_kind_of_extension_folder() {
        for name in [
            "Qualys.MDE.Linux-1.0.0",
            "Microsoft.Azure.Security.AzureSecurityLinuxAgent-2.14.0",
            "Microsoft.Azure.DefenderForServers-1.0",
            "MDATP-install",
        ] {
            let mut fs = MemFs::new();
            fs.dir(&format!("/var/lib/waagent/{name}"));
            let o = current(fs);
            assert_eq!(o.status, Status::Fail, "{name}: {}", said(&o));
            assert_eq!(o.message, format!("found /var/lib/waagent/{name}"));
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
            "found /etc/opt/microsoft/mdatp, /var/log/microsoft/mdatp, /var/lib/waagent/Microsoft.Azure.AzureDefenderForServers.MDE.Linux-1.0.3.2"
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
