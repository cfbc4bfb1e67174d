use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "publish/sku-id",
    title: "Offer and SKU identifiers",
    what: "Reads the offer ID and the SKU (plan) ID of the manifest: lowercase letters, digits, '-' and '_' only, at most 50 characters, and the SKU ID unique among the offer's other plans when they are listed.",
    why: "Offer and plan IDs appear in URLs and in the image's URN (publisher:offer:sku:version); Partner Center refuses other characters and duplicate plan IDs, and they cannot be changed once published.",
    remedy: "Use lowercase letters, digits, hyphens and underscores (for example contoso-linux and ubuntu-22-04-gen2), and a plan ID not used by another plan of the offer.",
    sources: &["Partner Center: create a VM offer (offer ID), plan setup (plan ID)"],
    profiles: &[Profile::Publish],
};

pub fn run(_ctx: &Context) -> Outcome {
    Outcome::skipped("a publishing check: run by `vhdlint sku`")
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
