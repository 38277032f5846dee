//! `demarche witness`: a witness's key (`vkey`), cosigning by hand
//! (`cosign`), and the tlog-witness HTTP protocol (`serve`, in `http.rs`),
//! over one state directory: per origin, the latest checkpoint cosigned.

mod http;

use super::args::{Output, WitnessCommand, WitnessKeys};
use super::failure::{Failure, Result};
use super::proofs::{read_text, signer, verifier};
use demarche::cosign::WitnessSigner;
use demarche::evidence;
use demarche::ledger::b64;
use demarche::merkle::Digest;
use demarche::note::{Checkpoint, MAX_NOTE_SIZE};
use demarche::witness::{self, LogState, Refusal, Witness};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `demarche witness ...`.
pub(super) fn run(w: &WitnessCommand, out: &mut impl Write) -> Result<u8> {
    match w {
        WitnessCommand::Vkey { key } => {
            let w = WitnessSigner::from_signer(&signer(key)?);
            writeln!(out, "{}", w.verifier())?;
            Ok(0)
        }
        WitnessCommand::Cosign {
            keys,
            checkpoint,
            proof,
            cosignature_only,
            out: o,
        } => cosign(
            keys,
            checkpoint,
            proof.as_deref(),
            *cosignature_only,
            *o,
            out,
        ),
        WitnessCommand::Serve { keys, addr } => {
            let (witness, state) = witness_from(keys)?;
            http::serve(witness, state, *addr)
        }
    }
}

/// The witness the flags describe, and its state directory.
fn witness_from(keys: &WitnessKeys) -> Result<(Witness, StateDir)> {
    let signer = WitnessSigner::from_signer(&signer(&keys.key)?);
    let logs = keys
        .log_keys
        .iter()
        .map(|p| verifier(p))
        .collect::<Result<Vec<_>>>()?;
    let dir = match &keys.state {
        Some(d) => d.clone(),
        None => dirs::data_dir()
            .map(|d| d.join("demarche").join("witness"))
            .ok_or_else(|| {
                Failure::usage("cannot find the user's data directory").hint("pass --state DIR")
            })?,
    };
    Ok((
        Witness {
            signer,
            logs,
            origins: keys.origins.clone(),
        },
        StateDir { dir },
    ))
}

/// The time a cosignature states: `DEMARCHE_NOW` when set, else the clock.
fn now() -> Result<u64> {
    if let Some(us) = super::open::clock()? {
        return u64::try_from(us.div_euclid(1_000_000))
            .map_err(|_| Failure::usage("DEMARCHE_NOW is before 1970"));
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|_| Failure::io("the system clock is before 1970"))
}

/// The witness's memory: one file per origin, named by the SHA-256 of the
/// origin in hex, holding the latest checkpoint cosigned for it (the log's
/// signed note with the witness's cosignature), written whole and renamed.
pub(super) struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    fn path(&self, origin: &str) -> PathBuf {
        use sha2::Digest as _;
        let name = demarche::hex::encode(&sha2::Sha256::digest(origin.as_bytes()));
        self.dir.join(name)
    }

    /// Locks the directory against other witness processes (`.lock` in
    /// it), from reading an origin's state to keeping the new one; released
    /// when the file returned is dropped.
    fn lock(&self) -> std::io::Result<std::fs::File> {
        std::fs::create_dir_all(&self.dir)?;
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(".lock"))?;
        f.lock()?;
        Ok(f)
    }

    /// The latest checkpoint cosigned for `origin`, believed only when it
    /// carries the witness's own valid cosignature and is of that origin.
    fn load(
        &self,
        witness: &Witness,
        origin: &str,
    ) -> std::result::Result<Option<LogState>, String> {
        let path = self.path(origin);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        if bytes.len() > MAX_NOTE_SIZE {
            return Err(format!("{} is too large for a checkpoint", path.display()));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("{} is not UTF-8 text", path.display()))?;
        let (cp, state) = witness
            .read_state(&text)
            .map_err(|e| format!("{} is not believed: {e}", path.display()))?;
        if cp.origin != origin {
            return Err(format!(
                "{} holds a checkpoint of {}, not of {origin}",
                path.display(),
                cp.origin
            ));
        }
        Ok(Some(state))
    }

    /// Keeps `note` as the latest checkpoint cosigned for `origin`: written
    /// beside its name, synced, renamed over it, and the directory synced.
    fn save(&self, origin: &str, note: &str) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(origin);
        let tmp = self.dir.join(format!(
            ".{}.{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("state"),
            std::process::id()
        ));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(note.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written?;
        #[cfg(unix)]
        std::fs::File::open(&self.dir)?.sync_all()?;
        Ok(path)
    }
}

/// A proof file: `old N` (optional), then base64 hashes one per line; or
/// the JSON of `prove --from --json`.
fn read_proof(path: &Path) -> Result<(Option<u64>, Vec<Digest>)> {
    let text = read_text(path, "a consistency proof")?;
    let bad = |why: String| {
        Failure::usage(format!(
            "{}: not a consistency proof: {why}",
            path.display()
        ))
        .hint("pass what `demarche prove --from LAST_COSIGNED` prints")
    };
    if text.trim_start().starts_with('{') {
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("bad JSON: {e}")))?;
        let old = v["old_size"]
            .as_u64()
            .ok_or_else(|| bad("no old_size".into()))?;
        let proof = v["proof"]
            .as_array()
            .ok_or_else(|| bad("no proof array".into()))?
            .iter()
            .map(|h| {
                h.as_str()
                    .ok_or_else(|| "a proof hash is not a string".to_string())
                    .and_then(witness::parse_proof_line)
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(bad)?;
        return Ok((Some(old), proof));
    }
    let mut old = None;
    let mut proof = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        if i == 0 {
            if let Some(n) = line.strip_prefix("old ") {
                old = Some(
                    n.parse::<u64>()
                        .map_err(|_| bad(format!("{line:?} is not `old N`")))?,
                );
                continue;
            }
        }
        if proof.len() == witness::MAX_PROOF_LINES {
            return Err(bad(format!(
                "more than {} hashes",
                witness::MAX_PROOF_LINES
            )));
        }
        proof.push(witness::parse_proof_line(line).map_err(bad)?);
    }
    Ok((old, proof))
}

