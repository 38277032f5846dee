//! Checkpoints of the ledger's Merkle tree, and evidence bundles: positions
//! with every statement they rest on, each with an inclusion proof against a
//! signed checkpoint, checkable offline by anyone with the verifier key.
//!
//! A bundle is one JSON object:
//!
//! ```text
//! {"format": "demarche-evidence 2",
//!  "checkpoint": "<C2SP signed note of the tree's checkpoint>",
//!  "query": {"as_of": DATE|null, "known_at": {"seq": N}|{"time": RFC3339}|null,
//!            "filter": {"party", "stance", "predicate", "subject", "location",
//!                       "includes": {"party", "subject", "location"},
//!                       "coded_by" and "min_mentions" when set},
//!            "view": "withdrawal"|"presence" (only in a bundle of one view)},
//!  "positions": [<as `positions --json` prints them>],
//!  "records": [<export line> + "proof": [base64 hashes]], in seq order}
//! ```
//!
//! The records are the statements the positions rest on and the corrections
//! and retractions of them. [`check`] re-hashes each record from its fields,
//! checks its inclusion proof against the signed root, and folds the records
//! under the query with the projection's own rules: the positions must come
//! out exactly as the bundle states them.
//!
//! Format 2 bundles state each position's `modality`; bundles of format 1,
//! made before modalities, are still checked by the rule they were made under
//! (one position per proposition, whatever the modality).
//!
//! What a bundle cannot show: that the ledger holds no *other* statement that
//! would change a position (a later denial, say). It proves that the records
//! are in the signed ledger and that the positions follow from them.

use crate::dates;
use crate::event::{Entry, Event, Hash, Recorded, Seq};
use crate::export::{self, ExportRecord};
use crate::json::view::PositionJson;
use crate::ledger::{b64, Ledger, LedgerError};
use crate::merkle;
use crate::note::{self, Checkpoint, NoteError, SignerKey, VerifierKey};
use crate::projection::{self, Chain as _, Filter, Includes, KnownAt, Query};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// Why a checkpoint or a bundle could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Reading the ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The ledger holds no event: there is no tree to checkpoint.
    #[error("the ledger is empty: there is nothing to checkpoint")]
    Empty,
    /// The key could not sign the checkpoint.
    #[error("cannot sign the checkpoint: {0}")]
    Sign(NoteError),
    /// The chain does not verify: nothing is signed over it.
    #[error("the ledger does not verify, so nothing is signed over it: {0}")]
    Damaged(crate::chain::Problem),
}

/// The `format` of a bundle made now: its positions carry their modality.
pub const FORMAT: &str = "demarche-evidence 2";

/// The `format` of bundles made before modalities: still checked, by the rule
/// they were made under (one position per proposition, no `modality` field).
pub const FORMAT_1: &str = "demarche-evidence 1";

/// The largest bundle [`check`] reads.
pub const MAX_BUNDLE: usize = 256 << 20;

/// The checkpoint origin of a ledger: `demarche/` and the first 16 hex digits
/// of its first record's chain hash. A ledger rebuilt from an export has the
/// same origin, as it is the same log.
pub fn origin(first_hash: &Hash) -> String {
    format!("demarche/{}", &first_hash.to_hex()[..16])
}

/// The checkpoint of the ledger now: origin, tree size and root, and an
/// extension line `chain SIZE:HASH` with the chain head it matches.
///
/// # Errors
/// An empty ledger (which has no origin yet); store failures.
pub fn checkpoint(ledger: &Ledger) -> Result<Checkpoint, BuildError> {
    let head = ledger.head()?;
    if head.size == 0 {
        return Err(BuildError::Empty);
    }
    let first = ledger.get(1)?.hash;
    let (size, root) = ledger.tree_head()?;
    Ok(Checkpoint {
        origin: origin(&first),
        size,
        root,
        extensions: vec![format!("chain {}", head.token())],
    })
}

