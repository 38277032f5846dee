//! The digest index's entries for a large batch's own events, moved out of
//! memory a run at a time, so that an import's memory does not grow with the
//! number of statements it brings.
//!
//! A run is up to [`RUN`] entries, sorted by the first 12 bits of their
//! digests (the buckets' finest number; in seq order within each), each
//! entry the digest's first 8 bytes, the seq and the digest's bytes 8 to 16
//! (what tells the batch's own events apart without reading them). Runs go to
//! a file in the ledger's `cache/` directory, removed as soon as it is made
//! (a crash leaves nothing of it; a store in memory keeps its runs in memory),
//! and are read back twice: a bucket's part of each run when a digest may be
//! among the batch's events, and every run in bucket order when the commit
//! writes the buckets.
//!
//! Nothing here is believed on its own: an entry read back names a candidate
//! that the batch compares by 128 bits of its digest, as it does those held
//! in memory, and what is written from the runs is what the batch's own
//! entries would have written.

use std::io;
use std::path::Path;

use crate::scratch::Scratch;

/// Bytes of an entry in a run: the digest's first 8 bytes, the seq (u64 LE),
/// then the digest's bytes 8 to 16 (u64 LE).
pub(super) const RUN_ENTRY: usize = 24;

/// The batch's entries held in memory before they are written out as a run:
/// about 3 MB of them (16 bytes each in their buckets, 8 for the digest's
/// second 8 bytes). (Few in the crate's tests, so that their batches write
/// runs.)
#[cfg(not(test))]
pub(super) const RUN: usize = 1 << 17;
#[cfg(test)]
pub(super) const RUN: usize = 40;

/// The entries a batch holds before writing them out as a run: [`RUN`], or
/// what a test of the crate set for its thread.
#[cfg(not(test))]
pub(super) fn run_size() -> usize {
    RUN
}
#[cfg(test)]
pub(super) fn run_size() -> usize {
    RUN_SIZE.with(std::cell::Cell::get)
}
#[cfg(test)]
thread_local! {
    /// [`run_size`] on this thread.
    pub(super) static RUN_SIZE: std::cell::Cell<usize> = const { std::cell::Cell::new(RUN) };
}

/// The finest numbering of the buckets (4,096 of them): runs are sorted by it.
const BITS: u8 = super::digests::MAX_BITS;
const NUMBERS: usize = 1 << BITS;

/// Bytes read at a time from a run while the buckets are written.
const READ_AHEAD: usize = 32 << 10;

/// One run: where its entries start, and where each number's start.
#[derive(Debug)]
struct Run {
    /// Its first entry's place among all the runs' entries.
    first: u64,
    /// Entries before each number's within the run (`NUMBERS + 1` of them).
    starts: Box<[u32]>,
}

/// The runs a batch has written.
#[derive(Debug)]
pub(super) struct Runs {
    scratch: Scratch,
    runs: Vec<Run>,
    /// Entries written.
    entries: u64,
}

/// The number of `first`'s bucket among [`NUMBERS`].
fn number(first: &[u8]) -> usize {
    usize::from(super::digests::number_of(first, BITS))
}

/// An entry's digest's bytes 8 to 16.
pub(super) fn second(e: &[u8]) -> u64 {
    u64::from_le_bytes(e[16..RUN_ENTRY].try_into().expect("8 bytes"))
}

impl Runs {
    /// Runs kept in a file in `dir`'s `cache/` directory, or in memory
    /// without a directory, or where the file cannot be made ([`Scratch`]).
    pub(super) fn new(dir: Option<&Path>) -> Runs {
        Runs {
            scratch: Scratch::new(dir, "import-runs"),
            runs: Vec::new(),
            entries: 0,
        }
    }

    /// Writes `entries` (whole entries of [`RUN_ENTRY`] bytes, each bucket's
    /// in seq order) as a run, sorted by number, each number's in the order
    /// given.
    pub(super) fn push(&mut self, entries: &[u8]) -> io::Result<()> {
        debug_assert_eq!(entries.len() % RUN_ENTRY, 0);
        let mut starts = vec![0u32; NUMBERS + 1].into_boxed_slice();
        for e in entries.chunks_exact(RUN_ENTRY) {
            starts[number(e) + 1] += 1;
        }
        for n in 0..NUMBERS {
            starts[n + 1] += starts[n];
        }
        let mut at: Vec<u32> = starts[..NUMBERS].to_vec();
        let mut sorted = vec![0u8; entries.len()];
        for e in entries.chunks_exact(RUN_ENTRY) {
            let place = &mut at[number(e)];
            let from = *place as usize * RUN_ENTRY;
            sorted[from..from + RUN_ENTRY].copy_from_slice(e);
            *place += 1;
        }
        self.scratch.append(&sorted)?;
        self.runs.push(Run {
            first: self.entries,
            starts,
        });
        self.entries += (entries.len() / RUN_ENTRY) as u64;
        Ok(())
    }

