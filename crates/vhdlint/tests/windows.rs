//! Every windows/ check on Windows-shaped images (NTFS built with mkntfs + ntfscp, hives written
//! by fixtures/mkhive.py and checked with hivex in the guest crate's tests).

mod common;

use common::{check_json, result, status, vhdlint};
use serde_json::Value;

/// Every windows/ check of the catalogue (checks.md, "windows/").
const WINDOWS_CHECKS: &[&str] = &[
    "windows/ntfs",
    "windows/generalized",
    "windows/version",
    "windows/architecture",
    "windows/rdp",
    "windows/unattend",
    "windows/drives",
    "windows/dvd-rom",
    "windows/patch-level",
    "windows/roles",
    "windows/credentials",
    "windows/guest-agent",
    "windows/pending-reboot",
    "windows/sql-server",
];

/// The windows/ results of a report, after checking that each catalogue check is there once.
fn windows_results<'a>(name: &str, r: &'a Value) -> Vec<&'a Value> {
    let all: Vec<&Value> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"].as_str().unwrap().starts_with("windows/"))
        .collect();
    for id in WINDOWS_CHECKS {
        let n = all.iter().filter(|c| c["id"] == *id).count();
        assert_eq!(n, 1, "{name}: {id} reported {n} times");
    }
    all
}

/// A JSON field as text ("" when absent or null).
fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// Everything a result says (actual, message, evidence) as one text.
fn said(c: &Value) -> String {
    let mut s = format!("{} | {}", text(&c["actual"]), text(&c["message"]));
    for e in c["evidence"].as_array().into_iter().flatten() {
        s += &format!(" | {} {}", text(&e["path"]), text(&e["text"]));
    }
    s
}

/// The generalized Server images: (fixture, ProductName, CurrentBuild, UBR).
const GENERALIZED: &[(&str, &str, &str, &str)] = &[
    (
        "win-generalized-gpt",
        "Windows Server 2012 R2 Datacenter",
        "9600",
        "21620",
    ),
    (
        "win-generalized-mbr",
        "Windows Server 2012 R2 Datacenter",
        "9600",
        "21620",
    ),
    (
        "win-2016",
        "Windows Server 2016 Datacenter",
        "14393",
        "6452",
    ),
    (
        "win-2019",
        "Windows Server 2019 Datacenter",
        "17763",
        "5122",
    ),
    (
        "win-2022",
        "Windows Server 2022 Datacenter",
        "20348",
        "2113",
    ),
];

#[test]
fn generalized_server_passes_every_windows_check_and_os_size() {
    for name in ["win-generalized-gpt", "win-generalized-mbr"] {
        let Some(img) = common::fixture_or_skip(name) else {
            continue;
        };
        let (code, r) = check_json(&img, &["--ignore", "disk/sparse"]);
        assert_eq!(r["profile"], "windows-os", "{name}");
        for c in r["checks"].as_array().unwrap() {
            let id = c["id"].as_str().unwrap();
            if id.starts_with("windows/") || id == "disk/os-size" || id == "partition/os-found" {
                assert_eq!(c["status"], "pass", "{name} {id}: {c:#}");
            }
        }
        assert_eq!(code, 0, "{name}: {r:#}");
        assert_eq!(
            result(&r, "windows/version")["actual"],
            "Windows Server 2012 R2 Datacenter (build 9600)"
        );
    }
}

/// Server 2012 R2, 2016, 2019 and 2022 shaped images pass every windows/ check under both
/// policies; version names the product and build, patch-level reports the build and UBR.
#[test]
fn generalized_server_versions_pass_every_windows_check() {
    for &(name, product, build, ubr) in GENERALIZED {
        let Some(img) = common::fixture_or_skip(name) else {
            continue;
        };
        for policy in ["guide", "current"] {
            let (code, r) = check_json(
                &img,
                &[
                    "--profile",
                    "windows-os",
                    "--select",
                    "windows/*",
                    "--policy",
                    policy,
                ],
            );
            for c in windows_results(name, &r) {
                assert_eq!(c["status"], "pass", "{name} ({policy}) {}: {c:#}", c["id"]);
            }
            assert_eq!(code, 0, "{name} ({policy})");
            let version = said(result(&r, "windows/version"));
            assert!(
                version.contains(product) && version.contains(build),
                "{name}: {version}"
            );
            let patch = said(result(&r, "windows/patch-level"));
            assert!(
                patch.contains(build) && patch.contains(ubr),
                "{name}: {patch}"
            );
        }
    }
}