/// The ledger's checkpoint derived from the chain alone, for what is signed:
/// the chain is verified first (every hash, link and the head), and the root
/// is the one its chain hashes make, never read from the stored tree.
///
/// # Errors
/// An empty ledger; a chain or stored tree that does not verify; store failures.
pub fn checkpoint_from_chain(ledger: &Ledger) -> Result<Checkpoint, BuildError> {
    let head = ledger.head()?;
    if head.size == 0 {
        return Err(BuildError::Empty);
    }
    let report = ledger.verify_for_signing(None)?;
    if let Some(problem) = report.problem {
        return Err(BuildError::Damaged(problem));
    }
    let root = report.tree_root.expect("an intact chain has its root");
    let first = ledger.get(1)?.hash;
    Ok(Checkpoint {
        origin: origin(&first),
        size: head.size,
        root,
        extensions: vec![format!("chain {}", head.token())],
    })
}

/// The text of a signed note without checking its signatures: everything up
/// to and including the newline before the blank line that precedes them.
pub fn note_text(note: &str) -> Option<&str> {
    note.rfind("\n\n").map(|i| &note[..=i])
}

fn query_json(q: &Query, view: Option<&str>) -> Value {
    let f = &q.filter;
    let mut v = json!({
        "as_of": q.as_of.map(|d| d.to_string()),
        "known_at": match q.known_at {
            None => Value::Null,
            Some(KnownAt::Seq(s)) => json!({"seq": s}),
            Some(KnownAt::Time(t)) => json!({"time": dates::format_recorded_at(t)}),
        },
        "filter": {
            "party": f.party, "stance": f.stance, "predicate": f.predicate,
            "subject": f.subject, "location": f.location,
            "includes": {
                "party": f.includes.party, "subject": f.includes.subject,
                "location": f.includes.location,
            },
        },
    });
    // The coder filters, only when set: bundles without them read as before.
    if let Some(by) = &f.coded_by {
        v["filter"]["coded_by"] = json!(by);
    }
    if let Some(n) = f.min_mentions {
        v["filter"]["min_mentions"] = json!(n);
    }
    // Only a bundle of one view says so: others read as they did before.
    if let Some(view) = view {
        v["view"] = view.into();
    }
    v
}

/// Builds the bundle for `query`, signed with `key`.
///
/// # Errors
/// An empty ledger; store failures; a damaged tree; a key that cannot sign.
pub fn build(ledger: &Ledger, query: &Query, key: &SignerKey) -> Result<Value, BuildError> {
    build_view(ledger, query, None, key)
}

/// [`build`], holding only the positions of a named view
/// ([`projection::VIEWS`]) and the records they rest on; the bundle's
/// `query.view` names it, and [`check`] derives the same view.
///
/// # Errors
/// As [`build`].
pub fn build_view(
    ledger: &Ledger,
    query: &Query,
    view: Option<&str>,
    key: &SignerKey,
) -> Result<Value, BuildError> {
    let cp = checkpoint_from_chain(ledger)?;
    // What is signed is derived from the chain, never from a cached snapshot.
    // Only the positions shown are built.
    let positions: Vec<_> = ledger
        .answer_replay(query)?
        .iter()
        .filter(|p| view.is_none_or(|v| p.in_view(v)))
        .map(|p| p.to_position())
        .collect();
    let mut included: BTreeSet<Seq> = positions
        .iter()
        .flat_map(|p| p.statements.iter().copied())
        .collect();
    // Corrections and retractions of what is included (and of those), so that
    // a checker resolves them as the ledger did.
    for r in ledger.amendment_entries(1, query.known_at)? {
        let of = match &r.event {
            Some(Event::Correction(c)) => c.of,
            Some(Event::Retraction(x)) => x.of,
            _ => continue,
        };
        if included.contains(&of) {
            included.insert(r.seq);
        }
    }
    let mut records = Vec::with_capacity(included.len());
    for seq in included {
        let r = ledger.get(seq)?;
        let proof = ledger.inclusion_proof(seq, cp.size)?;
        let mut v = serde_json::to_value(export::export_line(&r)).expect("JSON");
        v["proof"] = proof.iter().map(|d| Value::from(b64(d))).collect();
        records.push(v);
    }
    let bundle = json!({
        "format": FORMAT,
        "query": query_json(query, view),
        "positions": positions.iter().map(|p| serde_json::to_value(PositionJson(p)).expect("JSON")).collect::<Vec<_>>(),
        "records": records,
    });
    seal(bundle, cp, key).map_err(BuildError::Sign)
}

