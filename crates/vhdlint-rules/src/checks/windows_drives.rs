use vhdlint_guest::windows::reg_value;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/drives",
    title: "Only C: and D: relied on",
    what: "Reads the page file configuration (SYSTEM current control set \\Control\\Session Manager\\Memory Management PagingFiles): a drive letter other than C:, D: or `?:` (any drive) warns.",
    why: "An Azure VM has C: (OS) and D: (temporary resource disk); other letters belong to data disks the customer may not attach, so a page file there breaks the VM.",
    remedy: "Put the page file on C: or D:: set PagingFiles to \"D:\\pagefile.sys\" (or ?:\\pagefile.sys) before capturing.",
    sources: &["Azure Marketplace VM image guide: rely only on C: and D:"],
    profiles: &[Profile::WindowsOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::PowerShell(fix);

/// PagingFiles set to D:\pagefile.sys (the temporary disk, as Azure's guide sets it) when an
/// entry names a drive other than C:, D: or ?:.
fn fix(_: &crate::check::CheckResult) -> Option<crate::fix::powershell::PsBlock> {
    Some(crate::fix::powershell::PsBlock {
        changes: "sets Memory Management PagingFiles to D:\\pagefile.sys when a page file is on another drive".into(),
        ps: r#"$key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager\Memory Management'
$other = @(Get-Value $key 'PagingFiles' | Where-Object { $_ -match '^\s*([A-Za-z]):' -and $Matches[1] -notmatch '^[CcDd]$' })
if ($other.Count -gt 0) {
    Set-ItemProperty -LiteralPath $key -Name 'PagingFiles' -Value @('D:\pagefile.sys') -Type MultiString
    Say "set $key PagingFiles = D:\pagefile.sys (was $($other -join ', '); takes effect at the next start)"
}"#.into(),
    })
}

pub fn run(ctx: &Context) -> Outcome {
    let (_, hive, cs) = match ctx.windows_control_set() {
        Ok(x) => x,
        Err(o) => return o,
    };
    let key = format!("{cs}\\Control\\Session Manager\\Memory Management");
    let required = "page files on C:, D: or ?: only";
    let files = match reg_value(hive, &key, "PagingFiles") {
        Err(e) => return Outcome::error(format!("SYSTEM\\{key}: {e}")),
        Ok(None) => return Outcome::pass("no PagingFiles value", required),
        Ok(Some(v)) => v
            .as_multi_string()
            .ok()
            .or_else(|| v.as_string().ok().map(|s| vec![s]))
            .unwrap_or_default(),
    };
    let bad: Vec<&String> = files
        .iter()
        .filter(|f| {
            let letter = f.trim().chars().next().map(|c| c.to_ascii_uppercase());
            f.trim().chars().nth(1) == Some(':') && !matches!(letter, Some('C' | 'D' | '?'))
        })
        .collect();
    let ev = Evidence::path(
        format!("SYSTEM\\{key}"),
        None,
        format!("PagingFiles = {}", files.join(" | ")),
    );
    let select = Evidence::control_set(&cs);
    if bad.is_empty() {
        return Outcome::pass(files.join(", "), required)
            .evidence(select)
            .evidence(ev);
    }
    Outcome::warning(files.join(", "), required)
        .message(format!(
            "page file on another drive: {}",
            bad.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .evidence(select)
        .evidence(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{break_value, hive, run_windows, said, MemFs};
    use vhdlint_guest::windows::SYSTEM_HIVE;

    const KEY: &str = "[Select]\n\"Current\"=dword:00000001\n\n\
                       [ControlSet001\\Control\\Session Manager\\Memory Management]\n";

    fn with_system(hive: Vec<u8>) -> Outcome {
        let mut fs = MemFs::new();
        fs.file(SYSTEM_HIVE, hive);
        run_windows(fs, run)
    }

    fn paging_files(items: &[&str]) -> Outcome {
        with_system(hive(&format!(
            "{KEY}\"PagingFiles\"={}\n",
            crate::testing::reg_multi_sz(items)
        )))
    }

    #[test]
    fn passes_with_a_page_file_on_any_drive() {
        let o = paging_files(&["?:\\pagefile.sys"]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "?:\\pagefile.sys");
        let s = said(&o);
        assert!(
            s.contains("SYSTEM\\ControlSet001\\Control\\Session Manager\\Memory Management PagingFiles = ?:\\pagefile.sys"),
            "{s}"
        );
    }

    #[test]
    fn passes_with_page_files_on_c_and_d() {
        let o = paging_files(&["C:\\pagefile.sys 0 0", "d:\\pagefile.sys"]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "C:\\pagefile.sys 0 0, d:\\pagefile.sys");
        assert!(said(&o).contains("PagingFiles = C:\\pagefile.sys 0 0 | d:\\pagefile.sys"));
    }

    #[test]
    fn passes_without_a_paging_files_value() {
        let o = with_system(hive(&format!(
            "{KEY}\"ClearPageFileAtShutdown\"=dword:00000000\n"
        )));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "no PagingFiles value");
    }

    #[test]
    fn passes_an_indented_c_drive() {
        let o = paging_files(&[" c:\\pagefile.sys"]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn passes_a_name_without_a_drive_letter() {
        let o = paging_files(&["Epagefile.sys"]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn warns_on_a_page_file_on_another_drive() {
        let o = paging_files(&["C:\\pagefile.sys", "E:\\pagefile.sys"]);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "C:\\pagefile.sys, E:\\pagefile.sys");
        assert!(o.message.contains("E:\\pagefile.sys"), "{}", said(&o));
        assert!(!o.message.contains("C:"), "{}", said(&o));
        assert!(said(&o).contains("PagingFiles = C:\\pagefile.sys | E:\\pagefile.sys"));
    }

    #[test]
    fn warns_on_a_lowercase_or_indented_drive_letter() {
        let o = paging_files(&[" f:\\pagefile.sys"]);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(o.message.contains("f:\\pagefile.sys"), "{}", said(&o));
    }

    #[test]
    fn reads_a_plain_string_value_too() {
        let o = with_system(hive(&format!(
            "{KEY}\"PagingFiles\"=\"E:\\\\pagefile.sys\"\n"
        )));
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "E:\\pagefile.sys");
    }

    #[test]
    fn error_when_the_value_cannot_be_read() {
        let mut h = hive(&format!(
            "{KEY}\"PagingFiles\"={}\n",
            crate::testing::reg_multi_sz(&["C:\\pagefile.sys"])
        ));
        break_value(&mut h, "PagingFiles");
        let o = with_system(h);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o)
                .contains("SYSTEM\\ControlSet001\\Control\\Session Manager\\Memory Management: "),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_without_a_current_control_set() {
        let o = with_system(hive("[ControlSet001\\Control]\n\"X\"=dword:00000000\n"));
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("SYSTEM\\Select\\Current"), "{}", said(&o));
    }
}
