//! A transparency-log witness: what it checks before it cosigns a checkpoint
//! (c2sp.org/tlog-witness), pure, with the witness's memory handed in.
//!
//! For each log, told apart by its checkpoint's origin, a witness keeps the
//! latest checkpoint it cosigned. A new checkpoint is cosigned only when it
//! is signed by a log key the witness trusts and extends that one: an RFC
//! 6962 consistency proof from the old tree (its size and root, as the
//! witness remembers them) to the new. A smaller tree, or a proof that does
//! not lead from the old root, is refused: the log forked or rolled back.
//!
//! [`add_checkpoint`] answers the protocol's `POST /add-checkpoint` from
//! the request body alone: status, content type and body, and the note to
//! keep (which the caller persists before it answers). [`Witness::check`] is
//! the same decision for a checkpoint and proof given otherwise (the command
//! line). Neither does I/O: the latest cosigned checkpoint of an origin is
//! looked up through a closure, and the time is given.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::cosign::{self, CosignError, WitnessSigner, WitnessVerifier};
use crate::merkle::{self, Digest};
use crate::note::{self, Checkpoint, NoteError, VerifierKey};

/// The most consistency proof lines a request may hold (the protocol's limit).
pub const MAX_PROOF_LINES: usize = 63;

/// The largest `add-checkpoint` request body read: a checkpoint of up to
/// 64 KiB, its signatures, and the proof lines.
pub const MAX_REQUEST: usize = 256 << 10;

/// The content type of a 409 answer: the size the witness knows.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// The latest checkpoint a witness cosigned for one origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogState {
    /// The tree size.
    pub size: u64,
    /// The root hash at that size.
    pub root: Digest,
}

/// Why a witness did not cosign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The request, the note or the proof is not well formed.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The witness does not witness this origin.
    #[error("unknown log origin {0:?}")]
    UnknownOrigin(String),
    /// No signature of a trusted log key, or one that does not verify.
    #[error("the checkpoint is not signed by a trusted log key: {0}")]
    Unsigned(NoteError),
    /// The old size stated is beyond the checkpoint's size.
    #[error("old size {old} is beyond the checkpoint's size {size}")]
    OldBeyondSize {
        /// The old size stated.
        old: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The old size stated is not the size of the latest cosigned checkpoint.
    #[error("old size {old} is not the size the witness cosigned last, {known}")]
    Conflict {
        /// The old size stated.
        old: u64,
        /// The size of the latest checkpoint cosigned for the origin.
        known: u64,
    },
    /// A checkpoint of size 0 whose root is not the empty tree's.
    #[error("a checkpoint of size 0 must have the empty tree's root")]
    NotEmptyRoot,
    /// A proof given from the empty tree, where none is needed.
    #[error("a proof from size 0 must be empty")]
    ProofNotEmpty,
    /// The proof does not lead from the cosigned tree to the new one.
    #[error("no consistency from the cosigned tree of {old} records to {new}: {why}")]
    Inconsistent {
        /// The size cosigned last.
        old: u64,
        /// The checkpoint's size.
        new: u64,
        /// What the proof check found.
        why: merkle::VerifyError,
    },
    /// The witness's own record of the origin could not be read.
    #[error("the witness's state cannot be read: {0}")]
    State(String),
    /// The checkpoint could not be cosigned.
    #[error("cannot cosign: {0}")]
    Cosign(CosignError),
}

impl Refusal {
    /// The HTTP status c2sp.org/tlog-witness gives this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) | Refusal::OldBeyondSize { .. } => 400,
            Refusal::Unsigned(_) => 403,
            Refusal::UnknownOrigin(_) => 404,
            Refusal::Conflict { .. } => 409,
            Refusal::NotEmptyRoot | Refusal::ProofNotEmpty | Refusal::Inconsistent { .. } => 422,
            Refusal::State(_) | Refusal::Cosign(_) => 500,
        }
    }
}

/// A checkpoint cosigned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosigned {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The cosignature line, with its newline.
    pub line: String,
    /// The note as given, with the cosignature added: what the witness keeps.
    pub note: String,
}

/// A witness: its key, the log keys it trusts, and optionally the only
/// origins it witnesses.
#[derive(Clone, Debug)]
pub struct Witness {
    /// The witness's signer key.
    pub signer: WitnessSigner,
    /// The log keys whose checkpoints it cosigns.
    pub logs: Vec<VerifierKey>,
    /// When not empty, the only origins it witnesses (others: 404).
    pub origins: Vec<String>,
}

impl Witness {
    /// The witness's verifier key.
    pub fn verifier(&self) -> WitnessVerifier {
        self.signer.verifier()
    }