/// (fixture, check, status under `guide`, words its result must say): each image has exactly
/// one defect against a generalized Server image.
const DEFECTS: &[(&str, &str, &str, &[&str])] = &[
    (
        "win-complete",
        "windows/generalized",
        "fail",
        &["IMAGE_STATE_COMPLETE"],
    ),
    ("win-client", "windows/version", "fail", &["Windows 10 Pro"]),
    (
        "win-rdp-off",
        "windows/rdp",
        "fail",
        &["fDenyTSConnections = 1", "ControlSet001"],
    ),
    ("win-i386", "windows/architecture", "fail", &["i386"]),
    ("win-bitlocker", "windows/ntfs", "fail", &["BitLocker"]),
    (
        "win-unattend",
        "windows/unattend",
        "warning",
        &["unattend.xml"],
    ),
    (
        "win-pagefile-e",
        "windows/drives",
        "warning",
        &["E:\\pagefile.sys"],
    ),
    (
        "win-cdrom-off",
        "windows/dvd-rom",
        "fail",
        &["ControlSet001\\Services\\cdrom", "Start", "4"],
    ),
    (
        "win-cdrom-off-cs2",
        "windows/dvd-rom",
        "fail",
        &["ControlSet002\\Services\\cdrom", "Start", "4"],
    ),
    (
        "win-cdrom-policy",
        "windows/dvd-rom",
        "fail",
        &["{53f56308-b6bf-11d0-94f2-00a0c91efb8b}", "Deny_Read"],
    ),
    (
        "win-roles",
        "windows/roles",
        "fail",
        &["Hyper-V", "SNMP-Service", "InstallState"],
    ),
    (
        "win-autologon",
        "windows/credentials",
        "fail",
        &["AutoAdminLogon", "DefaultPassword", "Winlogon"],
    ),
    (
        "win-no-agent",
        "windows/guest-agent",
        "warning",
        &["WindowsAzureGuestAgent", "RdAgent"],
    ),
    (
        "win-pending-reboot",
        "windows/pending-reboot",
        "warning",
        &["PendingFileRenameOperations", "RebootPending"],
    ),
    ("win-sql", "windows/sql-server", "warning", &["MSSQLSERVER"]),
    (
        "win-rdp-policy",
        "windows/rdp",
        "fail",
        &["Terminal Services", "fDenyTSConnections"],
    ),
    ("win-panther", "windows/unattend", "warning", &["Panther"]),
];

#[test]
fn each_defect_fails_its_check() {
    for &(name, id, want, needles) in DEFECTS {
        let Some(img) = common::fixture_or_skip(name) else {
            continue;
        };
        let (code, r) = check_json(&img, &["--profile", "windows-os", "--select", "windows/*"]);
        let c = result(&r, id);
        assert_eq!(c["status"], want, "{name} {id}: {c:#}");
        let text = said(c);
        for needle in needles {
            assert!(
                text.contains(needle),
                "{name} {id} does not say {needle:?}: {c:#}"
            );
        }
        assert!(!c["evidence"].as_array().unwrap().is_empty(), "{name} {id}");
        assert_eq!(code, i32::from(want == "fail"), "{name}");
        // The other windows/ checks are not disturbed by this defect (BitLocker hides them all).
        if name != "win-bitlocker" {
            for other in windows_results(name, &r)
                .into_iter()
                .filter(|o| o["id"] != id)
            {
                assert_eq!(other["status"], "pass", "{name}: {other:#}");
            }
        }
    }
}

