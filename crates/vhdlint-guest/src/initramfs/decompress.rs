//! The compressed streams of an initramfs: which compression a piece starts with, and its
//! decoding (gzip, bzip2, lzma, xz, zstd, lz4), bounded by the decompressed size limit, with the
//! archives parsed as they stream.

use std::fmt;
use std::io::{self, BufReader, Read};

use serde::Serialize;

use super::cpio::{parse_stream, Tracked};
use super::input::Input;
use super::lz4::{Lz4Frame, Lz4Legacy};
use super::{Ctx, Fail, InitramfsError, Where};

/// How one piece of the image is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    /// A plain cpio archive.
    None,
    Gzip,
    Bzip2,
    /// The legacy `.lzma` format.
    Lzma,
    Xz,
    /// Recognised, not supported.
    Lzo,
    /// The legacy lz4 format the kernel reads (`lz4 -l`).
    Lz4Legacy,
    /// The lz4 frame format (which the kernel itself does not read).
    Lz4Frame,
    Zstd,
}

impl Compression {
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Lzma => "lzma",
            Compression::Xz => "xz",
            Compression::Lzo => "lzo",
            Compression::Lz4Legacy => "lz4-legacy",
            Compression::Lz4Frame => "lz4-frame",
            Compression::Zstd => "zstd",
        }
    }

    /// The compression whose magic `bytes` start with, if any (a plain cpio archive is not
    /// recognised here).
    pub fn detect(bytes: &[u8]) -> Option<Compression> {
        const MAGICS: [(&[u8], Compression); 8] = [
            (&[0x1f, 0x8b], Compression::Gzip),
            (b"BZh", Compression::Bzip2),
            (&[0x5d, 0x00, 0x00], Compression::Lzma),
            (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], Compression::Xz),
            (&[0x89, b'L', b'Z', b'O'], Compression::Lzo),
            (&[0x02, 0x21, 0x4c, 0x18], Compression::Lz4Legacy),
            (&[0x04, 0x22, 0x4d, 0x18], Compression::Lz4Frame),
            (&[0x28, 0xb5, 0x2f, 0xfd], Compression::Zstd),
        ];
        MAGICS
            .iter()
            .find(|(magic, _)| bytes.starts_with(magic))
            .map(|&(_, c)| c)
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Bytes a decompressor writes per call: large enough that the copy into its history window
/// (the last 32 KiB of each call's output, for inflate) is a small part of the output, small
/// enough that a listing that stops early decodes little past the member it stopped at.
const DECODED_BUF: usize = 256 << 10;

/// Counts decompressed bytes and fails once they pass the budget.
struct Budget<R> {
    inner: R,
    left: u64,
    produced: u64,
    exceeded: bool,
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.exceeded {
            return Err(io::Error::other("decompressed size limit reached"));
        }
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            self.exceeded = true;
            return Err(io::Error::other("decompressed size limit reached"));
        }
        self.left -= n as u64;
        self.produced += n as u64;
        Ok(n)
    }
}

/// Parses a decompressor's output to its end; gives the decompressor back to learn how much
/// input it took.
fn run<R: Read>(dec: R, ctx: &mut Ctx, seg: usize) -> Result<R, InitramfsError> {
    let s = &ctx.out.segments[seg];
    let (offset, compression) = (s.offset, s.compression);
    let wh = Where {
        segment_offset: offset,
        compression,
    };
    let budget = Budget {
        inner: dec,
        left: ctx.decompressed_left,
        produced: 0,
        exceeded: false,
    };
    let mut src = Tracked::new(BufReader::with_capacity(DECODED_BUF, budget), None);
    let res = parse_stream(&mut src, ctx, seg, wh);
    let budget = src.inner.into_inner();
    ctx.decompressed_left = ctx.decompressed_left.saturating_sub(budget.produced);
    ctx.out.segments[seg].decompressed_len = budget.produced;
    match res {
        Ok(()) => Ok(budget.inner),
        Err(Fail::Cpio(e)) => Err(e),
        Err(Fail::Io(_)) if budget.exceeded => Err(InitramfsError::DecompressedTooLarge {
            limit: ctx.limits.max_decompressed,
            offset,
            compression,
        }),
        Err(Fail::Io(e)) => Err(corrupt(offset, compression, e)),
    }
}

fn corrupt(offset: u64, compression: Compression, e: impl fmt::Display) -> InitramfsError {
    InitramfsError::Corrupt {
        offset,
        compression,
        message: e.to_string(),
    }
}

/// Decodes one compressed stream at the start of `input`, leaving `input` where the stream
/// ends (or where listing stopped).
pub(super) fn decode_segment(
    compression: Compression,
    input: &mut Input<'_>,
    ctx: &mut Ctx,
    seg: usize,
) -> Result<(), InitramfsError> {
    let res = decode(compression, input, ctx, seg);
    // A failure to read the image is not the stream's: the caller reports it.
    if input.failed() {
        return Ok(());
    }
    res
}

fn decode(
    compression: Compression,
    input: &mut Input<'_>,
    ctx: &mut Ctx,
    seg: usize,
) -> Result<(), InitramfsError> {
    let offset = ctx.out.segments[seg].offset;
    // Decoder memory of xz, lzma and zstd, bounded whatever the stream asks for.
    let memlimit = crate::limits::MAX_INITRAMFS_DECODER_MEMORY;
    match compression {
        Compression::None => Ok(()),
        Compression::Gzip => {
            run(flate2::bufread::GzDecoder::new(input), ctx, seg)?;
            Ok(())
        }
        Compression::Bzip2 => {
            run(bzip2::bufread::BzDecoder::new(input), ctx, seg)?;
            Ok(())
        }
        Compression::Xz | Compression::Lzma => {
            // One stream (not the concatenated ones `xz -d` would also read: what follows it
            // is the next segment); the check it names (CRC32, CRC64, SHA-256) is verified.
            // The decoder takes from the input only what the stream holds.
            let stream = if compression == Compression::Xz {
                liblzma::stream::Stream::new_stream_decoder(memlimit, 0)
            } else {
                liblzma::stream::Stream::new_lzma_decoder(memlimit)
            }
            .map_err(|e| corrupt(offset, compression, e))?;
            run(
                liblzma::bufread::XzDecoder::new_stream(&mut *input, stream),
                ctx,
                seg,
            )?;
            Ok(())
        }
        Compression::Zstd => {
            // One frame (skippable frames before it are read past); its content checksum, when
            // the frame has one, is verified by the decoder at the frame's end.
            let mut dec = zstd::stream::read::Decoder::with_buffer(&mut *input)
                .map_err(|e| corrupt(offset, compression, e))?
                .single_frame();
            dec.window_log_max(memlimit.ilog2())
                .map_err(|e| corrupt(offset, compression, e))?;
            run(dec, ctx, seg)?;
            Ok(())
        }
        Compression::Lz4Legacy => {
            run(Lz4Legacy::new(input), ctx, seg)?;
            Ok(())
        }
        Compression::Lz4Frame => {
            let dec = Lz4Frame::new(input).map_err(|e| corrupt(offset, compression, e))?;
            run(dec, ctx, seg)?;
            Ok(())
        }
        Compression::Lzo => Err(InitramfsError::Unsupported {
            offset,
            compression,
        }),
    }
}