    /// Reads the note the witness kept for an origin: it must carry the
    /// witness's own valid cosignature, so that a state file edited by
    /// someone else is not believed.
    ///
    /// # Errors
    /// A note that is not a checkpoint, or lacks a valid cosignature of
    /// this witness.
    pub fn read_state(&self, note: &str) -> Result<(Checkpoint, LogState), CosignError> {
        cosign::verify(note, &self.verifier())?;
        let text = note::parse(note)
            .map_err(|e| CosignError::Malformed(e.to_string()))?
            .0;
        let cp = Checkpoint::parse(text)
            .map_err(|e| CosignError::Malformed(format!("not a checkpoint: {e}")))?;
        let state = LogState {
            size: cp.size,
            root: cp.root,
        };
        Ok((cp, state))
    }

    /// Decides whether to cosign `note`, a checkpoint signed by its log,
    /// given `old`, the size the caller believes the witness cosigned last,
    /// and a consistency proof from there. `known` gives the latest
    /// checkpoint cosigned for an origin (`None`: never). Cosigns at `now`
    /// (POSIX seconds) when every check holds.
    ///
    /// # Errors
    /// A [`Refusal`] in the order the protocol checks: a malformed note,
    /// an unknown origin, a missing or bad log signature, an old size beyond
    /// the checkpoint's, an old size that is not the known one, then the
    /// consistency checks.
    pub fn check(
        &self,
        old: u64,
        proof: &[Digest],
        note: &str,
        known: impl FnOnce(&str) -> Result<Option<LogState>, String>,
        now: u64,
    ) -> Result<Cosigned, Refusal> {
        let (text, _) = note::parse(note).map_err(|e| Refusal::Malformed(e.to_string()))?;
        let cp = Checkpoint::parse(text)
            .map_err(|e| Refusal::Malformed(format!("not a checkpoint: {e}")))?;
        if !self.origins.is_empty() && !self.origins.contains(&cp.origin) {
            return Err(Refusal::UnknownOrigin(cp.origin));
        }
        note::open(note, &self.logs).map_err(|e| match e {
            e @ (NoteError::BadSignature { .. } | NoteError::NoVerifiedSignature) => {
                Refusal::Unsigned(e)
            }
            e => Refusal::Malformed(e.to_string()),
        })?;
        if old > cp.size {
            return Err(Refusal::OldBeyondSize { old, size: cp.size });
        }
        let known = known(&cp.origin).map_err(Refusal::State)?;
        let known_size = known.as_ref().map_or(0, |k| k.size);
        if old != known_size {
            return Err(Refusal::Conflict {
                old,
                known: known_size,
            });
        }
        if cp.size == 0 && cp.root != merkle::empty_root() {
            return Err(Refusal::NotEmptyRoot);
        }
        match known {
            None => {
                if !proof.is_empty() {
                    return Err(Refusal::ProofNotEmpty);
                }
            }
            Some(k) if k.size == 0 => {
                if !proof.is_empty() {
                    return Err(Refusal::ProofNotEmpty);
                }
            }
            Some(k) => merkle::verify_consistency(k.size, cp.size, &k.root, &cp.root, proof)
                .map_err(|why| Refusal::Inconsistent {
                    old: k.size,
                    new: cp.size,
                    why,
                })?,
        }
        let line = self.signer.cosign(text, now).map_err(Refusal::Cosign)?;
        let note = cosign::add(note, &line).map_err(Refusal::Cosign)?;
        Ok(Cosigned {
            checkpoint: cp,
            line,
            note,
        })
    }
}

/// An `add-checkpoint` request: the old size, the proof and the note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The size the client believes the witness cosigned last.
    pub old: u64,
    /// The consistency proof from `old` to the checkpoint's size.
    pub proof: Vec<Digest>,
    /// The checkpoint's signed note.
    pub note: String,
}

/// Parses a canonical decimal: digits only, no leading zero but `0` itself.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// Parses one proof line: the base64 of a 32-byte hash.
pub fn parse_proof_line(line: &str) -> Result<Digest, String> {
    let raw = BASE64.decode(line).map_err(|e| {
        format!(
            "proof line {line:?} is not base64: {}",
            note::base64_reason(e)
        )
    })?;
    raw.as_slice()
        .try_into()
        .map_err(|_| format!("proof line {line:?} is {} bytes, want 32", raw.len()))
}

