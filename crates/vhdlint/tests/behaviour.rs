//! What each disk/ and partition/ check says on images with a known defect, and the CLI's
//! options.

mod common;

use std::path::{Path, PathBuf};

use common::{check_json, result, status, vhdlint};

#[test]
fn damaged_primary_gpt_fails_and_the_backup_is_used() {
    let img = fixture_or_skip!("gpt-damaged-primary");
    let (code, r) = check_json(&img, &[]);
    assert_eq!(code, 1);
    let c = result(&r, "partition/table");
    assert_eq!(c["status"], "fail");
    let msg = c["message"].as_str().unwrap();
    assert!(
        msg.contains("primary GPT header at LBA 1: header CRC32"),
        "{msg}"
    );
    assert!(msg.contains("only the backup copy is usable"), "{msg}");
    assert_eq!(c["evidence"][0]["offset"], 512 + 16);
    // The partition list comes from the backup copy (sfdisk agrees: see truth.rs).
    assert_eq!(r["facts"]["partitions"].as_array().unwrap().len(), 1);
}

#[test]
fn backup_gpt_not_at_the_end_warns() {
    let img = fixture_or_skip!("gpt-backup-not-at-end");
    let (_, r) = check_json(&img, &[]);
    let c = result(&r, "partition/table");
    assert_eq!(c["status"], "warning");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("not at the last LBA"));
}

#[test]
fn first_mib_is_a_warning_in_guide_and_a_failure_in_current() {
    let img = fixture_or_skip!("mbr-first-mib");
    let (_, r) = check_json(&img, &[]);
    assert_eq!(status(&r, "partition/first-mib"), "warning");
    let (_, r) = check_json(&img, &["--policy", "current"]);
    assert_eq!(status(&r, "partition/first-mib"), "fail");
    assert!(result(&r, "partition/first-mib")["message"]
        .as_str()
        .unwrap()
        .contains("LBA 63"));
}

#[test]
fn logical_partitions_swap_and_lvm() {
    let img = fixture_or_skip!("mbr-logical");
    let (code, r) = check_json(&img, &[]);
    assert_eq!(code, 1);
    assert_eq!(status(&r, "partition/table"), "pass");
    assert_eq!(status(&r, "partition/no-swap"), "fail");
    assert_eq!(status(&r, "partition/no-lvm"), "warning");
    let nums: Vec<u64> = r["facts"]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_u64().unwrap())
        .collect();
    assert_eq!(nums, [1, 2, 5, 6, 7]);
    // On a data disk neither swap nor LVM is a concern.
    let (_, r) = check_json(&img, &["--profile", "data-disk"]);
    assert_eq!(status(&r, "partition/no-swap"), "skipped");
    assert_eq!(status(&r, "partition/no-lvm"), "skipped");
}

#[test]
fn ebr_loop_is_reported_not_followed() {
    let img = fixture_or_skip!("ebr-loop");
    let (code, r) = check_json(&img, &[]);
    assert_eq!(code, 1);
    let c = result(&r, "partition/table");
    assert_eq!(c["status"], "fail");
    assert!(c["message"].as_str().unwrap().contains("EBR chain loops"));
    assert!(r["facts"]["partitions"].as_array().unwrap().len() < 10);
}

#[test]
fn empty_data_disk_passes_as_data_disk() {
    let img = fixture_or_skip!("data-empty");
    let (code, r) = check_json(&img, &[]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["profile"], "data-disk");
    assert_eq!(status(&r, "partition/table"), "pass");
    assert_eq!(status(&r, "disk/data-size"), "pass");
    assert_eq!(status(&r, "disk/os-size"), "skipped");
    // Declared as an OS disk, the missing table fails.
    let (_, r) = check_json(&img, &["--profile", "linux-os"]);
    assert_eq!(status(&r, "partition/table"), "fail");
}

