use crate::check::{CheckMeta, Evidence, Outcome};
use crate::publish::Submission;
use crate::Profile;

pub static META: CheckMeta = CheckMeta {
    id: "publish/version",
    title: "SKU image version",
    what: "Reads the image version of the SKU manifest: three dot-separated integers (X.Y.Z). With the previously published version given, only Z may have grown.",
    why: "Partner Center takes image versions as {integer}.{integer}.{integer}; within a SKU a new image is an update of the previous one, so only its patch number grows.",
    remedy: "Use X.Y.Z (for example 1.0.1); for a new image of an existing SKU keep X.Y and increase Z. A new major or minor version belongs in a new SKU.",
    sources: &["Azure Marketplace VM image guide: versions MAJOR.MINOR.PATCH", "Partner Center: plan technical configuration, VM image version"],
    profiles: &[Profile::Publish],
    policies: crate::policy::ALL,
};

/// Judges the SKU manifest's version; `None` when the submission has none.
pub fn run(s: &Submission) -> Option<Outcome> {
    s.manifest
        .map(|m| evaluate(&m.version, m.previous_version.as_deref()))
}

/// X.Y.Z with each part a non-negative integer that fits Partner Center's 32-bit field.
pub fn parse(v: &str) -> Result<[u32; 3], String> {
    let parts: Vec<&str> = v.split('.').collect();
    if parts.len() != 3 {
        return Err(format!(
            "\"{v}\" has {} part(s), not 3 (X.Y.Z)",
            parts.len()
        ));
    }
    let mut out = [0u32; 3];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("\"{v}\": \"{p}\" is not a non-negative integer"));
        }
        out[i] = p
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= i32::MAX as u32)
            .ok_or_else(|| format!("\"{v}\": {p} is larger than 2147483647"))?;
    }
    Ok(out)
}

pub fn evaluate(version: &str, previous: Option<&str>) -> Outcome {
    let required = match previous {
        Some(p) => format!("X.Y.Z with only Z greater than in {p}"),
        None => "X.Y.Z (integers)".to_string(),
    };
    let ev = Evidence::note(format!(
        "version = \"{version}\"{}",
        previous.map_or(String::new(), |p| format!(", previous-version = \"{p}\""))
    ));
    let v = match parse(version) {
        Ok(v) => v,
        Err(e) => return Outcome::fail(version, required).message(e).evidence(ev),
    };
    let Some(prev) = previous else {
        return Outcome::pass(version, required).evidence(ev);
    };
    let p = match parse(prev) {
        Ok(p) => p,
        Err(e) => {
            return Outcome::fail(version, required)
                .message(format!("the previous version {e}"))
                .evidence(ev)
        }
    };
    let problem = if v[0] != p[0] || v[1] != p[1] {
        Some(format!(
            "{prev} → {version} changes the {} version: within a SKU only the patch number (Z) may grow; a new {} version is a new SKU",
            if v[0] != p[0] { "major" } else { "minor" },
            if v[0] != p[0] { "major" } else { "minor" }
        ))
    } else if v[2] <= p[2] {
        Some(format!(
            "{prev} → {version}: the patch number must grow (to {} or more)",
            p[2] + 1
        ))
    } else {
        None
    };
    match problem {
        Some(m) => Outcome::fail(format!("{prev} → {version}"), required)
            .message(m)
            .evidence(ev),
        None => Outcome::pass(format!("{prev} → {version}"), required).evidence(ev),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::said;

    #[test]
    fn run_judges_the_manifest_and_nothing_else() {
        let (policy, m) = (crate::Policy::guide(), crate::testing::manifest());
        let uri_only = crate::testing::submission(&policy, Some("https://a/b.vhd?sig=x"), None);
        assert!(run(&uri_only).is_none());
        let o = run(&crate::testing::submission(&policy, None, Some(&m))).unwrap();
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, evaluate("1.0.1", Some("1.0.0")).actual);
    }

    #[test]
    fn parses_three_integers() {
        assert_eq!(parse("1.20.300"), Ok([1, 20, 300]));
        assert_eq!(parse("0.0.2147483647"), Ok([0, 0, 2_147_483_647]));
    }

    #[test]
    fn parse_rejects_other_shapes() {
        assert!(parse("1.0").unwrap_err().contains("has 2 part(s)"));
        assert!(parse("1.0.0.0").unwrap_err().contains("has 4 part(s)"));
        assert!(parse("1..0")
            .unwrap_err()
            .contains("\"\" is not a non-negative integer"));
        assert!(parse("1.+2.0").unwrap_err().contains("\"+2\" is not"));
        assert!(parse("1.0.-1").unwrap_err().contains("\"-1\" is not"));
        assert!(parse("1.0.2147483648")
            .unwrap_err()
            .contains("2147483648 is larger"));
        assert!(parse("4294967296.0.0").unwrap_err().contains("is larger"));
    }

    #[test]
    fn passes_a_first_version() {
        let o = evaluate("1.0.0", None);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "1.0.0");
        assert_eq!(o.required, "X.Y.Z (integers)");
        assert!(said(&o).ends_with("version = \"1.0.0\""), "{}", said(&o));
    }

    #[test]
    fn fails_a_malformed_version() {
        let o = evaluate("1.0", Some("1.0.0"));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "1.0");
        assert!(o.message.contains("has 2 part(s)"), "{}", o.message);
    }

    #[test]
    fn fails_a_malformed_previous_version() {
        let o = evaluate("1.0.1", Some("1.0.x"));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(
            o.message.starts_with("the previous version \"1.0.x\""),
            "{}",
            o.message
        );
        assert!(
            said(&o).contains("version = \"1.0.1\", previous-version = \"1.0.x\""),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn passes_the_next_patch() {
        let o = evaluate("1.2.6", Some("1.2.5"));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "1.2.5 → 1.2.6");
        assert_eq!(o.required, "X.Y.Z with only Z greater than in 1.2.5");
    }

    #[test]
    fn fails_the_same_patch() {
        let o = evaluate("1.2.5", Some("1.2.5"));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "1.2.5 → 1.2.5");
        assert!(
            o.message
                .contains("the patch number must grow (to 6 or more)"),
            "{}",
            o.message
        );
    }

    #[test]
    fn fails_a_lower_patch() {
        let o = evaluate("1.2.4", Some("1.2.5"));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(o.message.contains("must grow"), "{}", o.message);
    }

    #[test]
    fn fails_a_new_major_version() {
        let o = evaluate("2.2.6", Some("1.2.5"));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(
            o.message.contains("changes the major version"),
            "{}",
            o.message
        );
        assert!(
            o.message.contains("a new major version is a new SKU"),
            "{}",
            o.message
        );
    }

    #[test]
    fn fails_a_new_minor_version() {
        let o = evaluate("1.3.6", Some("1.2.5"));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(
            o.message.contains("changes the minor version"),
            "{}",
            o.message
        );
        assert!(
            o.message.contains("a new minor version is a new SKU"),
            "{}",
            o.message
        );
    }

    #[test]
    fn fails_a_lower_minor_version_with_a_higher_patch() {
        let o = evaluate("1.1.9", Some("1.2.5"));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(o.message.contains("minor"), "{}", o.message);
    }
}
