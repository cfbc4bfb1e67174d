//! The registry hive reader against hives written at test time by `fixtures/mkhive.py` from
//! .reg specs, checked against hivex (`hivexget` for every value, `hivexregedit --export`
//! for every key, value type and data byte), plus damaged and random input.
//!
//! Without python3, `hivexget` or `hivexregedit` (Debian: libhivex-bin, libwin-hivex-perl)
//! every test says SKIP and passes, or fails under `VHDLINT_REQUIRE_PREREQS=1`.

#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use vhdlint_guest::registry::{
    current_control_set, Hive, HiveError, Key, REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_EXPAND_SZ,
    REG_MULTI_SZ, REG_QWORD, REG_SZ,
};

/// Subkeys of `ControlSet001\Services` in the SYSTEM-like hive.
const SERVICES: usize = 640;
const BIG_BLOB: usize = 40_000;
const BIG_STRING_CHARS: usize = 9_000;

fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Whether python3 (for mkhive.py) is there; if not, `prereq::skip` says so (or fails the
/// test, under `VHDLINT_REQUIRE_PREREQS=1`).
fn python_present() -> bool {
    let ok = find_tool("python3").is_some();
    if !ok {
        prereq::skip(
            "the tests on hives written by mkhive.py",
            "python3 not found (Debian: python3)",
        );
    }
    ok
}

/// Whether python3 and hivex's tools are there; if not, `prereq::skip` says so (or fails the
/// test, under `VHDLINT_REQUIRE_PREREQS=1`).
fn hivex_present() -> bool {
    let missing: Vec<&str> = ["python3", "hivexget", "hivexsh", "hivexregedit"]
        .into_iter()
        .filter(|t| find_tool(t).is_none())
        .collect();
    if !missing.is_empty() {
        prereq::skip(
            "the comparisons with hivex",
            &format!(
                "{} not found (Debian: python3 libhivex-bin libwin-hivex-perl)",
                missing.join(", ")
            ),
        );
    }
    missing.is_empty()
}

/// Returns from the test (after `$present()` has said SKIP) unless `$present()` holds.
macro_rules! require {
    ($present:ident) => {
        if !$present() {
            return;
        }
    };
}

fn mkhive_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/mkhive.py")
}

/// Writes `spec` to DIR/NAME.reg and builds DIR/NAME.hive with mkhive.py and `opts`.
fn mkhive(dir: &Path, name: &str, spec: &str, opts: &[&str]) -> PathBuf {
    let reg = dir.join(format!("{name}.reg"));
    let hive = dir.join(format!("{name}.hive"));
    std::fs::write(&reg, spec).unwrap();
    let out = Command::new("python3")
        .arg(mkhive_script())
        .args(opts)
        .arg(&hive)
        .arg(&reg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mkhive.py {opts:?} {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    hive
}

fn hex(data: &[u8]) -> String {
    data.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A .reg hex list wrapped with backslash continuations, as regedit writes it.
fn hex_wrapped(data: &[u8]) -> String {
    data.chunks(25).map(hex).collect::<Vec<_>>().join(",\\\n  ")
}

fn utf16z(parts: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        for u in p.encode_utf16().chain([0]) {
            out.extend_from_slice(&u.to_le_bytes());
        }
    }
    out
}

fn big_blob() -> Vec<u8> {
    (0..BIG_BLOB).map(|i| (i * 7 % 251) as u8).collect()
}

fn big_string() -> String {
    (0..BIG_STRING_CHARS)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect()
}

/// A SYSTEM-like hive: Select, two control sets, many services, every value type, big data,
/// a non-ASCII key name.
fn system_spec() -> String {
    let mut s = String::from("Windows Registry Editor Version 5.00\r\n\r\n");
    s += "[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]\n\"Current\"=dword:00000001\n\"Default\"=dword:00000001\n\"Failed\"=dword:00000000\n\"LastKnownGood\"=dword:00000002\n\n";
    s += "[ControlSet001\\Control\\Terminal Server]\n\"fDenyTSConnections\"=dword:00000000\n\"fSingleSessionPerUser\"=dword:00000001\n\n";
    s += &format!(
        "[ControlSet001\\Control\\Session Manager\\Memory Management]\n\"PagingFiles\"=hex(7):{}\n\"ClearPageFileAtShutdown\"=dword:00000000\n\n",
        hex_wrapped(&utf16z(&["?:\\pagefile.sys", ""]))
    );
    s += "[ControlSet002\\Control\\Terminal Server]\n\"fDenyTSConnections\"=dword:00000001\n\n";
    s += &format!(
        "[ControlSet001\\Control\\Types]\n@=\"the default \\\"value\\\" with a back\\\\slash\"\n\"Expand\"=hex(2):{}\n\"Qword\"=hex(b):ef,cd,ab,89,67,45,23,01\n\"NegQword\"=hex(b):ff,ff,ff,ff,ff,ff,ff,ff\n\"BigEndian\"=hex(5):00,00,01,02\n\"AllOnes\"=dword:ffffffff\n\"Binary\"=hex:de,ad,be,ef,00,01\n\"Tiny\"=hex:01\n\"None\"=hex(0):\n\"Empty\"=\"\"\n\"Multi\"=hex(7):{}\n\"Say \\\"hi\\\"\"=\"quoted name\"\n\"Back\\\\slash\"=\"x\"\n\n",
        hex(&utf16z(&["%SystemRoot%\\system32"])),
        hex_wrapped(&utf16z(&["one", "two", "three", ""])),
    );
    s += &format!(
        "[ControlSet001\\Control\\Big]\n\"Blob\"=hex:{}\n\"BigString\"=\"{}\"\n\n",
        hex_wrapped(&big_blob()),
        big_string()
    );
    s += "[ControlSet001\\Control\\Nls\\Ünïcode Kéy]\n\"Grüße\"=\"Ça va\"\n\n";
    for i in (0..SERVICES).rev() {
        s += &format!(
            "[ControlSet001\\Services\\Svc{i:04}]\n\"Start\"=dword:{:08x}\n\n",
            i % 5
        );
    }
    s
}

fn software_spec() -> String {
    "Windows Registry Editor Version 5.00\n\n\
     [HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion]\n\
     \"ProductName\"=\"Windows Server 2012 R2 Datacenter\"\n\
     \"CurrentBuild\"=\"9600\"\n\
     \"EditionID\"=\"ServerDatacenter\"\n\
     \"InstallationType\"=\"Server\"\n\
     \"SystemRoot\"=\"C:\\\\Windows\"\n\
     \"InstallDate\"=dword:5a3c1f00\n\n\
     [Microsoft\\Windows\\CurrentVersion\\Setup\\State]\n\
     \"ImageState\"=\"IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE\"\n"
        .to_string()
}

fn load(path: &Path) -> Hive {
    Hive::parse(std::fs::read(path).unwrap()).unwrap()
}

/// The SYSTEM-like hive's bytes (default options), built once.
fn system_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::read(mkhive(dir.path(), "system", &system_spec(), &[])).unwrap()
    })
}

