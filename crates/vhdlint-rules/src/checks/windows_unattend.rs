use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/unattend",
    title: "No custom unattend file",
    what: "Looks for \\Windows\\Panther\\unattend.xml and \\Windows\\System32\\Sysprep\\unattend.xml.",
    why: "Azure provisions Windows VMs with its own unattend answers; a custom unattend file left in the image overrides them, so the user name, password or computer name given at deployment may not apply.",
    remedy: "Delete the unattend files before capturing: del %WINDIR%\\Panther\\unattend.xml %WINDIR%\\System32\\Sysprep\\unattend.xml",
    sources: &["Azure Marketplace VM image guide: do not use a custom unattend file"],
    profiles: &[Profile::WindowsOs],
    policies: crate::policy::ALL,
};

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
    let required = "no unattend.xml";
    if found.is_empty() {
        return Outcome::pass("none", required).noted(notes);
    }
    let shown: Vec<String> = found.iter().map(|p| p.replace('/', "\\")).collect();
    Outcome::warning(shown.join(", "), required)
        .message(format!("custom unattend file(s): {}", shown.join(", ")))
        .evidences(
            shown
                .iter()
                .map(|p| Evidence::path(p.clone(), None, "unattend file")),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{run_windows, run_windows_inspection, said, MemFs};
    use vhdlint_guest::windows::WindowsInspection;

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
    fn passes_with_other_files_beside_them() {
        let o = with(&["/Windows/Panther/setupact.log", "/Windows/unattend.xml"]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn error_without_a_windows_system_volume() {
        let none = WindowsInspection {
            candidates: Vec::new(),
            guest: None,
        };
        let o = run_windows_inspection(Ok(none), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
    }
}
