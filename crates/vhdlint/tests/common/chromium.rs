//! Headless Chromium for the HTML report's tests (Debian package `chromium`): render a page
//! offline and read what it shows. Shared by path
//! (`#[path = ".../vhdlint/tests/common/chromium.rs"] mod chromium;`).
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

pub fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// Runs headless Chromium on `html` with the network cut off (every host resolves to
/// nothing, every proxy is a closed port) and returns its stdout.
pub fn run_chromium(bin: &str, html: &Path, profile: &Path, extra: &[String]) -> String {
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The counts in `<div ... id="summary-N">`: `<span class="count" data-status="S">N</span>`.
pub fn dom_summary(dom: &str, image: usize) -> Vec<(String, usize)> {
    let start = dom
        .find(&format!("id=\"summary-{image}\""))
        .unwrap_or_else(|| panic!("no summary-{image} in the DOM"));
    let rest = &dom[start..];
    let end = rest.find("</h3>").unwrap_or(rest.len());
    let block = &rest[..end];
    let mut out = Vec::new();
    let key = "<span class=\"count\" data-status=\"";
    let mut at = 0;
    while let Some(i) = block[at..].find(key) {
        let s = at + i + key.len();
        let q = s + block[s..].find('"').unwrap();
        let gt = q + block[q..].find('>').unwrap();
        let lt = gt + block[gt..].find('<').unwrap();
        out.push((
            block[s..q].to_string(),
            block[gt + 1..lt].trim().parse().expect("a count"),
        ));
        at = lt;
    }
    out
}
