use vhdlint_guest::windows::{multi_sz_entries, quote, show_data};

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::context::{reg_key_exists, reg_value_or_error};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/pending-reboot",
    title: "Sysprep did not leave a pending restart",
    what: "Looks for the signs Windows keeps of a restart it still needs: the SOFTWARE keys Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending and Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired, and file operations queued for the next boot in the SYSTEM hive (current control set from Select\\Current) Control\\Session Manager PendingFileRenameOperations and PendingFileRenameOperations2 (REG_MULTI_SZ with entries). Any of them warns, each named.",
    why: "An update or installation that waits for a restart finishes at the first boot of every VM made from the image: the VM restarts during provisioning, or Windows Update's servicing runs after sysprep, which can leave the image unusable or slow to provision.",
    remedy: "Restart the VM and let the pending servicing finish (check that the keys and PendingFileRenameOperations are gone), then run sysprep /generalize /oobe /shutdown again.",
    sources: &[
        "Microsoft, prepare a Windows VHD to upload to Azure: install the latest updates and restart before running sysprep",
        "Partner Center, troubleshoot virtual machine certification (azure-vm-certification-faq)",
    ],
    profiles: &[Profile::WindowsOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::PowerShell(fix);

/// Nothing is changed: the block looks for the same signs in the running VM and, while a restart
/// is pending, says so and keeps the sysprep step from running.
fn fix(_: &crate::check::CheckResult) -> Option<crate::fix::powershell::PsBlock> {
    Some(crate::fix::powershell::PsBlock {
        changes: "nothing: warns while a restart is pending in this VM and keeps the last step (sysprep) from running until after a restart".into(),
        ps: r#"$pending = @()
foreach ($key in @('HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending', 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired')) {
    if (Test-Path -LiteralPath $key) { $pending += $key }
}
$sm = 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager'
foreach ($name in @('PendingFileRenameOperations', 'PendingFileRenameOperations2')) {
    if (@(Get-Value $sm $name | Where-Object { $_ }).Count -gt 0) { $pending += "$sm $name" }
}
if ($pending.Count -gt 0) {
    $script:RestartPending = $true
    Write-Warning "a restart is pending ($($pending -join '; ')): restart the VM, let servicing finish, and run this script again before sysprep"
}"#.into(),
    })
}

const CBS: &str = "Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending";
const WU: &str = "Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired";
/// Queued entries shown in evidence, per value.
const SHOWN: usize = 8;

pub fn run(ctx: &Context) -> Outcome {
    let (_, system, cs) = match ctx.windows_control_set() {
        Ok(x) => x,
        Err(o) => return o,
    };
    let (_, software) = match ctx.windows_software() {
        Ok(x) => x,
        Err(o) => return o,
    };
    let required = "no pending restart";
    let mut found = Vec::new();
    let mut evidence = Vec::new();
    for key in [CBS, WU] {
        match reg_key_exists(software, "SOFTWARE", key) {
            Err(o) => return o,
            Ok(false) => {
                evidence.push(Evidence::path(format!("SOFTWARE\\{key}"), None, "(no key)"))
            }
            Ok(true) => {
                found.push(format!("SOFTWARE\\{key}"));
                evidence.push(Evidence::path(
                    format!("SOFTWARE\\{key}"),
                    None,
                    "(key exists)",
                ));
            }
        }
    }
    let sm = format!("{cs}\\Control\\Session Manager");
    for name in [
        "PendingFileRenameOperations",
        "PendingFileRenameOperations2",
    ] {
        let v = match reg_value_or_error(system, "SYSTEM", &sm, name) {
            Err(o) => return o,
            Ok(None) => {
                evidence.push(Evidence::reg("SYSTEM", &sm, name, "(no value)"));
                continue;
            }
            Ok(Some(v)) => v,
        };
        let Ok(entries) = multi_sz_entries(&v) else {
            return Outcome::error(format!(
                "SYSTEM\\{sm} {name} is not a REG_MULTI_SZ: {}",
                show_data(&v)
            ));
        };
        // Pairs of source and destination; an empty destination deletes the source.
        let sources: Vec<&String> = entries
            .iter()
            .step_by(2)
            .filter(|s| !s.is_empty())
            .collect();
        if sources.is_empty() {
            evidence.push(Evidence::reg("SYSTEM", &sm, name, "(no entries)"));
            continue;
        }
        let mut shown: Vec<String> = sources.iter().take(SHOWN).map(|s| quote(s)).collect();
        if sources.len() > SHOWN {
            shown.push(format!("… {} more", sources.len() - SHOWN));
        }
        found.push(format!(
            "SYSTEM\\{sm} {name} ({} file operation{})",
            sources.len(),
            if sources.len() == 1 { "" } else { "s" }
        ));
        evidence.push(Evidence::reg("SYSTEM", &sm, name, shown.join(", ")));
    }
    let mut all = vec![Evidence::control_set(&cs)];
    all.extend(evidence);
    if found.is_empty() {
        return Outcome::pass("none", required).evidences(all);
    }
    Outcome::warning(found.join("; "), required)
        .message(format!("a restart is pending: {}", found.join("; ")))
        .evidences(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{
        break_value, hive, run_windows, run_windows_inspection, said, windows_hives, MemFs,
    };
    use vhdlint_guest::windows::{WindowsInspection, SOFTWARE_HIVE, SYSTEM_HIVE};

    const SELECT_1: &str = "[Select]\n\"Current\"=dword:00000001\n\n";
    const SW: &str =
        "[Microsoft\\Windows\\CurrentVersion]\n\"ProgramFilesDir\"=\"C:\\\\Program Files\"\n\n";

    fn system(values: &str) -> String {
        format!("{SELECT_1}[ControlSet001\\Control\\Session Manager]\n\"BootExecute\"=\"autocheck\"\n{values}")
    }

    fn with(system_values: &str, software: &str) -> Outcome {
        run_windows(
            windows_hives(
                Some(&system(system_values)),
                Some(&format!("{SW}{software}")),
            ),
            run,
        )
    }

    #[test]
    fn passes_without_signs_of_a_pending_restart() {
        let o = with("", "");
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "none");
        assert!(said(&o).contains("Current → ControlSet001"), "{}", said(&o));
    }

    #[test]
    fn warns_for_each_key() {
        let o = with("", &format!("[{CBS}]\n\"x\"=dword:00000001\n\n[{WU}]\n\n"));
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, format!("SOFTWARE\\{CBS}; SOFTWARE\\{WU}"));
        assert_eq!(
            o.message,
            format!("a restart is pending: SOFTWARE\\{CBS}; SOFTWARE\\{WU}")
        );
        assert!(
            said(&o).contains(&format!("SOFTWARE\\{WU} (key exists)")),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn warns_for_queued_file_operations_naming_them() {
        let v = crate::testing::reg_multi_sz(&[
            "\\??\\C:\\Windows\\Temp\\a.tmp",
            "",
            "\\??\\C:\\x.new",
            "!\\??\\C:\\x.dll",
        ]);
        let o = with(&format!("\"PendingFileRenameOperations\"={v}\n"), "");
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(
            o.actual,
            "SYSTEM\\ControlSet001\\Control\\Session Manager PendingFileRenameOperations (2 file operations)"
        );
        let s = said(&o);
        assert!(
            s.contains("SYSTEM\\ControlSet001\\Control\\Session Manager PendingFileRenameOperations = \"\\??\\C:\\Windows\\Temp\\a.tmp\", \"\\??\\C:\\x.new\""),
            "{s}"
        );
        let v2 = crate::testing::reg_multi_sz(&["\\??\\C:\\y", ""]);
        let o = with(&format!("\"PendingFileRenameOperations2\"={v2}\n"), "");
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(
            o.actual
                .contains("PendingFileRenameOperations2 (1 file operation)"),
            "{}",
            o.actual
        );
    }

    #[test]
    fn an_empty_list_passes() {
        let o = with(
            &format!(
                "\"PendingFileRenameOperations\"={}\n",
                crate::testing::reg_multi_sz(&[])
            ),
            "",
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn long_lists_are_cut_in_evidence() {
        let names: Vec<String> = (0..20).map(|i| format!("\\??\\C:\\f{i}")).collect();
        let mut items: Vec<&str> = Vec::new();
        for n in &names {
            items.push(n);
            items.push("");
        }
        let o = with(
            &format!(
                "\"PendingFileRenameOperations\"={}\n",
                crate::testing::reg_multi_sz(&items)
            ),
            "",
        );
        assert!(o.actual.contains("(20 file operations)"), "{}", o.actual);
        assert!(said(&o).contains("… 12 more"), "{}", said(&o));
    }

    #[test]
    fn follows_the_current_control_set() {
        let v = crate::testing::reg_multi_sz(&["\\??\\C:\\z", ""]);
        let body = format!(
            "[Select]\n\"Current\"=dword:00000002\n\n[ControlSet001\\Control\\Session Manager]\n\"PendingFileRenameOperations\"={v}\n\n[ControlSet002\\Control\\Session Manager]\n\"X\"=dword:00000000\n"
        );
        let o = run_windows(windows_hives(Some(&body), Some(SW)), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn error_for_a_value_of_another_type_or_unreadable() {
        let o = with("\"PendingFileRenameOperations\"=\"C:\\\\x\"\n", "");
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("PendingFileRenameOperations is not a REG_MULTI_SZ"),
            "{}",
            said(&o)
        );
        let mut h = hive(&system(&format!(
            "\"PendingFileRenameOperations\"={}\n",
            crate::testing::reg_multi_sz(&["a", ""])
        )));
        break_value(&mut h, "PendingFileRenameOperations");
        let mut fs = MemFs::new();
        fs.file(SYSTEM_HIVE, h).file(SOFTWARE_HIVE, hive(SW));
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("SYSTEM\\ControlSet001\\Control\\Session Manager: "),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_without_a_hive_or_a_system_volume() {
        let o = run_windows(windows_hives(Some(&system("")), None), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        let none = WindowsInspection {
            candidates: Vec::new(),
            guest: None,
        };
        let o = run_windows_inspection(Ok(none), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
    }
}