/// The same with every subkey list of more than 50 entries split into an ri index.
fn system_ri_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::read(mkhive(
            dir.path(),
            "system",
            &system_spec(),
            &["--ri", "50"],
        ))
        .unwrap()
    })
}

// ------------------------------------------------------------------------------ hivex

type Dump = BTreeMap<String, BTreeMap<String, (u32, Vec<u8>)>>;

/// Every key (path below the root, `\`-joined) with its values (name → type, data).
fn dump_ours(hive: &Hive) -> Dump {
    let mut out = Dump::new();
    hive.walk(|path, key| {
        let values = key
            .values()?
            .into_iter()
            .map(|v| (v.name, (v.kind, v.data)))
            .collect();
        out.insert(path.to_string(), values);
        Ok(())
    })
    .unwrap();
    out
}

/// Parses a quoted .reg name at the start of `s`; returns it and the rest after the quote.
fn reg_quoted(s: &str) -> (String, &str) {
    let mut name = String::new();
    let mut chars = s[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => name.push(chars.next().unwrap().1),
            '"' => return (name, &s[i + 2..]),
            c => name.push(c),
        }
    }
    panic!("unterminated name in {s:?}");
}

fn parse_hex(s: &str) -> Vec<u8> {
    s.split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// `hivexregedit --export HIVE '\'`, parsed into the same form as [`dump_ours`].
fn dump_hivex(path: &Path) -> Dump {
    let out = Command::new("hivexregedit")
        .arg("--export")
        .arg(path)
        .arg("\\")
        .output()
        .unwrap();
    assert!(out.status.success(), "hivexregedit failed: {out:?}");
    // Perl prints names of Latin-1 characters one byte a character.
    let text = String::from_utf8(out.stdout.clone())
        .unwrap_or_else(|_| out.stdout.iter().map(|&b| b as char).collect());
    let text = text.replace("\\\r\n", "").replace("\\\n", "");
    let mut dump = Dump::new();
    let mut cur: Option<String> = None;
    for line in text.lines().skip(1) {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        if let Some(inner) = line.strip_prefix('[') {
            let p = inner.strip_suffix(']').unwrap();
            let p = p.strip_prefix('\\').unwrap_or(p).to_string();
            dump.entry(p.clone()).or_default();
            cur = Some(p);
            continue;
        }
        let (name, rest) = if let Some(rest) = line.strip_prefix('@') {
            (String::new(), rest)
        } else {
            reg_quoted(line)
        };
        let data = rest.strip_prefix('=').unwrap();
        let (kind, bytes) = if let Some(d) = data.strip_prefix("dword:") {
            (
                REG_DWORD,
                u32::from_str_radix(d, 16).unwrap().to_le_bytes().to_vec(),
            )
        } else if let Some(d) = data.strip_prefix("hex:") {
            (3, parse_hex(d))
        } else if let Some(d) = data.strip_prefix("hex(") {
            let (k, h) = d.split_once("):").unwrap();
            (u32::from_str_radix(k, 16).unwrap(), parse_hex(h))
        } else if data.starts_with('"') {
            let (s, _) = reg_quoted(data);
            (REG_SZ, utf16z(&[&s]))
        } else {
            panic!("unknown hivexregedit line {line:?}");
        };
        dump.get_mut(cur.as_ref().unwrap())
            .unwrap()
            .insert(name, (kind, bytes));
    }
    dump
}

/// What `hivexget HIVE KEY VALUE` prints for a value, computed from our typed getters:
/// strings as text, DWORDs and QWORDs as signed decimals, multi-strings one a line and an
/// empty line, anything else its raw bytes.
fn hivexget_format(kind: u32, v: &vhdlint_guest::registry::Value) -> Vec<u8> {
    match kind {
        REG_SZ | REG_EXPAND_SZ => format!("{}\n", v.as_string().unwrap()).into_bytes(),
        REG_DWORD | REG_DWORD_BIG_ENDIAN => {
            format!("{}\n", v.as_u32().unwrap() as i32).into_bytes()
        }
        REG_QWORD => format!("{}\n", v.as_u64().unwrap() as i64).into_bytes(),
        REG_MULTI_SZ => {
            // hivexget prints every string the data holds, empty ones inside the list too
            // (PendingFileRenameOperations); as_multi_string is Windows' reading of a list,
            // which ends at the first empty string.
            let all = vhdlint_guest::windows::multi_sz_entries(v).unwrap();
            let upto_empty: Vec<String> =
                all.iter().take_while(|x| !x.is_empty()).cloned().collect();
            assert_eq!(v.as_multi_string().unwrap(), upto_empty, "{}", v.name);
            let mut s: String = all.iter().map(|x| format!("{x}\n")).collect();
            s.push('\n');
            s.into_bytes()
        }
        _ => v.data.clone(),
    }
}

fn hivexget(hive: &Path, key: &str, value: &str) -> Vec<u8> {
    let key = if key.is_empty() { "\\" } else { key };
    let out = Command::new("hivexget")
        .arg(hive)
        .arg(key)
        .arg(if value.is_empty() { "@" } else { value })
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hivexget {key} {value}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every key, value type and data byte equals hivexregedit's export.
fn assert_same_as_hivexregedit(path: &Path, hive: &Hive) -> Dump {
    let ours = dump_ours(hive);
    let theirs = dump_hivex(path);
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "key paths differ"
    );
    for (k, vals) in &ours {
        let other = &theirs[k];
        assert_eq!(
            vals.keys().collect::<Vec<_>>(),
            other.keys().collect::<Vec<_>>(),
            "value names of key {k:?}"
        );
        for (name, (kind, data)) in vals {
            let (okind, odata) = &other[name];
            assert!(
                kind == okind && data == odata,
                "{k}\\{name}: ours type {kind}, {} bytes; hivexregedit type {okind}, {} bytes; \
                 first difference at byte {:?}",
                data.len(),
                odata.len(),
                data.iter().zip(odata).position(|(a, b)| a != b)
            );
        }
    }
    ours
}

/// Every value read through `Hive::open` + `Key::value` equals what `hivexget` prints.
fn assert_same_as_hivexget(path: &Path, hive: &Hive, dump: &Dump) -> usize {
    let mut n = 0;
    for (key_path, values) in dump {
        // Vary the case: lookups ignore it (hivex only ignores ASCII case).
        let lower = key_path.to_ascii_lowercase();
        let key = hive.open(&lower).unwrap().expect(key_path);
        for name in values.keys() {
            let v = key
                .value(&name.to_ascii_uppercase())
                .unwrap()
                .unwrap_or_else(|| panic!("{key_path}\\{name}"));
            assert_eq!(&v.name, name);
            let ours = hivexget_format(v.kind, &v);
            let theirs = hivexget(path, key_path, name);
            assert!(
                ours == theirs,
                "{key_path}\\{name}: ours {:?}, hivexget {:?}",
                String::from_utf8_lossy(&ours[..ours.len().min(200)]),
                String::from_utf8_lossy(&theirs[..theirs.len().min(200)])
            );
            n += 1;
        }
    }
    n
}

#[test]
fn registry_system_hive_equals_hivex() {
    require!(hivex_present);
    let dir = tempfile::tempdir().unwrap();
    let path = mkhive(dir.path(), "system", &system_spec(), &[]);
    let hive = load(&path);
    assert!(hive.checksum_ok(), "{:?}", hive.warnings());
    assert!(hive.warnings().is_empty(), "{:?}", hive.warnings());
    assert!(!hive.is_dirty());
    let dump = assert_same_as_hivexregedit(&path, &hive);
    assert!(dump.len() > SERVICES + 10);
    let n = assert_same_as_hivexget(&path, &hive, &dump);
    assert!(n > SERVICES + 20, "{n} values compared");

    // What vhdlint's checks read.
    assert_eq!(current_control_set(&hive).unwrap(), "ControlSet001");
    let ts = hive
        .open("controlset001\\CONTROL\\terminal server")
        .unwrap()
        .unwrap();
    assert_eq!(ts.name(), "Terminal Server");
    let deny = ts.value("fdenytsconnections").unwrap().unwrap();
    assert_eq!((deny.kind, deny.as_u32().unwrap()), (REG_DWORD, 0));
    let mm = hive
        .open("\\ControlSet001\\Control\\Session Manager\\Memory Management")
        .unwrap()
        .unwrap();
    assert_eq!(
        mm.value("PagingFiles")
            .unwrap()
            .unwrap()
            .as_multi_string()
            .unwrap(),
        vec!["?:\\pagefile.sys".to_string()]
    );
    let big = hive.open("ControlSet001\\Control\\Big").unwrap().unwrap();
    assert_eq!(big.value("Blob").unwrap().unwrap().data, big_blob());
    assert_eq!(
        big.value("BigString")
            .unwrap()
            .unwrap()
            .as_string()
            .unwrap(),
        big_string()
    );
    let types = hive.open("ControlSet001\\Control\\Types").unwrap().unwrap();
    assert_eq!(
        types.value("").unwrap().unwrap().as_string().unwrap(),
        "the default \"value\" with a back\\slash"
    );
    assert_eq!(
        types.value("qword").unwrap().unwrap().as_u64().unwrap(),
        0x0123_4567_89ab_cdef
    );
    assert_eq!(
        types.value("BigEndian").unwrap().unwrap().as_u32().unwrap(),
        0x0102
    );
    assert_eq!(
        types
            .value("Multi")
            .unwrap()
            .unwrap()
            .as_multi_string()
            .unwrap(),
        ["one", "two", "three"]
    );
    assert!(matches!(
        types.value("Binary").unwrap().unwrap().as_u32(),
        Err(HiveError::WrongType { .. })
    ));
    assert!(types.value("nope").unwrap().is_none());
    // Unicode names: stored as UTF-16, compared with simple case folding.
    let nls = hive
        .open("ControlSet001\\Control\\Nls\\ÜNÏCODE KÉY")
        .unwrap()
        .unwrap();
    assert_eq!(nls.name(), "Ünïcode Kéy");
    assert_eq!(
        nls.value("GRÜSSE").unwrap().map(|v| v.name),
        None,
        "ß does not fold to SS"
    );
    assert_eq!(
        nls.value("grüße").unwrap().unwrap().as_string().unwrap(),
        "Ça va"
    );
    // Subkeys come sorted as Windows sorts them, and the services are all there.
    let services = hive.open("ControlSet001\\Services").unwrap().unwrap();
    let names: Vec<String> = services
        .subkeys()
        .unwrap()
        .iter()
        .map(|k| k.name().to_string())
        .collect();
    let expected: Vec<String> = (0..SERVICES).map(|i| format!("Svc{i:04}")).collect();
    assert_eq!(names, expected);
    assert!(hive
        .open("ControlSet001\\Services\\Svc9999")
        .unwrap()
        .is_none());
    assert!(hive.open("NoSuchKey\\Below").unwrap().is_none());
}

#[test]
fn registry_subkey_list_kinds_equal_hivex() {
    require!(hivex_present);
    let dir = tempfile::tempdir().unwrap();
    let spec = system_spec();
    let mut first: Option<Dump> = None;
    for opts in [
        &["--leaf", "lf"][..],
        &["--leaf", "li"],
        &["--ri", "50"],
        &["--ri", "7", "--leaf", "lf"],
        &["--ri", "100", "--leaf", "li"],
    ] {
        let path = mkhive(dir.path(), "system", &spec, opts);
        let hive = load(&path);
        let dump = assert_same_as_hivexregedit(&path, &hive);
        let deny = hive
            .open("ControlSet001\\Services\\SVC0613")
            .unwrap()
            .unwrap_or_else(|| panic!("{opts:?}"));
        assert_eq!(
            deny.value("start").unwrap().unwrap().as_u32().unwrap(),
            613 % 5
        );
        assert_eq!(
            hivexget(&path, "ControlSet001\\Services\\Svc0613", "Start"),
            b"3\n"
        );
        match &first {
            None => first = Some(dump),
            Some(f) => assert!(f == &dump, "{opts:?}: not the same as the first hive"),
        }
    }
}

#[test]
fn registry_software_hive_equals_hivex() {
    require!(hivex_present);
    let dir = tempfile::tempdir().unwrap();
    let path = mkhive(dir.path(), "software", &software_spec(), &[]);
    let hive = load(&path);
    let dump = assert_same_as_hivexregedit(&path, &hive);
    assert_eq!(assert_same_as_hivexget(&path, &hive, &dump), 7);
    let cv = hive
        .open("Microsoft\\Windows NT\\CurrentVersion")
        .unwrap()
        .unwrap();
    let s = |n: &str| cv.value(n).unwrap().unwrap().as_string().unwrap();
    assert_eq!(s("ProductName"), "Windows Server 2012 R2 Datacenter");
    assert_eq!(s("CurrentBuild"), "9600");
    assert_eq!(s("EditionID"), "ServerDatacenter");
    assert_eq!(s("InstallationType"), "Server");
    let state = hive
        .open("MICROSOFT\\windows\\CurrentVersion\\Setup\\State")
        .unwrap()
        .unwrap();
    assert_eq!(
        state
            .value("ImageState")
            .unwrap()
            .unwrap()
            .as_string()
            .unwrap(),
        "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
    );
    assert!(matches!(
        current_control_set(&hive),
        Err(HiveError::Missing(_))
    ));
}

#[test]
fn registry_project_fixture_specs_equal_hivex() {
    require!(hivex_present);
    let dir = tempfile::tempdir().unwrap();
    let reg_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/reg");
    let entries = std::fs::read_dir(&reg_dir)
        .unwrap_or_else(|e| panic!("{} cannot be read: {e}", reg_dir.display()));
    for e in entries {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "reg") {
            let spec = std::fs::read_to_string(&p).unwrap();
            let path = mkhive(dir.path(), "fixture", &spec, &[]);
            let hive = load(&path);
            let dump = assert_same_as_hivexregedit(&path, &hive);
            assert_same_as_hivexget(&path, &hive, &dump);
        }
    }
}

