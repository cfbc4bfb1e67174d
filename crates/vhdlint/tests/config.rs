//! vhdlint.toml, waivers with justification and expiry, severity overrides, and the generated
//! rules reference.

mod common;

use common::{check_json, repo_root, result, vhdlint};

#[test]
fn a_waiver_turns_a_failing_run_into_exit_0_and_shows_its_reason() {
    let img = fixture_or_skip!("ext4-30g-noforce");
    let dir = tempfile::tempdir().unwrap();
    let sel = ["--select", "disk/*"];
    let (code, _) = check_json(&img, &sel);
    assert_eq!(code, 1);
    let waivers = dir.path().join("waivers.toml");
    std::fs::write(
        &waivers,
        "[[waiver]]\ncheck = \"disk/size-alignment\"\nimage = \"ext4-30g-noforce.vhd\"\njustification = \"Resized by the publishing pipeline before upload (ticket 42)\"\nexpires = \"2999-12-31\"\n",
    )
    .unwrap();
    let w = waivers.to_str().unwrap();
    let (code, r) = check_json(&img, &["--select", "disk/*", "--waivers", w]);
    assert_eq!(code, 0, "{r:#}");
    let c = result(&r, "disk/size-alignment");
    assert_eq!(c["status"], "fail", "a waived check keeps its status");
    assert_eq!(
        c["waived"],
        "Resized by the publishing pipeline before upload (ticket 42)"
    );
    let out = vhdlint(&[
        "check",
        img.to_str().unwrap(),
        "--select",
        "disk/*",
        "--waivers",
        w,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Failed (waived)")
            && text.contains("waived: Resized by the publishing pipeline"),
        "{text}"
    );
    // Expired: ignored and reported.
    std::fs::write(&waivers, "[[waiver]]\ncheck = \"disk/*\"\njustification = \"old exception\"\nexpires = \"2020-01-01\"\n").unwrap();
    let out = vhdlint(&[
        "check",
        "-q",
        "--format",
        "json",
        img.to_str().unwrap(),
        "--select",
        "disk/*",
        "--waivers",
        w,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expired on 2020-01-01"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["images"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["waived"].is_null()));
    assert_eq!(v["expired_waivers"][0]["check"], "disk/*");
    // A waiver without justification is refused.
    std::fs::write(
        &waivers,
        "[[waiver]]\ncheck = \"disk/fixed\"\njustification = \" \"\n",
    )
    .unwrap();
    let out = vhdlint(&["check", img.to_str().unwrap(), "--waivers", w]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no justification"));
}

#[test]
fn config_file_sets_defaults_and_flags_win() {
    let img = fixture_or_skip!("mbr-first-mib");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("vhdlint.toml");
    std::fs::write(&cfg, "policy = \"current\"\nselect = [\"partition/*\"]\n[severity]\n\"partition/no-lvm\" = \"fail\"\n").unwrap();
    let c = cfg.to_str().unwrap();
    let (_, r) = check_json(&img, &["--config", c]);
    assert!(r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["id"].as_str().unwrap().starts_with("partition/")));
    assert_eq!(
        result(&r, "partition/first-mib")["status"],
        "fail",
        "current policy from the file"
    );
    let (_, r) = check_json(&img, &["--config", c, "--policy", "guide"]);
    assert_eq!(
        result(&r, "partition/first-mib")["status"],
        "warning",
        "the flag wins"
    );
    // A typo'd key: the error names the key and the line, exit 2.
    std::fs::write(&cfg, "policy = \"guide\"\nseelct = [\"disk/*\"]\n").unwrap();
    let out = vhdlint(&["check", img.to_str().unwrap(), "--config", c]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("seelct") && err.contains("line 2"), "{err}");
}

#[test]
fn severity_override_turns_a_warning_into_a_failure() {
    let img = fixture_or_skip!("mbr-logical");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("vhdlint.toml");
    std::fs::write(
        &cfg,
        "select = [\"partition/no-lvm\"]\n[severity]\n\"partition/no-lvm\" = \"fail\"\n",
    )
    .unwrap();
    let (code, r) = check_json(
        &img,
        &["--config", cfg.to_str().unwrap(), "--profile", "linux-os"],
    );
    assert_eq!(result(&r, "partition/no-lvm")["status"], "fail");
    assert_eq!(code, 1);
}

#[test]
fn the_rules_reference_is_up_to_date() {
    let out = vhdlint(&["rules", "--format", "markdown"]);
    assert!(out.status.success());
    let committed = std::fs::read_to_string(repo_root().join("docs/rules.md")).unwrap();
    assert!(
        committed == String::from_utf8_lossy(&out.stdout),
        "docs/rules.md is stale: regenerate it with `cargo run -q -p vhdlint -- rules --format markdown > docs/rules.md`"
    );
}

#[test]
fn a_policy_section_changes_its_check_and_explain_shows_the_sections() {
    let img = fixture_or_skip!("mbr-first-mib");
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("ours.toml");
    let sel = ["--select", "partition/first-mib", "--policy"];
    // The section, then the same threshold by its earlier flat key: both turn current's fail
    // into a warning; the name is the report's.
    for text in [
        "extends = \"current\"\nname = \"ours\"\n[\"partition/first-mib\"]\nlevel = \"warning\"\n",
        "extends = \"current\"\nname = \"ours\"\nfirst-mib = \"warning\"\n",
    ] {
        std::fs::write(&policy, text).unwrap();
        let (_, r) = check_json(&img, &[&sel[..], &[policy.to_str().unwrap()]].concat());
        assert_eq!(
            result(&r, "partition/first-mib")["status"],
            "warning",
            "{text}"
        );
    }
    let (_, r) = check_json(&img, &[&sel[..], &["current"]].concat());
    assert_eq!(result(&r, "partition/first-mib")["status"], "fail");
    // A misspelt key: exit 2, and the message names the key and its line.
    std::fs::write(
        &policy,
        "extends = \"current\"\n\n[\"partition/first-mib\"]\nlevl = \"warning\"\n",
    )
    .unwrap();
    let out = vhdlint(&[
        "check",
        img.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 4") && err.contains("levl"), "{err}");
    // explain shows the section as each policy sets it, and what it shows is a policy file.
    let out = vhdlint(&["explain", "partition/first-mib"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("## Thresholds"), "{text}");
    let sections: Vec<&str> = text
        .split("```toml\n")
        .skip(1)
        .map(|s| s.split("```").next().unwrap())
        .collect();
    assert_eq!(sections.len(), 2, "{text}");
    for (section, level) in sections.iter().zip(["warning", "fail"]) {
        assert!(
            section.contains(&format!("level = \"{level}\"")),
            "{section}"
        );
        std::fs::write(&policy, section).unwrap();
        let (_, r) = check_json(&img, &[&sel[..], &[policy.to_str().unwrap()]].concat());
        assert_eq!(result(&r, "partition/first-mib")["status"], level);
    }
    // A check without thresholds has no such part.
    let out = vhdlint(&["explain", "disk/fixed"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("## Thresholds"));
}
