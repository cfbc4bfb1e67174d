//! Secure Boot: the Authenticode reader on Debian 12's own signed EFI binaries and kernel
//! (`fixtures/efi-binaries.sh`: `apt-get download` + `dpkg-deb -x`, cached under the target
//! directory), each signature's signer compared with what `sbverify --list` (sbsigntool)
//! names, and the unsigned monolithic GRUB found unsigned by both. Then linux/secure-boot on
//! the Debian 12 generation 2 images (`fixtures/debian12.sh`: gen2-secureboot with Debian's
//! signed shim and GRUB, gen2-unsigned with the unsigned GRUB), the files it names copied
//! out of the ESP by mtools and given to sbverify.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use common::{check_json, debian12_or_skip, repo_root, result, skip, vhdlint};
use serde_json::Value;
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

/// The CN of a one-line name (`/C=US/O=…/CN=x` → `x`).
fn cn(oneline: &str) -> &str {
    oneline
        .rsplit('/')
        .find_map(|a| a.strip_prefix("CN="))
        .unwrap_or(oneline)
}

/// Copies the file an evidence item of linux/secure-boot names out of `img` into `dir`:
/// an ESP's file with mtools (`mcopy -i IMAGE@@OFFSET`), a root file with `vhdlint cat`.
/// `None` (after [`skip`]) without mtools.
fn copy_out(img: &Path, evidence_path: &str, dir: &Path, n: usize) -> Option<PathBuf> {
    let out = dir.join(format!("file{n}"));
    if let Some((_, rest)) = evidence_path.split_once("(EFI system partition at byte ") {
        let (offset, file) = rest.split_once("): ").unwrap();
        let r = Command::new("mcopy")
            .env("MTOOLS_SKIP_CHECK", "1")
            .arg("-n")
            .arg("-i")
            .arg(format!("{}@@{offset}", img.display()))
            .arg(format!("::{}", file.replace('\\', "/")))
            .arg(&out)
            .output();
        match r {
            Ok(o) => assert!(
                o.status.success(),
                "mcopy {file}: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => {
                skip("the mcopy comparison", &format!("mcopy cannot run: {e}"));
                return None;
            }
        }
    } else {
        let o = vhdlint(&["cat", img.to_str().unwrap(), evidence_path]);
        assert!(o.status.success(), "vhdlint cat {evidence_path}");
        std::fs::write(&out, o.stdout).unwrap();
    }
    Some(out)
}

/// A file linux/secure-boot names: its evidence path and text, and sbverify's signatures of it.
type Named = (String, String, Vec<SbSignature>);

/// linux/secure-boot of `img`, and for each file it names, the evidence text with sbverify's
/// signatures of that file copied out of the image.
fn judged(img: &Path, extra: &[&str]) -> Option<(Value, Vec<Named>)> {
    let (_, report) = check_json(img, extra);
    let r = result(&report, "linux/secure-boot").clone();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (n, e) in r["evidence"].as_array().unwrap().iter().enumerate() {
        let Some(path) = e["path"].as_str() else {
            continue;
        };
        let file = copy_out(img, path, dir.path(), n)?;
        files.push((
            path.to_string(),
            e["text"].as_str().unwrap().to_string(),
            sbverify(&file)?,
        ));
    }
    Some((r, files))
}

#[test]
fn debians_signed_gen2_image_passes_naming_sbverifys_signers() {
    let Some(img) = debian12_or_skip("gen2-secureboot") else {
        return;
    };
    let Some((r, files)) = judged(&img, &["--generation", "2"]) else {
        return;
    };
    assert_eq!(r["status"], "pass", "{r:#}");
    let actual = r["actual"].as_str().unwrap();
    assert!(
        actual.starts_with("signed: \\EFI\\BOOT\\BOOTX64.EFI, \\EFI\\BOOT\\grubx64.efi, \\EFI\\debian\\grubx64.efi, \\EFI\\debian\\shimx64.efi, /boot/vmlinuz-"),
        "{actual}"
    );
    assert_eq!(files.len(), 5, "{r:#}");
    for (path, text, sb) in &files {
        assert!(!sb.is_empty(), "{path}: sbverify finds no signature");
        // Each of sbverify's signatures: its signer certificate (the one the SignerInfo's
        // issuer issued) named in the evidence with that issuer.
        assert_eq!(
            text.matches(", issued by ").count(),
            sb.len(),
            "{path}: {text}"
        );
        for sig in sb {
            let issuer = &sig.issuers[0];
            let (subject, _) = sig
                .certificates
                .iter()
                .find(|(_, i)| i == issuer)
                .unwrap_or_else(|| panic!("{path}: no certificate issued by {issuer}: {sig:?}"));
            assert!(
                text.contains(cn(subject)) && text.contains(&format!("issued by {}", cn(issuer))),
                "{path}: {text} does not name {subject} issued by {issuer}"
            );
        }
    }
    let shim = &files
        .iter()
        .find(|f| f.0.ends_with("\\EFI\\debian\\shimx64.efi"))
        .unwrap()
        .1;
    assert!(shim.contains("Microsoft Windows UEFI Driver Publisher (O=Microsoft Corporation), issued by Microsoft Corporation UEFI CA 2011"), "{shim}");
    let kernel = &files
        .iter()
        .find(|f| f.0.starts_with("/boot/vmlinuz-"))
        .unwrap()
        .1;
    assert!(
        kernel.contains("signed by Debian Secure Boot Signer"),
        "{kernel}"
    );
    // Published for generation 1, Secure Boot does not apply.
    let (_, report) = check_json(&img, &["--generation", "1"]);
    assert_eq!(result(&report, "linux/secure-boot")["status"], "skipped");
}

#[test]
fn the_unsigned_grub_image_warns() {
    let Some(img) = debian12_or_skip("gen2-unsigned") else {
        return;
    };
    let Some((r, files)) = judged(&img, &[]) else {
        return;
    };
    assert_eq!(r["status"], "warning", "{r:#}");
    assert_eq!(
        r["actual"],
        "unsigned: \\EFI\\BOOT\\BOOTX64.EFI, \\EFI\\debian\\grubx64.efi"
    );
    for (path, text, sb) in &files {
        if path.starts_with("/boot/") {
            assert!(
                !sb.is_empty() && text.contains("signed by"),
                "{path}: {text}"
            );
        } else {
            assert!(sb.is_empty(), "{path}: sbverify finds signatures {sb:?}");
            assert!(text.ends_with("EFI loader: no Authenticode signature (its PE data directory has no certificate table)"), "{path}: {text}");
        }
    }
}

#[test]
fn a_bios_only_disk_is_skipped() {
    let Some(img) = debian12_or_skip("bios-grub") else {
        return;
    };
    let (_, report) = check_json(&img, &[]);
    let r = result(&report, "linux/secure-boot");
    assert_eq!(r["status"], "skipped", "{r:#}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("no EFI system partition"),
        "{r:#}"
    );
}