#[test]
fn registry_dirty_and_checksum() {
    require!(hivex_present);
    let dir = tempfile::tempdir().unwrap();
    let path = mkhive(dir.path(), "dirty", &software_spec(), &["--dirty"]);
    let bytes = std::fs::read(&path).unwrap();
    let hive = Hive::parse(bytes.clone()).unwrap();
    assert!(hive.is_dirty());
    assert_ne!(hive.sequence_numbers().0, hive.sequence_numbers().1);
    assert!(hive.checksum_ok());
    // hivex reads the dirty hive the same.
    assert_same_as_hivexregedit(&path, &hive);
    assert!(!load(&mkhive(dir.path(), "clean", &software_spec(), &[])).is_dirty());

    // A bad checksum is reported, and reading goes on.
    let mut bad = bytes;
    bad[0x1FC] ^= 0x55;
    let hive = Hive::parse(bad).unwrap();
    assert!(!hive.checksum_ok());
    assert!(hive.warnings().iter().any(|w| w.contains("checksum")));
    let cv = hive
        .open("Microsoft\\Windows NT\\CurrentVersion")
        .unwrap()
        .unwrap();
    assert_eq!(
        cv.value("CurrentBuild")
            .unwrap()
            .unwrap()
            .as_string()
            .unwrap(),
        "9600"
    );
}

