use vhdlint_guest::windows::show_data;

use crate::check::{CheckMeta, Evidence, Outcome, Status};
use crate::context::{reg_key_exists, reg_value_or_error};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/dvd-rom",
    title: "The DVD-ROM (provisioning media) is enabled",
    what: "Reads the CD-ROM class driver's start type (SYSTEM hive, current control set from Select\\Current, Services\\cdrom\\Start): 4 (disabled) fails, 0 to 3 pass; a missing cdrom service key warns (every Windows installation has it; Plug and Play may reinstall it from cdrom.inf, or may not). Reads the removable-storage policies of the SOFTWARE hive: Policies\\Microsoft\\Windows\\RemovableStorageDevices\\{53f56308-b6bf-11d0-94f2-00a0c91efb8b}\\Deny_Read = 1 (\"CD and DVD: Deny read access\") or RemovableStorageDevices\\Deny_All = 1 (\"All Removable Storage classes: Deny all access\") fails.",
    why: "Azure hands a Windows VM its provisioning answers (computer name, administrator account) on a virtual DVD. With the DVD-ROM disabled the VM cannot read them: it stays at the out-of-box experience (OOBE) and provisioning times out.",
    remedy: "Enable the DVD-ROM before generalizing: Set-ItemProperty 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\cdrom' Start 1, and remove the removable-storage policies that deny CD/DVD reads (Remove-ItemProperty 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\RemovableStorageDevices\\{53f56308-b6bf-11d0-94f2-00a0c91efb8b}' Deny_Read; Remove-ItemProperty 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\RemovableStorageDevices' Deny_All), or the Group Policy that sets them.",
    sources: &[
        "Microsoft, prepare a Windows VHD to upload to Azure / generalize: the DVD-ROM must be enabled in the generalized image, or the VM is stuck at OOBE",
        "Partner Center, troubleshoot virtual machine certification (azure-vm-certification-faq)",
    ],
    profiles: &[Profile::WindowsOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::PowerShell(fix);

/// The cdrom driver's start type set to 1 where it is disabled or unset, the removable-storage
/// policy values that deny CD/DVD reads removed.
fn fix(_: &crate::check::CheckResult) -> Option<crate::fix::powershell::PsBlock> {
    Some(crate::fix::powershell::PsBlock {
        changes: "sets Services\\cdrom Start to 1 where it is 4 or unset, removes the Deny_Read (CD and DVD) and Deny_All removable-storage policy values".into(),
        ps: r#"$key = 'HKLM:\SYSTEM\CurrentControlSet\Services\cdrom'
if (Test-Path -LiteralPath $key) {
    $start = Get-Value $key 'Start'
    if ($null -eq $start -or $start -gt 3) {
        Set-ItemProperty -LiteralPath $key -Name 'Start' -Value 1 -Type DWord
        Say "set $key Start = 1 (the DVD-ROM driver loads)"
    }
} else {
    Write-Warning "$key does not exist: reinstall the CD-ROM driver (pnputil /scan-devices) before sysprep"
}
$policies = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\RemovableStorageDevices'
foreach ($deny in @(@("$policies\{53f56308-b6bf-11d0-94f2-00a0c91efb8b}", 'Deny_Read'), @($policies, 'Deny_All'))) {
    if ((Get-Value $deny[0] $deny[1]) -eq 1) {
        Remove-ItemProperty -LiteralPath $deny[0] -Name $deny[1]
        Say "removed the policy $($deny[0]) $($deny[1]) (a domain Group Policy that sets it brings it back)"
    }
}"#.into(),
    })
}

/// The device setup class of CD and DVD drives, as removable-storage policies name it.
pub const CDROM_CLASS: &str = "{53f56308-b6bf-11d0-94f2-00a0c91efb8b}";
const POLICIES: &str = "Policies\\Microsoft\\Windows\\RemovableStorageDevices";

pub fn run(ctx: &Context) -> Outcome {
    let (_, system, cs) = match ctx.windows_control_set() {
        Ok(x) => x,
        Err(o) => return o,
    };
    let required = "cdrom service not disabled (Start ≠ 4); no policy denying CD/DVD reads";
    let mut problems: Vec<(Status, String, String)> = Vec::new();
    let mut evidence = vec![Evidence::control_set(&cs)];

    // The driver.
    let key = format!("{cs}\\Services\\cdrom");
    match reg_key_exists(system, "SYSTEM", &key) {
        Err(o) => return o,
        Ok(false) => {
            evidence.push(Evidence::path(format!("SYSTEM\\{key}"), None, "(no key)"));
            problems.push((
                Status::Warning,
                "cdrom service missing".into(),
                format!("SYSTEM\\{key} does not exist: the CD-ROM class driver is not configured, so the provisioning DVD may not be readable"),
            ));
        }
        Ok(true) => {
            match reg_value_or_error(system, "SYSTEM", &key, "Start") {
                Err(o) => return o,
                Ok(None) => {
                    evidence.push(Evidence::reg("SYSTEM", &key, "Start", "(no value)"));
                    problems.push((
                    Status::Warning,
                    "cdrom Start not set".into(),
                    format!("SYSTEM\\{key} has no Start value, so whether the CD-ROM driver loads is unknown"),
                ));
                }
                Ok(Some(v)) => {
                    let Ok(n) = v.as_u32() else {
                        return Outcome::error(format!(
                            "SYSTEM\\{key} Start is not a DWORD: {}",
                            show_data(&v)
                        ));
                    };
                    evidence.push(Evidence::reg("SYSTEM", &key, "Start", n));
                    match n {
                    0..=3 => {}
                    4 => problems.push((
                        Status::Fail,
                        "cdrom disabled (Start = 4)".into(),
                        format!("the DVD-ROM is disabled: SYSTEM\\{key} Start = 4"),
                    )),
                    n => problems.push((
                        Status::Warning,
                        format!("cdrom Start = {n}"),
                        format!("SYSTEM\\{key} Start = {n} is not a start type Windows knows (0 to 4)"),
                    )),
                }
                }
            }
        }
    }

    // The policies. A SOFTWARE hive that cannot be read leaves them unknown: an error, unless
    // the driver is already disabled (a certain fail whatever the policies say).
    let software = match ctx.windows_software() {
        Ok((_, h)) => h,
        Err(o) => return fail_despite(problems, evidence, required, o),
    };
    for (key, name, what) in [
        (
            format!("{POLICIES}\\{CDROM_CLASS}"),
            "Deny_Read",
            "CD and DVD: Deny read access",
        ),
        (
            POLICIES.to_string(),
            "Deny_All",
            "All Removable Storage classes: Deny all access",
        ),
    ] {
        let v = match reg_value_or_error(software, "SOFTWARE", &key, name) {
            Err(o) => return fail_despite(problems, evidence, required, o),
            Ok(None) => continue,
            Ok(Some(v)) => v,
        };
        let Ok(n) = v.as_u32() else {
            let o = Outcome::error(format!(
                "SOFTWARE\\{key} {name} is not a DWORD: {}",
                show_data(&v)
            ));
            return fail_despite(problems, evidence, required, o);
        };
        evidence.push(Evidence::reg("SOFTWARE", &key, name, n));
        if n == 1 {
            problems.push((
                Status::Fail,
                format!("policy {name} = 1"),
                format!("the policy \"{what}\" is on: SOFTWARE\\{key} {name} = 1"),
            ));
        }
    }

    if problems.is_empty() {
        return Outcome::pass("enabled", required).evidences(evidence);
    }
    judge(problems, evidence, required)
}

/// The policies could not be read (`unknown`, an error): a driver already disabled is still a
/// certain fail, said with what could not be read; otherwise the error stands.
fn fail_despite(
    problems: Vec<(Status, String, String)>,
    mut evidence: Vec<Evidence>,
    required: &str,
    unknown: Outcome,
) -> Outcome {
    if !problems.iter().any(|p| p.0 == Status::Fail) {
        return unknown;
    }
    evidence.push(Evidence::path(
        "SOFTWARE",
        None,
        format!("removable-storage policies not read: {}", unknown.message),
    ));
    judge(problems, evidence, required)
}

fn judge(
    problems: Vec<(Status, String, String)>,
    evidence: Vec<Evidence>,
    required: &str,
) -> Outcome {
    let status = if problems.iter().any(|p| p.0 == Status::Fail) {
        Status::Fail
    } else {
        Status::Warning
    };
    let actual: Vec<&str> = problems.iter().map(|p| p.1.as_str()).collect();
    let message: Vec<&str> = problems.iter().map(|p| p.2.as_str()).collect();
    Outcome::with_status(status, actual.join("; "), required)
        .message(message.join("; "))
        .evidences(evidence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{break_value, hive, run_windows, said, windows_hives, MemFs};
    use vhdlint_guest::windows::{SOFTWARE_HIVE, SYSTEM_HIVE};

    const SELECT_1: &str = "[Select]\n\"Current\"=dword:00000001\n\n";

    fn cdrom(start: &str) -> String {
        format!("{SELECT_1}[ControlSet001\\Services\\cdrom]\n\"Start\"={start}\n")
    }

    fn with(system: &str, software: &str) -> Outcome {
        run_windows(windows_hives(Some(system), Some(software)), run)
    }

    const NO_POLICY: &str = "[Microsoft\\Windows NT\\CurrentVersion]\n\"CurrentBuild\"=\"9600\"\n";

    #[test]
    fn passes_when_the_driver_starts_and_no_policy_denies() {
        let o = with(&cdrom("dword:00000001"), NO_POLICY);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "enabled");
        let s = said(&o);
        assert!(s.contains("SYSTEM\\Select Current → ControlSet001"), "{s}");
        assert!(
            s.contains("SYSTEM\\ControlSet001\\Services\\cdrom Start = 1"),
            "{s}"
        );
    }

    #[test]
    fn fails_when_the_driver_is_disabled() {
        let o = with(&cdrom("dword:00000004"), NO_POLICY);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "cdrom disabled (Start = 4)");
        assert_eq!(
            o.message,
            "the DVD-ROM is disabled: SYSTEM\\ControlSet001\\Services\\cdrom Start = 4"
        );
    }

    #[test]
    fn follows_the_current_control_set() {
        let o = with(
            "[Select]\n\"Current\"=dword:00000002\n\n\
             [ControlSet001\\Services\\cdrom]\n\"Start\"=dword:00000001\n\n\
             [ControlSet002\\Services\\cdrom]\n\"Start\"=dword:00000004\n",
            NO_POLICY,
        );
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(said(&o).contains("SYSTEM\\ControlSet002\\Services\\cdrom Start = 4"));
    }

    #[test]
    fn fails_when_a_policy_denies_cd_reads() {
        let o = with(
            &cdrom("dword:00000001"),
            &format!("[{POLICIES}\\{CDROM_CLASS}]\n\"Deny_Read\"=dword:00000001\n\"Deny_Write\"=dword:00000001\n"),
        );
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "policy Deny_Read = 1");
        assert!(said(&o).contains(&format!(
            "SOFTWARE\\{POLICIES}\\{CDROM_CLASS} Deny_Read = 1"
        )));
        let o = with(
            &cdrom("dword:00000001"),
            &format!("[{POLICIES}]\n\"Deny_All\"=dword:00000001\n"),
        );
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "policy Deny_All = 1");
        // Both, and the driver disabled: each named.
        let o = with(
            &cdrom("dword:00000004"),
            &format!("[{POLICIES}]\n\"Deny_All\"=dword:00000001\n\n[{POLICIES}\\{CDROM_CLASS}]\n\"Deny_Read\"=dword:00000001\n"),
        );
        assert_eq!(
            o.actual,
            "cdrom disabled (Start = 4); policy Deny_Read = 1; policy Deny_All = 1"
        );
    }

    #[test]
    fn a_policy_set_to_zero_passes() {
        let o = with(
            &cdrom("dword:00000001"),
            &format!("[{POLICIES}\\{CDROM_CLASS}]\n\"Deny_Read\"=dword:00000000\n"),
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(said(&o).contains("Deny_Read = 0"), "{}", said(&o));
    }

    #[test]
    fn warns_when_the_service_is_missing() {
        let o = with(
            &format!("{SELECT_1}[ControlSet001\\Services\\disk]\n\"Start\"=dword:00000000\n"),
            NO_POLICY,
        );
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "cdrom service missing");
        assert!(o
            .message
            .contains("SYSTEM\\ControlSet001\\Services\\cdrom does not exist"));
    }

    #[test]
    fn warns_for_a_start_type_windows_does_not_know() {
        let o = with(&cdrom("dword:00000007"), NO_POLICY);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "cdrom Start = 7");
    }

    #[test]
    fn error_when_start_is_not_a_dword_or_unreadable() {
        let o = with(&cdrom("\"1\""), NO_POLICY);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("cdrom Start is not a DWORD: \"1\""),
            "{}",
            said(&o)
        );
        let mut h = hive(&cdrom("dword:00000001"));
        break_value(&mut h, "Start");
        let mut fs = MemFs::new();
        fs.file(SYSTEM_HIVE, h).file(SOFTWARE_HIVE, hive(NO_POLICY));
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("SYSTEM\\ControlSet001\\Services\\cdrom: "),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_without_either_hive() {
        let o = run_windows(windows_hives(Some(&cdrom("dword:00000001")), None), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("SOFTWARE hive"), "{}", said(&o));
        let o = run_windows(windows_hives(None, Some(NO_POLICY)), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("SYSTEM hive"), "{}", said(&o));
    }

    #[test]
    fn a_disabled_driver_fails_even_when_the_policies_cannot_be_read() {
        let o = run_windows(windows_hives(Some(&cdrom("dword:00000004")), None), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "cdrom disabled (Start = 4)");
        assert!(said(&o).contains("policies not read"), "{}", said(&o));
        assert!(said(&o).contains("SOFTWARE hive"), "{}", said(&o));
        // A policy value that is not a DWORD leaves the policy unknown the same way.
        let o = with(
            &cdrom("dword:00000004"),
            "[Policies\\Microsoft\\Windows\\RemovableStorageDevices]\n\"Deny_All\"=\"1\"\n",
        );
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(said(&o).contains("Deny_All is not a DWORD"), "{}", said(&o));
        let o = with(
            &cdrom("dword:00000001"),
            "[Policies\\Microsoft\\Windows\\RemovableStorageDevices]\n\"Deny_All\"=\"1\"\n",
        );
        assert_eq!(o.status, Status::Error, "{}", said(&o));
    }
}
