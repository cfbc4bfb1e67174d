//! lz4 as initramfs images hold it: the legacy format the kernel reads (`lz4 -l`), and the
//! frame format.

use std::fmt;
use std::io::{self, BufRead, Read};

use super::input::Input;

pub(super) const LZ4_LEGACY_MAGIC: u32 = 0x184C_2102;
/// Uncompressed size of a legacy lz4 block (as written by the kernel's tools and `lz4 -l`).
pub(super) const LZ4_LEGACY_BLOCK: usize = 8 << 20;
/// Largest compressed legacy block: the lz4 bound of an 8 MiB block.
const LZ4_LEGACY_BOUND: usize = LZ4_LEGACY_BLOCK + LZ4_LEGACY_BLOCK / 255 + 16;
pub(super) const LZ4_FRAME_MAGIC: u32 = 0x184D_2204;
const LZ4_WINDOW: usize = 64 << 10;

fn invalid(msg: impl fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

/// Decoded bytes of the current block, handed out by `read`.
#[derive(Default)]
struct BlockBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl BlockBuf {
    fn copy_out(&mut self, buf: &mut [u8]) -> usize {
        let n = (self.end - self.start).min(buf.len());
        buf[..n].copy_from_slice(&self.data[self.start..self.start + n]);
        self.start += n;
        n
    }

    fn empty(&self) -> bool {
        self.start == self.end
    }

    /// The buffer to decode the next block into, at least `size` bytes.
    fn target(&mut self, size: usize) -> &mut [u8] {
        if self.data.len() < size {
            self.data.resize(size, 0);
        }
        self.start = 0;
        self.end = 0;
        &mut self.data[..size]
    }
}

/// The legacy lz4 format: a magic, then blocks of a 4-byte little-endian compressed length
/// and data decoding to at most 8 MiB; the magic may repeat. Nothing marks the end, so it ends
/// where the input does or, after a first block, at anything that cannot be a block (which is
/// left unread).
pub(super) struct Lz4Legacy<'a, 'b> {
    input: &'a mut Input<'b>,
    out: BlockBuf,
    blocks: u64,
    done: bool,
}

impl<'a, 'b> Lz4Legacy<'a, 'b> {
    pub(super) fn new(input: &'a mut Input<'b>) -> Self {
        Lz4Legacy {
            input,
            out: BlockBuf::default(),
            blocks: 0,
            done: false,
        }
    }

    fn next_block(&mut self) -> io::Result<bool> {
        loop {
            let head = self.input.peek(4)?;
            let Some(len) = head.first_chunk::<4>() else {
                return Ok(false);
            };
            let n = u32::from_le_bytes(*len);
            if n == LZ4_LEGACY_MAGIC {
                self.input.consume(4);
                continue;
            }
            let n = n as usize;
            let plausible =
                n != 0 && n <= LZ4_LEGACY_BOUND && self.input.peek(4 + n)?.len() >= 4 + n;
            if !plausible {
                return if self.blocks == 0 {
                    Err(invalid("lz4 block length out of range"))
                } else {
                    Ok(false)
                };
            }
            let body = &self.input.peek(4 + n)?[4..4 + n];
            match lz4_flex::block::decompress_into(body, self.out.target(LZ4_LEGACY_BLOCK)) {
                Ok(m) => {
                    self.out.end = m;
                    self.input.consume(4 + n);
                    self.blocks += 1;
                    return Ok(true);
                }
                Err(e) if self.blocks == 0 => return Err(invalid(e)),
                Err(_) => return Ok(false),
            }
        }
    }
}

impl Read for Lz4Legacy<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out.empty() {
            if self.done || !self.next_block()? {
                self.done = true;
                return Ok(0);
            }
        }
        Ok(self.out.copy_out(buf))
    }
}

/// One lz4 frame (checksums are skipped, not verified).
pub(super) struct Lz4Frame<'a, 'b> {
    input: &'a mut Input<'b>,
    out: BlockBuf,
    block_max: usize,
    linked: bool,
    block_checksum: bool,
    content_checksum: bool,
    /// The last 64 KiB of output, for linked blocks.
    window: Vec<u8>,
    done: bool,
}

impl<'a, 'b> Lz4Frame<'a, 'b> {
    pub(super) fn new(input: &'a mut Input<'b>) -> io::Result<Self> {
        let short = || invalid("truncated lz4 frame header");
        // Magic, flags, block descriptor, content size, header checksum.
        let head = input.peek(4 + 2 + 9)?;
        let (magic, rest) = head.split_first_chunk::<4>().ok_or_else(short)?;
        if u32::from_le_bytes(*magic) != LZ4_FRAME_MAGIC {
            return Err(invalid("no lz4 frame magic"));
        }
        let (flags, rest) = rest.split_first_chunk::<2>().ok_or_else(short)?;
        let [flg, bd] = *flags;
        if flg >> 6 != 1 {
            return Err(invalid("unknown lz4 frame version"));
        }
        if flg & 0x01 != 0 {
            return Err(invalid("lz4 frames with a dictionary are not supported"));
        }
        let block_max = match (bd >> 4) & 7 {
            4 => 64 << 10,
            5 => 256 << 10,
            6 => 1 << 20,
            7 => 4 << 20,
            _ => return Err(invalid("bad lz4 block size")),
        };
        // Content size, then the header checksum.
        let extra = if flg & 0x08 != 0 { 9 } else { 1 };
        if rest.len() < extra {
            return Err(short());
        }
        input.consume(4 + 2 + extra);
        Ok(Lz4Frame {
            input,
            out: BlockBuf::default(),
            block_max,
            linked: flg & 0x20 == 0,
            block_checksum: flg & 0x10 != 0,
            content_checksum: flg & 0x04 != 0,
            window: Vec::new(),
            done: false,
        })
    }

    /// The next `n` bytes, not consumed; an error when the input ends sooner.
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        let b = self.input.peek(n)?;
        if b.len() < n {
            return Err(invalid("truncated lz4 frame"));
        }
        Ok(&b[..n])
    }

    fn next_block(&mut self) -> io::Result<bool> {
        let word = self.peek(4)?;
        let n = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        self.input.consume(4);
        if n == 0 {
            if self.content_checksum {
                self.peek(4)?;
                self.input.consume(4);
            }
            return Ok(false);
        }
        let stored = n & 0x8000_0000 != 0;
        let len = (n & 0x7fff_ffff) as usize;
        if len > self.block_max {
            return Err(invalid("lz4 block larger than the frame's block size"));
        }
        let whole = len + if self.block_checksum { 4 } else { 0 };
        let b = self.input.peek(whole)?;
        if b.len() < whole {
            return Err(invalid("truncated lz4 frame"));
        }
        let data = &b[..len];
        let target = self.out.target(self.block_max);
        let m = if stored {
            target[..len].copy_from_slice(data);
            len
        } else if self.linked {
            lz4_flex::block::decompress_into_with_dict(data, target, &self.window)
                .map_err(invalid)?
        } else {
            lz4_flex::block::decompress_into(data, target).map_err(invalid)?
        };
        self.input.consume(whole);
        self.out.end = m;
        if self.linked {
            self.window.extend_from_slice(&self.out.data[..m]);
            let excess = self.window.len().saturating_sub(LZ4_WINDOW);
            self.window.drain(..excess);
        }
        Ok(true)
    }
}

impl Read for Lz4Frame<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out.empty() {
            if self.done || !self.next_block()? {
                self.done = true;
                return Ok(0);
            }
        }
        Ok(self.out.copy_out(buf))
    }
}
