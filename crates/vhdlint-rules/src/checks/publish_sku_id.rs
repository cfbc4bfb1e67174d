use crate::check::{CheckMeta, Evidence, Outcome};
use crate::publish::Submission;
use crate::Profile;

pub static META: CheckMeta = CheckMeta {
    id: "publish/sku-id",
    title: "Offer and SKU identifiers",
    what: "Reads the offer ID and the SKU (plan) ID of the manifest: lowercase letters, digits, '-' and '_' only, at most 50 characters, and the SKU ID unique among the offer's other plans when they are listed.",
    why: "Offer and plan IDs appear in URLs and in the image's URN (publisher:offer:sku:version); Partner Center refuses other characters and duplicate plan IDs, and they cannot be changed once published.",
    remedy: "Use lowercase letters, digits, hyphens and underscores (for example contoso-linux and ubuntu-22-04-gen2), and a plan ID not used by another plan of the offer.",
    sources: &["Partner Center: create a VM offer (offer ID), plan setup (plan ID)"],
    profiles: &[Profile::Publish],
    policies: crate::policy::ALL,
};

/// Judges the SKU manifest's offer and plan IDs; `None` when the submission has none.
pub fn run(s: &Submission) -> Option<Outcome> {
    s.manifest
        .map(|m| evaluate(&m.offer, &m.sku, &m.other_skus))
}

/// Longest offer or plan ID Partner Center takes.
pub const MAX_ID_LEN: usize = 50;

fn id_problem(kind: &str, id: &str) -> Option<String> {
    if id.is_empty() {
        return Some(format!("the {kind} ID is empty"));
    }
    let bad: std::collections::BTreeSet<char> = id
        .chars()
        .filter(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
        .collect();
    if !bad.is_empty() {
        let shown: Vec<String> = bad.iter().map(|c| format!("{c:?}")).collect();
        return Some(format!(
            "the {kind} ID \"{id}\" contains {}: only lowercase letters, digits, '-' and '_' are allowed",
            shown.join(", ")
        ));
    }
    (id.chars().count() > MAX_ID_LEN).then(|| {
        format!(
            "the {kind} ID \"{id}\" is {} characters long; the limit is {MAX_ID_LEN}",
            id.chars().count()
        )
    })
}

pub fn evaluate(offer: &str, sku: &str, other_skus: &[String]) -> Outcome {
    let required = "lowercase letters, digits, '-' and '_' (≤ 50), SKU unique in the offer";
    let actual = format!("offer {offer}, sku {sku}");
    let mut problems: Vec<String> = [id_problem("offer", offer), id_problem("SKU", sku)]
        .into_iter()
        .flatten()
        .collect();
    if other_skus.iter().any(|o| o == sku) {
        problems.push(format!(
            "the SKU ID \"{sku}\" is already used by another plan of offer {offer}"
        ));
    }
    let ev = Evidence::note(format!(
        "offer = \"{offer}\", sku = \"{sku}\", other-skus = {other_skus:?}"
    ));
    if problems.is_empty() {
        Outcome::pass(actual, required).evidence(ev)
    } else {
        Outcome::fail(actual, required)
            .message(problems.join("; "))
            .evidence(ev)
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
        let dup = evaluate("contoso", "plan-b", &["plan-b".to_string()]);
        assert_eq!(dup.status, Status::Fail);
    }

    #[test]
    fn passes_lowercase_digits_hyphens_and_underscores() {
        let o = evaluate("contoso-linux", "ubuntu_22-04", &["ubuntu-20-04".into()]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "offer contoso-linux, sku ubuntu_22-04");
        assert!(
            said(&o).contains(
                r#"offer = "contoso-linux", sku = "ubuntu_22-04", other-skus = ["ubuntu-20-04"]"#
            ),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn passes_fifty_characters() {
        let o = evaluate(&"a".repeat(50), &"9".repeat(50), &[]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn fails_fifty_one_characters() {
        let o = evaluate(&"a".repeat(51), "sku", &[]);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(o.message.contains("offer ID"), "{}", o.message);
        assert!(
            o.message.contains("is 51 characters long; the limit is 50"),
            "{}",
            o.message
        );
    }

    #[test]
    fn fails_an_empty_offer() {
        let o = evaluate("", "sku", &[]);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.message, "the offer ID is empty");
    }

    #[test]
    fn fails_an_empty_sku() {
        let o = evaluate("offer", "", &[]);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.message, "the SKU ID is empty");
    }

    #[test]
    fn fails_uppercase_and_other_characters() {
        let o = evaluate("offer", "Ubuntu 22.04", &[]);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(
            o.message
                .starts_with(r#"the SKU ID "Ubuntu 22.04" contains ' ', '.', 'U':"#),
            "{}",
            o.message
        );
    }

    #[test]
    fn reports_both_ids() {
        let o = evaluate("Offer", "", &[]);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(
            o.message.contains("offer ID \"Offer\" contains 'O'"),
            "{}",
            o.message
        );
        assert!(
            o.message.ends_with("; the SKU ID is empty"),
            "{}",
            o.message
        );
    }

    #[test]
    fn fails_a_sku_used_by_another_plan() {
        let o = evaluate("offer", "gen2", &["gen1".into(), "gen2".into()]);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(
            o.message,
            "the SKU ID \"gen2\" is already used by another plan of offer offer"
        );
    }
}
