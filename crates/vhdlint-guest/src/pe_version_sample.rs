//! Small PE files with a version resource, built field by field after the PE/COFF and
//! VS_VERSIONINFO layouts, for tests (here and in the checks) and fuzz seeds. The fixtures'
//! files are written by the real tools instead (windres and ld of mingw-w64 binutils).

use super::FIXED_FILE_INFO_SIGNATURE;

/// A string as UTF-16LE with its NUL.
pub fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(|c| c.to_le_bytes())
        .collect()
}

/// Pads to 32 bits.
pub fn pad4(b: &mut Vec<u8>) {
    while b.len() % 4 != 0 {
        b.push(0);
    }
}

/// One VS_VERSIONINFO block: header, key, value and children, each 32-bit aligned.
pub fn blk(key: &str, value: &[u8], text: bool, children: &[Vec<u8>]) -> Vec<u8> {
    let mut b = vec![0u8; 6];
    b.extend(utf16z(key));
    pad4(&mut b);
    b.extend(value);
    for c in children {
        pad4(&mut b);
        b.extend(c);
    }
    let value_len = if text { value.len() / 2 } else { value.len() };
    let len = b.len() as u16;
    b[0..2].copy_from_slice(&len.to_le_bytes());
    b[2..4].copy_from_slice(&(value_len as u16).to_le_bytes());
    b[4..6].copy_from_slice(&u16::from(text).to_le_bytes());
    b
}

/// A VS_FIXEDFILEINFO with these file and product versions (a driver's flags and type).
pub fn fixed_file_info(file: [u16; 4], product: [u16; 4]) -> Vec<u8> {
    let ms = |v: [u16; 4]| (u32::from(v[0]) << 16) | u32::from(v[1]);
    let ls = |v: [u16; 4]| (u32::from(v[2]) << 16) | u32::from(v[3]);
    let d = [
        FIXED_FILE_INFO_SIGNATURE,
        0x0001_0000,
        ms(file),
        ls(file),
        ms(product),
        ls(product),
        0x3F,
        0,
        0x0004_0004,
        3,
        7,
        0,
        0,
    ];
    d.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A VS_VERSIONINFO: the fixed info, a StringFileInfo with one table (040904b0) of `strings`
/// and a VarFileInfo.
pub fn version_info_bytes(file: [u16; 4], strings: &[(&str, &str)]) -> Vec<u8> {
    let strings: Vec<Vec<u8>> = strings
        .iter()
        .map(|(k, v)| blk(k, &utf16z(v), true, &[]))
        .collect();
    let table = blk("040904b0", &[], true, &strings);
    let sfi = blk("StringFileInfo", &[], true, &[table]);
    let var = blk("Translation", &[0x09, 0x04, 0xB0, 0x04], false, &[]);
    let vfi = blk("VarFileInfo", &[], true, &[var]);
    blk(
        "VS_VERSION_INFO",
        &fixed_file_info(file, file),
        false,
        &[sfi, vfi],
    )
}

/// RVA and file offset of the resource section of [`pe_with`].
pub const RSRC_RVA: u32 = 0x1000;
pub const RSRC_RAW: usize = 0x200;
/// Offsets within the resource section of the structures [`pe_with`] writes.
pub const NAME_TABLE: usize = 0x18;
pub const LANG_TABLE: usize = 0x30;
pub const DATA_ENTRY: usize = 0x48;
pub const VERSION: usize = 0x58;

/// A PE32+ file with one section, .rsrc: root → RT_VERSION → name 1 → language 0x409 → the
/// data entry of `vi`.
pub fn pe_with(vi: &[u8]) -> Vec<u8> {
    let mut r = vec![0u8; VERSION];
    let table = |r: &mut Vec<u8>, at: usize, id: u32, target: u32| {
        r[at + 14..at + 16].copy_from_slice(&1u16.to_le_bytes());
        r[at + 16..at + 20].copy_from_slice(&id.to_le_bytes());
        r[at + 20..at + 24].copy_from_slice(&target.to_le_bytes());
    };
    table(&mut r, 0, 16, 0x8000_0000 | NAME_TABLE as u32);
    table(&mut r, NAME_TABLE, 1, 0x8000_0000 | LANG_TABLE as u32);
    table(&mut r, LANG_TABLE, 0x409, DATA_ENTRY as u32);
    r[DATA_ENTRY..DATA_ENTRY + 4].copy_from_slice(&(RSRC_RVA + VERSION as u32).to_le_bytes());
    r[DATA_ENTRY + 4..DATA_ENTRY + 8].copy_from_slice(&(vi.len() as u32).to_le_bytes());
    r.extend(vi);
    pad4(&mut r);
    let mut b = vec![0u8; RSRC_RAW];
    b[..2].copy_from_slice(b"MZ");
    b[0x3C] = 0x40;
    b[0x40..0x44].copy_from_slice(b"PE\0\0");
    b[0x44..0x46].copy_from_slice(&0x8664u16.to_le_bytes());
    b[0x46..0x48].copy_from_slice(&1u16.to_le_bytes());
    b[0x54..0x56].copy_from_slice(&0xF0u16.to_le_bytes());
    let opt = 0x58;
    b[opt..opt + 2].copy_from_slice(&0x20Bu16.to_le_bytes());
    b[opt + 108..opt + 112].copy_from_slice(&16u32.to_le_bytes());
    b[opt + 128..opt + 132].copy_from_slice(&RSRC_RVA.to_le_bytes());
    b[opt + 132..opt + 136].copy_from_slice(&(r.len() as u32).to_le_bytes());
    let s = opt + 0xF0;
    b[s..s + 6].copy_from_slice(b".rsrc\0");
    b[s + 8..s + 12].copy_from_slice(&(r.len() as u32).to_le_bytes());
    b[s + 12..s + 16].copy_from_slice(&RSRC_RVA.to_le_bytes());
    b[s + 16..s + 20].copy_from_slice(&(r.len() as u32).to_le_bytes());
    b[s + 20..s + 24].copy_from_slice(&(RSRC_RAW as u32).to_le_bytes());
    b.extend(r);
    b
}

/// A srv.sys of Windows Server 2012 R2 at the MS17-010 minimum (6.3.9600.18604).
pub fn srv() -> Vec<u8> {
    pe_with(&version_info_bytes(
        [6, 3, 9600, 18604],
        &[
            ("CompanyName", "Microsoft Corporation"),
            ("FileVersion", "6.3.9600.18604 (winblue_ltsb.170211-0600)"),
            ("OriginalFilename", "srv.sys"),
            ("ProductName", "Microsoft® Windows® Operating System"),
        ],
    ))
}

/// A driver with file version `v` and the usual strings.
pub fn driver(name: &str, v: [u16; 4]) -> Vec<u8> {
    let shown = format!("{}.{}.{}.{}", v[0], v[1], v[2], v[3]);
    pe_with(&version_info_bytes(
        v,
        &[
            ("CompanyName", "Microsoft Corporation"),
            ("FileVersion", &shown),
            ("OriginalFilename", name),
        ],
    ))
}
