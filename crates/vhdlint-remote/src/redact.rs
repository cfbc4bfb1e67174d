//! The URL as it may be shown: without its query string, user information or fragment, and
//! without a signature however it is written ([`vhdlint_disk::sas::redact`]).

/// Returns `url` fit to show: `scheme://host[:port]/path`, with the query string replaced by
/// `?…`, any user information (`user:password@`) replaced by `…@`, and any fragment dropped.
///
/// Azure SAS URLs carry their signature (`sig=`) in the query string, so no name, message or
/// error of this crate shows a URL that did not go through this function. A signature outside
/// a query (pasted without its `?`, or with the `?` percent-encoded) is hidden by
/// [`vhdlint_disk::sas::redact`], which then also shows percent-escapes decoded.
///
/// ```
/// use vhdlint_remote::redact;
/// assert_eq!(
///     redact("https://acct.blob.core.windows.net/vhds/os.vhd?sv=2021-08-06&sig=SECRET"),
///     "https://acct.blob.core.windows.net/vhds/os.vhd?…"
/// );
/// assert_eq!(redact("http://127.0.0.1:8080/a.vhd"), "http://127.0.0.1:8080/a.vhd");
/// ```
pub fn redact(url: &str) -> String {
    // The query starts at the first '?', unless a '#' comes first (then it is in the fragment).
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let has_query = url[cut..].starts_with('?');
    let base = &url[..cut];
    let mut out = match base.find("://") {
        Some(i) => {
            let scheme = &base[..i];
            let rest = &base[i + 3..];
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = match authority.rfind('@') {
                Some(at) => format!("…@{}", &authority[at + 1..]),
                None => authority.to_owned(),
            };
            format!("{scheme}://{host}{path}")
        }
        // Not a URL with an authority: keep what precedes any query, hide a user part.
        None => match base.rfind('@') {
            Some(at) => format!("…@{}", &base[at + 1..]),
            None => base.to_owned(),
        },
    };
    if has_query {
        out.push_str("?…");
    }
    if vhdlint_disk::sas::has_signature(&out) {
        out = vhdlint_disk::sas::redact(&out);
    }
    out
}

/// Removes from `text` every occurrence of the secret parts of `url` (its query string and user
/// information), for text that did not come from this crate and might quote the URL.
pub(crate) fn scrub(text: &str, url: &str) -> String {
    let mut out = text.to_owned();
    let cut = url.find('#').unwrap_or(url.len());
    if let Some(q) = url[..cut].find('?') {
        let query = &url[q + 1..cut];
        if !query.is_empty() {
            out = out.replace(query, "…");
        }
    }
    if let Some(i) = url.find("://") {
        let rest = &url[i + 3..];
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            if !userinfo.is_empty() {
                out = out.replace(userinfo, "…");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_query_userinfo_and_fragment() {
        let cases = [
            (
                "https://a.blob.core.windows.net/c/os.vhd?sp=r&sig=SECRET%3D",
                "https://a.blob.core.windows.net/c/os.vhd?…",
            ),
            ("https://host/p.vhd", "https://host/p.vhd"),
            ("https://host", "https://host"),
            ("https://host?sig=SECRET", "https://host?…"),
            ("https://host/p?", "https://host/p?…"),
            (
                "https://user:SECRET@host:8443/p?x",
                "https://…@host:8443/p?…",
            ),
            ("https://host/p#frag?SECRET", "https://host/p"),
            ("https://host/p?sig=SECRET#frag", "https://host/p?…"),
            (
                "http://[::1]:80/x.vhd?sig=SECRET",
                "http://[::1]:80/x.vhd?…",
            ),
            ("not a url?sig=SECRET", "not a url?…"),
            ("user:SECRET@host/x", "…@host/x"),
            ("", ""),
        ];
        for (url, want) in cases {
            assert_eq!(redact(url), want, "{url}");
            assert!(!redact(url).contains("SECRET"));
        }
    }

    #[test]
    fn redacts_a_signature_outside_the_query() {
        for (url, want) in [
            (
                "https://host/p.vhd&sv=1&sig=SECRET",
                "https://host/p.vhd&sv=1&sig=REDACTED",
            ),
            (
                "https://host/p.vhd%3Fsig%3DSECRET",
                "https://host/p.vhd?sig=REDACTED",
            ),
            (
                "https://host/a%20b.vhd?sig=SECRET",
                "https://host/a%20b.vhd?…",
            ),
        ] {
            assert_eq!(redact(url), want, "{url}");
        }
    }

    #[test]
    fn scrubs_secret_parts() {
        let url = "https://u:PW@host/p?sv=1&sig=SECRET";
        let text = format!("failed to reach {url} (sv=1&sig=SECRET) as u:PW");
        let s = scrub(&text, url);
        assert!(!s.contains("SECRET") && !s.contains("PW"), "{s}");
    }
}
