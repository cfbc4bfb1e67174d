//! windows/patch-level on the Windows fixtures, and vhdlint's reading of version resources
//! against an independent reader: the system files of every manifest of fixtures/winfiles are
//! written by the fixtures' own function (windres and ld of mingw-w64 binutils), then read by
//! pefile (PyPI) and by `vhdlint_guest::pe_version`, and the check's evidence on the images
//! names the versions pefile reads.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{check_json, repo_root, result, skip};
use serde_json::Value;
use vhdlint_guest::pe_version::{version_info, FileVersion};

/// Writes, under `out`, BUILD/PATH for every line of fixtures/winfiles/BUILD.txt (x64, and
/// ntoskrnl.exe also for i386 under i386-BUILD/), and unpatched/srv.sys as the win-unpatched
/// fixture has it. `Err` names what is missing.
fn stage(out: &Path) -> Result<(), String> {
    let root = repo_root();
    let script = r#"
set -euo pipefail
FIXDIR=$1/fixtures
TREES=$FIXDIR/trees
source "$FIXDIR/lib.sh"
out=$2
for m in "$FIXDIR"/winfiles/*.txt; do
    b=$(basename "$m" .txt)
    while read -r path ver; do
        case $path in ''|'#'*) continue ;; esac
        mkdir -p "$(dirname "$out/$b/$path")"
        mkpe_version "$out/$b/$path" 0x8664 "$ver"
        if [ "$(basename "$path")" = ntoskrnl.exe ]; then
            mkdir -p "$out/i386-$b"
            mkpe_version "$out/i386-$b/ntoskrnl.exe" 0x14c "$ver"
        fi
    done <"$m"
done
mkdir -p "$out/unpatched"
mkpe_version "$out/unpatched/srv.sys" 0x8664 6.3.9600.17000
"#;
    let o = Command::new("bash")
        .args(["-c", script, "stage"])
        .arg(&root)
        .arg(out)
        .output()
        .map_err(|e| format!("bash: {e}"))?;
    if o.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

/// pefile's reading of every file under `dir`: relative path → (FileVersion of the
/// VS_FIXEDFILEINFO, ProductVersion of it, the first StringTable's strings).
type PefileRead = BTreeMap<String, (String, String, BTreeMap<String, String>)>;

fn pefile(dir: &Path) -> Result<PefileRead, String> {
    let script = r#"
import json, os, sys
import pefile
out = {}
root = sys.argv[1]
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        pe = pefile.PE(p)
        fi = pe.VS_FIXEDFILEINFO[0]
        v = lambda ms, ls: "%d.%d.%d.%d" % (ms >> 16, ms & 0xFFFF, ls >> 16, ls & 0xFFFF)
        strings = {}
        for info in pe.FileInfo[0]:
            if info.Key == b"StringFileInfo":
                for k, val in info.StringTable[0].entries.items():
                    strings[k.decode()] = val.decode()
        out[os.path.relpath(p, root)] = [v(fi.FileVersionMS, fi.FileVersionLS),
                                         v(fi.ProductVersionMS, fi.ProductVersionLS), strings]
print(json.dumps(out))
"#;
    let o = Command::new("python3")
        .args(["-c", script])
        .arg(dir)
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    let v: Value = serde_json::from_slice(&o.stdout).map_err(|e| e.to_string())?;
    Ok(v.as_object()
        .unwrap()
        .iter()
        .map(|(k, x)| {
            let strings = x[2]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            (
                k.clone(),
                (
                    x[0].as_str().unwrap().to_string(),
                    x[1].as_str().unwrap().to_string(),
                    strings,
                ),
            )
        })
        .collect())
}

/// The staged files and pefile's reading of them, or `None` after a skip.
fn staged() -> Option<(tempfile::TempDir, PefileRead)> {
    let dir = tempfile::tempdir().unwrap();
    if let Err(why) = stage(dir.path()) {
        skip(
            "version-resourced PE files",
            &format!("fixtures/lib.sh mkpe_version failed (mingw-w64 binutils and cpp: scripts/setup-system): {why}"),
        );
        return None;
    }
    match pefile(dir.path()) {
        Ok(r) => Some((dir, r)),
        Err(why) => {
            skip(
                "pefile",
                &format!("python3 cannot read the files with pefile (pip install pefile; scripts/setup-system): {why}"),
            );
            None
        }
    }
}

#[test]
fn vhdlint_reads_every_fixture_file_as_pefile_does() {
    let Some((dir, read)) = staged() else {
        return;
    };
    // Every manifest line, the i386 kernels and the unpatched srv.sys.
    let lines: usize = std::fs::read_dir(repo_root().join("fixtures/winfiles"))
        .unwrap()
        .map(|e| {
            std::fs::read_to_string(e.unwrap().path())
                .unwrap()
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                .count()
        })
        .sum();
    assert!(lines >= 40, "{lines}");
    let kernels = read.keys().filter(|k| k.starts_with("i386-")).count();
    assert_eq!(read.len(), lines + kernels + 1, "{:?}", read.keys());
    for (rel, (file_version, product_version, strings)) in &read {
        let bytes = std::fs::read(dir.path().join(rel)).unwrap();
        let ours = version_info(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let fixed = ours.fixed.clone().unwrap();
        assert_eq!(&fixed.file_version.to_string(), file_version, "{rel}");
        assert_eq!(&fixed.product_version.to_string(), product_version, "{rel}");
        let ours_strings: BTreeMap<String, String> = ours.strings.iter().cloned().collect();
        assert_eq!(&ours_strings, strings, "{rel}");
        // The manifest's version is what both read.
        let name = Path::new(rel).file_name().unwrap().to_str().unwrap();
        assert_eq!(ours.string("OriginalFilename"), Some(name), "{rel}");
        assert!(FileVersion::parse(file_version).is_some(), "{rel}");
    }
    // The i386 kernels are PE32 for machine 0x14c.
    for k in read.keys().filter(|k| k.starts_with("i386-")) {
        let b = std::fs::read(dir.path().join(k)).unwrap();
        assert_eq!(
            vhdlint_guest::exe::pe_header(&b).unwrap().machine,
            0x14c,
            "{k}"
        );
    }
}

/// The evidence of windows/patch-level: path → its text.
fn evidence(c: &Value) -> BTreeMap<String, String> {
    c["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            Some((
                e["path"].as_str()?.to_string(),
                e["text"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// Asserts that the check's evidence names every file of manifest `build` (staged under
/// `dir`) with the version pefile read, `overrides` replacing some (path under \Windows →
/// staged file). Returns how many files it compared.
fn assert_evidence_matches(
    c: &Value,
    build: &str,
    read: &PefileRead,
    overrides: &[(&str, &str)],
) -> usize {
    let ev = evidence(c);
    let mut n = 0;
    let prefix = format!("{build}/Windows/");
    for (rel, (v, _, _)) in read.iter().filter(|(k, _)| k.starts_with(&prefix)) {
        let under = &rel[prefix.len()..];
        if build == "9600" && under == "System32/drivers/netvsc.sys" {
            // The preparation table gives netvsc.sys no minimum for 2012 R2.
            continue;
        }
        let shown = format!("\\Windows\\{}", under.replace('/', "\\"));
        let v = overrides
            .iter()
            .find(|(p, _)| *p == under)
            .map_or(v.as_str(), |(_, staged)| read[*staged].0.as_str());
        let text = ev
            .get(&shown)
            .unwrap_or_else(|| panic!("no evidence for {shown}: {c:#}"));
        assert!(
            text.starts_with(&format!("file version {v} (VS_FIXEDFILEINFO at offset 0x")),
            "{shown}: {text}"
        );
        assert!(text.contains("minimum "), "{shown}: {text}");
        n += 1;
    }
    n
}

#[test]
fn generalized_images_pass_and_name_the_versions_pefile_reads() {
    let Some((_dir, read)) = staged() else {
        return;
    };
    for name in ["win-generalized-mbr", "win-generalized-gpt"] {
        let Some(img) = common::fixture_or_skip(name) else {
            continue;
        };
        let (_, r) = check_json(&img, &["--select", "windows/patch-level"]);
        let c = result(&r, "windows/patch-level");
        assert_eq!(c["status"], "pass", "{name}: {c:#}");
        // netvsc.sys has no minimum for 2012 R2: 8 of the 9 files are judged.
        let n = assert_evidence_matches(c, "9600", &read, &[]);
        assert_eq!(n, 8, "{name}: {c:#}");
        assert!(
            c["actual"].as_str().unwrap().starts_with("build 9600"),
            "{name}: {c:#}"
        );
    }
}

#[test]
fn unpatched_fails_naming_srv_sys_and_its_version() {
    let Some((_dir, read)) = staged() else {
        return;
    };
    let Some(img) = common::fixture_or_skip("win-unpatched") else {
        return;
    };
    let (code, r) = check_json(&img, &["--profile", "windows-os", "--select", "windows/*"]);
    let c = result(&r, "windows/patch-level");
    assert_eq!(c["status"], "fail", "{c:#}");
    assert_eq!(code, 1);
    let srv = &read["unpatched/srv.sys"].0;
    assert_eq!(srv, "6.3.9600.17000");
    let message = c["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("srv.sys {srv} < 6.3.9600.18604")),
        "{c:#}"
    );
    assert!(message.contains("MS17-010"), "{c:#}");
    assert_evidence_matches(
        c,
        "9600",
        &read,
        &[("System32/drivers/srv.sys", "unpatched/srv.sys")],
    );
    assert!(evidence(c)["\\Windows\\System32\\drivers\\srv.sys"].ends_with(": below"));
    // The other windows/ checks are not disturbed.
    for other in r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["id"] != "windows/patch-level")
    {
        assert_eq!(other["status"], "pass", "{other:#}");
    }
}
