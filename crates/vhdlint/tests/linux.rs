//! Every linux/ check on distribution-shaped images (fixtures/trees/linux): a clean and a
//! dirty image for Debian, Ubuntu, RHEL and SUSE. The expected table is the one in
//! fixtures/README.md ("guide | current" where the policies differ; "-" where the catalogue
//! gives no rule for that policy).

mod common;

use common::{check_json, result};

const IMAGES: [&str; 8] = [
    "linux-debian-clean",
    "linux-debian-dirty",
    "linux-ubuntu-clean",
    "linux-ubuntu-dirty",
    "linux-rhel-clean",
    "linux-rhel-dirty",
    "linux-suse-clean",
    "linux-suse-dirty",
];

/// check → expected status per image, in the order of [`IMAGES`].
const TABLE: &[(&str, [&str; 8])] = &[
    (
        "agent-installed",
        [
            "pass",
            "fail",
            "pass",
            "warning",
            "pass",
            "pass|fail",
            "pass",
            "pass",
        ],
    ),
    (
        "agent-config",
        [
            "pass|-",
            "fail|-",
            "pass|-",
            "warning|-",
            "pass|-",
            "fail|-",
            "pass|-",
            "warning|-",
        ],
    ),
    (
        "kernel-cmdline",
        [
            "pass",
            "fail",
            "pass",
            "fail",
            "pass",
            "fail|warning",
            "pass",
            "warning",
        ],
    ),
    (
        "ssh-client-alive",
        [
            "pass", "fail", "pass", "fail", "pass", "fail", "pass", "fail",
        ],
    ),
    (
        "ssh-server",
        [
            "pass", "pass", "pass", "warning", "pass", "pass", "pass", "pass",
        ],
    ),
    (
        "no-swap",
        [
            "pass", "fail", "pass", "fail", "pass", "fail", "pass", "fail",
        ],
    ),
    (
        "shell-history",
        [
            "pass",
            "fail",
            "pass",
            "warning|fail",
            "pass",
            "fail",
            "pass",
            "warning|fail",
        ],
    ),
    (
        "resolv-conf",
        [
            "pass", "warning", "pass", "warning", "pass", "warning", "pass", "warning",
        ],
    ),
    (
        "dhcp-leases",
        [
            "pass", "fail", "pass", "pass", "pass", "fail", "pass", "pass",
        ],
    ),
    (
        "hostname",
        [
            "pass", "warning", "pass", "warning", "pass", "warning", "pass", "warning",
        ],
    ),
    (
        "ssh-host-keys",
        [
            "pass", "warning", "pass", "fail", "pass", "fail", "pass", "fail",
        ],
    ),
    (
        "root-password",
        [
            "pass", "fail", "pass", "pass", "pass", "fail", "pass", "fail",
        ],
    ),
    (
        "default-accounts",
        [
            "pass", "fail", "pass", "fail", "pass", "fail", "pass", "fail",
        ],
    ),
    (
        "agent-state",
        [
            "pass", "fail", "pass", "warning", "pass", "fail", "pass", "warning",
        ],
    ),
    (
        "network",
        [
            "pass", "warning", "pass", "warning", "pass", "warning", "pass", "warning",
        ],
    ),
    (
        "network-manager",
        [
            "pass|skipped",
            "pass|skipped",
            "pass|skipped",
            "warning|skipped",
            "warning|skipped",
            "warning|skipped",
            "pass|skipped",
            "pass|skipped",
        ],
    ),
    (
        "ipv6",
        [
            "pass|skipped",
            "warning|skipped",
            "pass|skipped",
            "pass|skipped",
            "pass|skipped",
            "warning|skipped",
            "pass|skipped",
            "pass|skipped",
        ],
    ),
    (
        "firewall",
        [
            "pass", "warning", "pass", "warning", "pass", "warning", "pass", "warning",
        ],
    ),
    (
        "hyperv-drivers",
        [
            "pass", "warning", "pass", "fail", "pass", "pass", "pass", "pass",
        ],
    ),
    (
        "python",
        [
            "pass",
            "fail",
            "pass",
            "warning|pass",
            "pass|warning",
            "pass|fail",
            "pass|fail",
            "pass|fail",
        ],
    ),
    (
        "openssl",
        [
            "pass",
            "pass",
            "pass",
            "pass|fail",
            "pass",
            "pass",
            "pass",
            "fail",
        ],
    ),
    (
        "architecture",
        [
            "pass", "fail", "pass", "pass", "pass", "pass", "pass", "pass",
        ],
    ),
    // Includes are followed: sudo reads /etc/sudoers.d too (stricter than the catalogue's
    // "/etc/sudoers"), so Ubuntu's `Defaults:azureuser targetpw` in sudoers.d fails.
    (
        "sudoers",
        [
            "pass", "pass", "pass", "fail", "pass", "pass", "pass", "fail",
        ],
    ),
    (
        "defender",
        [
            "skipped|pass",
            "skipped|fail",
            "skipped|pass",
            "skipped|pass",
            "skipped|pass",
            "skipped|fail",
            "skipped|pass",
            "skipped|pass",
        ],
    ),
];

