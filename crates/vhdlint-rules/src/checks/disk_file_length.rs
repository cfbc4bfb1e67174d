use super::bytes_mib;
use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/file-length",
    title: "File length",
    what: "Compares the length of the file with the footer's current size plus the 512-byte footer.",
    why: "Azure uploads the VHD as a page blob and requires the blob length to equal the virtual size plus the footer; a truncated copy, trailing padding or a dynamic layout is rejected.",
    remedy: "Copy the image again without truncation or padding, or convert it: qemu-img convert -f vpc -O vpc -o subformat=fixed,force_size IN OUT.vhd",
    sources: &["Marketplace certification FAQ: \"The VHD blob length is equal to the virtual size plus the VHD footer length (512)\"", "AzCopy page-blob upload: source size must equal the destination page blob size"],
    profiles: Profile::ALL,
};

pub fn run(ctx: &Context) -> Outcome {
    let f = match ctx.footer() {
        Ok(f) => f,
        Err(o) => return o,
    };
    let len = ctx.image.container.file_size;
    let want = f.current_size.saturating_add(512);
    let required = format!("{want} bytes (virtual size + 512)");
    if len == want {
        return Outcome::pass(format!("{len} bytes"), required);
    }
    let why = if f.disk_type.is_sparse() {
        "a dynamic or differencing VHD stores only written blocks".to_string()
    } else if len < want {
        format!(
            "the file is {} short: a truncated copy",
            bytes_mib(want - len)
        )
    } else {
        format!("the file has {} more than its footer describes: padding or a footer from a smaller disk", bytes_mib(len - want))
    };
    Outcome::fail(format!("{len} bytes"), required)
        .message(format!(
            "file length {len} ≠ current size {} + 512 ({why})",
            f.current_size
        ))
        .evidence(Evidence::offset(
            f.offset + 48,
            format!("current size {}", f.current_size),
        ))
}
