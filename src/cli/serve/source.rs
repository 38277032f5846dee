//! The ledger as the server reads and writes it, the signed checkpoint it
//! hands out, and the token that writes need.
//!
//! redb lets readers beside a writer: each request opens the ledger
//! read-only on the snapshot of the moment (well under a millisecond), so
//! appends by other processes go on and the next request sees them. sled
//! lets one process hold a ledger: the server holds it while it runs, reads
//! share it, and appends over HTTP take it alone for their commit.

use super::super::failure::{Failure, Result};
use super::super::open::Opener;
use demarche::event::Head;
use demarche::ledger::Ledger;
use demarche::note::{self, Checkpoint, SignerKey};
use demarche::projection::Amendments;
use demarche::store::Engine;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// Where requests find the ledger.
pub(super) enum Source {
    /// sled: this process holds the store for as long as it serves.
    Held(Box<RwLock<Ledger>>),
    /// redb: opened for each request; `writer` keeps this server's own
    /// appends one at a time.
    Opened { opener: Opener, writer: Mutex<()> },
}

impl Source {
    /// The ledger `opener` names, which must exist.
    ///
    /// sled's is opened now and held; redb's is opened once to check it.
    pub(super) fn new(opener: Opener) -> Result<Source> {
        match demarche::store::engine_at(opener.path()) {
            None => Err(
                Failure::usage(format!("no ledger at {}", opener.path().display())).hint(
                    "create it first (`demarche init`, `demo` or `import`), or point --ledger at one",
                ),
            ),
            Some(Engine::Sled) => Ok(Source::Held(Box::new(RwLock::new(
                opener.open(false, false)?,
            )))),
            Some(_) => {
                opener.open(false, true)?;
                Ok(Source::Opened {
                    opener,
                    writer: Mutex::new(()),
                })
            }
        }
    }

    /// The engine's name.
    pub(super) fn engine(&self) -> &'static str {
        match self {
            Source::Held(_) => Engine::Sled.name(),
            Source::Opened { .. } => Engine::Redb.name(),
        }
    }

    /// Runs `f` on the ledger as it is now.
    pub(super) fn read<T>(&self, f: impl FnOnce(&Ledger) -> Result<T>) -> Result<T> {
        match self {
            Source::Held(l) => f(&l.read().unwrap_or_else(PoisonError::into_inner)),
            Source::Opened { opener, .. } => f(&opener.open(false, true)?),
        }
    }

    /// Runs `f` on the ledger opened to write: sled's held one, alone; redb's
    /// opened for writing, waiting (--wait) for a writer in another process.
    pub(super) fn write<T>(&self, f: impl FnOnce(&mut Ledger) -> Result<T>) -> Result<T> {
        match self {
            Source::Held(l) => f(&mut l.write().unwrap_or_else(PoisonError::into_inner)),
            Source::Opened { opener, writer } => {
                let _one = writer.lock().unwrap_or_else(PoisonError::into_inner);
                f(&mut opener.open(false, false)?)
            }
        }
    }
}

/// A checkpoint signed by the server, for the head it was made at.
pub(super) struct Signed {
    pub head: Head,
    pub checkpoint: Checkpoint,
    pub note: String,
}

/// The signing key and the last checkpoint signed with it.
pub(super) struct Signer {
    key: SignerKey,
    last: Mutex<Option<Arc<Signed>>>,
    /// The tree as far as this server has verified the chain.
    verified: Mutex<demarche::tlog::Verified>,
}

impl Signer {
    /// Reads a signer key file (`demarche key generate`'s PREFIX.key).
    pub(super) fn read(path: &Path) -> Result<Signer> {
        let text = small_file(path, "a signer key")?;
        let key = note::parse_signer(text.trim_end()).map_err(|e| {
            Failure::usage(format!("--sign {}: {e}", path.display()))
                .hint("pass the PREFIX.key file that `demarche key generate` wrote")
        })?;
        Ok(Signer {
            key,
            last: Mutex::new(None),
            verified: Mutex::new(demarche::tlog::Verified::new()),
        })
    }

    /// The verifier key of the signatures, as text.
    pub(super) fn verifier(&self) -> String {
        self.key.verifier().to_text()
    }

