use vhdlint_guest::windows::{decode_text, image_state};

use crate::check::{CheckMeta, Evidence, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/generalized",
    title: "Sysprep generalized",
    what: "Reads \\Windows\\Setup\\State\\State.ini (UTF-16 with a byte-order mark) for `ImageState=IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE`, and cross-checks the SOFTWARE hive's Microsoft\\Windows\\CurrentVersion\\Setup\\State ImageState where present.",
    why: "An image that was not generalized with sysprep carries its machine's SID, name and drivers state; Azure cannot provision it and the Certification Tool fails it.",
    remedy: "Generalize before capturing: %WINDIR%\\System32\\Sysprep\\sysprep.exe /generalize /oobe /shutdown",
    sources: &["Azure Marketplace VM image guide: generalize the image with sysprep", "Certification Test Tool: sysprep state"],
    profiles: &[Profile::WindowsOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::PowerShell(fix);

/// Nothing here: generalizing is the script's last step (sysprep), run with -Generalize.
fn fix(_: &crate::check::CheckResult) -> Option<crate::fix::powershell::PsBlock> {
    Some(crate::fix::powershell::PsBlock {
        changes: "nothing here: the last step of this script generalizes the VM (sysprep /generalize /oobe /shutdown) when started with -Generalize".into(),
        ps: r#"if (-not $Generalize) {
    Say 'the image was captured without being generalized: run this script with -Generalize (its last step runs sysprep)'
}"#.into(),
    })
}

const GENERALIZED: &str = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE";

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.windows_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let path = "/Windows/Setup/State/State.ini";
    let shown = "\\Windows\\Setup\\State\\State.ini";
    let required = "ImageState=IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE";
    let text = match g
        .view
        .read_upto(path, 64 << 10)
        .and_then(|b| decode_text(&b))
    {
        Ok(t) => t,
        Err(vhdlint_guest::fs::FsError::NotFound(_)) => {
            return Outcome::fail("no State.ini", required)
                .message(format!(
                    "{shown} is missing: the image was never generalized with sysprep"
                ))
                .evidence(Evidence::path(shown, None, "missing"))
        }
        Err(e) => return Outcome::error(format!("{shown}: {e}")),
    };
    let state = image_state(&text).map(|s| (s.line, s.value, s.raw));
    let Some((line, value, raw)) = state else {
        return Outcome::fail("no ImageState in State.ini", required)
            .message(format!("{shown} has no ImageState line"))
            .evidence(Evidence::path(shown, None, "no ImageState"));
    };
    let mut ev = vec![Evidence::path(shown, Some(line), raw)];
    let mut status = if value == GENERALIZED {
        Status::Pass
    } else {
        Status::Fail
    };
    let mut msg = if status == Status::Fail {
        format!("State.ini says {value}: the image is not generalized")
    } else {
        String::new()
    };
    if let Ok(hive) = g.software() {
        let key = "Microsoft\\Windows\\CurrentVersion\\Setup\\State";
        if let Ok(Some(v)) = hive
            .open(key)
            .and_then(|k| k.map(|k| k.value("ImageState")).transpose())
            .map(Option::flatten)
        {
            if let Ok(h) = v.as_string() {
                ev.push(Evidence::path(
                    format!("SOFTWARE\\{key}"),
                    None,
                    format!("ImageState = {h}"),
                ));
                if h != value {
                    status = status.max(Status::Warning);
                    msg = format!(
                        "{}State.ini says {value} but the SOFTWARE hive says {h}",
                        if msg.is_empty() {
                            String::new()
                        } else {
                            format!("{msg}; ")
                        }
                    );
                }
            }
        }
        if hive.is_dirty() {
            ev.push(Evidence::note("the SOFTWARE hive is dirty (its sequence numbers differ): it was not flushed when captured"));
        }
    }
    match status {
        Status::Pass => Outcome::pass(value, required).evidences(ev),
        s => Outcome::with_status(s, value, required)
            .message(msg)
            .evidences(ev),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{hive, hive_with, run_windows, said, MemFs};
    use vhdlint_guest::windows::SOFTWARE_HIVE;

    const STATE_INI: &str = "/Windows/Setup/State/State.ini";
    const SHOWN: &str = "\\Windows\\Setup\\State\\State.ini";

    /// State.ini as Windows writes it: UTF-16LE with a byte-order mark.
    fn utf16(text: &str) -> Vec<u8> {
        let mut b = vec![0xFF, 0xFE];
        b.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        b
    }

    fn state_ini(state: &str) -> Vec<u8> {
        utf16(&format!("[State]\r\nImageState={state}\r\n"))
    }

    /// A SOFTWARE hive whose Setup\State ImageState is `value` (a .reg value).
    fn software(value: &str) -> Vec<u8> {
        hive(&format!(
            "[Microsoft\\Windows\\CurrentVersion\\Setup\\State]\n\"ImageState\"={value}\n"
        ))
    }

    fn check(ini: Option<Vec<u8>>, software: Option<Vec<u8>>) -> Outcome {
        let mut fs = MemFs::new();
        fs.dir("/Windows/System32");
        if let Some(b) = ini {
            fs.file(STATE_INI, b);
        }
        if let Some(h) = software {
            fs.file(SOFTWARE_HIVE, h);
        }
        run_windows(fs, run)
    }

    #[test]
    fn passes_a_generalized_image() {
        let o = check(Some(state_ini(GENERALIZED)), None);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, GENERALIZED);
        assert_eq!(o.evidence.len(), 1);
        assert!(
            said(&o).contains(&format!("{SHOWN}:2 ImageState={GENERALIZED}")),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn passes_when_the_software_hive_agrees() {
        let o = check(
            Some(state_ini(GENERALIZED)),
            Some(software(&format!("\"{GENERALIZED}\""))),
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(
            said(&o).contains(&format!(
                "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\State ImageState = {GENERALIZED}"
            )),
            "{}",
            said(&o)
        );
        assert!(!said(&o).contains("dirty"), "{}", said(&o));
    }

    #[test]
    fn reads_a_utf8_state_ini_with_a_quoted_value() {
        let o = check(
            Some(format!("; comment\nimagestate = \"{GENERALIZED}\"\n").into_bytes()),
            None,
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, GENERALIZED);
        assert!(said(&o).contains(&format!("{SHOWN}:2 ")), "{}", said(&o));
    }

    #[test]
    fn fails_an_image_that_is_not_generalized() {
        let o = check(Some(state_ini("IMAGE_STATE_COMPLETE")), None);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "IMAGE_STATE_COMPLETE");
        assert!(
            o.message.contains("State.ini says IMAGE_STATE_COMPLETE"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn fails_without_state_ini() {
        let o = check(None, Some(software(&format!("\"{GENERALIZED}\""))));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "no State.ini");
        assert!(
            said(&o).contains(&format!("{SHOWN} missing")),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn fails_without_an_image_state_line() {
        let o = check(Some(utf16("[State]\r\nOther=1\r\n")), None);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "no ImageState in State.ini");
    }

    #[test]
    fn warns_when_the_software_hive_disagrees() {
        let o = check(
            Some(state_ini(GENERALIZED)),
            Some(software("\"IMAGE_STATE_UNDEPLOYABLE\"")),
        );
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, GENERALIZED);
        assert!(
            o.message.starts_with(&format!(
                "State.ini says {GENERALIZED} but the SOFTWARE hive says IMAGE_STATE_UNDEPLOYABLE"
            )),
            "{}",
            said(&o)
        );
        assert!(said(&o).contains("ImageState = IMAGE_STATE_UNDEPLOYABLE"));
    }

    #[test]
    fn fails_and_reports_both_when_neither_is_generalized() {
        let o = check(
            Some(state_ini("IMAGE_STATE_COMPLETE")),
            Some(software("\"IMAGE_STATE_UNDEPLOYABLE\"")),
        );
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(
            o.message.contains(
                "not generalized; State.ini says IMAGE_STATE_COMPLETE but the SOFTWARE hive says IMAGE_STATE_UNDEPLOYABLE"
            ),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn ignores_a_software_image_state_that_is_not_a_string() {
        let o = check(
            Some(state_ini(GENERALIZED)),
            Some(software("dword:00000001")),
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.evidence.len(), 1);
    }

    #[test]
    fn ignores_a_software_hive_without_the_setup_key() {
        let o = check(
            Some(state_ini(GENERALIZED)),
            Some(hive(
                "[Microsoft\\Windows NT\\CurrentVersion]\n\"ProductName\"=\"x\"\n",
            )),
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.evidence.len(), 1);
    }

    #[test]
    fn notes_a_dirty_software_hive() {
        let h = hive_with(
            &format!(
                "[Microsoft\\Windows\\CurrentVersion\\Setup\\State]\n\"ImageState\"=\"{GENERALIZED}\"\n"
            ),
            &["--dirty"],
        );
        let o = check(Some(state_ini(GENERALIZED)), Some(h));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.evidence.len(), 3);
        assert!(said(&o).contains("SOFTWARE hive is dirty"), "{}", said(&o));
    }

    #[test]
    fn error_when_state_ini_is_not_text() {
        // An unpaired surrogate after the byte-order mark.
        let o = check(Some(vec![0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00]), None);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains(&format!("{SHOWN}: ")), "{}", said(&o));
    }

    #[test]
    fn error_when_state_ini_cannot_be_read() {
        let mut fs = MemFs::new();
        fs.dir(STATE_INI);
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains(&format!("{SHOWN}: ")), "{}", said(&o));
    }
}
