//! The HTML and Markdown reports on reports made by the real pipeline: fixture images built
//! with `fixtures/build.sh`, opened and linted by `vhdlint_rules`.
//!
//! The HTML page is rendered by a headless Chromium (Debian package `chromium`; the test
//! says SKIP when it is not installed, or fails under `VHDLINT_REQUIRE_PREREQS=1`) with the
//! network disabled: the rendered DOM's
//! summary counts must equal the report's, and a screenshot is kept under
//! `CARGO_TARGET_TMPDIR/html-report/`.
//!
//! Snapshots live in `tests/expected/`; `UPDATE_EXPECT=1 cargo test -p vhdlint-report --test
//! html` rewrites them.

use std::path::{Path, PathBuf};

use serde_json::Value;
use vhdlint_report::{html, markdown, Report};
use vhdlint_rules::{
    Evidence, Image, ImageReport, Policy, ProfileChoice, RunOptions, Selection, Status, Summary,
};

// ----------------------------------------------------------------------------- fixtures

#[path = "../../vhdlint/tests/common/chromium.rs"]
mod chromium;
#[path = "../../vhdlint/tests/common/fixtures.rs"]
mod fixtures;
#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;
use chromium::{chromium, dom_summary, run_chromium};
use fixtures::fixture_or_skip;

fn lint(path: &Path) -> ImageReport {
    let image = Image::open(path).expect("the fixture opens");
    vhdlint_rules::run(
        &image,
        &RunOptions {
            policy: Policy::guide(),
            profile: ProfileChoice::Auto,
            selection: Selection::default(),
            progress: None,
            generation: Default::default(),
        },
    )
}

/// The report on `names`, or `None` when a fixture cannot be built here (after it has said
/// SKIP, or failed the test under `VHDLINT_REQUIRE_PREREQS=1`).
fn report(names: &[&str]) -> Option<Report> {
    let mut images = Vec::new();
    for n in names {
        images.push(lint(&fixture_or_skip(n)?));
    }
    Some(Report::new("guide", images))
}

fn questionnaire() -> Vec<(String, String)> {
    vec![
        (
            "Does the image contain any licensed software that requires activation?".into(),
            "No.".into(),
        ),
        (
            "Is the latest Azure Linux Agent installed and enabled?".into(),
            "Installed from the distribution's package; enabled by cloud-init at first boot."
                .into(),
        ),
    ]
}

fn check_mut<'a>(img: &'a mut ImageReport, id: &str) -> &'a mut vhdlint_rules::CheckResult {
    img.checks
        .iter_mut()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no result for {id}"))
}

const HOSTILE: &str =
    "<script>alert(1)</script> \"quoted\" 'single' & <img src=x onerror=alert(2)>";

fn out_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every `src=`, `href=`, `url(` or `@import` whose target has a URL scheme.
fn external_refs(doc: &str) -> Vec<String> {
    let lower = doc.to_ascii_lowercase();
    let mut found = Vec::new();
    for key in [
        "src=", "href=", "url(", "@import", "srcset=", "action=", "data=",
    ] {
        let mut at = 0;
        while let Some(i) = lower[at..].find(key) {
            let s = at + i + key.len();
            let target: String = lower[s..]
                .trim_start_matches(['"', '\'', ' '])
                .chars()
                .take_while(|c| !matches!(c, '"' | '\'' | ' ' | '>' | ')'))
                .collect();
            if let Some(colon) = target.find(':') {
                let scheme = &target[..colon];
                if !scheme.is_empty()
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                {
                    found.push(format!("{key}{target}"));
                }
            }
            at = s;
        }
    }
    for scheme in ["http://", "https://", "//fonts.", "ftp://"] {
        if lower.contains(scheme) {
            found.push(scheme.to_string());
        }
    }
    found
}

