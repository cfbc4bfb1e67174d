use vhdlint_guest::registry::names_equal;
use vhdlint_guest::windows::{quote, reg_subkeys, show_data};

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::context::reg_value_or_error;
use crate::policy::Level;
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/roles",
    title: "No role or feature the Certification Tool tested for",
    what: "Reads Server Manager's record of roles and features in the SOFTWARE hive (Microsoft\\ServerManager\\ServicingStorage\\ServerComponentCache\\<Name>\\InstallState, 1 = installed) for each role or feature the Certification Tool tested: Failover-Clustering, DHCP, Hyper-V, RemoteAccess, DirectAccess-VPN, Routing, ADRMS, WDS, ISNS, Multipath-IO, NLB, PNRP, SNMP-Service, WINS, Wireless-Networking. One installed: guide fail, current warning. Windows Server keeps this record since 2012: without it on a Server installation the check reports error (whether a role is installed is unknown); a client installation (InstallationType Client) has no server roles and is skipped.",
    why: "The Certification Tool for Azure Certified tested that an image's application does not depend on these roles and features, which Azure does not support (failover clustering, DHCP server, Hyper-V, DirectAccess, Rights Management, Windows Deployment Services, iSNS, Multipath I/O, network load balancing, PNRP, SNMP, WINS, wireless LAN): each test case required the role disabled.",
    remedy: "Remove the role or feature before generalizing: Uninstall-WindowsFeature -Name <Name> (e.g. Uninstall-WindowsFeature -Name Failover-Clustering), restart, then run sysprep again.",
    sources: &[
        "Partner Center, troubleshoot virtual machine certification (azure-vm-certification-faq; vm-certification-issues-solutions): the Windows test cases for roles and features",
        "Microsoft, server core roles and features (the Server Manager feature names)",
    ],
    profiles: &[Profile::WindowsOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::PowerShell(fix);

/// Each tested role or feature the result names as installed, removed with
/// Uninstall-WindowsFeature. The names written are this check's own (`TESTED`), matched
/// without regard to case against the result; a restart is needed afterwards, so the block
/// keeps the sysprep step from running.
fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::powershell::PsBlock> {
    let named: Vec<&str> = r.actual.split(", ").collect();
    let roles: Vec<String> = TESTED
        .iter()
        .filter(|t| named.iter().any(|n| names_equal(n, t)))
        .map(|t| crate::fix::powershell::ps_quote(t))
        .collect();
    if roles.is_empty() {
        return None;
    }
    Some(crate::fix::powershell::PsBlock {
        changes: "removes the installed roles and features the Certification Tool tested for (Uninstall-WindowsFeature); a restart is needed before sysprep".into(),
        ps: format!(
            r#"foreach ($name in @({})) {{
    $feature = Get-WindowsFeature -Name $name -ErrorAction SilentlyContinue
    if ($null -ne $feature -and $feature.Installed) {{
        Uninstall-WindowsFeature -Name $name | Out-Null
        $script:RestartPending = $true
        Say "removed the role or feature $name (restart, then run this script again before sysprep)"
    }}
}}"#,
            roles.join(", ")
        ),
    })
}

/// The thresholds of this check: the `["windows/roles"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// What a tested role or feature installed gets.
    pub installed: Level,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            installed: Level::Fail,
        }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            installed: Level::Warning,
        }
    }
}

/// Where Server Manager records the install state of every role and feature.
pub const CACHE: &str = "Microsoft\\ServerManager\\ServicingStorage\\ServerComponentCache";
/// The roles and features the Certification Tool tested for, by their Server Manager names.
pub const TESTED: &[&str] = &[
    "Failover-Clustering",
    "DHCP",
    "Hyper-V",
    "RemoteAccess",
    "DirectAccess-VPN",
    "Routing",
    "ADRMS",
    "WDS",
    "ISNS",
    "Multipath-IO",
    "NLB",
    "PNRP",
    "SNMP-Service",
    "WINS",
    "Wireless-Networking",
];
const CURRENT_VERSION: &str = "Microsoft\\Windows NT\\CurrentVersion";