/// Signs a bundle's content: adds the evidence line with the content's digest
/// to checkpoint `cp` (dropping any earlier one), signs it, and sets the
/// bundle's `checkpoint`.
///
/// # Errors
/// A checkpoint that cannot be signed.
pub fn seal(mut bundle: Value, mut cp: Checkpoint, key: &SignerKey) -> Result<Value, NoteError> {
    cp.extensions.retain(|e| !e.starts_with(EVIDENCE_LINE));
    cp.extensions
        .push(format!("{EVIDENCE_LINE}{}", b64(&content_digest(&bundle))));
    bundle["checkpoint"] = note::sign(&cp.to_text(), key)?.into();
    Ok(bundle)
}

/// The checkpoint extension line that binds a bundle's content to its signature.
pub const EVIDENCE_LINE: &str = "evidence sha256:";

/// SHA-256 of a bundle's content: its `format`, `query`, `positions` and
/// `records`, serialised as compact JSON in that order (fields within them in
/// the order the bundle has them).
fn content_digest(bundle: &Value) -> [u8; 32] {
    use sha2::Digest as _;
    let content = json!({
        "format": bundle["format"],
        "query": bundle["query"],
        "positions": bundle["positions"],
        "records": bundle["records"],
    });
    sha2::Sha256::digest(content.to_string().as_bytes()).into()
}

/// Why a bundle does not check.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// Not a bundle: bad JSON, a missing field, a bad key or note (bad input).
    #[error("malformed bundle: {0}")]
    Malformed(String),
    /// A bundle whose signature, proofs or positions do not hold (integrity).
    #[error("invalid evidence: {0}")]
    Invalid(String),
}

fn malformed(m: impl Into<String>) -> EvidenceError {
    EvidenceError::Malformed(m.into())
}

fn invalid(m: impl Into<String>) -> EvidenceError {
    EvidenceError::Invalid(m.into())
}

/// What a bundle that checks states.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The signed checkpoint.
    pub checkpoint: Checkpoint,
    /// Who signed it.
    pub signers: Vec<String>,
    /// Positions the bundle states (all of which follow from its records).
    pub positions: usize,
    /// Records, each proven in the checkpoint's tree.
    pub records: usize,
}

fn field<'a>(m: &'a Map<String, Value>, k: &str) -> Result<&'a Value, EvidenceError> {
    m.get(k)
        .ok_or_else(|| malformed(format!("missing field `{k}`")))
}

fn opt_str(v: &Value, what: &str) -> Result<Option<String>, EvidenceError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(malformed(format!("`{what}` must be a string or null"))),
    }
}

/// Refuses fields other than `allowed`: a renamed field must not pass for a
/// missing one.
fn only(m: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), EvidenceError> {
    match m.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(malformed(format!("unknown field `{k}` in {what}"))),
        None => Ok(()),
    }
}