#[test]
fn html_renders_offline_in_headless_chromium() {
    let Some(mut report) = report(&["mbr-logical", "data-empty"]) else {
        return;
    };
    // A waiver and a hostile string, as an auditor's page would carry them.
    let img = &mut report.images[0];
    check_mut(img, "partition/no-swap").waived =
        Some("Swap partition removed in the published build (ticket OPS-1234).".into());
    check_mut(img, "linux/firewall")
        .evidence
        .push(Evidence::note(HOSTILE));
    let q = questionnaire();
    let page = html::render(&report, Some(&q));
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(
        external_refs(&page).is_empty(),
        "the page refers to the network: {:?}",
        external_refs(&page)
    );
    assert!(!page.contains("<script"), "a script element in the page");
    assert!(!page.contains("<link"), "a linked resource in the page");

    let dir = out_dir();
    let html_path = dir.join("report.html");
    std::fs::write(&html_path, &page).unwrap();
    let Some(bin) = chromium() else {
        prereq::skip(
            "the headless rendering",
            "no chromium (apt-get install chromium)",
        );
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let dom = run_chromium(bin, &html_path, profile.path(), &["--dump-dom".into()]);
    assert!(dom.contains("id=\"summary-1\""), "no DOM: {dom:.500}");
    assert!(
        external_refs(&dom).is_empty(),
        "the rendered DOM refers to the network: {:?}",
        external_refs(&dom)
    );
    assert!(
        !dom.contains("<script"),
        "hostile text became a script element"
    );
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));

    let json: Value = serde_json::from_str(&report.to_json()).unwrap();
    for (i, img) in report.images.iter().enumerate() {
        let counts = dom_summary(&dom, i);
        assert_eq!(counts.len(), 5, "five counts for image {i}: {counts:?}");
        for (status, n) in &counts {
            assert_eq!(
                json["images"][i]["summary"][status].as_u64(),
                Some(*n as u64),
                "image {i} {status}"
            );
        }
        let total: usize = counts.iter().map(|(_, n)| n).sum();
        assert_eq!(total, img.checks.len());
        // Every check is on the page, once.
        for c in &img.checks {
            let id = format!(
                "id=\"check-{i}-{}\"",
                c.id.replace(|ch: char| !ch.is_ascii_alphanumeric(), "-")
            );
            assert_eq!(dom.matches(&id).count(), 1, "{id}");
        }
    }
    assert!(report.images[0].summary.fail > 0, "mbr-logical fails");
    assert_eq!(report.images[1].summary.fail, 0, "data-empty passes");
    assert!(dom.contains("OPS-1234"), "the waiver's justification");
    assert!(dom.contains("Questionnaire") && dom.contains("cloud-init at first boot"));

    let png = dir.join("report.png");
    let _ = std::fs::remove_file(&png);
    run_chromium(
        bin,
        &html_path,
        profile.path(),
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,2000".into(),
        ],
    );
    let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 10 * 1024,
        "screenshot {} is {size} bytes",
        png.display()
    );
    assert_eq!(
        &std::fs::read(&png).unwrap()[..8],
        b"\x89PNG\r\n\x1a\n",
        "a PNG"
    );
    println!(
        "HTML report: {}\nscreenshot ({size} bytes): {}",
        html_path.display(),
        png.display()
    );
}

#[test]
fn html_escapes_hostile_text() {
    let Some(mut report) = report(&["mbr-logical"]) else {
        return;
    };
    report.policy = HOSTILE.into();
    let img = &mut report.images[0];
    img.path = format!("/tmp/{HOSTILE}.vhd");
    img.profile_reason = HOSTILE.into();
    for c in &mut img.checks {
        c.actual = HOSTILE.into();
        c.required = HOSTILE.into();
        c.message = HOSTILE.into();
        c.remedy = Some(HOSTILE.into());
        c.waived = Some(HOSTILE.into());
        c.evidence = vec![
            Evidence::path(HOSTILE, Some(3), HOSTILE),
            Evidence::offset(0x1fe, HOSTILE),
            Evidence::note(HOSTILE),
        ];
    }
    let q = vec![(HOSTILE.to_string(), HOSTILE.to_string())];
    let page = html::render_with_date(&report, Some(&q), Some(HOSTILE));
    assert!(!page.contains("<script"));
    assert!(!page.contains("<img"));
    assert!(!page.contains("\"quoted\""));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &#39;single&#39; &amp; &lt;img src=x onerror=alert(2)&gt;"));
    assert!(page.contains("<code class=\"at\">offset 0x1fe</code>"));
    assert!(external_refs(&page).is_empty());
    // The page is deterministic.
    assert_eq!(
        page,
        html::render_with_date(&report, Some(&q), Some(HOSTILE))
    );
}

