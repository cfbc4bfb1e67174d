//! Bounds of the guest view, named in one place. Reaching one is reported (an error, a
//! [`FsError::Limit`](crate::fs::FsError::Limit), a warning or a note that names the bound and
//! its value), never followed and never silently cut short.
//!
//! The bounds of the filesystem readers are those of `vhdlint_fs::limits`, re-exported here:
//! every bound of the guest can be named from this module.

pub use vhdlint_fs::limits::*;

// ---- Paths, directories and files (the guest view)

/// Symlinks followed while resolving one path (as Linux: 40).
pub const MAX_SYMLINK_HOPS: usize = 40;
/// Directory levels walked while resolving one path. The filesystems look each component up
/// from their root, so a path of n components costs n²/2 lookups: without this bound a deep
/// tree with a chain of absolute symlinks through it (1000 levels, 40 hops) costs tens of
/// millions of lookups. 8192 is a canonical path 127 components deep, or 40 hops to paths
/// 13 deep.
pub const MAX_RESOLVE_STEPS: usize = 8192;
/// Paths one glob pattern may gather between two of its components (`/etc/*/*.conf`): a
/// pattern from the image (ifupdown `source`) cannot make the walk exponential.
pub const MAX_GLOB_PATHS: usize = 10_000;
/// Bytes read from one configuration file (the largest real ones are a few hundred KiB).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// Bytes of files read whole that one guest view keeps (several checks read the same
/// configuration files, `modules.dep`); when full it starts again empty. A larger file is
/// not kept.
pub const MAX_CACHED_FILE_BYTES: usize = 8 << 20;
/// Bytes read from `/var/lib/dpkg/status` (a full Debian desktop's is about 10 MiB).
pub const MAX_DPKG_STATUS_BYTES: u64 = 64 << 20;
/// Bytes read from rpm's database (`rpmdb.sqlite`, `Packages.db` or `Packages`; a large RHEL
/// server's is about 100 MiB).
pub const MAX_RPMDB_BYTES: u64 = 1 << 30;
/// Bytes of one rpm header gathered from a Berkeley DB overflow chain or an ndb blob (the
/// largest real headers, of packages with tens of thousands of files, are a few MiB).
pub const MAX_RPM_HEADER_BYTES: usize = 64 << 20;
/// Directory entries visited while looking for shell history files under the home
/// directories (a home of a few build tools' caches holds some thousand); past it the homes
/// not yet walked are reported as not looked at.
pub const MAX_HISTORY_WALK_ENTRIES: usize = 20_000;
/// Files read while following ifupdown `source`/`source-directory` from
/// `/etc/network/interfaces` (real images use one or two).
pub const MAX_IFUPDOWN_FILES: usize = 64;
/// Subvolumes directly under a btrfs top level tried as the root when the default subvolume
/// holds none (Fedora's `root`, SUSE's `@`): real layouts have a handful.
pub const MAX_BTRFS_ROOT_CANDIDATES: usize = 16;

// ---- Configuration file parsers

/// modprobe.d files read in all, over kmod's five directories (real images have a few dozen).
pub const MAX_MODPROBE_FILES: usize = 1024;

/// `@include`/`@includedir` depth followed from `/etc/sudoers` (real images use one level:
/// `@includedir /etc/sudoers.d`).
pub const MAX_SUDOERS_INCLUDE_DEPTH: usize = 8;
/// sudoers files read in all through includes (a guard against includes that fan out, e.g. a
/// directory whose every file includes the directory again).
pub const MAX_SUDOERS_FILES: usize = 4096;

/// Lines a quoted shell value may run over before it is taken as never closed (the
/// longest real multi-line values, in `/etc/default/grub`, take a handful).
pub const MAX_KEYVALUE_CONTINUATION: usize = 64;
/// Bytes that `$VAR` expansion and `+=` may add to the values of one shell-style file (real
/// files add a few KiB: GRUB_CMDLINE_LINUX pieces); past it, references are kept as written.
/// Without it, a value that refers to itself twice doubles with each line.
pub const MAX_KEYVALUE_EXPANSION_BYTES: usize = 1 << 20;
/// Bytes of variable values that one grub.cfg or BLS line may expand to (`$kernelopts`,
/// `${saved_entry}`: real lines expand a few hundred); past it, references are left as written.
pub const MAX_GRUB_EXPANSION_BYTES: usize = 1 << 20;
/// Nesting of YAML block and flow collections (netplan and cloud-init nest under 10 deep);
/// deeper nodes are read as null.
pub const MAX_YAML_DEPTH: usize = 200;
/// Nodes that YAML anchors and aliases copy, in all, in one file (a real configuration has a
/// few anchors, if any; a "billion laughs" file would copy without end): past it, aliases are
/// read as null.
pub const MAX_YAML_ALIAS_NODES: usize = 100_000;
/// Text (scalars and keys) that YAML anchors and aliases copy, in all, in one file: a small
/// file can alias a long scalar many times over. Past it, aliases are read as null.
pub const MAX_YAML_ALIAS_BYTES: usize = 4 << 20;
/// `Include` depth of sshd_config (sshd's own `SERVCONF_MAX_DEPTH`: 16).
pub const MAX_SSHD_INCLUDE_DEPTH: usize = 16;
/// Files included into sshd_config in all (a guard against includes that fan out: real
/// images include a handful).
pub const MAX_SSHD_INCLUDED_FILES: usize = 4096;
/// Index entries of one rpm header (a package with tens of thousands of files has a few
/// hundred tags; each entry costs 16 bytes of the blob).
pub const MAX_RPM_HEADER_ENTRIES: u32 = 100_000;

// ---- Windows registry hives