pub fn run(ctx: &Context) -> Outcome {
    let (_, hive) = match ctx.windows_software() {
        Ok(x) => x,
        Err(o) => return o,
    };
    let required = "none of the tested roles and features installed";
    let names = match reg_subkeys(hive, CACHE) {
        Err(e) => return Outcome::error(format!("SOFTWARE\\{CACHE}: {e}")),
        Ok(Some(n)) => n,
        Ok(None) => return without_cache(hive),
    };
    let mut installed = Vec::new();
    let mut evidence = Vec::new();
    for role in TESTED {
        // Key names compare without regard to case, as Windows compares them.
        let Some(name) = names.iter().find(|n| names_equal(n, role)) else {
            continue;
        };
        let key = format!("{CACHE}\\{name}");
        let state = match reg_value_or_error(hive, "SOFTWARE", &key, "InstallState") {
            Ok(v) => v,
            Err(o) => return o,
        };
        let Some(state) = state else {
            evidence.push(Evidence::reg(
                "SOFTWARE",
                &key,
                "InstallState",
                "(no value)",
            ));
            continue;
        };
        let Ok(n) = state.as_u32() else {
            return Outcome::error(format!(
                "SOFTWARE\\{key} InstallState is not a DWORD: {}",
                show_data(&state)
            ));
        };
        evidence.push(Evidence::reg("SOFTWARE", &key, "InstallState", n));
        if n == 1 {
            installed.push(name.clone());
        }
    }
    if installed.is_empty() {
        return Outcome::pass("none installed", required)
            .message(format!(
                "none of the {} tested roles and features is installed ({} of them recorded, none with InstallState = 1)",
                TESTED.len(),
                evidence.len()
            ))
            .evidences(evidence);
    }
    // The installed ones first, so that a report that shortens the evidence still shows them.
    evidence.sort_by_key(|e| e.text != "InstallState = 1");
    let level = ctx.policy.windows_roles.installed;
    Outcome::with_status(level.status(), installed.join(", "), required)
        .message(format!(
            "installed (InstallState = 1 under SOFTWARE\\{CACHE}): {}",
            installed.join(", ")
        ))
        .evidences(evidence)
}