// ------------------------------------------------------------------------------ damage

const BINS: usize = 0x1000;

fn rd32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn wr32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// File position of the payload of the cell at `offset`.
fn payload(offset: u32) -> usize {
    BINS + offset as usize + 4
}

/// The nk offset of the key at `path` in `bytes`.
fn nk_of(bytes: &[u8], path: &str) -> u32 {
    Hive::parse(bytes.to_vec())
        .unwrap()
        .open(path)
        .unwrap()
        .unwrap()
        .offset()
}

/// Appends a 4096-byte hbin holding one free cell; returns that cell's offset.
fn append_bin(b: &mut Vec<u8>) -> u32 {
    let off = b.len() - BINS;
    let mut bin = vec![0u8; 4096];
    bin[..4].copy_from_slice(b"hbin");
    wr32(&mut bin, 4, off as u32);
    wr32(&mut bin, 8, 4096);
    wr32(&mut bin, 32, 4096 - 32);
    b.extend_from_slice(&bin);
    let total = (b.len() - BINS) as u32;
    wr32(b, 0x28, total);
    (off + 32) as u32
}

fn is_corrupt(e: &HiveError) -> bool {
    matches!(e, HiveError::Corrupt { .. } | HiveError::OutOfBounds { .. })
}

/// Applies `damage` to the SYSTEM hive's bytes and returns the error of opening `path`
/// and reading its subkeys and values.
fn damaged(bytes: &[u8], path: &str, damage: impl FnOnce(&mut Vec<u8>)) -> HiveError {
    let mut b = bytes.to_vec();
    damage(&mut b);
    let hive = Hive::parse(b).unwrap();
    let r = (|| {
        let k = hive.open(path)?.expect("key");
        k.subkeys()?;
        for v in k.values()? {
            let _ = v.as_string();
        }
        Ok::<_, HiveError>(())
    })();
    let e = r.expect_err("damage went unnoticed");
    assert!(is_corrupt(&e), "{e:?}");
    // The message names the offset.
    assert!(e.to_string().contains("0x"), "{e}");
    e
}

