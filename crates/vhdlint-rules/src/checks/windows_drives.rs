use vhdlint_guest::windows::reg_value;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/drives",
    title: "Only C: and D: relied on",
    what: "Reads the page file configuration (SYSTEM current control set \\Control\\Session Manager\\Memory Management PagingFiles): a drive letter other than C:, D: or `?:` (any drive) warns.",
    why: "An Azure VM has C: (OS) and D: (temporary resource disk); other letters belong to data disks the customer may not attach, so a page file there breaks the VM.",
    remedy: "Put the page file on C: or D:: set PagingFiles to \"D:\\pagefile.sys\" (or ?:\\pagefile.sys) before capturing.",
    sources: &["Azure Marketplace VM image guide: rely only on C: and D:"],
    profiles: &[Profile::WindowsOs],
};

pub fn run(ctx: &Context) -> Outcome {
    let (_, hive, cs) = match ctx.windows_control_set() {
        Ok(x) => x,
        Err(o) => return o,
    };
    let key = format!("{cs}\\Control\\Session Manager\\Memory Management");
    let required = "page files on C:, D: or ?: only";
    let files = match reg_value(hive, &key, "PagingFiles") {
        Err(e) => return Outcome::error(format!("SYSTEM\\{key}: {e}")),
        Ok(None) => return Outcome::pass("no PagingFiles value", required),
        Ok(Some(v)) => v
            .as_multi_string()
            .ok()
            .or_else(|| v.as_string().ok().map(|s| vec![s]))
            .unwrap_or_default(),
    };
    let bad: Vec<&String> = files
        .iter()
        .filter(|f| {
            let letter = f.trim().chars().next().map(|c| c.to_ascii_uppercase());
            f.trim().chars().nth(1) == Some(':') && !matches!(letter, Some('C' | 'D' | '?'))
        })
        .collect();
    let ev = Evidence::path(
        format!("SYSTEM\\{key}"),
        None,
        format!("PagingFiles = {}", files.join(" | ")),
    );
    if bad.is_empty() {
        return Outcome::pass(files.join(", "), required).evidence(ev);
    }
    Outcome::warning(files.join(", "), required)
        .message(format!(
            "page file on another drive: {}",
            bad.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .evidence(ev)
}
