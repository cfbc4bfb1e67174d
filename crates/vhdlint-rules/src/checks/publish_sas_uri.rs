use crate::check::{CheckMeta, Evidence, Outcome, Status};
use crate::policy::{Level, Policy};
use crate::publish::sas::{redact, SasUri};
use crate::publish::time::{self, Timestamp};
use crate::publish::Submission;
use crate::Profile;

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
    policies: crate::policy::ALL,
};

/// The thresholds of this check: the `["publish/sas-uri"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// How many minutes before now the start time must lie (clock skew).
    pub start_skew_minutes: u64,
    /// The least time from start to expiry, in days (business days when
    /// `expiry_business_days`), and what a shorter one gets.
    pub expiry_min_days: u32,
    pub expiry_business_days: bool,
    pub expiry: Level,
    /// What an http (not https) URI gets; none ("accept"): accepted, as the guide's own steps
    /// make http URIs.
    #[serde(with = "crate::policy::accept_is_none")]
    pub http: Option<Level>,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            start_skew_minutes: 15,
            expiry_min_days: 7,
            expiry_business_days: true,
            expiry: Level::Fail,
            http: None,
        }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            start_skew_minutes: 0,
            expiry_min_days: 21,
            expiry_business_days: false,
            expiry: Level::Warning,
            http: Some(Level::Warning),
        }
    }
}

impl Thresholds {
    /// Values no SAS URI could meet.
    pub fn validate(&self) -> Result<(), String> {
        if self.expiry_min_days > 366 {
            return Err(format!(
                "[\"publish/sas-uri\"] expiry-min-days = {}: at most 366",
                self.expiry_min_days
            ));
        }
        if self.start_skew_minutes > 7 * 24 * 60 {
            return Err(format!(
                "[\"publish/sas-uri\"] start-skew-minutes = {}: at most {}",
                self.start_skew_minutes,
                7 * 24 * 60
            ));
        }
        Ok(())
    }
}