#[test]
fn registry_cells_outside_the_hive() {
    require!(python_present);
    let bytes = system_bytes();
    let ctl = nk_of(bytes, "ControlSet001\\Control");
    let types = nk_of(bytes, "ControlSet001\\Control\\Types");
    // Subkey list far outside, and just past the end.
    for target in [0x7FFF_FFF0, (bytes.len() - BINS - 2) as u32, u32::MAX - 3] {
        let e = damaged(bytes, "ControlSet001\\Control", |b| {
            wr32(b, payload(ctl) + 0x1C, target)
        });
        assert!(
            e.to_string().contains("points outside the hive")
                || e.to_string().contains("runs past"),
            "{e}"
        );
    }
    // Value list outside.
    let e = damaged(bytes, "ControlSet001\\Control\\Types", |b| {
        wr32(b, payload(types) + 0x28, 0x4000_0000)
    });
    assert!(e.to_string().contains("points outside the hive"), "{e}");
    // Value data outside: the first vk of Types that keeps its data in a cell.
    let mut b = bytes.to_vec();
    let list = rd32(&b, payload(types) + 0x28);
    let n = rd32(&b, payload(types) + 0x24) as usize;
    let vk = (0..n)
        .map(|i| rd32(&b, payload(list) + 4 * i))
        .find(|&vk| rd32(&b, payload(vk) + 4) & 0x8000_0000 == 0 && rd32(&b, payload(vk) + 4) > 4)
        .unwrap();
    wr32(&mut b, payload(vk) + 8, 0x0FFF_FFF8);
    let e = damaged(&b, "ControlSet001\\Control\\Types", |_| {});
    assert!(e.to_string().contains("points outside the hive"), "{e}");
    // Root outside: parse succeeds, root() says where.
    let mut b = bytes.to_vec();
    wr32(&mut b, 0x24, 0x00F0_0000);
    let hive = Hive::parse(b).unwrap();
    let e = hive.root().unwrap_err();
    assert!(
        e.to_string()
            .contains("cell at offset 0xf00000 points outside the hive"),
        "{e}"
    );
    // A reference to a free cell, and into the middle of a cell.
    let mut b = bytes.to_vec();
    let free = append_bin(&mut b);
    for target in [free, ctl + 8] {
        let e = damaged(&b, "ControlSet001\\Control", |b| {
            wr32(b, payload(ctl) + 0x1C, target)
        });
        assert!(e.to_string().contains(&format!("{target:#x}")), "{e}");
    }
}