/// windows/roles: `guide` fails (the Certification Tool required each role "disabled"),
/// `current` warns; the verdict names each installed role and no uninstalled one, and the
/// evidence gives the InstallState read for each installed one.
#[test]
fn roles_follow_the_policy_and_name_each_role() {
    let img = fixture_or_skip!("win-roles");
    for (policy, want, code_want) in [("guide", "fail", 1), ("current", "warning", 0)] {
        let (code, r) = check_json(
            &img,
            &[
                "--profile",
                "windows-os",
                "--select",
                "windows/roles",
                "--policy",
                policy,
            ],
        );
        let c = result(&r, "windows/roles");
        assert_eq!(c["status"], want, "{policy}: {c:#}");
        assert_eq!(code, code_want, "{policy}");
        let verdict = format!("{} | {}", text(&c["actual"]), text(&c["message"]));
        for role in ["Hyper-V", "SNMP-Service"] {
            assert!(verdict.contains(role), "{policy}: {role} not named: {c:#}");
            let installed = c["evidence"].as_array().unwrap().iter().any(|e| {
                text(&e["path"]).ends_with(&format!("ServerComponentCache\\{role}"))
                    && text(&e["text"]).contains("InstallState = 1")
            });
            assert!(installed, "{policy}: no evidence of {role}: {c:#}");
        }
        // InstallState 0 in the hive: not installed, not in the verdict.
        for role in ["Failover-Clustering", "DHCP", "WINS", "Multipath-IO"] {
            assert!(!verdict.contains(role), "{policy}: {role} named: {c:#}");
        }
    }
}

/// Select\Current decides. The generalized images use ControlSet001 and keep, in the
/// non-current ControlSet002, RDP denied, cdrom disabled, no agent services and pending
/// renames; win-cdrom-noncurrent uses ControlSet002 and disables cdrom only in 001;
/// win-cdrom-off-cs2 disables it only in the current 002.
#[test]
fn the_current_control_set_decides() {
    for name in ["win-generalized-mbr", "win-2022"] {
        let Some(img) = common::fixture_or_skip(name) else {
            continue;
        };
        let (_, r) = check_json(
            &img,
            &[
                "--select",
                "windows/rdp,windows/dvd-rom,windows/guest-agent,windows/pending-reboot",
            ],
        );
        for id in [
            "windows/rdp",
            "windows/dvd-rom",
            "windows/guest-agent",
            "windows/pending-reboot",
        ] {
            let c = result(&r, id);
            assert_eq!(c["status"], "pass", "{name} {id}: {c:#}");
            let text = said(c);
            assert!(!text.contains("ControlSet002"), "{name} {id}: {c:#}");
        }
        // The evidence names the control set it read.
        for id in ["windows/rdp", "windows/dvd-rom"] {
            assert!(
                said(result(&r, id)).contains("ControlSet001"),
                "{name} {id}"
            );
        }
    }
    let img = fixture_or_skip!("win-cdrom-noncurrent");
    let (code, r) = check_json(&img, &["--profile", "windows-os", "--select", "windows/*"]);
    for c in windows_results("win-cdrom-noncurrent", &r) {
        assert_eq!(
            c["status"], "pass",
            "win-cdrom-noncurrent {}: {c:#}",
            c["id"]
        );
    }
    assert_eq!(code, 0);
    let c = result(&r, "windows/dvd-rom");
    assert!(said(c).contains("ControlSet002\\Services\\cdrom"), "{c:#}");
    assert!(!said(c).contains("ControlSet001"), "{c:#}");
    // The reverse: the defect only in the current set (002), 001 clean.
    let img = fixture_or_skip!("win-cdrom-off-cs2");
    let (_, r) = check_json(&img, &["--select", "windows/dvd-rom,windows/rdp"]);
    assert_eq!(status(&r, "windows/dvd-rom"), "fail");
    assert_eq!(status(&r, "windows/rdp"), "pass");
    assert!(said(result(&r, "windows/rdp")).contains("ControlSet002"));
}

