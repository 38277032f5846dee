//! Signed notes and transparency-log checkpoints.
//!
//! This module implements two C2SP specifications:
//!
//! * **c2sp.org/signed-note**: a text ending in a newline, a blank line, and
//!   one or more signature lines `— <key name> <base64(key id || signature)>`.
//!   Only Ed25519 keys (signature type `0x01`) are supported. Key texts use
//!   the encoding of `golang.org/x/mod/sumdb/note`:
//!   `<name>+<hex key id>+<base64(0x01 || public key)>` for verifier keys and
//!   `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>` for signer keys.
//! * **c2sp.org/tlog-checkpoint**: the note text of a transparency-log
//!   checkpoint (origin, tree size, root hash, optional extension lines).
//!
//! Parsing is strict everywhere. Compared with the Go reference
//! implementation this module is stricter in a few places, all of which
//! only reject inputs that the reference implementation never produces:
//!
//! * key ids in key texts must be exactly eight *lowercase* hex digits;
//! * base64 must be canonical (padded, no stray trailing bits);
//! * key names may not contain control characters;
//! * note texts may not contain a line starting with the signature prefix
//!   `"— "`, both when signing and when opening;
//! * Ed25519 signatures are checked with `verify_strict` (no small-order
//!   keys or `R` values, canonical `S`);
//! * every signature line from a known key is verified, including repeated
//!   lines from the same key, so a corrupted duplicate is not silently
//!   skipped.
//!
//! Errors from [`open`] keep two classes apart: bad input
//! ([`NoteError::is_malformed`]) and failed integrity checks
//! ([`NoteError::is_verification_failure`]).

use std::collections::HashSet;
use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// Signature type identifier byte for Ed25519 (c2sp.org/signed-note).
pub const ED25519_TYPE: u8 = 0x01;

/// Prefix of every signature line: U+2014 EM DASH followed by a space.
pub const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Largest signed note (in bytes) that [`open`] accepts and [`sign`] produces.
pub const MAX_NOTE_SIZE: usize = 1 << 20;

/// Largest number of signature lines [`open`] accepts (the spec requires at
/// least 16; the Go reference implementation allows 100).
pub const MAX_SIGNATURES: usize = 100;

/// Largest checkpoint text (in bytes) that [`Checkpoint::parse`] accepts.
pub const MAX_CHECKPOINT_SIZE: usize = 1 << 16;

const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";
const KEY_BYTES: usize = 32;
const SIGNATURE_BYTES: usize = 64;

/// Errors from key handling, signing and opening signed notes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The note (or the text to sign) is not well formed.
    #[error("malformed note: {0}")]
    Malformed(String),
    /// A key text or key name is not well formed or is inconsistent.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The verifier list holds two different keys with the same name and id.
    #[error("ambiguous key {name}+{key_id:08x}")]
    AmbiguousKey {
        /// Key name shared by the conflicting keys.
        name: String,
        /// Key id shared by the conflicting keys.
        key_id: u32,
    },
    /// A signature from a known key did not verify.
    #[error("invalid signature for key {name}+{key_id:08x}")]
    BadSignature {
        /// Name of the key whose signature failed.
        name: String,
        /// Id of the key whose signature failed.
        key_id: u32,
    },
    /// The note is well formed but no signature is from a known key.
    #[error("note has no verifiable signatures")]
    NoVerifiedSignature,
    /// The operating system's random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(String),
}

impl NoteError {
    /// Reports whether the error is about bad input (a malformed note or
    /// key, or an ambiguous verifier list) rather than a failed signature.
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            NoteError::Malformed(_) | NoteError::InvalidKey(_) | NoteError::AmbiguousKey { .. }
        )
    }

    /// Reports whether the error means the note's integrity could not be
    /// established: a known key's signature failed, or no known key signed.
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            NoteError::BadSignature { .. } | NoteError::NoVerifiedSignature
        )
    }
}

/// ASCII control characters (below U+0020) other than newline, which
/// signed notes must not contain.
pub(crate) fn is_forbidden_control(c: char) -> bool {
    c < ' ' && c != '\n'
}

