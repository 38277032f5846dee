//! A positions query run over the chain: the ledger hands the projection a
//! stream of entries (and, when it has one, a snapshot), and the projection
//! drives the fold.

use super::snapshot::Snapshot;
use super::{Amendments, Answer, Fold, KnownAt, Query};
use crate::event::{Entry, Seq, StatementRef};

/// What [`Chain::statements`] hands over of each event, besides its seq and
/// recording time.
pub(crate) enum Met<'a, 'b> {
    /// A statement event's statement, borrowed from the stored bytes (it may
    /// come without quote, speaker and source).
    Statement(&'a StatementRef<'b, &'b str>),
    /// A correction or a retraction, whole.
    Amendment(Box<Entry>),
    /// Any other event, or one whose payload is withheld.
    Other,
}

/// What [`Chain::statements`] calls: seq, recording time, and what the event is.
pub(crate) type StatementSink<'f> = dyn FnMut(Seq, i64, Met<'_, '_>) -> bool + 'f;

/// The chain as a positions query reads it.
pub(crate) trait Chain {
    /// What reading can fail with.
    type Error;

    /// The correction and retraction events from seq `from` on, in seq order,
    /// as far as `known_at` reaches.
    ///
    /// # Errors
    /// Whatever reading the chain fails with.
    fn amendment_entries(
        &self,
        from: Seq,
        known_at: Option<KnownAt>,
    ) -> Result<Vec<Entry>, Self::Error>;

    /// Calls `f` with the seq and recording time of every event from seq
    /// `from` on, in seq order, and with the statement of each statement event
    /// or each correction and retraction whole, until it returns `false`.
    ///
    /// # Errors
    /// Whatever reading the chain fails with.
    fn statements(&self, from: Seq, f: &mut StatementSink<'_>) -> Result<(), Self::Error>;

    /// [`Chain::statements`] from seq 1 on, in parts read side by side: the
    /// events of each stretch of the chain go to `add` with a part of their
    /// own (made by `part`), until `add` returns `false`, and `sink` takes the
    /// parts in seq order.
    ///
    /// # Errors
    /// Whatever reading the chain fails with.
    fn statements_in_parts<P: Send>(
        &self,
        part: impl Fn() -> P + Sync,
        add: impl Fn(&mut P, Seq, i64, Met<'_, '_>) -> bool + Sync,
        sink: impl FnMut(P),
    ) -> Result<(), Self::Error>;
}

/// Folds the entries from `from` on, as far as `known_at` reaches.
fn fold_from<C: Chain + ?Sized>(
    chain: &C,
    fold: &mut Fold<'_>,
    from: Seq,
    known_at: Option<KnownAt>,
) -> Result<(), C::Error> {
    chain.statements(from, &mut |seq, recorded_at, s| {
        if known_at.is_some_and(|k| !k.includes(seq, recorded_at)) {
            return false;
        }
        if let Met::Statement(s) = s {
            fold.add_recorded(seq, recorded_at, s);
        }
        true
    })
}

/// The positions `chain` supports for `query`, from a full replay in one
/// pass: every statement is folded as recorded, stretch by stretch into
/// folds of their own that are merged in seq order, and the corrections and
/// retractions met on the way are applied at the end.
///
/// # Errors
/// Whatever reading the chain fails with.
pub(crate) fn replay<C: Chain + ?Sized>(chain: &C, query: &Query) -> Result<Answer, C::Error> {
    let known_at = query.known_at;
    let mut fold = Fold::new(query, Amendments::default());
    let mut amendments = Vec::new();
    let mut not_statements = Vec::new();
    let mut last = 0;
    chain.statements_in_parts(
        || Part {
            fold: Fold::new(query, Amendments::default()),
            amendments: Vec::new(),
            not_statements: Vec::new(),
            last: 0,
        },
        |part, seq, recorded_at, m| {
            if known_at.is_some_and(|k| !k.includes(seq, recorded_at)) {
                return false;
            }
            part.last = seq;
            match m {
                Met::Statement(s) => part.fold.add_recorded(seq, recorded_at, s),
                Met::Amendment(e) => {
                    part.amendments.push(*e);
                    part.not_statements.push(seq);
                }
                Met::Other => part.not_statements.push(seq),
            }
            true
        },
        |part| {
            fold.absorb(part.fold);
            amendments.extend(part.amendments);
            not_statements.extend(part.not_statements);
            last = last.max(part.last);
        },
    )?;
    // Parts come in seq order, so these seqs are sorted.
    let was_statement = |seq: Seq| not_statements.binary_search(&seq).is_err();
    fold.amend(
        Amendments::collect(&amendments, known_at),
        last,
        was_statement,
    );
    Ok(fold.answer())
}

/// What a full replay reads of one stretch of the chain.
struct Part<'q> {
    fold: Fold<'q>,
    /// The corrections and retractions met.
    amendments: Vec<Entry>,
    /// The seqs of events met that are not statements, or whose payload is
    /// withheld.
    not_statements: Vec<Seq>,
    /// The last seq met (0: none).
    last: Seq,
}

/// The positions `chain` supports for `query`, from `snap` (taken at seq
/// `snap.seq` of this chain, its chunks read by `chunk`) and the entries after
/// it. `None` when a chunk is missing or damaged: the snapshot is then not to
/// be trusted, and the caller replays.
///
/// # Errors
/// Whatever reading the chain fails with.
pub(crate) fn from_snapshot<C: Chain + ?Sized>(
    chain: &C,
    snap: &Snapshot,
    chunk: &mut dyn FnMut(usize) -> Option<Vec<u8>>,
    query: &Query,
) -> Result<Option<Answer>, C::Error> {
    // The entries after the snapshot are read twice, never held: once for their
    // corrections and retractions, once to fold them.
    let tail = chain.amendment_entries(snap.seq + 1, query.known_at)?;
    let amendments = Amendments::collect(snap.amendments().iter().chain(&tail), query.known_at);
    let mut fold = Fold::new(query, amendments);
    fold.add_corrections_upto(snap.seq);
    if snap.replay(&mut fold, chunk).is_err() {
        return Ok(None);
    }
    fold_from(chain, &mut fold, snap.seq + 1, query.known_at)?;
    Ok(Some(fold.answer()))
}
