//! Keys, checkpoints, proofs and evidence: `key generate`, `checkpoint`,
//! `prove`, `verify --against`, `evidence` and `check-evidence`.

use super::args::{Cli, KeyCommand, Output, QueryArgs};
use super::failure::{Failure, Result, INTEGRITY};
use super::flags::query_from;
use super::open::open;
use super::output::{write_new, NewFile};
use super::verify::{head_json, parse_head_token, print_verify};
use demarche::cosign::{self, CosignError};
use demarche::evidence::{self, EvidenceError};
use demarche::ledger::{b64, Ledger};
use demarche::merkle;
use demarche::note::{self, Checkpoint, NoteError, SignerKey, VerifierKey};
use serde_json::json;
use std::io::Write;
use std::path::Path;

/// Reads a small text file named on the command line.
pub(super) fn read_text(path: &Path, what: &str) -> Result<String> {
    let meta = std::fs::metadata(path).map_err(|e| {
        Failure::reading(
            e.kind() == std::io::ErrorKind::NotFound,
            format!("cannot read {what} {}: {e}", path.display()),
        )
    })?;
    if meta.len() > evidence::MAX_BUNDLE as u64 {
        return Err(Failure::usage(format!(
            "{} is {} bytes: too large for {what}",
            path.display(),
            meta.len()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::io(format!("cannot read {what} {}: {e}", path.display())))?;
    String::from_utf8(bytes)
        .map_err(|_| Failure::usage(format!("{} is not UTF-8 text: not {what}", path.display())))
}

pub(super) fn signer(path: &Path) -> Result<SignerKey> {
    let text = read_text(path, "a signer key")?;
    note::parse_signer(text.trim_end()).map_err(|e| {
        Failure::usage(format!("{}: {e}", path.display()))
            .hint("pass the PREFIX.key file that `demarche key generate` wrote")
    })
}

pub(super) fn verifier(path: &Path) -> Result<VerifierKey> {
    let text = read_text(path, "a verifier key")?;
    note::parse_verifier(text.trim_end()).map_err(|e| {
        Failure::usage(format!("{}: {e}", path.display()))
            .hint("pass the PREFIX.vkey file that `demarche key generate` wrote")
    })
}

/// Writes a new file, refusing to overwrite one unless `force`; `private`
/// files are readable by their owner only.
/// `demarche key generate`.
pub fn key(k: &KeyCommand, out: &mut impl Write) -> Result<u8> {
    let KeyCommand::Generate {
        name,
        out: prefix,
        force,
    } = k;
    let (signer, verifier) = note::generate_key(name).map_err(|e| match e {
        NoteError::Random(m) => Failure::io(format!("no randomness for a key: {m}")),
        e => Failure::usage(format!("--name: {e}"))
            .hint("a key name has no spaces or '+', for example newsroom.example/ledger"),
    })?;
    let with = |ext: &str| {
        let mut p = prefix.clone().into_os_string();
        p.push(ext);
        std::path::PathBuf::from(p)
    };
    let (key_path, vkey_path) = (with(".key"), with(".vkey"));
    if !force {
        for p in [&key_path, &vkey_path] {
            if p.exists() {
                return Err(Failure::usage(format!("{} already exists", p.display()))
                    .hint("pass --force to overwrite the key pair, or choose another --out"));
            }
        }
    }
    // Both files are written in full before either takes its name: a failure
    // leaves the old pair as it was.
    let mut key_file = NewFile::create(&key_path, *force, true)?;
    let mut vkey_file = match NewFile::create(&vkey_path, *force, false) {
        Ok(f) => f,
        Err(f) => {
            key_file.abandon();
            return Err(f);
        }
    };
    let written = writeln!(key_file.writer(), "{}", signer.to_text())
        .and_then(|()| writeln!(vkey_file.writer(), "{}", verifier.to_text()))
        .map_err(Failure::from)
        .and_then(|()| key_file.sync())
        .and_then(|()| vkey_file.sync());
    if let Err(f) = written {
        key_file.abandon();
        vkey_file.abandon();
        return Err(f);
    }
    key_file.finish()?;
    vkey_file.finish()?;
    writeln!(out, "{}", verifier.to_text())?;
    eprintln!(
        "wrote {} (private: keep it secret) and {} (give it to whoever checks your checkpoints)",
        key_path.display(),
        vkey_path.display()
    );
    Ok(0)
}

fn ledger_checkpoint(ledger: &mut Ledger) -> Result<Checkpoint> {
    Ok(evidence::checkpoint(ledger)?)
}

/// `demarche checkpoint`.
pub fn checkpoint(cli: &Cli, sign: Option<&Path>, o: Output, out: &mut impl Write) -> Result<u8> {
    let key = sign.map(signer).transpose()?;
    let mut ledger = open(cli, false)?;
    // A checkpoint that is signed comes from the chain, verified, never from
    // the stored tree alone.
    let cp = match key {
        Some(_) => evidence::checkpoint_from_chain(&ledger)?,
        None => ledger_checkpoint(&mut ledger)?,
    };
    let text = match &key {
        Some(k) => {
            note::sign(&cp.to_text(), k).map_err(|e| Failure::usage(format!("cannot sign: {e}")))?
        }
        None => cp.to_text(),
    };
    // Remembered for `status` (derived data: a read-only reader skips it).
    ledger
        .store()
        .put_meta(&[("checkpoint", text.as_bytes())])?;
    if o.json {
        writeln!(
            out,
            "{}",
            json!({"origin": cp.origin, "size": cp.size, "root": b64(&cp.root), "head": head_json(&ledger.head()?), "note": text})
        )?;
    } else {
        write!(out, "{text}")?;
    }
    Ok(0)
}

/// A checkpoint read from a file: its note opened with `key` when given (a
/// bad signature is an integrity failure), else its text taken as it is.
fn read_checkpoint(file: &Path, key: Option<&Path>) -> Result<Checkpoint> {
    let text = read_text(file, "a checkpoint")?;
    let body = match key {
        Some(k) => {
            let v = verifier(k)?;
            note::open(&text, &[v])
                .map_err(|e| match e {
                    e @ (NoteError::BadSignature { .. } | NoteError::NoVerifiedSignature) => {
                        Failure::integrity(format!("{}: {e}", file.display()))
                            .hint("the checkpoint was not signed by this key, or was altered")
                    }
                    e => Failure::usage(format!("{}: {e}", file.display())),
                })?
                .text
        }
        None => evidence::note_text(&text).unwrap_or(&text).to_string(),
    };
    Checkpoint::parse(&body).map_err(|e| {
        Failure::usage(format!("{}: not a checkpoint: {e}", file.display()))
            .hint("use the output of `demarche checkpoint`")
    })
}

/// The checkpoint must be of this ledger.
fn check_origin(ledger: &mut Ledger, cp: &Checkpoint, file: &Path) -> Result<()> {
    let mine = ledger_checkpoint(ledger)?;
    if mine.origin != cp.origin {
        return Err(Failure::integrity(format!(
            "{} is a checkpoint of {}, not of this ledger ({})",
            file.display(),
            cp.origin,
            mine.origin
        )));
    }
    Ok(())
}

/// An inclusion proof of record `seq` in the tree of `size` records, checked
/// against that tree's root before anyone sees it: a damaged stored tree is
/// caught here, not by the reader.
pub(super) struct Inclusion {
    seq: u64,
    size: u64,
    hash: demarche::event::Hash,
    leaf: merkle::Digest,
    root: merkle::Digest,
    proof: Vec<merkle::Digest>,
}

impl Inclusion {
    /// The proof, checked. `size` must not be beyond the tree.
    pub(super) fn checked(ledger: &Ledger, seq: u64, size: u64) -> Result<Inclusion> {
        if seq == 0 || seq > size {
            return Err(Failure::usage(format!(
                "seq {seq} is not in the tree of {size} records"
            )));
        }
        let hash = ledger.get(seq)?.hash;
        let proof = ledger.inclusion_proof(seq, size)?;
        let root = ledger.tree_root(size)?;
        let leaf = demarche::tree::leaf(&hash);
        merkle::verify_inclusion(&leaf, seq - 1, size, &proof, &root).map_err(|e| {
            Failure::integrity(format!(
                "the stored Merkle tree gives a proof that does not verify: {e}"
            ))
            .hint("run `demarche verify`")
        })?;
        Ok(Inclusion {
            seq,
            size,
            hash,
            leaf,
            root,
            proof,
        })
    }

    /// As `prove --json` prints it.
    pub(super) fn json(&self) -> serde_json::Value {
        json!({
            "seq": self.seq,
            "leaf_index": self.seq - 1,
            "tree_size": self.size,
            "chain_hash": self.hash.to_hex(),
            "leaf_hash": b64(&self.leaf),
            "root": b64(&self.root),
            "proof": self.proof.iter().map(|d| b64(d)).collect::<Vec<_>>(),
        })
    }
}

/// `demarche prove SEQ`.
pub fn prove(
    cli: &Cli,
    seq: u64,
    checkpoint: Option<&Path>,
    key: Option<&Path>,
    o: Output,
    out: &mut impl Write,
) -> Result<u8> {
    let cp = checkpoint.map(|f| read_checkpoint(f, key)).transpose()?;
    let mut ledger = open(cli, false)?;
    let (now, _) = ledger.tree_head()?;
    let size = match (&cp, checkpoint) {
        (Some(cp), Some(file)) => {
            check_origin(&mut ledger, cp, file)?;
            if cp.size > now {
                return Err(Failure::integrity(format!(
                    "the checkpoint states {} records; the ledger holds {now}: it was cut short",
                    cp.size
                ))
                .hint("run `demarche verify --against` with that checkpoint"));
            }
            let root = ledger.tree_root(cp.size)?;
            if root != cp.root {
                return Err(Failure::integrity(format!(
                        "the ledger's tree of {} records does not have the checkpoint's root: history was rewritten",
                        cp.size
                    )).hint("run `demarche verify --against` with that checkpoint"));
            }
            cp.size
        }
        _ => now,
    };
    let inc = Inclusion::checked(&ledger, seq, size)?;
    let (hash, proof, root, leaf) = (&inc.hash, &inc.proof, inc.root, inc.leaf);
    if o.json {
        writeln!(out, "{}", inc.json())?;
    } else {
        writeln!(
            out,
            "inclusion proof of seq {seq} in the tree of {size} records (RFC 6962, SHA-256)"
        )?;
        writeln!(out, "leaf index  {}", seq - 1)?;
        writeln!(out, "chain hash  {}  (the leaf's data)", hash.to_hex())?;
        writeln!(out, "leaf hash   {}", b64(&leaf))?;
        writeln!(out, "root        {}", b64(&root))?;
        for (i, d) in proof.iter().enumerate() {
            writeln!(
                out,
                "{}{}",
                if i == 0 {
                    "proof       "
                } else {
                    "            "
                },
                b64(d)
            )?;
        }
    }
    Ok(0)
}

/// What `verify --against` checks the checkpoint with.
pub struct Against<'a> {
    /// The log's verifier key.
    pub key: Option<&'a Path>,
    /// Witnesses whose cosignatures the checkpoint must carry.
    pub witnesses: &'a [std::path::PathBuf],
    /// A head the ledger must pass through.
    pub expect_head: Option<&'a str>,
}

/// A witness's verifier key read from a file.
pub(super) fn witness_verifier(path: &Path) -> Result<cosign::WitnessVerifier> {
    let text = read_text(path, "a witness's verifier key")?;
    cosign::parse_verifier(text.trim_end()).map_err(|e| {
        Failure::usage(format!("{}: {e}", path.display()))
            .hint("pass the witness's key as `demarche witness vkey --key WITNESS.key` prints it")
    })
}

/// The cosignatures of each witness on the checkpoint file, each required.
fn cosignatures(file: &Path, witnesses: &[std::path::PathBuf]) -> Result<Vec<cosign::Cosignature>> {
    let keys = witnesses
        .iter()
        .map(|p| witness_verifier(p))
        .collect::<Result<Vec<_>>>()?;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let text = read_text(file, "a checkpoint")?;
    keys.iter()
        .map(|w| {
            cosign::verify(&text, w).map_err(|e| match e {
                e @ (CosignError::Malformed(_) | CosignError::InvalidKey(_)) => {
                    Failure::usage(format!("{}: {e}", file.display()))
                }
                e => Failure::integrity(format!("{}: {e}", file.display())).hint(format!(
                    "the witness {} has not cosigned this checkpoint, or it was altered since",
                    w.name()
                )),
            })
        })
        .collect()
}

/// A POSIX time as RFC 3339.
fn posix_time(t: u64) -> String {
    i64::try_from(t)
        .ok()
        .and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map_or_else(|| t.to_string(), |t| t.to_string())
}

/// `demarche verify --against CHECKPOINT`.
pub fn verify_against(
    cli: &Cli,
    file: &Path,
    against: Against<'_>,
    o: Output,
    out: &mut impl Write,
) -> Result<u8> {
    let Against {
        key,
        witnesses,
        expect_head,
    } = against;
    let expect = expect_head.map(parse_head_token).transpose()?;
    let cp = read_checkpoint(file, key)?;
    let cosigned = cosignatures(file, witnesses)?;
    let mut ledger = open(cli, false)?;
    let report = ledger.verify(expect)?;
    if !report.is_intact() {
        print_verify(out, &report, o.json)?;
        return Ok(INTEGRITY);
    }
    check_origin(&mut ledger, &cp, file)?;
    let size = report.head.size;
    let root = report.tree_root.expect("an intact chain has a tree root");
    let mut failure = |why: String| -> Result<u8> {
        if o.json {
            writeln!(
                out,
                "{}",
                json!({"intact": false, "extends": false, "checkpoint": {"size": cp.size, "root": b64(&cp.root)}, "problem": why})
            )?;
        } else {
            writeln!(out, "TAMPERED: the ledger does not extend the checkpoint")?;
            writeln!(out, "  {why}")?;
        }
        Ok(INTEGRITY)
    };
    if cp.size == 0 {
        // Every tree extends the empty one, whose root is SHA-256 of nothing.
        if cp.root != merkle::empty_root() {
            return failure(
                "a checkpoint of 0 records with a root other than the empty tree's".into(),
            );
        }
    } else if cp.size > size {
        return failure(format!(
            "the checkpoint states {} records, the ledger holds {size}: records were cut off",
            cp.size
        ));
    }
    let proof = if cp.size == size || cp.size == 0 {
        Vec::new()
    } else {
        ledger.consistency_proof(cp.size, size)?
    };
    let consistent = if cp.size == 0 {
        Ok(())
    } else if cp.size == size {
        (cp.root == root)
            .then_some(())
            .ok_or_else(|| "same size, different root".to_string())
    } else {
        merkle::verify_consistency(cp.size, size, &cp.root, &root, &proof)
            .map_err(|e| e.to_string())
    };
    if let Err(why) = consistent {
        return failure(format!(
            "no consistency proof from the checkpoint's {} records to today's {size}: {why}; history below the checkpoint was rewritten",
            cp.size
        ));
    }
    if o.json {
        writeln!(
            out,
            "{}",
            json!({
                "intact": true,
                "extends": true,
                "checked": report.checked,
                "head": head_json(&report.head),
                "root": b64(&root),
                "checkpoint": {"origin": cp.origin, "size": cp.size, "root": b64(&cp.root)},
                "signature_checked": key.is_some(),
                "cosigned_by": cosigned.iter().map(|c| json!({"witness": c.name, "key_id": format!("{:08x}", c.key_id), "time": c.time})).collect::<Vec<_>>(),
                "consistency_proof": proof.iter().map(|d| b64(d)).collect::<Vec<_>>(),
            })
        )?;
    } else {
        writeln!(
            out,
            "intact: {} events verified, head {}",
            report.checked,
            report.head.token()
        )?;
        writeln!(
            out,
            "extends the checkpoint of {} records (root {}): consistency proof of {} hashes to root {}",
            cp.size,
            b64(&cp.root),
            proof.len(),
            b64(&root)
        )?;
        for c in &cosigned {
            writeln!(
                out,
                "cosigned by witness {}+{:08x} at {}",
                c.name,
                c.key_id,
                posix_time(c.time)
            )?;
        }
        if key.is_none() {
            writeln!(
                out,
                "note: the checkpoint's signature was not checked (pass --key KEY.vkey): this proves consistency with the checkpoint as written, not who wrote it"
            )?;
        }
    }
    Ok(0)
}

/// `demarche prove --from CHECKPOINT`: the consistency proof from the
/// checkpoint's tree to today's. Today's root is the one the verified chain
/// makes, and the proof is checked between the checkpoint's root and it
/// before it is printed.
pub fn prove_from(
    cli: &Cli,
    file: &Path,
    key: Option<&Path>,
    o: Output,
    out: &mut impl Write,
) -> Result<u8> {
    let cp = read_checkpoint(file, key)?;
    let mut ledger = open(cli, false)?;
    check_origin(&mut ledger, &cp, file)?;
    let now = evidence::checkpoint_from_chain(&ledger)?;
    let rewritten = |size: u64| {
        Failure::integrity(format!(
            "the ledger's tree of {size} records does not have the checkpoint's root: history was rewritten"
        ))
        .hint("run `demarche verify --against` with that checkpoint")
    };
    if cp.size > now.size {
        return Err(Failure::integrity(format!(
            "the checkpoint states {} records; the ledger holds {}: it was cut short",
            cp.size, now.size
        ))
        .hint("run `demarche verify --against` with that checkpoint"));
    }
    let proof = if cp.size == 0 {
        if cp.root != merkle::empty_root() {
            return Err(rewritten(0));
        }
        Vec::new()
    } else if cp.size == now.size {
        if cp.root != now.root {
            return Err(rewritten(cp.size));
        }
        Vec::new()
    } else {
        if ledger.tree_root(cp.size)? != cp.root {
            return Err(rewritten(cp.size));
        }
        let proof = ledger.consistency_proof(cp.size, now.size)?;
        // The proof is checked before it is shown, between the checkpoint's
        // root and the one the chain makes: a damaged stored tree is caught here.
        merkle::verify_consistency(cp.size, now.size, &cp.root, &now.root, &proof).map_err(
            |e| {
                Failure::integrity(format!(
                    "the stored Merkle tree gives a proof that does not verify: {e}"
                ))
                .hint("run `demarche verify`")
            },
        )?;
        proof
    };
    if o.json {
        writeln!(
            out,
            "{}",
            json!({
                "origin": now.origin,
                "old_size": cp.size,
                "new_size": now.size,
                "old_root": b64(&cp.root),
                "new_root": b64(&now.root),
                "proof": proof.iter().map(|d| b64(d)).collect::<Vec<_>>(),
            })
        )?;
    } else {
        for d in &proof {
            writeln!(out, "{}", b64(d))?;
        }
        eprintln!(
            "consistency proof from {} to {} records: {} hashes (root {})",
            cp.size,
            now.size,
            proof.len(),
            b64(&now.root)
        );
    }
    Ok(0)
}

/// `demarche evidence`.
pub fn evidence(
    cli: &Cli,
    query: &QueryArgs,
    view: Option<&str>,
    sign: &Path,
    output: &Path,
    force: bool,
) -> Result<u8> {
    let key = signer(sign)?;
    let mut ledger = open(cli, false)?;
    let query = query_from(&mut ledger, query)?;
    let bundle = evidence::build_view(&ledger, &query, view, &key)?;
    let positions = bundle["positions"].as_array().map_or(0, Vec::len);
    let records = bundle["records"].as_array().map_or(0, Vec::len);
    let mut text = serde_json::to_string_pretty(&bundle).expect("JSON");
    text.push('\n');
    write_new(output, text.as_bytes(), force, false)?;
    if positions == 0 {
        eprintln!("note: no positions match; the bundle says so, with its signed checkpoint");
    }
    eprintln!(
        "wrote {}: {positions} positions, {records} records with inclusion proofs, checkpoint signed by {}",
        output.display(),
        key.name()
    );
    Ok(0)
}

/// `demarche check-evidence`.
pub fn check_evidence(bundle: &Path, key: &Path, o: Output, out: &mut impl Write) -> Result<u8> {
    let key = verifier(key)?;
    let text = read_text(bundle, "an evidence bundle")?;
    match evidence::check(&text, &key) {
        Ok(c) => {
            if o.json {
                writeln!(
                    out,
                    "{}",
                    json!({"valid": true, "origin": c.checkpoint.origin, "tree_size": c.checkpoint.size, "root": b64(&c.checkpoint.root), "signers": c.signers, "positions": c.positions, "records": c.records})
                )?;
            } else {
                writeln!(
                    out,
                    "{}: {} positions follow from {} records, each proven in the tree of {} records of {} (root {}), signed by {}",
                    super::paint("valid", super::GREEN),
                    c.positions,
                    c.records,
                    c.checkpoint.size,
                    c.checkpoint.origin,
                    b64(&c.checkpoint.root),
                    c.signers.join(", ")
                )?;
            }
            Ok(0)
        }
        Err(EvidenceError::Invalid(why)) => {
            if o.json {
                writeln!(out, "{}", json!({"valid": false, "problem": why}))?;
            } else {
                writeln!(out, "{}: {why}", super::paint("INVALID", super::RED))?;
            }
            Ok(INTEGRITY)
        }
        Err(e @ EvidenceError::Malformed(_)) => {
            Err(Failure::usage(format!("{}: {e}", bundle.display()))
                .hint("pass a file written by `demarche evidence`"))
        }
    }
}
