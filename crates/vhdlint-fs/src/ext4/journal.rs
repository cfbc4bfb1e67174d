//! Replaying an internal jbd2 journal in memory: the committed transactions' blocks become an
//! overlay (fs block → the journal block holding its newest copy) that every read of the
//! filesystem consults first. Nothing is written.
//!
//! As recovery does it: one scan from the journal superblock's first transaction
//! (`s_start`, `s_sequence`) along the circular log, transaction by transaction, each a run of
//! descriptor blocks (tags naming the fs blocks of the data blocks that follow), revoke blocks
//! and a commit block, each with the expected sequence number. The scan ends at the first
//! block that is not the next one of the log (another magic, another sequence, a commit whose
//! checksum fails); the transaction it was in is not replayed. Then every tag of the complete
//! transactions is applied in order, unless a revoke record of that transaction or a later one
//! names its block; with checksums (csum v2/v3), a data block whose tag checksum fails is
//! skipped, as recovery skips it.

use std::collections::HashMap;

use crate::limits::{MAX_EXT4_JOURNAL_BLOCKS, MAX_EXT4_JOURNAL_OVERLAY_BLOCKS};
use crate::FsError;

use super::raw::{self, JournalSb, Run};

/// Where the replayed copy of an fs block lies: a journal block, to be unescaped or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    /// Byte offset of the journal block on the volume.
    pub offset: u64,
    /// Its first four bytes were the jbd2 magic, replaced by zeros in the log.
    pub escaped: bool,
}

/// The result of a replay.
#[derive(Debug, Default)]
pub struct Overlay {
    pub blocks: HashMap<u64, Replayed>,
    pub transactions: u64,
}

/// Reads journal block `n` (a position in the log) into `buf`.
pub type ReadLog<'a> = dyn Fn(u64, &mut [u8]) -> Result<(), FsError> + 'a;

fn jcorrupt(why: String) -> FsError {
    FsError::Corrupt(format!("ext4 journal: {why}"))
}

/// The byte offset of journal block `n` through the journal inode's map `runs`.
pub fn log_offset(runs: &[Run], n: u64, bs: u64) -> Option<u64> {
    let i = runs.partition_point(|r| r.lblk + r.len <= n);
    let r = runs.get(i).filter(|r| r.lblk <= n && !r.uninit)?;
    (r.pblk + (n - r.lblk)).checked_mul(bs)
}

/// One transaction found by the scan.
struct Transaction {
    seq: u32,
    /// (fs block, log block, escaped, tag checksum)
    tags: Vec<(u64, u64, bool, u32)>,
}