/// Catalogue entry: publish checks run from `vhdlint sas` and `vhdlint sku`, never on an
/// image's bytes.
/// Judges the SAS URI given for a VHD; `None` when the submission has none.
pub fn run(s: &Submission) -> Option<Outcome> {
    s.sas_uri.map(|u| evaluate(u, s.policy, s.now))
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
        policy.publish_sas_uri.start_skew_minutes,
        policy.publish_sas_uri.expiry_min_days,
        if policy.publish_sas_uri.expiry_business_days { "business " } else { "" }
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
            let latest = now - policy.publish_sas_uri.start_skew_minutes as i64 * 60;
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
                        policy.publish_sas_uri.start_skew_minutes,
                        time::format(now),
                        policy.publish_sas_uri.start_skew_minutes
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
                let min_days = policy.publish_sas_uri.expiry_min_days;
                let needed = if policy.publish_sas_uri.expiry_business_days {
                    time::add_business_days(from, min_days)
                } else {
                    from + i64::from(min_days) * 86_400
                };
                if se < needed {
                    let days = (se - from) as f64 / 86_400.0;
                    f.add(
                        level(policy.publish_sas_uri.expiry),
                        format!(
                            "the expiry se={} is {days:.1} days after {} ({}): at least {min_days} {}days are needed (until {}), or the URI expires during certification",
                            time::format(se),
                            if from == now { "now" } else { "the start" },
                            time::format(from),
                            if policy.publish_sas_uri.expiry_business_days { "business " } else { "" },
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
            if let Some(l) = policy.publish_sas_uri.http {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::said;

    const BLOB: &str = "https://acct.blob.core.windows.net/vhds/os.vhd";

    /// Friday 2026-11-20 09:00:00 UTC.
    fn now() -> Timestamp {
        time::parse_full("2026-11-20T09:00:00Z").unwrap()
    }

    /// The parameters of a good SAS token, with `changes` applied: a value replaces the
    /// parameter's (or is appended), `None` removes it.
    fn query(changes: &[(&str, Option<&str>)]) -> String {
        let mut params: Vec<(String, String)> = [
            ("sv", "2021-08-06"),
            ("st", "2026-11-20T08:00:00Z"),
            ("se", "2026-12-20T09:00:00Z"),
            ("sr", "b"),
            ("sp", "rl"),
            ("sig", "S3cr3t"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in changes {
            match v {
                None => params.retain(|(p, _)| p != k),
                Some(v) => match params.iter_mut().find(|(p, _)| p == k) {
                    Some(p) => p.1 = v.to_string(),
                    None => params.push((k.to_string(), v.to_string())),
                },
            }
        }
        params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn with(policy: &Policy, uri: &str) -> Outcome {
        let o = evaluate(uri, policy, now());
        assert!(!said(&o).contains("S3cr3t"), "{}", said(&o));
        o
    }

    fn guide(changes: &[(&str, Option<&str>)]) -> Outcome {
        with(&Policy::guide(), &format!("{BLOB}?{}", query(changes)))
    }

    fn current(changes: &[(&str, Option<&str>)]) -> Outcome {
        with(&Policy::current(), &format!("{BLOB}?{}", query(changes)))
    }

    fn assert_fails_with(o: &Outcome, problem: &str) {
        assert_eq!(o.status, Status::Fail, "{}", said(o));
        assert!(o.message.contains(problem), "{}", said(o));
    }

    #[test]
    fn run_judges_the_sas_uri_and_nothing_else() {
        let (policy, m) = (crate::Policy::guide(), crate::testing::manifest());
        assert!(run(&crate::testing::submission(&policy, None, Some(&m))).is_none());
        let s = crate::testing::submission(&policy, Some("https://a/b.vhd"), None);
        let o = run(&s).unwrap();
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, evaluate("https://a/b.vhd", &policy, s.now).actual);
    }

    #[test]
    fn passes_a_good_uri() {
        let o = guide(&[]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(
            o.actual,
            "sp=rl, st=2026-11-20T08:00:00Z, se=2026-12-20T09:00:00Z"
        );
        assert!(o.message.is_empty(), "{}", said(&o));
        assert!(said(&o).contains("os.vhd?sv=2021-08-06"), "{}", said(&o));
        assert!(said(&o).contains("&sig=REDACTED"), "{}", said(&o));
    }

    #[test]
    fn requirements_follow_the_policy() {
        let g = guide(&[]);
        assert!(
            g.required
                .contains("st ≥ 15 min before now, se ≥ 7 business days after st"),
            "{}",
            g.required
        );
        let c = current(&[]);
        assert_eq!(c.status, Status::Pass, "{}", said(&c));
        assert!(
            c.required
                .contains("st ≥ 0 min before now, se ≥ 21 days after st"),
            "{}",
            c.required
        );
    }

    #[test]
    fn fails_text_that_is_not_a_uri() {
        let o = with(&Policy::guide(), " not a uri sig=S3cr3t ");
        assert_fails_with(&o, "not a SAS URI: ");
        assert!(said(&o).contains("not a uri sig=REDACTED"), "{}", said(&o));
    }

    #[test]
    fn fails_without_a_query() {
        let o = with(&Policy::guide(), BLOB);
        assert_fails_with(&o, "'?' is not found");
        assert_eq!(
            o.message,
            "'?' is not found in the SAS URI: it carries no token"
        );
        assert_eq!(o.actual, "1 problem(s)");
    }

    #[test]
    fn hides_a_signature_given_without_a_query() {
        let o = with(&Policy::guide(), &format!("{BLOB}&sp=rl&sig=S3cr3t"));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(o.message.contains("sig=REDACTED"), "{}", said(&o));
    }

    #[test]
    fn fails_a_parameter_given_twice() {
        let o = with(&Policy::guide(), &format!("{BLOB}?{}&sp=rl", query(&[])));
        assert_fails_with(&o, "the parameter sp is given twice");
        assert_eq!(o.actual, "1 problem(s)");
    }

    #[test]
    fn passes_other_parameters_given_twice() {
        let o = with(
            &Policy::guide(),
            &format!("{BLOB}?{}&foo=1&foo=2", query(&[])),
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn fails_without_a_signature() {
        assert_fails_with(&guide(&[("sig", None)]), "no signature (sig)");
        assert_fails_with(&guide(&[("sig", Some(""))]), "no signature (sig)");
    }

    #[test]
    fn fails_without_permissions() {
        assert_fails_with(&guide(&[("sp", None)]), "no permissions (sp)");
    }

    #[test]
    fn passes_read_and_list_in_either_order() {
        let o = guide(&[("sp", Some("lr"))]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(o.actual.starts_with("sp=lr, "), "{}", o.actual);
    }

    #[test]
    fn fails_permissions_besides_read_and_list() {
        let o = guide(&[("sp", Some("rwdl"))]);
        assert_fails_with(
            &o,
            "sp=rwdl grants w (write), d (delete) besides read and list",
        );
        assert!(!o.message.contains("lacks"), "{}", o.message);
    }

    #[test]
    fn names_an_unknown_permission() {
        assert_fails_with(&guide(&[("sp", Some("rlz"))]), "grants z (unknown) besides");
    }

    #[test]
    fn fails_without_list() {
        let o = guide(&[("sp", Some("r"))]);
        assert_fails_with(&o, "sp=r lacks l (list): grant exactly sp=rl");
        assert!(!o.message.contains("grants"), "{}", o.message);
    }

    #[test]
    fn fails_without_read() {
        assert_fails_with(&guide(&[("sp", Some("l"))]), "sp=l lacks r (read):");
    }

    #[test]
    fn fails_empty_permissions() {
        assert_fails_with(&guide(&[("sp", Some(""))]), "lacks r (read) and l (list)");
    }

    #[test]
    fn fails_without_a_start_or_an_expiry() {
        let o = guide(&[("st", None)]);
        assert_fails_with(&o, "no start time (st)");
        assert_eq!(o.actual, "1 problem(s)");
        assert_fails_with(&guide(&[("se", None)]), "no expiry time (se)");
    }

    #[test]
    fn fails_a_shortened_date() {
        let o = guide(&[("st", Some("2026-11-20"))]);
        assert_fails_with(&o, "st: \"2026-11-20\" is not a full UTC date-time");
        assert!(
            o.message.contains("shortened dates are invalid"),
            "{}",
            o.message
        );
        assert_fails_with(&guide(&[("se", Some("2026-12-20T09:00Z"))]), "se: ");
    }

    #[test]
    fn fails_a_start_in_the_future() {
        let o = guide(&[("st", Some("2026-11-20T09:00:01Z"))]);
        assert_fails_with(&o, "the start st=2026-11-20T09:00:01Z is in the future");
        let o = current(&[("st", Some("2026-11-20T09:00:01Z"))]);
        assert_fails_with(&o, "is in the future");
    }

    #[test]
    fn fails_a_start_less_than_the_skew_before_now() {
        let o = guide(&[("st", Some("2026-11-20T09:00:00Z"))]);
        assert_fails_with(
            &o,
            "the start st=2026-11-20T09:00:00Z is less than 15 minutes before now (2026-11-20T09:00:00Z)",
        );
        assert!(!o.message.contains("future"), "{}", o.message);
        let o = guide(&[("st", Some("2026-11-20T08:45:01Z"))]);
        assert_fails_with(&o, "is less than 15 minutes before now");
    }

    #[test]
    fn passes_a_start_the_skew_before_now() {
        let o = guide(&[("st", Some("2026-11-20T08:45:00Z"))]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn current_policy_takes_a_start_of_now() {
        let o = current(&[("st", Some("2026-11-20T09:00:00Z"))]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn fails_an_expired_uri() {
        let o = guide(&[("se", Some("2026-11-20T09:00:00Z"))]);
        assert_fails_with(&o, "the URI expired at se=2026-11-20T09:00:00Z");
        assert!(!o.message.contains("days after"), "{}", o.message);
    }

    #[test]
    fn passes_an_expiry_seven_business_days_from_now() {
        // From Friday 2026-11-20 09:00, the 7th business day is Tuesday 2026-12-01.
        let o = guide(&[("se", Some("2026-12-01T09:00:00Z"))]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn fails_an_expiry_short_of_seven_business_days_from_now() {
        let o = guide(&[("se", Some("2026-12-01T08:59:59Z"))]);
        assert_fails_with(
            &o,
            "the expiry se=2026-12-01T08:59:59Z is 11.0 days after now (2026-11-20T09:00:00Z): at least 7 business days are needed (until 2026-12-01T09:00:00Z)",
        );
        // Seven calendar days are not enough.
        let o = guide(&[("se", Some("2026-11-27T09:00:00Z"))]);
        assert_fails_with(&o, "is 7.0 days after now");
    }

    #[test]
    fn counts_the_expiry_window_from_a_future_start() {
        let o = guide(&[
            ("st", Some("2026-11-21T09:00:00Z")),
            ("se", Some("2026-11-23T09:00:00Z")),
        ]);
        assert_fails_with(&o, "is in the future");
        assert!(
            o.message
                .contains("is 2.0 days after the start (2026-11-21T09:00:00Z)"),
            "{}",
            o.message
        );
        assert_eq!(o.actual, "2 problem(s)");
    }

    #[test]
    fn current_policy_passes_an_expiry_21_days_from_now() {
        let o = current(&[("se", Some("2026-12-11T09:00:00Z"))]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn current_policy_warns_on_an_expiry_short_of_21_days() {
        let o = current(&[("se", Some("2026-12-11T08:59:59Z"))]);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(
            o.message.contains("is 21.0 days after now (2026-11-20T09:00:00Z): at least 21 days are needed (until 2026-12-11T09:00:00Z)"),
            "{}",
            o.message
        );
    }

    #[test]
    fn passes_without_a_resource_type() {
        let o = guide(&[("sr", None)]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn warns_on_a_container_sas() {
        let o = guide(&[("sr", Some("c"))]);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(
            o.message.starts_with("sr=c: a container SAS"),
            "{}",
            o.message
        );
        assert_eq!(o.actual, "1 problem(s)");
    }

    #[test]
    fn fails_another_resource_type() {
        assert_fails_with(
            &guide(&[("sr", Some("s"))]),
            "sr=s: the URI must grant a blob",
        );
    }

    #[test]
    fn a_failure_outweighs_a_warning() {
        let o = guide(&[("sr", Some("c")), ("sp", Some("rlw"))]);
        assert_fails_with(&o, "sr=c");
        assert!(o.message.contains("grants w (write)"), "{}", o.message);
        assert_eq!(o.actual, "2 problem(s)");
    }

    #[test]
    fn guide_accepts_http() {
        let o = with(
            &Policy::guide(),
            &format!(
                "http://acct.blob.core.windows.net/vhds/os.vhd?{}",
                query(&[])
            ),
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn current_policy_warns_on_http() {
        let o = with(
            &Policy::current(),
            &format!(
                "http://acct.blob.core.windows.net/vhds/os.vhd?{}",
                query(&[])
            ),
        );
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(o.message.starts_with("http:// "), "{}", o.message);
    }

    #[test]
    fn passes_an_uppercase_https_scheme() {
        let o = with(
            &Policy::current(),
            &format!(
                "HTTPS://acct.blob.core.windows.net/vhds/os.vhd?{}",
                query(&[])
            ),
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn fails_another_scheme() {
        let o = with(
            &Policy::guide(),
            &format!(
                "ftp://acct.blob.core.windows.net/vhds/os.vhd?{}",
                query(&[])
            ),
        );
        assert_fails_with(&o, "ftp:// is not an http(s) URI");
    }

    fn blob(path: &str) -> Outcome {
        with(
            &Policy::guide(),
            &format!("https://acct.blob.core.windows.net{path}?{}", query(&[])),
        )
    }

    #[test]
    fn fails_without_a_blob_name() {
        assert_fails_with(&blob("/vhds"), "no blob name");
        assert_fails_with(&blob("/vhds/"), "no blob name");
    }

    #[test]
    fn passes_a_blob_in_a_folder_with_an_uppercase_extension() {
        let o = blob("/vhds/2026/OS.VHD");
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn fails_a_blob_not_ending_in_vhd() {
        let o = blob("/vhds/os.img");
        assert_fails_with(&o, "the blob name \"os.img\" does not end in .vhd");
        let o = blob("/vhds/os.vhd/x");
        assert_fails_with(&o, "the blob name \"x\" does not end in .vhd");
    }

    #[test]
    fn fails_a_percent_encoded_blob_name() {
        let o = blob("/vhds/my%20os%20disk.vhd");
        assert_fails_with(&o, " contains % (percent-encoding): rename the blob");
        assert_eq!(o.actual, "1 problem(s)");
    }

    #[test]
    fn fails_white_space_and_quotes_in_the_blob_name() {
        let o = blob("/vhds/my \"os\".vhd");
        assert_fails_with(&o, "contains \" (quote), white space: rename the blob");
    }

    #[test]
    fn policy_limits_are_inclusive() {
        let mut t = super::Thresholds::guide();
        (t.expiry_min_days, t.start_skew_minutes) = (366, 7 * 24 * 60);
        assert_eq!(t.validate(), Ok(()));
        t.expiry_min_days = 367;
        assert!(t.validate().unwrap_err().contains("expiry-min-days = 367"));
        t.expiry_min_days = 366;
        t.start_skew_minutes += 1;
        assert!(t
            .validate()
            .unwrap_err()
            .contains("start-skew-minutes = 10081"));
    }
}
