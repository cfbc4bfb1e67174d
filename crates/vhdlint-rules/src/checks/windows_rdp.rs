use vhdlint_guest::windows::show_data;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::context::reg_value_or_error;
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/rdp",
    title: "Remote Desktop enabled",
    what: "Reads the Remote Desktop policy (SOFTWARE hive Policies\\Microsoft\\Windows NT\\Terminal Services\\fDenyTSConnections) and setting (SYSTEM hive, current control set from Select\\Current, \\Control\\Terminal Server\\fDenyTSConnections). A policy wins over the setting: a policy of 1 fails even when the setting allows connections, a policy of 0 passes whatever the setting says. Without a policy the setting decides: 1 fails, 0 passes; absent warns (Windows Server's default denies connections).",
    why: "Remote Desktop is how customers reach a Windows VM on Azure, and how the Certification Tool tests it.",
    remedy: "Enable Remote Desktop before capturing: Set-ItemProperty 'HKLM:\\System\\CurrentControlSet\\Control\\Terminal Server' fDenyTSConnections 0 (and allow it in the firewall); where a policy denies it, remove or change the Group Policy \"Allow users to connect remotely by using Remote Desktop Services\" (Remove-ItemProperty 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services' fDenyTSConnections).",
    sources: &["Azure Marketplace VM image guide: enable Remote Desktop", "Azure docs, prepare a Windows VHD: fDenyTSConnections 0 (setting and policy)", "Partner Center, troubleshoot virtual machine certification (azure-vm-certification-faq): remote access issue"],
    profiles: &[Profile::WindowsOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::PowerShell(fix);

/// The setting to 0, a denying policy value removed, the Remote Desktop firewall rules (their
/// group named by its resource, so in any display language) enabled.
fn fix(_: &crate::check::CheckResult) -> Option<crate::fix::powershell::PsBlock> {
    Some(crate::fix::powershell::PsBlock {
        changes: "sets Terminal Server fDenyTSConnections to 0, removes a policy fDenyTSConnections that denies, enables the Remote Desktop firewall rules".into(),
        ps: r#"$key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'
if ((Get-Value $key 'fDenyTSConnections') -ne 0) {
    Set-ItemProperty -LiteralPath $key -Name 'fDenyTSConnections' -Value 0 -Type DWord
    Say "set $key fDenyTSConnections = 0"
}
$policy = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
$denied = Get-Value $policy 'fDenyTSConnections'
if ($null -ne $denied -and $denied -ne 0) {
    Remove-ItemProperty -LiteralPath $policy -Name 'fDenyTSConnections'
    Say "removed the policy $policy fDenyTSConnections (a domain Group Policy that sets it brings it back)"
}
$rules = @(Get-NetFirewallRule -Group '@FirewallAPI.dll,-28752' -ErrorAction SilentlyContinue | Where-Object { $_.Enabled -ne 'True' })
if ($rules.Count -gt 0) {
    $rules | Enable-NetFirewallRule
    Say "enabled $($rules.Count) Remote Desktop firewall rule(s)"
}"#.into(),
    })
}

/// Where Group Policy's "Allow users to connect remotely by using Remote Desktop Services"
/// writes its value.
pub const POLICY: &str = "Policies\\Microsoft\\Windows NT\\Terminal Services";

pub fn run(ctx: &Context) -> Outcome {
    let (_, hive, cs) = match ctx.windows_control_set() {
        Ok(x) => x,
        Err(o) => return o,
    };
    let (_, software) = match ctx.windows_software() {
        Ok(x) => x,
        Err(o) => return o,
    };
    let key = format!("{cs}\\Control\\Terminal Server");
    let required = "fDenyTSConnections = 0 (policy, or else setting)";
    let select = Evidence::control_set(&cs);
    let setting = match reg_value_or_error(hive, "SYSTEM", &key, "fDenyTSConnections") {
        Ok(v) => v,
        Err(o) => return o,
    };
    let policy = match reg_value_or_error(software, "SOFTWARE", POLICY, "fDenyTSConnections") {
        Ok(v) => v,
        Err(o) => return o,
    };
    let setting_ev = Evidence::reg(
        "SYSTEM",
        &key,
        "fDenyTSConnections",
        setting.as_ref().map_or("(no value)".into(), show_data),
    );
    // A policy wins over the setting.
    if let Some(p) = policy {
        let Ok(n) = p.as_u32() else {
            return Outcome::error(format!(
                "SOFTWARE\\{POLICY} fDenyTSConnections is not a DWORD: {}",
                show_data(&p)
            ));
        };
        let policy_ev = Evidence::reg("SOFTWARE", POLICY, "fDenyTSConnections", n);
        let o = if n == 0 {
            Outcome::pass("policy 0 (connections allowed)", required).message(format!(
                "the policy allows Remote Desktop (SOFTWARE\\{POLICY} fDenyTSConnections = 0), which wins over the setting"
            ))
        } else {
            Outcome::fail(format!("policy {n} (connections denied)"), required).message(format!(
                "Remote Desktop is disabled by policy: SOFTWARE\\{POLICY} fDenyTSConnections = {n} (a policy wins over the setting)"
            ))
        };
        return o.evidence(policy_ev).evidence(select).evidence(setting_ev);
    }
    match setting {
        None => Outcome::warning("not set (Windows denies by default)", required)
            .message(format!("SYSTEM\\{key} has no fDenyTSConnections, and no policy sets it; Windows Server's default denies Remote Desktop"))
            .evidence(select)
            .evidence(setting_ev),
        Some(v) => match v.as_u32().ok() {
            Some(0) => Outcome::pass("0 (connections allowed)", required).evidence(select).evidence(setting_ev),
            Some(n) => Outcome::fail(format!("{n} (connections denied)"), required).message(format!("Remote Desktop is disabled: SYSTEM\\{key} fDenyTSConnections = {n}")).evidence(select).evidence(setting_ev),
            None => Outcome::error(format!("SYSTEM\\{key} fDenyTSConnections is not a DWORD")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{break_value, hive, run_windows, said, MemFs};
    use vhdlint_guest::windows::{SOFTWARE_HIVE, SYSTEM_HIVE};

    const SELECT_1: &str = "[Select]\n\"Current\"=dword:00000001\n\n";

    const NO_POLICY: &str = "[Microsoft\\Windows NT\\CurrentVersion]\n\"CurrentBuild\"=\"9600\"\n";

    fn with_system(hive: Vec<u8>) -> Outcome {
        with_hives(hive, NO_POLICY)
    }

    fn with_hives(system: Vec<u8>, software: &str) -> Outcome {
        let mut fs = MemFs::new();
        fs.file(SYSTEM_HIVE, system)
            .file(SOFTWARE_HIVE, crate::testing::hive(software));
        run_windows(fs, run)
    }

    fn policy(value: &str) -> String {
        format!(
            "[{POLICY}]\n\"fDenyTSConnections\"={value}\n\"fAllowUnsolicited\"=dword:00000000\n"
        )
    }

    #[test]
    fn a_policy_that_denies_fails_even_when_the_setting_allows() {
        let system = hive(&format!(
            "{SELECT_1}[ControlSet001\\Control\\Terminal Server]\n\"fDenyTSConnections\"=dword:00000000\n"
        ));
        let o = with_hives(system, &policy("dword:00000001"));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "policy 1 (connections denied)");
        assert_eq!(o.message, format!("Remote Desktop is disabled by policy: SOFTWARE\\{POLICY} fDenyTSConnections = 1 (a policy wins over the setting)"));
        let s = said(&o);
        assert!(
            s.contains(&format!("SOFTWARE\\{POLICY} fDenyTSConnections = 1")),
            "{s}"
        );
        assert!(
            s.contains("SYSTEM\\ControlSet001\\Control\\Terminal Server fDenyTSConnections = 0"),
            "{s}"
        );
    }

    #[test]
    fn a_policy_that_allows_wins_over_a_setting_that_denies() {
        let system = hive(&format!(
            "{SELECT_1}[ControlSet001\\Control\\Terminal Server]\n\"fDenyTSConnections\"=dword:00000001\n"
        ));
        let o = with_hives(system, &policy("dword:00000000"));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "policy 0 (connections allowed)");
        let s = said(&o);
        assert!(
            s.contains(&format!("SOFTWARE\\{POLICY} fDenyTSConnections = 0")),
            "{s}"
        );
        assert!(
            s.contains("SYSTEM\\ControlSet001\\Control\\Terminal Server fDenyTSConnections = 1"),
            "{s}"
        );
        // And over a setting that is not there.
        let system = hive(&format!(
            "{SELECT_1}[ControlSet001\\Control\\Terminal Server]\n\"X\"=dword:00000001\n"
        ));
        let o = with_hives(system, &policy("dword:00000000"));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(
            said(&o).contains("Terminal Server fDenyTSConnections = (no value)"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_when_the_policy_is_not_a_dword_or_the_software_hive_is_missing() {
        let system = hive(&format!(
            "{SELECT_1}[ControlSet001\\Control\\Terminal Server]\n\"fDenyTSConnections\"=dword:00000000\n"
        ));
        let o = with_hives(system.clone(), &policy("\"0\""));
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("Terminal Services fDenyTSConnections is not a DWORD"),
            "{}",
            said(&o)
        );
        let mut fs = MemFs::new();
        fs.file(SYSTEM_HIVE, system);
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("SOFTWARE hive"), "{}", said(&o));
    }

    fn deny(value: &str) -> Outcome {
        with_system(hive(&format!(
            "{SELECT_1}[ControlSet001\\Control\\Terminal Server]\n\"fDenyTSConnections\"={value}\n"
        )))
    }

    #[test]
    fn passes_when_connections_are_allowed() {
        let o = deny("dword:00000000");
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "0 (connections allowed)");
        let s = said(&o);
        assert!(s.contains("SYSTEM\\Select Current → ControlSet001"), "{s}");
        assert!(
            s.contains("SYSTEM\\ControlSet001\\Control\\Terminal Server fDenyTSConnections = 0"),
            "{s}"
        );
    }

    #[test]
    fn fails_when_connections_are_denied() {
        let o = deny("dword:00000001");
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "1 (connections denied)");
        assert!(said(&o).contains("fDenyTSConnections = 1"), "{}", said(&o));
    }

    #[test]
    fn fails_on_any_value_other_than_zero() {
        let o = deny("dword:00000002");
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "2 (connections denied)");
    }

    #[test]
    fn warns_when_the_value_is_not_set() {
        let o = with_system(hive(&format!(
            "{SELECT_1}[ControlSet001\\Control\\Terminal Server]\n\"fSingleSessionPerUser\"=dword:00000001\n"
        )));
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "not set (Windows denies by default)");
        assert!(said(&o).contains("Current → ControlSet001"), "{}", said(&o));
    }

    #[test]
    fn follows_the_current_control_set() {
        let o = with_system(hive(
            "[Select]\n\"Current\"=dword:00000002\n\n\
             [ControlSet001\\Control\\Terminal Server]\n\"fDenyTSConnections\"=dword:00000001\n\n\
             [ControlSet002\\Control\\Terminal Server]\n\"fDenyTSConnections\"=dword:00000000\n",
        ));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(said(&o).contains("SYSTEM\\ControlSet002\\Control\\Terminal Server"));
    }

    #[test]
    fn error_when_the_value_is_not_a_dword() {
        let o = deny("\"0\"");
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("fDenyTSConnections is not a DWORD"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_when_the_value_cannot_be_read() {
        let mut h = hive(&format!(
            "{SELECT_1}[ControlSet001\\Control\\Terminal Server]\n\"fDenyTSConnections\"=dword:00000000\n"
        ));
        break_value(&mut h, "fDenyTSConnections");
        let o = with_system(h);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("SYSTEM\\ControlSet001\\Control\\Terminal Server: "),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_without_a_current_control_set() {
        let o = with_system(hive(
            "[ControlSet001\\Control\\Terminal Server]\n\"fDenyTSConnections\"=dword:00000000\n",
        ));
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("SYSTEM\\Select\\Current"), "{}", said(&o));
    }

    #[test]
    fn error_without_a_system_hive() {
        let o = run_windows(MemFs::new(), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("SYSTEM hive"), "{}", said(&o));
    }
}