fn parse_query(v: &Value) -> Result<(Query, Option<String>), EvidenceError> {
    let m = v
        .as_object()
        .ok_or_else(|| malformed("`query` must be an object"))?;
    only(m, &["as_of", "known_at", "filter", "view"], "query")?;
    let view = match m.get("view") {
        None => None,
        Some(Value::String(v)) if projection::VIEWS.contains(&v.as_str()) => Some(v.clone()),
        Some(_) => {
            return Err(malformed(format!(
                "query.view must be one of {}",
                projection::VIEWS.join(", ")
            )))
        }
    };
    let as_of = opt_str(field(m, "as_of")?, "query.as_of")?
        .map(|d| dates::parse_date(&d).map_err(|e| malformed(format!("query.as_of: {e}"))))
        .transpose()?;
    let known_at = match field(m, "known_at")? {
        Value::Null => None,
        Value::Object(k) => match (k.get("seq"), k.get("time"), k.len()) {
            (Some(s), None, 1) => {
                Some(KnownAt::Seq(s.as_u64().ok_or_else(|| {
                    malformed("query.known_at.seq must be a seq")
                })?))
            }
            (None, Some(Value::String(t)), 1) => Some(KnownAt::Time(
                t.parse::<jiff::Timestamp>()
                    .map_err(|e| malformed(format!("query.known_at.time: {e}")))?
                    .as_microsecond(),
            )),
            _ => return Err(malformed("query.known_at must hold one of seq or time")),
        },
        _ => return Err(malformed("query.known_at must be an object or null")),
    };
    let f = field(m, "filter")?
        .as_object()
        .ok_or_else(|| malformed("query.filter must be an object"))?;
    only(
        f,
        &[
            "party",
            "stance",
            "predicate",
            "subject",
            "location",
            "includes",
            "coded_by",
            "min_mentions",
        ],
        "query.filter",
    )?;
    let get = |k: &str| opt_str(field(f, k)?, &format!("query.filter.{k}"));
    // The members counted with each actor (bundles made before there were
    // none say nothing of them).
    let mut includes = Includes::default();
    if let Some(inc) = f.get("includes") {
        let inc = inc
            .as_object()
            .ok_or_else(|| malformed("query.filter.includes must be an object"))?;
        only(
            inc,
            &["party", "subject", "location"],
            "query.filter.includes",
        )?;
        let list = |k: &str| -> Result<Vec<String>, EvidenceError> {
            field(inc, k)?
                .as_array()
                .ok_or_else(|| malformed(format!("query.filter.includes.{k} must be a list")))?
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        malformed(format!("query.filter.includes.{k} must list actor ids"))
                    })
                })
                .collect()
        };
        includes = Includes {
            party: list("party")?,
            subject: list("subject")?,
            location: list("location")?,
        };
    }
    Ok((
        Query {
            as_of,
            known_at,
            filter: Filter {
                party: get("party")?,
                stance: get("stance")?,
                predicate: get("predicate")?,
                subject: get("subject")?,
                location: get("location")?,
                includes,
                coded_by: match f.get("coded_by") {
                    None => None,
                    Some(v) => opt_str(v, "query.filter.coded_by")?,
                },
                min_mentions: match f.get("min_mentions") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(
                        v.as_u64()
                            .and_then(|n| u32::try_from(n).ok())
                            .ok_or_else(|| {
                                malformed("query.filter.min_mentions must be a count")
                            })?,
                    ),
                },
            },
        },
        view,
    ))
}

fn parse_proof(v: Option<&Value>, seq: Seq) -> Result<Vec<merkle::Digest>, EvidenceError> {
    use base64::Engine as _;
    let list = v
        .and_then(Value::as_array)
        .ok_or_else(|| malformed(format!("record {seq}: `proof` must be a list")))?;
    list.iter()
        .map(|h| {
            h.as_str()
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| {
                    malformed(format!(
                        "record {seq}: a proof hash is not 32 bytes of base64"
                    ))
                })
        })
        .collect()
}

