//! Failures on their way to stderr: the exit codes scripts rely on, and the one
//! place that maps the library's errors to a code, a message and a hint.

use demarche::ledger::LedgerError;
use demarche::store::StoreError;
use std::io;

/// Exit codes scripts rely on.
pub(super) const INTEGRITY: u8 = 1;
pub(super) const USAGE: u8 = 2;
pub(super) const IO: u8 = 3;

/// A failure on its way to stderr and an exit code.
pub(super) struct Failure {
    pub(super) code: u8,
    pub(super) message: String,
    pub(super) hint: Option<String>,
}

impl Failure {
    pub(super) fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: USAGE,
            message: message.into(),
            hint: None,
        }
    }

    pub(super) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure {
            code: if e.kind() == io::ErrorKind::BrokenPipe {
                0
            } else {
                IO
            },
            message: if e.kind() == io::ErrorKind::BrokenPipe {
                String::new()
            } else {
                format!("cannot write output: {e}")
            },
            hint: None,
        }
    }
}

impl From<LedgerError> for Failure {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Store(s) => s.into(),
            LedgerError::Rejected { .. } => Failure::usage(format!("event rejected: {e}")).hint(
                "nothing was appended; see `demarche append --help` and schema/event.schema.json",
            ),
            LedgerError::NoSuchSeq { .. } => Failure::usage(e.to_string()),
            LedgerError::Corrupt { .. } | LedgerError::Tampered(_) => Failure {
                code: INTEGRITY,
                message: e.to_string(),
                hint: Some("run `demarche verify` to find the first bad seq".into()),
            },
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
            StoreError::Locked { .. } => Failure {
                code: IO,
                message: e.to_string(),
                hint: Some("wait for the other demarche command to finish, or raise --wait".into()),
            },
            StoreError::BadHead(_) | StoreError::StrayKey(_) => Failure {
                code: INTEGRITY,
                message: e.to_string(),
                hint: None,
            },
            _ => Failure {
                code: IO,
                message: e.to_string(),
                hint: None,
            },
        }
    }
}

pub(super) type Result<T> = std::result::Result<T, Failure>;