/// Bytes read from one hive file (the SOFTWARE hive of a large server is about 200 MiB).
pub const MAX_HIVE_BYTES: u64 = 512 << 20;
/// Levels of `ri` index below a key's subkey list (Windows writes one).
pub const MAX_HIVE_RI_DEPTH: usize = 4;
/// Key levels walked below the root (Windows allows 512).
pub const MAX_HIVE_KEY_DEPTH: usize = 512;
/// Components of a path given to `Hive::open` (one per key level: 512).
pub const MAX_HIVE_PATH_COMPONENTS: usize = 512;
/// Subkeys of one key, through its `ri` index (one `lf`/`lh` list holds 65535; the largest
/// keys of real hives, `Classes` or `Installer\Components`, hold some hundred thousand).
pub const MAX_HIVE_SUBKEYS: usize = 1 << 20;
/// Values of one key (the largest real ones, `SharedDLLs`, hold some ten thousand).
pub const MAX_HIVE_VALUES: usize = 1 << 20;

// ---- initramfs and kernel modules

/// Bytes of an initramfs file read to list it (real ones are 20–150 MiB, compressed); a
/// larger one is not read, and whether the Hyper-V drivers are in it is reported unknown.
pub const MAX_INITRAMFS_FILE_BYTES: u64 = 256 << 20;
/// Bytes of a kernel's `modules.dep` read (real ones are under 1 MiB); a larger one is not
/// read, and its modules are looked for as files instead.
pub const MAX_MODULES_DEP_BYTES: u64 = 16 << 20;

// The defaults of `initramfs::Limits`:

/// Bytes produced by all the decompressed streams of one initramfs (real ones unpack to
/// 50–300 MiB).
pub const MAX_INITRAMFS_DECOMPRESSED: u64 = 1 << 30;
/// cpio members of one initramfs (real ones hold a few thousand).
/// Decoder memory of one xz or lzma stream (its dictionary and state) and the largest zstd
/// window of an initramfs: 64 MiB, enough for `xz -9` and `zstd -19`/`--ultra -22` without
/// `--long`; a stream asking for more is an error, not an allocation.
pub const MAX_INITRAMFS_DECODER_MEMORY: u64 = 64 << 20;
pub const MAX_INITRAMFS_MEMBERS: usize = 200_000;
/// Bytes of one cpio member name (as Linux's `PATH_MAX`: 4096).
pub const MAX_INITRAMFS_NAME_LEN: usize = 4096;
/// A kept initramfs member larger than this is listed without its contents (`modules.dep`
/// is under 1 MiB).
pub const MAX_INITRAMFS_KEPT_MEMBER: u64 = 16 << 20;
/// Bytes of kept initramfs contents and symlink targets together.
pub const MAX_INITRAMFS_KEPT_TOTAL: u64 = 64 << 20;

// ---- The kernel command line

/// Bytes of a kernel command line read: x86's `COMMAND_LINE_SIZE`, what the boot protocol
/// hands the kernel (it keeps no more; GRUB refuses longer lines on some platforms).
pub const MAX_KERNEL_CMDLINE_BYTES: usize = 2048;
/// Consoles the kernel registers from `console=` (its `MAX_CMDLINECONSOLES`); later distinct
/// ones are dropped.
pub const MAX_CMDLINE_CONSOLES: usize = 8;

// ---- Authenticode signatures of PE images (EFI loaders, kernels)

/// Bytes read from the start of a PE image to find its optional header and data
/// directories (linkers put them in the first few hundred bytes; e_lfanew is below 0x200 in
/// every real EFI binary and kernel).
pub const MAX_PE_HEADER_BYTES: usize = 64 << 10;
/// Bytes of a PE's certificate table (a signature with its certificate chain is 2–10 KiB;
/// shim's two signatures take under 20 KiB).
pub const MAX_PE_CERT_TABLE_BYTES: usize = 1 << 20;
/// Bytes read of a PE image to reach its certificate table, which signing tools append at
/// the end (a kernel is about 10 MiB; a unified kernel image with its initramfs some 100).
pub const MAX_PE_IMAGE_BYTES: u64 = 512 << 20;
/// `WIN_CERTIFICATE` entries in one certificate table (shim carries two).
pub const MAX_AUTHENTICODE_ENTRIES: usize = 16;
/// Signatures nested in a signature's unsigned attributes, counted in depth (Microsoft
/// nests one: a SHA-256 signature inside a SHA-1 one).
pub const MAX_AUTHENTICODE_NESTING: usize = 4;
/// Signatures read from one image in all, nested ones included.
pub const MAX_AUTHENTICODE_SIGNATURES: usize = 32;

// ---- Version resources of PE files (srv.sys, ntoskrnl.exe)

/// Bytes read of a PE file to reach its version resource: the prefix up to the end of its
/// resource section (the filesystems read files from their start). ntoskrnl.exe, the largest
/// file read for its version, is about 12 MiB.
pub const MAX_PE_VERSION_READ_BYTES: u64 = 128 << 20;
/// Entries of one resource directory table looked through (real files carry a few dozen
/// resource types; a table's header can claim 131070).
pub const MAX_PE_RESOURCE_ENTRIES: usize = 4096;
/// Bytes of one VS_VERSIONINFO resource (real ones take 1–4 KiB; its `wLength` is a u16, so
/// 64 KiB is every one a linker can write).
pub const MAX_PE_VERSION_INFO_BYTES: usize = 64 << 10;
/// Blocks of a VS_VERSIONINFO walked in all (StringFileInfo, its tables and their strings,
/// VarFileInfo): real ones hold a dozen strings.
pub const MAX_PE_VERSION_BLOCKS: usize = 1024;
/// Strings kept from the StringFileInfo (real files carry 8–12: CompanyName, FileVersion…).
pub const MAX_PE_VERSION_STRINGS: usize = 256;
