//! SAS URIs as the Marketplace takes them for each VHD:
//! `https://ACCOUNT.blob.core.windows.net/CONTAINER/NAME.vhd?sv=…&st=…&se=…&sr=b&sp=rl&sig=…`.
//!
//! The signature (`sig`) is a secret: nothing here puts its value in a message, and
//! [`redact`] removes it from any text that may hold a URI.

pub use vhdlint_disk::sas::{has_signature, percent_decode, redact};

/// A parsed SAS URI. Query values are percent-decoded; the path is kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SasUri {
    pub scheme: String,
    pub host: String,
    /// The path as written, starting with `/` (empty when the URI has none).
    pub path: String,
    /// Whether the URI has a `?` at all.
    pub has_query: bool,
    /// Query parameters in order, names as written, values decoded.
    pub params: Vec<(String, String)>,
}

/// What a text that should be a URI lacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SasError {
    #[error("not a URI: no scheme (expected https://ACCOUNT.blob.core.windows.net/CONTAINER/NAME.vhd?...)")]
    NoScheme,
    #[error("not a URI: no host after {0}://")]
    NoHost(String),
    #[error("the URI is {0} bytes long; a SAS URI is a few hundred")]
    TooLong(usize),
}

/// Longest text taken as a URI (Azure's own limit on a URL is 8 KiB).
pub const MAX_URI_LEN: usize = 8192;

impl SasUri {
    pub fn parse(text: &str) -> Result<SasUri, SasError> {
        let s = text.trim();
        if s.len() > MAX_URI_LEN {
            return Err(SasError::TooLong(s.len()));
        }
        let (scheme, rest) = s.split_once("://").ok_or(SasError::NoScheme)?;
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err(SasError::NoScheme);
        }
        let (before_query, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        // A fragment is not part of what is sent.
        let query = query.map(|q| q.split_once('#').map_or(q, |x| x.0));
        let (host, path) = match before_query.find('/') {
            Some(i) => (&before_query[..i], &before_query[i..]),
            None => (before_query, ""),
        };
        if host.is_empty() {
            return Err(SasError::NoHost(scheme.to_string()));
        }
        let params = query
            .map(|q| {
                q.split('&')
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        let (k, v) = p.split_once('=').unwrap_or((p, ""));
                        (percent_decode(k), percent_decode(v))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(SasUri {
            scheme: scheme.to_ascii_lowercase(),
            host: host.to_string(),
            path: path.to_string(),
            has_query: query.is_some(),
            params,
        })
    }

    /// The value of query parameter `name` (SAS parameter names are lowercase).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The container: the first path segment.
    pub fn container(&self) -> Option<&str> {
        self.path
            .strip_prefix('/')
            .and_then(|p| p.split('/').next())
            .filter(|c| !c.is_empty())
    }

    /// The blob name as written: the path after the container.
    pub fn blob(&self) -> Option<&str> {
        self.path
            .strip_prefix('/')
            .and_then(|p| p.split_once('/'))
            .map(|x| x.1)
            .filter(|b| !b.is_empty())
    }

    /// The URI with the signature's value replaced, safe to print (the path and every
    /// parameter go through [`redact`] too: a signature pasted without its `?`, or as `amp;sig`).
    pub fn redacted(&self) -> String {
        redact(&self.assembled())
    }

    fn assembled(&self) -> String {
        let mut s = format!("{}://{}{}", self.scheme, self.host, self.path);
        if self.has_query {
            s.push('?');
            let q: Vec<String> = self
                .params
                .iter()
                .map(|(k, v)| {
                    if k.eq_ignore_ascii_case("sig") {
                        format!("{k}=REDACTED")
                    } else {
                        format!("{k}={v}")
                    }
                })
                .collect();
            s.push_str(&q.join("&"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "https://acct.blob.core.windows.net/vhds/os.vhd?sv=2021-08-06&st=2026-11-20T09%3A00%3A00Z&se=2026-12-20T09%3A00%3A00Z&sr=b&sp=rl&sig=S3cr3t%2Bsig%3D";

    #[test]
    fn parses_the_parts() {
        let u = SasUri::parse(URI).unwrap();
        assert_eq!(u.scheme, "https");
        assert_eq!(u.host, "acct.blob.core.windows.net");
        assert_eq!(u.container(), Some("vhds"));
        assert_eq!(u.blob(), Some("os.vhd"));
        assert_eq!(u.param("st"), Some("2026-11-20T09:00:00Z"));
        assert_eq!(u.param("sig"), Some("S3cr3t+sig="));
        assert!(!u.redacted().contains("S3cr3t"));
        assert!(u.redacted().ends_with("sig=REDACTED"));
    }

    #[test]
    fn redacts_signatures_however_they_are_written() {
        for t in [
            "https://a/c/os.vhd&sv=1&sp=rl&sig=S3cr3t",
            "https://a/c/os.vhd?sv=1&sp=rl&amp;sig=S3cr3t",
            "https://a/c/os.vhd?sv=1&\nsig=S3cr3t",
            "https://a/c/os.vhd?sv=1%26sig%3DS3cr3t",
            "https://a/c/os.vhd?sv=1&%73ig=S3cr3t",
            "https://a/c/os.vhd?sv=1%2526sig%253DS3cr3t",
            "os.vhd?sig=S3cr3t",
            "cannot open acct/os.vhd?sv=1&sig=S3cr3t: No such file",
        ] {
            let r = redact(t);
            assert!(!r.contains("S3cr3t"), "{t} -> {r}");
            if let Ok(u) = SasUri::parse(t) {
                assert!(!u.redacted().contains("S3cr3t"), "{t}");
            }
        }
    }
}
