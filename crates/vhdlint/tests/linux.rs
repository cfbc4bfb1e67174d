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

/// check → expected status per image, in the order of [`IMAGES`]: the table "Expected
/// results" of fixtures/README.md's linux/ section, one source for the fixtures' contract and
/// this test. A cell is `guide` or `guide|current`; `-` is not asserted.
fn table() -> Vec<(String, Vec<String>)> {
    let readme = std::fs::read_to_string(common::repo_root().join("fixtures/README.md"))
        .expect("fixtures/README.md");
    let section = readme
        .split("## linux/ distribution fixtures")
        .nth(1)
        .and_then(|s| s.split("### Expected results").nth(1))
        .expect("fixtures/README.md: the linux/ section's Expected results");
    let cell = |c: &str| -> String {
        c.replace("**", "")
            .split("\\|")
            .map(|p| match p.trim() {
                "warn" => "warning",
                "skip" => "skipped",
                "—" => "-",
                other => other,
            })
            .collect::<Vec<_>>()
            .join("|")
    };
    let rows: Vec<(String, Vec<String>)> = section
        .lines()
        .skip_while(|l| !l.starts_with("| check |"))
        .skip(2)
        .take_while(|l| l.starts_with("| "))
        .map(|l| {
            // Split on the column bars, not on the escaped `\|` inside a cell.
            let marked = l.replace("\\|", "\u{1}");
            let cells: Vec<&str> = marked.split('|').collect();
            let name = cells[1].trim().to_string();
            let values = cells[2..cells.len() - 1]
                .iter()
                .map(|c| cell(&c.replace('\u{1}', "\\|")))
                .collect();
            (name, values)
        })
        .collect();
    assert_eq!(rows.len(), 26, "the table has a row per linux/ check");
    for (name, values) in &rows {
        assert_eq!(values.len(), IMAGES.len(), "{name}: a cell per image");
    }
    rows
}

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
    let table = table();
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
            for (check, cells) in &table {
                let Some(want) = expected(&cells[col], p) else {
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
    for (check, cells) in table() {
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