/// Checks a bundle offline: the checkpoint's signature by `key`, each record's
/// hashes and inclusion proof, and that the positions follow from the records
/// under the projection's rules.
///
/// # Errors
/// [`EvidenceError::Malformed`] for input that is not a bundle (or a key that
/// is not one); [`EvidenceError::Invalid`] when anything does not hold.
pub fn check(text: &str, key: &VerifierKey) -> Result<Checked, EvidenceError> {
    if text.len() > MAX_BUNDLE {
        return Err(malformed(format!(
            "{} bytes; the limit is {MAX_BUNDLE}",
            text.len()
        )));
    }
    let v: Value = serde_json::from_str(text).map_err(|e| malformed(format!("not JSON: {e}")))?;
    let m = v
        .as_object()
        .ok_or_else(|| malformed("a bundle is a JSON object"))?;
    only(
        m,
        &["format", "checkpoint", "query", "positions", "records"],
        "the bundle",
    )?;
    let format_1 = match field(m, "format")?.as_str() {
        Some(FORMAT) => false,
        Some(FORMAT_1) => true,
        _ => {
            return Err(malformed(format!(
                "`format` is not \"{FORMAT}\" (nor \"{FORMAT_1}\")"
            )))
        }
    };
    let signed = field(m, "checkpoint")?
        .as_str()
        .ok_or_else(|| malformed("`checkpoint` must be a string"))?;
    let opened = note::open(signed, std::slice::from_ref(key)).map_err(|e| match e {
        e @ NoteError::BadSignature { .. } => invalid(format!("the checkpoint's signature: {e}")),
        e @ NoteError::NoVerifiedSignature => {
            let found = note::signers(signed);
            let found = match found.is_empty() {
                true => "no well-formed signature".to_string(),
                false => format!("signed by {}", found.join(", ")),
            };
            invalid(format!(
                "the checkpoint's signature: {e}: {found}, but the key given is {}+{:08x}",
                key.name(),
                key.key_id()
            ))
        }
        e => malformed(format!("the checkpoint note: {e}")),
    })?;
    let cp =
        Checkpoint::parse(&opened.text).map_err(|e| malformed(format!("the checkpoint: {e}")))?;
    // The signature covers the checkpoint, and through its evidence line, all
    // of the bundle: nothing can be added, dropped or changed after signing.
    let lines: Vec<&str> = cp
        .extensions
        .iter()
        .filter_map(|e| e.strip_prefix(EVIDENCE_LINE))
        .collect();
    let [signed_digest] = lines[..] else {
        return Err(malformed(
            "the checkpoint has no (or more than one) evidence line",
        ));
    };
    if signed_digest != b64(&content_digest(&v)) {
        return Err(invalid(
            "the bundle's content is not what was signed: it was changed after signing",
        ));
    }
    let (query, view) = parse_query(field(m, "query")?)?;
    let stated = field(m, "positions")?
        .as_array()
        .ok_or_else(|| malformed("`positions` must be a list"))?;
    let records = field(m, "records")?
        .as_array()
        .ok_or_else(|| malformed("`records` must be a list"))?;
    let mut recorded: Vec<Recorded> = Vec::with_capacity(records.len());
    let mut payload = Vec::new();
    for r in records {
        let mut r = r
            .as_object()
            .ok_or_else(|| malformed("a record must be an object"))?
            .clone();
        let proof_value = r.remove("proof");
        let rec: ExportRecord = export::parse_export_line(&Value::Object(r).to_string())
            .map_err(|e| malformed(format!("a record: {e}")))?;
        let seq = rec.seq;
        let proof = parse_proof(proof_value.as_ref(), seq)?;
        if recorded.last().is_some_and(|p| p.seq >= seq) {
            return Err(malformed("records must be in seq order, each once"));
        }
        if rec.event.is_none() {
            return Err(invalid(format!("record {seq} is redacted")));
        }
        rec.check_hashes(&mut payload)
            .map_err(|why| invalid(format!("record {seq}: {why}")))?;
        let (hash, digest, event) = (rec.hash, rec.digest, rec.event);
        if seq == 0 || seq > cp.size {
            return Err(invalid(format!(
                "record {seq} is beyond the checkpoint's {} records",
                cp.size
            )));
        }
        merkle::verify_inclusion(
            &crate::tree::leaf(&hash),
            seq - 1,
            cp.size,
            &proof,
            &cp.root,
        )
        .map_err(|e| invalid(format!("record {seq}: inclusion proof: {e}")))?;
        recorded.push(Recorded {
            seq,
            recorded_at: rec.recorded_at,
            prev: rec.prev,
            hash,
            digest,
            event,
            payload_len: payload.len() as u32,
            encoding: crate::codec::encoding_of(&payload),
        });
    }
    let entries: Vec<Entry> = recorded.iter().cloned().map(Entry::from).collect();
    let derived: Vec<Value> = match format_1 {
        false => projection::positions(&entries, &query),
        true => projection::positions_without_modalities(&entries, &query),
    }
    .iter()
    .filter(|p| view.as_deref().is_none_or(|v| projection::in_view(p, v)))
    .map(|p| {
        let mut v = serde_json::to_value(PositionJson(p)).expect("JSON");
        if format_1 {
            // What positions of format 1 did not have (its records cannot
            // be of event format 2, so these fields are empty).
            let o = v.as_object_mut().expect("an object");
            for field in [
                "modality",
                "document",
                "condition",
                "deadline",
                "joint_with",
            ] {
                o.remove(field);
            }
        }
        v
    })
    .collect();
    if &derived != stated {
        let first = derived
            .iter()
            .zip(stated)
            .position(|(a, b)| a != b)
            .unwrap_or(derived.len().min(stated.len()));
        return Err(invalid(format!(
            "the positions do not follow from the records: the bundle states {} positions, the records give {}; the first that differs is number {}",
            stated.len(),
            derived.len(),
            first + 1
        )));
    }
    Ok(Checked {
        checkpoint: cp,
        signers: opened.verified.iter().map(|s| s.name.clone()).collect(),
        positions: stated.len(),
        records: recorded.len(),
    })
}