    /// Reads the entries of run `run` whose numbers are `from..to` into `out`
    /// (replacing what it held).
    fn read(&self, run: usize, from: usize, to: usize, out: &mut Vec<u8>) -> io::Result<()> {
        let r = &self.runs[run];
        let first = r.first + u64::from(r.starts[from]);
        let n = (r.starts[to] - r.starts[from]) as usize;
        self.read_entries(first, n, out)
    }

    /// Reads `n` entries from the `first`th into `out`.
    fn read_entries(&self, first: u64, n: usize, out: &mut Vec<u8>) -> io::Result<()> {
        self.scratch
            .read(first * RUN_ENTRY as u64, n * RUN_ENTRY, out)
    }

    /// The seq of the first entry, run after run, whose digest begins with
    /// the 8 bytes of `first` and whose bytes 8 to 16 are `second_of`.
    pub(super) fn find(&self, first: &[u8], second_of: u64) -> io::Result<Option<u64>> {
        let n = number(first);
        let mut buf = Vec::new();
        for run in 0..self.runs.len() {
            self.read(run, n, n + 1, &mut buf)?;
            for e in buf.chunks_exact(RUN_ENTRY) {
                if e[..8] == first[..8] && second(e) == second_of {
                    return Ok(Some(super::digests::entry_seq(e)));
                }
            }
        }
        Ok(None)
    }

    /// Calls `each` with the digest's bytes 8 to 16 of every entry.
    pub(super) fn each_second(&self, mut each: impl FnMut(u64)) -> io::Result<()> {
        let mut buf = Vec::new();
        let step = (READ_AHEAD / RUN_ENTRY) as u64;
        let mut at = 0;
        while at < self.entries {
            let n = step.min(self.entries - at);
            self.read_entries(at, n as usize, &mut buf)?;
            buf.chunks_exact(RUN_ENTRY).for_each(|e| each(second(e)));
            at += n;
        }
        Ok(())
    }

    /// A reader of every run, number after number.
    pub(super) fn reader(&self) -> Reader {
        Reader {
            ahead: (0..self.runs.len()).map(|_| Ahead::default()).collect(),
        }
    }
}

/// What is read ahead of one run: its entries from `start` (the place of the
/// first in the run).
#[derive(Debug, Default)]
struct Ahead {
    start: u32,
    bytes: Vec<u8>,
}

/// Reads each run's entries in the order of their numbers, a window ahead at
/// a time.
#[derive(Debug)]
pub(super) struct Reader {
    ahead: Vec<Ahead>,
}

impl Reader {
    /// Appends to `out`, run after run of `runs` (the runs it was made for),
    /// the entries of the numbers `from..to` (of [`BITS`] bits) as the
    /// buckets hold them: the digest's first 8 bytes, then the seq. Calls
    /// should ask for numbers in increasing order (each run is then read
    /// once).
    pub(super) fn take(
        &mut self,
        runs: &Runs,
        from: usize,
        to: usize,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        for (i, run) in runs.runs.iter().enumerate() {
            let (lo, hi) = (run.starts[from], run.starts[to]);
            let ahead = &mut self.ahead[i];
            let held_to = ahead.start + (ahead.bytes.len() / RUN_ENTRY) as u32;
            if lo < ahead.start || hi > held_to {
                // Read again from `lo`: at least this number's entries, and
                // a window more while the run has them.
                let end = run_len(runs, i);
                let want = (hi - lo).max((READ_AHEAD / RUN_ENTRY) as u32);
                let n = want.min(end - lo);
                runs.read_entries(run.first + u64::from(lo), n as usize, &mut ahead.bytes)?;
                ahead.start = lo;
            }
            let from_byte = (lo - ahead.start) as usize * RUN_ENTRY;
            let to_byte = (hi - ahead.start) as usize * RUN_ENTRY;
            for e in ahead.bytes[from_byte..to_byte].chunks_exact(RUN_ENTRY) {
                out.extend_from_slice(&e[..16]);
            }
        }
        Ok(())
    }
}

/// The number of entries of run `i`.
fn run_len(runs: &Runs, i: usize) -> u32 {
    runs.runs[i].starts[NUMBERS]
}