#[test]
fn registry_absurd_counts() {
    require!(python_present);
    let bytes = system_bytes();
    let services = nk_of(bytes, "ControlSet001\\Services");
    let types = nk_of(bytes, "ControlSet001\\Control\\Types");
    // The lh list claims 65535 entries.
    let e = damaged(bytes, "ControlSet001\\Services", |b| {
        let list = rd32(b, payload(services) + 0x1C);
        assert_eq!(&b[payload(list)..payload(list) + 2], b"lh");
        b[payload(list) + 2..payload(list) + 4].copy_from_slice(&0xFFFFu16.to_le_bytes());
    });
    assert!(e.to_string().contains("claims 65535 entries"), "{e}");
    // The value list claims 2^31 values.
    let e = damaged(bytes, "ControlSet001\\Control\\Types", |b| {
        wr32(b, payload(types) + 0x24, 0x8000_0000)
    });
    assert!(e.to_string().contains("claims 2147483648 values"), "{e}");
    // The nk's own subkey count is absurd: the list decides, nothing is allocated for it.
    let mut b = bytes.to_vec();
    wr32(&mut b, payload(services) + 0x14, u32::MAX);
    let hive = Hive::parse(b).unwrap();
    let k = hive.open("ControlSet001\\Services").unwrap().unwrap();
    assert_eq!(k.subkeys().unwrap().len(), SERVICES);
    // Big data: the db record claims fewer segments than its data needs.
    let big = nk_of(bytes, "ControlSet001\\Control\\Big");
    let e = damaged(bytes, "ControlSet001\\Control\\Big", |b| {
        let list = rd32(b, payload(big) + 0x28);
        for i in 0..2 {
            let vk = rd32(b, payload(list) + 4 * i);
            let db = rd32(b, payload(vk) + 8);
            if &b[payload(db)..payload(db) + 2] == b"db" {
                b[payload(db) + 2..payload(db) + 4].copy_from_slice(&1u16.to_le_bytes());
            }
        }
    });
    assert!(e.to_string().contains("segments cannot hold"), "{e}");
    // A value claims more data than the hive holds.
    let e = damaged(bytes, "ControlSet001\\Control\\Types", |b| {
        let list = rd32(b, payload(types) + 0x28);
        let vk = rd32(b, payload(list));
        wr32(b, payload(vk) + 4, 0x7FFF_0000);
    });
    assert!(e.to_string().contains("larger than the hive"), "{e}");
}

#[test]
fn registry_cycles() {
    require!(python_present);
    // An ri index whose first entry is the index itself.
    let bytes = system_ri_bytes();
    let services = nk_of(bytes, "ControlSet001\\Services");
    let e = damaged(bytes, "ControlSet001\\Services", |b| {
        let ri = rd32(b, payload(services) + 0x1C);
        assert_eq!(&b[payload(ri)..payload(ri) + 2], b"ri");
        wr32(b, payload(ri) + 4, ri);
    });
    assert!(e.to_string().contains("reached twice"), "{e}");
    // An ri index nested 5 deep: each ri's first entry is the next one, built in the free
    // space at the end of the last hbin.
    let mut b = bytes.to_vec();
    let free_at = append_bin(&mut b) as usize;
    let leaf = rd32(&b, payload(rd32(&b, payload(services) + 0x1C)) + 4);
    let mut next = leaf;
    for i in (0..6).rev() {
        let at = free_at + i * 16;
        wr32(&mut b, BINS + at, (-16i32) as u32);
        b[BINS + at + 4..BINS + at + 6].copy_from_slice(b"ri");
        b[BINS + at + 6..BINS + at + 8].copy_from_slice(&1u16.to_le_bytes());
        wr32(&mut b, BINS + at + 8, next);
        next = at as u32;
    }
    let e = damaged(&b, "ControlSet001\\Services", |b| {
        wr32(b, payload(services) + 0x1C, next)
    });
    assert!(e.to_string().contains("nested deeper than 4"), "{e}");
    // A key listing its own ancestor: subkeys() reads it, walk() stops.
    let bytes = system_bytes();
    let mut b = bytes.to_vec();
    let terminal = nk_of(bytes, "ControlSet001\\Control\\Terminal Server");
    let control = nk_of(bytes, "ControlSet001\\Control");
    // Give Terminal Server a one-entry li list (in a new hbin) naming Control.
    let free_at = append_bin(&mut b) as usize;
    wr32(&mut b, BINS + free_at, (-16i32) as u32);
    b[BINS + free_at + 4..BINS + free_at + 8].copy_from_slice(b"li\x01\x00");
    wr32(&mut b, BINS + free_at + 8, control);
    wr32(&mut b, payload(terminal) + 0x14, 1);
    wr32(&mut b, payload(terminal) + 0x1C, free_at as u32);
    let hive = Hive::parse(b).unwrap();
    let ts = hive
        .open("ControlSet001\\Control\\Terminal Server")
        .unwrap()
        .unwrap();
    assert_eq!(ts.subkeys().unwrap()[0].name(), "Control");
    assert!(hive
        .open("ControlSet001\\Control\\Terminal Server\\Control\\Terminal Server\\Control")
        .unwrap()
        .is_some());
    let mut visits = 0;
    let e = hive
        .walk(|_, _| {
            visits += 1;
            Ok(())
        })
        .unwrap_err();
    assert!(e.to_string().contains("reached twice"), "{e}");
    assert!(visits < 2 * (SERVICES + 30), "{visits}");
}

