//! Writes the golden vectors of the stored format to `schema/vectors/`.
//!
//! Run only when the format changes on purpose, and review the diff as a format
//! change: `cargo run --bin demarche-vectors -- schema/vectors`. `tests/golden.rs`
//! checks the library against these files.

use demarche::chain;
use demarche::codec::{self, RecordHeader, FLAG_REDACTED, HEADER_LEN};
use demarche::dates;
use demarche::event::Hash;
use demarche::hex;
use demarche::json;
use serde_json::{json, Value};
use std::path::PathBuf;

const RECORDED_AT: &str = "2021-01-29T12:00:00Z";

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "schema/vectors".into()),
    );
    std::fs::create_dir_all(&dir).expect("create the vectors directory");
    let t0: i64 = RECORDED_AT
        .parse::<jiff::Timestamp>()
        .expect("time")
        .as_microsecond();
    let chain_events: Vec<(&str, &str, Value)> = vec![
        ("v1-01-statement-full", "a statement with every optional field: speaker with role, hedge, several subjects, location, qualifier, full source",
         json!({"type":"statement","said_on":"2021-01-28","party":"USA","speaker":{"name":"Richard Mills","role":"acting US ambassador to the UN"},"stance":"calls-for","hedge":"per the October cease-fire agreement","proposition":{"predicate":"withdrawal","subjects":["TUR","RUS"],"location":"LBY","qualifier":"forces"},"quote":"we call on Turkey and Russia to immediately initiate the withdrawal of their forces","source":{"url":"https://example.org/report","publisher":"Example Wire","published_on":"2021-01-29"}})),
        ("v1-02-statement-minimal", "a statement with only the required fields, said at a time with a UTC offset, non-ASCII text",
         json!({"type":"statement","said_on":"2021-01-28T15:30:00+01:00","party":"RUS","stance":"denies","proposition":{"predicate":"presence","subjects":[]},"quote":"«Мы не имеем военных в Ливии»","source":{"publisher":"AFP"}})),
        ("v1-03-correction", "a correction of seq 2 with a reason",
         json!({"type":"correction","of":2,"statement":{"said_on":"2021-01-28","party":"RUS","stance":"denies","proposition":{"predicate":"presence","subjects":["RUS"],"location":"LBY","qualifier":"military-personnel"},"quote":"We don't have any military personnel","source":{"publisher":"AFP"}},"reason":"subject and place were missing"})),
        ("v1-04-retraction", "a retraction of seq 1",
         json!({"type":"retraction","of":1,"reason":"recorded from a misattributed quote"})),
        ("v1-05-actor", "an actor with aliases, a parent and a CAMEO code",
         json!({"type":"actor","id":"RUS-MFA","name":"Russian Foreign Ministry","kind":"body","aliases":["Russian MFA","MID"],"parent":"RUS","cameo":"RUSGOV"})),
        ("v1-06-alias", "an alias of an existing actor",
         json!({"type":"alias","actor":"UN","alias":"Organisation des Nations unies"})),
        // Event format 2: three variants appended to the event enum.
        ("v2-01-statement-joint", "event format 2: a joint statement with a condition, a deadline, a translated quote with its language, a speaker who is an actor, and two sources",
         json!({"type":"statement","said_on":"2023-07-30","party":"ECOWAS","joint_with":["NGA","SEN"],"speaker":{"name":"Omar Alieu Touray","role":"President of the ECOWAS Commission","actor":"TOURAY"},"stance":"threatens","condition":"if constitutional order is not restored","deadline":"2023-08-06","proposition":{"predicate":"use-of-force","subjects":["ECOWAS"],"location":"NER"},"quote":"such measures may include the use of force","quote_kind":"translation","language":"fr","sources":[{"url":"https://example.org/communique","publisher":"Example Wire","published_on":"2023-07-30"},{"publisher":"Another Wire"}]})),
        ("v2-02-statement-document", "event format 2: a vote on a resolution, the document named in the proposition",
         json!({"type":"statement","said_on":"2024-03-25","party":"USA","stance":"abstains","proposition":{"predicate":"resolution","subjects":[],"document":"S/RES/2728(2024)"},"quote":"we abstained","source":{"publisher":"UN Press"}})),
        ("v2-03-correction", "event format 2: a correction whose statement needs format 2 (a paraphrase)",
         json!({"type":"correction","of":8,"statement":{"said_on":"2024-03-25","party":"USA","stance":"abstains","proposition":{"predicate":"resolution","subjects":[],"document":"S/RES/2728(2024)"},"quote":"the United States abstained","quote_kind":"paraphrase","source":{"publisher":"UN Press"}},"reason":"the quote is the report's, not the speaker's"})),
        ("v2-04-role", "event format 2: a role a person holds for a party from a day, ended",
         json!({"type":"role","actor":"TOURAY","party":"ECOWAS","role":"President of the ECOWAS Commission","from":"2022-07-15","until":"2026-07-14"})),
        // Event format 3: two variants appended, for machine-coded statements.
        ("v3-01-statement-coded", "event format 3: a statement made by a machine coder from a GDELT event, with its provenance (Goldstein scale in tenths, tone in thousandths)",
         json!({"type":"statement","said_on":"2024-05-02","party":"FRA","stance":"calls-for","proposition":{"predicate":"ceasefire","subjects":["ISR"],"location":"ISR"},"quote":"GDELT event 1170000123, CAMEO 0256 (appeal for de-escalation of military engagement); machine-coded, no quotation","source":{"url":"https://example.org/news/2024/05/02/appeal","publisher":"GDELT 2.0","published_on":"2024-05-02"},"coded":{"coder":"gdelt","event_id":1170000123_u64,"cameo":"0256","mentions":12,"sources":3,"goldstein":3.4,"tone":-2.157}})),
        ("v3-02-correction-coded", "event format 3: a correction of seq 11 whose statement keeps the provenance and adds a field of format 2 (a paraphrase)",
         json!({"type":"correction","of":11,"statement":{"said_on":"2024-05-02","party":"FRA","stance":"calls-for","proposition":{"predicate":"ceasefire","subjects":["ISR"],"location":"ISR"},"quote":"France appealed for de-escalation","quote_kind":"paraphrase","source":{"url":"https://example.org/news/2024/05/02/appeal","publisher":"GDELT 2.0","published_on":"2024-05-02"},"coded":{"coder":"gdelt","event_id":1170000123_u64,"cameo":"0256","mentions":12,"sources":3,"goldstein":3.4,"tone":-2.157}},"reason":"the quote was the coder's note"})),
    ];
    let mut prev = Hash::ZERO;
    let mut all_records = Vec::new();
    let mut last_record = Vec::new();
    let mut first_record = Vec::new();
    let mut first_hash = Hash::ZERO;
    let mut role_record = Vec::new();
    let mut role_hash = Hash::ZERO;
    for (i, (name, description, event_json)) in chain_events.iter().enumerate() {
        let seq = i as u64 + 1;
        let recorded_at = t0 + i as i64 * 1_000_000;
        let event = json::parse_event(&event_json.to_string()).expect("vector event parses");
        let payload = codec::encode_event(&event).expect("encodes");
        let digest = chain::payload_digest(&payload);
        let header = RecordHeader::for_payload(seq, recorded_at, prev, &payload);
        let hash = chain::link_hash(&header, &digest);
        let mut record = Vec::new();
        codec::write_record(&header, &payload, &mut record);
        if header.encoding == codec::ENCODING_EVENT_V1 {
            all_records.extend_from_slice(&record);
        }
        last_record = record.clone();
        if seq == 1 {
            first_record = record.clone();
            first_hash = hash;
        }
        if *name == "v2-04-role" {
            (role_record, role_hash) = (record.clone(), hash);
        }
        let v = json!({
            "description": description,
            "format_version": header.encoding,
            "event": event_json,
            "seq": seq,
            "recorded_at": dates::format_recorded_at(recorded_at),
            "prev": prev.to_hex(),
            "payload_hex": hex::encode(&payload),
            "record_hex": hex::encode(&record),
            "digest": digest.to_hex(),
            "hash": hash.to_hex(),
        });
        write(&dir, name, &v);
        prev = hash;
    }
    // A redacted record: the payload of vector 1 withheld, its digest in its place.
    let mut redacted = first_record[..HEADER_LEN].to_vec();
    redacted[3] = FLAG_REDACTED;
    let digest1 = chain::payload_digest(&first_record[HEADER_LEN..]);
    redacted.extend_from_slice(&digest1.0);
    write(
        &dir,
        "v1-07-redacted",
        &json!({
            "description": "vector 1 with its payload withheld: flag bit 0 set and the 32-byte digest stored in place of the payload; the chain hash is unchanged",
            "format_version": 1,
            "record_hex": hex::encode(&redacted),
            "digest": digest1.to_hex(),
            "hash": first_hash.to_hex(),
        }),
    );
    // A redacted record of format 2: the encoding byte stays 2, which the chain
    // hash covers and an export of it states (`payload_encoding`).
    let mut redacted2 = role_record[..HEADER_LEN].to_vec();
    redacted2[3] = FLAG_REDACTED;
    let digest_role = chain::payload_digest(&role_record[HEADER_LEN..]);
    redacted2.extend_from_slice(&digest_role.0);
    write(
        &dir,
        "v2-05-redacted",
        &json!({
            "description": "vector v2-04 with its payload withheld: the encoding byte stays 2 and the chain hash is unchanged",
            "format_version": 2,
            "record_hex": hex::encode(&redacted2),
            "digest": digest_role.to_hex(),
            "hash": role_hash.to_hex(),
        }),
    );
    // Blocks: the records of vectors 1-6 as one stored block, compressed and plain.
    let sealed = codec::seal_block(&all_records);
    assert_eq!(sealed[0], codec::BLOCK_LZ4, "six records compress");
    write(
        &dir,
        "v1-08-block-lz4",
        &json!({
            "description": "the records of vectors 1 to 6 laid end to end, stored as an LZ4 block: encoding byte 2, u32 LE length of the records, LZ4 block data",
            "format_version": 1,
            "block_hex": hex::encode(&sealed),
            "records_hex": hex::encode(&all_records),
        }),
    );
    let mut plain = vec![codec::BLOCK_PLAIN];
    plain.extend_from_slice(&first_record);
    write(
        &dir,
        "v1-09-block-plain",
        &json!({
            "description": "the record of vector 1 stored as a plain block: encoding byte 1, then the record",
            "format_version": 1,
            "block_hex": hex::encode(&plain),
            "records_hex": hex::encode(&first_record),
        }),
    );
    // Negative vectors: bytes that must be refused, and the error expected.
    let payload1 = first_record[HEADER_LEN..].to_vec();
    let mut trailing = first_record.clone();
    trailing.push(0);
    trailing[52..56].copy_from_slice(&(payload1.len() as u32 + 1).to_le_bytes());
    let mut version = first_record.clone();
    version[0] = 2;
    let mut flags = first_record.clone();
    flags[3] = 0x80;
    let truncated = first_record[..first_record.len() - 1].to_vec();
    let mut tag = first_record.clone();
    tag[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&99u32.to_le_bytes());
    let mut huge_len = first_record.clone();
    huge_len[52..56].copy_from_slice(&(1u32 << 20).to_le_bytes());
    let mut huge_string = first_record.clone();
    // The first string of a statement (the party) follows the u32 variant tag,
    // the i32 date and the one-byte option tag of the time.
    let at = HEADER_LEN + 4 + 4 + 1;
    huge_string[at..at + 8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    let negatives: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        (
            "v1-n1-trailing-byte",
            "a payload with one byte after the event",
            trailing,
            "trailing",
        ),
        (
            "v1-n2-unknown-version",
            "record format version 2",
            version,
            "unknown record format version 2",
        ),
        (
            "v1-n3-unknown-flag",
            "a flag bit that is not defined",
            flags,
            "unknown flag bits 128",
        ),
        (
            "v1-n4-truncated",
            "a record one byte short",
            truncated,
            "record truncated",
        ),
        (
            "v1-n5-unknown-event-tag",
            "an event variant tag of 99",
            tag,
            "payload does not decode",
        ),
        (
            "v1-n6-payload-too-large",
            "a payload length over the 64 KiB limit",
            huge_len,
            "exceeds the limit",
        ),
        (
            "v1-n7-huge-string-length",
            "a string length prefix of 2^62: must be refused without allocating it",
            huge_string,
            "payload does not decode",
        ),
    ];
    // Negative vectors of format 2.
    let v2_negatives = v2_negatives(&role_record);
    let v3_negatives = v3_negatives(&role_record, &last_record);
    for (name, description, bytes, error) in negatives
        .into_iter()
        .chain(v2_negatives)
        .chain(v3_negatives)
    {
        write(
            &dir,
            name,
            &json!({
                "description": description,
                "format_version": name[1..2].parse::<u8>().expect("vN- name"),
                "record_hex": hex::encode(&bytes),
                "error": error,
            }),
        );
    }
    eprintln!("wrote vectors to {}", dir.display());
}