/// Describes a base64 decoding error as a lowercase phrase.
pub(crate) fn base64_reason(e: base64::DecodeError) -> String {
    use base64::DecodeError as E;
    match e {
        E::InvalidByte(at, b) => format!("invalid character {:?} at offset {at}", char::from(b)),
        E::InvalidLength(n) => format!("invalid length {n}"),
        E::InvalidLastSymbol(at, b) => format!(
            "non-canonical final character {:?} at offset {at}",
            char::from(b)
        ),
        E::InvalidPadding => "missing or invalid padding".to_owned(),
    }
}

fn malformed(msg: impl Into<String>) -> NoteError {
    NoteError::Malformed(msg.into())
}

fn invalid_key(msg: impl Into<String>) -> NoteError {
    NoteError::InvalidKey(msg.into())
}

/// Checks a key name: non-empty, no Unicode white space, no `+`, no
/// control characters.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty key name".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '+')
    {
        return Err(format!("key name contains forbidden character {c:?}"));
    }
    Ok(())
}

/// Computes the key id of an Ed25519 key: the first four bytes, big-endian,
/// of `SHA-256(name || "\n" || 0x01 || public key)`.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519_TYPE]);
    h.update(public_key);
    let sum = h.finalize();
    u32::from_be_bytes([sum[0], sum[1], sum[2], sum[3]])
}

/// Parses exactly eight lowercase hex digits.
pub(crate) fn parse_hex_id(s: &str) -> Result<u32, NoteError> {
    if s.len() != 8 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(invalid_key(format!(
            "key id {s:?} is not eight lowercase hex digits"
        )));
    }
    Ok(u32::from_be_bytes(
        crate::hex::decode_array(s).expect("eight hex digits"),
    ))
}

/// Decodes `base64(0x01 || 32 bytes)`.
fn decode_typed_key(s: &str, what: &str) -> Result<[u8; 32], NoteError> {
    let raw = BASE64
        .decode(s)
        .map_err(|e| invalid_key(format!("{what} is not valid base64: {}", base64_reason(e))))?;
    let Some((&ty, key)) = raw.split_first() else {
        return Err(invalid_key(format!("{what} is empty")));
    };
    if ty != ED25519_TYPE {
        return Err(invalid_key(format!(
            "unsupported signature type 0x{ty:02x} (only 0x01 ed25519 is supported)"
        )));
    }
    key.try_into().map_err(|_| {
        invalid_key(format!(
            "{what} has {} bytes after the type byte, want {KEY_BYTES}",
            key.len()
        ))
    })
}

fn encode_typed_key(key: &[u8; 32]) -> String {
    let mut raw = [0u8; 1 + KEY_BYTES];
    raw[0] = ED25519_TYPE;
    raw[1..].copy_from_slice(key);
    BASE64.encode(raw)
}

