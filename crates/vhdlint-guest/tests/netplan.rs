//! The netplan reader against netplan itself: many generated trees of netplan files (in
//! /lib, /etc and /run/netplan, names shared across them so that one shadows another;
//! ethernets, bridges, bonds and VLANs; dhcp4 in each boolean spelling netplan accepts;
//! addresses; `match: macaddress:` with and without `set-name`), each read by
//! `parse_netplan` + `netplan_file_order` + `merge_netplan` and by `netplan get --root-dir`,
//! whose merged output is the truth: the same definitions, the same dhcp4, the same MAC
//! matches and names, the same addresses in the same order, the same members (a set).
//!
//! Without `netplan` (Debian package `netplan.io`) the test says SKIP and passes, or fails
//! under `VHDLINT_REQUIRE_PREREQS=1`.

#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use vhdlint_guest::config::network::{merge_netplan, netplan_file_order, parse_netplan};
use vhdlint_guest::config::yaml::{self, Yaml};

/// Trees generated and compared.
const TREES: usize = 200;

/// A small deterministic generator (xorshift64*), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, in_ten: usize) -> bool {
        self.below(10) < in_ten
    }
}

/// Boolean spellings netplan accepts (case does not matter; quoted ones too).
const BOOLS: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "y", "n", "True", "NO", "\"off\"", "'yes'",
];

/// One definition's settings, as YAML lines under its id.
fn settings(r: &mut Rng, with_match: bool) -> Vec<String> {
    let mut out = Vec::new();
    if r.chance(7) {
        out.push(format!("dhcp4: {}", r.pick(BOOLS)));
    }
    if r.chance(3) {
        let n = 1 + r.below(2);
        let addrs: Vec<String> = (0..n)
            .map(|_| format!("\"10.{}.{}.4/24\"", r.below(4), r.below(250)))
            .collect();
        if r.chance(5) {
            out.push(format!("addresses: [{}]", addrs.join(", ")));
        } else {
            out.push("addresses:".into());
            out.extend(addrs.iter().map(|a| format!("  - {a}")));
        }
    }
    if with_match && r.chance(4) {
        let mac = format!(
            "00:0d:3a:{:02x}:{:02x}:{:02x}",
            r.below(256),
            r.below(256),
            r.below(256)
        );
        out.push("match:".into());
        out.push(format!("  macaddress: \"{mac}\""));
        if r.chance(5) {
            out.push("  driver: hv_netvsc".into());
        }
        if r.chance(6) {
            out.push(format!("set-name: {}", r.pick(&["eth0", "eth1", "lan0"])));
        }
    }
    out
}

/// One netplan file.
fn file(r: &mut Rng) -> String {
    let mut y = String::from("network:\n  version: 2\n");
    if r.chance(3) {
        y.push_str(&format!(
            "  renderer: {}\n",
            r.pick(&["networkd", "NetworkManager"])
        ));
    }
    let mut section =
        |kind: &str, ids: &[&str], r: &mut Rng, extra: &dyn Fn(&str, &mut Rng) -> Vec<String>| {
            let chosen: Vec<&str> = ids.iter().copied().filter(|_| r.chance(5)).collect();
            if chosen.is_empty() {
                return;
            }
            y.push_str(&format!("  {kind}:\n"));
            for id in chosen {
                let mut lines = extra(id, r);
                lines.extend(settings(r, kind == "ethernets"));
                if lines.is_empty() {
                    y.push_str(&format!("    {id}: {{}}\n"));
                } else {
                    y.push_str(&format!("    {id}:\n"));
                    for l in lines {
                        y.push_str(&format!("      {l}\n"));
                    }
                }
            }
        };
    section("ethernets", &["eth0", "eth1", "eth2"], r, &|_, _| {
        Vec::new()
    });
    section("bridges", &["br0"], r, &|_, r| {
        let m = r.pick(&["[eth0]", "[eth1]", "[eth0, eth1]"]);
        vec![format!("interfaces: {m}")]
    });
    section("bonds", &["bond0"], r, &|_, r| {
        vec![
            format!(
                "interfaces: {}",
                r.pick(&["[eth2]", "[eth3]", "[eth2, eth3]"])
            ),
            "parameters: {mode: active-backup}".into(),
        ]
    });
    section("vlans", &["vlan10"], r, &|_, r| {
        vec![
            "id: 10".into(),
            format!("link: {}", r.pick(&["eth0", "eth1", "eth2"])),
        ]
    });
    y
}