/// Records of format 2 that must be refused: `role` is the record of a role
/// event (format 2).
fn v2_negatives(role: &[u8]) -> Vec<(&'static str, &'static str, Vec<u8>, &'static str)> {
    let statement = |more_tail: &[u8]| -> Vec<u8> {
        // A minimal statement of format 2 (variant 5): the fields of format 1,
        // then those of format 2 with `more_tail` after the joint parties.
        let event = json::parse_event(
            r#"{"type":"statement","said_on":"2021-01-28","party":"RUS","stance":"denies","proposition":{"predicate":"presence"},"quote":"q","source":{"publisher":"AFP"}}"#,
        )
        .expect("parses");
        let v1 = codec::encode_event(&event).expect("encodes");
        let mut payload = 5u32.to_le_bytes().to_vec();
        payload.extend_from_slice(&v1[4..]);
        payload.extend_from_slice(&0u64.to_le_bytes()); // no joint parties
        payload.extend_from_slice(more_tail);
        let header = RecordHeader::for_payload(1, 0, Hash::ZERO, &payload);
        let mut record = Vec::new();
        codec::write_record(&header, &payload, &mut record);
        record
    };
    // speaker actor, condition, deadline, document: none; quote kind; language:
    // none; no further sources.
    let empty = [0u8, 0, 0, 0];
    let none_after = [0u8, 0, 0, 0, 0, 0, 0, 0, 0];
    let with_kind = |kind: u8| {
        let mut t = empty.to_vec();
        t.push(kind);
        t.extend_from_slice(&none_after);
        t
    };
    let mut mismatch = role.to_vec();
    mismatch[2] = codec::ENCODING_EVENT_V1;
    let mut unknown_encoding = role.to_vec();
    unknown_encoding[2] = 3;
    vec![
        (
            "v2-n1-format-1-event-in-format-2",
            "a statement of variant 5 whose fields of format 2 are all empty: format 1 holds it, so this would be a second stored form of one event",
            statement(&with_kind(0)),
            "an event of format 2 that format 1 holds",
        ),
        (
            "v2-n2-unknown-quote-kind",
            "a statement of format 2 with quote kind 3",
            statement(&with_kind(3)),
            "unknown quote kind 3",
        ),
        (
            "v2-n3-encoding-mismatch",
            "a role event (format 2) under payload encoding 1",
            mismatch,
            "an event of format 2 under payload encoding 1",
        ),
        (
            "v2-n4-unknown-encoding",
            "a role event (format 2) under payload encoding 3: an unknown encoding before format 3, a mismatch since",
            unknown_encoding,
            "an event of format 2 under payload encoding 3",
        ),
    ]
}