/// A public Ed25519 key with its name, used to verify note signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl VerifierKey {
    /// Builds a verifier key from a name and a raw 32-byte Ed25519 public key.
    ///
    /// # Errors
    ///
    /// [`NoteError::InvalidKey`] if the name is invalid or the bytes are not
    /// a valid Ed25519 point encoding.
    pub fn from_public_key(name: &str, public_key: &[u8; 32]) -> Result<Self, NoteError> {
        check_name(name).map_err(NoteError::InvalidKey)?;
        let key = VerifyingKey::from_bytes(public_key)
            .map_err(|_| invalid_key("public key is not a valid ed25519 point"))?;
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id: key_id(name, public_key),
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32-bit key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Encodes the key as `<name>+<hex id>+<base64(0x01 || public key)>`.
    pub fn to_text(&self) -> String {
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            encode_typed_key(self.key.as_bytes())
        )
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(bytes) = <[u8; SIGNATURE_BYTES]>::try_from(sig) else {
            return false;
        };
        let sig = ed25519_dalek::Signature::from_bytes(&bytes);
        self.key.verify_strict(msg, &sig).is_ok()
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// A private Ed25519 key with its name, used to sign notes.
///
/// The secret is zeroized on drop and never printed by `Debug`.
#[derive(Clone)]
pub struct SignerKey {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignerKey")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl SignerKey {
    /// Builds a signer key from a name and a 32-byte Ed25519 seed.
    ///
    /// # Errors
    ///
    /// [`NoteError::InvalidKey`] if the name is invalid.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, NoteError> {
        check_name(name).map_err(NoteError::InvalidKey)?;
        let key = SigningKey::from_bytes(seed);
        Ok(SignerKey {
            name: name.to_owned(),
            key_id: key_id(name, key.verifying_key().as_bytes()),
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32-bit key id (computed from the public key).
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The Ed25519 key itself, for the signatures of other formats that
    /// the same seed may make (a witness's cosignatures, `crate::cosign`).
    pub(crate) fn ed25519(&self) -> &SigningKey {
        &self.key
    }

    /// Encodes the key as `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`,
    /// the format written by Go's `note.GenerateKey`. The result is secret.
    pub fn to_text(&self) -> String {
        format!(
            "{PRIVATE_KEY_PREFIX}{}+{:08x}+{}",
            self.name,
            self.key_id,
            encode_typed_key(self.key.as_bytes())
        )
    }
}

/// Splits `<name>+<hex id>+<base64>` (the name cannot contain `+`, the
/// base64 part can).
pub(crate) fn split_key_text(text: &str) -> Result<(&str, &str, &str), NoteError> {
    let (name, rest) = text
        .split_once('+')
        .ok_or_else(|| invalid_key("missing '+' after key name"))?;
    let (id, key) = rest
        .split_once('+')
        .ok_or_else(|| invalid_key("missing '+' after key id"))?;
    check_name(name).map_err(NoteError::InvalidKey)?;
    Ok((name, id, key))
}

/// Parses a verifier key text `<name>+<hex id>+<base64(0x01 || public key)>`.
///
/// # Errors
///
/// [`NoteError::InvalidKey`] if the text is not exactly of that form, the
/// name is invalid, the key is not a 32-byte Ed25519 key with type byte
/// `0x01`, or the key id does not match the name and key.
pub fn parse_verifier(text: &str) -> Result<VerifierKey, NoteError> {
    if text.starts_with(PRIVATE_KEY_PREFIX) {
        return Err(invalid_key(
            "this is a private signer key, not a verifier key",
        ));
    }
    let (name, id, key64) = split_key_text(text)?;
    let id = parse_hex_id(id)?;
    let public_key = decode_typed_key(key64, "public key")?;
    let want = key_id(name, &public_key);
    if id != want {
        return Err(invalid_key(format!(
            "key id {id:08x} does not match key (want {want:08x})"
        )));
    }
    VerifierKey::from_public_key(name, &public_key)
}

/// Parses a signer key text `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`.
///
/// # Errors
///
/// [`NoteError::InvalidKey`] if the text lacks the `PRIVATE+KEY+` prefix,
/// the name is invalid, the seed is not 32 bytes with type byte `0x01`, or
/// the key id does not match the public key derived from the seed.
pub fn parse_signer(text: &str) -> Result<SignerKey, NoteError> {
    let rest = text
        .strip_prefix(PRIVATE_KEY_PREFIX)
        .ok_or_else(|| invalid_key("signer key must start with \"PRIVATE+KEY+\""))?;
    let (name, id, key64) = split_key_text(rest)?;
    let id = parse_hex_id(id)?;
    let seed = decode_typed_key(key64, "private key")?;
    let key = SignerKey::from_seed(name, &seed)?;
    if key.key_id != id {
        return Err(invalid_key(format!(
            "key id {id:08x} does not match key (want {:08x})",
            key.key_id
        )));
    }
    Ok(key)
}

/// Generates a new Ed25519 key pair named `name` from OS randomness.
///
/// # Errors
///
/// [`NoteError::InvalidKey`] if the name is invalid, [`NoteError::Random`]
/// if the operating system's random number generator fails.
pub fn generate_key(name: &str) -> Result<(SignerKey, VerifierKey), NoteError> {
    check_name(name).map_err(NoteError::InvalidKey)?;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| NoteError::Random(e.to_string()))?;
    let signer = SignerKey::from_seed(name, &seed);
    seed.fill(0);
    let signer = signer?;
    let verifier = signer.verifier();
    Ok((signer, verifier))
}

/// Checks that `text` is acceptable as note text.
fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() {
        return Err(malformed("empty text"));
    }
    if !text.ends_with('\n') {
        return Err(malformed("text does not end with a newline"));
    }
    if let Some(c) = text.chars().find(|&c| is_forbidden_control(c)) {
        return Err(malformed(format!("text contains control character {c:?}")));
    }
    if text.split('\n').any(|l| l.starts_with(SIGNATURE_PREFIX)) {
        return Err(malformed("text line starts with the signature prefix"));
    }
    Ok(())
}

/// Signs `text` with `key` and returns the complete signed note: the text,
/// a blank line and one signature line.
///
/// # Errors
///
/// [`NoteError::Malformed`] if the text is empty, does not end with `\n`,
/// contains an ASCII control character other than `\n`, has a line starting
/// with `"— "`, or the signed note would exceed [`MAX_NOTE_SIZE`].
pub fn sign(text: &str, key: &SignerKey) -> Result<String, NoteError> {
    check_text(text)?;
    let sig = key.key.sign(text.as_bytes()).to_bytes();
    let mut raw = [0u8; 4 + SIGNATURE_BYTES];
    raw[..4].copy_from_slice(&key.key_id.to_be_bytes());
    raw[4..].copy_from_slice(&sig);
    let out = format!(
        "{text}\n{SIGNATURE_PREFIX}{} {}\n",
        key.name,
        BASE64.encode(raw)
    );
    if out.len() > MAX_NOTE_SIZE {
        return Err(malformed(format!(
            "signed note would be {} bytes, limit is {MAX_NOTE_SIZE}",
            out.len()
        )));
    }
    Ok(out)
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// Key name from the signature line.
    pub name: String,
    /// Key id from the first four bytes of the signature.
    pub key_id: u32,
    /// The base64 text of the signature line (key id and signature bytes).
    pub base64: String,
}

/// A signed note whose signatures were checked by [`open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedNote {
    /// The note text, including its final newline.
    pub text: String,
    /// Signatures from known keys that verified, one per key, in note order.
    pub verified: Vec<Signature>,
    /// Signatures from unknown keys, not checked, duplicates dropped.
    pub unverified: Vec<Signature>,
}

