//! Publishing inputs: `vhdlint sas` and `vhdlint sku` (publish/sas-uri, publish/version,
//! publish/sku-id, publish/data-disks), and the promise that a SAS signature appears in no
//! output.

mod common;

use std::path::Path;

use common::{fixture, vhdlint};
use serde_json::Value;

const SECRET: &str = "sIgNaTuRe%2BsEcReT%3D";

fn at(offset_secs: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let t = now + offset_secs;
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // civil from days (same algorithm as the tool, written out independently of it)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn uri(blob: &str, sp: &str, st: &str, se: &str) -> String {
    format!(
        "https://contoso.blob.core.windows.net/vhds/{blob}?sv=2021-08-06&st={st}&se={se}&sr=b&sp={sp}&sig={SECRET}"
    )
}

const DAY: i64 = 86_400;

fn good() -> String {
    uri("os.vhd", "rl", &at(-3600), &at(30 * DAY))
}

/// `vhdlint sas URI --format json`: (exit code, the publish/sas-uri result).
fn sas(u: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["sas", u, "--format", "json"];
    args.extend_from_slice(extra);
    let out = vhdlint(&args);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !all.contains("sIgNaTuRe"),
        "the signature was printed:\n{all}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["images"][0]["profile"], "publish");
    let r = v["images"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "publish/sas-uri")
        .unwrap()
        .clone();
    (out.status.code().unwrap(), r)
}

#[test]
fn a_good_sas_uri_passes_both_policies() {
    for policy in ["guide", "current"] {
        let (code, r) = sas(&good(), &["--policy", policy]);
        assert_eq!(
            (code, r["status"].as_str()),
            (0, Some("pass")),
            "{policy}: {r}"
        );
    }
}

#[test]
fn each_defect_fails_with_a_precise_message() {
    let (st, se) = (at(-3600), at(30 * DAY));
    let cases: Vec<(String, &str)> = vec![
        (
            uri("os.vhd", "racwdl", &st, &se),
            "sp=racwdl grants a (add), c (create), w (write), d (delete) besides read and list",
        ),
        (
            uri("os.vhd", "rl", &st[..10], &se),
            "is not a full UTC date-time (YYYY-MM-DDTHH:MM:SSZ); shortened dates are invalid",
        ),
        (
            uri("os.vhd", "rl", &st, &at(2 * DAY)),
            "at least 7 business days are needed",
        ),
        (
            uri("my disk.vhd", "rl", &st, &se),
            "the blob name \"my disk.vhd\" contains white space",
        ),
        (
            uri("my%20disk.vhd", "rl", &st, &se),
            "contains % (percent-encoding)",
        ),
        (uri("os.vhdx", "rl", &st, &se), "does not end in .vhd"),
        (
            "https://contoso.blob.core.windows.net/vhds/os.vhd".into(),
            "'?' is not found in the SAS URI",
        ),
        (
            uri("os.vhd", "rl", &at(-60), &se),
            "is less than 15 minutes before now",
        ),
        (uri("os.vhd", "r", &st, &se), "sp=r lacks l (list)"),
        (uri("os.vhd", "rl", &st, &at(-DAY)), "the URI expired"),
    ];
    for (u, expected) in cases {
        let (code, r) = sas(&u, &["--policy", "guide"]);
        assert_eq!(code, 1, "{u}: {r}");
        assert_eq!(r["status"], "fail", "{u}: {r}");
        let m = r["message"].as_str().unwrap();
        assert!(
            m.contains(expected),
            "{u}:\n  message: {m}\n  expected: {expected}"
        );
    }
}

#[test]
fn the_current_policy_warns_under_three_weeks() {
    let u = uri("os.vhd", "rl", &at(-3600), &at(10 * DAY));
    let (code, r) = sas(&u, &["--policy", "current"]);
    assert_eq!((code, r["status"].as_str()), (0, Some("warning")), "{r}");
    assert!(
        r["message"].as_str().unwrap().contains("at least 21 days"),
        "{r}"
    );
    // and the guide fails it only when under 7 business days: 10 days is enough there
    let (code, r) = sas(&u, &["--policy", "guide"]);
    assert_eq!((code, r["status"].as_str()), (0, Some("pass")), "{r}");
}

