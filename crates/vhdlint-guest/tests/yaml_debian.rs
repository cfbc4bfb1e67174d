//! The YAML reader on the YAML that Debian's packages ship, against PyYAML (the parser
//! cloud-init itself reads its configuration with): every netplan example of `netplan.io`,
//! cloud-init's `/etc/cloud/cloud.cfg` and `cloud.cfg.d` files and every cloud-config example
//! of `cloud-init`, as Debian 12 ships them (`fixtures/debian-packages.sh`: `apt-get download`
//! and `dpkg-deb -x`, cached under the target directory).
//!
//! Both sides give the same tree: mappings with their keys in order, each key's line, sequences
//! with each item's line, scalars as text, null as null (PyYAML's node graph from
//! `yaml.compose`, before any typing). Without apt, dpkg-deb or PyYAML the test says SKIP and
//! passes, or fails under `VHDLINT_REQUIRE_PREREQS=1`.

#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use vhdlint_guest::config::yaml::{self, Yaml};

/// PyYAML's view of each file named on the command line: a JSON list, one tree per file.
const PYYAML: &str = r#"
import gzip, json, sys, yaml

NULLS = {"", "~", "null", "Null", "NULL"}

def scalar(node):
    if node.style is None and node.value in NULLS:
        return None
    return node.value

def tree(node):
    if isinstance(node, yaml.ScalarNode):
        return scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return {"seq": [[item.start_mark.line + 1, tree(item)] for item in node.value]}
    entries = []
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue  # a complex key: dropped with its value
        k = scalar(key)
        entries.append(["" if k is None else k, key.start_mark.line + 1, tree(value)])
    return {"map": entries}

out = []
for path in sys.argv[1:]:
    raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    docs = yaml.compose_all(raw.decode("utf-8"), Loader=yaml.SafeLoader)
    first = next(iter(docs), None)
    out.append(None if first is None else tree(first))
print(json.dumps(out))
"#;

/// Our reader's tree in the same shape.
fn ours(y: &Yaml) -> Value {
    match y {
        Yaml::Null => Value::Null,
        Yaml::Scalar(s) => json!(s),
        Yaml::Seq(items) => json!({
            "seq": items.iter().map(|(l, v)| json!([l, ours(v)])).collect::<Vec<_>>()
        }),
        Yaml::Map(entries) => json!({
            "map": entries.iter().map(|(k, l, v)| json!([k, l, ours(v)])).collect::<Vec<_>>()
        }),
    }
}

fn text_of(path: &Path) -> String {
    let raw = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_string(&mut s)
            .unwrap();
        s
    } else {
        String::from_utf8(raw).unwrap()
    }
}

fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| keep(&p.file_name().unwrap().to_string_lossy()))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The packages' files, or why not.
fn packages() -> Result<PathBuf, String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("bash")
        .arg(repo.join("fixtures/debian-packages.sh"))
        .arg(env!("CARGO_TARGET_TMPDIR"))
        .args(["debian-yaml", "netplan.io", "cloud-init"])
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    match out.status.code() {
        Some(0) => {}
        Some(77) => return Err(stderr),
        _ => panic!("fixtures/debian-packages.sh failed:\n{stderr}"),
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    Ok(PathBuf::from(stdout.lines().last().unwrap_or_default()))
}

