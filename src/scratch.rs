//! Scratch space for work too large to hold in memory: an import's digest
//! entries, a positions snapshot's facts while it is built. A file in the
//! ledger's `cache/` directory, removed as soon as it is made, so that a
//! crash leaves nothing of it; bytes in memory for a ledger without a
//! directory (a store in memory), or where the file cannot be made.
//!
//! Nothing kept here is believed on its own: what is read back is what the
//! same process wrote, and it is used as the work that wrote it would have
//! used it held in memory.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Where scratch bytes are kept.
#[derive(Debug)]
enum Backing {
    /// A file, and its path while it is still to be removed.
    File(File, Option<PathBuf>),
    Memory(Vec<u8>),
}

/// Bytes written one after another and read back from anywhere.
#[derive(Debug)]
pub(crate) struct Scratch {
    backing: Backing,
    /// Bytes written.
    len: u64,
}

impl Scratch {
    /// Scratch space in a file named after `what` in `dir`'s `cache/`
    /// directory, or in memory without a directory, where `cache/` cannot be
    /// made or is a link to a directory elsewhere (the cache writes nothing
    /// there either), or the file cannot be made.
    pub(crate) fn new(dir: Option<&Path>, what: &str) -> Scratch {
        Scratch {
            backing: Scratch::file(dir, what).unwrap_or(Backing::Memory(Vec::new())),
            len: 0,
        }
    }

    fn file(dir: Option<&Path>, what: &str) -> Option<Backing> {
        let cache = dir?.join(crate::store::CACHE_DIR);
        let _ = std::fs::create_dir_all(&cache);
        if !std::fs::symlink_metadata(&cache).is_ok_and(|m| m.file_type().is_dir()) {
            return None;
        }
        // Random, so that two at once in one process (a server) never meet.
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).ok()?;
        let path = cache.join(format!(
            ".{what}-{}-{}.tmp",
            std::process::id(),
            crate::hex::encode(&suffix)
        ));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .ok()?;
        // Open, it stays readable and writable; removed, nothing of it
        // outlives the work. (Where an open file cannot be removed, it is
        // removed once the scratch space is dropped.)
        match std::fs::remove_file(&path) {
            Ok(()) => Some(Backing::File(file, None)),
            Err(_) => Some(Backing::File(file, Some(path))),
        }
    }

    /// Whether the bytes are kept in a file.
    pub(crate) fn in_file(&self) -> bool {
        matches!(self.backing, Backing::File(..))
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Writes `bytes` after those written before; returns where they start.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> io::Result<u64> {
        let at = self.len;
        match &mut self.backing {
            Backing::Memory(held) => held.extend_from_slice(bytes),
            Backing::File(file, _) => write_all_at(file, bytes, at)?,
        }
        self.len += bytes.len() as u64;
        Ok(at)
    }

    /// Reads `n` bytes from `offset` into `out` (replacing what it held).
    pub(crate) fn read(&self, offset: u64, n: usize, out: &mut Vec<u8>) -> io::Result<()> {
        out.clear();
        if offset
            .checked_add(n as u64)
            .is_none_or(|end| end > self.len)
        {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the scratch space's end",
            ));
        }
        match &self.backing {
            Backing::Memory(held) => {
                let offset = offset as usize;
                out.extend_from_slice(&held[offset..offset + n]);
            }
            Backing::File(file, _) => {
                out.resize(n, 0);
                read_exact_at(file, out, offset)?;
            }
        }
        Ok(())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Backing::File(_, Some(path)) = &self.backing {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(unix)]
fn write_all_at(file: &File, bytes: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
}

#[cfg(unix)]
fn read_exact_at(file: &File, out: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, out, offset)
}

#[cfg(not(unix))]
fn write_all_at(file: &File, bytes: &[u8], offset: u64) -> io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn read_exact_at(file: &File, out: &mut [u8], offset: u64) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_bytes_read_back_as_written_and_leave_no_file() {
        let dir = tempfile::tempdir().expect("dir");
        for in_dir in [true, false] {
            let mut s = Scratch::new(in_dir.then_some(dir.path()), "scratch-test");
            assert_eq!(s.in_file(), in_dir);
            assert_eq!(s.append(b"abc").expect("append"), 0);
            assert_eq!(s.append(b"defgh").expect("append"), 3);
            assert_eq!(s.len(), 8);
            let mut out = vec![9; 20];
            s.read(2, 4, &mut out).expect("read");
            assert_eq!(out, b"cdef");
            assert!(s.read(6, 3, &mut out).is_err(), "past the end");
            // The file is gone from the directory while it is in use.
            let left: Vec<_> = std::fs::read_dir(dir.path().join(crate::store::CACHE_DIR))
                .map(|d| d.flatten().map(|e| e.file_name()).collect())
                .unwrap_or_default();
            assert!(left.is_empty(), "{left:?}");
        }
    }
}
