//! Boot lines written by the real grub-mkconfig: the Debian 12 root of `fixtures/debian12.sh`
//! with GRUB's packages installed by apt in a chroot, and grub.cfg written there by Debian's
//! `update-grub` (a grub-probe stand-in answers for the disk), for Debian's stock
//! /etc/default/grub, for the GRUB_CMDLINE_LINUX of Azure's "Prepare a Debian VHD" page, and
//! for an Ubuntu cloud image's /etc/default/grub.d/50-cloudimg-settings.cfg drop-in.
//! linux/kernel-cmdline must read the line grub-mkconfig wrote (found in the generated file
//! by `grep`), at its line, and judge it under both policies.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{check_json, debian12_or_skip, result, skip, status};

const GRUB_CFG: &str = "/boot/grub/grub.cfg";

/// The image of `variant` and the grub.cfg grub-mkconfig wrote for it (kept beside the image).
fn built(variant: &str) -> Option<(PathBuf, PathBuf)> {
    let img = debian12_or_skip(variant)?;
    let cfg = img.with_file_name(format!("debian12-{variant}.grub.cfg"));
    assert!(cfg.is_file(), "{} was not left by the build", cfg.display());
    Some((img, cfg))
}

/// The first `linux` line of grub.cfg (the default entry's: grub-mkconfig writes the default
/// entry first), as `grep -n` finds it: its number, and its words after the kernel's path.
fn grep_linux_line(cfg: &Path) -> Option<(u64, Vec<String>)> {
    let out = match Command::new("grep")
        .args(["-n", "-m", "1", "-P", r"^\s*linux\s"])
        .arg(cfg)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            skip("the grep of grub.cfg", &format!("grep cannot run: {e}"));
            return None;
        }
    };
    assert!(out.status.success(), "no linux line in {}", cfg.display());
    let text = String::from_utf8(out.stdout).unwrap();
    let (n, line) = text.trim_end().split_once(':').unwrap();
    let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    assert_eq!(words[0], "linux", "{line}");
    assert!(words[1].starts_with("/boot/vmlinuz-"), "{line}");
    Some((n.parse().unwrap(), words[2..].to_vec()))
}

/// Checks that linux/kernel-cmdline judged the line grub-mkconfig wrote, and returns its status
/// under `guide` and `current`, and its message under `guide`.
fn judged(variant: &str) -> Option<(String, String, String)> {
    let (img, cfg) = built(variant)?;
    let (line, args) = grep_linux_line(&cfg)?;
    let mut statuses = Vec::new();
    for policy in ["guide", "current"] {
        let (_, r) = check_json(
            &img,
            &["--select", "linux/kernel-cmdline", "--policy", policy],
        );
        let c = result(&r, "linux/kernel-cmdline");
        assert_eq!(c["evidence"][0]["path"], GRUB_CFG, "{variant}: {c:#}");
        assert_eq!(c["evidence"][0]["line"], line, "{variant}: {c:#}");
        let actual: Vec<&str> = c["actual"].as_str().unwrap().split_whitespace().collect();
        assert_eq!(actual, args, "{variant}: {c:#}");
        statuses.push(status(&r, "linux/kernel-cmdline").to_string());
    }
    let (_, r) = check_json(&img, &["--select", "linux/kernel-cmdline"]);
    let message = result(&r, "linux/kernel-cmdline")["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut s = statuses.into_iter();
    Some((s.next().unwrap(), s.next().unwrap(), message))
}

#[test]
fn debian_stock_line_fails_without_a_serial_console() {
    let Some((guide, current, message)) = judged("grub-debian") else {
        return;
    };
    assert_eq!((guide.as_str(), current.as_str()), ("fail", "fail"));
    assert!(message.contains("no console=ttyS0"), "{message}");
}

#[test]
fn microsoft_documented_debian_line_passes() {
    // GRUB_CMDLINE_LINUX="console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0,115200
    // rootdelay=300", as Azure's page for Debian sets it.
    let Some((guide, current, message)) = judged("grub-microsoft") else {
        return;
    };
    assert_eq!(
        (guide.as_str(), current.as_str()),
        ("pass", "pass"),
        "{message}"
    );
}

#[test]
fn ubuntu_cloudimg_drop_in_passes() {
    // /etc/default/grub.d/50-cloudimg-settings.cfg replaces GRUB_CMDLINE_LINUX_DEFAULT="quiet"
    // of /etc/default/grub: grub.cfg and the settings agree only when the drop-in is read.
    let Some((guide, current, message)) = judged("grub-cloudimg") else {
        return;
    };
    assert_eq!(
        (guide.as_str(), current.as_str()),
        ("pass", "pass"),
        "{message}"
    );
}
