use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Generation, Profile};
use vhdlint_guest::authenticode::{self, Authenticode, AuthenticodeError, Signature};
use vhdlint_guest::esp::EfiSystemPartition;
use vhdlint_guest::exe::ExeError;
use vhdlint_guest::fs::{FileKind, FsError};
use vhdlint_guest::limits::{MAX_PE_HEADER_BYTES, MAX_PE_IMAGE_BYTES};
use vhdlint_guest::linux::LinuxGuest;
use vhdlint_guest::version::dpkg_cmp;
use vhdlint_guest::view::GuestView;

pub static META: CheckMeta = CheckMeta {
    id: "linux/secure-boot",
    title: "Secure Boot signatures",
    what: "On every EFI system partition: the fallback loader (\\EFI\\BOOT\\BOOTX64.EFI, BOOTAA64.EFI) and the distribution's shim*.efi and grub*.efi under \\EFI\\<name>\\ (\\EFI\\BOOT included); and the default kernel (/boot/vmlinuz-VERSION of the default boot entry, else the newest). Each is read as a PE image: data directory entry 4 (the certificate table) → its WIN_CERTIFICATE entries (revision 0x0200, type PKCS_SIGNED_DATA) → the PKCS#7 SignedData of each (nested signatures too) → the signer's certificate, named by the SignerInfo. The evidence names each signer and its issuer (Microsoft's UEFI CA 2011 or 2023 for shim, the distribution's CA for GRUB and the kernel). The signatures are not verified, nor their chains: this reports who signed each file, not whether a firmware's db trusts that signer. Skipped when the disk has no EFI system partition with a loader (it cannot boot as Generation 2; see disk/boot-mode), or with --generation 1.",
    why: "Trusted Launch, the default for new Generation 2 VMs, boots with Secure Boot on: the firmware starts only a loader signed by a CA in its db (Microsoft's UEFI CA), and shim then starts only a GRUB and a kernel signed by the distribution. An unsigned loader or kernel does not boot on such a VM: the publisher must offer the image without Trusted Launch, or sign it.",
    remedy: "Boot through the distribution's signed chain: install its signed shim and GRUB (Debian/Ubuntu: apt install shim-signed grub-efi-amd64-signed, then grub-install --uefi-secure-boot; RHEL/SUSE: shim-x64 and grub2-efi-x64) and its signed kernel (Debian: linux-image-cloud-amd64, not an -unsigned package), or declare the image's plan as not supporting Trusted Launch (security type Standard).",
    sources: &[
        "Azure: Trusted Launch for Azure virtual machines (learn.microsoft.com/azure/virtual-machines/trusted-launch): Secure Boot on by default for new Gen2 VMs; all OS boot components (boot loader, kernel, kernel drivers) require trusted publishers signing",
        "Microsoft's third-party UEFI CAs that sign shim: Microsoft Corporation UEFI CA 2011 and its successor Microsoft UEFI CA 2023 (Windows Secure Boot certificate expiration and CA updates, support.microsoft.com)",
        "Microsoft PE/COFF specification: the attribute certificate table (WIN_CERTIFICATE); Authenticode PE signature format (SpcIndirectDataContent)",
    ],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual("the boot chain (shim, GRUB, kernel, their signatures) comes from signed packages: install the distribution's signed ones");

/// EFI loaders judged on one disk (an ESP holds a handful: the fallback loader, shim, its
/// MOK manager and fallback, GRUB); past it the check says it stopped.
const MAX_LOADERS: usize = 64;

/// Whether `name`, under `\EFI\<dir>\`, is a loader this check judges.
fn is_loader(dir: &str, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    if dir.eq_ignore_ascii_case("boot") && (name == "bootx64.efi" || name == "bootaa64.efi") {
        return true;
    }
    // The distribution's shim and GRUB; in \EFI\BOOT too, where shim as the fallback
    // loader starts the grubx64.efi beside it.
    name.ends_with(".efi") && (name.starts_with("shim") || name.starts_with("grub"))
}

/// What was found of one file's signatures.
enum Signed {
    /// Its Authenticode signatures.
    Yes(Vec<Signature>),
    /// Signatures, none of them over Authenticode's content type.
    NotAuthenticode(Vec<Signature>),
    /// No certificate table.
    No,
    /// Not a PE image at all (a kernel without its EFI stub).
    NotPe(String),
}

/// Reads the signatures of `path` in `view`: its headers, then up to the end of its
/// certificate table.
fn signatures(view: &GuestView, path: &str) -> Result<Signed, String> {
    let head = view
        .read_upto(path, MAX_PE_HEADER_BYTES as u64)
        .map_err(|e| format!("cannot be read: {e}"))?;
    let table = match authenticode::certificate_table(&head) {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(Signed::No),
        Err(AuthenticodeError::NotPe(e @ (ExeError::NoMz | ExeError::NoPeSignature(_)))) => {
            return Ok(Signed::NotPe(e.to_string()))
        }
        Err(e) => return Err(e.to_string()),
    };
    if table.end() > MAX_PE_IMAGE_BYTES {
        return Err(format!(
            "its certificate table ends at byte {}, past MAX_PE_IMAGE_BYTES ({MAX_PE_IMAGE_BYTES}): not read",
            table.end()
        ));
    }
    let bytes = view
        .read_upto(path, table.end())
        .map_err(|e| format!("cannot be read: {e}"))?;
    let Authenticode { signatures, .. } = authenticode::read(&bytes).map_err(|e| e.to_string())?;
    Ok(if signatures.iter().any(|s| s.spc_indirect_data) {
        Signed::Yes(signatures)
    } else {
        Signed::NotAuthenticode(signatures)
    })
}

/// `Microsoft Windows UEFI Driver Publisher (O=Microsoft Corporation), issued by Microsoft
/// Corporation UEFI CA 2011, sha256`.
fn describe(s: &Signature) -> String {
    let org = s
        .subject
        .get("O")
        .map(|o| format!(" (O={o})"))
        .unwrap_or_default();
    let nested = if s.nesting > 0 { "nested: " } else { "" };
    let kind = if s.spc_indirect_data {
        String::new()
    } else {
        format!(
            ", content type {} (not SpcIndirectDataContent)",
            s.content_type
        )
    };
    format!(
        "{nested}{}{org}, issued by {}, {}{kind}",
        s.subject.short(),
        s.issuer.short(),
        s.digest
    )
}

/// One file's judgement: where it is, what it is, and what was found.
struct Judged {
    /// `\EFI\debian\shimx64.efi` or `/boot/vmlinuz-…`, as the actual value names it.
    name: String,
    evidence: Evidence,
    /// Unsigned (or not Authenticode), with why.
    unsigned: Option<String>,
    /// Could not be read, with why.
    error: Option<String>,
}

fn judge_file(view: &GuestView, path: &str, name: String, at: String, what: &str) -> Judged {
    let (text, unsigned, error) = match signatures(view, path) {
        Ok(Signed::Yes(s)) => (
            format!(
                "{what}, signed by {}",
                s.iter().map(describe).collect::<Vec<_>>().join("; ")
            ),
            None,
            None,
        ),
        Ok(Signed::NotAuthenticode(s)) => {
            let t = format!(
                "{what}: signatures without Authenticode's content type: {}",
                s.iter().map(describe).collect::<Vec<_>>().join("; ")
            );
            (t.clone(), Some(t), None)
        }
        Ok(Signed::No) => {
            let t = format!("{what}: no Authenticode signature (its PE data directory has no certificate table)");
            (t.clone(), Some(t), None)
        }
        Ok(Signed::NotPe(why)) => {
            let t =
                format!("{what}: not a PE image ({why}), so it carries no Authenticode signature");
            (t.clone(), Some(t), None)
        }
        Err(e) => {
            let t = format!("{what}: {e}");
            (t.clone(), None, Some(t))
        }
    };
    Judged {
        name,
        evidence: Evidence::path(at, None, text),
        unsigned,
        error,
    }
}

/// The loaders of one ESP, as paths in its view (names as stored).
fn loaders(view: &GuestView) -> Result<Vec<String>, FsError> {
    let top = match view.read_dir("/") {
        Ok(v) => v,
        Err(FsError::NotFound(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let Some(efi) = top
        .iter()
        .find(|e| e.kind == FileKind::Dir && e.name.eq_ignore_ascii_case("efi"))
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut dirs = view.read_dir(&format!("/{}", efi.name))?;
    // \EFI\BOOT first: the loader the firmware starts without a boot entry.
    dirs.sort_by_key(|d| !d.name.eq_ignore_ascii_case("boot"));
    for d in dirs.iter().filter(|d| d.kind == FileKind::Dir) {
        let dir = format!("/{}/{}", efi.name, d.name);
        for f in view.read_dir(&dir)? {
            if f.kind == FileKind::File && is_loader(&d.name, &f.name) {
                out.push(format!("{dir}/{}", f.name));
            }
        }
    }
    Ok(out)
}

/// The default kernel's path: `/boot/vmlinuz-VERSION` of the default boot entry, else the
/// newest `/boot/vmlinuz-*` (with why in the second value).
fn kernel(g: &LinuxGuest) -> Result<(String, &'static str), String> {
    if let Some(v) = &g.facts.kernel(&g.view).version {
        return Ok((
            format!("/boot/vmlinuz-{v}"),
            "the default boot entry's kernel",
        ));
    }
    let found = g
        .view
        .glob_checked("/boot/vmlinuz-*")
        .map_err(|e| format!("/boot could not be listed: {e}"))?;
    found
        .into_iter()
        .max_by(|a, b| dpkg_cmp(&a["/boot/vmlinuz-".len()..], &b["/boot/vmlinuz-".len()..]))
        .map(|p| (p, "the newest kernel (no default boot entry names one)"))
        .ok_or_else(|| "no kernel: no boot entry names one and /boot holds no vmlinuz-*".into())
}

pub fn run(ctx: &Context) -> Outcome {
    if ctx.generation == Generation::Gen1 {
        return Outcome::skipped(
            "published for generation 1 (--generation 1): BIOS boot, where Secure Boot does not apply",
        );
    }
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let esps = match ctx.guest() {
        Ok(guest) => guest.efi_system_partitions(),
        Err(e) => return Outcome::error(format!("the guest disk cannot be read: {e}")),
    };
    judge(esps, g)
}

fn judge(esps: &[EfiSystemPartition], g: &LinuxGuest) -> Outcome {
    let required = "every EFI loader and the default kernel carry an Authenticode signature";
    if esps.is_empty() {
        return Outcome::skipped(
            "no EFI system partition: the disk cannot boot as Generation 2, where Secure Boot applies (see disk/boot-mode)",
        );
    }
    let mut judged: Vec<Judged> = Vec::new();
    let mut unreadable: Vec<String> = Vec::new();
    for esp in esps {
        let Some(view) = &esp.view else {
            unreadable.push(esp.error.clone().unwrap_or_else(|| {
                format!(
                    "{}: the EFI system partition could not be opened",
                    esp.volume
                )
            }));
            continue;
        };
        let paths = match loaders(view) {
            Ok(p) => p,
            Err(e) => {
                unreadable.push(format!(
                    "{}: \\EFI could not be listed: {e}",
                    esp.describe("/")
                ));
                continue;
            }
        };
        for p in paths {
            if judged.len() >= MAX_LOADERS {
                return Outcome::error(format!(
                    "more than {MAX_LOADERS} EFI loaders (MAX_LOADERS): not all judged"
                ));
            }
            let name = p.replace('/', "\\");
            judged.push(judge_file(view, &p, name, esp.describe(&p), "EFI loader"));
        }
    }
    if judged.is_empty() {
        return if unreadable.is_empty() {
            Outcome::skipped(
                "no EFI loader on the EFI system partition (\\EFI\\BOOT\\BOOTX64.EFI, BOOTAA64.EFI, or shim/grub under \\EFI\\<name>): the disk cannot boot as Generation 2 (see disk/boot-mode)",
            )
        } else {
            Outcome::error(format!(
                "the EFI system partition could not be read: {}",
                unreadable.join("; ")
            ))
        };
    }
    match kernel(g) {
        Ok((path, why)) => {
            let what = format!("kernel ({why})");
            judged.push(judge_file(
                &g.view,
                &path,
                path.clone(),
                path.clone(),
                &what,
            ));
        }
        Err(e) => judged.push(Judged {
            name: "the default kernel".into(),
            evidence: Evidence::note(format!("kernel: {e}")),
            unsigned: None,
            error: Some(e),
        }),
    }
    let evidence: Vec<Evidence> = judged
        .iter()
        .map(|j| j.evidence.clone())
        .chain(unreadable.iter().map(|u| Evidence::note(u.clone())))
        .collect();
    let errors: Vec<&str> = judged
        .iter()
        .filter(|j| j.error.is_some())
        .map(|j| j.name.as_str())
        .chain(unreadable.iter().map(String::as_str))
        .collect();
    let unsigned: Vec<&str> = judged
        .iter()
        .filter(|j| j.unsigned.is_some())
        .map(|j| j.name.as_str())
        .collect();
    let names = |v: &[&str]| v.join(", ");
    if !unsigned.is_empty() {
        let mut o = Outcome::warning(format!("unsigned: {}", names(&unsigned)), required)
            .message(format!(
                "{} carr{} no Authenticode signature: with Secure Boot on (Trusted Launch, the default for new Generation 2 VMs) the boot stops there",
                names(&unsigned),
                if unsigned.len() == 1 { "ies" } else { "y" }
            ))
            .evidences(evidence);
        if !errors.is_empty() {
            o = o.message(format!(
                "{} carr{} no Authenticode signature, and {} could not be read",
                names(&unsigned),
                if unsigned.len() == 1 { "ies" } else { "y" },
                names(&errors)
            ));
        }
        return o;
    }
    if !errors.is_empty() {
        return Outcome::error(format!(
            "the signatures could not be read: {}",
            judged
                .iter()
                .filter_map(|j| j.error.as_ref().map(|e| format!("{} {e}", j.name)))
                .chain(unreadable.iter().cloned())
                .collect::<Vec<_>>()
                .join("; ")
        ))
        .evidences(evidence);
    }
    Outcome::pass(
        format!(
            "signed: {}",
            judged
                .iter()
                .map(|j| j.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        required,
    )
    .evidences(evidence)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::check::Status;
    use crate::testing::{run_linux, said, MemFs};
    use vhdlint_guest::authenticode::sample::{entry, pe, signed_pe};
    use vhdlint_guest::linux::OsRelease;

    /// Debian's signed shim and GRUB and its signed cloud kernel, each cut to its headers and
    /// its real certificate table (the fuzz seeds, made by fuzz/seed.sh from Debian's packages).
    const SHIM: &[u8] = include_bytes!("../../../../fuzz/seeds/exe_authenticode/shimx64");
    const GRUB: &[u8] = include_bytes!("../../../../fuzz/seeds/exe_authenticode/grubx64");
    const VMLINUZ: &[u8] = include_bytes!("../../../../fuzz/seeds/exe_authenticode/vmlinuz");
    /// The first KiB of Debian's unsigned monolithic GRUB.
    const GRUB_UNSIGNED: &[u8] =
        include_bytes!("../../../../fuzz/seeds/exe_authenticode/grubx64-unsigned");

    const V: &str = "6.1.0-57-cloud-amd64";

    fn linux(fs: MemFs) -> LinuxGuest {
        let view = GuestView::of(fs);
        LinuxGuest {
            mounts: view.mounts(),
            view,
            facts: Arc::default(),
            root_volume: "p2".into(),
            not_mounted: Vec::new(),
            os: OsRelease::default(),
        }
    }

    /// A root whose default GRUB entry boots `/boot/vmlinuz-V`, holding `kernel` there.
    fn root(kernel: &[u8]) -> MemFs {
        let mut fs = MemFs::new();
        fs.file(
            "/boot/grub/grub.cfg",
            format!(
                "set default=0\nmenuentry 'Debian' {{\n  linux /boot/vmlinuz-{V} root=/dev/sda2\n}}\n"
            ),
        );
        fs.file(&format!("/boot/vmlinuz-{V}"), kernel);
        fs
    }

    fn esp(fs: MemFs) -> EfiSystemPartition {
        EfiSystemPartition {
            volume: "p1".into(),
            partition: 1,
            offset: 1 << 20,
            size: 100 << 20,
            part_type: "EFI System".into(),
            filesystem: "vfat",
            fat_type: Some("FAT32"),
            serial: Some("1234-ABCD".into()),
            error: None,
            view: Some(GuestView::of(fs)),
        }
    }

    /// Debian's ESP: shim as the fallback loader and under \EFI\debian, with `grub` beside it.
    fn debian_esp(grub: &[u8]) -> MemFs {
        let mut fs = MemFs::new();
        fs.file("/EFI/BOOT/BOOTX64.EFI", SHIM);
        fs.file("/EFI/debian/shimx64.efi", SHIM);
        fs.file("/EFI/debian/grubx64.efi", grub);
        // Not loaders this check judges.
        fs.file("/EFI/debian/mmx64.efi", b"MZ");
        fs.file("/EFI/debian/grub.cfg", b"search.fs_uuid ...");
        fs
    }

    #[test]
    fn debians_signed_chain_passes_with_its_signers() {
        let o = judge(&[esp(debian_esp(GRUB))], &linux(root(VMLINUZ)));
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(
            o.actual,
            format!("signed: \\EFI\\BOOT\\BOOTX64.EFI, \\EFI\\debian\\grubx64.efi, \\EFI\\debian\\shimx64.efi, /boot/vmlinuz-{V}")
        );
        assert!(s.contains("p1 (EFI system partition at byte 1048576): \\EFI\\BOOT\\BOOTX64.EFI EFI loader, signed by Microsoft Windows UEFI Driver Publisher (O=Microsoft Corporation), issued by Microsoft Corporation UEFI CA 2011, sha256; Microsoft UEFI CA 2023 signer (O=Microsoft Corporation), issued by Microsoft UEFI CA 2023"), "{s}");
        assert!(
            s.contains(
                "\\EFI\\debian\\grubx64.efi EFI loader, signed by Debian Secure Boot Signer"
            ),
            "{s}"
        );
        assert!(s.contains(&format!("/boot/vmlinuz-{V} kernel (the default boot entry's kernel), signed by Debian Secure Boot Signer")), "{s}");
        assert!(!s.contains("mmx64"), "{s}");
    }

    #[test]
    fn an_unsigned_grub_warns() {
        let o = judge(&[esp(debian_esp(GRUB_UNSIGNED))], &linux(root(VMLINUZ)));
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "unsigned: \\EFI\\debian\\grubx64.efi");
        assert!(
            s.contains("\\EFI\\debian\\grubx64.efi EFI loader: no Authenticode signature"),
            "{s}"
        );
        assert!(o.message.contains("the boot stops there"), "{s}");
    }

    #[test]
    fn a_kernel_without_its_efi_stub_or_signature_warns() {
        let o = judge(&[esp(debian_esp(GRUB))], &linux(root(b"\x7fELF not a PE")));
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, format!("unsigned: /boot/vmlinuz-{V}"));
        assert!(
            said(&o).contains("not a PE image (not a PE file (no MZ header))"),
            "{}",
            said(&o)
        );
        let o = judge(&[esp(debian_esp(GRUB))], &linux(root(&pe(&[]))));
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn the_newest_kernel_when_no_entry_names_one() {
        let mut fs = MemFs::new();
        fs.file("/boot/vmlinuz-6.1.0-9-cloud-amd64", pe(&[]));
        fs.file("/boot/vmlinuz-6.1.0-10-cloud-amd64", VMLINUZ);
        let o = judge(&[esp(debian_esp(GRUB))], &linux(fs));
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert!(s.contains("/boot/vmlinuz-6.1.0-10-cloud-amd64 kernel (the newest kernel (no default boot entry names one)), signed by"), "{s}");
    }

    #[test]
    fn no_kernel_is_an_error() {
        let o = judge(&[esp(debian_esp(GRUB))], &linux(MemFs::new()));
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.contains("no kernel"), "{}", said(&o));
    }

    #[test]
    fn skipped_without_an_esp_or_a_loader() {
        let o = run_linux(root(VMLINUZ), run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        assert!(
            o.message.contains("no EFI system partition"),
            "{}",
            said(&o)
        );
        let mut fs = MemFs::new();
        fs.file("/EFI/debian/grub.cfg", b"");
        fs.file("/EFI/BOOT/BOOTIA32.EFI", signed_pe("CN=x", "CN=y"));
        let o = judge(&[esp(fs)], &linux(root(VMLINUZ)));
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        assert!(o.message.contains("no EFI loader"), "{}", said(&o));
        let o = judge(&[esp(MemFs::new())], &linux(root(VMLINUZ)));
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }

    #[test]
    fn an_unreadable_esp_is_an_error() {
        let mut bad = esp(MemFs::new());
        bad.view = None;
        bad.error = Some(
            "p1: the EFI system partition holds no FAT filesystem (its signature: ext4)".into(),
        );
        let o = judge(&[bad.clone()], &linux(root(VMLINUZ)));
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            o.message.contains("holds no FAT filesystem"),
            "{}",
            said(&o)
        );
        // Beside a readable one, the loaders found are judged and the unread one is named.
        let o = judge(&[bad, esp(debian_esp(GRUB))], &linux(root(VMLINUZ)));
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("signed by Debian Secure Boot Signer"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn a_damaged_certificate_table_is_an_error_that_says_where() {
        let mut t = entry(&[0x30, 0x03, 1, 2, 3]);
        t[5] = 1;
        let mut fs = debian_esp(GRUB);
        fs.file("/EFI/debian/grubx64.efi", pe(&t));
        let o = judge(&[esp(fs)], &linux(root(VMLINUZ)));
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.contains("\\EFI\\debian\\grubx64.efi EFI loader: WIN_CERTIFICATE at 0x200: wRevision 0x0100, not 0x0200"), "{}", said(&o));
        // A table that ends past the file.
        let mut b = signed_pe("CN=a", "CN=b");
        b.truncate(b.len() - 100);
        let mut fs = debian_esp(GRUB);
        fs.file("/EFI/BOOT/BOOTX64.EFI", b);
        let o = judge(&[esp(fs)], &linux(root(VMLINUZ)));
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            o.message.contains("runs past the end of the file"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_without_a_linux_guest() {
        let o = crate::testing::run_no_linux(run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
    }
}
