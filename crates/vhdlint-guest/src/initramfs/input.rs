//! The image's bytes as the listing takes them: pulled from a reader in growing pieces, so that
//! a listing that stops early has read the file only a little past where it stopped.

use std::io::{self, BufRead, Read};

/// The first piece pulled from the reader; each next one is twice as large, up to
/// [`LAST_PULL`].
pub const FIRST_PULL: usize = 256 << 10;
/// The largest piece pulled at once (a peek may still need more: a legacy lz4 block).
pub const LAST_PULL: usize = 2 << 20;

/// A buffered reader over the image: bytes `start..end` of `buf` are the image from offset
/// `pos` on. Reads no more than `total` bytes. A failure of the reader is kept (see
/// [`Input::take_failure`]) and every later read fails.
pub(super) struct Input<'a> {
    inner: &'a mut dyn Read,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Image offset of `buf[start]`.
    pos: u64,
    /// Image bytes not pulled yet.
    unpulled: u64,
    total: u64,
    next_pull: usize,
    last_pull: usize,
    failure: Option<io::Error>,
    /// The reader ended before `total`.
    ended: bool,
}

impl<'a> Input<'a> {
    /// `total` bytes (the image's size) from `inner`, pulled `first` bytes at first, then
    /// twice as many each time up to `last`.
    pub(super) fn new(inner: &'a mut dyn Read, total: u64, first: usize, last: usize) -> Self {
        Input {
            inner,
            buf: Vec::new(),
            start: 0,
            end: 0,
            pos: 0,
            unpulled: total,
            total,
            next_pull: first.max(1),
            last_pull: last.max(first).max(1),
            failure: None,
            ended: false,
        }
    }

    /// Image offset of the next byte.
    pub(super) fn pos(&self) -> u64 {
        self.pos
    }

    /// Image bytes after the next one's offset, by the size given (the reader may end
    /// sooner).
    pub(super) fn remaining(&self) -> u64 {
        self.total.saturating_sub(self.pos)
    }

    /// The reader's error, once it failed (the error the listing saw only says so).
    pub(super) fn take_failure(&mut self) -> Option<io::Error> {
        self.failure.take()
    }

    pub(super) fn failed(&self) -> bool {
        self.failure.is_some()
    }

    fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Pulls one more piece, of at least `min` bytes when the image has them; false when
    /// nothing more comes.
    fn pull(&mut self, min: usize) -> io::Result<bool> {
        if let Some(e) = &self.failure {
            return Err(io::Error::new(
                e.kind(),
                format!("reading the image failed: {e}"),
            ));
        }
        if self.unpulled == 0 || self.ended {
            return Ok(false);
        }
        let want = usize::try_from(self.unpulled)
            .unwrap_or(usize::MAX)
            .min(self.next_pull.max(min));
        self.next_pull = self.next_pull.saturating_mul(2).min(self.last_pull);
        // Drop what was consumed, then room for the piece: the buffer keeps its length
        // between pulls, so its bytes are zeroed only when it grows.
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.buf.len() < self.end + want {
            self.buf.resize(self.end + want, 0);
        }
        let mut got = 0;
        while got < want {
            match self
                .inner
                .read(&mut self.buf[self.end + got..self.end + want])
            {
                Ok(0) => {
                    self.ended = true;
                    break;
                }
                Ok(n) => got += n.min(want - got),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let seen = io::Error::new(
                        e.kind(),
                        format!(
                            "reading the image at offset {} failed: {e}",
                            self.pos + (self.end - self.start + got) as u64
                        ),
                    );
                    self.failure = Some(e);
                    return Err(seen);
                }
            }
        }
        self.end += got;
        self.unpulled -= got as u64;
        Ok(got > 0)
    }

    /// At least `want` bytes from the next one on, or all there are when fewer remain; none
    /// consumed.
    pub(super) fn peek(&mut self, want: usize) -> io::Result<&[u8]> {
        while self.end - self.start < want {
            let missing = want - (self.end - self.start);
            if !self.pull(missing)? {
                break;
            }
        }
        Ok(self.buffered())
    }

    /// Skips zero bytes; the next byte (not consumed), or `None` at the end.
    pub(super) fn skip_zeros(&mut self) -> io::Result<Option<u8>> {
        loop {
            let b = self.fill_buf()?;
            if b.is_empty() {
                return Ok(None);
            }
            match b.iter().position(|&x| x != 0) {
                Some(i) => {
                    let next = b[i];
                    self.consume(i);
                    return Ok(Some(next));
                }
                None => {
                    let n = b.len();
                    self.consume(n);
                }
            }
        }
    }
}

impl Read for Input<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let b = self.fill_buf()?;
        let n = b.len().min(out.len());
        out[..n].copy_from_slice(&b[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Input<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.start == self.end {
            self.pull(1)?;
        }
        Ok(self.buffered())
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.pos += n as u64;
    }
}
