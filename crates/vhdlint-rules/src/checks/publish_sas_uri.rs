use crate::check::{CheckMeta, Evidence, Outcome, Status};
use crate::policy::{Level, Policy};
use crate::publish::sas::{redact, SasUri};
use crate::publish::time::{self, Timestamp};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "publish/sas-uri",
    title: "SAS URI",
    what: "Parses the SAS URI given for a VHD: a query string, permissions (`sp`) of exactly read and list, start (`st`) and expiry (`se`) as full UTC date-times given once each, the start far enough in the past and the expiry far enough ahead (guide: st at least 15 minutes before now, se at least 7 business days after st and after now; current: a warning under 3 weeks, and for http rather than https), a blob SAS, and a blob name ending in .vhd without white space, % or \". The signature is never printed.",
    why: "Microsoft copies each VHD through its SAS URI during certification: a URI without a token, with write or delete rights, with a shortened date, that expires during the review or that names a blob the service rejects makes the submission fail, days later.",
    remedy: "Generate the SAS again on the blob (not the container) with Read and List only, a start time 15 minutes or more in the past and an expiry at least 7 business days (3 weeks is safer) after it, written as full date-times (YYYY-MM-DDTHH:MM:SSZ), e.g. `az storage blob generate-sas --permissions rl --start ... --expiry ... --full-uri`; name the blob NAME.vhd without spaces or special characters.",
    sources: &[
        "Azure Marketplace VM image guide 5.2: List and ReadOnly permissions, a minimum of 7 business days, a start 15 minutes before the current time",
        "Partner Center: common SAS URI issues ('?' not found, permissions, shortened dates, invalid VHD name)",
    ],
    profiles: &[Profile::Publish],
};

/// Catalogue entry: publish checks run from `vhdlint sas` and `vhdlint sku`, never on an
/// image's bytes.
pub fn run(_ctx: &Context) -> Outcome {
    Outcome::skipped("a publishing check: run by `vhdlint sas` and `vhdlint sku`")
}

struct Findings {
    status: Status,
    problems: Vec<String>,
    notes: Vec<Evidence>,
}

impl Findings {
    fn add(&mut self, level: Status, problem: String) {
        if level > self.status {
            self.status = level;
        }
        self.problems.push(problem);
    }
}

const PERMISSIONS: &[(char, &str)] = &[
    ('r', "read"),
    ('a', "add"),
    ('c', "create"),
    ('w', "write"),
    ('d', "delete"),
    ('x', "delete version"),
    ('y', "permanent delete"),
    ('l', "list"),
    ('t', "tags"),
    ('f', "find"),
    ('m', "move"),
    ('e', "execute"),
    ('o', "ownership"),
    ('p', "permissions"),
    ('i', "set immutability policy"),
];

fn permission(c: char) -> &'static str {
    PERMISSIONS
        .iter()
        .find(|(p, _)| *p == c)
        .map_or("unknown", |(_, n)| n)
}

/// Judges one SAS URI at time `now` under `policy`. Nothing the result holds carries the
/// signature: every text goes through [`redact`].
pub fn evaluate(uri: &str, policy: &Policy, now: Timestamp) -> Outcome {
    let mut o = judge(uri, policy, now);
    o.actual = redact(&o.actual);
    o.required = redact(&o.required);
    o.message = redact(&o.message);
    for e in &mut o.evidence {
        e.text = redact(&e.text);
        e.path = e.path.as_deref().map(redact);
    }
    o
}

