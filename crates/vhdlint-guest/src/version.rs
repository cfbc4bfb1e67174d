//! Version orderings: dpkg's (`dpkg --compare-versions`) for versions from the dpkg database,
//! and rpm's (`rpmvercmp`) for versions from the rpm database, for BLS entries, and for any
//! version read from a file or a directory name (`python3.11`, `6.1.0-13-amd64`,
//! `OpenSSL 3.0.11`): segments of digits or of letters, digits compared as numbers.

use std::cmp::Ordering;

/// A Debian version split into epoch, upstream version and revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebVersion<'a> {
    pub epoch: u64,
    pub upstream: &'a str,
    pub revision: &'a str,
}

/// Splits `[epoch:]upstream[-revision]` (the revision after the last `-`). A bad epoch reads
/// as 0 with the whole string as the upstream part.
pub fn split_version(v: &str) -> DebVersion<'_> {
    let v = v.trim();
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) if !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit()) => {
            (e.parse().unwrap_or(u64::MAX), r)
        }
        _ => (0, v),
    };
    let (upstream, revision) = match rest.rfind('-') {
        Some(p) => (&rest[..p], &rest[p + 1..]),
        None => (rest, ""),
    };
    DebVersion {
        epoch,
        upstream,
        revision,
    }
}

/// Compares two Debian versions like `dpkg --compare-versions` (epoch numerically, then
/// upstream and revision with dpkg's `verrevcmp`: `~` sorts before everything, even the end).
pub fn dpkg_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (split_version(a), split_version(b));
    a.epoch
        .cmp(&b.epoch)
        .then_with(|| verrevcmp(a.upstream, b.upstream))
        .then_with(|| verrevcmp(a.revision, b.revision))
}

fn order(c: u8) -> i32 {
    match c {
        0 => 0,
        b'~' => -1,
        c if c.is_ascii_digit() => 0,
        c if c.is_ascii_alphabetic() => i32::from(c),
        c => i32::from(c) + 256,
    }
}