#[test]
fn registry_truncated_and_random() {
    require!(python_present);
    let bytes = system_bytes();
    for len in [0, 3, 4, 100, 4095] {
        assert!(matches!(
            Hive::parse(bytes[..len].to_vec()),
            Err(HiveError::NotAHive(_))
        ));
    }
    assert!(Hive::parse(vec![0x55; 8192]).is_err());
    let mut lens: Vec<usize> = vec![4096, 4097, 4100, 4128, 4200, bytes.len() - 1];
    lens.extend((1..40).map(|i| 4096 + (bytes.len() - 4096) * i / 40));
    for len in lens {
        let hive = Hive::parse(bytes[..len].to_vec()).unwrap();
        assert!(!hive.warnings().is_empty(), "{len}");
        let (keys, _) = tolerant_walk(&hive);
        assert!(keys <= SERVICES + 30);
    }
}

/// Walks every key and value, going on past errors; returns (keys, values) read.
fn tolerant_walk(hive: &Hive) -> (usize, usize) {
    let mut seen = HashSet::new();
    let (mut keys, mut values) = (0, 0);
    let mut stack: Vec<Key<'_>> = hive.root().into_iter().collect();
    while let Some(k) = stack.pop() {
        if !seen.insert(k.offset()) {
            continue;
        }
        keys += 1;
        let _ = k.name().len();
        if let Ok(vs) = k.values() {
            for v in vs {
                values += 1;
                let _ = (v.as_string(), v.as_u32(), v.as_u64(), v.as_multi_string());
                let _ = k.value(&v.name);
            }
        }
        let _ = k.value("");
        if let Ok(subs) = k.subkeys() {
            if let Some(first) = subs.first() {
                let _ = k.subkey(first.name());
            }
            stack.extend(subs);
        }
    }
    let _ = hive.walk(|_, k| k.values().map(|_| ()));
    let _ = current_control_set(hive);
    let _ = hive.open("ControlSet001\\Control\\Terminal Server");
    (keys, values)
}

#[test]
fn registry_walk_reads_everything() {
    require!(python_present);
    let hive = Hive::parse(system_bytes().to_vec()).unwrap();
    let (keys, values) = tolerant_walk(&hive);
    let dump = dump_ours(&hive);
    assert_eq!(keys, dump.len());
    assert_eq!(values, dump.values().map(|v| v.len()).sum::<usize>());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// The cases of `registry_mutated_hive_never_panics`.
    fn registry_mutated_hive_cases(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u32>(), any::<bool>()), 1..24),
        ri in any::<bool>(),
    ) {
        let mut b = if ri { system_ri_bytes() } else { system_bytes() }.to_vec();
        let len = b.len();
        for (at, v, word) in edits {
            let pos = at.index(len);
            if word && pos + 4 <= len {
                let v = match v % 4 {
                    0 => v,
                    1 => v % 0x10000,
                    2 => (v as i32 % 0x10000).unsigned_abs().wrapping_neg(),
                    _ => u32::MAX - v % 8,
                };
                wr32(&mut b, pos, v);
            } else {
                b[pos] = v as u8;
            }
        }
        let start = Instant::now();
        if let Ok(hive) = Hive::parse(b) {
            tolerant_walk(&hive);
        }
        prop_assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    }

    /// Random bytes behind a base block that parses.
    #[test]
    fn registry_random_hive_never_panics(
        body in prop::collection::vec(any::<u8>(), 0..20_000),
        root in 0u32..20_000,
    ) {
        let mut b = vec![0u8; 4096];
        b[..4].copy_from_slice(b"regf");
        wr32(&mut b, 0x14, 1);
        wr32(&mut b, 0x24, root);
        wr32(&mut b, 0x28, body.len() as u32);
        b.extend_from_slice(&body);
        let hive = Hive::parse(b).unwrap();
        tolerant_walk(&hive);
    }
}

/// Random damage to a real hive (bytes and 32-bit words, mostly in the hbins): reading every
/// key and value never panics and stays fast.
#[test]
fn registry_mutated_hive_never_panics() {
    require!(python_present);
    registry_mutated_hive_cases();
}