/// Records of format 3 that must be refused: `role` is the record of a role
/// event (format 2), `coded` that of a correction of format 3.
fn v3_negatives(
    role: &[u8],
    coded: &[u8],
) -> Vec<(&'static str, &'static str, Vec<u8>, &'static str)> {
    let mut unknown_encoding = role.to_vec();
    unknown_encoding[2] = 4;
    let mut mismatch = coded.to_vec();
    mismatch[2] = codec::ENCODING_EVENT_V2;
    // A statement of variant 8 with every field empty and no coder: the
    // fields of format 1, those of format 2 (empty), then the provenance.
    let event = json::parse_event(
        r#"{"type":"statement","said_on":"2021-01-28","party":"RUS","stance":"denies","proposition":{"predicate":"presence"},"quote":"q","source":{"publisher":"AFP"}}"#,
    )
    .expect("parses");
    let v1 = codec::encode_event(&event).expect("encodes");
    let mut payload = 8u32.to_le_bytes().to_vec();
    payload.extend_from_slice(&v1[4..]);
    payload.extend_from_slice(&0u64.to_le_bytes()); // no joint parties
    payload.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // options, kind, language, sources
    payload.extend_from_slice(&0u64.to_le_bytes()); // coder: empty
    payload.extend_from_slice(&7u64.to_le_bytes()); // event id
    payload.extend_from_slice(&2u64.to_le_bytes()); // cameo: 2 bytes
    payload.extend_from_slice(b"16");
    payload.extend_from_slice(&[1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // mentions, sources, goldstein, tone
    let header = RecordHeader::for_payload(1, 0, Hash::ZERO, &payload);
    let mut no_coder = Vec::new();
    codec::write_record(&header, &payload, &mut no_coder);
    vec![
        (
            "v3-n1-unknown-encoding",
            "payload encoding 4",
            unknown_encoding,
            "unknown payload encoding 4",
        ),
        (
            "v3-n2-encoding-mismatch",
            "a correction of format 3 under payload encoding 2",
            mismatch,
            "an event of format 3 under payload encoding 2",
        ),
        (
            "v3-n3-no-coder",
            "a statement of format 3 whose provenance names no coder",
            no_coder,
            "without its coder",
        ),
    ]
}

fn write(dir: &std::path::Path, name: &str, v: &Value) {
    let mut text = serde_json::to_string_pretty(v).expect("json");
    text.push('\n');
    std::fs::write(dir.join(format!("{name}.json")), text).expect("write vector");
}