    /// The signed checkpoint of `ledger` as it is now. What is signed comes
    /// from the chain: the first checkpoint verifies the chain from its first
    /// record, and each later head only the records past the last one
    /// verified (`tlog::Verified`), which must link to it; its checkpoint is
    /// signed once, and requests at that head share it. A request that reads
    /// an older snapshot gets the newer checkpoint.
    pub(super) fn signed(&self, ledger: &Ledger) -> Result<Arc<Signed>> {
        let head = ledger.head()?;
        // One signing at a time: the others wait for it and share it.
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = last.as_ref().filter(|s| s.head.size >= head.size) {
            if s.head.size > head.size || s.head == head {
                return Ok(s.clone());
            }
        }
        let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        let grown = verified.extend(ledger).map_err(|e| match e {
            demarche::tlog::VerifyError::Ledger(e) => Failure::from(e),
            e @ demarche::tlog::VerifyError::Chain(_) => {
                Failure::integrity(format!("{e}; nothing is signed over it"))
                    .hint("run `demarche verify` to see the damage")
            }
        })?;
        let checkpoint = grown
            .checkpoint()
            .ok_or_else(|| Failure::usage("the ledger holds no events: there is no checkpoint"))?;
        // The ledger may have grown since `head` was read: the checkpoint is
        // of the head the chain was verified to.
        let head = grown.head();
        *verified = grown;
        let note = note::sign(&checkpoint.to_text(), &self.key)
            .map_err(|e| Failure::io(format!("cannot sign the checkpoint: {e}")))?;
        let s = Arc::new(Signed {
            head,
            checkpoint,
            note,
        });
        *last = Some(s.clone());
        Ok(s)
    }
}

/// The chain's corrections and retractions, read once per head (a pass over
/// the records' variant tags) and shared by the requests at that head.
#[derive(Default)]
pub(super) struct Standing {
    last: Mutex<Option<(Head, Arc<Amendments>)>>,
}

impl Standing {
    /// The amendments of `ledger` as it is now.
    pub(super) fn of(&self, ledger: &Ledger) -> Result<Arc<Amendments>> {
        let head = ledger.head()?;
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, am)) = last.as_ref().filter(|(h, _)| *h == head) {
            return Ok(am.clone());
        }
        let am = Arc::new(ledger.amendments(None)?);
        *last = Some((head, am.clone()));
        Ok(am)
    }
}

/// The bearer token writes need, as its hash: compared in constant time.
pub(super) struct Token(blake3::Hash);

/// The shortest token taken.
const MIN_TOKEN: usize = 16;

impl Token {
    /// Reads `--token-file`: a file readable by its owner alone, holding at
    /// least 16 characters (surrounding white space is not part of it).
    pub(super) fn read(path: &Path) -> Result<Token> {
        let meta = std::fs::metadata(path).map_err(|e| {
            Failure::reading(
                e.kind() == std::io::ErrorKind::NotFound,
                format!("--token-file {}: {e}", path.display()),
            )
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(Failure::usage(format!(
                    "--token-file {}: mode {mode:04o} lets others read it; a token file must be mode 0600",
                    path.display()
                ))
                .hint(format!("chmod 600 {}", path.display())));
            }
        }
        let text = small_file(path, "a token")?;
        let token = text.trim();
        if token.len() < MIN_TOKEN || token.chars().any(char::is_whitespace) {
            return Err(Failure::usage(format!(
                "--token-file {}: a token is one word of at least {MIN_TOKEN} characters",
                path.display()
            ))
            .hint("make one with `head -c 32 /dev/urandom | base64`"));
        }
        Ok(Token(blake3::hash(token.as_bytes())))
    }

    /// Whether an `Authorization` header's value carries the token.
    pub(super) fn admits(&self, authorization: Option<&str>) -> bool {
        let given = authorization
            .and_then(|a| a.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or("");
        // blake3::Hash compares in constant time.
        !given.is_empty() && blake3::hash(given.as_bytes()) == self.0
    }
}

/// A small text file named by a flag.
fn small_file(path: &Path, what: &str) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| {
        Failure::reading(
            e.kind() == std::io::ErrorKind::NotFound,
            format!("cannot read {what} {}: {e}", path.display()),
        )
    })?;
    if bytes.len() > 64 * 1024 {
        return Err(Failure::usage(format!(
            "{} is too large for {what}",
            path.display()
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| Failure::usage(format!("{} is not UTF-8 text: not {what}", path.display())))
}
