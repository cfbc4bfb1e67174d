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
