//! The catalogue: one module per check, each with its metadata beside its logic.

use crate::check::{Check, CheckMeta};
use crate::publish::PublishCheck;

#[cfg(test)]
mod bounds_tests;

// One module per check, its file `checks/ID.rs` (ID with `/` and `-` as `_`). They are declared
// here, outside the `catalogue!` list, so that rustfmt, cargo-mutants and the other tools that
// follow `mod` items see them; a test checks that the two lists name the same files.
pub mod disk_boot_mode;
pub mod disk_data_size;
pub mod disk_dynamic_structure;
pub mod disk_file_length;
pub mod disk_fixed;
pub mod disk_footer;
pub mod disk_footer_checksum;
pub mod disk_format;
pub mod disk_geometry;
pub mod disk_min_size;
pub mod disk_os_size;
pub mod disk_size_alignment;
pub mod disk_sparse;
pub mod linux_agent_config;
pub mod linux_agent_installed;
pub mod linux_agent_state;
pub mod linux_architecture;
pub mod linux_default_accounts;
pub mod linux_defender;
pub mod linux_dhcp_leases;
pub mod linux_firewall;
pub mod linux_hostname;
pub mod linux_hyperv_drivers;
pub mod linux_ipv6;
pub mod linux_kernel_cmdline;
pub mod linux_kernel_config;
pub mod linux_network;
pub mod linux_network_manager;
pub mod linux_no_swap;
pub mod linux_nvme;
pub mod linux_omi;
pub mod linux_openssl;
pub mod linux_provisioning_deps;
pub mod linux_python;
pub mod linux_resolv_conf;
pub mod linux_root_device;
pub mod linux_root_password;
pub mod linux_secure_boot;
pub mod linux_shell_history;
pub mod linux_ssh_client_alive;
pub mod linux_ssh_host_keys;
pub mod linux_ssh_server;
pub mod linux_sudoers;
pub mod partition_first_mib;
pub mod partition_no_lvm;
pub mod partition_no_swap;
pub mod partition_os_found;
pub mod partition_single_root;
pub mod partition_table;
pub mod publish_data_disks;
pub mod publish_sas_uri;
pub mod publish_sku_id;
pub mod publish_version;
pub mod windows_architecture;
pub mod windows_credentials;
pub mod windows_drives;
pub mod windows_dvd_rom;
pub mod windows_generalized;
pub mod windows_guest_agent;
pub mod windows_ntfs;
pub mod windows_patch_level;
pub mod windows_pending_reboot;
pub mod windows_rdp;
pub mod windows_roles;
pub mod windows_sql_server;
pub mod windows_unattend;
pub mod windows_version;

/// The catalogue: each check's module, in catalogue order, becomes an entry of [`CHECKS`] (or
/// [`PUBLISH_CHECKS`]). `scripts/new-check ID` adds a check to both lists.
macro_rules! catalogue {
    (image: $($m:ident),* $(,)?; publish: $($p:ident),* $(,)?;) => {
        /// The checks of an image's bytes, in catalogue order.
        pub static CHECKS: &[Check] = &[$(Check { meta: &$m::META, run: $m::run, fix: $m::FIX }),*];
        /// The checks of what is submitted with the disks (SAS URIs, the SKU manifest), in
        /// catalogue order.
        pub static PUBLISH_CHECKS: &[PublishCheck] =
            &[$(PublishCheck { meta: &$p::META, run: $p::run }),*];
        /// Every check's metadata, in catalogue order: the image checks, then the publishing
        /// checks.
        pub static CATALOGUE: &[&CheckMeta] = &[$(&$m::META,)* $(&$p::META),*];
    };
}

