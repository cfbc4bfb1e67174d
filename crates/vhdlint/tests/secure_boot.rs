//! Secure Boot: the Authenticode reader on Debian 12's own signed EFI binaries and kernel
//! (`fixtures/efi-binaries.sh`: `apt-get download` + `dpkg-deb -x`, cached under the target
//! directory), each signature's signer compared with what `sbverify --list` (sbsigntool)
//! names, and the unsigned monolithic GRUB found unsigned by both.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use common::{repo_root, skip};
use vhdlint_guest::authenticode::{self, DistinguishedName};

/// The extracted packages, downloaded once per test process; `None` (after [`skip`]) when
/// this machine cannot download them.
fn efi_binaries() -> Option<PathBuf> {
    static ROOT: Mutex<Option<Result<PathBuf, String>>> = Mutex::new(None);
    let mut slot = ROOT.lock().unwrap();
    if slot.is_none() {
        let out = Command::new("bash")
            .arg(repo_root().join("fixtures/efi-binaries.sh"))
            .arg(env!("CARGO_TARGET_TMPDIR"))
            .output()
            .expect("bash runs");
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        *slot = Some(match out.status.code() {
            Some(0) => Ok(PathBuf::from(
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .last()
                    .unwrap_or_default(),
            )),
            Some(77) => Err(stderr),
            _ => panic!("fixtures/efi-binaries.sh failed:\n{stderr}"),
        });
    }
    match slot.as_ref().unwrap() {
        Ok(p) => Some(p.clone()),
        Err(why) => {
            skip("Debian's EFI binaries (fixtures/efi-binaries.sh)", why);
            None
        }
    }
}

/// One signature as `sbverify --list` prints it: the SignerInfo's issuer, and the
/// certificates' (subject, issuer), in OpenSSL's one-line form (`/C=US/O=…/CN=…`).
#[derive(Debug, Default)]
struct SbSignature {
    issuers: Vec<String>,
    certificates: Vec<(String, String)>,
}

/// `sbverify --list FILE`: its signatures (none for "No signature table present"); `None`
/// (after [`skip`]) without sbverify.
fn sbverify(file: &Path) -> Option<Vec<SbSignature>> {
    let out = match Command::new("sbverify").arg("--list").arg(file).output() {
        Ok(o) => o,
        Err(e) => {
            skip(
                "the sbverify comparison",
                &format!("sbverify cannot run: {e}"),
            );
            return None;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut sigs: Vec<SbSignature> = Vec::new();
    let mut in_issuers = false;
    let mut subject: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("signature ") {
            sigs.push(SbSignature::default());
        } else if line == "image signature issuers:" {
            in_issuers = true;
        } else if line == "image signature certificates:" {
            in_issuers = false;
        } else if let Some(s) = line.strip_prefix(" - subject: ") {
            subject = Some(s.to_string());
        } else if let Some(i) = line.strip_prefix("   issuer:  ") {
            let s = subject.take().expect("a subject before its issuer");
            sigs.last_mut()
                .unwrap()
                .certificates
                .push((s, i.to_string()));
        } else if let Some(i) = line.strip_prefix(" - ").filter(|_| in_issuers) {
            sigs.last_mut().unwrap().issuers.push(i.to_string());
        }
    }
    if sigs.is_empty() {
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("No signature table present"),
            "sbverify --list {}: no signature and no reason:\n{text}",
            file.display()
        );
    }
    Some(sigs)
}

/// A name in OpenSSL's one-line form, attributes in the certificate's order.
fn oneline(n: &DistinguishedName) -> String {
    n.attributes
        .iter()
        .map(|(k, v)| format!("/{k}={v}"))
        .collect()
}

/// Reads `file` with vhdlint's reader and compares each signature's signer with sbverify's;
/// returns the signers' (subject CN, issuer CN).
fn compare(file: &Path) -> Option<Vec<(String, String)>> {
    let sb = sbverify(file)?;
    let bytes = std::fs::read(file).unwrap();
    let a = authenticode::read(&bytes).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let ours: Vec<_> = a.signatures.iter().filter(|s| s.nesting == 0).collect();
    assert_eq!(
        ours.len(),
        sb.len(),
        "{}: signatures read {:?}, sbverify lists {sb:?}",
        file.display(),
        a.signatures
    );
    for (s, theirs) in ours.iter().zip(&sb) {
        assert!(s.spc_indirect_data, "{}: {s:?}", file.display());
        // sbverify names the SignerInfo's issuer, and every certificate: ours is the one
        // certificate the SignerInfo names.
        assert_eq!(theirs.issuers, [oneline(&s.issuer)], "{}", file.display());
        assert!(
            theirs
                .certificates
                .contains(&(oneline(&s.subject), oneline(&s.issuer))),
            "{}: signer {} (issuer {}) not among sbverify's certificates {:?}",
            file.display(),
            oneline(&s.subject),
            oneline(&s.issuer),
            theirs.certificates
        );
    }
    Some(
        ours.iter()
            .map(|s| (s.subject.short(), s.issuer.short()))
            .collect(),
    )
}

fn kernel(root: &Path) -> PathBuf {
    let boot = root.join("boot");
    std::fs::read_dir(&boot)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .expect("the kernel package holds /boot/vmlinuz-*")
}

#[test]
fn debian_signers_are_the_ones_sbverify_names() {
    let Some(root) = efi_binaries() else { return };
    let shim = root.join("usr/lib/shim/shimx64.efi.signed");
    let Some(signers) = compare(&shim) else {
        return;
    };
    assert_eq!(
        signers,
        [
            (
                "Microsoft Windows UEFI Driver Publisher".to_string(),
                "Microsoft Corporation UEFI CA 2011".to_string()
            ),
            (
                "Microsoft UEFI CA 2023 signer".to_string(),
                "Microsoft UEFI CA 2023".to_string()
            )
        ]
    );
    let grub = root.join("usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed");
    let signers = compare(&grub).unwrap();
    assert_eq!(signers.len(), 1);
    assert!(
        signers[0].0.starts_with("Debian Secure Boot Signer")
            && signers[0].1 == "Debian Secure Boot CA",
        "{signers:?}"
    );
    let signers = compare(&kernel(&root)).unwrap();
    assert_eq!(signers.len(), 1);
    assert!(
        signers[0].0.starts_with("Debian Secure Boot Signer"),
        "{signers:?}"
    );
}

#[test]
fn the_monolithic_grub_is_unsigned_for_both() {
    let Some(root) = efi_binaries() else { return };
    let grub = root.join("usr/lib/grub/x86_64-efi/monolithic/grubx64.efi");
    let Some(sb) = sbverify(&grub) else { return };
    assert!(sb.is_empty());
    let a = authenticode::read(&std::fs::read(&grub).unwrap()).unwrap();
    assert_eq!(a.table, None);
    assert!(a.signatures.is_empty());
}