/// Parses an `add-checkpoint` request body: `old N`, up to 63 proof lines,
/// a blank line, then the signed checkpoint.
///
/// # Errors
/// A message saying what is malformed (a 400 answer).
pub fn parse_request(body: &[u8]) -> Result<Request, String> {
    if body.len() > MAX_REQUEST {
        return Err(format!(
            "the request is {} bytes, limit is {MAX_REQUEST}",
            body.len()
        ));
    }
    let body = std::str::from_utf8(body).map_err(|_| "the request is not UTF-8".to_string())?;
    let (first, mut rest) = body
        .split_once('\n')
        .ok_or("the request has no old size line")?;
    let old = first
        .strip_prefix("old ")
        .and_then(parse_decimal)
        .ok_or_else(|| format!("the first line is {first:?}, not `old N`"))?;
    let mut proof = Vec::new();
    loop {
        let (line, after) = rest
            .split_once('\n')
            .ok_or("the request has no blank line before the checkpoint")?;
        rest = after;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err(format!("more than {MAX_PROOF_LINES} proof lines"));
        }
        proof.push(parse_proof_line(line)?);
    }
    if rest.is_empty() {
        return Err("the request has no checkpoint".into());
    }
    Ok(Request {
        old,
        proof,
        note: rest.to_owned(),
    })
}

/// The answer to an `add-checkpoint` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The content type of `body`.
    pub content_type: &'static str,
    /// The body: the cosignature line (200), the known size (409), or why.
    pub body: String,
    /// On 200, what the witness must keep before it answers.
    pub cosigned: Option<Cosigned>,
}

