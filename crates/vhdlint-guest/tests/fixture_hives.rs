//! Independent truth for the Windows fixtures' registry hives: every `fixtures/reg/*.reg` is
//! written into a hive by `fixtures/mkhive.py`, and `hivexregedit --export` (hivex, not our
//! reader) must list exactly the keys, value names, value types and data bytes the .reg text
//! says — read here by a .reg parser of its own, not by mkhive.py's.
//!
//! Without python3 or `hivexregedit` (Debian: libhivex-bin, libwin-hivex-perl) the test says
//! SKIP and passes, or fails under `VHDLINT_REQUIRE_PREREQS=1`.

#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Key path (below the root, `\`-joined, no leading `\`) → value name → (type, data bytes).
type Dump = BTreeMap<String, BTreeMap<String, (u32, Vec<u8>)>>;

const REG_SZ: u32 = 1;
const REG_BINARY: u32 = 3;
const REG_DWORD: u32 = 4;

fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn tools_present() -> bool {
    let missing: Vec<&str> = ["python3", "hivexregedit"]
        .into_iter()
        .filter(|t| find_tool(t).is_none())
        .collect();
    if !missing.is_empty() {
        prereq::skip(
            "the fixture hives against hivexregedit",
            &format!(
                "{} not found (Debian: python3 libhivex-bin libwin-hivex-perl)",
                missing.join(", ")
            ),
        );
    }
    missing.is_empty()
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Parses a `"..."` at the start of `s` (`\\` and `\"` escapes); returns it and the rest.
fn quoted(s: &str) -> (String, &str) {
    assert!(s.starts_with('"'), "expected a quoted string: {s:?}");
    let mut out = String::new();
    let mut chars = s[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next().expect("escape at the end").1),
            '"' => return (out, &s[i + 2..]),
            c => out.push(c),
        }
    }
    panic!("unterminated string in {s:?}");
}

fn hex_bytes(s: &str) -> Vec<u8> {
    s.split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|_| panic!("bad hex byte {b:?}")))
        .collect()
}

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// The data of a value as written after `=` in regedit's format: `"text"`, `dword:`, `hex:`,
/// `hex(N):`.
fn reg_data(data: &str) -> (u32, Vec<u8>) {
    if data.starts_with('"') {
        let (s, rest) = quoted(data);
        assert!(rest.trim().is_empty(), "text after a string: {data:?}");
        (REG_SZ, utf16z(&s))
    } else if let Some(d) = data.strip_prefix("dword:") {
        let n = u32::from_str_radix(d.trim(), 16).unwrap();
        (REG_DWORD, n.to_le_bytes().to_vec())
    } else if let Some(d) = data.strip_prefix("hex:") {
        (REG_BINARY, hex_bytes(d))
    } else if let Some(d) = data.strip_prefix("hex(") {
        let (kind, bytes) = d.split_once("):").expect("hex(N):");
        (u32::from_str_radix(kind, 16).unwrap(), hex_bytes(bytes))
    } else {
        panic!("unknown value data {data:?}");
    }
}

/// Parses regedit 5.00 text (both our specs and hivexregedit's export) into a [`Dump`]:
/// backslash-continued lines joined, `;` comments skipped, every ancestor of a section a key.
fn parse_reg(text: &str) -> Dump {
    let text = text.replace("\\\r\n", "").replace("\\\n", "");
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    assert_eq!(
        lines.next().map(|l| l.trim_start_matches('\u{feff}')),
        Some("Windows Registry Editor Version 5.00")
    );
    let mut dump = Dump::new();
    dump.insert(String::new(), BTreeMap::new());
    let mut cur: Option<String> = None;
    for line in lines {
        let line = line.trim();
        if line.is_empty() || line.starts_with(';') {
            continue;
        }
        if let Some(inner) = line.strip_prefix('[') {
            let path = inner.strip_suffix(']').expect("unterminated section");
            let path = path.trim_start_matches('\\').to_string();
            let mut prefix = String::new();
            for part in path.split('\\').filter(|p| !p.is_empty()) {
                if !prefix.is_empty() {
                    prefix.push('\\');
                }
                prefix.push_str(part);
                dump.entry(prefix.clone()).or_default();
            }
            cur = Some(path);
            continue;
        }
        let (name, rest) = if let Some(rest) = line.strip_prefix('@') {
            (String::new(), rest)
        } else {
            quoted(line)
        };
        let data = rest.trim_start().strip_prefix('=').expect("expected '='");
        let key = cur.as_ref().expect("value outside a section");
        let values = dump.get_mut(key).unwrap();
        assert!(
            values.insert(name.clone(), reg_data(data.trim())).is_none(),
            "{key}\\{name} given twice"
        );
    }
    dump
}