/// Scans and replays the journal whose superblock is `jsb`, over a log of `len` blocks read
/// by `read` (`runs` maps it to the volume, of block size `bs`).
pub fn replay(
    jsb: &JournalSb,
    len: u64,
    bs: u64,
    runs: &[Run],
    read: &ReadLog<'_>,
) -> Result<Overlay, FsError> {
    if u64::from(jsb.block_size) != bs {
        return Err(jcorrupt(format!(
            "journal block size {} differs from the filesystem's {bs}",
            jsb.block_size
        )));
    }
    let maxlen = u64::from(jsb.maxlen);
    let first = u64::from(jsb.first);
    if maxlen > len || first == 0 || first >= maxlen {
        return Err(jcorrupt(format!(
            "log of blocks {first}..{maxlen} in a journal of {len} blocks"
        )));
    }
    if maxlen > MAX_EXT4_JOURNAL_BLOCKS {
        return Err(FsError::limit(
            "MAX_EXT4_JOURNAL_BLOCKS",
            format!("ext4 journal of {maxlen} blocks, more than the limit of {MAX_EXT4_JOURNAL_BLOCKS} (MAX_EXT4_JOURNAL_BLOCKS)"),
        ));
    }
    let start = u64::from(jsb.start);
    if start == 0 {
        return Ok(Overlay::default());
    }
    if start < first || start >= maxlen {
        return Err(jcorrupt(format!(
            "first transaction at block {start}, outside the log {first}..{maxlen}"
        )));
    }
    if jsb.has(raw::JBD2_INCOMPAT_FAST_COMMIT) {
        return Err(FsError::Unsupported(
            "ext4 journal with fast commits needs recovery: the reader does not replay fast commits".into(),
        ));
    }
    let seed = raw::crc32c(!0, &jsb.uuid);
    let next = |p: u64| if p + 1 >= maxlen { first } else { p + 1 };
    let mut buf = vec![0u8; bs as usize];
    let mut pos = start;
    let mut seq = jsb.sequence;
    let mut scanned = 0u64;
    let mut done: Vec<Transaction> = Vec::new();
    let mut cur = Transaction {
        seq,
        tags: Vec::new(),
    };
    // Revoked fs block → the newest transaction that revoked it.
    let mut revoked: HashMap<u64, u32> = HashMap::new();
    let mut pending_revokes: Vec<u64> = Vec::new();
    let mut tagged = 0usize;
    // v1 commit checksums: a CRC-32 of the transaction's descriptor and data blocks.
    let v1 = jsb.compat & raw::JBD2_COMPAT_CHECKSUM != 0 && !jsb.csum();
    let mut crc = !0u32;
    'scan: loop {
        scanned += 1;
        if scanned > maxlen {
            break; // the whole log went round once: it cannot hold more
        }
        read(pos, &mut buf)?;
        let Some((btype, bseq)) = raw::jbd2_header(&buf) else {
            break;
        };
        if bseq != seq {
            break;
        }
        match btype {
            raw::JBD2_DESCRIPTOR => {
                if jsb.csum() && !tail_ok(&buf, seed) {
                    break;
                }
                let Ok(tags) = raw::descriptor_tags(&buf, jsb) else {
                    break;
                };
                if v1 {
                    crc = raw::crc32_be(crc, &buf);
                }
                for t in tags {
                    pos = next(pos);
                    scanned += 1;
                    if scanned > maxlen {
                        break 'scan;
                    }
                    if v1 {
                        let mut data = vec![0u8; buf.len()];
                        read(pos, &mut data)?;
                        crc = raw::crc32_be(crc, &data);
                    }
                    tagged += 1;
                    if tagged > MAX_EXT4_JOURNAL_OVERLAY_BLOCKS {
                        return Err(FsError::limit("MAX_EXT4_JOURNAL_OVERLAY_BLOCKS", format!(
                            "ext4 journal: more than {MAX_EXT4_JOURNAL_OVERLAY_BLOCKS} logged blocks to replay, the limit (MAX_EXT4_JOURNAL_OVERLAY_BLOCKS)"
                        )));
                    }
                    cur.tags
                        .push((t.block, pos, t.flags & raw::TAG_ESCAPE != 0, t.csum));
                }
            }
            raw::JBD2_REVOKE => {
                if jsb.csum() && !tail_ok(&buf, seed) {
                    break;
                }
                let Ok(recs) = raw::revoke_records(&buf, jsb) else {
                    break;
                };
                pending_revokes.extend(recs);
                if pending_revokes.len() > MAX_EXT4_JOURNAL_OVERLAY_BLOCKS {
                    return Err(FsError::limit("MAX_EXT4_JOURNAL_OVERLAY_BLOCKS", format!(
                        "ext4 journal: more than {MAX_EXT4_JOURNAL_OVERLAY_BLOCKS} revoke records, the limit (MAX_EXT4_JOURNAL_OVERLAY_BLOCKS)"
                    )));
                }
            }
            raw::JBD2_COMMIT => {
                if jsb.csum() && !commit_ok(&buf, seed) {
                    break;
                }
                if v1 {
                    // Type 1 (CRC-32) of 4 bytes matching, or no checksum at all.
                    let found = vhdlint_disk::bytes::be_u32(&buf, 16);
                    let ok = (buf[12] == 1 && buf[13] == 4 && found == crc)
                        || (buf[12] == 0 && buf[13] == 0 && found == 0);
                    if !ok {
                        break;
                    }
                    crc = !0;
                }
                for b in pending_revokes.drain(..) {
                    let e = revoked.entry(b).or_insert(seq);
                    if seq_after(seq, *e) {
                        *e = seq;
                    }
                }
                done.push(std::mem::replace(
                    &mut cur,
                    Transaction {
                        seq: seq.wrapping_add(1),
                        tags: Vec::new(),
                    },
                ));
                seq = seq.wrapping_add(1);
            }
            _ => break,
        }
        pos = next(pos);
    }
    // Replay: the committed transactions in order, later copies replacing earlier ones.
    let mut out = Overlay {
        blocks: HashMap::new(),
        transactions: done.len() as u64,
    };
    for t in &done {
        for &(block, logpos, escaped, csum) in &t.tags {
            if let Some(&rseq) = revoked.get(&block) {
                if !seq_after(t.seq, rseq) {
                    continue; // revoked by this transaction or a later one
                }
            }
            if jsb.csum() {
                // Over the block as logged (escaped), as the commit computed it.
                read(logpos, &mut buf)?;
                if !data_ok(&buf, seed, t.seq, csum, jsb) {
                    continue;
                }
            }
            let offset = log_offset(runs, logpos, bs)
                .ok_or_else(|| jcorrupt(format!("log block {logpos} is not mapped")))?;
            out.blocks.insert(block, Replayed { offset, escaped });
        }
    }
    Ok(out)
}

/// Whether sequence `a` comes after `b` (sequence numbers wrap, as jbd2 compares them).
fn seq_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// The checksum in the last four bytes of a descriptor or revoke block.
fn tail_ok(b: &[u8], seed: u32) -> bool {
    let n = b.len();
    let want = u32::from_be_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]);
    let c = raw::crc32c(seed, &b[..n - 4]);
    raw::crc32c(c, &[0; 4]) == want
}

/// The commit block's checksum (at byte 16, computed with it zeroed).
fn commit_ok(b: &[u8], seed: u32) -> bool {
    let want = u32::from_be_bytes([b[16], b[17], b[18], b[19]]);
    let c = raw::crc32c(seed, &b[..16]);
    let c = raw::crc32c(c, &[0; 4]);
    raw::crc32c(c, &b[20..]) == want
}

/// A data block's tag checksum: over the transaction's sequence and the block.
fn data_ok(b: &[u8], seed: u32, seq: u32, want: u32, jsb: &JournalSb) -> bool {
    let c = raw::crc32c(seed, &seq.to_be_bytes());
    let c = raw::crc32c(c, b);
    if jsb.has(raw::JBD2_INCOMPAT_CSUM_V3) {
        c == want
    } else {
        c & 0xffff == want
    }
}
