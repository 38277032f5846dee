//! Failures on their way to stderr: the exit codes scripts rely on, and the one
//! place that maps the library's errors to a code, a message and a hint.

use demarche::evidence::BuildError;
use demarche::export::WriteError;
use demarche::ledger::LedgerError;
use demarche::store::StoreError;
use std::fmt::Display;
use std::io;

/// Exit codes scripts rely on.
pub(super) const INTEGRITY: u8 = 1;
pub(super) const USAGE: u8 = 2;
pub(super) const IO: u8 = 3;

/// What to do about an event the ledger refused.
const REJECTED_HINT: &str =
    "nothing was appended; see the command's --help and schema/event.schema.json";

/// Where to find the names that are known, for a message about one that is
/// not (an actor, a stance, a predicate or a qualifier); `None` for any other.
pub(super) fn unknown_name_hint(message: &str) -> Option<&'static str> {
    if message.contains("unknown actor") {
        Some("`demarche actor list` shows the actors this ledger knows, and `demarche actor add` defines a new one")
    } else if ["unknown stance", "unknown predicate", "unknown qualifier"]
        .iter()
        .any(|w| message.contains(w))
    {
        Some("`demarche vocab` lists the stances, predicates and qualifiers")
    } else {
        None
    }
}

/// A failure on its way to stderr and an exit code.
pub(super) struct Failure {
    pub(super) code: u8,
    pub(super) message: String,
    pub(super) hint: Option<String>,
}

impl Failure {
    fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// The chain or the store does not hold what it should (exit 1).
    pub(super) fn integrity(message: impl Into<String>) -> Self {
        Failure::new(INTEGRITY, message)
    }

    /// Bad usage or bad input; nothing was changed (exit 2).
    pub(super) fn usage(message: impl Into<String>) -> Self {
        Failure::new(USAGE, message)
    }

    /// An I/O or store failure (exit 3).
    pub(super) fn io(message: impl Into<String>) -> Self {
        Failure::new(IO, message)
    }

    /// A file that could not be read: bad usage when it does not exist
    /// (exit 2), an I/O failure otherwise (exit 3).
    pub(super) fn reading(not_found: bool, message: impl Into<String>) -> Self {
        Failure::new(if not_found { USAGE } else { IO }, message)
    }

    /// An event the ledger refused, from a line or flags (exit 2).
    pub(super) fn rejected(why: impl Display) -> Self {
        let message = format!("event rejected: {why}");
        let hint = match unknown_name_hint(&message) {
            Some(h) => format!("nothing was appended; {h}"),
            None => REJECTED_HINT.to_string(),
        };
        Failure::usage(message).hint(hint)
    }

    /// A name the ledger or the vocabulary does not know, given in a flag
    /// (exit 2), with where to find the names it does.
    pub(super) fn unknown_name(message: String) -> Self {
        let hint = unknown_name_hint(&message);
        let f = Failure::usage(message);
        match hint {
            Some(h) => f.hint(h),
            None => f,
        }
    }

    /// The same failure, with a next step to suggest.
    pub(super) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            // The reader went away (`demarche log | head`): a quiet success.
            Failure::new(0, String::new())
        } else {
            Failure::io(format!("cannot write output: {e}"))
        }
    }
}

impl From<LedgerError> for Failure {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Store(s) => s.into(),
            LedgerError::Rejected { .. } => Failure::rejected(&e),
            LedgerError::Duplicate { seq, .. } => Failure::usage(format!("{e}; nothing appended"))
                .hint(format!(
                    "see it with `demarche show {seq}`; to record it again anyway, add --allow-duplicate"
                )),
            LedgerError::Unreadable { .. } => {
                Failure::io(e.to_string()).hint("nothing was appended")
            }
            LedgerError::NoSuchSeq { .. } | LedgerError::Proof(_) => Failure::usage(e.to_string()),
            LedgerError::Corrupt { .. }
            | LedgerError::Missing { .. }
            | LedgerError::ChainShort { .. }
            | LedgerError::Tampered(_)
            | LedgerError::ActorIndex(_)
            | LedgerError::TreeDamaged { .. } => Failure::integrity(e.to_string())
                .hint("run `demarche verify` to find the first bad seq"),
        }
    }
}

impl From<BuildError> for Failure {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Ledger(e) => e.into(),
            BuildError::Empty => Failure::usage(e.to_string()).hint("append something first"),
            BuildError::Damaged(_) => {
                Failure::integrity(e.to_string()).hint("run `demarche verify` to see the damage")
            }
            BuildError::Sign(_) => Failure::usage(e.to_string())
                .hint("check that the key file is one that `demarche key generate` wrote"),
        }
    }
}

impl From<WriteError> for Failure {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Ledger(e) => e.into(),
            // A closed pipe ends quietly.
            WriteError::Output(e) => e.into(),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::Missing(p) => Failure::usage(e.to_string()).hint(format!(
                "create it with `demarche --ledger {} demo` or `append`, or point --ledger (or $DEMARCHE_LEDGER) at an existing ledger",
                p.display()
            )),
            StoreError::NotALedger { .. } => {
                Failure::usage(e.to_string()).hint("point --ledger at a demarche ledger directory, or at a new path")
            }
            StoreError::Locked { .. } => Failure::io(e.to_string())
                .hint("wait for the other demarche command to finish, or raise --wait"),
            StoreError::BadHead(_) | StoreError::StrayKey(_) => Failure::integrity(e.to_string()),
            StoreError::MarkerDamaged { .. } => Failure::integrity(e.to_string())
                .hint("the store was altered; restore the ledger from an export with `demarche rebuild`"),
            _ if e.disk_full() => Failure::io(e.to_string()).hint(
                "free some space on the ledger's file system and retry (a sled ledger may not open even to be read until then: once its log has grown past its last snapshot's half-megabyte segment, sled writes a new snapshot at open, and it may blank up to half a megabyte of its log)",
            ),
            _ => Failure::io(e.to_string()),
        }
    }
}

pub(super) type Result<T> = std::result::Result<T, Failure>;