catalogue!(
    image:
    disk_format,
    disk_footer,
    disk_footer_checksum,
    disk_fixed,
    disk_file_length,
    disk_size_alignment,
    disk_geometry,
    disk_dynamic_structure,
    disk_os_size,
    disk_data_size,
    disk_min_size,
    disk_sparse,
    disk_boot_mode,
    partition_table,
    partition_first_mib,
    partition_no_swap,
    partition_no_lvm,
    partition_single_root,
    partition_os_found,
    linux_agent_installed,
    linux_agent_config,
    linux_kernel_cmdline,
    linux_ssh_client_alive,
    linux_ssh_server,
    linux_no_swap,
    linux_shell_history,
    linux_resolv_conf,
    linux_dhcp_leases,
    linux_hostname,
    linux_ssh_host_keys,
    linux_root_password,
    linux_default_accounts,
    linux_agent_state,
    linux_network,
    linux_network_manager,
    linux_ipv6,
    linux_firewall,
    linux_hyperv_drivers,
    linux_python,
    linux_openssl,
    linux_architecture,
    linux_sudoers,
    linux_defender,
    linux_root_device,
    linux_secure_boot,
    linux_nvme,
    linux_provisioning_deps,
    linux_omi,
    linux_kernel_config,
    windows_ntfs,
    windows_generalized,
    windows_version,
    windows_architecture,
    windows_rdp,
    windows_unattend,
    windows_drives,
    windows_patch_level,
    windows_roles,
    windows_dvd_rom,
    windows_credentials,
    windows_guest_agent,
    windows_pending_reboot,
    windows_sql_server;
    publish:
    publish_sas_uri,
    publish_version,
    publish_sku_id,
    publish_data_disks;
);

/// The conversion every fix of the container ends with.
pub(crate) fn convert_command(from: &str) -> String {
    format!("qemu-img convert -f {from} -O vpc -o subformat=fixed,force_size IN OUT.vhd")
}

/// `bytes` in GiB with up to three decimals.
pub(crate) fn gib(bytes: u64) -> String {
    let g = bytes as f64 / (1u64 << 30) as f64;
    let s = format!("{g:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s} GiB")
}

/// `bytes` as "N bytes (X MiB)".
pub(crate) fn bytes_mib(bytes: u64) -> String {
    let m = bytes as f64 / (1u64 << 20) as f64;
    if bytes % (1 << 20) == 0 {
        format!("{bytes} bytes ({} MiB)", bytes >> 20)
    } else {
        format!("{bytes} bytes ({m:.4} MiB)")
    }
}

/// Orders two versions read from `database`: with dpkg's rules
/// ([`vhdlint_guest::version::dpkg_cmp`]) for the dpkg database, with rpm's `rpmvercmp`
/// ([`vhdlint_guest::version::rpm_cmp`]) for the rpm database and for versions read from a file
/// or a directory name (`None`); a threshold is ordered as the version it is compared with.
/// Trailing `.0` components do not count (`3.0` = `3.0.0`), as policies write thresholds either
/// way.
pub(crate) fn version_cmp(database: Option<&str>, a: &str, b: &str) -> std::cmp::Ordering {
    fn without_trailing_zeros(v: &str) -> &str {
        let mut v = v;
        while let Some((head, last)) = v.rsplit_once('.') {
            if head.is_empty() || last.is_empty() || !last.bytes().all(|c| c == b'0') {
                break;
            }
            v = head;
        }
        v
    }
    let (a, b) = (without_trailing_zeros(a), without_trailing_zeros(b));
    match database {
        Some("dpkg") => vhdlint_guest::version::dpkg_cmp(a, b),
        _ => vhdlint_guest::version::rpm_cmp(a, b),
    }
}

/// The upstream part of a Debian or rpm package version: no epoch, no revision.
pub(crate) fn upstream_version(v: &str) -> &str {
    let v = v.split_once(':').map_or(v, |(_, r)| r);
    v.rsplit_once('-').map_or(v, |(u, _)| u)
}