#[test]
fn the_signature_appears_in_no_output_format() {
    let bad = uri("my disk.vhd", "racwdl", "2026-01-01", &at(DAY));
    // One good URI for the whole test: good() moves with the clock.
    let fine = good();
    for u in [fine.clone(), bad.clone()] {
        for format in [
            "table", "json", "junit", "sarif", "html", "markdown", "github", "azure",
        ] {
            let out = vhdlint(&["sas", &u, "--format", format]);
            for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
                let text = String::from_utf8_lossy(bytes);
                assert!(
                    !text.contains("sIgNaTuRe") && !text.contains("SeCrEt"),
                    "{format} {stream} shows the signature:\n{text}"
                );
            }
            // annotations are written for problems only
            if !(u == fine && matches!(format, "github" | "azure")) {
                assert!(!out.stdout.is_empty(), "{format}: no output");
            }
        }
    }
    // an image URL that cannot be fetched: the error names it without the signature
    let unreachable = format!("http://127.0.0.1:9/vhds/os.vhd?sp=rl&sig={SECRET}");
    let out = vhdlint(&["check", &unreachable]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("127.0.0.1:9"), "{err}");
    assert!(!err.contains("sIgNaTuRe"), "{err}");
}

fn write_manifest(dir: &Path, body: &str) -> std::path::PathBuf {
    let p = dir.join("sku.toml");
    std::fs::write(&p, body).unwrap();
    p
}

fn sku(manifest: &Path) -> (i32, Value) {
    let out = vhdlint(&[
        "sku",
        manifest.to_str().unwrap(),
        "--format",
        "json",
        "--quiet",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), v)
}

fn publish_result<'a>(v: &'a Value, id: &str) -> &'a Value {
    let entry = &v["images"][0];
    assert_eq!(entry["profile"], "publish");
    entry["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing: {entry}"))
}

#[test]
fn a_sku_manifest_lints_metadata_and_every_disk_with_its_profile() {
    let os = fixture("linux-debian-clean");
    let data = fixture("data-empty");
    let dir = tempfile::tempdir().unwrap();
    let base = format!(
        "offer = \"contoso-linux\"\nsku = \"debian-12\"\nos = \"linux\"\n[os-disk]\nimage = \"{}\"\n",
        os.display()
    );
    // LUNs 0 and 2: a gap
    let m = write_manifest(
        dir.path(),
        &format!(
            "version = \"1.0.1\"\nprevious-version = \"1.0.0\"\n{base}[[data-disk]]\nlun = 0\nimage = \"{d}\"\n[[data-disk]]\nlun = 2\nimage = \"{d}\"\n",
            d = data.display()
        ),
    );
    let (code, v) = sku(&m);
    assert_eq!(code, 1);
    let dd = publish_result(&v, "publish/data-disks");
    assert_eq!(dd["status"], "fail", "{dd}");
    assert!(
        dd["message"].as_str().unwrap().contains("LUN(s) 1 missing"),
        "{dd}"
    );
    assert_eq!(publish_result(&v, "publish/version")["status"], "pass");
    assert_eq!(publish_result(&v, "publish/sku-id")["status"], "pass");
    // the OS disk as linux-os, each data disk as data-disk
    let profiles: Vec<&str> = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["profile"].as_str().unwrap())
        .collect();
    assert_eq!(profiles, ["publish", "linux-os", "data-disk", "data-disk"]);

    // 1.0.0 -> 1.1.0 changes the minor version
    let m = write_manifest(
        dir.path(),
        &format!(
            "version = \"1.1.0\"\nprevious-version = \"1.0.0\"\n{base}[[data-disk]]\nlun = 0\nimage = \"{}\"\n",
            data.display()
        ),
    );
    let (code, v) = sku(&m);
    assert_eq!(code, 1);
    let ver = publish_result(&v, "publish/version");
    assert_eq!(ver["status"], "fail", "{ver}");
    assert!(
        ver["message"]
            .as_str()
            .unwrap()
            .contains("changes the minor version"),
        "{ver}"
    );
    assert_eq!(publish_result(&v, "publish/data-disks")["status"], "pass");

    // bad identifiers, a data disk without a VHD
    let m = write_manifest(
        dir.path(),
        &format!(
            "offer = \"Contoso Linux\"\nsku = \"Debian.12\"\nversion = \"1.0\"\nos = \"linux\"\nother-skus = [\"Debian.12\"]\n[os-disk]\nimage = \"{}\"\n[[data-disk]]\nlun = 0\n",
            os.display()
        ),
    );
    let (code, v) = sku(&m);
    assert_eq!(code, 1);
    let id = publish_result(&v, "publish/sku-id");
    let msg = id["message"].as_str().unwrap();
    assert!(
        msg.contains("the offer ID \"Contoso Linux\" contains ' ', 'C', 'L'"),
        "{msg}"
    );
    assert!(msg.contains("already used by another plan"), "{msg}");
    assert!(publish_result(&v, "publish/data-disks")["message"]
        .as_str()
        .unwrap()
        .contains("LUN 0 has no VHD"));
    assert!(publish_result(&v, "publish/version")["message"]
        .as_str()
        .unwrap()
        .contains("has 2 part(s), not 3"));
}

