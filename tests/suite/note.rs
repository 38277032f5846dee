//! Signed notes and checkpoints (`demarche::note`) against published C2SP and Go examples.
//!
//! Published vectors are transcribed verbatim from:
//! * golang/mod `sumdb/note/note_test.go` (PeterNeumann / EnochRoot keys and notes);
//! * golang/mod `sumdb/tlog/note_test.go` (go.sum database tree checkpoint);
//! * transparency-dev/formats `log/note_test.go` (sum.golang.org checkpoint,
//!   witness signatures, extra key pairs) and `log/checkpoint_test.go`;
//! * C2SP/C2SP `signed-note.md` and `tlog-checkpoint.md` (spec examples).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use demarche::note::{
    generate_key, key_id, open, parse_signer, parse_verifier, sign, Checkpoint, CheckpointError,
    NoteError, SignerKey, VerifierKey, MAX_SIGNATURES,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

// ---- golang/mod sumdb/note/note_test.go ---------------------------------

const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";
// "wrong length key, with adjusted key hash" and "unknown algorithm, with
// adjusted key hash" from TestNewVerifier.
const BAD_LEN_VKEY: &str =
    "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==";
const BAD_ALG_VKEY: &str = "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

// ---- transparency-dev/formats log/note_test.go ----------------------------

const SUMDB_VKEY: &str = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
const SUMDB_NOTE: &str = "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n\u{2014} sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n";
const WITNESS_KEYS: [&str; 3] = [
    "monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT",
    "bananas+cf639f13+AaPjhFnPCQnid/Ql32KWhmh+uk72FVRfK+2DLmO3BI3M",
    "witness+f13a86db+AdYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN",
];
const WITNESS_SIGS: [&str; 3] = [
    "\u{2014} monkeys 202ffh9ve46Mqbhuyb4wnC2Pwdan5EsXQym/tF1ggXJqhjGosU4T5intH4iKMRgDLxrnXuIjRaU2NbvAnaepM6Y+8ww=\n",
    "\u{2014} bananas z2OfE+2bbsBZ7NLgfuslc0v7NFW2QyexJ7fhePpoL2N/P7N/COd5S+JNHbQEAlYzz2C5sg0E+x/MggS1mDR6t3/9rQw=\n",
    "\u{2014} witness 8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdcpR8SVSoqAU=\n",
];
const RANDOM_SIGS: [&str; 2] = [
    "\u{2014} random1 8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdcpR8SVSoqAU=\n",
    "\u{2014} random2 8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdcpR8SVSoqAU=\n",
];
const TD_KEY_PAIRS: [(&str, &str); 4] = [
    (
        "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs",
        "PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ",
    ),
    (
        "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH",
        "PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci",
    ),
    (
        "KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj",
        "PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+",
    ),
    (
        "Unknown+fdbb2e08+AWgRIYZ+8x1Vl+1Q+sR8zciNHiYI1SdlBjNw+RV0rots",
        "PRIVATE+KEY+Unknown+fdbb2e08+Aav2knTC6orbhXX8pMWuNiWgO+Wwk2DB+h1eU2Q1W1nU",
    ),
];

// ---- golang/mod sumdb/tlog/note_test.go -----------------------------------

const GO_TREE: &str =
    "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n";

// ---- C2SP/C2SP signed-note.md and tlog-checkpoint.md ----------------------

const SPEC_NOTE: &str = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \u{e8} subito sera.\n\n\u{2014} quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";
const SPEC_CHECKPOINT: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

fn peter() -> VerifierKey {
    parse_verifier(PETER_VKEY).expect("published verifier key parses")
}

fn enoch() -> VerifierKey {
    parse_verifier(ENOCH_VKEY).expect("published verifier key parses")
}

fn peter_note() -> String {
    format!("{TEXT}\n{PETER_SIG}")
}

fn assert_malformed<T: std::fmt::Debug>(r: Result<T, NoteError>, what: &str) {
    match r {
        Err(e) => assert!(e.is_malformed(), "{what}: want malformed, got {e:?}"),
        Ok(v) => panic!("{what}: want malformed, got Ok({v:?})"),
    }
}

fn assert_message_style(msg: &str) {
    assert!(!msg.is_empty());
    assert!(!msg.ends_with('.'), "trailing period: {msg:?}");
    let first = msg.chars().next().unwrap();
    assert!(!first.is_uppercase(), "capitalised: {msg:?}");
}

// ======================= published signed-note vectors =====================

#[test]
fn published_verifier_key_parses_with_its_id() {
    let v = peter();
    assert_eq!(v.name(), "PeterNeumann");
    assert_eq!(v.key_id(), 0xc74f20a3);
    assert_eq!(key_id(v.name(), &v.public_key()), 0xc74f20a3);
    assert_eq!(v.to_text(), PETER_VKEY);
    let e = enoch();
    assert_eq!((e.name(), e.key_id()), ("EnochRoot", 0xaf0cfe78));
    assert_eq!(e.to_text(), ENOCH_VKEY);
}