/// No ServerComponentCache key: skipped on a client installation, else unknown.
fn without_cache(hive: &vhdlint_guest::registry::Hive) -> Outcome {
    let kind = match reg_value_or_error(hive, "SOFTWARE", CURRENT_VERSION, "InstallationType") {
        Ok(v) => v.and_then(|v| v.as_string().ok()),
        Err(o) => return o,
    };
    if kind
        .as_deref()
        .is_some_and(|k| k.eq_ignore_ascii_case("Client"))
    {
        return Outcome::skipped(format!(
            "a client installation (SOFTWARE\\{CURRENT_VERSION} InstallationType = \"Client\") has no server roles (see windows/version)"
        ));
    }
    let shown = kind.map_or("not set".to_string(), |k| quote(&k));
    Outcome::error(format!(
        "SOFTWARE\\{CACHE} does not exist (InstallationType {shown}): Windows Server records its roles and features there since Windows Server 2012, so whether one the Certification Tool tested is installed is unknown"
    ))
    .evidence(Evidence::reg("SOFTWARE", CURRENT_VERSION, "InstallationType", shown))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{break_value, run_windows, run_windows_with, said, windows_hives, MemFs};
    use crate::Policy;
    use vhdlint_guest::windows::SOFTWARE_HIVE;

    const SERVER: &str =
        "[Microsoft\\Windows NT\\CurrentVersion]\n\"InstallationType\"=\"Server\"\n\n";

    /// A SOFTWARE hive whose cache records `roles` (name, InstallState).
    fn cache(roles: &[(&str, u32)]) -> String {
        let mut s = format!("{SERVER}[{CACHE}]\n\n");
        for (name, state) in roles {
            s.push_str(&format!(
                "[{CACHE}\\{name}]\n\"InstallState\"=dword:{state:08x}\n\"ServerComponentDescriptor\"=\"{name}\"\n\n"
            ));
        }
        s
    }

    fn with(roles: &[(&str, u32)], policy: &Policy) -> Outcome {
        run_windows_with(windows_hives(None, Some(&cache(roles))), policy, run)
    }

    #[test]
    fn passes_when_no_tested_role_is_installed() {
        let o = with(
            &[("DHCP", 0), ("Web-Server", 1), ("Hyper-V", 0)],
            &Policy::guide(),
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "none installed");
        let s = said(&o);
        assert!(
            s.contains(&format!("SOFTWARE\\{CACHE}\\DHCP InstallState = 0")),
            "{s}"
        );
        assert!(!s.contains("Web-Server"), "{s}");
    }

    #[test]
    fn guide_fails_and_current_warns_for_an_installed_role() {
        let roles = [("Failover-Clustering", 1), ("SNMP-Service", 1), ("WINS", 0)];
        let o = with(&roles, &Policy::guide());
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "Failover-Clustering, SNMP-Service");
        let s = said(&o);
        for r in ["Failover-Clustering", "SNMP-Service"] {
            assert!(
                s.contains(&format!("SOFTWARE\\{CACHE}\\{r} InstallState = 1")),
                "{s}"
            );
        }
        assert!(
            s.contains(&format!("SOFTWARE\\{CACHE}\\WINS InstallState = 0")),
            "{s}"
        );
        let o = with(&roles, &Policy::current());
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "Failover-Clustering, SNMP-Service");
    }

    #[test]
    fn every_tested_role_is_found() {
        for role in TESTED {
            let o = with(&[(role, 1)], &Policy::guide());
            assert_eq!(o.status, Status::Fail, "{role}: {}", said(&o));
            assert_eq!(o.actual, *role);
        }
    }

    #[test]
    fn installed_roles_lead_the_evidence() {
        let roles = [
            ("Failover-Clustering", 0),
            ("DHCP", 0),
            ("WINS", 1),
            ("SNMP-Service", 1),
        ];
        let o = with(&roles, &Policy::guide());
        assert_eq!(o.actual, "SNMP-Service, WINS");
        let first: Vec<&str> = o.evidence[..2].iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            first,
            ["InstallState = 1", "InstallState = 1"],
            "{}",
            said(&o)
        );
        assert_eq!(o.evidence.len(), 4);
    }

    #[test]
    fn names_compare_without_regard_to_case() {
        let o = with(&[("hyper-v", 1)], &Policy::guide());
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "hyper-v");
    }

    #[test]
    fn a_policy_file_can_make_it_a_warning() {
        let p = Policy::from_toml(
            "extends = \"guide\"\n[\"windows/roles\"]\ninstalled = \"warning\"\n",
            "p",
        )
        .unwrap();
        let o = with(&[("NLB", 1)], &p);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn error_without_the_cache_on_a_server() {
        let o = run_windows(windows_hives(None, Some(SERVER)), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        let s = said(&o);
        assert!(
            s.contains(&format!("SOFTWARE\\{CACHE} does not exist")),
            "{s}"
        );
        assert!(s.contains("InstallationType \"Server\""), "{s}");
        // Nor without InstallationType.
        let o = run_windows(
            windows_hives(
                None,
                Some("[Microsoft\\Windows NT\\CurrentVersion]\n\"CurrentBuild\"=\"9600\"\n"),
            ),
            run,
        );
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("InstallationType not set"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn skipped_on_a_client_installation() {
        let o = run_windows(
            windows_hives(
                None,
                Some("[Microsoft\\Windows NT\\CurrentVersion]\n\"InstallationType\"=\"Client\"\n"),
            ),
            run,
        );
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }

    #[test]
    fn error_when_install_state_is_not_a_dword() {
        let body = format!("{SERVER}[{CACHE}\\DHCP]\n\"InstallState\"=\"1\"\n");
        let o = run_windows(windows_hives(None, Some(&body)), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("DHCP InstallState is not a DWORD"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_when_install_state_cannot_be_read() {
        let mut h = crate::testing::hive(&cache(&[("WDS", 0)]));
        break_value(&mut h, "InstallState");
        let mut fs = MemFs::new();
        fs.file(SOFTWARE_HIVE, h);
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains(&format!("SOFTWARE\\{CACHE}\\WDS: ")),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_without_a_software_hive() {
        let o = run_windows(
            windows_hives(Some("[Select]\n\"Current\"=dword:00000001\n"), None),
            run,
        );
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("SOFTWARE hive"), "{}", said(&o));
    }
}
