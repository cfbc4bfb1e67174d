//! Member paths and kernel module names: which members are kept (the module indexes
//! `modules.dep`, `modules.builtin`, `modules.order`, and what [`super::Limits::keep`] names),
//! and which member is kernel module NAME.

/// Member file names whose contents are always kept (when within the size limits).
pub const MODULE_INDEXES: [&str; 3] = ["modules.dep", "modules.builtin", "modules.order"];

/// Suffixes a kernel module file may carry after `.ko`.
const MODULE_COMPRESSIONS: [&str; 3] = [".xz", ".zst", ".gz"];

/// A path without leading `/` or `./` and trailing `/`; the root is `""`.
pub(super) fn normalize(p: &str) -> &str {
    let mut s = p;
    loop {
        if let Some(r) = s.strip_prefix("./") {
            s = r;
        } else if let Some(r) = s.strip_prefix('/') {
            s = r;
        } else {
            break;
        }
    }
    let s = s.trim_end_matches('/');
    if s == "." {
        ""
    } else {
        s
    }
}

/// Whether normalized `path` is `pattern` or ends with it at a `/`.
pub(super) fn path_matches(path: &str, pattern: &str) -> bool {
    let pattern = normalize(pattern);
    if pattern.is_empty() {
        return false;
    }
    path == pattern
        || path
            .strip_suffix(pattern)
            .is_some_and(|head| head.ends_with('/'))
}

/// `hv_vmbus` for `hv_vmbus.ko`, `.ko.xz`, `.ko.zst` or `.ko.gz`.
pub(super) fn module_stem(file: &str) -> Option<&str> {
    let file = MODULE_COMPRESSIONS
        .iter()
        .find_map(|s| file.strip_suffix(s))
        .unwrap_or(file);
    file.strip_suffix(".ko")
}

/// Module names compare with `-` and `_` alike, as modprobe does.
pub(super) fn same_module_name(a: &str, b: &str) -> bool {
    let canon = |c: u8| if c == b'-' { b'_' } else { c };
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| canon(x) == canon(y))
}
