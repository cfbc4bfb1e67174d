//! Bounds of the guest readers reached on a guest held in memory: each must be visible in the
//! result of the check that consumes what was cut (an evidence note naming the bound, and a
//! message saying the result may be wrong rather than a clean pass).

use vhdlint_guest::limits::{
    MAX_DPKG_STATUS_BYTES, MAX_GLOB_PATHS, MAX_KEYVALUE_CONTINUATION, MAX_SUDOERS_FILES,
    MAX_SUDOERS_INCLUDE_DEPTH, MAX_YAML_DEPTH,
};

use crate::check::Status;
use crate::testing::{run_linux, said, MemFs, Node};

/// `KEY="value` with the quote never closed, followed by `lines` comment lines.
fn open_quote(key: &str, lines: usize) -> String {
    format!("{key}=\"never closed\n{}", "# more\n".repeat(lines))
}

/// A flow sequence nested `depth` levels.
fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// A guest whose boot entry has the whole required command line.
fn bootable() -> MemFs {
    let mut fs = MemFs::new();
    fs.file(
        "/boot/grub/grub.cfg",
        "set default=0\nmenuentry 'Linux' {\n  linux /boot/vmlinuz-6.1.0 root=/dev/sda1 console=ttyS0 earlyprintk=ttyS0 rootdelay=300\n}\n",
    );
    fs
}

#[test]
fn kernel_cmdline_passes_with_a_clean_default_grub() {
    let mut fs = bootable();
    fs.file(
        "/etc/default/grub",
        "GRUB_CMDLINE_LINUX=\"console=ttyS0 earlyprintk=ttyS0 rootdelay=300\"\n",
    );
    let o = run_linux(fs, super::linux_kernel_cmdline::run);
    assert_eq!(o.status, Status::Pass, "{}", said(&o));
}

#[test]
fn kernel_cmdline_names_a_quote_left_open_in_default_grub() {
    // Keyvalue warnings of /etc/default/grub, through Kernel.notes.
    let mut fs = bootable();
    fs.file(
        "/etc/default/grub",
        format!(
            "GRUB_CMDLINE_LINUX=\"console=ttyS0 earlyprintk=ttyS0 rootdelay=300\"\n{}",
            open_quote("GRUB_TIMEOUT_STYLE", MAX_KEYVALUE_CONTINUATION + 5)
        ),
    );
    let o = run_linux(fs, super::linux_kernel_cmdline::run);
    let s = said(&o);
    assert_eq!(o.status, Status::Warning, "{s}");
    assert!(o.message.contains("this result may be wrong"), "{s}");
    let limit = format!("after {MAX_KEYVALUE_CONTINUATION} lines, the limit");
    assert!(
        o.evidence.iter().any(|e| e.text.contains(&limit)
            && e.path.as_deref() == Some("/etc/default/grub")
            && e.line == Some(2)),
        "{s}"
    );
}

#[test]
fn network_names_an_ifcfg_quote_left_open() {
    // Keyvalue warnings of an ifcfg file, through Network.notes.
    let mut fs = MemFs::new();
    fs.file(
        "/etc/sysconfig/network-scripts/ifcfg-eth0",
        format!(
            "DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=yes\n{}",
            open_quote("HWADDR", MAX_KEYVALUE_CONTINUATION + 1)
        ),
    );
    let o = run_linux(fs, super::linux_network::run);
    let s = said(&o);
    assert_eq!(o.status, Status::Warning, "{s}");
    assert!(s.contains("eth0 on DHCP (ifcfg)"), "{s}");
    assert!(
        s.contains("/etc/sysconfig/network-scripts/ifcfg-eth0:4 the value of HWADDR is still open"),
        "{s}"
    );
    assert!(o.message.contains("this result may be wrong"), "{s}");
}