#[test]
fn published_signer_key_yields_published_verifier_key() {
    let s = parse_signer(PETER_SKEY).unwrap();
    assert_eq!(s.name(), "PeterNeumann");
    assert_eq!(s.key_id(), 0xc74f20a3);
    assert_eq!(s.verifier().to_text(), PETER_VKEY);
    assert_eq!(s.verifier(), peter());
    assert_eq!(s.to_text(), PETER_SKEY);
    for (vk, sk) in TD_KEY_PAIRS {
        let s = parse_signer(sk).unwrap();
        assert_eq!(s.verifier().to_text(), vk);
        assert_eq!(s.to_text(), sk);
        assert_eq!(parse_verifier(vk).unwrap(), s.verifier());
    }
}

#[test]
fn signer_debug_does_not_leak_the_seed() {
    let s = parse_signer(PETER_SKEY).unwrap();
    let dbg = format!("{s:?}");
    assert!(dbg.contains("PeterNeumann"));
    assert!(!dbg.contains("AYEKFALVFGyNhPJEMzD1QIDr"));
}

#[test]
fn published_note_opens() {
    let n = open(&peter_note(), &[peter()]).unwrap();
    assert_eq!(n.text, TEXT);
    assert_eq!(n.verified_names(), ["PeterNeumann"]);
    assert_eq!(n.verified[0].key_id, 0xc74f20a3);
    assert!(n.unverified.is_empty());
}

#[test]
fn signing_published_text_reproduces_published_note() {
    let s = parse_signer(PETER_SKEY).unwrap();
    assert_eq!(sign(TEXT, &s).unwrap(), peter_note());
}

#[test]
fn published_two_signature_note() {
    let both = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    // Only Peter known: Enoch reported as unverified.
    let n = open(&both, &[peter()]).unwrap();
    assert_eq!(n.verified_names(), ["PeterNeumann"]);
    assert_eq!(n.unverified.len(), 1);
    assert_eq!(n.unverified[0].name, "EnochRoot");
    assert_eq!(n.unverified[0].key_id, 0xaf0cfe78);
    // Both known: both verified, in note order.
    let n = open(&both, &[enoch(), peter()]).unwrap();
    assert_eq!(n.verified_names(), ["PeterNeumann", "EnochRoot"]);
    assert!(n.unverified.is_empty());
    // Only Enoch known.
    let n = open(&both, &[enoch()]).unwrap();
    assert_eq!(n.verified_names(), ["EnochRoot"]);
    // None known.
    assert_eq!(open(&both, &[]), Err(NoteError::NoVerifiedSignature));
}

#[test]
fn different_key_is_unknown_not_malformed() {
    let e = open(&peter_note(), &[enoch()]).unwrap_err();
    assert_eq!(e, NoteError::NoVerifiedSignature);
    assert!(e.is_verification_failure() && !e.is_malformed());
    // Same name, different key (different id): unknown.
    let (_, other) = generate_key("PeterNeumann").unwrap();
    assert_eq!(
        open(&peter_note(), &[other]),
        Err(NoteError::NoVerifiedSignature)
    );
    // Go's misnamed / wrong-hash cases: name or key id no longer match.
    let misnamed = peter_note().replace("PeterNeumann", "CarmenSandiego");
    assert_eq!(
        open(&misnamed, &[peter()]),
        Err(NoteError::NoVerifiedSignature)
    );
    let wrong_id = peter_note().replace("x08g", "xxxx");
    assert_eq!(
        open(&wrong_id, &[peter()]),
        Err(NoteError::NoVerifiedSignature)
    );
}

