use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/ntfs",
    title: "NTFS system volume",
    what: "Looks at every NTFS volume for \\Windows\\System32, and at every volume for the BitLocker signature (`-FVE-FS-` at offset 3).",
    why: "Azure boots Windows from an unencrypted NTFS system volume; a BitLocker-encrypted OS disk is not supported, and without a readable system volume nothing else can be verified.",
    remedy: "Decrypt the OS volume (manage-bde -off C:) before capturing, and upload the disk that holds \\Windows.",
    sources: &["Azure Marketplace VM image guide: the OS disk is NTFS; BitLocker is not supported on the OS disk"],
    profiles: &[Profile::WindowsOs],
};

pub fn run(ctx: &Context) -> Outcome {
    let w = match ctx.windows() {
        Ok(w) => w,
        Err(e) => return Outcome::error(format!("the guest disk cannot be read: {e}")),
    };
    let required = "an unencrypted NTFS volume holding \\Windows\\System32";
    let bitlocker: Vec<_> = w.candidates.iter().filter(|c| c.bitlocker).collect();
    if let Some(b) = bitlocker.first() {
        return Outcome::fail(format!("BitLocker volume {}", b.volume), required)
            .message(format!("volume {} is BitLocker-encrypted (-FVE-FS- at offset 3): not supported on the OS disk", b.volume))
            .evidences(bitlocker.iter().map(|c| Evidence::note(format!("volume {}: BitLocker signature -FVE-FS- at offset 3", c.volume))));
    }
    match &w.guest {
        Some(g) => Outcome::pass(
            format!("\\Windows\\System32 on {} (NTFS)", g.volume),
            required,
        )
        .evidence(Evidence::path(
            "\\Windows\\System32",
            None,
            format!("on volume {}", g.volume),
        )),
        None => {
            let ev: Vec<Evidence> = w
                .candidates
                .iter()
                .map(|c| {
                    Evidence::note(format!(
                        "{}: {}",
                        c.volume,
                        c.error
                            .clone()
                            .unwrap_or_else(|| "NTFS without \\Windows\\System32".into())
                    ))
                })
                .collect();
            let actual = if w.candidates.is_empty() {
                "no NTFS volume"
            } else {
                "no NTFS volume holds \\Windows\\System32"
            };
            Outcome::fail(actual, required)
                .message(format!(
                    "{actual}; looked for {}",
                    vhdlint_guest::windows::SYSTEM_MARKER
                ))
                .evidences(ev)
                .evidence(Evidence::note(
                    "markers looked for: \\Windows\\System32 on an NTFS volume",
                ))
        }
    }
}