#[test]
fn network_and_ipv6_name_netplan_yaml_nested_too_deep() {
    // Netplan.warnings, through Network.notes.
    let plan = format!(
        "network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n  x: {}\n",
        nested(MAX_YAML_DEPTH + 10)
    );
    let make = || {
        let mut fs = MemFs::new();
        fs.file("/etc/netplan/50-cloud-init.yaml", &plan);
        fs
    };
    let limit = format!("nested deeper than {MAX_YAML_DEPTH} levels, the limit");
    let o = run_linux(make(), super::linux_network::run);
    let s = said(&o);
    assert_eq!(o.status, Status::Warning, "{s}");
    assert!(s.contains("eth0 on DHCP (netplan)"), "{s}");
    assert!(
        s.contains(&format!(
            "/etc/netplan/50-cloud-init.yaml:6 line 6: {limit}"
        )),
        "{s}"
    );
    let o = run_linux(make(), super::linux_ipv6::run);
    let s = said(&o);
    assert_eq!(o.status, Status::Warning, "{s}");
    assert!(s.contains(&limit), "{s}");

    // The same file within the bound passes.
    let mut fs = MemFs::new();
    fs.file(
        "/etc/netplan/50-cloud-init.yaml",
        plan.replace(&nested(MAX_YAML_DEPTH + 10), &nested(10)),
    );
    let o = run_linux(fs, super::linux_network::run);
    assert_eq!(o.status, Status::Pass, "{}", said(&o));
}

#[test]
fn network_names_cloud_init_yaml_nested_too_deep() {
    // cloud-init's configuration, now read with yaml::parse_with_warnings.
    let mut fs = MemFs::new();
    fs.file("/usr/bin/cloud-init", "")
        .file(
            "/etc/cloud/cloud.cfg",
            format!("users: [default]\ndeep: {}\n", nested(MAX_YAML_DEPTH + 10)),
        )
        .dir("/etc/cloud/cloud.cfg.d");
    let o = run_linux(fs, super::linux_network::run);
    let s = said(&o);
    assert_eq!(o.status, Status::Warning, "{s}");
    assert!(s.contains("cloud-init networking (DHCP)"), "{s}");
    assert!(
        s.contains(&format!(
            "/etc/cloud/cloud.cfg:2 line 2: nested deeper than {MAX_YAML_DEPTH} levels, the limit"
        )),
        "{s}"
    );
}

#[test]
fn python_says_the_dpkg_status_over_its_bound_was_not_read() {
    // Packages.notes: the interpreter is still found as a file, and the pass says what was
    // not read.
    let mut fs = MemFs::new();
    fs.repeat("/var/lib/dpkg/status", b'#', MAX_DPKG_STATUS_BYTES + 1)
        .file("/usr/bin/python3.11", "")
        .dir("/usr/lib/python3/dist-packages/pyasn1");
    let o = run_linux(fs, super::linux_python::run);
    let s = said(&o);
    assert_eq!(o.status, Status::Pass, "{s}");
    assert_eq!(o.actual, "Python 3.11");
    let note = format!(
        "/var/lib/dpkg/status is larger than {MAX_DPKG_STATUS_BYTES} bytes, the limit: not read"
    );
    assert!(o.message.contains(&note), "{s}");
    assert!(o.evidence.iter().any(|e| e.text.contains(&note)), "{s}");
}

#[test]
fn python_says_a_glob_cut_by_its_bound() {
    // `/usr/lib/python3*/site-packages/pyasn1` over more python3* directories than the glob
    // gathers: the walk is cut and the result says so.
    let mut fs = MemFs::new();
    fs.file("/usr/bin/python3.11", "");
    for i in 0..MAX_GLOB_PATHS + 2 {
        fs.dir(&format!("/usr/lib/python3x{i:05}/site-packages"));
    }
    let o = run_linux(fs, super::linux_python::run);
    let s = said(&o);
    assert_eq!(o.status, Status::Warning, "{s}");
    let limit = format!(
        "/usr/lib/python3*/site-packages/pyasn1: the glob gathers more than {MAX_GLOB_PATHS} paths, the limit"
    );
    assert!(o.message.contains(&limit), "{s}");
    assert!(o.evidence.iter().any(|e| e.text.contains(&limit)), "{s}");
}

