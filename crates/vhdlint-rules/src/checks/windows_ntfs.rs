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
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(
    "the volume's file system and its encryption are the disk's, not a setting: decrypt with manage-bde -off C: and wait for it to finish (hours on a large volume), or rebuild on NTFS",
);

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
    let unread = ctx.unread_volumes(vhdlint_guest::OsFamily::Windows);
    match &w.guest {
        // A volume that could hold the system volume could not be read: unknown, not absent.
        None if !unread.is_empty() => {
            ctx.unread_error(&unread, "a Windows system volume", required.to_string())
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{run_windows_inspection, said, MemFs};
    use vhdlint_guest::view::GuestView;
    use vhdlint_guest::windows::{Candidate, WindowsGuest, WindowsInspection};

    fn ntfs(volume: &str, error: Option<&str>) -> Candidate {
        Candidate {
            volume: volume.into(),
            bitlocker: false,
            system32: false,
            error: error.map(String::from),
        }
    }

    fn bitlocker(volume: &str) -> Candidate {
        Candidate {
            volume: volume.into(),
            bitlocker: true,
            system32: false,
            error: Some("BitLocker-encrypted: contents cannot be read".into()),
        }
    }

    fn guest(volume: &str) -> WindowsGuest {
        let mut fs = MemFs::new();
        fs.dir("/Windows/System32");
        WindowsGuest::new(volume, GuestView::of(fs))
    }

    fn inspect(candidates: Vec<Candidate>, guest: Option<WindowsGuest>) -> Outcome {
        run_windows_inspection(Ok(WindowsInspection { candidates, guest }), run)
    }

    #[test]
    fn passes_with_a_system_volume() {
        let mut sys = ntfs("p2", None);
        sys.system32 = true;
        let o = inspect(vec![ntfs("p1", None), sys], Some(guest("p2")));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "\\Windows\\System32 on p2 (NTFS)");
        assert!(
            said(&o).contains("\\Windows\\System32 on volume p2"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn fails_on_a_bitlocker_volume() {
        let o = inspect(vec![ntfs("p1", None), bitlocker("p2")], None);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "BitLocker volume p2");
        assert!(
            o.message.contains("volume p2 is BitLocker-encrypted"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn fails_on_bitlocker_even_beside_a_system_volume() {
        let o = inspect(
            vec![bitlocker("p1"), ntfs("p2", None), bitlocker("p3")],
            Some(guest("p2")),
        );
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "BitLocker volume p1");
        let s = said(&o);
        assert!(s.contains("volume p1: BitLocker"), "{s}");
        assert!(s.contains("volume p3: BitLocker"), "{s}");
        assert!(!s.contains("volume p2"), "{s}");
    }

    #[test]
    fn fails_without_an_ntfs_volume() {
        let o = inspect(Vec::new(), None);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "no NTFS volume");
    }

    #[test]
    fn fails_when_no_ntfs_volume_holds_system32() {
        let o = inspect(vec![ntfs("p1", None), ntfs("p2", None)], None);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "no NTFS volume holds \\Windows\\System32");
        let s = said(&o);
        assert!(s.contains("p1: NTFS without \\Windows\\System32"), "{s}");
        assert!(s.contains("p2: NTFS without \\Windows\\System32"), "{s}");
    }

    #[test]
    fn error_when_an_ntfs_volume_cannot_be_read() {
        // Whether the unread volume holds \Windows\System32 is unknown: never a plain failure.
        let o = inspect(
            vec![ntfs("p1", None), ntfs("p2", Some("corrupt MFT record 0"))],
            None,
        );
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert_eq!(o.actual, "p2 (ntfs) could not be read");
        let s = said(&o);
        assert!(
            o.message.starts_with("a Windows system volume was not found, and a volume that could hold it could not be read"),
            "{s}"
        );
        assert!(s.contains("p2 (ntfs): corrupt MFT record 0"), "{s}");
        assert!(!s.contains("p1 (ntfs)"), "{s}");
    }

    #[test]
    fn error_when_the_guest_disk_cannot_be_read() {
        let o = run_windows_inspection(Err("no partition table".into()), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("no partition table"), "{}", said(&o));
    }
}
