//! Witness cosignatures of checkpoints: c2sp.org/tlog-cosignature, the
//! Ed25519 type (`cosignature/v1`, signature type `0x04`).
//!
//! A cosignature is one more signature line on a checkpoint's signed note,
//! `— <witness name> base64(key id || timestamp || signature)`, where
//!
//! * the key id is the first four bytes, big-endian, of
//!   `SHA-256(name || "\n" || 0x04 || 32-byte Ed25519 public key)`;
//! * the timestamp is eight bytes, big-endian: the POSIX time (seconds) of
//!   the cosignature, at most 2^63 - 1;
//! * the signature is Ed25519 over `cosignature/v1\ntime <T>\n` followed by
//!   the whole checkpoint text (with its final newline, without signatures).
//!
//! A witness's signer key is an Ed25519 seed in the form [`crate::note`]
//! reads (`PRIVATE+KEY+...`, as `demarche key generate` writes it); its
//! verifier key is a C2SP vkey of type `0x04`:
//! `<name>+<hex key id>+base64(0x04 || public key)`. One key pair should
//! serve one purpose: a witness's key signs cosignatures only.
//!
//! Parsing is strict, as in [`crate::note`]: a note that is not well formed,
//! or a line of the witness's name and key id that is not 72 bytes, is kept
//! apart ([`CosignError::is_malformed`]) from a cosignature that does not
//! verify or is missing ([`CosignError::is_verification_failure`]). Pure: no
//! I/O, the time is given.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

use crate::note::{self, Checkpoint, NoteError, SignerKey, SIGNATURE_PREFIX};

/// Signature type byte of timestamped Ed25519 checkpoint cosignatures.
pub const COSIGNATURE_TYPE: u8 = 0x04;

/// The first line of every signed message: domain separation.
pub const HEADER: &str = "cosignature/v1\n";

/// Bytes of a cosignature after the key id: timestamp and Ed25519 signature.
pub const COSIGNATURE_BYTES: usize = 8 + 64;

/// The largest timestamp a cosignature may carry (2^63 - 1).
pub const MAX_TIME: u64 = i64::MAX as u64;

/// Errors from witness keys, cosigning and checking cosignatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignError {
    /// The note, or the checkpoint text to cosign, is not well formed.
    #[error("malformed note: {0}")]
    Malformed(String),
    /// A witness key text is not well formed, or not of type 0x04.
    #[error("invalid witness key: {0}")]
    InvalidKey(String),
    /// A line of the witness's name and key id does not verify.
    #[error("invalid cosignature from witness {name}+{key_id:08x}")]
    BadCosignature {
        /// The witness's key name.
        name: String,
        /// The witness's key id.
        key_id: u32,
    },
    /// The note carries no line of the witness's name and key id.
    #[error("no cosignature from witness {name}+{key_id:08x}")]
    NoCosignature {
        /// The witness's key name.
        name: String,
        /// The witness's key id.
        key_id: u32,
    },
}

impl CosignError {
    /// Reports whether the error is about bad input (a malformed note or key).
    pub fn is_malformed(&self) -> bool {
        matches!(self, CosignError::Malformed(_) | CosignError::InvalidKey(_))
    }

    /// Reports whether the note is well formed but lacks a valid cosignature.
    pub fn is_verification_failure(&self) -> bool {
        !self.is_malformed()
    }
}

fn malformed(msg: impl Into<String>) -> CosignError {
    CosignError::Malformed(msg.into())
}

fn invalid_key(msg: impl Into<String>) -> CosignError {
    CosignError::InvalidKey(msg.into())
}

fn from_note(e: NoteError) -> CosignError {
    match e {
        NoteError::InvalidKey(m) => CosignError::InvalidKey(m),
        e => CosignError::Malformed(e.to_string()),
    }
}

/// The key id of a witness's Ed25519 key: the first four bytes, big-endian,
/// of `SHA-256(name || "\n" || 0x04 || public key)`.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([COSIGNATURE_TYPE]);
    h.update(public_key);
    let sum = h.finalize();
    u32::from_be_bytes([sum[0], sum[1], sum[2], sum[3]])
}

/// The message a witness signs: `cosignature/v1\ntime <T>\n` and the
/// checkpoint's text.
pub fn signed_message(checkpoint: &str, time: u64) -> String {
    format!("{HEADER}time {time}\n{checkpoint}")
}

