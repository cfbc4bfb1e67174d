use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/unattend",
    title: "No custom unattend file",
    what: "Looks for \\Windows\\Panther\\unattend.xml and \\Windows\\System32\\Sysprep\\unattend.xml, and for anything else left in \\Windows\\Panther (Setup's logs and answer files from an earlier run: the generalize instructions delete the folder before sysprep runs; sysprep logs its own run to \\Windows\\System32\\Sysprep\\Panther, which is not looked at). Each warns.",
    why: "Azure provisions Windows VMs with its own unattend answers; a custom unattend file left in the image overrides them, so the user name, password or computer name given at deployment may not apply.",
    remedy: "Delete the unattend files and the Panther folder before running sysprep: del %WINDIR%\\System32\\Sysprep\\unattend.xml & rd /s /q %WINDIR%\\Panther",
    sources: &["Azure Marketplace VM image guide: do not use a custom unattend file", "Microsoft, prepare a Windows VHD to upload to Azure / generalize: delete the panther directory (C:\\Windows\\Panther) before sysprep"],
    profiles: &[Profile::WindowsOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::PowerShell(fix);

/// The two unattend.xml files and the \Windows\Panther folder deleted, as the generalize
/// instructions do before sysprep.
fn fix(_: &crate::check::CheckResult) -> Option<crate::fix::powershell::PsBlock> {
    Some(crate::fix::powershell::PsBlock {
        changes: "deletes \\Windows\\Panther\\unattend.xml, \\Windows\\System32\\Sysprep\\unattend.xml and the \\Windows\\Panther folder".into(),
        ps: r#"$panther = Join-Path $env:SystemRoot 'Panther'
foreach ($file in @((Join-Path $panther 'unattend.xml'), (Join-Path $env:SystemRoot 'System32\Sysprep\unattend.xml'))) {
    if (Test-Path -LiteralPath $file) {
        Remove-Item -LiteralPath $file -Force
        Say "deleted $file"
    }
}
if (Test-Path -LiteralPath $panther) {
    Remove-Item -LiteralPath $panther -Recurse -Force
    Say "deleted $panther"
}"#.into(),
    })
}

/// The folder Windows Setup logs to and reads unattend answers from; the generalize
/// instructions delete it before sysprep runs.
const PANTHER: &str = "/Windows/Panther";
/// Leftovers named in the outcome; the rest are counted.
const SHOWN: usize = 10;

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.windows_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    // A path that could not be looked up is not taken for absent.
    let mut notes = Vec::new();
    let found: Vec<&str> = [
        "/Windows/Panther/unattend.xml",
        "/Windows/System32/Sysprep/unattend.xml",
    ]
    .into_iter()
    .filter(|p| g.view.exists_noted(p, &mut notes))
    .collect();
    // Everything else in \Windows\Panther is left from an earlier setup or sysprep run.
    let mut leftovers: Vec<String> = g
        .view
        .read_dir_noted(PANTHER, &mut notes)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| !e.name.eq_ignore_ascii_case("unattend.xml"))
        .map(|e| {
            format!(
                "\\Windows\\Panther\\{}{}",
                e.name,
                if e.kind == vhdlint_guest::fs::FileKind::Dir {
                    "\\"
                } else {
                    ""
                }
            )
        })
        .collect();
    leftovers.sort();
    let required = "no unattend.xml; \\Windows\\Panther deleted";
    if found.is_empty() && leftovers.is_empty() {
        return Outcome::pass("none", required).noted(notes);
    }
    let shown: Vec<String> = found.iter().map(|p| p.replace('/', "\\")).collect();
    let mut actual = shown.clone();
    let mut message = Vec::new();
    if !shown.is_empty() {
        message.push(format!("custom unattend file(s): {}", shown.join(", ")));
    }
    if !leftovers.is_empty() {
        let mut named: Vec<String> = leftovers.iter().take(SHOWN).cloned().collect();
        if leftovers.len() > SHOWN {
            named.push(format!("… {} more", leftovers.len() - SHOWN));
        }
        actual.push(format!(
            "{} leftover{} in \\Windows\\Panther",
            leftovers.len(),
            if leftovers.len() == 1 { "" } else { "s" }
        ));
        message.push(format!(
            "leftovers in \\Windows\\Panther (delete the folder before sysprep): {}",
            named.join(", ")
        ));
    }
    Outcome::warning(actual.join(", "), required)
        .message(message.join("; "))
        .evidences(
            shown
                .iter()
                .map(|p| Evidence::path(p.clone(), None, "unattend file"))
                .chain(
                    leftovers
                        .iter()
                        .take(SHOWN)
                        .map(|p| Evidence::path(p.clone(), None, "left in \\Windows\\Panther")),
                ),
        )
        .noted(notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{run_windows, said, MemFs};

    const PANTHER: &str = "/Windows/Panther/unattend.xml";
    const SYSPREP: &str = "/Windows/System32/Sysprep/unattend.xml";

    fn with(files: &[&str]) -> Outcome {
        let mut fs = MemFs::new();
        fs.dir("/Windows/System32/Sysprep").dir("/Windows/Panther");
        for f in files {
            fs.file(f, "<unattend/>");
        }
        run_windows(fs, run)
    }

    #[test]
    fn passes_without_unattend_files() {
        let o = with(&[]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "none");
    }

    #[test]
    fn error_when_where_it_would_be_cannot_be_read() {
        let mut fs = MemFs::new();
        fs.dir("/Windows/System32/Sysprep").broken_dir(
            "/Windows/Panther",
            vhdlint_guest::fs::FsError::Corrupt("/Windows/Panther: bad index".into()),
        );
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("/Windows/Panther: bad index"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn warns_on_the_panther_unattend_file() {
        let o = with(&[PANTHER]);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "\\Windows\\Panther\\unattend.xml");
        assert_eq!(o.evidence.len(), 1);
        assert_eq!(
            o.evidence[0].path.as_deref(),
            Some("\\Windows\\Panther\\unattend.xml")
        );
    }

    #[test]
    fn warns_on_the_sysprep_unattend_file() {
        let o = with(&[SYSPREP]);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "\\Windows\\System32\\Sysprep\\unattend.xml");
        assert!(o
            .message
            .contains("\\Windows\\System32\\Sysprep\\unattend.xml"));
    }

    #[test]
    fn warns_on_both_unattend_files() {
        let o = with(&[PANTHER, SYSPREP]);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(
            o.actual,
            "\\Windows\\Panther\\unattend.xml, \\Windows\\System32\\Sysprep\\unattend.xml"
        );
        assert_eq!(o.evidence.len(), 2);
    }

    #[test]
    fn passes_with_files_elsewhere_and_an_empty_or_absent_panther() {
        let o = with(&[
            "/Windows/System32/Sysprep/Panther/setupact.log",
            "/Windows/unattend.xml",
        ]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        let mut fs = MemFs::new();
        fs.dir("/Windows/System32/Sysprep");
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn warns_on_leftovers_in_panther() {
        let mut fs = MemFs::new();
        fs.dir("/Windows/System32/Sysprep")
            .dir("/Windows/Panther/UnattendGC")
            .file("/Windows/Panther/setupact.log", "log")
            .file("/Windows/Panther/setuperr.log", "");
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "3 leftovers in \\Windows\\Panther");
        assert_eq!(
            o.message,
            "leftovers in \\Windows\\Panther (delete the folder before sysprep): \\Windows\\Panther\\UnattendGC\\, \\Windows\\Panther\\setupact.log, \\Windows\\Panther\\setuperr.log"
        );
        assert_eq!(o.evidence.len(), 3);
        // With the unattend file: both said, the file not counted twice.
        let o = with(&[PANTHER, "/Windows/Panther/setupact.log"]);
        assert_eq!(
            o.actual,
            "\\Windows\\Panther\\unattend.xml, 1 leftover in \\Windows\\Panther"
        );
    }

    #[test]
    fn many_leftovers_are_counted() {
        let mut fs = MemFs::new();
        fs.dir("/Windows/System32/Sysprep");
        for i in 0..25 {
            fs.file(&format!("/Windows/Panther/f{i:02}.log"), "");
        }
        let o = run_windows(fs, run);
        assert_eq!(o.actual, "25 leftovers in \\Windows\\Panther");
        assert!(o.message.ends_with("… 15 more"), "{}", o.message);
        assert_eq!(o.evidence.len(), 10);
    }
}
