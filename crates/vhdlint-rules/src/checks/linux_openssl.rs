use std::cmp::Ordering;

use vhdlint_guest::view::GuestView;

use super::{upstream_version, version_cmp};
use crate::check::{CheckMeta, Evidence, Note, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/openssl",
    title: "OpenSSL",
    what: "Finds the OpenSSL version: the package database (openssl, libssl3, libssl1.1, libssl1.0.x) or, without one, the version string inside libcrypto (\"OpenSSL 3.0.7 1 Nov 2022\") or the libssl file name (libssl.so.1.1.1k). guide: fail below 1.0; current: fail below 3.0.0 unless exactly 1.1.1 or 1.0.2.",
    why: "The Azure Linux Agent uses OpenSSL to decrypt the provisioning certificates and SSH keys; old OpenSSL is unsupported and insecure.",
    remedy: "Install the distribution's current openssl and libssl packages.",
    sources: &["Azure Marketplace VM image guide: OpenSSL 1.0 or greater", "LISA AzureImageStandard verify_openssl_version"],
    profiles: &[Profile::LinuxOs],
};

/// The version in "OpenSSL 3.0.7 1 Nov 2022" inside a library's bytes.
fn version_in(bytes: &[u8]) -> Option<String> {
    let pat = b"OpenSSL ";
    bytes.windows(pat.len() + 1).enumerate().find_map(|(i, w)| {
        if &w[..pat.len()] != pat || !w[pat.len()].is_ascii_digit() {
            return None;
        }
        let rest = &bytes[i + pat.len()..];
        let v: String = rest
            .iter()
            .take(16)
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'.')
            .map(|&c| char::from(c))
            .collect();
        (v.matches('.').count() >= 1).then_some(v)
    })
}

/// The newest version found in the library files; a directory a bound kept from being listed
/// is noted in `notes`.
fn from_files(view: &GuestView, notes: &mut Vec<Note>) -> Option<(String, Evidence)> {
    let mut found = Vec::new();
    for dir in [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
        "/lib64",
        "/lib/x86_64-linux-gnu",
    ] {
        let Some(entries) = view.read_dir_noted(dir, notes) else {
            continue;
        };
        for e in entries {
            if e.name.starts_with("libcrypto.so.") {
                let p = format!("{dir}/{}", e.name);
                if let Some(v) = view
                    .read_upto(&p, 16 << 20)
                    .ok()
                    .and_then(|b| version_in(&b))
                {
                    found.push((
                        v.clone(),
                        Evidence::path(p, None, format!("version string \"OpenSSL {v}\"")),
                    ));
                }
            } else if let Some(v) = e
                .name
                .strip_prefix("libssl.so.")
                .filter(|v| v.matches('.').count() >= 2)
            {
                found.push((
                    v.to_string(),
                    Evidence::path(format!("{dir}/{}", e.name), None, "library file name"),
                ));
            }
        }
    }
    found.into_iter().max_by(|a, b| version_cmp(&a.0, &b.0))
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let pol = ctx.policy;
    let pkgs = g.facts.packages(&g.view);
    // What the package inventory could not read (the version then comes from the files).
    let mut notes = pkgs.notes.clone();
    let found = pkgs
        .any(&[
            "openssl",
            "libssl3",
            "libssl3t64",
            "libssl1.1",
            "libssl1.0.2",
            "libssl1.0.0",
            "openssl-libs",
            "libopenssl3",
            "libopenssl1_1",
        ])
        .map(|p| {
            (
                upstream_version(&p.version).to_string(),
                Evidence::path(
                    p.path.clone(),
                    p.line,
                    format!("package {} {}", p.name, p.version),
                ),
            )
        })
        .or_else(|| from_files(&g.view, &mut notes));
    let required = if pol.openssl_allowed_older.is_empty() {
        format!("OpenSSL ≥ {}", pol.openssl_fail_below)
    } else {
        format!(
            "OpenSSL ≥ {} (or {})",
            pol.openssl_fail_below,
            pol.openssl_allowed_older.join(", ")
        )
    };
    let Some((v, ev)) = found else {
        let out = Outcome::fail("OpenSSL not found", required)
            .message("no openssl/libssl package and no libssl/libcrypto library")
            .evidence(Evidence::note(
                "looked in the package database and /usr/lib*, /lib*",
            ));
        return out.aside(notes);
    };
    let allowed = pol.openssl_allowed_older.iter().any(|a| {
        v == *a
            || (v.starts_with(a.as_str()) && v[a.len()..].chars().all(|c| c.is_ascii_lowercase()))
    });
    if version_cmp(&v, &pol.openssl_fail_below) == Ordering::Less && !allowed {
        let out = Outcome::fail(format!("OpenSSL {v}"), required)
            .message(format!(
                "OpenSSL {v} is older than {}",
                pol.openssl_fail_below
            ))
            .evidence(ev);
        return out.aside(notes);
    }
    Outcome::pass(format!("OpenSSL {v}"), required)
        .evidence(ev)
        .aside(notes)
}
