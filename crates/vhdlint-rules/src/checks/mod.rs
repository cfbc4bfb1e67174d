//! The catalogue: one module per check, each with its metadata beside its logic.

use crate::check::Check;

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
pub mod linux_agent_state;
pub mod linux_architecture;
pub mod linux_defender;
pub mod linux_dhcp_leases;
pub mod linux_firewall;
pub mod linux_hostname;
pub mod linux_no_swap;
pub mod linux_resolv_conf;
pub mod linux_ssh_client_alive;
pub mod linux_ssh_host_keys;
pub mod linux_ssh_server;
pub mod partition_first_mib;
pub mod partition_no_lvm;
pub mod partition_no_swap;
pub mod partition_os_found;
pub mod partition_single_root;
pub mod partition_table;

macro_rules! catalogue {
    ($($m:ident),* $(,)?) => {
        /// Every check, in catalogue order.
        pub static CHECKS: &[Check] = &[$(Check { meta: &$m::META, run: $m::run }),*];
    };
}

catalogue!(
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
    partition_table,
    partition_first_mib,
    partition_no_swap,
    partition_no_lvm,
    partition_single_root,
    partition_os_found,
    linux_agent_config,
    linux_ssh_client_alive,
    linux_ssh_server,
    linux_no_swap,
    linux_resolv_conf,
    linux_dhcp_leases,
    linux_hostname,
    linux_ssh_host_keys,
    linux_agent_state,
    linux_firewall,
    linux_architecture,
    linux_defender,
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

    #[test]
    fn ids_unique_and_stable() {
        let ids: Vec<&str> = CHECKS.iter().map(|c| c.meta.id).collect();
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
                "partition/table",
                "partition/first-mib",
                "partition/no-swap",
                "partition/no-lvm",
                "partition/single-root",
                "partition/os-found",
                "linux/agent-config",
                "linux/ssh-client-alive",
                "linux/ssh-server",
                "linux/no-swap",
                "linux/resolv-conf",
                "linux/dhcp-leases",
                "linux/hostname",
                "linux/ssh-host-keys",
                "linux/agent-state",
                "linux/firewall",
                "linux/architecture",
                "linux/defender",
            ]
        );
    }

    #[test]
    fn every_check_is_documented() {
        for c in CHECKS {
            let m = c.meta;
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
        }
    }

    #[test]
    fn formatting() {
        assert_eq!(gib(30 << 30), "30 GiB");
        assert_eq!(bytes_mib(3 << 20), "3145728 bytes (3 MiB)");
    }
}