/// Answers a `POST /add-checkpoint` with this body (c2sp.org/tlog-witness).
/// The caller persists `cosigned` before it sends the answer, and holds the
/// witness's state locked from `known` to then.
pub fn add_checkpoint(
    body: &[u8],
    witness: &Witness,
    known: impl FnOnce(&str) -> Result<Option<LogState>, String>,
    now: u64,
) -> Reply {
    let refused = |r: Refusal| Reply {
        status: r.status(),
        content_type: if matches!(r, Refusal::Conflict { .. }) {
            SIZE_CONTENT_TYPE
        } else {
            "text/plain; charset=utf-8"
        },
        body: match r {
            Refusal::Conflict { known, .. } => format!("{known}\n"),
            r => format!("{r}\n"),
        },
        cosigned: None,
    };
    let req = match parse_request(body) {
        Ok(r) => r,
        Err(why) => return refused(Refusal::Malformed(why)),
    };
    match witness.check(req.old, &req.proof, &req.note, known, now) {
        Ok(c) => Reply {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: c.line.clone(),
            cosigned: Some(c),
        },
        Err(r) => refused(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::SignerKey;

    fn leaves(n: u64, salt: u8) -> merkle::MemTree {
        merkle::MemTree::from_leaves((0..n).map(|i| {
            let mut d = [salt; 32];
            d[..8].copy_from_slice(&i.to_be_bytes());
            merkle::leaf_hash(&d)
        }))
    }

    fn log() -> SignerKey {
        SignerKey::from_seed("log.example/ledger", &[3; 32]).unwrap()
    }

    fn witness() -> Witness {
        Witness {
            signer: WitnessSigner::from_signer(
                &SignerKey::from_seed("witness.example/w1", &[4; 32]).unwrap(),
            ),
            logs: vec![log().verifier()],
            origins: Vec::new(),
        }
    }

    fn checkpoint(tree: &merkle::MemTree, size: u64, key: &SignerKey) -> String {
        let cp = Checkpoint {
            origin: "log.example/ledger".into(),
            size,
            root: merkle::root(size, &mut tree.clone()).unwrap(),
            extensions: vec![],
        };
        note::sign(&cp.to_text(), key).unwrap()
    }

    fn body(old: u64, proof: &[Digest], note: &str) -> Vec<u8> {
        let mut b = format!("old {old}\n");
        for d in proof {
            b.push_str(&BASE64.encode(d));
            b.push('\n');
        }
        b.push('\n');
        b.push_str(note);
        b.into_bytes()
    }

    fn state(tree: &merkle::MemTree, size: u64) -> Option<LogState> {
        Some(LogState {
            size,
            root: merkle::root(size, &mut tree.clone()).unwrap(),
        })
    }

    #[test]
    fn a_first_checkpoint_then_an_extension_are_cosigned() {
        let w = witness();
        let t = leaves(20, 0);
        let r = add_checkpoint(
            &body(0, &[], &checkpoint(&t, 7, &log())),
            &w,
            |_| Ok(None),
            5,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let c = r.cosigned.unwrap();
        assert_eq!(r.body, c.line);
        let (cp, st) = w.read_state(&c.note).unwrap();
        assert_eq!((cp.size, st.size), (7, 7));
        assert_eq!(cosign::verify(&c.note, &w.verifier()).unwrap().time, 5);
        // The log's key still opens what the witness keeps.
        note::open(&c.note, &[log().verifier()]).unwrap();

        let proof = merkle::consistency_proof(7, 20, &mut t.clone()).unwrap();
        let r = add_checkpoint(
            &body(7, &proof, &checkpoint(&t, 20, &log())),
            &w,
            |_| Ok(Some(st.clone())),
            6,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        // The same size again, same root: cosigned again.
        let r = add_checkpoint(
            &body(20, &[], &checkpoint(&t, 20, &log())),
            &w,
            |_| Ok(state(&t, 20)),
            7,
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }

    #[test]
    fn a_stale_old_size_is_409_with_the_known_size() {
        let w = witness();
        let t = leaves(20, 0);
        let r = add_checkpoint(
            &body(0, &[], &checkpoint(&t, 20, &log())),
            &w,
            |_| Ok(state(&t, 12)),
            5,
        );
        assert_eq!(r.status, 409);
        assert_eq!(r.body, "12\n");
        assert_eq!(r.content_type, "text/x.tlog.size");
        assert!(r.cosigned.is_none());
    }

    #[test]
    fn a_fork_or_a_bad_proof_is_422() {
        let w = witness();
        let (a, b) = (leaves(20, 0), leaves(20, 1));
        // b's proof from its own tree of 7, against what the witness saw of a.
        let proof = merkle::consistency_proof(7, 20, &mut b.clone()).unwrap();
        let r = add_checkpoint(
            &body(7, &proof, &checkpoint(&b, 20, &log())),
            &w,
            |_| Ok(state(&a, 7)),
            5,
        );
        assert_eq!(r.status, 422, "{}", r.body);
        // The same size with another root.
        let r = add_checkpoint(
            &body(7, &[], &checkpoint(&b, 7, &log())),
            &w,
            |_| Ok(state(&a, 7)),
            5,
        );
        assert_eq!(r.status, 422);
        // A proof from 0, and a size 0 with a root that is not the empty tree's.
        let proof = merkle::consistency_proof(7, 20, &mut a.clone()).unwrap();
        let r = add_checkpoint(
            &body(0, &proof, &checkpoint(&a, 20, &log())),
            &w,
            |_| Ok(None),
            5,
        );
        assert_eq!(r.status, 422);
        let zero = note::sign(
            "log.example/ledger\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
            &log(),
        )
        .unwrap();
        let r = add_checkpoint(&body(0, &[], &zero), &w, |_| Ok(None), 5);
        assert_eq!(r.status, 422);
    }

    #[test]
    fn an_unknown_key_is_403_an_unknown_origin_404_bad_input_400() {
        let mut w = witness();
        let t = leaves(20, 0);
        let stranger = SignerKey::from_seed("log.example/ledger", &[9; 32]).unwrap();
        let r = add_checkpoint(
            &body(0, &[], &checkpoint(&t, 7, &stranger)),
            &w,
            |_| Ok(None),
            5,
        );
        assert_eq!(r.status, 403, "{}", r.body);
        // A line of the trusted key's name and id that does not verify.
        let good = checkpoint(&t, 7, &log());
        let forged = good.replace("\n7\n", "\n8\n");
        let r = add_checkpoint(&body(0, &[], &forged), &w, |_| Ok(None), 5);
        assert_eq!(r.status, 403);
        // Rollback: old beyond the checkpoint's size.
        let r = add_checkpoint(&body(12, &[], &good), &w, |_| Ok(state(&t, 12)), 5);
        assert_eq!(r.status, 400);
        for bad in [
            &b"old 01\n\n"[..],
            b"new 0\n\n",
            b"old 0\nnot base64\n\n",
            b"old 0\n",
            b"old 0\n\n",
            b"\xff",
        ] {
            let r = add_checkpoint(bad, &w, |_| Ok(None), 5);
            assert_eq!(r.status, 400, "{:?}", String::from_utf8_lossy(bad));
        }
        let r = add_checkpoint(&body(0, &[], "no signatures\n"), &w, |_| Ok(None), 5);
        assert_eq!(r.status, 400);
        let many = vec![[0u8; 32]; 64];
        let r = add_checkpoint(&body(0, &many, &good), &w, |_| Ok(None), 5);
        assert_eq!(r.status, 400);
        let r = add_checkpoint(&vec![b'x'; MAX_REQUEST + 1], &w, |_| Ok(None), 5);
        assert_eq!(r.status, 400);
        w.origins = vec!["another/origin".into()];
        let r = add_checkpoint(&body(0, &[], &good), &w, |_| Ok(None), 5);
        assert_eq!(r.status, 404);
    }

    #[test]
    fn a_state_without_the_witness_cosignature_is_not_believed() {
        let w = witness();
        let t = leaves(20, 0);
        let signed = checkpoint(&t, 7, &log());
        assert!(w.read_state(&signed).is_err());
        let other = Witness {
            signer: WitnessSigner::from_signer(
                &SignerKey::from_seed("witness.example/w1", &[5; 32]).unwrap(),
            ),
            ..witness()
        };
        let kept = other.check(0, &[], &signed, |_| Ok(None), 1).unwrap().note;
        assert!(w.read_state(&kept).is_err());
        assert!(other.read_state(&kept).is_ok());
    }
}