#[test]
fn ntfs_disks_are_windows_and_127g_fits_the_guide() {
    let img = fixture_or_skip!("big-127g-ntfs-gpt");
    let (code, r) = check_json(&img, &[]);
    assert_eq!(r["profile"], "windows-os");
    assert_eq!(
        status(&r, "disk/os-size"),
        "pass",
        "{:#}",
        result(&r, "disk/os-size")
    );
    // The fixture's system volume holds \Windows\System32 and nothing in it: the checks that
    // read the hives or the kernel cannot answer, and an error exits 1 like a failure.
    let not_passed: Vec<(&str, &str)> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !["pass", "skipped"].contains(&c["status"].as_str().unwrap()))
        .map(|c| (c["id"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        not_passed,
        [
            // no boot loader at all: neither BIOS boot code nor an EFI system partition
            ("disk/boot-mode", "warning"),
            ("windows/version", "error"),
            ("windows/architecture", "error"),
            ("windows/rdp", "error"),
            ("windows/drives", "error"),
            ("windows/patch-level", "error"),
            ("windows/roles", "error"),
            ("windows/dvd-rom", "error"),
            ("windows/credentials", "error"),
            ("windows/guest-agent", "error"),
            ("windows/pending-reboot", "error"),
            ("windows/sql-server", "error"),
        ],
        "{r:#}"
    );
    assert_eq!(code, 1, "{r:#}");
    let img = fixture_or_skip!("ntfs-data");
    let (_, r) = check_json(&img, &[]);
    // NTFS without \Windows\System32 is a data disk.
    assert_eq!(r["profile"], "data-disk");
    assert_eq!(status(&r, "disk/os-size"), "skipped");
    assert_eq!(status(&r, "disk/data-size"), "pass");
}

#[test]
fn os_size_depends_on_policy() {
    let img = fixture_or_skip!("small-fixed");
    let (_, r) = check_json(&img, &[]);
    assert_eq!(status(&r, "disk/os-size"), "fail");
    let dir = tempfile::tempdir().unwrap();
    let pol = dir.path().join("p.toml");
    std::fs::write(&pol, "extends = \"current\"\nlinux-os-size = { min-gib = 0.05, max-gib = 1, above-max = \"fail\" }\n").unwrap();
    let (_, r) = check_json(&img, &["--policy", pol.to_str().unwrap()]);
    assert_eq!(
        status(&r, "disk/os-size"),
        "pass",
        "{:#}",
        result(&r, "disk/os-size")
    );
    std::fs::write(&pol, "extends = \"current\"\nlinux-os-sise = 3\n").unwrap();
    let out = vhdlint(&[
        "check",
        img.to_str().unwrap(),
        "--policy",
        pol.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("linux-os-sise") && err.contains("line 2"),
        "{err}"
    );
}

#[test]
fn select_and_ignore() {
    let img = fixture_or_skip!("small-fixed");
    let (_, r) = check_json(&img, &["--select", "partition/*"]);
    assert!(r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["id"].as_str().unwrap().starts_with("partition/")));
    let (code, r) = check_json(
        &img,
        &["--select", "disk/*,partition/*", "--ignore", "disk/os-size"],
    );
    assert!(r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["id"] != "disk/os-size"));
    assert_eq!(code, 0);
    let out = vhdlint(&["check", img.to_str().unwrap(), "--select", "disk/nope"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn deny_warnings_turns_a_warning_into_exit_1() {
    let img = fixture_or_skip!("gpt-backup-not-at-end");
    let (code, _) = check_json(
        &img,
        &["--select", "disk/*,partition/*", "--ignore", "disk/os-size"],
    );
    assert_eq!(code, 0);
    let (code, _) = check_json(
        &img,
        &[
            "--select",
            "disk/*,partition/*",
            "--ignore",
            "disk/os-size",
            "--deny-warnings",
        ],
    );
    assert_eq!(code, 1);
}

#[test]
fn several_images_in_one_report() {
    let a = fixture_or_skip!("small-fixed");
    let b = fixture_or_skip!("data-empty");
    let out = vhdlint(&[
        "check",
        "-q",
        "--format",
        "json",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["images"].as_array().unwrap().len(), 2);
    assert_eq!(v["policy"], "guide");
    assert_eq!(v["tool"]["name"], "vhdlint");
    // One missing image among readable ones: the report covers the rest, exit 2.
    let out = vhdlint(&[
        "check",
        "-q",
        "--format",
        "json",
        b.to_str().unwrap(),
        "/nonexistent.vhd",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["images"].as_array().unwrap().len(), 1);
}

#[test]
fn table_output_has_the_certification_tool_columns_and_a_fix_per_failure() {
    let img = fixture_or_skip!("ext4-30g-noforce");
    let out = vhdlint(&["check", img.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    for h in [
        "Result",
        "Check",
        "Actual",
        "Required",
        "Failed",
        "disk/size-alignment",
        "fix: ",
    ] {
        assert!(text.contains(h), "{h} missing:\n{text}");
    }
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");
}

/// The check catalogue, docs/spec/checks.md: one table row `| ID | … |` per check.
fn catalogue() -> String {
    let path = common::repo_root().join("docs/spec/checks.md");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the catalogue {} cannot be read: {e}", path.display()))
}

/// The IDs of the checks vhdlint implements, from `vhdlint rules --format json`.
fn implemented_ids() -> Vec<String> {
    let out = vhdlint(&["rules", "--format", "json"]);
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn rules_and_explain_cover_every_check() {
    let spec = catalogue();
    for id in &implemented_ids() {
        let out = vhdlint(&["explain", id]);
        assert!(out.status.success(), "{id}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("## Why it matters") && text.contains("## How to fix"),
            "{id}"
        );
        // Every check of the image says what `vhdlint fix` does for it.
        if !id.starts_with("publish/") {
            assert!(text.contains("## vhdlint fix\n"), "{id}:\n{text}");
        }
        assert!(
            spec.contains(&format!("| {id} |")),
            "{id} is not in the catalogue"
        );
    }
    let out = vhdlint(&["explain", "disk/nope"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_check_of_the_catalogue_is_implemented() {
    let spec = catalogue();
    let ids = implemented_ids();
    let mut rows = 0;
    let mut missing = Vec::new();
    for prefix in ["disk/", "partition/", "linux/", "windows/"] {
        for line in spec
            .lines()
            .filter(|l| l.starts_with(&format!("| {prefix}")))
        {
            rows += 1;
            let id = line.split('|').nth(1).unwrap().trim();
            if id != "partition/os-found" && !ids.iter().any(|i| i == id) {
                missing.push(id);
            }
        }
    }
    assert!(rows > 0, "the catalogue has no check rows");
    let unplanned: Vec<&str> = missing
        .iter()
        .copied()
        .filter(|id| !PLANNED.contains(id))
        .collect();
    assert!(
        unplanned.is_empty(),
        "from the catalogue, not implemented and not planned: {}",
        unplanned.join(", ")
    );
    let done: Vec<&str> = PLANNED
        .iter()
        .copied()
        .filter(|id| !missing.contains(id))
        .collect();
    assert!(
        done.is_empty(),
        "implemented now, so no longer planned (remove from PLANNED): {}",
        done.join(", ")
    );
}

/// Checks of the catalogue that open issues add (the boot path and `current`, Windows); this
/// list only shrinks, as they are written.
const PLANNED: &[&str] = &[];

#[test]
fn linting_leaves_the_image_untouched() {
    let img = fixture_or_skip!("small-fixed");
    let before = std::fs::metadata(&img).unwrap();
    let bytes = std::fs::read(&img).unwrap();
    let (_, _) = check_json(&img, &[]);
    let out = vhdlint(&["inspect", img.to_str().unwrap()]);
    assert!(out.status.success());
    let after = std::fs::metadata(&img).unwrap();
    assert_eq!(before.modified().unwrap(), after.modified().unwrap());
    assert_eq!(bytes, std::fs::read(&img).unwrap());
}

#[test]
fn inspect_shows_footer_partitions_and_volumes() {
    let img = fixture_or_skip!("gpt-swap-lvm");
    let out = vhdlint(&["inspect", img.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    for s in [
        "conectix",
        "qem2",
        "partition table         gpt",
        "volume vg0/root",
        "LVM2_member",
        "xfs",
    ] {
        assert!(text.contains(s), "{s} missing:\n{text}");
    }
    let out = vhdlint(&["inspect", "--format", "json", img.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["footer"]["creator_app"], "qem2");
    assert_eq!(v["layout"]["volume_groups"][0]["name"], "vg0");
}

#[test]
fn zero_blocks_allocated_in_a_fixed_vhd_warn_sparse() {
    let img = fixture_or_skip!("small-fixed");
    let dir = tempfile::tempdir().unwrap();
    let dense = dir.path().join("dense.vhd");
    let ok = std::process::Command::new("cp")
        .arg("--sparse=never")
        .arg(&img)
        .arg(&dense)
        .status()
        .unwrap();
    assert!(ok.success());
    // Stored as made by qemu-img (holes): nothing to reclaim.
    let (_, r) = check_json(&img, &["--select", "disk/sparse"]);
    assert_eq!(status(&r, "disk/sparse"), "pass");
    // Copied without holes: ~60 MiB of zero blocks allocated; under the guide's 1 GiB it passes,
    // over a 1 MiB threshold it warns and says how much could be reclaimed.
    let (_, r) = check_json(&dense, &["--select", "disk/sparse"]);
    assert_eq!(status(&r, "disk/sparse"), "pass");
    let pol = dir.path().join("p.toml");
    std::fs::write(&pol, "sparse-reclaim-bytes = 1048576\n").unwrap();
    let (_, r) = check_json(
        &dense,
        &["--select", "disk/sparse", "--policy", pol.to_str().unwrap()],
    );
    let c = result(&r, "disk/sparse");
    assert_eq!(c["status"], "warning", "{c:#}");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("could be reclaimed"));
    assert!(c["remedy"]
        .as_str()
        .unwrap()
        .contains("fallocate --dig-holes"));
}

#[test]
fn differencing_disk_names_its_parent_and_fails_fixed() {
    let img = fixture_or_skip!("differencing");
    let (code, r) = check_json(&img, &[]);
    assert_eq!(code, 1);
    assert_eq!(r["facts"]["disk_type"], "differencing");
    let c = result(&r, "disk/fixed");
    assert_eq!(c["status"], "fail");
    assert!(
        c["message"].as_str().unwrap().contains("\"parent.vhd\""),
        "{c:#}"
    );
    // The structure is sound (locator inside the file, checksums recomputed) and the
    // child's own blocks are read through the BAT.
    assert_eq!(status(&r, "disk/dynamic-structure"), "pass");
    assert_eq!(status(&r, "disk/footer-checksum"), "pass");
    assert_eq!(r["facts"]["partitions"][0]["start_lba"], 2048);
    let out = vhdlint(&["inspect", "--format", "json", img.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dynamic_header"]["parent_name"], "parent.vhd");
    assert_eq!(
        v["dynamic_header"]["parent_locators"][0]["platform_code"],
        "W2ru"
    );
}

#[test]
fn hybrid_mbr_warns() {
    let img = fixture_or_skip!("gpt-hybrid");
    let (_, r) = check_json(&img, &[]);
    let c = result(&r, "partition/table");
    assert_eq!(c["status"], "warning");
    assert!(c["message"].as_str().unwrap().contains("hybrid MBR"));
}

#[test]
fn btrfs_is_recognised() {
    let img = fixture_or_skip!("btrfs-data");
    let (_, r) = check_json(&img, &["--profile", "data-disk"]);
    assert_eq!(r["facts"]["volumes"][0]["filesystem"], "btrfs");
    assert_eq!(r["facts"]["volumes"][0]["label"], "data");
}

/// `vhdlint completions SHELL` for every shell clap_complete knows; bash's parses with `bash -n`
/// (and zsh's with `zsh -n` where zsh is installed), and they name the commands.
#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = vhdlint(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        for word in ["check", "fix", "explain", "max-fetch"] {
            assert!(text.contains(word), "{shell} completion names {word}");
        }
        let checker = match shell {
            "bash" => "bash",
            "zsh" => "zsh",
            _ => continue,
        };
        if checker == "zsh"
            && std::process::Command::new("zsh")
                .arg("--version")
                .output()
                .is_err()
        {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("completion");
        std::fs::write(&f, &text).unwrap();
        let ok = std::process::Command::new(checker)
            .arg("-n")
            .arg(&f)
            .status()
            .unwrap();
        assert!(ok.success(), "{checker} -n rejects the {shell} completion");
    }
    assert_eq!(vhdlint(&["completions", "tcsh"]).status.code(), Some(2));
}

/// `vhdlint man` is roff that groff reads without a warning and `man -l -` renders: every
/// command with its options, and the exit status.
#[test]
fn the_man_page_renders() {
    let out = vhdlint(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let roff = out.stdout;
    let run = |cmd: &str, args: &[&str]| -> Option<std::process::Output> {
        let mut child = match std::process::Command::new(cmd)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .env("MANWIDTH", "100")
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                common::skip(&format!("{cmd} (man-db, groff)"), &e.to_string());
                return None;
            }
        };
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&roff).unwrap();
        Some(child.wait_with_output().unwrap())
    };
    let Some(groff) = run("groff", &["-man", "-Tutf8", "-ww", "-z"]) else {
        return;
    };
    assert!(groff.status.success());
    assert_eq!(String::from_utf8_lossy(&groff.stderr), "", "groff warns");
    let Some(man) = run("man", &["-l", "-"]) else {
        return;
    };
    assert!(man.status.success(), "{man:?}");
    let page = String::from_utf8_lossy(&man.stdout);
    for s in [
        "NAME",
        "vhdlint - lint VHD disk images",
        "VHDLINT CHECK",
        "VHDLINT FIX",
        "--max-fetch",
        "EXIT STATUS",
        "unknown is never a pass",
        "VHDLINT COMPLETIONS",
    ] {
        assert!(page.contains(s), "the rendered page has {s:?}:\n{page}");
    }
}

/// The verdicts of a report: per image, its path and each check's ID and status.
fn verdicts(report: &serde_json::Value) -> Vec<(String, Vec<(String, String)>)> {
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["path"].as_str().unwrap().to_string(), common::statuses(i)))
        .collect()
}

/// The fixture set (every image of `fixtures/build.sh --list`) as a fleet split in 3 shards
/// (`--from` a list with comments, `--shard K/3`, and K from an index variable as a Kubernetes
/// Indexed Job sets it) gives, shard after shard, the images of one run
/// over the whole list in list order, with the same verdicts; each report says its shard.
/// `merge` of the 3 shard reports, given in any order, is the one run's report (timings aside)
/// and exit code, in JSON and SARIF; its HTML, rendered by headless Chromium, shows each
/// image's counts of the one run; a missing shard is refused.
#[test]
fn shards_of_a_list_give_the_verdicts_of_one_run() {
    // The fixture set: every image fixtures/build.sh makes.
    let listed = std::process::Command::new("bash")
        .arg(common::repo_root().join("fixtures/build.sh"))
        .arg("--list")
        .output()
        .unwrap();
    assert!(listed.status.success());
    let mut paths = Vec::new();
    for n in String::from_utf8_lossy(&listed.stdout).split_whitespace() {
        let Some(p) = common::fixture_or_skip(n) else {
            continue;
        };
        paths.push(p);
    }
    if paths.len() < 3 {
        return; // the fixtures this machine cannot build said SKIP (or failed, when required)
    }
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("fleet.txt");
    let mut text = String::from("# the catalogue\n\n");
    for p in &paths {
        text.push_str(&format!("  {}\n", p.display()));
    }
    std::fs::write(&list, text).unwrap();
    let run = |extra: &[&str], env: Option<(&str, &str)>| -> (i32, serde_json::Value) {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_vhdlint"));
        cmd.args(["check", "-q", "--format", "json", "--from"])
            .arg(&list)
            .args(extra);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let code = out.status.code().unwrap();
        (
            code,
            serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr))),
        )
    };
    let (code, whole) = run(&[], None);
    assert_ne!(code, 0, "the fixture set has failures");
    assert!(whole.get("shard").is_none());
    let one = verdicts(&whole);
    assert_eq!(one.len(), paths.len());
    for (i, p) in paths.iter().enumerate() {
        assert_eq!(one[i].0, p.display().to_string(), "list order");
    }
    let mut shard_files = Vec::new();
    let list_digest = run(&["--shard", "0/3"], None).1["shard"]["list_digest"].clone();
    assert!(list_digest.is_string());
    for env in [false, true] {
        let mut joined = Vec::new();
        for k in 0..3 {
            let (_, r) = if env {
                run(
                    &["--shard", "3", "--shard-from-env", "JOB_COMPLETION_INDEX"],
                    Some(("JOB_COMPLETION_INDEX", &k.to_string())),
                )
            } else {
                run(&["--shard", &format!("{k}/3")], None)
            };
            let mut shard = r["shard"].clone();
            let digest = shard
                .as_object_mut()
                .unwrap()
                .remove("list_digest")
                .unwrap();
            assert_eq!(
                shard,
                serde_json::json!({"index": k, "count": 3, "list": paths.len()})
            );
            assert_eq!(digest, list_digest, "one list, one digest");
            joined.extend(verdicts(&r));
            if !env {
                let f = dir.path().join(format!("shard-{k}.json"));
                std::fs::write(&f, serde_json::to_vec(&r).unwrap()).unwrap();
                shard_files.push(f);
            }
        }
        assert_eq!(
            joined, one,
            "3 shards, one after the other, are the one run"
        );
    }
    merged_shards_are_the_one_run(&shard_files, &whole, code, dir.path());
    // A shard of another list (the same count, a shorter list) is not of this split.
    let other = dir.path().join("other.txt");
    let short: String = paths[..3]
        .iter()
        .map(|p| format!("{}\n", p.display()))
        .collect();
    std::fs::write(&other, short).unwrap();
    let stray = dir.path().join("stray-1.json");
    let out = vhdlint(&[
        "check",
        "-q",
        "--format",
        "json",
        "-o",
        stray.to_str().unwrap(),
        "--from",
        other.to_str().unwrap(),
        "--shard",
        "1/3",
    ]);
    assert!(stray.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = vhdlint(&[
        "merge",
        "--format",
        "json",
        shard_files[0].to_str().unwrap(),
        stray.to_str().unwrap(),
        shard_files[2].to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("one split"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Misuse is a usage error.
    assert_eq!(
        run_code(&["check", "--from", list.to_str().unwrap(), "--shard", "3/3"]),
        2
    );
    assert_eq!(run_code(&["check", "--shard", "0/3"]), 2);
    assert_eq!(
        run_code(&[
            "check",
            "--from",
            list.to_str().unwrap(),
            "--shard-from-env",
            "NO_SUCH_VAR_HERE",
            "--shard",
            "3"
        ]),
        2
    );
}

/// The report less what changes from run to run (each check's `elapsed_us`, bytes read).
fn without_timings(mut report: serde_json::Value) -> serde_json::Value {
    for img in report["images"].as_array_mut().unwrap() {
        img["facts"].as_object_mut().unwrap().remove("bytes_read");
        for c in img["checks"].as_array_mut().unwrap() {
            c.as_object_mut().unwrap().remove("elapsed_us");
        }
    }
    report
}

/// Where two JSON values differ: paths with the two values (at most 10).
fn json_differences(a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    fn walk(a: &serde_json::Value, b: &serde_json::Value, at: String, out: &mut Vec<String>) {
        use serde_json::Value;
        if out.len() >= 10 || a == b {
            return;
        }
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let null = Value::Null;
                    walk(
                        x.get(k).unwrap_or(&null),
                        y.get(k).unwrap_or(&null),
                        format!("{at}.{k}"),
                        out,
                    );
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    walk(p, q, format!("{at}[{i}]"), out);
                }
            }
            _ => out.push(format!("{at}: {a:.200} / {b:.200}")),
        }
    }
    let mut out = Vec::new();
    walk(a, b, String::new(), &mut out);
    out
}

fn merged_shards_are_the_one_run(
    shards: &[PathBuf],
    whole: &serde_json::Value,
    whole_code: i32,
    dir: &Path,
) {
    let s = |p: &PathBuf| p.to_str().unwrap().to_string();
    let shuffled = [s(&shards[2]), s(&shards[0]), s(&shards[1])];
    let merge = |format: &str, files: &[String]| {
        let mut args = vec!["merge", "--format", format];
        args.extend(files.iter().map(String::as_str));
        vhdlint(&args)
    };
    let out = merge("json", &shuffled);
    assert_eq!(
        out.status.code(),
        Some(whole_code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(merged.get("shard").is_none(), "a merge is not a shard");
    let differences = json_differences(&without_timings(merged), &without_timings(whole.clone()));
    assert!(
        differences.is_empty(),
        "merged shards = one run, but: {differences:#?}"
    );
    // SARIF, which carries no timings: the same text as the one run's.
    let whole_file = dir.join("whole.json");
    std::fs::write(&whole_file, serde_json::to_vec(whole).unwrap()).unwrap();
    let sarif = merge("sarif", &shuffled);
    let one = merge("sarif", &[s(&whole_file)]);
    assert_eq!(sarif.status.code(), Some(whole_code));
    assert_eq!(
        String::from_utf8_lossy(&sarif.stdout),
        String::from_utf8_lossy(&one.stdout)
    );
    // The merged HTML in a browser: every image's counts are the one run's.
    let html = dir.join("merged.html");
    let out = vhdlint(&[
        "merge",
        "--format",
        "html",
        "-o",
        html.to_str().unwrap(),
        &shuffled[0],
        &shuffled[1],
        &shuffled[2],
    ]);
    assert_eq!(out.status.code(), Some(whole_code));
    if let Some(bin) = common::chromium::chromium() {
        let profile = tempfile::tempdir().unwrap();
        let dom =
            common::chromium::run_chromium(bin, &html, profile.path(), &["--dump-dom".into()]);
        let images = whole["images"].as_array().unwrap();
        for (i, img) in images.iter().enumerate() {
            let counts = common::chromium::dom_summary(&dom, i);
            assert_eq!(counts.len(), 5, "image {i}: {counts:?}");
            for (status, n) in counts {
                assert_eq!(
                    img["summary"][&status].as_u64(),
                    Some(n as u64),
                    "image {i} {status}"
                );
            }
            assert!(
                dom.contains(&format!("id=\"image-{i}\"")),
                "image {i} on the page"
            );
        }
        assert!(!dom.contains(&format!("id=\"image-{}\"", images.len())));
    } else {
        common::skip(
            "the merged HTML in headless Chromium",
            "no chromium (apt-get install chromium)",
        );
    }
    // A shard missing is refused, not merged as if its images had passed.
    let out = merge("json", &[s(&shards[0]), s(&shards[2])]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("shard 1 of 3 missing"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run_code(args: &[&str]) -> i32 {
    vhdlint(args).status.code().unwrap()
}

/// The images of `scripts/demo` build with nothing but Debian's essential packages, python3 and
/// the three packages the demo installs (qemu-utils, fdisk, e2fsprogs): the fixture scripts run
/// with a PATH from which every program of any other Debian package is hidden (cpio,
/// ssh-keygen, sgdisk, mkfs.vfat…).
#[test]
fn the_demo_images_need_only_three_packages() {
    let allowed = ["qemu-utils", "fdisk", "e2fsprogs"];
    let Ok(q) = std::process::Command::new("dpkg-query")
        .args(["-W", "-f", "${Package} ${Essential}\n"])
        .output()
    else {
        common::skip("dpkg-query", "not a Debian machine");
        return;
    };
    let mut hidden = std::collections::BTreeSet::new();
    for line in String::from_utf8_lossy(&q.stdout).lines() {
        let (pkg, essential) = line.split_once(' ').unwrap_or((line, ""));
        let pkg = pkg.split(':').next().unwrap();
        if essential == "yes"
            || allowed.contains(&pkg)
            || pkg.starts_with("python3")
            || pkg.starts_with("libpython3")
        {
            continue;
        }
        let files = std::process::Command::new("dpkg")
            .args(["-L", pkg])
            .output()
            .unwrap();
        for f in String::from_utf8_lossy(&files.stdout).lines() {
            let p = std::path::Path::new(f);
            if matches!(
                p.parent().and_then(|d| d.to_str()),
                Some("/usr/bin" | "/bin" | "/usr/sbin" | "/sbin")
            ) {
                hidden.insert(p.file_name().unwrap().to_os_string());
            }
        }
    }
    assert!(
        hidden.contains(std::ffi::OsStr::new("cpio"))
            || !std::path::Path::new("/usr/bin/cpio").exists()
    );
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for d in ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let name = e.file_name();
            let link = bin.join(&name);
            if !hidden.contains(&name)
                && !link.exists()
                && std::fs::symlink_metadata(&link).is_err()
            {
                std::os::unix::fs::symlink(e.path(), link).unwrap();
            }
        }
    }
    // python3 where the machine has it outside Debian's packages (e.g. a pyenv shim).
    if let Ok(p) = which("python3") {
        let _ = std::fs::remove_file(bin.join("python3"));
        std::os::unix::fs::symlink(p, bin.join("python3")).unwrap();
    }
    let out = dir.path().join("out");
    for name in ["ext4-30g-fixed", "ext4-30g-noforce", "linux-debian-dirty"] {
        let r = std::process::Command::new(bin.join("bash"))
            .arg(common::repo_root().join("fixtures/build.sh"))
            .arg(name)
            .arg(&out)
            .env("PATH", &bin)
            .output()
            .unwrap();
        assert!(
            r.status.success(),
            "{name} with only the demo's packages: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        let img = out.join(format!("{name}.vhd"));
        let (code, _) = check_json(&img, &["--select", "disk/format"]);
        assert_eq!(code, 0, "{name}");
    }
}

/// The absolute path of `cmd` on this process's PATH.
fn which(cmd: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(cmd))
        .find(|p| p.is_file())
        .ok_or(())
}

/// The one script behind action.yml and the Azure Pipelines template
/// (integrations/vhdlint-ci.sh), run as the two CIs run it: the exit code is vhdlint's (1 for
/// a failing image, 0 for a passing one, 2 for one that cannot be read), the SARIF log is valid
/// against the SARIF 2.1.0 schema and holds the failure, the JUnit file is written, and the
/// run is annotated in each CI's syntax.
#[test]
fn the_ci_script_writes_sarif_annotates_and_passes_the_exit_code_on() {
    let bad = fixture_or_skip!("ext4-30g-noforce");
    let good = fixture_or_skip!("ext4-30g-fixed");
    let root = common::repo_root();
    let dir = tempfile::tempdir().unwrap();
    // vhdlint behind a wrapper that logs each command it is given: the images are linted once.
    let calls = dir.path().join("calls.log");
    let wrapper = dir.path().join("vhdlint");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$1\" >> '{}'\nexec '{}' \"$@\"\n",
            calls.display(),
            env!("CARGO_BIN_EXE_vhdlint")
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let run_with = |images: &str,
                    annotate: &str,
                    args: &str,
                    json: Option<&Path>|
     -> (i32, String, String, String) {
        let sarif = dir.path().join("out.sarif");
        let junit = dir.path().join("out.xml");
        let _ = std::fs::remove_file(&sarif);
        let _ = std::fs::remove_file(&junit);
        let _ = std::fs::remove_file(&calls);
        let out = std::process::Command::new("bash")
            .arg(root.join("integrations/vhdlint-ci.sh"))
            .env("VHDLINT", &wrapper)
            .env("VHDLINT_IMAGES", images)
            .env("VHDLINT_ARGS", args)
            .env("VHDLINT_SARIF", &sarif)
            .env("VHDLINT_JUNIT", &junit)
            .env("VHDLINT_ANNOTATE", annotate)
            .envs(json.map(|j| ("VHDLINT_JSON", j)))
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            std::fs::read_to_string(&sarif).unwrap_or_default(),
            std::fs::read_to_string(&junit).unwrap_or_default(),
        )
    };
    let run = |images: &str, annotate: &str| {
        run_with(images, annotate, "--select disk/*,partition/*", None)
    };
    let (code, stdout, sarif, junit) = run(&format!("\n{}\n", bad.display()), "github");
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("::error"), "{stdout}");
    assert!(sarif.contains("disk/size-alignment"), "{sarif}");
    assert!(junit.contains("<testsuites"), "{junit}");
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap(),
        "check\nmerge\nmerge\nmerge\n",
        "one lint; SARIF, JUnit and annotations rendered from its report"
    );
    sarif_is_valid(&root, &sarif);

    let (code, stdout, _, _) = run(&good.display().to_string(), "azure");
    assert_eq!(code, 0, "{stdout}");
    assert!(!stdout.contains("::error"), "{stdout}");
    let (code, stdout, _, _) = run(&bad.display().to_string(), "azure");
    assert_eq!(code, 1);
    assert!(
        stdout.contains("##vso[task.logissue type=error"),
        "{stdout}"
    );
    // An image that cannot be read: exit 2, and the SARIF and JUnit say it was not linted.
    let missing = dir.path().join("missing.vhd");
    let (code, _, sarif, junit) = run(
        &format!("{}\n{}", good.display(), missing.display()),
        "none",
    );
    assert_eq!(code, 2);
    assert!(
        sarif.contains("\"executionSuccessful\": false")
            && sarif.contains("missing.vhd: not linted"),
        "{sarif}"
    );
    sarif_is_valid(&root, &sarif);
    assert!(
        junit.contains("errors=\"1\"") && junit.contains("missing.vhd"),
        "{junit}"
    );
    let (code, _, _, _) = run("", "none");
    assert_eq!(code, 2, "no image is a usage error");
    assert!(!calls.exists() || std::fs::read_to_string(&calls).unwrap() == "");
    // A worker of a fleet (--shard in the arguments) renders its own shard: the bad image is
    // shard 0 of 2, the good one shard 1.
    let both = format!("{}\n{}", bad.display(), good.display());
    let (code, stdout, sarif, _) = run_with(
        &both,
        "github",
        "--select disk/*,partition/* --shard 0/2",
        None,
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(
        sarif.contains("disk/size-alignment") && stdout.contains("::error"),
        "{sarif}"
    );
    let (code, stdout, sarif, _) = run_with(
        &both,
        "github",
        "--select disk/*,partition/* --shard 1/2",
        None,
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(
        sarif.contains("\"results\"") && !stdout.contains("::error"),
        "{sarif}"
    );
    // A report left from an earlier run is never rendered for a run that wrote none.
    let stale = dir.path().join("kept.json");
    run_with(&both, "none", "--shard 0/2", Some(&stale));
    assert!(stale.exists());
    let (code, _, sarif, _) = run_with(&both, "none", "--no-such-option", Some(&stale));
    assert_eq!(code, 2);
    assert!(sarif.is_empty() && !stale.exists(), "{sarif}");

    // Both integrations run that script, with their own annotations, and fail on its code.
    let action = std::fs::read_to_string(root.join("action.yml")).unwrap();
    let azure =
        std::fs::read_to_string(root.join("integrations/azure-pipelines/vhdlint.yml")).unwrap();
    integrations_call_the_script(&action, &azure);
}

/// The SARIF log is valid against the SARIF 2.1.0 schema (python jsonschema).
fn sarif_is_valid(root: &Path, sarif: &str) {
    let schema = root.join("crates/vhdlint-report/tests/data/sarif-schema-2.1.0.json");
    let mut py = std::process::Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import json, sys, jsonschema\n\
             schema = json.load(open({:?}))\n\
             v = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)\n\
             errs = list(v.iter_errors(json.load(sys.stdin)))\n\
             [print(e.json_path, e.message) for e in errs]\n\
             sys.exit(1 if errs else 0)\n",
            schema.to_str().unwrap()
        ))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        py.stdin
            .take()
            .unwrap()
            .write_all(sarif.as_bytes())
            .unwrap();
    }
    let checked = py.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "the SARIF is not valid: {}",
        String::from_utf8_lossy(&checked.stdout)
    );
}

fn integrations_call_the_script(action: &str, azure: &str) {
    for (name, text, annotate) in [
        ("action.yml", &action, "github"),
        ("vhdlint.yml", &azure, "azure"),
    ] {
        assert!(text.contains("integrations/vhdlint-ci.sh"), "{name}");
        assert!(
            text.contains(&format!("VHDLINT_ANNOTATE: {annotate}")),
            "{name}"
        );
    }
    assert!(action.contains("github/codeql-action/upload-sarif"));
    assert!(action.contains("run: exit \"${CODE:-2}\""));
    assert!(azure.contains("PublishTestResults@2") && azure.contains("testResultsFormat: JUnit"));
}