#[test]
fn a_typo_in_a_manifest_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let m = write_manifest(
        dir.path(),
        "offer = \"a\"\nsku = \"b\"\nversion = \"1.0.0\"\nos = \"linux\"\n[os-disk]\nimgae = \"x.vhd\"\n",
    );
    let out = vhdlint(&["sku", m.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown field `imgae`"), "{err}");
}

#[test]
fn signatures_written_oddly_are_hidden_too() {
    let (st, se) = (at(-3600), at(30 * DAY));
    for u in [
        // no '?': the whole query sits in the path
        format!("https://contoso.blob.core.windows.net/vhds/os.vhd&sv=2021-08-06&sp=rl&sig={SECRET}"),
        // copied out of HTML
        format!("https://contoso.blob.core.windows.net/vhds/os.vhd?st={st}&se={se}&sp=rl&amp;sig={SECRET}"),
        // encoded once more
        format!("https://contoso.blob.core.windows.net/vhds/os.vhd?st={st}&se={se}&sp=rl%26sig%3D{SECRET}"),
        format!("https://contoso.blob.core.windows.net/vhds/os.vhd?st={st}&se={se}&sp=rl&%73ig={SECRET}"),
    ] {
        for format in ["json", "table", "sarif", "html"] {
            let out = vhdlint(&["sas", &u, "--format", format]);
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!all.contains("sIgNaTuRe"), "{format}: {u}\n{all}");
        }
    }
    // a path (not a URL) with a token in its name: the error does not show it
    let out = vhdlint(&[
        "check",
        &format!("acct.blob.core.windows.net/vhds/os.vhd?sv=1&sig={SECRET}"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("sIgNaTuRe"));
}

#[test]
fn policies_differ_on_http_and_the_window_counts_from_now() {
    let (st, se) = (at(-3600), at(30 * DAY));
    let http = uri("os.vhd", "rl", &st, &se).replacen("https://", "http://", 1);
    // the guide's own steps make http URIs
    assert_eq!(sas(&http, &["--policy", "guide"]).1["status"], "pass");
    let (_, r) = sas(&http, &["--policy", "current"]);
    assert_eq!(r["status"], "warning", "{r}");
    // a start long ago does not make an expiry an hour away acceptable
    let late = uri("os.vhd", "rl", &at(-60 * DAY), &at(3600));
    for policy in ["guide", "current"] {
        let (_, r) = sas(&late, &["--policy", policy]);
        assert_ne!(r["status"], "pass", "{policy}: {r}");
        assert!(r["message"].as_str().unwrap().contains("after now"), "{r}");
    }
    // a parameter given twice
    let twice = format!("{}&sp=racwdl", good());
    let (_, r) = sas(&twice, &[]);
    assert_eq!(r["status"], "fail");
    assert!(
        r["message"].as_str().unwrap().contains("sp is given twice"),
        "{r}"
    );
    // nothing left to run is a usage error
    let out = vhdlint(&["sas", &good(), "--ignore", "publish/*"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn lun_gaps_are_counted_up_to_the_highest_lun() {
    use vhdlint_rules::checks::publish_data_disks::evaluate;
    use vhdlint_rules::publish::manifest::DataDisk;
    let disks = |luns: &[i64]| -> Vec<DataDisk> {
        luns.iter()
            .map(|&lun| DataDisk {
                lun,
                image: Some("d.vhd".into()),
            })
            .collect()
    };
    let m = |luns: &[i64]| evaluate(&disks(luns)).message;
    assert!(
        m(&[0, 5]).contains("LUN(s) 1, 2, 3, 4 missing"),
        "{}",
        m(&[0, 5])
    );
    assert!(m(&[-1, 0]).contains("LUN -1 is negative"));
    assert!(!m(&[-1, 0]).contains("missing"), "{}", m(&[-1, 0]));
    assert!(m(&[0, 1, 1]).contains("used more than once"));
    assert_eq!(
        evaluate(&disks(&[1, 0, 2])).status,
        vhdlint_rules::Status::Pass
    );
    assert!(m(&[0, 1000]).contains("beyond the 16 data disks"));
}