/// The writer's lh hashes (`h = h * 37 + upper(c)`), lf hints (the name's first 4 bytes),
/// name flags, and hbin sizes; hivex checks none of these.
#[test]
fn registry_writer_hashes_hints_and_bins() {
    require!(python_present);
    let dir = tempfile::tempdir().unwrap();
    for leaf in ["lh", "lf"] {
        let bytes =
            std::fs::read(mkhive(dir.path(), leaf, &system_spec(), &["--leaf", leaf])).unwrap();
        let hive = Hive::parse(bytes.clone()).unwrap();
        let mut lists = 0;
        hive.walk(|path, key| {
            let nk = payload(key.offset());
            let flags = u16::from_le_bytes([bytes[nk + 2], bytes[nk + 3]]);
            assert_eq!(flags & 0x20 != 0, key.name().is_ascii(), "{path}");
            let subs = key.subkeys()?;
            if subs.is_empty() {
                return Ok(());
            }
            lists += 1;
            let list = payload(rd32(&bytes, nk + 0x1C));
            assert_eq!(&bytes[list..list + 2], leaf.as_bytes());
            for (i, sub) in subs.iter().enumerate() {
                let hint = &bytes[list + 8 + 8 * i..list + 12 + 8 * i];
                let expected: Vec<u8> = if leaf == "lh" {
                    sub.name()
                        .encode_utf16()
                        .fold(0u32, |h, u| {
                            let up = char::from_u32(u as u32)
                                .map(|c| c.to_uppercase().collect::<Vec<_>>())
                                .filter(|v| v.len() == 1 && (v[0] as u32) < 0x10000)
                                .map_or(u as u32, |v| v[0] as u32);
                            h.wrapping_mul(37).wrapping_add(up)
                        })
                        .to_le_bytes()
                        .to_vec()
                } else {
                    // The first 4 characters, one byte each (0 past Latin-1).
                    let mut h: Vec<u8> = sub
                        .name()
                        .encode_utf16()
                        .take(4)
                        .map(|u| u8::try_from(u).unwrap_or(0))
                        .collect();
                    h.resize(4, 0);
                    h
                };
                assert_eq!(hint, &expected[..], "{path}\\{}", sub.name());
            }
            // Sorted by upper-cased name, as Windows requires.
            let upper: Vec<String> = subs.iter().map(|k| k.name().to_uppercase()).collect();
            assert!(upper.windows(2).all(|w| w[0] < w[1]), "{path}: {upper:?}");
            Ok(())
        })
        .unwrap();
        assert_eq!(lists, 8);
        let mut at = BINS;
        while at < bytes.len() {
            assert_eq!(&bytes[at..at + 4], b"hbin");
            assert_eq!(rd32(&bytes, at + 4) as usize, at - BINS);
            let size = rd32(&bytes, at + 8) as usize;
            assert!(size > 0 && size % 4096 == 0);
            at += size;
        }
        assert_eq!(at, bytes.len());
        assert_eq!(rd32(&bytes, 0x28) as usize, bytes.len() - BINS);
    }
}

/// A REG_MULTI_SZ with empty strings inside the list (PendingFileRenameOperations pairs a file
/// with an empty destination to delete it): `windows::multi_sz_entries` keeps every string
/// hivexget prints, and `windows::show_data` shows DWORDs as hivexget does.
#[test]
fn multi_sz_entries_equal_hivexget() {
    if !hivex_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cases: &[&[&str]] = &[
        &[
            "\\??\\C:\\Windows\\Temp\\a.tmp",
            "",
            "\\??\\C:\\b.new",
            "!\\??\\C:\\b.dll",
        ],
        &["\\??\\C:\\x", ""],
        &["only"],
        &[],
    ];
    for (i, items) in cases.iter().enumerate() {
        let spec = format!(
            "Windows Registry Editor Version 5.00\n\n[Select]\n\"Current\"=dword:00000001\n\n\
             [ControlSet001\\Control\\Session Manager]\n\"PendingFileRenameOperations\"=hex(7):{}\n\n\
             [ControlSet001\\Services\\cdrom]\n\"Start\"=dword:00000004\n",
            hex(&[utf16z(items), vec![0, 0]].concat())
        );
        let path = mkhive(dir.path(), &format!("pfro{i}"), &spec, &[]);
        let hive = load(&path);
        let cs = current_control_set(&hive).unwrap();
        let key = format!("{cs}\\Control\\Session Manager");
        let v = vhdlint_guest::windows::reg_value(&hive, &key, "PendingFileRenameOperations")
            .unwrap()
            .unwrap();
        let ours = vhdlint_guest::windows::multi_sz_entries(&v).unwrap();
        let mut printed: String = ours.iter().map(|s| format!("{s}\n")).collect();
        printed.push('\n');
        assert_eq!(
            String::from_utf8_lossy(&hivexget(&path, &key, "PendingFileRenameOperations")),
            printed,
            "case {i}"
        );
        let start =
            vhdlint_guest::windows::reg_value(&hive, "ControlSet001\\Services\\cdrom", "Start")
                .unwrap()
                .unwrap();
        assert_eq!(
            format!("{}\n", vhdlint_guest::windows::show_data(&start)).into_bytes(),
            hivexget(&path, "ControlSet001\\Services\\cdrom", "Start")
        );
    }
}