impl OpenedNote {
    /// Names of the keys whose signatures verified, in note order.
    pub fn verified_names(&self) -> Vec<&str> {
        self.verified.iter().map(|s| s.name.as_str()).collect()
    }
}

/// Parses one signature line (without its newline).
pub(crate) fn parse_signature_line(line: &str) -> Result<(Signature, Vec<u8>), NoteError> {
    let body = line
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or_else(|| malformed("signature line does not start with \"— \""))?;
    let (name, b64) = body
        .split_once(' ')
        .ok_or_else(|| malformed("signature line has no space after the key name"))?;
    check_name(name).map_err(|e| malformed(format!("signature line: {e}")))?;
    if b64.is_empty() {
        return Err(malformed("signature line has an empty signature"));
    }
    let raw = BASE64.decode(b64).map_err(|e| {
        malformed(format!(
            "signature is not valid base64: {}",
            base64_reason(e)
        ))
    })?;
    if raw.len() < 5 {
        return Err(malformed("signature is shorter than five bytes"));
    }
    let key_id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
    Ok((
        Signature {
            name: name.to_owned(),
            key_id,
            base64: b64.to_owned(),
        },
        raw[4..].to_vec(),
    ))
}

/// Finds the unique verifier with this name and id.
fn find_verifier<'a>(
    verifiers: &'a [VerifierKey],
    name: &str,
    key_id: u32,
) -> Result<Option<&'a VerifierKey>, NoteError> {
    let mut found: Option<&VerifierKey> = None;
    for v in verifiers
        .iter()
        .filter(|v| v.name == name && v.key_id == key_id)
    {
        match found {
            Some(f) if f.key != v.key => {
                return Err(NoteError::AmbiguousKey {
                    name: name.to_owned(),
                    key_id,
                })
            }
            _ => found = Some(v),
        }
    }
    Ok(found)
}

/// The signatures a note carries, as `name+keyid` of each well-formed
/// signature line, none checked: to say who signed a note that no key given
/// verifies.
pub fn signers(note: &str) -> Vec<String> {
    let Some(split) = note.rfind("\n\n") else {
        return Vec::new();
    };
    let mut out: Vec<String> = note[split + 2..]
        .lines()
        .filter_map(|l| parse_signature_line(l).ok())
        .map(|(sig, _)| format!("{}+{:08x}", sig.name, sig.key_id))
        .collect();
    out.dedup();
    out
}

/// A signature line parsed: its name and key id, and the bytes after the key id.
pub(crate) type ParsedLine = (Signature, Vec<u8>);