/// What is compared of one definition.
#[derive(Debug, Default, PartialEq, Eq)]
struct Seen {
    dhcp4: bool,
    macaddress: Option<String>,
    set_name: Option<String>,
    addresses: Vec<String>,
    members: Vec<String>,
}

fn scalar(y: Option<(&Yaml, usize)>) -> Option<String> {
    y.and_then(|(v, _)| v.as_str()).map(str::to_string)
}

fn list(y: Option<(&Yaml, usize)>) -> Vec<String> {
    y.map(|(v, _)| {
        v.items()
            .iter()
            .filter_map(|(_, i)| i.as_str().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// netplan's merged view: `netplan get all` read back.
fn netplan_view(root: &Path) -> Result<BTreeMap<(String, String), Seen>, String> {
    let out = Command::new("netplan")
        .args(["get", "--root-dir"])
        .arg(root)
        .arg("all")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let doc = yaml::parse(&String::from_utf8_lossy(&out.stdout));
    let mut seen = BTreeMap::new();
    if let Some((net, _)) = doc.get("network") {
        for (kind, _, defs) in net.entries() {
            for (id, _, d) in defs.entries() {
                seen.insert(
                    (kind.clone(), id.clone()),
                    Seen {
                        dhcp4: d.get("dhcp4").and_then(|(v, _)| v.as_bool()) == Some(true),
                        macaddress: scalar(d.path(&["match", "macaddress"])),
                        set_name: scalar(d.get("set-name")),
                        addresses: list(d.get("addresses")),
                        members: sorted(list(d.get("interfaces"))),
                    },
                );
            }
        }
    }
    Ok(seen)
}

/// vhdlint's view of the same files.
fn vhdlint_view(files: &[(String, String)]) -> BTreeMap<(String, String), Seen> {
    let paths: Vec<String> = files.iter().map(|(p, _)| p.clone()).collect();
    let order = netplan_file_order(&paths);
    let plans: Vec<(String, _)> = order
        .iter()
        .map(|p| {
            let text = &files.iter().find(|(q, _)| q == p).expect("listed").1;
            (p.clone(), parse_netplan(text))
        })
        .collect();
    merge_netplan(plans.iter().map(|(p, n)| (p.as_str(), n)))
        .into_iter()
        .map(|d| {
            let seen = Seen {
                dhcp4: d.dhcp4_enabled(),
                macaddress: d.match_macaddress.as_ref().map(|m| m.value.clone()),
                set_name: d.set_name.as_ref().map(|m| m.value.clone()),
                addresses: d.addresses.iter().map(|a| a.value.clone()).collect(),
                members: sorted(d.members.iter().map(|a| a.value.clone()).collect()),
            };
            ((d.kind, d.name), seen)
        })
        .collect()
}

/// Whether netplan is installed; when not, `what` is skipped (see `prereq::skip`).
fn have_netplan(what: &str) -> bool {
    let have = Command::new("netplan")
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        prereq::skip(what, "netplan not installed (Debian package `netplan.io`)");
    }
    have
}

#[test]
fn merged_netplan_trees_read_as_netplan_get_reads_them() {
    if !have_netplan("the netplan differential test") {
        return;
    }
    let mut r = Rng(0x0005_eed0_f2e7_91a7);
    let names = [
        "10-base.yaml",
        "50-cloud-init.yaml",
        "60-extra.yaml",
        "90-last.yaml",
    ];
    let mut compared = 0;
    let mut with_pins = 0;
    let mut with_shadowing = 0;
    for tree in 0..TREES {
        let dir = tempfile::tempdir().expect("temp dir");
        // eth0 to eth3 are always defined, so bridges, bonds and VLANs name defined ids; the
        // bridge takes its members from eth0 and eth1, the bond from eth2 and eth3 (netplan
        // refuses an interface in both).
        let mut files = vec![(
            "/lib/netplan/00-base.yaml".to_string(),
            "network:\n  version: 2\n  ethernets:\n    eth0: {}\n    eth1: {}\n    eth2: {}\n    eth3: {}\n".to_string(),
        )];
        for _ in 0..1 + r.below(4) {
            let path = format!(
                "/{}/netplan/{}",
                r.pick(&["lib", "etc", "run"]),
                r.pick(&names)
            );
            if files.iter().any(|(p, _)| *p == path) {
                continue;
            }
            files.push((path, file(&mut r)));
        }
        for (p, text) in &files {
            let full = dir.path().join(p.trim_start_matches('/'));
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            std::fs::write(&full, text).expect("write");
            std::fs::set_permissions(&full, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        let listing = || {
            files
                .iter()
                .map(|(p, t)| format!("--- {p}\n{t}"))
                .collect::<String>()
        };
        let truth = match netplan_view(dir.path()) {
            Ok(t) => t,
            Err(e) => panic!("tree {tree}: netplan refused it: {e}\n{}", listing()),
        };
        let ours = vhdlint_view(&files);
        assert_eq!(ours, truth, "tree {tree}:\n{}", listing());
        compared += 1;
        with_pins += usize::from(truth.values().any(|s| s.macaddress.is_some()));
        let names_seen: Vec<&str> = files
            .iter()
            .map(|(p, _)| p.rsplit('/').next().unwrap_or(""))
            .collect();
        with_shadowing += usize::from(
            names_seen
                .iter()
                .enumerate()
                .any(|(i, n)| names_seen[..i].contains(n)),
        );
    }
    // The generator must have produced the cases this test is about.
    assert_eq!(compared, TREES);
    assert!(with_pins > TREES / 10, "{with_pins} trees with a MAC match");
    assert!(
        with_shadowing > TREES / 10,
        "{with_shadowing} trees with a shadowed file"
    );
}

/// A netplan file that is not valid YAML, beside one that configures eth0 by DHCP: netplan
/// itself (`netplan generate --root-dir`) refuses the whole configuration and writes nothing,
/// and the reader says the file is invalid at the line netplan names; valid variants of the
/// same files are read without complaint and generate eth0's configuration.
#[test]
fn netplan_refuses_what_the_reader_calls_invalid_at_the_same_line() {
    if !have_netplan("netplan generate on invalid YAML") {
        return;
    }
    // (text, None when valid, else the line the reader names: where the defect is; netplan
    // names the same line, or a later one where it gave up, e.g. the end of an unclosed quote).
    let cases: &[(&str, Option<usize>)] = &[
        (
            "network:\n  ethernets:\n    eth1:\n      dhcp4: true\n     mtu: 1500\n",
            Some(5),
        ),
        ("network:\n  ethernets: {eth1: {dhcp4: true}\n", Some(3)),
        (
            "network:\n  ethernets:\n    eth1:\n      dhcp4: 'yes\n",
            Some(4),
        ),
        ("network:\n  ethernets:\n    eth1: [\n", Some(4)),
        ("network:\n  ethernets:\n\teth1: {}\n", Some(3)),
        ("network:\n  ethernets:\n    eth1: {dhcp4: true}\n", None),
        (
            "network:\n  ethernets:\n    eth1:\n      dhcp4: |-\n        true\n",
            None,
        ),
        (
            "network:\n  ethernets:\n    eth1: &e {dhcp4: true}\n    eth2: *e\n",
            None,
        ),
        ("# only a comment\n", None),
    ];
    for (text, bad_line) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let etc = dir.path().join("etc/netplan");
        std::fs::create_dir_all(&etc).expect("mkdir");
        for (name, body) in [
            (
                "01-dhcp.yaml",
                "network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n",
            ),
            ("90-other.yaml", text),
        ] {
            std::fs::write(etc.join(name), body).expect("write");
            std::fs::set_permissions(etc.join(name), std::fs::Permissions::from_mode(0o600))
                .expect("chmod");
        }
        let out = Command::new("netplan")
            .args(["generate", "--root-dir"])
            .arg(dir.path())
            .output()
            .expect("netplan runs");
        let generated = dir
            .path()
            .join("run/systemd/network/10-netplan-eth0.network")
            .exists();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let ours = parse_netplan(text);
        let Some(bad_line) = *bad_line else {
            assert!(out.status.success() && generated, "{text:?}: {stderr}");
            assert_eq!(ours.invalid, None, "{text:?}");
            continue;
        };
        assert!(!out.status.success(), "netplan accepted {text:?}");
        assert!(
            !generated,
            "netplan wrote eth0's configuration over {text:?}"
        );
        let e = ours
            .invalid
            .unwrap_or_else(|| panic!("netplan refuses {text:?} ({stderr}), the reader does not"));
        // netplan: "PATH:LINE:COLUMN: Invalid YAML: …"
        let line: usize = stderr
            .split("90-other.yaml:")
            .nth(1)
            .and_then(|r| r.split(':').next())
            .and_then(|l| l.parse().ok())
            .unwrap_or_else(|| panic!("no line in netplan's words: {stderr}"));
        assert_eq!(e.line, bad_line, "{text:?}: {e:?}");
        assert!(
            line >= bad_line,
            "{text:?}: netplan names line {line}, before the defect ({stderr})"
        );
    }
}
