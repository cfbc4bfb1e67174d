//! A SUSE-style OS disk with its root on btrfs (fixtures `linux-suse-btrfs` and
//! `linux-suse-btrfs-zstd`: GPT, an ESP, the root on btrfs written by the kernel through a loop
//! mount, uncompressed and with compress=zstd; subvolumes @ (the default), @/home, @/var,
//! @/opt, @/.snapshots; fstab mounts /home, /var, /opt and /.snapshots with subvol=/@/…) is
//! linted as the same tree on XFS (`linux-suse-clean`, the same GPT layout) is: every check's
//! verdict matches, except linux/shell-history, which finds the history the btrfs tree adds
//! under /home/azureuser, on the @/home subvolume. So does Fedora's layout
//! (`linux-btrfs-toplevel`: `root` and `home` under the top level, compress=lzo).

mod common;

use common::{check_json, result};
use serde_json::Value;

fn checks(r: &Value) -> Vec<(String, String)> {
    common::statuses(r)
}

fn suse_btrfs_is_read_as_xfs_is(name: &str, mounts_say: &[&str]) {
    let xfs = fixture_or_skip!("linux-suse-clean");
    let img = fixture_or_skip!(name);
    for policy in ["guide", "current"] {
        let (_, want) = check_json(&xfs, &["--policy", policy]);
        let (_, got) = check_json(&img, &["--policy", policy]);
        assert_eq!(got["profile"], "linux-os", "{name}: {got:#}");
        let want = checks(&want);
        let got = checks(&got);
        assert_eq!(want.len(), got.len(), "{name} {policy}");
        for ((id, w), (gid, g)) in want.iter().zip(&got) {
            assert_eq!(id, gid);
            if id == "linux/shell-history" {
                assert_eq!(w, "pass", "{name} {policy}");
                assert!(
                    g == "warning" || g == "fail",
                    "{name} {policy}: shell history {g}"
                );
            } else {
                assert_eq!(w, g, "{name} {policy}: {id} differs from the XFS image's");
            }
            assert_ne!(g, "error", "{name} {policy}: {id}");
        }
    }
    let (_, r) = check_json(&img, &[]);
    // The history is the one on the @/home subvolume, reached through fstab's subvol=/@/home.
    let h = result(&r, "linux/shell-history").to_string();
    assert!(h.contains("/home/azureuser/.bash_history"), "{h}");
    // Each mount names the subvolume it shows.
    let mounts = r["facts"]["linux"]["mounts"].to_string();
    for m in mounts_say {
        assert!(mounts.contains(m), "{m}: {mounts}");
    }
    let os = result(&r, "partition/os-found");
    assert_eq!(os["status"], "pass", "{os:#}");
}

/// SUSE's layout: the root is the default subvolume @; /home, /var, /opt and /.snapshots are
/// their own subvolumes under it, mounted by fstab's subvol=/@/….
const SUSE_MOUNTS: &[&str] = &[
    "subvol=/@/home",
    "subvol=/@/var",
    "subvol=/@/opt",
    "subvol=/@/.snapshots",
];

#[test]
fn suse_btrfs_root_uncompressed() {
    suse_btrfs_is_read_as_xfs_is("linux-suse-btrfs", SUSE_MOUNTS);
}

#[test]
fn suse_btrfs_root_zstd() {
    suse_btrfs_is_read_as_xfs_is("linux-suse-btrfs-zstd", SUSE_MOUNTS);
}

/// Fedora's layout (compress=lzo): `root` and `home` directly under the top level, which is
/// still the default subvolume; the root is found in `root`, and /home is mounted by
/// subvol=home.
#[test]
fn btrfs_root_in_a_top_level_subvolume() {
    suse_btrfs_is_read_as_xfs_is(
        "linux-btrfs-toplevel",
        &[
            "root filesystem (btrfs subvolume /root: the default subvolume holds no root)",
            "subvol=home",
        ],
    );
}