/// Splits a signed note into its text and its signature lines, each parsed
/// (the key id and the signature bytes after it), none checked. Every line
/// is parsed before any signature is checked, so that a malformed note is
/// always reported as malformed.
///
/// # Errors
///
/// [`NoteError::Malformed`], on the grounds [`open`] lists.
pub(crate) fn parse(note: &str) -> Result<(&str, Vec<ParsedLine>), NoteError> {
    if note.len() > MAX_NOTE_SIZE {
        return Err(malformed(format!(
            "note is {} bytes, limit is {MAX_NOTE_SIZE}",
            note.len()
        )));
    }
    if let Some(c) = note.chars().find(|&c| is_forbidden_control(c)) {
        return Err(malformed(format!("note contains control character {c:?}")));
    }
    let split = note
        .rfind("\n\n")
        .ok_or_else(|| malformed("no blank line before the signatures"))?;
    let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
    if sigs.is_empty() {
        return Err(malformed("no signature lines"));
    }
    let Some(sigs) = sigs.strip_suffix('\n') else {
        return Err(malformed("last signature line does not end with a newline"));
    };
    if text.split('\n').any(|l| l.starts_with(SIGNATURE_PREFIX)) {
        return Err(malformed("text line starts with the signature prefix"));
    }
    let mut parsed = Vec::new();
    for line in sigs.split('\n') {
        if parsed.len() == MAX_SIGNATURES {
            return Err(malformed(format!(
                "more than {MAX_SIGNATURES} signature lines"
            )));
        }
        parsed.push(parse_signature_line(line)?);
    }
    Ok((text, parsed))
}

/// Parses a signed note and checks its signatures against `verifiers`.
///
/// A signature is checked when both its key name and key id match a
/// verifier; signatures from other keys are returned as unverified.
///
/// # Errors
///
/// * [`NoteError::Malformed`]: the note exceeds [`MAX_NOTE_SIZE`], contains
///   a control character other than `\n`, has no blank line before the
///   signature block, the block is empty or does not end with `\n`, a
///   signature line is badly formed, or there are more than
///   [`MAX_SIGNATURES`] signature lines;
/// * [`NoteError::AmbiguousKey`]: a signature matches two different keys;
/// * [`NoteError::BadSignature`]: a signature from a known key fails;
/// * [`NoteError::NoVerifiedSignature`]: no signature is from a known key.
pub fn open(note: &str, verifiers: &[VerifierKey]) -> Result<OpenedNote, NoteError> {
    let (text, parsed) = parse(note)?;
    let mut opened = OpenedNote {
        text: text.to_owned(),
        verified: Vec::new(),
        unverified: Vec::new(),
    };
    let mut seen_verified: HashSet<(String, u32)> = HashSet::new();
    let mut seen_unverified: HashSet<(String, String)> = HashSet::new();
    for (sig, raw) in parsed {
        match find_verifier(verifiers, &sig.name, sig.key_id)? {
            None => {
                if seen_unverified.insert((sig.name.clone(), sig.base64.clone())) {
                    opened.unverified.push(sig);
                }
            }
            Some(v) => {
                if !v.verify(text.as_bytes(), &raw) {
                    return Err(NoteError::BadSignature {
                        name: sig.name,
                        key_id: sig.key_id,
                    });
                }
                if seen_verified.insert((sig.name.clone(), sig.key_id)) {
                    opened.verified.push(sig);
                }
            }
        }
    }
    if opened.verified.is_empty() {
        return Err(NoteError::NoVerifiedSignature);
    }
    Ok(opened)
}

/// Errors from [`Checkpoint::parse`] and [`Checkpoint::validate`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The text is longer than [`MAX_CHECKPOINT_SIZE`].
    #[error("checkpoint is {0} bytes, limit is {MAX_CHECKPOINT_SIZE}")]
    TooLarge(usize),
    /// The text contains a control character other than `\n` (e.g. `\r`).
    #[error("checkpoint contains control character {0:?}")]
    ControlCharacter(char),
    /// The text does not end with `\n`.
    #[error("checkpoint does not end with a newline")]
    MissingFinalNewline,
    /// Fewer than three lines (origin, size, root hash).
    #[error("checkpoint has {0} lines, need at least 3")]
    TooFewLines(usize),
    /// The origin line is empty.
    #[error("checkpoint origin is empty")]
    EmptyOrigin,
    /// The origin contains a newline (only from [`Checkpoint::validate`]).
    #[error("checkpoint origin contains a newline")]
    NewlineInOrigin,
    /// The tree size line is not a canonical decimal `u64`.
    #[error("invalid tree size {text:?}: {reason}")]
    InvalidSize {
        /// The offending line.
        text: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The root hash line is not the base64 of exactly 32 bytes.
    #[error("invalid root hash: {0}")]
    InvalidRootHash(String),
    /// An extension line is empty or contains a newline; the index counts
    /// extension lines from 0.
    #[error("extension line {0} is empty or contains a newline")]
    InvalidExtension(usize),
}

