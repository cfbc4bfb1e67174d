//! Azure SAS signatures kept out of what is shown. An image may be named by a SAS URL, and
//! every crate that prints a name, a path or an error message that may quote one hides the
//! signature (`sig=`) with [`redact`].

/// Decodes `%XX` escapes; malformed escapes are kept as written.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Replaces the value of every `sig=` parameter in `text` (a URI, a path, or a message that may
/// hold one) with `REDACTED`. Works on any text: the signature is found after any character that
/// is not a letter or digit (`?`, `&`, `&amp;`, a space, a line break) and in percent-encoded
/// form (`%26sig%3D`, `%73ig=`); percent-escapes are decoded first, so the result shows the
/// decoded text.
pub fn redact(text: &str) -> String {
    // Twice: a URI pasted inside another one is encoded twice.
    let decoded = percent_decode(&percent_decode(text));
    let b = decoded.as_bytes();
    let mut out = String::with_capacity(decoded.len());
    let mut i = 0;
    let mut copied = 0;
    while i + 4 <= b.len() {
        let starts = b[i..i + 4].eq_ignore_ascii_case(b"sig=")
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        if !starts {
            i += 1;
            continue;
        }
        out.push_str(&decoded[copied..i + 4]);
        out.push_str("REDACTED");
        let mut end = i + 4;
        while end < b.len()
            && !matches!(b[end], b'&' | b'#' | b'"' | b'\'' | b'<' | b'>')
            && !b[end].is_ascii_whitespace()
        {
            end += 1;
        }
        // `end` stops at an ASCII byte or the end: a char boundary.
        copied = end;
        i = end;
    }
    out.push_str(&decoded[copied..]);
    out
}

/// Whether `text` holds a signature that [`redact`] would hide.
pub fn has_signature(text: &str) -> bool {
    redact(text) != percent_decode(&percent_decode(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "https://acct.blob.core.windows.net/vhds/os.vhd?sv=2021-08-06&st=2026-11-20T09%3A00%3A00Z&se=2026-12-20T09%3A00%3A00Z&sr=b&sp=rl&sig=S3cr3t%2Bsig%3D";

    #[test]
    fn redacts_any_text() {
        for t in [
            URI.to_string(),
            format!("error fetching {URI}: 403"),
            "x?SIG=S3cr3t".into(),
            "a;sig=S3cr3t b".into(),
            "sig=S3cr3t".into(),
        ] {
            let r = redact(&t);
            assert!(!r.contains("S3cr3t"), "{r}");
            assert!(r.to_ascii_lowercase().contains("sig=redacted"), "{r}");
        }
        assert_eq!(redact("design=1&x"), "design=1&x");
        assert_eq!(redact("€sig=é"), "€sig=REDACTED");
        assert_eq!(redact("x?…: sig"), "x?…: sig");
        assert_eq!(redact("?sig=€&a"), "?sig=REDACTED&a");
    }

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode("a%3Ab%2"), "a:b%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(percent_decode("%"), "%");
    }
}