/// Turns parser findings into evidence, and the worst of them into a status.
pub(crate) fn findings_outcome(
    findings: &[&vhdlint_disk::Finding],
    pass_actual: String,
    required: &str,
) -> crate::check::Outcome {
    use crate::check::{Evidence, Outcome};
    use vhdlint_disk::Severity;
    let worst = findings.iter().map(|f| f.severity).max();
    let evidence = findings.iter().map(|f| match f.offset {
        Some(o) => Evidence::offset(o, &f.message),
        None => Evidence::note(&f.message),
    });
    let problems: Vec<&str> = findings
        .iter()
        .filter(|f| f.severity > Severity::Note)
        .map(|f| f.message.as_str())
        .collect();
    let out = match worst {
        Some(Severity::Fail) => Outcome::fail(format!("{} defect(s)", problems.len()), required),
        Some(Severity::Warning) => {
            Outcome::warning(format!("{} problem(s)", problems.len()), required)
        }
        _ => return Outcome::pass(pass_actual, required).evidences(evidence),
    };
    out.message(problems.join("; ")).evidences(evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every windows/ check says `error` when no Windows system volume was found: it could
    /// not look, which is never a pass. windows/ntfs judges the volume itself: it fails.
    #[test]
    fn every_windows_check_errors_without_a_system_volume() {
        use vhdlint_guest::windows::WindowsInspection;
        let windows: Vec<&Check> = CHECKS
            .iter()
            .filter(|c| c.meta.id.starts_with("windows/"))
            .collect();
        assert!(windows.len() >= 14, "{} windows/ checks", windows.len());
        for c in windows {
            let none = WindowsInspection {
                candidates: Vec::new(),
                guest: None,
            };
            let o = crate::testing::run_windows_inspection(Ok(none), c.run);
            if c.meta.id == "windows/ntfs" {
                assert_eq!(o.status, crate::check::Status::Fail);
                continue;
            }
            assert_eq!(
                o.status,
                crate::check::Status::Error,
                "{}: {}",
                c.meta.id,
                crate::testing::said(&o)
            );
        }
    }

    #[test]
    fn ids_unique_and_stable() {
        let ids: Vec<&str> = CATALOGUE.iter().map(|m| m.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "duplicate check ID");
        // Check IDs are a public interface: this list changes only by adding.
        assert_eq!(
            ids,
            [
                "disk/format",
                "disk/footer",
                "disk/footer-checksum",
                "disk/fixed",
                "disk/file-length",
                "disk/size-alignment",
                "disk/geometry",
                "disk/dynamic-structure",
                "disk/os-size",
                "disk/data-size",
                "disk/min-size",
                "disk/sparse",
                "disk/boot-mode",
                "partition/table",
                "partition/first-mib",
                "partition/no-swap",
                "partition/no-lvm",
                "partition/single-root",
                "partition/os-found",
                "linux/agent-installed",
                "linux/agent-config",
                "linux/kernel-cmdline",
                "linux/ssh-client-alive",
                "linux/ssh-server",
                "linux/no-swap",
                "linux/shell-history",
                "linux/resolv-conf",
                "linux/dhcp-leases",
                "linux/hostname",
                "linux/ssh-host-keys",
                "linux/root-password",
                "linux/default-accounts",
                "linux/agent-state",
                "linux/network",
                "linux/network-manager",
                "linux/ipv6",
                "linux/firewall",
                "linux/hyperv-drivers",
                "linux/python",
                "linux/openssl",
                "linux/architecture",
                "linux/sudoers",
                "linux/defender",
                "linux/root-device",
                "linux/secure-boot",
                "linux/nvme",
                "linux/provisioning-deps",
                "linux/omi",
                "linux/kernel-config",
                "windows/ntfs",
                "windows/generalized",
                "windows/version",
                "windows/architecture",
                "windows/rdp",
                "windows/unattend",
                "windows/drives",
                "windows/patch-level",
                "windows/roles",
                "windows/dvd-rom",
                "windows/credentials",
                "windows/guest-agent",
                "windows/pending-reboot",
                "windows/sql-server",
                "publish/sas-uri",
                "publish/version",
                "publish/sku-id",
                "publish/data-disks",
            ]
        );
    }

    /// Every file of `checks/` is a check of the catalogue, and every check has its file.
    #[test]
    fn every_check_file_is_in_the_catalogue() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/checks");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|n| n.strip_suffix(".rs").map(str::to_string))
            .filter(|n| n != "mod" && n != "bounds_tests")
            .collect();
        files.sort();
        let mut modules: Vec<String> = CATALOGUE
            .iter()
            .map(|m| m.id.replace(['/', '-'], "_"))
            .collect();
        modules.sort();
        assert_eq!(files, modules);
    }

    /// The README's table of checks lists the catalogue, in its order (scripts/new-check adds
    /// the row of a new check).
    #[test]
    fn the_readme_lists_every_check() {
        let readme = include_str!("../../../../README.md");
        let listed: Vec<&str> = readme
            .lines()
            .filter_map(|l| l.strip_prefix("| "))
            .filter_map(|l| l.split(" |").next())
            .filter(|id| {
                ["disk/", "partition/", "linux/", "windows/", "publish/"]
                    .iter()
                    .any(|p| id.starts_with(p))
                    && !id.contains(' ')
            })
            .collect();
        let ids: Vec<&str> = CATALOGUE.iter().map(|m| m.id).collect();
        assert_eq!(listed, ids, "README.md's table of checks");
    }

    #[test]
    fn every_check_is_documented() {
        for &m in CATALOGUE {
            assert!(
                !m.title.is_empty() && !m.what.is_empty() && !m.why.is_empty(),
                "{}",
                m.id
            );
            assert!(
                !m.remedy.is_empty() && !m.sources.is_empty() && !m.profiles.is_empty(),
                "{}",
                m.id
            );
            assert!(
                !m.policies.is_empty() && m.policies.iter().all(|p| crate::policy::ALL.contains(p)),
                "{}",
                m.id
            );
        }
    }

    #[test]
    fn versions() {
        use std::cmp::Ordering::*;
        assert_eq!(version_cmp(None, "2.10", "2.9"), Greater);
        assert_eq!(version_cmp(None, "2.2.53.1", "2.2.53"), Greater);
        assert_eq!(version_cmp(None, "1.1.1w", "1.1.1"), Greater);
        assert_eq!(version_cmp(None, "3.0.0", "3.0"), Equal);
        assert_eq!(upstream_version("1:2.7.3.0-4.1"), "2.7.3.0");
        assert_eq!(upstream_version("3.0.11"), "3.0.11");
    }

    #[test]
    fn formatting() {
        assert_eq!(gib(30 << 30), "30 GiB");
        assert_eq!(bytes_mib(3 << 20), "3145728 bytes (3 MiB)");
    }

    #[test]
    fn the_conversion_command_names_the_source_format() {
        assert_eq!(
            convert_command("vhdx"),
            "qemu-img convert -f vhdx -O vpc -o subformat=fixed,force_size IN OUT.vhd"
        );
    }

    #[test]
    fn versions_drop_only_trailing_zero_components() {
        use std::cmp::Ordering::*;
        assert_eq!(version_cmp(None, "3.0.0", "3"), Equal);
        assert_eq!(version_cmp(None, "3.0", "3.0.0"), Equal);
        assert_eq!(version_cmp(None, "3.1", "3"), Greater);
        assert_eq!(version_cmp(None, "3.10", "3.1"), Greater);
        assert_eq!(version_cmp(Some("dpkg"), "2.0", "2.0.1"), Less);
        // The first component is never dropped, even when it is empty or zeros.
        assert_eq!(version_cmp(None, ".0", ""), Greater);
        assert_eq!(version_cmp(None, "0.0", "0"), Equal);
    }

    #[test]
    fn the_dpkg_database_orders_as_dpkg_and_the_others_as_rpm() {
        use std::cmp::Ordering::*;
        // dpkg sorts a letter before a separator; rpm skips separators.
        assert_eq!(version_cmp(Some("dpkg"), "1a", "1.a"), Less);
        assert_eq!(version_cmp(Some("rpm"), "1a", "1.a"), Equal);
        assert_eq!(version_cmp(None, "1a", "1.a"), Equal);
    }

    #[test]
    fn findings_count_only_problems_above_a_note() {
        use vhdlint_disk::{Finding, Severity};
        let f = |severity, message: &str| Finding {
            severity,
            offset: None,
            message: message.into(),
        };
        let (warn, note) = (f(Severity::Warning, "odd"), f(Severity::Note, "fyi"));
        let o = findings_outcome(&[&warn, &note], "fine".into(), "sound");
        assert_eq!(o.status, crate::check::Status::Warning);
        assert_eq!(
            (o.actual.as_str(), o.message.as_str()),
            ("1 problem(s)", "odd")
        );
        let o = findings_outcome(&[&note], "fine".into(), "sound");
        assert_eq!(
            (o.status, o.actual.as_str()),
            (crate::check::Status::Pass, "fine")
        );
    }
}