/// The note text of a c2sp.org/tlog-checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Unique identifier of the log (non-empty, one line).
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: u64,
    /// RFC 6962 Merkle tree root hash at `size`.
    pub root: [u8; 32],
    /// Optional opaque extension lines (each non-empty, without newline).
    pub extensions: Vec<String>,
}

fn parse_size(s: &str) -> Result<u64, CheckpointError> {
    let err = |reason: &str| CheckpointError::InvalidSize {
        text: s.to_owned(),
        reason: reason.to_owned(),
    };
    if s.is_empty() {
        return Err(err("empty"));
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err("not a decimal number"));
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(err("leading zero"));
    }
    s.parse::<u64>().map_err(|_| err("does not fit in 64 bits"))
}

impl Checkpoint {
    /// Checks that the fields can be encoded into a parseable checkpoint:
    /// non-empty single-line origin, non-empty single-line extensions, and
    /// no control characters other than the line separators.
    ///
    /// # Errors
    ///
    /// The [`CheckpointError`] that [`Checkpoint::parse`] would report for
    /// the encoded text.
    pub fn validate(&self) -> Result<(), CheckpointError> {
        if self.origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        if self.origin.contains('\n') {
            return Err(CheckpointError::NewlineInOrigin);
        }
        for (i, e) in self.extensions.iter().enumerate() {
            if e.is_empty() || e.contains('\n') {
                return Err(CheckpointError::InvalidExtension(i));
            }
        }
        let bad = std::iter::once(&self.origin)
            .chain(&self.extensions)
            .flat_map(|s| s.chars())
            .find(|&c| is_forbidden_control(c));
        if let Some(c) = bad {
            return Err(CheckpointError::ControlCharacter(c));
        }
        let len = self.to_text().len();
        if len > MAX_CHECKPOINT_SIZE {
            return Err(CheckpointError::TooLarge(len));
        }
        Ok(())
    }

    /// Encodes the checkpoint: origin, decimal size, base64 root hash, then
    /// the extension lines, each followed by `\n`. The result parses back
    /// to an equal checkpoint when [`Checkpoint::validate`] succeeds.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        );
        for e in &self.extensions {
            out.push_str(e);
            out.push('\n');
        }
        out
    }

    /// Parses checkpoint note text strictly.
    ///
    /// # Errors
    ///
    /// A [`CheckpointError`] if the text is too large, contains a control
    /// character other than `\n`, does not end with `\n`, has fewer than
    /// three lines, an empty origin, a size that is not canonical decimal
    /// (no sign, no leading zero) or overflows `u64`, a root hash that is
    /// not canonical padded base64 of 32 bytes, or an empty extension line.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        if text.len() > MAX_CHECKPOINT_SIZE {
            return Err(CheckpointError::TooLarge(text.len()));
        }
        if let Some(c) = text.chars().find(|&c| is_forbidden_control(c)) {
            return Err(CheckpointError::ControlCharacter(c));
        }
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() < 3 {
            return Err(CheckpointError::TooFewLines(lines.len()));
        }
        let origin = lines[0];
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_size(lines[1])?;
        let raw = BASE64.decode(lines[2]).map_err(|e| {
            CheckpointError::InvalidRootHash(format!("not valid base64: {}", base64_reason(e)))
        })?;
        let root: [u8; 32] = raw.as_slice().try_into().map_err(|_| {
            CheckpointError::InvalidRootHash(format!("{} bytes, want 32", raw.len()))
        })?;
        let mut extensions = Vec::with_capacity(lines.len() - 3);
        for (i, e) in lines[3..].iter().enumerate() {
            if e.is_empty() {
                return Err(CheckpointError::InvalidExtension(i));
            }
            extensions.push((*e).to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}
