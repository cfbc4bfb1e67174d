//! Every report format from the command line, for a failing and a passing image, to standard
//! output and to --output FILE. (The formats' own tests in vhdlint-report validate SARIF
//! against the schema, parse JUnit with independent consumers and render HTML in Chromium.)

mod common;

use common::vhdlint;

#[test]
fn every_format_for_a_failing_and_a_passing_image() {
    let failing = fixture_or_skip!("ext4-30g-noforce");
    let passing = fixture_or_skip!("ext4-30g-fixed");
    let dir = tempfile::tempdir().unwrap();
    for format in [
        "table", "json", "junit", "sarif", "html", "markdown", "github", "azure",
    ] {
        for (img, code) in [(&failing, 1), (&passing, 0)] {
            let out_file = dir.path().join(format!("report.{format}"));
            let out = vhdlint(&[
                "check",
                "-q",
                "--select",
                "disk/*",
                "--format",
                format,
                "--output",
                out_file.to_str().unwrap(),
                img.to_str().unwrap(),
            ]);
            assert_eq!(
                out.status.code(),
                Some(code),
                "{format} {}: {}",
                img.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                out.stdout.is_empty(),
                "--output writes the file, not stdout"
            );
            let text = std::fs::read_to_string(&out_file).unwrap();
            let failed = code == 1;
            match format {
                "json" => assert_eq!(
                    serde_json::from_str::<serde_json::Value>(&text).unwrap()["images"][0]
                        ["summary"]["fail"]
                        .as_u64()
                        .unwrap()
                        > 0,
                    failed
                ),
                "junit" => assert_eq!(text.contains("<failure"), failed, "{text}"),
                "sarif" => assert_eq!(text.contains("\"level\": \"error\""), failed, "{text}"),
                "html" => assert!(
                    text.starts_with("<!DOCTYPE html>") && text.contains("disk/size-alignment")
                ),
                "markdown" => assert!(text.contains("| Result | Check | Actual | Required |")),
                "github" => assert_eq!(text.contains("::error"), failed, "{text}"),
                "azure" => assert!(
                    text.contains(if failed {
                        "result=Failed"
                    } else {
                        "result=Succeeded"
                    }),
                    "{text}"
                ),
                _ => assert!(text.contains("disk/size-alignment")),
            }
        }
    }
}

#[test]
fn several_images_in_one_report_of_each_format() {
    let a = fixture_or_skip!("ext4-30g-noforce");
    let b = fixture_or_skip!("data-empty");
    for format in ["junit", "sarif", "html", "markdown"] {
        let out = vhdlint(&[
            "check",
            "-q",
            "--select",
            "disk/*",
            "--format",
            format,
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("ext4-30g-noforce") && text.contains("data-empty"),
            "{format}"
        );
    }
}

#[test]
fn questionnaire_answers_appear_in_html_and_markdown() {
    let img = fixture_or_skip!("data-empty");
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("answers.toml");
    std::fs::write(&q, "[[answer]]\nquestion = \"Does the image rely on drives other than C: and D:?\"\nanswer = \"No: data disks are optional\"\n").unwrap();
    for format in ["html", "markdown"] {
        let out = vhdlint(&[
            "check",
            "-q",
            "--format",
            format,
            "--questionnaire",
            q.to_str().unwrap(),
            img.to_str().unwrap(),
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("No: data disks are optional"), "{format}");
    }
}

/// `--timings`: after the report, on standard error, a line (wall time, bytes read) for every
/// check run and for the shared facts, slowest first, then the total; nothing without it. The
/// JSON report carries `elapsed_us` for every check either way. Durations are not asserted on.
#[test]
fn timings_list_every_check_and_the_shared_facts_on_stderr() {
    let img = fixture_or_skip!("ext4-30g-noforce");
    let run = |timings: bool| {
        let mut args = vec!["check", "-q", "--format", "json"];
        if timings {
            args.push("--timings");
        }
        args.push(img.to_str().unwrap());
        let out = vhdlint(&args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (report, String::from_utf8(out.stderr).unwrap())
    };

    let (plain, stderr) = run(false);
    assert_eq!(stderr, "", "nothing on standard error without --timings");
    let (report, stderr) = run(true);
    for r in [&plain, &report] {
        for c in r["images"][0]["checks"].as_array().unwrap() {
            assert!(c["elapsed_us"].is_u64(), "{} has no elapsed_us", c["id"]);
        }
    }
    let ids: Vec<&str> = report["images"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(ids.len() > 50, "the whole catalogue runs: {ids:?}");

    let mut lines = stderr.lines();
    assert!(lines.next().unwrap().starts_with("timings of "), "{stderr}");
    // (ms, bytes, kind and name) of each line.
    let parsed: Vec<(f64, u64, String)> = lines
        .map(|l| {
            let (ms, rest) = l.trim_start().split_once(" ms ").expect(l);
            let (bytes, what) = rest.trim_start().split_once(" bytes  ").expect(l);
            (
                ms.parse().expect(l),
                bytes.parse().expect(l),
                what.trim().to_string(),
            )
        })
        .collect();
    let (total, entries) = parsed.split_last().unwrap();
    assert_eq!(total.2, "total", "{stderr}");
    for id in &ids {
        let line = format!("check {id}");
        assert_eq!(
            entries.iter().filter(|e| e.2 == line).count(),
            1,
            "one line for {id}: {stderr}"
        );
    }
    let facts: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.2.strip_prefix("fact  "))
        .collect();
    for fact in [
        "partition table and volumes",
        "linux inspection",
        "linux packages",
        "linux kernel and boot entry",
    ] {
        assert!(facts.contains(&fact), "{fact} is not in {facts:?}");
    }
    assert_eq!(entries.len(), ids.len() + facts.len(), "{stderr}");
    assert!(
        entries.windows(2).all(|w| w[0].0 >= w[1].0),
        "slowest first: {stderr}"
    );
    // Each line's figures are its own (a fact is left out of the check that needed it), so
    // together they are no more than the whole lint, and the guest was read.
    let bytes: u64 = entries.iter().map(|e| e.1).sum();
    assert!(
        bytes > 0 && bytes <= total.1,
        "{bytes} > {}: {stderr}",
        total.1
    );
}