fn expected(cell: &str, policy: usize) -> Option<&str> {
    let mut parts = cell.split('|');
    let guide = parts.next().unwrap();
    let want = if policy == 0 {
        guide
    } else {
        parts.next().unwrap_or(guide)
    };
    (want != "-").then_some(want)
}

#[test]
fn every_linux_check_on_clean_and_dirty_distributions() {
    let mut mismatches = Vec::new();
    for (col, name) in IMAGES.iter().enumerate() {
        let Some(img) = common::fixture_or_skip(name) else {
            continue;
        };
        for (p, policy) in ["guide", "current"].iter().enumerate() {
            let (_, r) = check_json(
                &img,
                &[
                    "--select",
                    "linux/*,partition/os-found",
                    "--profile",
                    "linux-os",
                    "--policy",
                    policy,
                ],
            );
            assert_eq!(
                common::status(&r, "partition/os-found"),
                "pass",
                "{name}: {:#}",
                result(&r, "partition/os-found")
            );
            for (check, cells) in TABLE {
                let Some(want) = expected(cells[col], p) else {
                    continue;
                };
                let c = result(&r, &format!("linux/{check}"));
                if c["status"] != want {
                    mismatches.push(format!(
                        "{name} [{policy}] linux/{check}: want {want}, got {} — {}",
                        c["status"], c["message"]
                    ));
                }
                if c["status"] != "pass" && c["status"] != "skipped" {
                    assert!(
                        !c["evidence"].as_array().unwrap().is_empty(),
                        "{name} linux/{check}: no evidence"
                    );
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn every_linux_check_passes_somewhere_and_fails_or_warns_somewhere() {
    for (check, cells) in TABLE {
        let statuses: Vec<&str> = cells.iter().flat_map(|c| c.split('|')).collect();
        assert!(statuses.contains(&"pass"), "{check}");
        assert!(
            statuses.iter().any(|s| *s == "fail" || *s == "warning"),
            "{check}"
        );
    }
}

#[test]
fn clean_debian_exits_0_under_the_guide() {
    let img = fixture_or_skip!("linux-debian-clean");
    let (code, r) = check_json(
        &img,
        &["--select", "linux/*,partition/*", "--profile", "linux-os"],
    );
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["facts"]["linux"]["os"]["id"], "debian");
}

#[test]
fn rhel_root_on_lvm_with_boot_from_fstab() {
    let img = fixture_or_skip!("linux-rhel-clean");
    let (_, r) = check_json(&img, &["--select", "partition/os-found"]);
    assert_eq!(r["facts"]["linux"]["root_volume"], "rootvg/rootlv");
    let mounts = r["facts"]["linux"]["mounts"].as_array().unwrap();
    assert!(mounts.iter().any(|m| m["point"] == "/boot"), "{mounts:#?}");
    assert_eq!(r["facts"]["linux"]["os"]["id"], "rhel");
}
