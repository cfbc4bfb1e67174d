//! The pipeline formats (SARIF, JUnit, GitHub and Azure annotations) on reports of real
//! fixture images, checked by independent consumers: the official SARIF 2.1.0 JSON schema,
//! nextest's JUnit parser (quick-junit), and Python's `jsonschema` and `junitparser`
//! (`scripts/setup-system` installs them; without them those comparisons say SKIP, or fail
//! under `VHDLINT_REQUIRE_PREREQS=1`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use vhdlint_report::{annotations, junit, sarif, Report};
use vhdlint_rules::{Image, ImageReport, Policy, ProfileChoice, RunOptions, Selection, Status};

// ------------------------------------------------------------------------------ fixtures

#[path = "../../vhdlint/tests/common/fixtures.rs"]
mod fixtures;
#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;
use fixtures::fixture_or_skip;

/// Lints fixture `name` with the guide policy and `select` (all checks when empty).
fn lint(name: &str, select: &[&str]) -> Option<ImageReport> {
    let path = fixture_or_skip(name)?;
    let image = Image::open(&path).expect("the fixture opens");
    let opts = RunOptions {
        policy: Policy::guide(),
        profile: ProfileChoice::Auto,
        selection: Selection {
            select: select.iter().map(|s| s.to_string()).collect(),
            ignore: vec![],
        },
        progress: None,
        generation: Default::default(),
    };
    Some(vhdlint_rules::run(&image, &opts))
}

fn waive(img: &mut ImageReport, id: &str, why: &str) {
    let c = img
        .checks
        .iter_mut()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no result for {id}"));
    c.waived = Some(why.to_string());
}

/// The failing image (every check; one failure and one warning waived) and the passing
/// one (disk checks only).
fn two_images() -> Option<Report> {
    let mut bad = lint("ext4-30g-noforce", &[])?;
    waive(
        &mut bad,
        "linux/agent-config",
        "waagent.conf is written by the\nimage builder at first boot; see TICKET-1",
    );
    waive(&mut bad, "linux/firewall", "NSG only");
    let good = lint("ext4-30g-fixed", &["disk/*"])?;
    Some(Report::new("guide", vec![bad, good]))
}

/// The report, or a return from the test when a fixture cannot be built here (the fixture
/// has said SKIP, or failed the test under `VHDLINT_REQUIRE_PREREQS=1`).
macro_rules! report_or_skip {
    ($e:expr) => {
        match $e {
            Some(r) => r,
            None => return,
        }
    };
}

/// Runs `python3 -c CODE` with `input` on stdin; `None` when python3 or `module` is missing,
/// after `prereq::skip` has said so (or failed the test, under `VHDLINT_REQUIRE_PREREQS=1`).
fn python(module: &str, code: &str, input: &str) -> Option<std::process::Output> {
    let what = format!("the check by Python's {module}");
    match Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
    {
        Err(e) => {
            prereq::skip(&what, &format!("python3 cannot run: {e}"));
            return None;
        }
        Ok(probe) if !probe.status.success() => {
            prereq::skip(
                &what,
                &format!("python3 module {module} is not installed (pip install {module})"),
            );
            return None;
        }
        Ok(_) => {}
    }
    let mut child = Command::new("python3")
        .args(["-c", code])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    Some(child.wait_with_output().unwrap())
}

fn schema() -> Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The schema with the `language` patterns corrected (see [`assert_valid_sarif`]).
fn schema_fixed() -> Value {
    let mut s = schema();
    for def in ["run", "toolComponent"] {
        let p = &mut s["definitions"][def]["properties"]["language"]["pattern"];
        assert_eq!(p, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$");
        *p = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into();
    }
    s
}

/// What the schema says is wrong with a SARIF log (nothing when it is valid).
fn schema_errors(instance: &Value) -> Vec<String> {
    // Formats are checked (`uri`, `uri-reference`…). The Rust validator checks the schema
    // against its meta-schema first, and the official text's pattern for `language`
    // (`^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`, a stray `]`) is not a valid regex there; it
    // is replaced in memory by the corrected pattern of later Microsoft copies. vhdlint
    // writes no `language`; Python's validator below reads the file unchanged.
    let validator = jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema_fixed())
        .expect("the official schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{e} (at {})", e.instance_path()))
        .collect()
}