fn judge(uri: &str, policy: &Policy, now: Timestamp) -> Outcome {
    let required = format!(
        "https blob SAS, sp=rl, full st/se date-times, st ≥ {} min before now, se ≥ {} {}days after st, blob NAME.vhd",
        policy.sas_start_skew_minutes,
        policy.sas_expiry_min_days,
        if policy.sas_expiry_business_days { "business " } else { "" }
    );
    let u = match SasUri::parse(uri) {
        Ok(u) => u,
        Err(e) => {
            return Outcome::fail(e.to_string(), required)
                .message(format!("not a SAS URI: {e}"))
                .evidence(Evidence::note(redact(uri.trim())))
        }
    };
    let shown = u.redacted();
    let mut f = Findings {
        status: Status::Pass,
        problems: Vec::new(),
        notes: vec![Evidence::note(shown.clone())],
    };
    let fail = Status::Fail;
    let level = |l: Level| l.status();
    if !u.has_query {
        f.add(
            fail,
            "'?' is not found in the SAS URI: it carries no token".into(),
        );
    } else {
        let mut seen = std::collections::BTreeSet::new();
        for (k, _) in &u.params {
            if ["sp", "st", "se", "sr", "sig", "sv", "spr"].contains(&k.as_str())
                && !seen.insert(k.as_str())
            {
                f.add(
                    fail,
                    format!("the parameter {k} is given twice: which one the service takes is not defined"),
                );
            }
        }
        if u.param("sig").is_none_or(str::is_empty) {
            f.add(fail, "no signature (sig): this is not a SAS token".into());
        }
        // permissions
        match u.param("sp") {
            None => f.add(
                fail,
                "no permissions (sp): read and list (sp=rl) are required".into(),
            ),
            Some(sp) => {
                let extra: Vec<String> = sp
                    .chars()
                    .filter(|c| *c != 'r' && *c != 'l')
                    .map(|c| format!("{c} ({})", permission(c)))
                    .collect();
                let missing: Vec<&str> = [('r', "r (read)"), ('l', "l (list)")]
                    .iter()
                    .filter(|(c, _)| !sp.contains(*c))
                    .map(|(_, n)| *n)
                    .collect();
                if !extra.is_empty() {
                    f.add(
                        fail,
                        format!(
                            "sp={sp} grants {} besides read and list: grant exactly sp=rl",
                            extra.join(", ")
                        ),
                    );
                }
                if !missing.is_empty() {
                    f.add(
                        fail,
                        format!(
                            "sp={sp} lacks {}: grant exactly sp=rl",
                            missing.join(" and ")
                        ),
                    );
                }
            }
        }
        // dates
        let st = date(&mut f, &u, "st", "start");
        let se = date(&mut f, &u, "se", "expiry");
        if let Some(st) = st {
            let latest = now - policy.sas_start_skew_minutes as i64 * 60;
            if st > now {
                f.add(
                    fail,
                    format!(
                        "the start st={} is in the future: the URI does not work yet",
                        time::format(st)
                    ),
                );
            } else if st > latest {
                f.add(
                    fail,
                    format!(
                        "the start st={} is less than {} minutes before now ({}): clock skew can make the URI invalid; start {} minutes earlier",
                        time::format(st),
                        policy.sas_start_skew_minutes,
                        time::format(now),
                        policy.sas_start_skew_minutes
                    ),
                );
            }
        }
        if let Some(se) = se {
            if se <= now {
                f.add(fail, format!("the URI expired at se={}", time::format(se)));
            } else {
                // Certification starts after the submission, so the window counts from now
                // when the start lies further back.
                let from = st.map_or(now, |st| st.max(now));
                let min_days = policy.sas_expiry_min_days;
                let needed = if policy.sas_expiry_business_days {
                    time::add_business_days(from, min_days)
                } else {
                    from + i64::from(min_days) * 86_400
                };
                if se < needed {
                    let days = (se - from) as f64 / 86_400.0;
                    f.add(
                        level(policy.sas_expiry),
                        format!(
                            "the expiry se={} is {days:.1} days after {} ({}): at least {min_days} {}days are needed (until {}), or the URI expires during certification",
                            time::format(se),
                            if from == now { "now" } else { "the start" },
                            time::format(from),
                            if policy.sas_expiry_business_days { "business " } else { "" },
                            time::format(needed)
                        ),
                    );
                }
            }
        }
        match u.param("sr") {
            Some("b") | None => {}
            Some("c") => f.add(
                Status::Warning,
                "sr=c: a container SAS grants every blob of the container; give a blob SAS (sr=b) for each VHD".into(),
            ),
            Some(other) => f.add(
                fail,
                format!("sr={other}: the URI must grant a blob (sr=b)"),
            ),
        }
    }
    match u.scheme.as_str() {
        "https" => {}
        // The guide's Storage Explorer steps make http URIs ("don't select Use Https").
        "http" => {
            if let Some(l) = policy.sas_http {
                f.add(
                    level(l),
                    "http:// — give the https form of the URI: over http the token travels in clear"
                        .into(),
                );
            }
        }
        other => f.add(fail, format!("{other}:// is not an http(s) URI")),
    }
    match u.blob() {
        None => f.add(
            fail,
            "no blob name: the URI must name CONTAINER/NAME.vhd".into(),
        ),
        Some(b) => {
            let name = b.rsplit('/').next().unwrap_or(b);
            if !name.to_ascii_lowercase().ends_with(".vhd") {
                f.add(
                    fail,
                    format!("the blob name \"{name}\" does not end in .vhd"),
                );
            }
            let bad: Vec<String> = b
                .chars()
                .filter(|c| c.is_whitespace() || *c == '%' || *c == '"')
                .map(|c| match c {
                    '%' => "% (percent-encoding)".to_string(),
                    '"' => "\" (quote)".to_string(),
                    _ => "white space".to_string(),
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            if !bad.is_empty() {
                f.add(
                    fail,
                    format!(
                        "the blob name \"{b}\" contains {}: rename the blob",
                        bad.join(", ")
                    ),
                );
            }
        }
    }
    let actual = if f.problems.is_empty() {
        format!(
            "sp={}, st={}, se={}",
            u.param("sp").unwrap_or("-"),
            u.param("st").unwrap_or("-"),
            u.param("se").unwrap_or("-")
        )
    } else {
        format!("{} problem(s)", f.problems.len())
    };
    let mut o = match f.status {
        Status::Pass => Outcome::pass(actual, required),
        Status::Warning => Outcome::warning(actual, required),
        _ => Outcome::fail(actual, required),
    };
    if !f.problems.is_empty() {
        o = o.message(redact(&f.problems.join("; ")));
    }
    for e in f.notes {
        o = o.evidence(e);
    }
    o
}

fn date(f: &mut Findings, u: &SasUri, key: &str, what: &str) -> Option<Timestamp> {
    match u.param(key) {
        None => {
            f.add(Status::Fail, format!("no {what} time ({key})"));
            None
        }
        Some(v) => {
            match time::parse_full(v) {
                Ok(t) => Some(t),
                Err(e) => {
                    f.add(
                    Status::Fail,
                    format!("{key}: {e}; shortened dates are invalid, write e.g. 2026-11-23T09:00:00Z"),
                );
                    None
                }
            }
        }
    }
}