/// A witness's public key, to check its cosignatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl WitnessVerifier {
    /// Builds a witness verifier from its name and raw Ed25519 public key.
    ///
    /// # Errors
    /// [`CosignError::InvalidKey`] for a bad name or a key that is not an
    /// Ed25519 point.
    pub fn from_public_key(name: &str, public_key: &[u8; 32]) -> Result<Self, CosignError> {
        note::check_name(name).map_err(CosignError::InvalidKey)?;
        let key = VerifyingKey::from_bytes(public_key)
            .map_err(|_| invalid_key("public key is not a valid ed25519 point"))?;
        Ok(WitnessVerifier {
            name: name.to_owned(),
            key_id: key_id(name, public_key),
            key,
        })
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id (of signature type 0x04).
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The vkey text `<name>+<hex id>+base64(0x04 || public key)`.
    pub fn to_text(&self) -> String {
        let mut raw = [0u8; 33];
        raw[0] = COSIGNATURE_TYPE;
        raw[1..].copy_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, BASE64.encode(raw))
    }
}

impl fmt::Display for WitnessVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// Parses a witness's vkey `<name>+<hex id>+base64(0x04 || public key)`.
///
/// # Errors
/// [`CosignError::InvalidKey`] if the text is not of that form, the type
/// byte is not 0x04 (a log's key of type 0x01 is named as such), the key is
/// not 32 bytes, or the key id does not match the name and key.
pub fn parse_verifier(text: &str) -> Result<WitnessVerifier, CosignError> {
    if text.starts_with("PRIVATE+KEY+") {
        return Err(invalid_key(
            "this is a private signer key, not a witness's verifier key",
        ));
    }
    let (name, id, key64) = note::split_key_text(text).map_err(from_note)?;
    let id = note::parse_hex_id(id).map_err(from_note)?;
    let raw = BASE64.decode(key64).map_err(|e| {
        invalid_key(format!(
            "public key is not valid base64: {}",
            note::base64_reason(e)
        ))
    })?;
    let Some((&ty, key)) = raw.split_first() else {
        return Err(invalid_key("public key is empty"));
    };
    match ty {
        COSIGNATURE_TYPE => {}
        note::ED25519_TYPE => {
            return Err(invalid_key(
                "this is a signed-note verifier key (type 0x01, a log's key), not a witness's cosignature key (type 0x04)",
            ))
        }
        ty => {
            return Err(invalid_key(format!(
                "unsupported signature type 0x{ty:02x} (only 0x04, ed25519 cosignatures, is supported)"
            )))
        }
    }
    let key: [u8; 32] = key.try_into().map_err(|_| {
        invalid_key(format!(
            "public key has {} bytes after the type byte, want 32",
            key.len()
        ))
    })?;
    let want = key_id(name, &key);
    if id != want {
        return Err(invalid_key(format!(
            "key id {id:08x} does not match key (want {want:08x})"
        )));
    }
    WitnessVerifier::from_public_key(name, &key)
}

