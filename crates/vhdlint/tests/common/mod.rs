//! Shared helpers of the integration tests: fixture images built once per run by
//! `fixtures/build.sh` with the real tools, and the `vhdlint` binary.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

pub mod chromium;
mod fixtures;
mod prereq;
#[allow(unused_imports)] // not every test binary builds fixtures
pub use fixtures::*;
#[allow(unused_imports)] // not every test binary skips
pub use prereq::*;

/// Runs the binary.
pub fn vhdlint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vhdlint"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("vhdlint runs")
}

/// `vhdlint check --format json` on one image with extra args: (exit code, the image report).
pub fn check_json(image: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "check",
        "--quiet",
        "--format",
        "json",
        image.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = vhdlint(&args);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), v["images"][0].clone())
}

/// The result of check `id` in an image report.
pub fn result<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no result for {id}"))
}

pub fn status<'a>(report: &'a Value, id: &str) -> &'a str {
    result(report, id)["status"].as_str().unwrap()
}

/// Fixture `$name`, or a return from the test (after `skip` has said so, or failed the test
/// under `VHDLINT_REQUIRE_PREREQS=1`) when this machine cannot build it. Only where returning
/// ends nothing else: in a loop, use `let Some(img) = common::fixture_or_skip(name) else {
/// continue };` so that one fixture skips only its own item.
#[macro_export]
macro_rules! fixture_or_skip {
    ($name:expr) => {
        match common::fixture_or_skip($name) {
            Some(p) => p,
            None => return,
        }
    };
}

/// The script `vhdlint fix ARGS` writes; it must exit 0.
pub fn fix_script(args: &[&str]) -> String {
    let mut all = vec!["fix"];
    all.extend_from_slice(args);
    let out = vhdlint(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "vhdlint {}: {}",
        all.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the script is UTF-8")
}

/// (ID, status) of every check of one image's report, in report order.
pub fn statuses(image: &Value) -> Vec<(String, String)> {
    image["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// What a build leaves on the Debian root, written in a chroot of it by its own tools (for
/// `vhdlint fix`'s round trips): bash's history (an interactive bash writing its history on
/// exit), a swap file made by mkswap and listed in fstab, a CIS hardening line that disables
/// udf, and a lease as dhclient writes it.
pub const BUILD_LEFTOVERS: &str = r#"set -e
i=0; while [ $i -lt 60 ]; do i=$((i + 1)); echo "echo building step $i of the image >/dev/null"; done | HOME=/root HISTFILE=/root/.bash_history bash -i >/dev/null 2>&1
test -s /root/.bash_history
dd if=/dev/zero of=/swapfile bs=1M count=1 2>/dev/null && chmod 600 /swapfile && mkswap /swapfile >/dev/null
echo '/swapfile none swap sw 0 0' >>/etc/fstab
printf '%s\n' '# CIS Debian Linux 12 Benchmark' 'install udf /bin/true' >/etc/modprobe.d/CIS.conf
mkdir -p /var/lib/dhcp
printf 'lease {\n  interface "eth0";\n  fixed-address 10.0.0.4;\n}\n' >/var/lib/dhcp/dhclient.eth0.leases
"#;