fn assert_valid_sarif(text: &str) {
    let instance: Value = serde_json::from_str(text).expect("SARIF is JSON");
    let errors = schema_errors(&instance);
    assert!(errors.is_empty(), "SARIF not valid:\n{}", errors.join("\n"));

    // A second, independent validator (scripts/setup-system: pip install jsonschema).
    let schema_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json");
    let code = format!(
        "import json, sys, jsonschema\n\
         schema = json.load(open({:?}))\n\
         v = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)\n\
         errs = sorted(v.iter_errors(json.load(sys.stdin)), key=str)\n\
         [print(e.json_path, e.message) for e in errs]\n\
         sys.exit(1 if errs else 0)\n",
        schema_path.to_str().unwrap()
    );
    if let Some(out) = python("jsonschema", &code, text) {
        assert!(
            out.status.success(),
            "Python jsonschema rejects the SARIF:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

// ---------------------------------------------------------------------------------- SARIF

#[test]
fn sarif_is_valid_and_maps_every_finding() {
    let report = report_or_skip!(two_images());
    let text = sarif::render(&report);
    assert_valid_sarif(&text);

    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(
        v["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "vhdlint");
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), vhdlint_rules::CATALOGUE.len());
    for (r, c) in rules.iter().zip(vhdlint_rules::CATALOGUE) {
        assert_eq!(r["id"], c.id);
        assert_eq!(r["shortDescription"]["text"], c.title);
        assert_eq!(r["fullDescription"]["text"], c.what);
        let help = r["help"]["text"].as_str().unwrap();
        assert!(help.contains(c.why) && help.ends_with(&format!("Fix: {}", c.remedy)));
        assert!(!r["properties"]["profiles"].as_array().unwrap().is_empty());
    }
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    let artifacts = run["artifacts"].as_array().unwrap();
    assert_eq!(artifacts.len(), 2);

    // One result per check that neither passed nor was skipped, in report order.
    let results = run["results"].as_array().unwrap();
    let expected: Vec<(usize, &vhdlint_rules::CheckResult)> = report
        .images
        .iter()
        .enumerate()
        .flat_map(|(i, img)| img.checks.iter().map(move |c| (i, c)))
        .filter(|(_, c)| !matches!(c.status, Status::Pass | Status::Skipped))
        .collect();
    assert_eq!(results.len(), expected.len());
    let s = report.summary();
    assert_eq!(results.len(), s.fail + s.warning + s.error);
    for (r, (i, c)) in results.iter().zip(&expected) {
        assert_eq!(r["ruleId"], c.id);
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], c.id, "ruleIndex points at the rule");
        let level = match c.status {
            Status::Fail => "error",
            Status::Warning => "warning",
            _ => "note",
        };
        assert_eq!(r["level"], level, "{}", c.id);
        assert_eq!(
            r["properties"]["evaluationError"]
                .as_bool()
                .unwrap_or(false),
            c.status == Status::Error
        );
        let msg = r["message"]["text"].as_str().unwrap();
        assert!(msg.starts_with(&c.message) && msg.contains(&c.required));
        let loc = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(loc["index"], *i);
        assert_eq!(loc["uri"], artifacts[*i]["location"]["uri"]);
        assert_eq!(
            r["suppressions"][0]["justification"].as_str(),
            c.waived.as_deref(),
            "{}",
            c.id
        );
    }
    let by_id = |id: &str| results.iter().find(|r| r["ruleId"] == id).unwrap();
    // Evidence at a byte offset of the image → a region; a file inside it → a logical location.
    let size = by_id("disk/size-alignment");
    assert!(size["locations"][0]["physicalLocation"]["region"]["byteOffset"].is_u64());
    let image = &report.images[0].path;
    let cfg = by_id("linux/agent-config");
    assert_eq!(
        cfg["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        format!("{image}::/etc/waagent.conf")
    );
    assert_eq!(
        cfg["locations"][0]["logicalLocations"][0]["name"],
        "waagent.conf"
    );
    assert_eq!(cfg["suppressions"][0]["kind"], "external");
    // A file and a line in it.
    let python = by_id("linux/python");
    assert!(python["locations"][0]["properties"]["line"].is_u64());
    // Several pieces of evidence: the first is the location, the others related ones.
    let agent = by_id("linux/agent-installed");
    assert_eq!(agent["relatedLocations"][0]["id"], 1);
}

#[test]
fn sarif_uris_are_valid_for_awkward_paths() {
    let mut img = report_or_skip!(lint("ext4-30g-fixed", &["disk/*"]));
    for (path, uri) in [
        (
            "/tmp/my disks/os#1?.vhd",
            "file:///tmp/my%20disks/os%231%3F.vhd",
        ),
        ("c:os.vhd", "c%3Aos.vhd"),
        (
            "images/ünïcode 100%.vhd",
            "images/%C3%BCn%C3%AFcode%20100%25.vhd",
        ),
    ] {
        assert_eq!(sarif::path_uri(path), uri);
        img.path = path.to_string();
        // Make a finding so the result's location carries the URI too.
        img.checks[0].status = Status::Fail;
        img.checks[0].message = "hostile \"text\" \u{1b}[31m".into();
        let text = sarif::render(&Report::new("guide", vec![img.clone()]));
        assert_valid_sarif(&text);
    }
    // The validator does check: a raw path with a space is not a URI reference, a level is
    // one of four words, a result needs a message.
    let mut v: Value =
        serde_json::from_str(&sarif::render(&Report::new("guide", vec![img]))).unwrap();
    let r = &mut v["runs"][0]["results"][0];
    r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "my disk.vhd".into();
    r["level"] = "fatal".into();
    r.as_object_mut().unwrap().remove("message");
    let errors = schema_errors(&v).join("\n");
    assert!(errors.contains("uri-reference"), "{errors}");
    assert!(errors.contains("fatal"), "{errors}");
    assert!(errors.contains("message"), "{errors}");
}

// ---------------------------------------------------------------------------------- JUnit

/// What JUnit should count for an image: waived results pass, warnings pass.
fn junit_counts(img: &ImageReport) -> (usize, usize, usize, usize) {
    let live = |s: Status| {
        img.checks
            .iter()
            .filter(|c| c.status == s && c.waived.is_none())
            .count()
    };
    (
        img.checks.len(),
        live(Status::Fail),
        live(Status::Error),
        live(Status::Skipped),
    )
}

#[test]
fn junit_is_read_by_independent_parsers() {
    let report = report_or_skip!(two_images());
    let xml = junit::render(&report);

    // nextest's JUnit model.
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("quick-junit parses it");
    assert_eq!(parsed.test_suites.len(), report.images.len());
    let total = report.summary();
    assert_eq!(
        parsed.tests,
        total.pass + total.fail + total.warning + total.skipped + total.error
    );
    for (suite, img) in parsed.test_suites.iter().zip(&report.images) {
        assert_eq!(suite.name.as_str(), img.path);
        let (tests, failures, errors, skipped) = junit_counts(img);
        assert_eq!(
            (suite.tests, suite.failures, suite.errors, suite.skipped),
            (tests, failures, errors, skipped),
            "suite attributes of {}",
            img.path
        );
        // The test cases themselves say the same.
        let mut seen = BTreeMap::new();
        for (tc, c) in suite.test_cases.iter().zip(&img.checks) {
            assert_eq!(tc.name.as_str(), c.id);
            assert_eq!(tc.classname.as_ref().unwrap().as_str(), img.path);
            let kind = match &tc.status {
                quick_junit::TestCaseStatus::Success { .. } => "pass",
                quick_junit::TestCaseStatus::NonSuccess {
                    kind,
                    message,
                    ty,
                    description,
                    ..
                } => {
                    assert_eq!(message.as_ref().unwrap().as_str(), c.message);
                    assert_eq!(ty.as_ref().unwrap().as_str(), c.id);
                    let d = description.as_ref().unwrap();
                    assert!(d.contains(&format!("actual: {}", c.actual)));
                    assert!(d.contains(&format!("required: {}", c.required)));
                    match kind {
                        quick_junit::NonSuccessKind::Failure => "failure",
                        quick_junit::NonSuccessKind::Error => "error",
                    }
                }
                quick_junit::TestCaseStatus::Skipped { message, .. } => {
                    assert_eq!(message.as_ref().unwrap().as_str(), c.message);
                    "skipped"
                }
            };
            *seen.entry(kind).or_insert(0usize) += 1;
            let so = tc.system_out.as_ref().map(|s| s.as_str().to_string());
            match (&c.waived, c.status) {
                (Some(j), _) => assert!(so.unwrap().starts_with(&format!("waived: {j}"))),
                (None, Status::Warning) => assert!(so.unwrap().contains(&c.message)),
                _ => assert!(so.is_none()),
            }
        }
        assert_eq!(suite.test_cases.len(), tests);
        let n = |k| seen.get(k).copied().unwrap_or(0);
        assert_eq!(
            (n("failure"), n("error"), n("skipped")),
            (failures, errors, skipped)
        );
    }

    // Python's junitparser, the parser of many CI publishers (pip install junitparser).
    let code = "import sys, junitparser\n\
                x = junitparser.JUnitXml.fromstring(sys.stdin.read().encode())\n\
                for s in x:\n\
                \x20   s.update_statistics()\n\
                \x20   print(s.name, s.tests, s.failures, s.errors, s.skipped)\n";
    if let Some(out) = python("junitparser", code, &xml) {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want: String = report
            .images
            .iter()
            .map(|i| {
                let (t, f, e, s) = junit_counts(i);
                format!("{} {t} {f} {e} {s}\n", i.path)
            })
            .collect();
        assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    }
}

#[test]
fn junit_survives_hostile_text() {
    let mut img = report_or_skip!(lint("ext4-30g-fixed", &["disk/*"]));
    let hostile = "a<b>&\"c' ]]> \u{1}\u{1b}[31m\r\nline2\ttab \u{FFFF} é";
    img.path = "dir/\"odd\" & <name>.vhd".into();
    img.checks[0].status = Status::Fail;
    img.checks[0].message = hostile.into();
    img.checks[0].actual = hostile.into();
    img.checks[1].status = Status::Skipped;
    img.checks[1].message = hostile.into();
    let xml = junit::render(&Report::new("guide", vec![img.clone()]));
    // Read back by Python's standard XML parser (expat), a conforming XML 1.0 processor.
    // (quick-junit's reader rejects character references such as `&#13;`, which XML needs
    // to carry a carriage return, or a line break inside an attribute.)
    let code = "import sys, json, xml.etree.ElementTree as ET\n\
                s = ET.fromstring(sys.stdin.buffer.read()).find('testsuite')\n\
                f = s.find('testcase/failure')\n\
                k = s.find('testcase/skipped')\n\
                print(json.dumps([s.get('name'), f.get('message'), f.text, k.get('message')]))\n";
    let Some(out) = python("xml", code, &xml) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Everything XML 1.0 can carry comes back unchanged; the rest as a visible escape.
    let carried = "a<b>&\"c' ]]> \\u{1}\\u{1b}[31m\r\nline2\ttab \\u{ffff} é";
    assert_eq!(v[0], img.path.as_str());
    assert_eq!(v[1], carried);
    assert!(v[2].as_str().unwrap().contains(carried));
    assert_eq!(v[3], carried);
}

// ---------------------------------------------------------------------------- annotations

#[test]
fn annotations_escape_hostile_text() {
    let mut img = report_or_skip!(lint(
        "ext4-30g-fixed",
        &["disk/fixed", "disk/size-alignment"]
    ));
    img.path = "out/a,b:c;d]e 100%.vhd".into();
    let c = &mut img.checks[0];
    c.status = Status::Fail;
    c.title = "T";
    c.message = "50% done\r\n::error::injected\n##vso[task.complete result=Succeeded;]".into();
    c.actual = "a;b]c".into();
    c.required = "x,y:z".into();
    c.remedy = Some("fix it".into());
    let id = c.id;
    img.checks[1].status = Status::Error;
    img.checks[1].title = "U";
    img.checks[1].message = "unreadable".into();
    img.checks[1].actual = "?".into();
    img.checks[1].required = "!".into();
    img.checks[1].remedy = None;
    let id2 = img.checks[1].id;
    let id2_prop = id2.replace(':', "%3A");
    let report = Report::new("guide", vec![img]);

    let gh = annotations::github(&report);
    assert_eq!(
        gh,
        format!(
            "::error file=out/a%2Cb%3Ac;d]e 100%25.vhd,title={id}::T: 50%25 done%0D%0A::error::injected%0A##vso[task.complete result=Succeeded;]%0Aactual: a;b]c%0Arequired: x,y:z%0Afix: fix it\n\
             ::notice file=out/a%2Cb%3Ac;d]e 100%25.vhd,title={id2_prop}::U: unreadable%0Aactual: ?%0Arequired: !\n"
        )
    );
    // No text can start a command of its own.
    assert_eq!(gh.lines().count(), 2);

    let az = annotations::azure(&report);
    assert_eq!(
        az,
        format!(
            "##vso[task.logissue type=error;sourcepath=out/a,b:c%3Bd%5De 100%AZP25.vhd;code={id};]T: 50%AZP25 done%0D%0A::error::injected%0A##vso[task.complete result=Succeeded;]%0Aactual: a;b]c%0Arequired: x,y:z%0Afix: fix it\n\
             ##vso[task.logissue type=warning;sourcepath=out/a,b:c%3Bd%5De 100%AZP25.vhd;code={id2};]U: unreadable%0Aactual: ?%0Arequired: !\n\
             ##vso[task.complete result=Failed;]\n"
        )
    );
    assert_eq!(az.lines().count(), 3);
    assert!(az.lines().all(|l| l.starts_with("##vso[")));

    // A waived result is a plain line, where no `##vso[` may appear at all (the agent finds
    // commands anywhere in a line).
    let mut report = report;
    report.images[0].checks[0].waived = Some("ok ##vso[task.complete result=Succeeded;]".into());
    let az = annotations::azure(&report);
    let plain = az.lines().next().unwrap();
    assert!(
        plain.starts_with("vhdlint: out/a,b:c;d]e 100%AZP25.vhd "),
        "{plain}"
    );
    assert!(!plain.contains("##vso["), "{plain}");
    assert!(
        plain.ends_with("%0Awaived: ok ##vso%5Btask.complete result=Succeeded;]"),
        "{plain}"
    );
    assert_eq!(az.matches("##vso[").count(), 2);
}

#[test]
fn azure_task_result_follows_the_exit_code_rules() {
    let good = report_or_skip!(lint("ext4-30g-fixed", &["disk/*"]));
    assert_eq!(
        good.summary.fail + good.summary.warning + good.summary.error,
        0
    );
    let result = |img: &ImageReport| {
        annotations::azure(&Report::new("guide", vec![img.clone()]))
            .lines()
            .last()
            .unwrap()
            .to_string()
    };
    assert_eq!(result(&good), "##vso[task.complete result=Succeeded;]");
    assert_eq!(
        annotations::github(&Report::new("guide", vec![good.clone()])),
        ""
    );
    let mut warn = good.clone();
    warn.checks[0].status = Status::Warning;
    assert_eq!(
        result(&warn),
        "##vso[task.complete result=SucceededWithIssues;]"
    );
    let mut fail = warn.clone();
    fail.checks[1].status = Status::Fail;
    assert_eq!(result(&fail), "##vso[task.complete result=Failed;]");
    // A waived failure no longer fails the task, but still shows in the log.
    fail.checks[1].waived = Some("accepted".into());
    let az = annotations::azure(&Report::new("guide", vec![fail.clone()]));
    assert!(az.ends_with("##vso[task.complete result=SucceededWithIssues;]\n"));
    assert!(az.contains("waived"));
    let gh = annotations::github(&Report::new("guide", vec![fail]));
    assert!(gh
        .lines()
        .any(|l| l.starts_with("::notice ") && l.contains("waived: accepted")));
}

// ------------------------------------------------------------------------------ snapshots

/// The noforce image with a few checks of every outcome: failures with evidence at a byte
/// offset and in a file, warnings, an evaluation error, skips, passes, a waived failure.
fn snapshot_report() -> Option<Report> {
    let mut img = lint(
        "ext4-30g-noforce",
        &[
            "disk/*",
            "linux/agent-installed",
            "linux/agent-config",
            "linux/kernel-cmdline",
            "linux/ssh-server",
            "linux/root-password",
        ],
    )?;
    waive(
        &mut img,
        "linux/agent-config",
        "waagent.conf is written by the image builder at first boot",
    );
    Some(Report::new("guide", vec![img]))
}

/// Replaces what changes between machines and releases: the image path, the version.
fn normalise(text: &str, report: &Report) -> String {
    let path = &report.images[0].path;
    text.replace(&sarif::path_uri(path), "IMAGE_URI")
        .replace(path.as_str(), "IMAGE")
        .replace(
            &format!("vhdlint {}", report.tool.version),
            "vhdlint VERSION",
        )
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({
        snapshot_path => "data/snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn snapshots_of_every_format() {
    let report = report_or_skip!(snapshot_report());

    // SARIF: only the rules the results refer to (the rest is the catalogue, covered above),
    // rule indexes checked then hidden (they move when a check is added), and the volatile
    // fields replaced.
    let mut v: Value = serde_json::from_str(&sarif::render(&report)).unwrap();
    let run = &mut v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap().clone();
    let mut used = Vec::new();
    for r in run["results"].as_array_mut().unwrap() {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        r["ruleIndex"] = "[index]".into();
        if !used.contains(&rules[idx]) {
            used.push(rules[idx].clone());
        }
    }
    run["tool"]["driver"]["rules"] = Value::Array(used);
    run["tool"]["driver"]["version"] = "[version]".into();
    run["tool"]["driver"]["semanticVersion"] = "[version]".into();
    run["artifacts"][0]["length"] = "[file size]".into();
    let sarif_text = serde_json::to_string_pretty(&v).unwrap();
    snapshot("sarif", &normalise(&sarif_text, &report));

    snapshot("junit", &normalise(&junit::render(&report), &report));
    snapshot("github", &normalise(&annotations::github(&report), &report));
    snapshot("azure", &normalise(&annotations::azure(&report), &report));
}