/// The formats `vhdlint check --help` offers for `--format`.
fn offered_formats() -> Vec<String> {
    let out = vhdlint(&["check", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    let rest = help
        .split("--format")
        .nth(1)
        .unwrap_or_else(|| panic!("no --format in check --help:\n{help}"));
    let rest = &rest[..rest.find("\n  -").unwrap_or(rest.len())];
    let formats: Vec<String> = if let Some(list) = rest.split("[possible values: ").nth(1) {
        list.split(']')
            .next()
            .unwrap()
            .split(", ")
            .map(str::to_string)
            .collect()
    } else {
        rest.lines()
            .filter_map(|l| l.trim().strip_prefix("- "))
            .map(|l| l.split(':').next().unwrap().trim().to_string())
            .collect()
    };
    assert!(!formats.is_empty(), "no formats in check --help:\n{help}");
    formats
}

/// The password windows/credentials finds (Winlogon DefaultPassword) appears in no output:
/// every `check --format` that `check --help` offers, the table under `--policy current`,
/// `explain`, `inspect`.
#[test]
fn the_autologon_password_is_never_printed() {
    const SECRET: &str = "Vhdl1nt-AutoLogon-7Qx9Kd2Wm";
    // Parts of it too, in case an output shortens or masks some of it.
    const PARTS: &[&str] = &[SECRET, "7Qx9Kd2Wm", "Vhdl1nt-AutoLogon"];
    let img = fixture_or_skip!("win-autologon");
    let path = img.to_str().unwrap();
    let formats = offered_formats();
    for f in ["table", "json", "junit", "sarif", "html", "markdown"] {
        assert!(
            formats.iter().any(|o| o == f),
            "{f} not offered: {formats:?}"
        );
    }
    let mut runs: Vec<Vec<String>> = formats
        .iter()
        .map(|f| {
            [
                "check",
                "--quiet",
                "--profile",
                "windows-os",
                "--format",
                f,
                path,
            ]
            .map(String::from)
            .to_vec()
        })
        .collect();
    runs.push(
        ["check", "--policy", "current", path]
            .map(String::from)
            .to_vec(),
    );
    runs.push(
        ["explain", "windows/credentials"]
            .map(String::from)
            .to_vec(),
    );
    runs.push(["inspect", path].map(String::from).to_vec());
    for args in &runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let what = args.join(" ");
        let out = vhdlint(&args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "{what}: no output");
        for part in PARTS {
            assert!(
                !text.contains(part),
                "{what} prints the password ({part}):\n{text}"
            );
        }
        if args[0] == "check" {
            assert_eq!(
                out.status.code(),
                Some(1),
                "{what}: windows/credentials fails"
            );
            assert!(
                text.to_lowercase().contains("credentials"),
                "{what}: windows/credentials not shown:\n{text}"
            );
        }
    }
    let (code, r) = check_json(&img, &["--select", "windows/credentials"]);
    assert_eq!(code, 1);
    assert_eq!(status(&r, "windows/credentials"), "fail");
}

#[test]
fn dirty_hive_is_reported() {
    let img = fixture_or_skip!("win-dirty-hive");
    let (_, r) = check_json(&img, &["--select", "windows/*"]);
    let c = result(&r, "windows/version");
    assert!(
        c["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["text"].as_str().unwrap().contains("dirty")),
        "{c:#}"
    );
}

#[test]
fn os_found_and_profile_detection() {
    let img = fixture_or_skip!("win-no-system32");
    let (_, r) = check_json(&img, &[]);
    assert_eq!(r["profile"], "data-disk");
    let (_, r) = check_json(
        &img,
        &[
            "--profile",
            "windows-os",
            "--select",
            "partition/os-found,windows/ntfs",
        ],
    );
    assert_eq!(status(&r, "partition/os-found"), "fail");
    assert!(result(&r, "partition/os-found")["message"]
        .as_str()
        .unwrap()
        .contains("\\Windows\\System32"));
    assert_eq!(status(&r, "windows/ntfs"), "fail");
    // A Windows image declared as Linux: the wrong OS is found.
    let img = fixture_or_skip!("win-client");
    let (_, r) = check_json(
        &img,
        &["--profile", "linux-os", "--select", "partition/os-found"],
    );
    assert_eq!(status(&r, "partition/os-found"), "fail");
}