#[test]
fn markdown_table_and_escaping() {
    let Some(mut report) = report(&["mbr-logical", "data-empty"]) else {
        return;
    };
    let n0 = report.images[0].checks.len();
    let img = &mut report.images[0];
    {
        let c = check_mut(img, "disk/os-size");
        c.actual = "a | b\nsecond line".into();
        c.message = "**bold** [link](http://x) <script>alert(1)</script>".into();
        c.evidence
            .push(Evidence::path("/etc/`x`|y", Some(7), "a`b"));
    }
    check_mut(img, "partition/no-swap").waived = Some("accepted: swap off at boot".into());
    let md = markdown::render(&report, Some(&questionnaire()));

    assert!(md.starts_with("# VHD image lint report\n"));
    assert!(md.contains("## Image 1: `"));
    assert!(md.contains("## Image 2: `"));
    assert_eq!(
        md.matches("| Result | Check | Actual | Required |\n|---|---|---|---|\n")
            .count(),
        2
    );
    // One table row per check: the rows of the first table.
    let first = md.split("| Result | Check").nth(1).unwrap();
    let rows: Vec<&str> = first
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(rows.len(), n0);
    // Every row has exactly four cells: unescaped pipes are the five separators.
    for r in &rows {
        let unescaped = r
            .char_indices()
            .filter(|(i, ch)| *ch == '|' && (*i == 0 || r.as_bytes()[i - 1] != b'\\'))
            .count();
        assert_eq!(unescaped, 5, "{r}");
    }
    let os = rows.iter().find(|r| r.contains("`disk/os-size`")).unwrap();
    assert!(os.starts_with("| ❌ Failed | "), "{os}");
    assert!(os.contains("| a \\| b<br>second line |"), "{os}");
    let swap = rows
        .iter()
        .find(|r| r.contains("`partition/no-swap`"))
        .unwrap();
    assert!(swap.contains("Failed (waived)"), "{swap}");

    // Findings: non-pass checks only, with message, evidence, remedy and waiver.
    let findings = md
        .split("### Findings")
        .nth(1)
        .unwrap()
        .split("## Image 2")
        .next()
        .unwrap();
    assert!(findings.contains(
        "`disk/os-size`: \\*\\*bold\\*\\* \\[link\\](http://x) \\<script\\>alert(1)\\</script\\>"
    ));
    assert!(!md.contains("<script>"));
    assert!(
        findings.contains("  - ``/etc/`x`|y:7`` ``a`b``"),
        "{findings:.2000}"
    );
    assert!(findings.contains("  - **Waived:** accepted: swap off at boot"));
    assert!(findings.contains("  - **Remedy:** "));
    assert!(
        !findings.contains("`disk/format`"),
        "a pass is not a finding"
    );
    assert!(md.contains("**Summary:** "));
    assert!(md.contains("## Questionnaire\n\n| # | Question | Answer |\n|---:|---|---|\n| 1 | "));
    assert!(md.contains("- **Virtual size:** 268,435,456 bytes (0.25 GiB)"));
    assert!(md.contains("- **Distribution:** Debian GNU/Linux 12 (bookworm)"));
}

// ----------------------------------------------------------------------------- snapshots

/// A report kept small and stable for the snapshots: a few chosen checks of `mbr-logical`,
/// host-dependent fields fixed.
fn snapshot_report() -> Option<Report> {
    let mut report = report(&["mbr-logical"])?;
    report.tool.version = "VERSION";
    let img = &mut report.images[0];
    img.path = "mbr-logical.vhd".into();
    img.facts.bytes_read = 0;
    let keep = [
        "disk/format",
        "disk/fixed",
        "disk/os-size",
        "disk/data-size",
        "partition/no-swap",
        "partition/single-root",
        "linux/kernel-cmdline",
        "linux/ssh-client-alive",
        "linux/root-password",
    ];
    img.checks.retain(|c| keep.contains(&c.id));
    assert_eq!(
        img.checks.len(),
        keep.len(),
        "the chosen checks still exist"
    );
    check_mut(img, "partition/no-swap").waived =
        Some("Swap partition removed in the published build (ticket OPS-1234).".into());
    img.summary = Summary::of(&img.checks);
    Some(report)
}

fn expect(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expected")
        .join(name);
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no {} (UPDATE_EXPECT=1 cargo test -p vhdlint-report --test html)",
            path.display()
        )
    });
    if expected != actual {
        let got = out_dir().join(name);
        std::fs::write(&got, actual).unwrap();
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the expected file at line {} (got: {}); \
             UPDATE_EXPECT=1 rewrites it\nexpected: {:?}\n     got: {:?}",
            name,
            line + 1,
            got.display(),
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

#[test]
fn snapshots() {
    let Some(report) = snapshot_report() else {
        return;
    };
    let statuses: Vec<Status> = report.images[0].checks.iter().map(|c| c.status).collect();
    for st in [
        Status::Pass,
        Status::Fail,
        Status::Warning,
        Status::Skipped,
        Status::Error,
    ] {
        assert!(statuses.contains(&st), "the snapshot shows {st:?}");
    }
    let q = questionnaire();
    expect("mbr-logical.md", &markdown::render(&report, Some(&q)));
    expect(
        "mbr-logical.html",
        &html::render_with_date(&report, Some(&q), Some("2024-01-01")),
    );
}
