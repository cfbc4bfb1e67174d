//! Shared helpers of the integration tests: fixture images built once per run by
//! `fixtures/build.sh` with the real tools, and the `vhdlint` binary.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

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