/// A witness's private key, to cosign checkpoints. The secret is zeroized on
/// drop and never printed by `Debug`.
#[derive(Clone)]
pub struct WitnessSigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl fmt::Debug for WitnessSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WitnessSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl WitnessSigner {
    /// The witness key of a signer key's seed, under the same name.
    pub fn from_signer(key: &SignerKey) -> Self {
        let key_ed = key.ed25519().clone();
        WitnessSigner {
            name: key.name().to_owned(),
            key_id: key_id(key.name(), key_ed.verifying_key().as_bytes()),
            key: key_ed,
        }
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id (of signature type 0x04).
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> WitnessVerifier {
        WitnessVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// Cosigns a checkpoint's text (without its signatures) at POSIX time
    /// `time`; returns the signature line, with its final newline.
    ///
    /// # Errors
    /// [`CosignError::Malformed`] when the text is not a checkpoint or the
    /// time is beyond [`MAX_TIME`].
    pub fn cosign(&self, checkpoint: &str, time: u64) -> Result<String, CosignError> {
        Checkpoint::parse(checkpoint).map_err(|e| malformed(format!("not a checkpoint: {e}")))?;
        if checkpoint
            .split('\n')
            .any(|l| l.starts_with(SIGNATURE_PREFIX))
        {
            return Err(malformed("text line starts with the signature prefix"));
        }
        if time > MAX_TIME {
            return Err(malformed(format!("time {time} is beyond 2^63 - 1")));
        }
        let sig = self
            .key
            .sign(signed_message(checkpoint, time).as_bytes())
            .to_bytes();
        let mut raw = [0u8; 4 + COSIGNATURE_BYTES];
        raw[..4].copy_from_slice(&self.key_id.to_be_bytes());
        raw[4..12].copy_from_slice(&time.to_be_bytes());
        raw[12..].copy_from_slice(&sig);
        Ok(format!(
            "{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            BASE64.encode(raw)
        ))
    }
}

/// A cosignature that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosignature {
    /// The witness's name.
    pub name: String,
    /// The witness's key id.
    pub key_id: u32,
    /// When the witness cosigned (POSIX seconds).
    pub time: u64,
}

/// Checks that a signed checkpoint carries a valid cosignature from
/// `witness`. Lines of other keys (the log's own signature, other witnesses)
/// are not checked; every line of the witness's name and key id must verify.
/// Returns the latest time among them.
///
/// # Errors
/// * [`CosignError::Malformed`]: the note is not a well-formed signed note
///   ([`note::open`]'s rules) or its text not a checkpoint;
/// * [`CosignError::BadCosignature`]: a line of the witness's name and key
///   id is not 72 bytes, carries a time beyond 2^63 - 1, or does not verify;
/// * [`CosignError::NoCosignature`]: no line of that name and key id.
pub fn verify(note: &str, witness: &WitnessVerifier) -> Result<Cosignature, CosignError> {
    let (text, lines) = note::parse(note).map_err(from_note)?;
    Checkpoint::parse(text).map_err(|e| malformed(format!("not a checkpoint: {e}")))?;
    let bad = || CosignError::BadCosignature {
        name: witness.name.clone(),
        key_id: witness.key_id,
    };
    let mut latest: Option<u64> = None;
    for (_, raw) in lines
        .iter()
        .filter(|(s, _)| s.name == witness.name && s.key_id == witness.key_id)
    {
        let raw: &[u8; COSIGNATURE_BYTES] = raw.as_slice().try_into().map_err(|_| bad())?;
        let time = u64::from_be_bytes(raw[..8].try_into().expect("eight bytes"));
        if time > MAX_TIME {
            return Err(bad());
        }
        let signature =
            ed25519_dalek::Signature::from_bytes(raw[8..].try_into().expect("64 bytes"));
        witness
            .key
            .verify_strict(signed_message(text, time).as_bytes(), &signature)
            .map_err(|_| bad())?;
        latest = Some(latest.map_or(time, |t: u64| t.max(time)));
    }
    match latest {
        Some(time) => Ok(Cosignature {
            name: witness.name.clone(),
            key_id: witness.key_id,
            time,
        }),
        None => Err(CosignError::NoCosignature {
            name: witness.name.clone(),
            key_id: witness.key_id,
        }),
    }
}

/// Adds a cosignature line (as [`WitnessSigner::cosign`] makes it) to a
/// signed note, in place of any earlier line of the same name and key id.
///
/// # Errors
/// [`CosignError::Malformed`] when the note or the line is not well formed.
pub fn add(note: &str, line: &str) -> Result<String, CosignError> {
    let (text, lines) = note::parse(note).map_err(from_note)?;
    let body = line
        .strip_suffix('\n')
        .ok_or_else(|| malformed("cosignature line does not end with a newline"))?;
    let (new, _) = note::parse_signature_line(body).map_err(from_note)?;
    let mut out = format!("{text}\n");
    for (sig, _) in &lines {
        if sig.name == new.name && sig.key_id == new.key_id {
            continue;
        }
        out.push_str(&format!("{SIGNATURE_PREFIX}{} {}\n", sig.name, sig.base64));
    }
    out.push_str(line);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    fn witness(seed: u8) -> WitnessSigner {
        WitnessSigner::from_signer(
            &SignerKey::from_seed("witness.example/w1", &[seed; 32]).unwrap(),
        )
    }

    fn log_key() -> SignerKey {
        SignerKey::from_seed("example.com/behind-the-sofa", &[7; 32]).unwrap()
    }

    #[test]
    fn the_signed_message_is_the_spec_example() {
        assert_eq!(
            signed_message(TEXT, 1679315147),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn the_spec_example_line_reads_as_key_id_time_and_signature() {
        // The cosignature of c2sp.org/tlog-cosignature's example: its time is
        // the one of the spec's signed message, 1679315147.
        let line = "\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";
        let (sig, raw) = note::parse_signature_line(line).unwrap();
        assert_eq!(sig.name, "witness.example.com/w1");
        assert_eq!(sig.key_id, 0x8d66_cf3f);
        assert_eq!(raw.len(), COSIGNATURE_BYTES);
        assert_eq!(u64::from_be_bytes(raw[..8].try_into().unwrap()), 1679315147);
        // Beside the log's line, the note still opens with the log's key.
        let note = format!(
            "{TEXT}\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n{line}\n"
        );
        let (text, lines) = note::parse(&note).unwrap();
        assert_eq!(text, TEXT);
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn key_ids_use_type_0x04_and_vkeys_round_trip() {
        let w = witness(1);
        let v = w.verifier();
        let pk = v.public_key();
        assert_eq!(v.key_id(), key_id("witness.example/w1", &pk));
        assert_ne!(v.key_id(), note::key_id("witness.example/w1", &pk));
        let text = v.to_text();
        let raw = BASE64.decode(text.rsplit('+').next().unwrap()).unwrap();
        assert_eq!(raw[0], 0x04);
        assert_eq!(parse_verifier(&text).unwrap(), v);
        // A log's vkey of the same seed is refused, naming the type.
        let log = SignerKey::from_seed("witness.example/w1", &[1; 32])
            .unwrap()
            .verifier()
            .to_text();
        let e = parse_verifier(&log).unwrap_err();
        assert!(e.to_string().contains("type 0x01"), "{e}");
        assert!(e.is_malformed());
        // A wrong key id, a private key, garbage.
        let wrong = text.replacen(&format!("{:08x}", v.key_id()), "00000000", 1);
        assert!(parse_verifier(&wrong).is_err());
        assert!(parse_verifier(&SignerKey::from_seed("w", &[1; 32]).unwrap().to_text()).is_err());
        assert!(parse_verifier("w+00000000+AAAA").is_err());
    }

    fn signed_by_log() -> String {
        note::sign(TEXT, &log_key()).unwrap()
    }

    #[test]
    fn a_cosignature_verifies_beside_the_logs_signature() {
        let w = witness(1);
        let line = w.cosign(TEXT, 1_795_953_600).unwrap();
        let note = add(&signed_by_log(), &line).unwrap();
        let c = verify(&note, &w.verifier()).unwrap();
        assert_eq!(c.time, 1_795_953_600);
        assert_eq!(c.name, "witness.example/w1");
        // The log's key still opens the note; the cosignature is one it does not know.
        let opened = note::open(&note, &[log_key().verifier()]).unwrap();
        assert_eq!(opened.unverified.len(), 1);
        // Adding it again replaces it.
        let again = add(&note, &w.cosign(TEXT, 1_795_953_601).unwrap()).unwrap();
        assert_eq!(again.lines().count(), note.lines().count());
        assert_eq!(verify(&again, &w.verifier()).unwrap().time, 1_795_953_601);
    }

    #[test]
    fn a_tampered_cosignature_another_key_or_another_checkpoint_fail() {
        let w = witness(1);
        let line = w.cosign(TEXT, 1_795_953_600).unwrap();
        let note = add(&signed_by_log(), &line).unwrap();
        // Another witness (same name, other key: another key id) finds none.
        let other = witness(2).verifier();
        assert!(matches!(
            verify(&note, &other),
            Err(CosignError::NoCosignature { .. })
        ));
        // A flipped bit of the signature.
        let sig64 = line.trim_end().rsplit(' ').next().unwrap();
        let mut raw = BASE64.decode(sig64).unwrap();
        raw[40] ^= 1;
        let tampered = note.replace(sig64, &BASE64.encode(&raw));
        let e = verify(&tampered, &w.verifier()).unwrap_err();
        assert!(matches!(e, CosignError::BadCosignature { .. }));
        assert!(e.is_verification_failure());
        // The time changed: the signature covers it.
        let mut raw = BASE64.decode(sig64).unwrap();
        raw[11] ^= 1;
        let retimed = note.replace(sig64, &BASE64.encode(&raw));
        assert!(matches!(
            verify(&retimed, &w.verifier()),
            Err(CosignError::BadCosignature { .. })
        ));
        // The same line moved onto another checkpoint.
        let other_text = TEXT.replace("20852163", "20852164");
        let moved = add(&note::sign(&other_text, &log_key()).unwrap(), &line).unwrap();
        assert!(matches!(
            verify(&moved, &w.verifier()),
            Err(CosignError::BadCosignature { .. })
        ));
        // A line of the witness's name and id with a log-style 64-byte signature.
        let mut short = BASE64.decode(sig64).unwrap();
        short.truncate(4 + 64);
        let cut = note.replace(sig64, &BASE64.encode(&short));
        assert!(matches!(
            verify(&cut, &w.verifier()),
            Err(CosignError::BadCosignature { .. })
        ));
    }

    #[test]
    fn malformed_notes_are_kept_apart() {
        let w = witness(1).verifier();
        for bad in [
            "",
            TEXT,
            "not a checkpoint\n\n\u{2014} w AAAAAAAA\n",
            "a\n1\nAAAA\n\n\u{2014} w AAAAAAAA\n",
        ] {
            let e = verify(bad, &w).unwrap_err();
            assert!(e.is_malformed(), "{bad:?}: {e}");
        }
        assert!(witness(1).cosign("not\na checkpoint\n", 1).is_err());
        assert!(witness(1).cosign(TEXT, MAX_TIME + 1).is_err());
    }
}