/// `demarche witness cosign`.
fn cosign(
    keys: &WitnessKeys,
    file: &Path,
    proof: Option<&Path>,
    cosignature_only: bool,
    o: Output,
    out: &mut impl Write,
) -> Result<u8> {
    let (witness, state) = witness_from(keys)?;
    let note = read_text(file, "a checkpoint")?;
    let (proof_old, proof) = match proof {
        Some(p) => read_proof(p)?,
        None => (None, Vec::new()),
    };
    let origin = evidence::note_text(&note)
        .and_then(|t| Checkpoint::parse(t).ok())
        .map(|cp| cp.origin)
        .ok_or_else(|| {
            Failure::usage(format!("{}: not a signed checkpoint", file.display()))
                .hint("pass a checkpoint signed by its log (`demarche checkpoint --sign`)")
        })?;
    let _locked = state.lock().map_err(|e| {
        Failure::io(format!(
            "cannot lock the witness's state in {}: {e}",
            state.dir.display()
        ))
    })?;
    let known = state.load(&witness, &origin).map_err(|m| {
        Failure::integrity(format!("the witness's state for {origin}: {m}"))
            .hint("restore the state file from a backup; nothing was cosigned")
    })?;
    let old = known.as_ref().map_or(0, |k| k.size);
    if let Some(p) = proof_old.filter(|&p| p != old) {
        return Err(Failure::usage(format!(
            "the proof is from a tree of {p} records; this witness cosigned {old} of {origin} last"
        ))
        .hint(format!(
            "on the log's side, prove from the checkpoint of {old} records that was cosigned"
        )));
    }
    let now = now()?;
    let c = witness
        .check(old, &proof, &note, |_| Ok(known.clone()), now)
        .map_err(|r| refusal(r, file, &origin, proof.is_empty()))?;
    let path = state.save(&origin, &c.note).map_err(|e| {
        Failure::io(format!(
            "cannot keep the witness's state in {}: {e}",
            state.dir.display()
        ))
        .hint("nothing was cosigned: the cosignature is given only once it is kept")
    })?;
    if o.json {
        writeln!(
            out,
            "{}",
            json!({
                "origin": c.checkpoint.origin,
                "size": c.checkpoint.size,
                "root": b64(&c.checkpoint.root),
                "old_size": old,
                "witness": witness.signer.name(),
                "key_id": format!("{:08x}", witness.signer.key_id()),
                "time": now,
                "cosignature": c.line.trim_end(),
                "note": c.note,
            })
        )?;
    } else if cosignature_only {
        write!(out, "{}", c.line)?;
    } else {
        write!(out, "{}", c.note)?;
    }
    eprintln!(
        "cosigned {} at {} records (cosigned before: {old}); kept in {}",
        c.checkpoint.origin,
        c.checkpoint.size,
        path.display()
    );
    Ok(0)
}

/// Why a checkpoint was not cosigned, as a failure with its exit code.
fn refusal(r: Refusal, file: &Path, origin: &str, no_proof: bool) -> Failure {
    let f = file.display();
    match r {
        Refusal::Malformed(m) => Failure::usage(format!("{f}: {m}")),
        Refusal::UnknownOrigin(o) => {
            Failure::usage(format!("{f}: a checkpoint of {o}, which this witness does not witness"))
                .hint("pass --origin for each log this witness witnesses")
        }
        Refusal::Unsigned(e) => Failure::integrity(format!(
            "{f}: not signed by a log key given: {e}; nothing was cosigned"
        ))
        .hint("pass the log's verifier key with --log-key, or the checkpoint was altered"),
        Refusal::OldBeyondSize { old, size } => Failure::integrity(format!(
            "refused: this witness cosigned {old} records of {origin}, and the checkpoint states {size}: a log never shrinks (a rollback)"
        )),
        Refusal::Conflict { old, known } => Failure::usage(format!(
            "the proof is from {old} records; this witness cosigned {known} last"
        )),
        Refusal::NotEmptyRoot => Failure::integrity(format!(
            "{f}: a checkpoint of 0 records whose root is not the empty tree's"
        )),
        Refusal::ProofNotEmpty => Failure::usage(format!(
            "this witness has cosigned nothing of {origin} yet: the first checkpoint needs no proof"
        ))
        .hint("drop --proof"),
        Refusal::Inconsistent { old, new, why } if why.is_malformed() && no_proof => {
            Failure::usage(format!(
                "a consistency proof from {old} to {new} records is needed: this witness cosigned {old} records of {origin}"
            ))
            .hint("on the log's side: `demarche prove --from LAST_COSIGNED > proof`, then pass --proof proof")
        }
        Refusal::Inconsistent { old, new, why } if why.is_malformed() => Failure::usage(format!(
            "the proof does not fit a proof from {old} to {new} records: {why}"
        ))
        .hint("pass what `demarche prove --from` prints for the checkpoint cosigned last"),
        Refusal::Inconsistent { old, new, why } => Failure::integrity(format!(
            "refused: the checkpoint of {new} records does not extend the one of {old} records this witness cosigned ({why}): the log forked"
        )),
        Refusal::State(m) => Failure::io(m),
        Refusal::Cosign(e) => Failure::usage(format!("{f}: {e}")),
    }
}