#[test]
fn published_invalid_signature_is_bad_signature() {
    // Go's TestOpen: insert "ABCD" at byte 60 of the signature line.
    let bad = format!("{TEXT}\n{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
    let e = open(&bad, &[peter()]).unwrap_err();
    assert_eq!(
        e,
        NoteError::BadSignature {
            name: "PeterNeumann".into(),
            key_id: 0xc74f20a3
        }
    );
    assert!(e.is_verification_failure() && !e.is_malformed());
    assert_eq!(
        e.to_string(),
        "invalid signature for key PeterNeumann+c74f20a3"
    );
}

#[test]
fn duplicates_and_unknown_corrupt_signatures() {
    // Go's "duplicated verified and unverified signatures" case.
    let enoch_abcd = format!("{}ABCD{}", &ENOCH_SIG[..60], &ENOCH_SIG[60..]);
    let msg = format!("{TEXT}\n{PETER_SIG}{PETER_SIG}{ENOCH_SIG}{ENOCH_SIG}{enoch_abcd}");
    let n = open(&msg, &[peter()]).unwrap();
    assert_eq!(n.verified_names(), ["PeterNeumann"]);
    assert_eq!(n.unverified.len(), 2);
    assert_eq!(
        n.unverified[1].base64,
        "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5nABCD2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
    );
    // A corrupt duplicate from a known key is not skipped.
    let peter_abcd = format!("{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
    let msg = format!("{TEXT}\n{PETER_SIG}{peter_abcd}");
    assert!(matches!(
        open(&msg, &[peter()]),
        Err(NoteError::BadSignature { .. })
    ));
}

#[test]
fn duplicated_verifier_keys() {
    // Identical keys listed twice are fine.
    assert!(open(&peter_note(), &[peter(), enoch(), peter()]).is_ok());
    // Two different keys with the same name and id would be ambiguous; such
    // a collision cannot be built from real keys, so it is not tested here.
}

#[test]
fn too_many_signatures_is_malformed() {
    let msg = format!("{TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES + 1));
    assert_malformed(open(&msg, &[peter()]), "101 signatures");
    assert_malformed(open(&msg, &[]), "101 signatures, no keys");
    let msg = format!("{TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES));
    assert_eq!(
        open(&msg, &[peter()]).unwrap().verified_names(),
        ["PeterNeumann"]
    );
}

#[test]
fn published_bad_messages_are_malformed() {
    // Go's TestOpen badMsgs ("\xff" prefix cannot occur in a Rust &str).
    let bad = [
        TEXT.to_owned(),
        format!("{TEXT}\n"),
        format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
        format!("\x01{TEXT}\n{PETER_SIG}"),
        format!("{TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="),
        format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
    ];
    for msg in bad {
        assert_malformed(open(&msg, &[peter()]), &format!("{msg:?}"));
    }
}

#[test]
fn published_sumdb_checkpoint_note_opens_and_parses() {
    let key = parse_verifier(SUMDB_VKEY).unwrap();
    assert_eq!(key.key_id(), 0x033de0ae);
    let n = open(SUMDB_NOTE, std::slice::from_ref(&key)).unwrap();
    assert_eq!(n.verified_names(), ["sum.golang.org"]);
    let cp = Checkpoint::parse(&n.text).unwrap();
    assert_eq!(cp.origin, "go.sum database tree");
    assert_eq!(cp.size, 6476701);
    assert!(cp.extensions.is_empty());
    assert_eq!(cp.to_text(), n.text);

    // Witness signatures published over the same checkpoint.
    let mut note = SUMDB_NOTE.to_owned();
    for s in WITNESS_SIGS.iter().chain(&RANDOM_SIGS) {
        note.push_str(s);
    }
    let mut keys = vec![key];
    keys.extend(WITNESS_KEYS.iter().map(|k| parse_verifier(k).unwrap()));
    let n = open(&note, &keys).unwrap();
    assert_eq!(
        n.verified_names(),
        ["sum.golang.org", "monkeys", "bananas", "witness"]
    );
    assert_eq!(n.unverified.len(), 2);
    // Without the log key the witnesses alone still verify.
    assert_eq!(open(&note, &keys[1..]).unwrap().verified.len(), 3);
}

#[test]
fn spec_examples_are_well_formed_but_unverifiable() {
    // No key is published for these, so they can only be parsed.
    for (note, name) in [
        (SPEC_NOTE, "quasimodo.example/salvatore"),
        (SPEC_CHECKPOINT, "example.com/behind-the-sofa"),
    ] {
        assert_eq!(open(note, &[]), Err(NoteError::NoVerifiedSignature));
        let (_, other) = generate_key(name).unwrap();
        assert_eq!(open(note, &[other]), Err(NoteError::NoVerifiedSignature));
    }
    let body = &SPEC_CHECKPOINT[..SPEC_CHECKPOINT.find("\n\n").unwrap() + 1];
    let cp = Checkpoint::parse(body).unwrap();
    assert_eq!(cp.origin, "example.com/behind-the-sofa");
    assert_eq!(cp.size, 20852163);
    assert_eq!(
        BASE64.encode(cp.root),
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    );
    assert_eq!(cp.to_text(), body);
}

#[test]
fn spec_note_text_with_blank_line_round_trips_through_sign() {
    let text = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \u{e8} subito sera.\n";
    assert!(SPEC_NOTE.starts_with(text));
    let (s, v) = generate_key("quasimodo.example/salvatore").unwrap();
    let n = open(&sign(text, &s).unwrap(), &[v]).unwrap();
    assert_eq!(n.text, text);
}

// ======================= tampering ========================================

#[test]
fn every_single_byte_change_of_published_note_fails() {
    let note = peter_note();
    let keys = [peter()];
    let text_len = TEXT.len();
    for (i, c) in note.char_indices() {
        for r in ['a', 'Z', '0', ' ', '\n', '+', '/', '='] {
            if r == c {
                continue;
            }
            let mut m = note.clone();
            m.replace_range(i..i + c.len_utf8(), &r.to_string());
            let res = open(&m, &keys);
            assert!(res.is_err(), "replace {i} with {r:?} verified: {m:?}");
            // Printable change inside a text line: integrity failure.
            if i < text_len - 1 && c != '\n' && r != '\n' {
                assert!(
                    matches!(res, Err(NoteError::BadSignature { .. })),
                    "replace {i} with {r:?}: {res:?}"
                );
            }
        }
        let mut m = note.clone();
        m.remove(i);
        assert!(open(&m, &keys).is_err(), "delete {i} verified");
        let mut m = note.clone();
        m.insert(i, 'x');
        assert!(open(&m, &keys).is_err(), "insert at {i} verified");
    }
}

#[test]
fn every_bit_flip_of_signature_bytes_fails() {
    let b64 = PETER_SIG.trim_end().rsplit(' ').next().unwrap();
    let raw = BASE64.decode(b64).unwrap();
    assert_eq!(raw.len(), 68);
    for i in 0..raw.len() {
        for bit in 0..8 {
            let mut r = raw.clone();
            r[i] ^= 1 << bit;
            let m = format!("{TEXT}\n\u{2014} PeterNeumann {}\n", BASE64.encode(&r));
            let e = open(&m, &[peter()]).unwrap_err();
            if i < 4 {
                assert_eq!(e, NoteError::NoVerifiedSignature, "id byte {i}");
            } else {
                assert!(
                    matches!(e, NoteError::BadSignature { .. }),
                    "byte {i} bit {bit}: {e:?}"
                );
            }
        }
    }
}

// ======================= keys: bad input ===================================

#[test]
fn published_bad_keys_rejected() {
    assert!(matches!(
        parse_verifier(BAD_LEN_VKEY),
        Err(NoteError::InvalidKey(_))
    ));
    let e = parse_verifier(BAD_ALG_VKEY).unwrap_err();
    assert!(
        e.to_string().contains("unsupported signature type 0x65"),
        "{e}"
    );
}

#[test]
fn every_substring_and_byte_increment_of_published_keys_fails() {
    // Mirrors Go's TestNewVerifier / TestNewSigner manglings.
    for (key, is_signer) in [(PETER_VKEY, false), (PETER_SKEY, true)] {
        let parse = |s: &str| {
            if is_signer {
                parse_signer(s).map(|k| k.to_text())
            } else {
                parse_verifier(s).map(|k| k.to_text())
            }
        };
        let b = key.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if i == 0 && j == b.len() {
                    continue;
                }
                let sub = std::str::from_utf8(&b[i..j]).unwrap();
                let e = parse(sub).unwrap_err();
                assert!(e.is_malformed(), "{sub:?}: {e:?}");
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] += 1;
            let s = String::from_utf8(m).unwrap();
            assert!(parse(&s).is_err(), "{s:?} accepted");
        }
        assert_eq!(parse(key).unwrap(), key);
    }
}

#[test]
fn bad_key_table() {
    let peter_b64 = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    let seed_b64 = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    let verifiers = [
        String::new(),
        "PeterNeumann".into(),
        "PeterNeumann+c74f20a3".into(),
        "PeterNeumann+c74f20a3+".into(),
        format!("PeterNeumann+C74F20A3+{peter_b64}"),
        format!("PeterNeumann+c74f20a+{peter_b64}"),
        format!("PeterNeumann+0c74f20a3+{peter_b64}"),
        format!("PeterNeumann+c74f20a4+{peter_b64}"),
        format!("PeterNeumann+c74f20g3+{peter_b64}"),
        format!("+c74f20a3+{peter_b64}"),
        format!("Peter Neumann+c74f20a3+{peter_b64}"),
        format!("Peter\u{a0}Neumann+c74f20a3+{peter_b64}"),
        format!("Peter\u{1}Neumann+c74f20a3+{peter_b64}"),
        format!("PeterNeumann+c74f20a3+{peter_b64}\n"),
        format!("PeterNeumann+c74f20a3+{peter_b64} "),
        format!(" PeterNeumann+c74f20a3+{peter_b64}"),
        format!("PeterNeumann+c74f20a3+{}", &peter_b64[..43]),
        format!("PeterNeumann+c74f20a3+{peter_b64}=="),
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW".into(),
        "PeterNeumann+c74f20a3+".to_owned() + &BASE64.encode([1u8; 32]),
        PETER_SKEY.into(),
    ];
    for v in &verifiers {
        match parse_verifier(v) {
            Err(NoteError::InvalidKey(msg)) => assert_message_style(&msg),
            other => panic!("{v:?}: {other:?}"),
        }
    }
    let signers = [
        String::new(),
        PETER_VKEY.into(),
        format!("PRIVATE+KEY+PeterNeumann+C74F20A3+{seed_b64}"),
        format!("PRIVATE+KEY+PeterNeumann+c74f20a4+{seed_b64}"),
        format!("private+key+PeterNeumann+c74f20a3+{seed_b64}"),
        format!("PRIVATE+KEY+EnochRoot+c74f20a3+{seed_b64}"),
        format!("PRIVATE+KEY+PeterNeumann+c74f20a3+{peter_b64}"),
        format!("PRIVATE+KEY+PeterNeumann+c74f20a3+{seed_b64}\n"),
        format!("PRIVATE+KEY++c74f20a3+{seed_b64}"),
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AgEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz".into(),
        "PRIVATE+KEY+PeterNeumann+c74f20a3+".into(),
    ];
    for s in &signers {
        match parse_signer(s) {
            Err(NoteError::InvalidKey(msg)) => assert_message_style(&msg),
            other => panic!("{s:?}: {other:?}"),
        }
    }
}

#[test]
fn invalid_names_rejected_on_generation() {
    for name in ["", "a b", "a+b", "a\tb", "a\nb", "a\u{2003}b", "a\u{7f}b"] {
        assert!(
            matches!(generate_key(name), Err(NoteError::InvalidKey(_))),
            "{name:?}"
        );
        assert!(SignerKey::from_seed(name, &[7; 32]).is_err(), "{name:?}");
    }
    let pk = parse_verifier(PETER_VKEY).unwrap().public_key();
    assert!(VerifierKey::from_public_key("a b", &pk).is_err());
    assert_eq!(
        VerifierKey::from_public_key("PeterNeumann", &pk).unwrap(),
        peter()
    );
}

// ======================= signing: bad input ================================

#[test]
fn bad_texts_rejected_by_sign() {
    let s = parse_signer(PETER_SKEY).unwrap();
    for text in [
        "",
        "abc",
        "abc\n\r",
        "a\rb\n",
        "a\x01\n",
        "tab\there\n",
        "\u{2014} x\n",
        "ok\n\u{2014} PeterNeumann abcd\n",
    ] {
        match sign(text, &s) {
            Err(NoteError::Malformed(msg)) => assert_message_style(&msg),
            other => panic!("{text:?}: {other:?}"),
        }
    }
    // An em dash not followed by a space, or not at line start, is fine.
    for text in ["\u{2014}x\n", "a \u{2014} b\n", "\n", "a\n\n"] {
        let n = sign(text, &s).unwrap();
        assert_eq!(open(&n, &[peter()]).unwrap().text, text);
    }
}

#[test]
fn note_with_signature_prefix_line_in_text_is_malformed() {
    let msg = format!("a\n\n\u{2014} x\n\n{PETER_SIG}");
    assert_malformed(open(&msg, &[peter()]), "prefix line in text");
}

#[test]
fn bad_note_table() {
    let sig_b64 = PETER_SIG.trim_end().rsplit(' ').next().unwrap();
    let bad = [
        String::new(),
        "\n".into(),
        "\n\n".into(),
        format!("{TEXT}\n{PETER_SIG}\n"),
        format!("{TEXT}\n\r{PETER_SIG}"),
        format!("{TEXT}\n- PeterNeumann {sig_b64}\n"),
        format!("{TEXT}\n\u{2014}PeterNeumann {sig_b64}\n"),
        format!("{TEXT}\n\u{2014}  PeterNeumann {sig_b64}\n"),
        format!("{TEXT}\n\u{2014} PeterNeumann  {sig_b64}\n"),
        format!("{TEXT}\n\u{2014} PeterNeumann {sig_b64} \n"),
        format!("{TEXT}\n\u{2014} PeterNeumann\n"),
        format!("{TEXT}\n\u{2014} PeterNeumann \n"),
        format!("{TEXT}\n\u{2014} Peter+Neumann {sig_b64}\n"),
        format!("{TEXT}\n\u{2014} PeterNeumann {}\n", &sig_b64[..sig_b64.len() - 1]),
        format!("{TEXT}\n\u{2014} PeterNeumann {}\n", sig_b64.replace('/', "_")),
        format!("{TEXT}\n\u{2014} PeterNeumann AAAAAA==\n"),
        format!("{TEXT}\n\u{2014} PeterNeumann AAAA\n"),
        format!("{TEXT}\n\u{2014} PeterNeumann ====\n"),
        format!("{TEXT}\n{PETER_SIG}\u{2014} \n"),
        format!("{TEXT}\n{PETER_SIG}\n{PETER_SIG}").replacen("\n\n\u{2014}", "\n\n\n\u{2014}", 1),
        format!("{TEXT}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAN=\n"),
        format!("{TEXT}\n{}", PETER_SIG.repeat(20_000)),
    ];
    for msg in &bad {
        match open(msg, &[peter()]) {
            Err(e @ NoteError::Malformed(_)) => assert_message_style(&e.to_string()),
            other => panic!("{:?}: {other:?}", &msg[..msg.len().min(200)]),
        }
    }
}

// ======================= round trips =======================================

#[test]
fn generate_to_text_parse_sign_open() {
    let (s, v) = generate_key("demarche.example/ledger").unwrap();
    assert_eq!(s.verifier(), v);
    assert_eq!(parse_verifier(&v.to_text()).unwrap(), v);
    let s2 = parse_signer(&s.to_text()).unwrap();
    assert_eq!(s2.to_text(), s.to_text());
    assert!(s
        .to_text()
        .starts_with("PRIVATE+KEY+demarche.example/ledger+"));
    assert_eq!(v.to_string(), v.to_text());
    let text = "line one\n\nline three\n";
    let n = sign(text, &s2).unwrap();
    let opened = open(&n, std::slice::from_ref(&v)).unwrap();
    assert_eq!(opened.text, text);
    assert_eq!(opened.verified_names(), ["demarche.example/ledger"]);
    // Co-sign by appending another signature line.
    let cosig = sign(text, &parse_signer(PETER_SKEY).unwrap()).unwrap();
    let both = format!("{n}{}", &cosig[text.len() + 1..]);
    assert_eq!(open(&both, &[v, peter()]).unwrap().verified.len(), 2);
    let (_, v3) = generate_key("demarche.example/ledger").unwrap();
    assert_ne!(v3, s.verifier(), "two generated keys are equal");
}

// ======================= checkpoints ======================================

fn record_hash(data: &[u8]) -> [u8; 32] {
    // RFC 6962 leaf hash, independent of the code under test.
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

#[test]
fn published_go_tree_checkpoint() {
    let cp = Checkpoint::parse(GO_TREE).unwrap();
    assert_eq!(cp.origin, "go.sum database tree");
    assert_eq!(cp.size, 123456789012);
    assert_eq!(cp.root, record_hash(b"hello world"));
    assert_eq!(cp.to_text(), GO_TREE);
    let built = Checkpoint {
        origin: "go.sum database tree".into(),
        size: 123456789012,
        root: record_hash(b"hello world"),
        extensions: vec![],
    };
    assert_eq!(built.to_text(), GO_TREE);
    // Go's bad trees.
    assert!(matches!(
        Checkpoint::parse(
            "go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"
        ),
        Err(CheckpointError::InvalidSize { .. })
    ));
    assert!(matches!(
        Checkpoint::parse(
            "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n"
        ),
        Err(CheckpointError::InvalidRootHash(_))
    ));
    // Trailing lines are extensions, and must end in a newline.
    let cp = Checkpoint::parse(&format!("{GO_TREE}JOE\n")).unwrap();
    assert_eq!(cp.extensions, ["JOE"]);
    assert_eq!(
        Checkpoint::parse(&format!("{GO_TREE}JOE")),
        Err(CheckpointError::MissingFinalNewline)
    );
    let many = format!("{GO_TREE}{}", "JOE\n".repeat(1000));
    assert_eq!(Checkpoint::parse(&many).unwrap().extensions.len(), 1000);
}

type Check = fn(&CheckpointError) -> bool;

#[test]
fn transparency_dev_checkpoint_examples() {
    // From log/checkpoint_test.go: these use short, non-SHA-256 "hashes",
    // which a strict tlog-checkpoint parser must reject.
    let h = "dGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==";
    assert!(matches!(
        Checkpoint::parse("Log\n123\nYmFuYW5hcw==\n"),
        Err(CheckpointError::InvalidRootHash(_))
    ));
    let cases: Vec<(String, Check)> = vec![
        ("Head\n9944\n".into(), |e| {
            matches!(e, CheckpointError::TooFewLines(2))
        }),
        (format!("\n9944\n{h}\n"), |e| {
            matches!(e, CheckpointError::EmptyOrigin)
        }),
        ("Log\n123\nYmFuYW5hcw==".into(), |e| {
            matches!(e, CheckpointError::MissingFinalNewline)
        }),
        (format!("Log\nbananas\n{h}\n"), |e| {
            matches!(e, CheckpointError::InvalidSize { .. })
        }),
        (format!("Log\n-34\n{h}\n"), |e| {
            matches!(e, CheckpointError::InvalidSize { .. })
        }),
        (format!("Log\n3438945738945739845734895735\n{h}\n"), |e| {
            matches!(e, CheckpointError::InvalidSize { .. })
        }),
        ("Log\n123\nThisIsn'tBase64\n".into(), |e| {
            matches!(e, CheckpointError::InvalidRootHash(_))
        }),
        // "valid with trailing newlines" there; rejected here (37-byte hash,
        // and empty extension lines, see bad_checkpoint_table).
        (format!("Log\n9944\n{h}\n\n\n\n"), |e| {
            matches!(e, CheckpointError::InvalidRootHash(_))
        }),
    ];
    for (text, want) in cases {
        let e = Checkpoint::parse(&text).unwrap_err();
        assert!(want(&e), "{text:?}: {e:?}");
    }
}

#[test]
fn bad_checkpoint_table() {
    let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    let ok = format!("o\n5\n{root}\n");
    assert!(Checkpoint::parse(&ok).is_ok());
    let size = |s: &str| format!("o\n{s}\n{root}\n");
    let is_size: Check = |e| matches!(e, CheckpointError::InvalidSize { .. });
    let is_root: Check = |e| matches!(e, CheckpointError::InvalidRootHash(_));
    let cases: Vec<(String, Check)> = vec![
        (String::new(), |e| {
            matches!(e, CheckpointError::MissingFinalNewline)
        }),
        ("\n".into(), |e| {
            matches!(e, CheckpointError::TooFewLines(1))
        }),
        (format!("\n5\n{root}\n"), |e| {
            matches!(e, CheckpointError::EmptyOrigin)
        }),
        (size(""), is_size),
        (size("05"), is_size),
        (size("00"), is_size),
        (size("+5"), is_size),
        (size("-5"), is_size),
        (size("-0"), is_size),
        (size(" 5"), is_size),
        (size("5 "), is_size),
        (size("5.0"), is_size),
        (size("1e3"), is_size),
        (size("\u{0665}"), is_size),
        (size("18446744073709551616"), is_size),
        (size("99999999999999999999999"), is_size),
        (format!("o\n5\n{}\n", &root[..43]), is_root),
        (format!("o\n5\n{}\n", root.trim_end_matches('=')), is_root),
        (format!("o\n5\n{root}=\n"), is_root),
        (format!("o\n5\n{}\n", root.replace('/', "_")), is_root),
        (format!("o\n5\n{}\n", BASE64.encode([0u8; 31])), is_root),
        (format!("o\n5\n{}\n", BASE64.encode([0u8; 33])), is_root),
        (format!("o\n5\n{}3=\n", &root[..42]), is_root),
        (format!("o\n5\n {root}\n"), is_root),
        (format!("o\n5\n{root}"), |e| {
            matches!(e, CheckpointError::MissingFinalNewline)
        }),
        (format!("o\n5\n{root}\next\n\n"), |e| {
            matches!(e, CheckpointError::InvalidExtension(1))
        }),
        (format!("o\n5\n{root}\n\next\n"), |e| {
            matches!(e, CheckpointError::InvalidExtension(0))
        }),
        (format!("o\r\n5\n{root}\n"), |e| {
            matches!(e, CheckpointError::ControlCharacter('\r'))
        }),
        (format!("o\n5\r\n{root}\r\n"), |e| {
            matches!(e, CheckpointError::ControlCharacter('\r'))
        }),
        (format!("o\n5\n{root}\nx\ty\n"), |e| {
            matches!(e, CheckpointError::ControlCharacter('\t'))
        }),
        (format!("o\n5\n{root}\n{}\n", "x".repeat(70_000)), |e| {
            matches!(e, CheckpointError::TooLarge(_))
        }),
    ];
    for (text, want) in cases {
        let e = Checkpoint::parse(&text).unwrap_err();
        assert!(want(&e), "{:?}: {e:?}", &text[..text.len().min(80)]);
        assert_message_style(&e.to_string());
    }
    // Valid edge cases.
    for (s, n) in [("0", 0u64), ("18446744073709551615", u64::MAX)] {
        assert_eq!(Checkpoint::parse(&size(s)).unwrap().size, n);
    }
}

#[test]
fn checkpoint_round_trip_and_validate() {
    let cp = Checkpoint {
        origin: "demarche.example/ledger with spaces".into(),
        size: 42,
        root: record_hash(b"leaf"),
        extensions: vec!["ext one".into(), "\u{2014} two".into()],
    };
    cp.validate().unwrap();
    assert_eq!(Checkpoint::parse(&cp.to_text()).unwrap(), cp);
    let mut bad = cp.clone();
    bad.origin = String::new();
    assert_eq!(bad.validate(), Err(CheckpointError::EmptyOrigin));
    bad.origin = "a\nb".into();
    assert_eq!(bad.validate(), Err(CheckpointError::NewlineInOrigin));
    bad = cp.clone();
    bad.extensions.push(String::new());
    assert_eq!(bad.validate(), Err(CheckpointError::InvalidExtension(2)));
    bad = cp.clone();
    bad.origin = "a\rb".into();
    assert_eq!(bad.validate(), Err(CheckpointError::ControlCharacter('\r')));
    // A checkpoint body signs and opens as a note.
    let (s, v) = generate_key("demarche.example/ledger").unwrap();
    let plain = Checkpoint {
        extensions: vec![],
        ..cp
    };
    let n = open(&sign(&plain.to_text(), &s).unwrap(), &[v]).unwrap();
    assert_eq!(Checkpoint::parse(&n.text).unwrap(), plain);
}

// ======================= property tests ===================================

fn mutate(base: &str, ops: &[(usize, u8, char)]) -> String {
    let mut s = base.to_owned();
    for &(pos, op, c) in ops {
        let mut idx = pos % (s.len() + 1);
        while !s.is_char_boundary(idx) {
            idx -= 1;
        }
        match op % 3 {
            0 => s.insert(idx, c),
            1 if idx < s.len() => {
                s.remove(idx);
            }
            _ if idx < s.len() => {
                let ch = s[idx..].chars().next().unwrap();
                s.replace_range(idx..idx + ch.len_utf8(), &c.to_string());
            }
            _ => s.push(c),
        }
    }
    s
}

fn mutation_char() -> impl Strategy<Value = char> {
    prop_oneof![
        Just('\n'),
        Just('+'),
        Just(' '),
        Just('='),
        Just('\u{2014}'),
        Just('\r'),
        proptest::char::range('0', 'z'),
        any::<char>(),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<(usize, u8, char)>> {
    proptest::collection::vec((any::<usize>(), any::<u8>(), mutation_char()), 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic_on_arbitrary_strings(s in "\\PC*|[+A-Za-z0-9/=\\n\u{2014} ]*") {
        let _ = parse_verifier(&s);
        let _ = parse_signer(&s);
        let _ = Checkpoint::parse(&s);
        let _ = open(&s, &[peter()]);
    }

    #[test]
    fn accepted_keys_are_canonical(ops in mutations()) {
        let v = mutate(PETER_VKEY, &ops);
        if let Ok(k) = parse_verifier(&v) {
            prop_assert_eq!(k.to_text(), v);
        }
        let s = mutate(PETER_SKEY, &ops);
        if let Ok(k) = parse_signer(&s) {
            prop_assert_eq!(k.to_text(), s);
        }
    }

    #[test]
    fn accepted_checkpoints_are_canonical(ops in mutations(), s in "\\PC*") {
        let m = mutate(GO_TREE, &ops);
        if let Ok(cp) = Checkpoint::parse(&m) {
            prop_assert_eq!(cp.to_text(), m);
        }
        if let Ok(cp) = Checkpoint::parse(&s) {
            prop_assert_eq!(cp.to_text(), s);
        }
    }

    #[test]
    fn mutated_notes_never_verify_altered_text(ops in mutations()) {
        let base = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
        let m = mutate(&base, &ops);
        if let Ok(n) = open(&m, &[peter(), enoch()]) {
            prop_assert_eq!(n.text, TEXT);
        }
        let m = mutate(SUMDB_NOTE, &ops);
        if let Ok(n) = open(&m, &[parse_verifier(SUMDB_VKEY).unwrap()]) {
            prop_assert_eq!(n.text, &SUMDB_NOTE[..SUMDB_NOTE.find("\n\n").unwrap() + 1]);
        }
    }

    #[test]
    fn mutated_text_part_is_bad_signature_or_malformed(ops in mutations()) {
        let text = mutate(TEXT, &ops);
        prop_assume!(text != TEXT);
        let m = format!("{text}\n{PETER_SIG}");
        let e = open(&m, &[peter()]).unwrap_err();
        let well_formed = text.ends_with('\n')
            && !text.chars().any(|c| c < ' ' && c != '\n')
            && !text.split('\n').any(|l| l.starts_with("\u{2014} "));
        if well_formed {
            prop_assert!(matches!(e, NoteError::BadSignature { .. }), "{:?}", e);
        } else {
            prop_assert!(e.is_malformed(), "{:?}", e);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn sign_open_round_trip(lines in proptest::collection::vec("[^\\p{Cc}]{0,40}", 1..6),
                            name in "[a-z0-9./-]{1,20}") {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        prop_assume!(!text.split('\n').any(|l| l.starts_with("\u{2014} ")));
        let s = SignerKey::from_seed(&name, &[9; 32]).unwrap();
        let n = sign(&text, &s).unwrap();
        let opened = open(&n, &[s.verifier()]).unwrap();
        prop_assert_eq!(&opened.text, &text);
        prop_assert_eq!(opened.verified_names(), vec![name.as_str()]);
    }

    #[test]
    fn checkpoint_round_trip(origin in "[^\\p{Cc}]{1,30}", size in any::<u64>(),
                             root in any::<[u8; 32]>(),
                             extensions in proptest::collection::vec("[^\\p{Cc}]{1,20}", 0..4)) {
        let cp = Checkpoint { origin, size, root, extensions };
        prop_assert!(cp.validate().is_ok());
        prop_assert_eq!(Checkpoint::parse(&cp.to_text()).unwrap(), cp);
    }
}
