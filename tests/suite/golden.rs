//! Golden vectors: the stored bytes and hashes of known events, checked in under
//! `schema/vectors/` and written only by `tools/vectors.rs`. A change to the record
//! layout, the payload encoding or the hash inputs fails here.

use demarche::chain::{self, Verifier};
use demarche::codec::{self, link_input};
use demarche::event::{Hash, Head};
use demarche::json;
use serde_json::Value;
use std::path::Path;

fn unhex(s: &str) -> Vec<u8> {
    demarche::hex::decode(s).expect("hex")
}

fn vectors() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/vectors");
    let mut v: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("schema/vectors exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read vector");
            (
                p.file_stem().expect("name").to_string_lossy().into_owned(),
                serde_json::from_str(&text).expect("vector is JSON"),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("field {k}"))
}

#[test]
fn positive_vectors_pin_payload_record_digest_and_hash() {
    let all = vectors();
    let chain_vectors: Vec<&(String, Value)> = all
        .iter()
        .filter(|(_, v)| v.get("event").is_some())
        .collect();
    assert!(chain_vectors.len() >= 10, "the event vectors are missing");
    assert!(
        chain_vectors.iter().any(|(_, v)| v["format_version"] == 2),
        "the vectors of event format 2 are missing"
    );
    assert!(
        chain_vectors.iter().any(|(_, v)| v["format_version"] == 3),
        "the vectors of event format 3 are missing"
    );
    let mut verifier = Verifier::new();
    let mut last = Hash::ZERO;
    let mut last_at = 0;
    for (name, v) in &chain_vectors {
        let event =
            json::parse_event(&v["event"].to_string()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let payload = codec::encode_event(&event).expect("encodes");
        assert_eq!(
            payload,
            unhex(s(v, "payload_hex")),
            "{name}: payload bytes changed"
        );
        let digest = chain::payload_digest(&payload);
        assert_eq!(digest.to_hex(), s(v, "digest"), "{name}: digest changed");
        let record = unhex(s(v, "record_hex"));
        let (rec, len) = codec::read_record(&record).expect("vector record reads");
        assert_eq!(len, record.len(), "{name}");
        assert_eq!(rec.header.seq, v["seq"].as_u64().expect("seq"), "{name}");
        // The encoding byte names the event format, and only an event that
        // needs format 2 (or 3) is stored in it.
        let format = v["format_version"].as_u64().expect("format_version");
        assert_eq!(u64::from(rec.header.encoding), format, "{name}");
        assert_eq!(u64::from(event.format()), format, "{name}");
        assert_eq!(rec.header.prev.to_hex(), s(v, "prev"), "{name}");
        let at: jiff::Timestamp = s(v, "recorded_at").parse().expect("time");
        assert_eq!(rec.header.recorded_at, at.as_microsecond(), "{name}");
        let mut rewritten = Vec::new();
        codec::write_record(&rec.header, &payload, &mut rewritten);
        assert_eq!(rewritten, record, "{name}: record layout changed");
        assert_eq!(
            codec::decode_event(rec.body).expect("decodes"),
            event,
            "{name}: decode(encode(e)) != e"
        );
        let hash = chain::link_hash(&rec.header, &digest);
        assert_eq!(hash.to_hex(), s(v, "hash"), "{name}: chain hash changed");
        // The same hash through the plain BLAKE3 API, as another implementation would compute it.
        let independent = blake3::derive_key(
            chain::LINK_CONTEXT,
            &link_input(&rec.header, &blake3_digest(&payload)),
        );
        assert_eq!(Hash(independent), hash, "{name}");
        verifier
            .feed(&rec, &digest)
            .unwrap_or_else(|p| panic!("{name}: {p}"));
        last = hash;
        last_at = rec.header.recorded_at;
    }
    let head = Head {
        size: chain_vectors.len() as u64,
        hash: last,
        recorded_at: last_at,
    };
    assert_eq!(verifier.finish(&head), Ok(()));
}

fn blake3_digest(payload: &[u8]) -> Hash {
    Hash(blake3::derive_key(chain::PAYLOAD_CONTEXT, payload))
}

#[test]
fn a_redacted_record_keeps_its_hash_and_is_reported() {
    let all = vectors();
    let (_, red) = all
        .iter()
        .find(|(n, _)| n == "v1-07-redacted")
        .expect("redacted vector");
    let (_, first) = all
        .iter()
        .find(|(n, _)| n == "v1-01-statement-full")
        .expect("first vector");
    let bytes = unhex(s(red, "record_hex"));
    let (rec, _) = codec::read_record(&bytes).expect("reads");
    assert!(rec.header.is_redacted());
    let digest = chain::body_digest(&rec);
    assert_eq!(digest.to_hex(), s(red, "digest"));
    assert_eq!(
        chain::link_hash(&rec.header, &digest).to_hex(),
        s(first, "hash")
    );
    let mut v = Verifier::new();
    v.feed(&rec, &digest)
        .expect("a redacted record still links");
    assert_eq!(v.redacted, vec![1]);
}

#[test]
fn a_redacted_record_of_format_2_keeps_its_encoding_and_its_hash() {
    let all = vectors();
    let find = |name: &str| &all.iter().find(|(n, _)| n == name).expect(name).1;
    let (red, role) = (find("v2-05-redacted"), find("v2-04-role"));
    let bytes = unhex(s(red, "record_hex"));
    let (rec, _) = codec::read_record(&bytes).expect("reads");
    assert!(rec.header.is_redacted());
    assert_eq!(rec.header.encoding, codec::ENCODING_EVENT_V2);
    let digest = chain::body_digest(&rec);
    assert_eq!(digest.to_hex(), s(role, "digest"));
    assert_eq!(
        chain::link_hash(&rec.header, &digest).to_hex(),
        s(role, "hash")
    );
    // Under encoding 1 the same bytes would hash to another chain.
    let mut other = rec.header;
    other.encoding = codec::ENCODING_EVENT_V1;
    assert_ne!(chain::link_hash(&other, &digest).to_hex(), s(role, "hash"));
}

#[test]
fn stored_blocks_open_to_their_records() {
    let blocks: Vec<(String, Value)> = vectors()
        .into_iter()
        .filter(|(_, v)| v.get("block_hex").is_some())
        .collect();
    assert!(blocks.len() >= 2, "the block vectors are missing");
    for (name, v) in blocks {
        let stored = unhex(s(&v, "block_hex"));
        let records = codec::open_block(&stored).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            records.as_ref(),
            unhex(s(&v, "records_hex")).as_slice(),
            "{name}"
        );
        // Sealing again may pick other bytes (compression is not part of the
        // format), but must open to the same records.
        let resealed = codec::seal_block(&records);
        assert_eq!(
            codec::open_block(&resealed).expect("opens").as_ref(),
            records.as_ref(),
            "{name}"
        );
    }
}

#[test]
fn negative_vectors_are_refused_with_the_expected_error() {
    let negatives: Vec<(String, Value)> = vectors()
        .into_iter()
        .filter(|(_, v)| v.get("error").is_some())
        .collect();
    assert!(negatives.len() >= 11, "the negative vectors are missing");
    for (name, v) in negatives {
        let bytes = unhex(s(&v, "record_hex"));
        let err = match codec::read_record(&bytes) {
            Err(e) => e.to_string(),
            Ok((rec, _)) => match codec::decode_event(rec.body) {
                Err(e) => e.to_string(),
                Ok(e) => panic!("{name}: accepted as {e:?}"),
            },
        };
        assert!(err.contains(s(&v, "error")), "{name}: got \"{err}\"");
    }
}