#[test]
fn debian_netplan_and_cloud_init_yaml_read_as_pyyaml_reads_it() {
    let root = match packages() {
        Ok(r) => r,
        Err(why) => {
            prereq::skip("Debian's netplan and cloud-init YAML", &why);
            return;
        }
    };
    let netplan = files_in(&root.join("usr/share/doc/netplan/examples"), |n| {
        n.ends_with(".yaml")
    });
    let mut cloud = vec![root.join("etc/cloud/cloud.cfg")];
    cloud.extend(files_in(&root.join("etc/cloud/cloud.cfg.d"), |n| {
        n.ends_with(".cfg")
    }));
    cloud.extend(files_in(
        &root.join("usr/share/doc/cloud-init/examples"),
        |n| n.starts_with("cloud-config") && (n.ends_with(".txt") || n.ends_with(".txt.gz")),
    ));
    assert!(netplan.len() >= 20, "netplan examples: {}", netplan.len());
    assert!(cloud.len() >= 20, "cloud-init files: {}", cloud.len());
    let files: Vec<PathBuf> = netplan.iter().chain(&cloud).cloned().collect();

    let py = Command::new("python3")
        .arg("-c")
        .arg(PYYAML)
        .args(&files)
        .output();
    let py = match py {
        Ok(o) if o.status.success() => o,
        Ok(o) if String::from_utf8_lossy(&o.stderr).contains("No module named 'yaml'") => {
            prereq::skip(
                "Debian's netplan and cloud-init YAML",
                "python3 has no yaml module (PyYAML: pip install pyyaml, or python3-yaml)",
            );
            return;
        }
        Ok(o) => panic!("PyYAML failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!("python3: {e}"),
    };
    let truth: Vec<Value> = serde_json::from_slice(&py.stdout).unwrap();
    assert_eq!(truth.len(), files.len());
    let mut keys = 0;
    for (path, want) in files.iter().zip(&truth) {
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        let doc = yaml::read(&text_of(path));
        assert!(doc.error.is_none(), "{name}: {:?}", doc.error);
        assert!(doc.bounds.is_empty(), "{name}: {:?}", doc.bounds);
        assert_eq!(&ours(&doc.root), want, "{name}");
        keys += ours(&doc.root).to_string().matches("\"map\"").count();
    }
    assert!(
        keys > 100,
        "the files hold real structure ({keys} mappings)"
    );
    // What the checks read, on the files themselves: a netplan example's DHCP, and cloud.cfg's
    // datasource and modules.
    let dhcp = vhdlint_guest::config::network::parse_netplan(&text_of(
        &root.join("usr/share/doc/netplan/examples/dhcp.yaml"),
    ));
    assert!(!dhcp.interfaces.is_empty() && dhcp.notes.is_empty());
    let cfg = yaml::parse(&text_of(&root.join("etc/cloud/cloud.cfg")));
    assert!(!cfg.get("cloud_init_modules").unwrap().0.items().is_empty());
}

/// What the reader makes of YAML that is not valid, against PyYAML: both refuse it (netplan and
/// cloud-init would), and the reader stops no later than PyYAML does.
#[test]
fn invalid_yaml_stops_where_pyyaml_stops() {
    // (text, the line the reader names: where the defect is).
    let cases = [
        (
            "network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n     bad: 1\n",
            6,
        ),
        ("network:\n  ethernets: {eth0: {dhcp4: true}\n", 3),
        ("a: 'unterminated\nb: c\n", 1),
        ("- a\nb: c\n", 2),
        ("a: b: c\n", 1),
        ("key: [1, 2\nother: 3\n", 2),
        ("a:\n\t- tab\n", 2),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, (c, _)) in cases.iter().enumerate() {
        let p = dir.path().join(format!("{i}.yaml"));
        std::fs::write(&p, c).unwrap();
        paths.push(p);
    }
    let script = "import sys, yaml\nfor p in sys.argv[1:]:\n    try:\n        yaml.compose(open(p).read(), Loader=yaml.SafeLoader)\n        print('ok')\n    except yaml.MarkedYAMLError as e:\n        print((e.problem_mark.line + 1) if e.problem_mark else 0)\n";
    let out = match Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(&paths)
        .output()
    {
        Ok(o) if o.status.success() => o,
        _ => {
            prereq::skip("invalid YAML against PyYAML", "python3 with PyYAML");
            return;
        }
    };
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    for ((c, bad_line), py) in cases.iter().zip(&lines) {
        let doc = yaml::read(c);
        assert_ne!(py, "ok", "PyYAML accepts {c:?}");
        let e = doc
            .error
            .unwrap_or_else(|| panic!("no error on {c:?} (PyYAML: line {py})"));
        // The defect's line here; PyYAML names it too, or a later one where it gave up (the
        // end of the text, for an unterminated quote).
        assert_eq!(e.line, *bad_line, "{c:?}: {e:?}");
        let py_line: usize = py.parse().unwrap();
        assert!(py_line >= *bad_line, "{c:?}: PyYAML names line {py_line}");
    }
}
