//! A snapshot's facts moved out of memory while it is built, a run at a
//! time, so that building one holds about [`held_max`] facts however many
//! the ledger makes (13 million facts of 10 million statements held 400 MB):
//! reading a stored snapshot back holds a chunk more, and once a run cannot
//! be written every fact after it is held.
//!
//! A run is the facts held when it was written, [`HELD_LEN`] bytes each
//! (its key's number, then the stored fact), ordered by their keys' strings
//! as the chunks order them (party, predicate, subject, location,
//! qualifier) and, within a key, by seq, ties in the order held. Each run's
//! order agrees with every other's, and with the order the snapshot is
//! stored in, since strings compare alike however many others are met in
//! between; storing merges the runs and the facts still held, key by key.
//! Runs go to the ledger's scratch space ([`Scratch`]): a file removed as
//! soon as it is made. A ledger without a directory (a store in memory)
//! writes none; where the file cannot be made, the facts stay held, as they
//! do when a run cannot be written. (The crate's tests write runs to memory
//! too.)

use std::io;
use std::path::Path;

use super::HELD_LEN;
use crate::scratch::Scratch;

/// Facts held in memory while a snapshot is built before they are written
/// out as a run: 2,097,152 (60 MiB of them), more than a ledger of a
/// million statements makes, whose snapshot is built as before. (Few in the
/// crate's tests, so that their snapshots write runs.)
#[cfg(not(test))]
pub(super) fn held_max() -> usize {
    1 << 21
}
#[cfg(test)]
pub(super) fn held_max() -> usize {
    HELD_MAX.with(std::cell::Cell::get)
}
#[cfg(test)]
thread_local! {
    /// [`held_max`] on this thread.
    pub(super) static HELD_MAX: std::cell::Cell<usize> = const { std::cell::Cell::new(7) };
}

#[cfg(test)]
thread_local! {
    /// The number of the run whose writing fails on this thread, if any
    /// (once: the next is written).
    pub(super) static FAIL_PUSH: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Bytes read at a time from a run while the snapshot is stored.
const READ_AHEAD: usize = 64 << 10;

/// The runs of one snapshot's build.
#[derive(Debug)]
pub(super) struct FactRuns {
    scratch: Scratch,
    /// Each run's first fact and its number of facts.
    runs: Vec<(u64, u64)>,
}

impl FactRuns {
    /// Runs in a file in `dir`'s `cache/` directory, or in memory.
    pub(super) fn new(dir: Option<&Path>) -> FactRuns {
        FactRuns {
            scratch: Scratch::new(dir, "snapshot-runs"),
            runs: Vec::new(),
        }
    }

    /// Writes the next run: `facts` of `HELD_LEN` bytes each, in the order
    /// made by `order` (the facts' numbers), a piece at a time.
    pub(super) fn push(&mut self, facts: &[u8], order: &[u32]) -> io::Result<()> {
        #[cfg(test)]
        if FAIL_PUSH.with(|f| f.get() == Some(self.runs.len()) && f.take().is_some()) {
            // Half the run written, as a disk that fills part way leaves it.
            let half: Vec<u8> = (order[..order.len() / 2].iter())
                .flat_map(|&i| &facts[i as usize * HELD_LEN..][..HELD_LEN])
                .copied()
                .collect();
            self.scratch.append(&half)?;
            return Err(io::Error::other("no space left (a test)"));
        }
        let first = self.scratch.len() / HELD_LEN as u64;
        let mut piece = Vec::with_capacity(READ_AHEAD);
        for &i in order {
            piece.extend_from_slice(&facts[i as usize * HELD_LEN..][..HELD_LEN]);
            if piece.len() + HELD_LEN > READ_AHEAD {
                self.scratch.append(&piece)?;
                piece.clear();
            }
        }
        self.scratch.append(&piece)?;
        self.runs.push((first, order.len() as u64));
        Ok(())
    }

    /// Whether the runs go to a file (not memory).
    pub(super) fn in_file(&self) -> bool {
        self.scratch.in_file()
    }

    /// How many runs were written.
    pub(super) fn len(&self) -> usize {
        self.runs.len()
    }

    /// How many facts the runs hold.
    pub(super) fn facts(&self) -> u64 {
        self.runs.iter().map(|r| r.1).sum()
    }

    /// A reader of each run from its start.
    pub(super) fn cursors(&self) -> Vec<Cursor> {
        (self.runs.iter())
            .map(|&(first, n)| Cursor {
                next: first,
                end: first + n,
                window: Vec::new(),
                at: 0,
            })
            .collect()
    }

    /// The next fact of `c`'s run, if any (read a window ahead).
    pub(super) fn peek<'c>(&self, c: &'c mut Cursor) -> io::Result<Option<&'c [u8]>> {
        if c.at == c.window.len() {
            if c.next == c.end {
                return Ok(None);
            }
            let n = (c.end - c.next).min((READ_AHEAD / HELD_LEN) as u64);
            let offset = c.next * HELD_LEN as u64;
            self.scratch
                .read(offset, n as usize * HELD_LEN, &mut c.window)?;
            c.next += n;
            c.at = 0;
        }
        Ok(Some(&c.window[c.at..c.at + HELD_LEN]))
    }
}

/// Where a run is read.
#[derive(Debug)]
pub(super) struct Cursor {
    /// The next fact to read into the window, and the run's end.
    next: u64,
    end: u64,
    /// Facts read ahead, and the place of the next in it.
    window: Vec<u8>,
    at: usize,
}

impl Cursor {
    /// Moves past the fact [`FactRuns::peek`] gave.
    pub(super) fn advance(&mut self) {
        self.at += HELD_LEN;
    }
}
