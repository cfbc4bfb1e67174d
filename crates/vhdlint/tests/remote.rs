//! Linting a blob in place: the same 30 GiB images served by nginx on 127.0.0.1 and read with
//! HTTP range requests give the same verdicts as the local files, fetching megabytes, not
//! gigabytes. Only the surface scan, which reads every allocated byte, is skipped remotely.

mod common;

#[path = "../../vhdlint-remote/tests/common/mod.rs"]
mod remote_support;

use std::path::Path;

use common::{check_json, debian12_or_skip, fixture, skip};
use remote_support::{nginx_binary, Nginx};
use serde_json::Value;

/// nginx, or `None` when it is not installed, after `skip` has said so (or failed the test,
/// under `VHDLINT_REQUIRE_PREREQS=1`). CI installs it and must not skip.
fn nginx() -> Option<std::path::PathBuf> {
    let bin = nginx_binary();
    if bin.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "nginx is required in CI (scripts/setup-system installs it)"
        );
        skip(
            "the tests against nginx",
            "nginx is not installed (apt-get install -y nginx)",
        );
    }
    bin
}

/// (id, status, actual) of every check, in catalogue order.
fn verdicts(report: &Value) -> Vec<(String, String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["actual"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn compare(image: &Path, extra: &[&str]) -> u64 {
    let bin = nginx().expect("nginx");
    let dir = image.parent().unwrap();
    let server = Nginx::start(&bin, dir);
    let name = image.file_name().unwrap().to_str().unwrap();
    let url = server.url(&format!("/{name}"));
    let (local_code, local) = check_json(image, extra);
    let (remote_code, remote) = check_json(Path::new(&url), extra);
    assert_eq!(remote["path"], url.as_str());
    assert_eq!(
        remote["profile"],
        local["profile"],
        "{}",
        server.error_log()
    );
    let (l, r) = (verdicts(&local), verdicts(&remote));
    assert_eq!(l.len(), r.len());
    for (a, b) in l.iter().zip(&r) {
        if a.0 == "disk/sparse" {
            assert_eq!(b.1, "skipped", "{b:?}");
            let msg = remote["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == "disk/sparse")
                .unwrap()["message"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(msg.contains("is not a local file"), "{msg}");
            continue;
        }
        assert_eq!(a, b, "local and remote verdicts differ");
    }
    // The exit code follows the verdicts (disk/sparse never fails).
    assert_eq!(local_code, remote_code);
    let fetched = remote["facts"]["bytes_read"].as_u64().unwrap();
    let size = local["facts"]["file_size"].as_u64().unwrap();
    eprintln!(
        "{name}: {} of {} bytes fetched ({:.3} MiB of {:.1} GiB), local read {} bytes",
        fetched,
        size,
        fetched as f64 / 1048576.0,
        size as f64 / 1073741824.0,
        local["facts"]["bytes_read"]
    );
    assert!(fetched > 0);
    fetched
}

#[test]
fn a_30_gib_ext4_image_lints_the_same_over_http() {
    if nginx().is_none() {
        return;
    }
    let img = fixture("ext4-30g-populated");
    let fetched = compare(&img, &[]);
    assert!(fetched < 16 << 20, "fetched {fetched} bytes");
}

#[test]
fn a_30_gib_debian_image_lints_the_same_over_http() {
    if nginx().is_none() {
        return;
    }
    let Some(img) = debian12_or_skip("plain-ext4") else {
        return;
    };
    // Its initramfs (about 15 MB, read whole to find the Hyper-V drivers) is most of it.
    let fetched = compare(&img, &["--profile", "linux-os"]);
    assert!(fetched < 64 << 20, "fetched {fetched} bytes");
}

#[test]
fn a_windows_image_lints_the_same_over_http() {
    if nginx().is_none() {
        return;
    }
    let img = fixture("win-generalized-gpt");
    let fetched = compare(&img, &[]);
    assert!(fetched < 64 << 20, "fetched {fetched} bytes");
}

#[test]
fn a_sku_manifest_reads_its_disks_over_http_and_judges_their_sas_uris() {
    if nginx().is_none() {
        return;
    }
    let os = fixture("linux-debian-clean");
    let data = fixture("data-empty");
    let bin = nginx().unwrap();
    let server = Nginx::start(&bin, os.parent().unwrap());
    // nginx ignores the query; the SAS token is judged as written (sp=racwdl fails).
    let sas = "?sv=2021-08-06&st=2026-01-01T00:00:00Z&se=2099-01-01T00:00:00Z&sr=b&sp=racwdl&sig=c2VjcmV0";
    let os_url = server.url(&format!(
        "/{}{sas}",
        os.file_name().unwrap().to_str().unwrap()
    ));
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("sku.toml");
    std::fs::write(
        &manifest,
        format!(
            "offer = \"contoso-linux\"\nsku = \"debian-12\"\nversion = \"1.0.0\"\nos = \"linux\"\n[os-disk]\nimage = \"{os_url}\"\n[[data-disk]]\nlun = 0\nimage = \"{}\"\n",
            data.display()
        ),
    )
    .unwrap();
    let out = common::vhdlint(&[
        "sku",
        manifest.to_str().unwrap(),
        "--format",
        "json",
        "--quiet",
    ]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("c2VjcmV0"), "the signature was printed");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let images = v["images"].as_array().unwrap();
    assert_eq!(images.len(), 3);
    let remote = &images[1];
    assert_eq!(remote["profile"], "linux-os");
    assert!(remote["path"].as_str().unwrap().ends_with("sig=REDACTED"));
    let sas_result = remote["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "publish/sas-uri")
        .expect("publish/sas-uri for the URL disk");
    assert_eq!(sas_result["status"], "fail");
    assert!(sas_result["message"]
        .as_str()
        .unwrap()
        .contains("sp=racwdl"));
    // the same verdicts for the OS disk as when it is read locally
    let (_, local) = check_json(&os, &["--profile", "linux-os"]);
    let remote_checks: Vec<_> = verdicts(remote)
        .into_iter()
        .filter(|v| v.0 != "publish/sas-uri" && v.0 != "disk/sparse")
        .collect();
    let local_checks: Vec<_> = verdicts(&local)
        .into_iter()
        .filter(|v| v.0 != "disk/sparse")
        .collect();
    assert_eq!(remote_checks, local_checks);
    assert_eq!(out.status.code(), Some(1));

    // inspect, ls and cat read a URL as they read a file
    for args in [
        vec!["cat", "IMAGE", "/etc/os-release"],
        vec!["ls", "IMAGE", "/etc/ssh"],
        vec!["inspect", "IMAGE", "--format", "json"],
    ] {
        let with = |image: &str| -> Vec<String> {
            args.iter()
                .map(|a| {
                    if *a == "IMAGE" {
                        image.to_string()
                    } else {
                        a.to_string()
                    }
                })
                .collect()
        };
        let run = |a: Vec<String>| {
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            common::vhdlint(&a)
        };
        let local = run(with(os.to_str().unwrap()));
        let remote = run(with(&os_url));
        assert_eq!(
            remote.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&remote.stderr)
        );
        let (mut l, mut r) = (
            String::from_utf8_lossy(&local.stdout).into_owned(),
            String::from_utf8_lossy(&remote.stdout).into_owned(),
        );
        if args[0] == "inspect" {
            // the image's name differs, and nothing else
            let strip = |s: &str| -> serde_json::Value {
                let mut v: Value = serde_json::from_str(s).unwrap();
                v["path"] = Value::Null;
                v
            };
            assert_eq!(strip(&l), strip(&r));
            (l, r) = (String::new(), String::new());
        }
        assert_eq!(l, r, "{args:?}");
        assert!(!String::from_utf8_lossy(&remote.stderr).contains("c2VjcmV0"));
    }
}

/// A server that ignores Range, or a blob replaced during the lint: the run is void and exits 2
/// with the reason, rather than reporting verdicts about bytes it never saw.
#[test]
fn a_blob_that_cannot_be_read_faithfully_voids_the_run() {
    use remote_support::{Behaviour, RangeServer};
    let img = fixture("small-fixed");
    let bytes = std::fs::read(&img).unwrap();
    for (behaviour, expected) in [
        (
            Behaviour {
                ignore_range: true,
                ..Default::default()
            },
            "ignores HTTP Range",
        ),
        (
            Behaviour {
                etag_changes_at: Some(3),
                ..Default::default()
            },
            "was modified while being read",
        ),
    ] {
        let server = RangeServer::start(bytes.clone(), behaviour);
        let url = server.url("/vhds/os.vhd?sv=1&sp=rl&sig=c2VjcmV0");
        let out = common::vhdlint(&["check", "--format", "json", "--quiet", &url]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(expected), "{err}");
        let all = format!("{}{err}", String::from_utf8_lossy(&out.stdout));
        assert!(!all.contains("c2VjcmV0"), "{all}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["images"][0]["void"].is_string(), "{}", v["images"][0]);
    }
}

/// `--max-fetch` bounds what is fetched: reaching it voids the image's results with a message
/// naming the budget, and the run exits 2; a budget the lint fits in changes nothing.
#[test]
fn the_fetch_budget_is_settable() {
    use remote_support::{Behaviour, RangeServer};
    let img = fixture("small-fixed");
    let bytes = std::fs::read(&img).unwrap();
    let server = RangeServer::start(bytes, Behaviour::default());
    let url = server.url("/vhds/os.vhd?sv=1&sp=rl&sig=c2VjcmV0");
    for cmd in [
        vec!["check", "--format", "json", "--quiet", "--max-fetch", "64K"],
        vec!["inspect", "--max-fetch", "64k"],
        vec!["ls", "--max-fetch", "64k", "URL", "/etc"],
    ] {
        let mut args: Vec<&str> = cmd
            .iter()
            .map(|a| if *a == "URL" { url.as_str() } else { a })
            .collect();
        if !cmd.contains(&"URL") {
            args.push(&url);
        }
        let out = common::vhdlint(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(
            err.contains("fetch budget of 65536 bytes") && err.contains("--max-fetch"),
            "{cmd:?}: {err}"
        );
        assert!(!err.contains("c2VjcmV0"), "{err}");
        if cmd[0] == "check" {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            let void = v["images"][0]["void"].as_str().unwrap();
            assert!(void.contains("fetch budget"), "{void}");
        }
    }
    // Enough budget: the verdicts of the local file.
    let (local_code, local) = check_json(&img, &["--ignore", "disk/sparse"]);
    // (Without a SAS, so that publish/sas-uri does not join the results.)
    let (remote_code, remote) = check_json(
        Path::new(&server.url("/vhds/os.vhd")),
        &["--ignore", "disk/sparse", "--max-fetch", "8MiB"],
    );
    assert!(remote.get("void").is_none(), "{remote}");
    assert_eq!(verdicts(&local), verdicts(&remote));
    assert_eq!(local_code, remote_code);
    // A size that is not one is a usage error.
    let out = common::vhdlint(&["check", "--max-fetch", "1.5G", &url]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a size"));
}