fn verrevcmp(a: &str, b: &str) -> Ordering {
    // As in dpkg, whose strings are C strings, a version ends at its first NUL byte: past it,
    // `at` could not tell the byte from the end and the loop below would not advance.
    fn upto_nul(s: &str) -> &[u8] {
        let b = s.as_bytes();
        &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]
    }
    let (a, b) = (upto_nul(a), upto_nul(b));
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (at(a, i) != 0 && !at(a, i).is_ascii_digit())
            || (at(b, j) != 0 && !at(b, j).is_ascii_digit())
        {
            let (ac, bc) = (order(at(a, i)), order(at(b, j)));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while at(a, i) == b'0' {
            i += 1;
        }
        while at(b, j) == b'0' {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while at(a, i).is_ascii_digit() && at(b, j).is_ascii_digit() {
            if first_diff == Ordering::Equal {
                first_diff = at(a, i).cmp(&at(b, j));
            }
            i += 1;
            j += 1;
        }
        if at(a, i).is_ascii_digit() {
            return Ordering::Greater;
        }
        if at(b, j).is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

/// Compares two versions like rpm's `rpmvercmp`: runs of digits and runs of letters in turn
/// (digits as numbers, a number newer than letters), any other character only separating them;
/// `~` sorts before everything, even the end, and `^` after the end but before anything else.
pub fn rpm_cmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    loop {
        while i < a.len() && sep(a[i]) {
            i += 1;
        }
        while j < b.len() && sep(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            match (ca, cb) {
                (None, _) => return Ordering::Less,
                (_, None) => return Ordering::Greater,
                (Some(x), _) if x != b'^' => return Ordering::Greater,
                (_, Some(y)) if y != b'^' => return Ordering::Less,
                _ => {}
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(ca), Some(_)) = (ca, cb) else { break };
        let num = ca.is_ascii_digit();
        let take = |s: &[u8], mut k: usize| {
            let st = k;
            while k < s.len()
                && (if num {
                    s[k].is_ascii_digit()
                } else {
                    s[k].is_ascii_alphabetic()
                })
            {
                k += 1;
            }
            (st, k)
        };
        let (sa, ea) = take(a, i);
        let (sb, eb) = take(b, j);
        if sb == eb {
            return if num {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (mut x, mut y) = (&a[sa..ea], &b[sb..eb]);
        if num {
            while x.first() == Some(&b'0') {
                x = &x[1..];
            }
            while y.first() == Some(&b'0') {
                y = &y[1..];
            }
            match x.len().cmp(&y.len()) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        match x.cmp(y) {
            Ordering::Equal => {}
            o => return o,
        }
        i = ea;
        j = eb;
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_byte_ends_a_version() {
        // Found by fuzzing config_dpkg: an embedded NUL made the comparison loop forever.
        assert_eq!(dpkg_cmp("1\0a", "1"), Ordering::Equal);
        assert_eq!(dpkg_cmp("1.2\0", "1.10"), Ordering::Less);
        assert_eq!(dpkg_cmp("\0", ""), Ordering::Equal);
    }

    #[test]
    fn debian_policy_ordering() {
        use Ordering::*;
        // Debian Policy 5.6.12: "~~" < "~~a" < "~" < "" < "a".
        let chain = ["~~", "~~a", "~", "", "a"];
        for w in chain.windows(2) {
            assert_eq!(verrevcmp(w[0], w[1]), Less, "{:?}", w);
            assert_eq!(verrevcmp(w[1], w[0]), Greater, "{:?}", w);
        }
        let cases = [
            ("1.0~rc1", "1.0", Less),
            ("1.0", "1.0-0", Equal),
            ("1:1.0", "2.0", Greater),
            ("0:1.0", "1.0", Equal),
            ("1.0-1", "1.0-2", Less),
            ("1.0-1", "1.0-1+b1", Less),
            ("2.30-1", "2.4-1", Greater),
            ("1.2.3", "1.2.3a", Less),
            ("1.2a", "1.2+", Less),
            ("1.02", "1.2", Equal),
            ("1:9.2p1-2+deb12u1", "1:9.2p1-2", Greater),
            ("3.0.11-1~deb12u2", "3.0.11-1", Less),
            ("2.2.53.1", "2.2.53", Greater),
            ("2.9.1.1-0ubuntu0.22.04.1", "2.9.1.1", Greater),
            ("1.0-a-1", "1.0-a-2", Less),
            ("7.6p1-4", "7.6p1-4ubuntu0.7", Less),
            ("10", "9", Greater),
            ("1.1.1w-0+deb11u1", "1.1.1n-0+deb11u5", Greater),
        ];
        for (a, b, o) in cases {
            assert_eq!(dpkg_cmp(a, b), o, "{a} vs {b}");
            assert_eq!(dpkg_cmp(b, a), o.reverse(), "{b} vs {a}");
        }
        let v = split_version("1:2.3-4-5");
        assert_eq!((v.epoch, v.upstream, v.revision), (1, "2.3-4", "5"));
    }

    #[test]
    fn rpm_versions() {
        use Ordering::*;
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "2.0", Less),
            ("2.0.1", "2.0", Greater),
            ("5.14.0-362.8.1.el9_3", "5.14.0-70.13.1.el9_0", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0^", "1.0", Greater),
            ("1.0^git1", "1.0.1", Less),
            ("a", "1", Less),
            ("010", "10", Equal),
            ("1.a", "1.1", Less),
        ];
        for (a, b, o) in cases {
            assert_eq!(rpm_cmp(a, b), o, "{a} vs {b}");
            assert_eq!(rpm_cmp(b, a), o.reverse(), "{b} vs {a}");
        }
    }

    proptest::proptest! {
        #[test]
        fn cmp_is_antisymmetric(a in "[0-9:.~+a-z-]{0,12}", b in "[0-9:.~+a-z-]{0,12}") {
            assert_eq!(dpkg_cmp(&a, &b), dpkg_cmp(&b, &a).reverse());
        }
    }
}
