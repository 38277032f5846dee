//! The worked example: the statements of a news report of 29 January 2021 on
//! foreign forces in Libya, and a formal demand from the public record (UN
//! Security Council resolution 660) to set beside them. Carried as a data file.

use crate::event::{Event, Hash};
use crate::ledger::{BatchOptions, Incoming, Ledger, LedgerError};
use crate::{chain, codec, json};
use std::collections::HashSet;

/// The example's JSON lines, as embedded from `data/libya-2021-01-29.jsonl`.
pub const JSONL: &str = include_str!("../data/libya-2021-01-29.jsonl");

/// The example's events.
pub fn events() -> Vec<Event> {
    JSONL
        .lines()
        .map(|l| json::parse_event(l).expect("the worked example parses (tested)"))
        .collect()
}

/// The content digest of each example event (its identity in any ledger).
pub fn digests() -> HashSet<Hash> {
    events().iter().map(digest).collect()
}

fn digest(e: &Event) -> Hash {
    chain::payload_digest(&codec::encode_event(e).expect("example events are small"))
}

/// What [`record`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// Events appended now.
    pub appended: u64,
    /// Events the ledger already held.
    pub already: u64,
}

/// Appends every example event the ledger does not hold yet (by content digest),
/// so that recording it twice adds nothing.
///
/// # Errors
/// Store failures, or a ledger whose actors make an example event invalid.
pub fn record(ledger: &mut Ledger) -> Result<Recorded, LedgerError> {
    let events = events().into_iter().map(|event| {
        Ok::<_, crate::ledger::Abort>(Incoming {
            event: Box::new(event),
            original: None,
        })
    });
    let summary = ledger.import_batch(
        events,
        BatchOptions {
            skip_known: true,
            ..BatchOptions::default()
        },
    )?;
    Ok(Recorded {
        appended: summary.appended,
        already: summary.skipped,
    })
}