fn export(hive: &Path) -> String {
    let out = Command::new("hivexregedit")
        .arg("--export")
        .arg(hive)
        .arg("\\")
        .output()
        .unwrap();
    assert!(out.status.success(), "hivexregedit failed: {out:?}");
    // Perl prints names of Latin-1 characters one byte a character.
    String::from_utf8(out.stdout.clone())
        .unwrap_or_else(|_| out.stdout.iter().map(|&b| b as char).collect())
}

fn build(spec: &Path, out: &Path) {
    let st = Command::new("python3")
        .arg(fixtures_dir().join("mkhive.py"))
        .arg(out)
        .arg(spec)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "mkhive.py {}: {}",
        spec.display(),
        String::from_utf8_lossy(&st.stderr)
    );
}

/// Every difference between the spec's dump and hivex's, one line each.
fn differences(want: &Dump, got: &Dump) -> Vec<String> {
    let mut d = Vec::new();
    for k in want.keys().filter(|k| !got.contains_key(*k)) {
        d.push(format!("key {k:?} missing in the hive"));
    }
    for k in got.keys().filter(|k| !want.contains_key(*k)) {
        d.push(format!("key {k:?} in the hive but not in the spec"));
    }
    for (k, vals) in want {
        let Some(other) = got.get(k) else { continue };
        for (name, (kind, data)) in vals {
            match other.get(name) {
                None => d.push(format!("{k}\\{name}: missing in the hive")),
                Some((okind, odata)) if okind != kind || odata != data => d.push(format!(
                    "{k}\\{name}: spec type {kind} {data:02x?}, hive type {okind} {odata:02x?}"
                )),
                Some(_) => {}
            }
        }
        for name in other.keys().filter(|n| !vals.contains_key(*n)) {
            d.push(format!("{k}\\{name}: in the hive but not in the spec"));
        }
    }
    d
}

#[test]
fn every_fixture_reg_spec_is_written_value_by_value() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut specs: Vec<PathBuf> = std::fs::read_dir(fixtures_dir().join("reg"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "reg"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 20, "{specs:?}");
    let (mut keys, mut values) = (0, 0);
    for spec in &specs {
        let name = spec.file_stem().unwrap().to_str().unwrap();
        let hive = dir.path().join(format!("{name}.hive"));
        build(spec, &hive);
        let want = parse_reg(&std::fs::read_to_string(spec).unwrap());
        let got = parse_reg(&export(&hive));
        let diff = differences(&want, &got);
        assert!(diff.is_empty(), "{name}:\n{}", diff.join("\n"));
        // The spec is not trivially empty: the checks' keys are there.
        let n: usize = want.values().map(BTreeMap::len).sum();
        assert!(n > 20, "{name}: only {n} values");
        keys += want.len();
        values += n;
    }
    eprintln!(
        "{} specs, {keys} keys, {values} values equal to hivexregedit's export",
        specs.len()
    );
}

/// The comparison can fail: a hive from a different spec, or one value's data changed by one
/// byte in the spec text, is reported.
#[test]
fn a_changed_value_is_noticed() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = fixtures_dir().join("reg/win-system.reg");
    let hive = dir.path().join("system.hive");
    build(&spec, &hive);
    let got = parse_reg(&export(&hive));
    let text = std::fs::read_to_string(&spec).unwrap();
    let changed = text.replacen("\"Start\"=dword:00000001", "\"Start\"=dword:00000004", 1);
    assert_ne!(changed, text);
    let diff = differences(&parse_reg(&changed), &got);
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert!(diff[0].contains("\\Start"), "{diff:?}");
    let other = parse_reg(
        &std::fs::read_to_string(fixtures_dir().join("reg/win-system-no-agent.reg")).unwrap(),
    );
    let diff = differences(&other, &got);
    assert!(
        diff.iter().any(|d| d.contains("WindowsAzureGuestAgent")),
        "{diff:?}"
    );
}