#[test]
fn sudoers_includes_that_fan_out_are_bounded_and_named() {
    // Ten files that each include the directory again: 10^9 files without the bounds.
    let mut fs = MemFs::new();
    fs.file(
        "/etc/sudoers",
        "root ALL=(ALL) ALL\n@includedir /etc/sudoers.d\n",
    );
    for i in 0..10 {
        fs.file(
            &format!("/etc/sudoers.d/f{i}"),
            "@includedir /etc/sudoers.d\n",
        );
    }
    let start = std::time::Instant::now();
    let o = run_linux(fs, super::linux_sudoers::run);
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    let s = said(&o);
    assert_eq!(o.status, Status::Warning, "{s}");
    assert!(
        s.contains(&format!(
            "more than {MAX_SUDOERS_FILES} sudoers files through includes, the limit"
        )),
        "{s}"
    );

    // A file that includes itself stops at the depth bound.
    let mut fs = MemFs::new();
    fs.file("/etc/sudoers", "#include /etc/sudoers\n");
    let o = run_linux(fs, super::linux_sudoers::run);
    let s = said(&o);
    assert_eq!(o.status, Status::Warning, "{s}");
    assert!(
        s.contains(&format!(
            "included more than {MAX_SUDOERS_INCLUDE_DEPTH} levels deep, the limit"
        )),
        "{s}"
    );
}

/// A newc cpio archive of regular files (mode 0644) and its trailer.
fn newc(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut push = |name: &str, mode: u32, data: &[u8], ino: usize| {
        out.extend_from_slice(
            format!(
                "070701{ino:08x}{mode:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
                0,
                0,
                1,
                0,
                data.len(),
                0,
                0,
                0,
                0,
                name.len() + 1,
                0
            )
            .as_bytes(),
        );
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    };
    for (i, (name, data)) in files.iter().enumerate() {
        push(name, 0o100644, data, i + 1);
    }
    push("TRAILER!!!", 0, &[], 0);
    out
}

#[test]
fn hyperv_drivers_shows_initramfs_members_not_kept() {
    // Initramfs::not_kept(): a modules.dep over the kept bound is listed without its
    // contents; the drivers are judged from the member names, and the note is shown. It comes
    // before the drivers: listing stops at the last driver.
    use vhdlint_guest::limits::MAX_INITRAMFS_KEPT_MEMBER;
    let m = "lib/modules/6.1.0";
    let big_dep = vec![b'#'; MAX_INITRAMFS_KEPT_MEMBER as usize + 1];
    let initrd = newc(&[
        (&format!("{m}/modules.dep"), &big_dep),
        (&format!("{m}/kernel/drivers/hv/hv_vmbus.ko"), b"x"),
        (&format!("{m}/kernel/drivers/scsi/hv_storvsc.ko"), b"x"),
        (&format!("{m}/kernel/drivers/net/hyperv/hv_netvsc.ko"), b"x"),
    ]);
    let mut fs = MemFs::new();
    fs.file(
        "/lib/modules/6.1.0/modules.dep",
        "kernel/drivers/hv/hv_vmbus.ko:\nkernel/drivers/scsi/hv_storvsc.ko: kernel/drivers/hv/hv_vmbus.ko\nkernel/drivers/net/hyperv/hv_netvsc.ko: kernel/drivers/hv/hv_vmbus.ko\n",
    )
    .add("/boot/initrd.img-6.1.0", Node::File(initrd));
    let o = run_linux(fs, super::linux_hyperv_drivers::run);
    let s = said(&o);
    assert_eq!(o.status, Status::Pass, "{s}");
    assert!(
        o.evidence.iter().any(|e| e.path.as_deref() == Some("/boot/initrd.img-6.1.0")
            && e.text.contains(&format!(
                "{m}/modules.dep ({} bytes): contents not kept, over the limit of {MAX_INITRAMFS_KEPT_MEMBER} bytes for one member",
                MAX_INITRAMFS_KEPT_MEMBER + 1
            ))),
        "{s}"
    );
}

#[test]
fn ssh_client_alive_names_includes_past_the_depth_bound() {
    use vhdlint_guest::limits::MAX_SSHD_INCLUDE_DEPTH;
    let mut fs = MemFs::new();
    fs.file("/usr/sbin/sshd", "").file(
        "/etc/ssh/sshd_config",
        "ClientAliveInterval 180\nInclude /etc/ssh/c0\n",
    );
    for i in 0..=MAX_SSHD_INCLUDE_DEPTH {
        fs.file(
            &format!("/etc/ssh/c{i}"),
            format!("Include /etc/ssh/c{}\n", i + 1),
        );
    }
    let o = run_linux(fs, super::linux_ssh_client_alive::run);
    let s = said(&o);
    assert_eq!(o.status, Status::Warning, "{s}");
    assert_eq!(o.actual, "180 seconds");
    assert!(o.message.contains("this result may be wrong"), "{s}");
    assert!(
        s.contains(&format!("more than {MAX_SSHD_INCLUDE_DEPTH} levels")),
        "{s}"
    );
}

/// The check itself only passes its notes on: the warning is the runner's. Breaking the bound
/// (an include chain one level deeper than sshd follows) gives a pass with a typed bound note
/// from the check, which the runner turns into a warning naming the bound.
#[test]
fn the_warning_for_a_bound_comes_from_the_runner() {
    use vhdlint_guest::limits::MAX_SSHD_INCLUDE_DEPTH;
    let mut fs = MemFs::new();
    fs.file("/usr/sbin/sshd", "").file(
        "/etc/ssh/sshd_config",
        "ClientAliveInterval 180\nInclude /etc/ssh/c0\n",
    );
    for i in 0..=MAX_SSHD_INCLUDE_DEPTH {
        fs.file(
            &format!("/etc/ssh/c{i}"),
            format!("Include /etc/ssh/c{}\n", i + 1),
        );
    }
    let raw = crate::testing::run_linux_raw(
        fs.clone(),
        &crate::Policy::guide(),
        super::linux_ssh_client_alive::run,
    );
    assert_eq!(raw.status, Status::Pass, "{}", said(&raw));
    assert!(
        raw.notes.iter().any(|n| n.kind
            == crate::check::NoteKind::Bound {
                limit: "MAX_SSHD_INCLUDE_DEPTH"
            }),
        "{:?}",
        raw.notes
    );
    let o = run_linux(fs, super::linux_ssh_client_alive::run);
    assert_eq!(o.status, Status::Warning, "{}", said(&o));
    assert!(o.message.contains("MAX_SSHD_INCLUDE_DEPTH"), "{}", said(&o));
    assert_eq!(o.remedy.as_deref(), Some(crate::runner::BOUND_REMEDY));
}

/// A directory that cannot be read (corrupt on disk) is not a clean pass: the check that
/// needed it answers `error`, and says which directory.
#[test]
fn a_directory_that_cannot_be_read_is_an_error_not_a_pass() {
    use vhdlint_guest::fs::FsError;
    let mut fs = MemFs::new();
    fs.broken_dir(
        "/var/lib/waagent",
        FsError::Corrupt("/var/lib/waagent: bad extent tree".into()),
    );
    let o =
        crate::testing::run_linux_with(fs, &crate::Policy::current(), super::linux_defender::run);
    assert_eq!(o.status, Status::Error, "{}", said(&o));
    assert!(said(&o).contains("bad extent tree"), "{}", said(&o));
    assert!(
        o.evidence
            .iter()
            .any(|e| e.path.as_deref() == Some("/var/lib/waagent")),
        "{}",
        said(&o)
    );
    assert_eq!(o.remedy.as_deref(), Some(crate::runner::UNREADABLE_REMEDY));
}
