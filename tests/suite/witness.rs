//! `demarche witness` (vkey, cosign, serve), `prove --from` and `verify
//! --against --witness`, end to end: a witness cosigns a log's checkpoints
//! while they extend one another, and refuses a fork or a rollback.

use crate::common;

use base64::Engine as _;
use common::bin;
use demarche::cosign;
use demarche::merkle;
use predicates::prelude::*;
use serde_json::Value;
use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

fn demarche(ledger: &Path) -> assert_cmd::Command {
    let mut c = bin();
    c.arg("--ledger").arg(ledger);
    c
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).expect("utf8")
}

fn b64(s: &str) -> [u8; 32] {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
        .try_into()
        .expect("32 bytes")
}

const MORE: &str = r#"{"type":"statement","said_on":"2021-02-01","party":"FRA","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["TUR"],"location":"LBY"},"quote":"France calls for the withdrawal","source":{"publisher":"AFP"}}"#;

struct World {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// The log: the worked example (10 records).
    ledger: PathBuf,
    log_key: PathBuf,
    log_vkey: PathBuf,
    witness_key: PathBuf,
    witness_vkey: PathBuf,
    state: PathBuf,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        let ledger = root.join("ledger");
        demarche(&ledger).arg("demo").assert().success();
        for (name, prefix) in [
            ("newsroom.example/ledger", "log"),
            ("witness.example/w1", "w1"),
        ] {
            demarche(&ledger)
                .args(["key", "generate", "--name", name, "--out"])
                .arg(root.join(prefix))
                .assert()
                .success();
        }
        let witness_vkey = root.join("w1.witness.vkey");
        let out = demarche(&ledger)
            .args(["witness", "vkey", "--key"])
            .arg(root.join("w1.key"))
            .assert()
            .success();
        std::fs::write(&witness_vkey, stdout(&out)).expect("write");
        World {
            log_key: root.join("log.key"),
            log_vkey: root.join("log.vkey"),
            witness_key: root.join("w1.key"),
            witness_vkey,
            state: root.join("state"),
            ledger,
            root,
            _dir: dir,
        }
    }

    /// The signed checkpoint of `ledger` now, saved as `name`.
    fn checkpoint(&self, ledger: &Path, name: &str) -> PathBuf {
        let out = demarche(ledger)
            .args(["checkpoint", "--sign"])
            .arg(&self.log_key)
            .assert()
            .success();
        let p = self.root.join(name);
        std::fs::write(&p, stdout(&out)).expect("write");
        p
    }

    fn cosign(&self, checkpoint: &Path, proof: Option<&Path>) -> assert_cmd::Command {
        let mut c = demarche(&self.ledger);
        c.args(["witness", "cosign", "--key"])
            .arg(&self.witness_key)
            .arg("--log-key")
            .arg(&self.log_vkey)
            .arg("--state")
            .arg(&self.state)
            .arg(checkpoint);
        if let Some(p) = proof {
            c.arg("--proof").arg(p);
        }
        c
    }

    /// `prove --from` on `ledger`, saved as `name`.
    fn prove_from(&self, ledger: &Path, from: &Path, name: &str) -> PathBuf {
        let out = demarche(ledger)
            .args(["prove", "--from"])
            .arg(from)
            .arg("--key")
            .arg(&self.log_vkey)
            .assert()
            .success();
        let p = self.root.join(name);
        std::fs::write(&p, stdout(&out)).expect("write");
        p
    }

    fn import(&self, ledger: &Path, lines: &str) {
        demarche(ledger)
            .args(["import", "-"])
            .write_stdin(lines.to_string())
            .assert()
            .success();
    }

    /// A ledger with the first `n` records of the log, rebuilt from its export.
    fn prefix(&self, n: usize, name: &str) -> PathBuf {
        let export = self.root.join(format!("{name}.jsonl"));
        demarche(&self.ledger)
            .args(["export", "-o"])
            .arg(&export)
            .assert()
            .success();
        let first: String = std::fs::read_to_string(&export)
            .expect("export")
            .lines()
            .take(n)
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&export, first).expect("write");
        let p = self.root.join(name);
        demarche(&p)
            .args(["rebuild", "--from"])
            .arg(&export)
            .assert()
            .success();
        p
    }
}

/// The example's records after the fifth, each changed: another history.
fn other_history() -> String {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/libya-2021-01-29.jsonl");
    std::fs::read_to_string(example)
        .expect("example")
        .lines()
        .skip(5)
        .map(|l| l.replace("denies", "acknowledges") + "\n")
        .collect()
}

/// The state directory's files, one per origin (the lock file left out).
fn state_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("state")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            !p.file_name()
                .expect("name")
                .to_string_lossy()
                .starts_with('.')
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_witness_vkey_is_of_type_0x04_and_log_keys_are_refused_as_witness_keys() {
    let w = World::new();
    let text = std::fs::read_to_string(&w.witness_vkey).expect("vkey");
    let v = cosign::parse_verifier(text.trim()).expect("a witness vkey");
    assert_eq!(v.name(), "witness.example/w1");
    let cp = w.checkpoint(&w.ledger, "cp10");
    // The log's vkey given as a witness's: bad input, naming the key type.
    demarche(&w.ledger)
        .args(["verify", "--against"])
        .arg(&cp)
        .arg("--witness")
        .arg(&w.log_vkey)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("type 0x01"));
    // A key file that is not there.
    w.cosign(&cp, None)
        .arg("--log-key")
        .arg(w.root.join("missing.vkey"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.vkey"));
    // The witness's key given as a log key.
    demarche(&w.ledger)
        .args(["witness", "cosign", "--key"])
        .arg(&w.witness_key)
        .arg("--log-key")
        .arg(&w.witness_vkey)
        .arg("--state")
        .arg(&w.state)
        .arg(&cp)
        .assert()
        .code(2);
}

#[test]
fn a_witness_follows_a_log_and_refuses_a_fork_and_a_rollback() {
    let w = World::new();
    // The log at 5 records: its first checkpoint needs no proof.
    let five = w.prefix(5, "five");
    let cp5 = w.checkpoint(&five, "cp5");
    let out = w.cosign(&cp5, None).assert().success();
    let cosigned5 = stdout(&out);
    let v = cosign::parse_verifier(
        std::fs::read_to_string(&w.witness_vkey)
            .expect("vkey")
            .trim(),
    )
    .expect("vkey");
    assert_eq!(
        cosign::verify(&cosigned5, &v).expect("cosigned").time,
        1_795_953_600
    );
    // The state directory holds one file: the checkpoint with its cosignature.
    let files = state_files(&w.state);
    assert_eq!(files.len(), 1);
    assert_eq!(
        std::fs::read_to_string(&files[0]).expect("state"),
        cosigned5
    );

    // The log at 10: without a proof, bad input; with it, cosigned.
    let cp10 = w.checkpoint(&w.ledger, "cp10");
    w.cosign(&cp10, None)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("prove --from"));
    let cosigned5_file = w.root.join("cosigned5");
    std::fs::write(&cosigned5_file, &cosigned5).expect("write");
    let proof = w.prove_from(&w.ledger, &cosigned5_file, "proof5-10");
    let out = w
        .cosign(&cp10, Some(&proof))
        .arg("--json")
        .assert()
        .success();
    let j: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    assert_eq!(j["size"], 10);
    assert_eq!(j["old_size"], 5);
    assert!(j["cosignature"]
        .as_str()
        .expect("line")
        .starts_with("\u{2014} witness.example/w1 "));

    // A fork: the same first five records, then another history of 10 and 11.
    let fork = w.prefix(5, "fork");
    w.import(&fork, &other_history());
    let fork10 = w.checkpoint(&fork, "fork10");
    w.import(&fork, &format!("{MORE}\n"));
    let fork11 = w.checkpoint(&fork, "fork11");
    let fork_proof = w.prove_from(&fork, &fork10, "fork10-11");
    // prove --from refuses the log's checkpoint on the fork: same origin, other root.
    demarche(&fork)
        .args(["prove", "--from"])
        .arg(&cp10)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("rewritten"));
    // The same size, another root.
    w.cosign(&fork10, None)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("forked"));
    // Larger, with the fork's own proof: it does not lead from what was cosigned.
    w.cosign(&fork11, Some(&fork_proof))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("forked"));
    // A rollback to 5.
    w.cosign(&cp5, None)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("rollback"));
    // The state still says 10: the log's own extension to 11 is cosigned.
    w.import(&w.ledger, &format!("{MORE}\n"));
    let cp11 = w.checkpoint(&w.ledger, "cp11");
    let proof = w.prove_from(&w.ledger, &cp10, "proof10-11");
    let out = w
        .cosign(&cp11, Some(&proof))
        .arg("--cosignature-only")
        .assert()
        .success();
    let line = stdout(&out);
    assert_eq!(line.lines().count(), 1);
    assert!(line.starts_with("\u{2014} witness.example/w1 "));

    // verify --against with the witness: 0 with its cosignature, 1 without.
    let cosigned11 = w.root.join("cosigned11");
    std::fs::write(
        &cosigned11,
        std::fs::read_to_string(&cp11).expect("cp") + &line,
    )
    .expect("write");
    let against = |cp: &Path| {
        let mut c = demarche(&w.ledger);
        c.args(["verify", "--against"])
            .arg(cp)
            .arg("--key")
            .arg(&w.log_vkey)
            .arg("--witness")
            .arg(&w.witness_vkey);
        c
    };
    against(&cosigned11)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "cosigned by witness witness.example/w1",
        ));
    let out = against(&cosigned11).arg("--json").assert().success();
    let j: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    assert_eq!(j["cosigned_by"][0]["witness"], "witness.example/w1");
    against(&cp11)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("witness.example/w1"));
    // A cosignature of another checkpoint does not count for this one.
    std::fs::write(
        &cosigned11,
        std::fs::read_to_string(&cp10).expect("cp") + &line,
    )
    .expect("write");
    against(&cosigned11).assert().code(1);
}

#[test]
fn a_state_file_edited_by_hand_is_not_believed() {
    let w = World::new();
    let cp = w.checkpoint(&w.ledger, "cp10");
    w.cosign(&cp, None).assert().success();
    let files = state_files(&w.state);
    assert_eq!(files.len(), 1);
    let file = &files[0];
    // Put back a checkpoint without the witness's cosignature (a smaller one
    // would let a rollback through).
    let five = w.prefix(5, "five");
    let cp5 = w.checkpoint(&five, "cp5");
    std::fs::write(file, std::fs::read(&cp5).expect("cp5")).expect("write");
    w.cosign(&cp, None)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not believed"));
}

#[test]
fn prove_from_prints_a_proof_that_verifies_and_refuses_another_ledger() {
    let w = World::new();
    let five = w.prefix(5, "five");
    let cp5 = w.checkpoint(&five, "cp5");
    let out = demarche(&w.ledger)
        .args(["prove", "--from"])
        .arg(&cp5)
        .args(["--json", "--key"])
        .arg(&w.log_vkey)
        .assert()
        .success();
    let j: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    assert_eq!(j["old_size"], 5);
    assert_eq!(j["new_size"], 10);
    let proof: Vec<[u8; 32]> = j["proof"]
        .as_array()
        .expect("proof")
        .iter()
        .map(|h| b64(h.as_str().expect("str")))
        .collect();
    let (old_root, new_root) = (
        b64(j["old_root"].as_str().expect("root")),
        b64(j["new_root"].as_str().expect("root")),
    );
    merkle::verify_consistency(5, 10, &old_root, &new_root, &proof).expect("verifies");
    // The text form is the same hashes, one per line.
    let text = demarche(&w.ledger)
        .args(["prove", "--from"])
        .arg(&cp5)
        .assert()
        .success();
    let lines: Vec<[u8; 32]> = stdout(&text).lines().map(b64).collect();
    assert_eq!(lines, proof);
    // Today's root is the ledger's checkpoint's.
    let cp10 = std::fs::read_to_string(w.checkpoint(&w.ledger, "cp10")).expect("cp");
    assert_eq!(cp10.lines().nth(2), j["new_root"].as_str());
    // Another ledger's checkpoint (another origin) is refused.
    let other = w.root.join("other");
    w.import(&other, &format!("{MORE}\n"));
    let foreign = w.checkpoint(&other, "foreign");
    demarche(&w.ledger)
        .args(["prove", "--from"])
        .arg(&foreign)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not of this ledger"));
    // Signed by another key than --key: refused.
    demarche(&w.ledger)
        .args(["prove", "--from"])
        .arg(&cp5)
        .arg("--key")
        .arg(w.root.join("w1.vkey"))
        .assert()
        .code(1);
    // Neither a seq nor --from: usage.
    demarche(&w.ledger).arg("prove").assert().code(2);
}

/// Sends one HTTP request and returns the status, the headers and the body.
fn post(addr: &str, body: &[u8]) -> (u16, String, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    write!(
        s,
        "POST /add-checkpoint HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("write");
    s.write_all(body).expect("write");
    let mut response = String::new();
    s.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("a response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    (status, head.to_ascii_lowercase(), body.to_string())
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn witness_serve_speaks_add_checkpoint_over_http() {
    let w = World::new();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("demarche"))
        .args(["witness", "serve", "--addr", "127.0.0.1:0", "--key"])
        .arg(&w.witness_key)
        .arg("--log-key")
        .arg(&w.log_vkey)
        .arg("--state")
        .arg(&w.state)
        .env("DEMARCHE_NOW", "2026-11-29T12:00:00Z")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let server = Server(child);
    let mut stderr = std::io::BufReader::new(stderr);
    let mut first = String::new();
    stderr.read_line(&mut first).expect("read");
    // The rest of what it says is read, so that it never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();

    let five = w.prefix(5, "five");
    let cp5 = std::fs::read_to_string(w.checkpoint(&five, "cp5")).expect("cp");
    let cp10_file = w.checkpoint(&w.ledger, "cp10");
    let cp10 = std::fs::read_to_string(&cp10_file).expect("cp");
    // Malformed: 400.
    let (status, _, _) = post(&addr, b"old x\n\n");
    assert_eq!(status, 400);
    // First checkpoint: 200 with the cosignature line.
    let (status, _, body) = post(&addr, format!("old 0\n\n{cp5}").as_bytes());
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("\u{2014} witness.example/w1 "));
    let v = cosign::parse_verifier(
        std::fs::read_to_string(&w.witness_vkey)
            .expect("vkey")
            .trim(),
    )
    .expect("vkey");
    cosign::verify(&(cp5.clone() + &body), &v).expect("a valid cosignature");
    // Stale old size: 409 with the size the witness knows.
    let (status, head, body) = post(&addr, format!("old 0\n\n{cp10}").as_bytes());
    assert_eq!(status, 409);
    assert_eq!(body, "5\n");
    assert!(head.contains("content-type: text/x.tlog.size"), "{head}");
    // A bad proof: 422.
    let junk = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let (status, _, _) = post(
        &addr,
        format!("old 5\n{junk}\n{junk}\n{junk}\n\n{cp10}").as_bytes(),
    );
    assert_eq!(status, 422);
    // The right proof: 200.
    let cp5_file = w.root.join("cp5");
    let proof = std::fs::read_to_string(w.prove_from(&w.ledger, &cp5_file, "p")).expect("proof");
    let (status, _, body) = post(&addr, format!("old 5\n{proof}\n{cp10}").as_bytes());
    assert_eq!(status, 200, "{body}");
    // A checkpoint signed by a key the witness does not trust: 403.
    let stranger = demarche(&w.ledger)
        .args(["checkpoint", "--sign"])
        .arg(&w.witness_key)
        .assert()
        .success();
    let (status, _, _) = post(&addr, format!("old 10\n\n{}", stdout(&stranger)).as_bytes());
    assert_eq!(status, 403);
    // Too large: refused before the witness reads it as a request (which
    // would say 400). The server may close before the client has written
    // all of it; any answer that comes is 413.
    let mut s = std::net::TcpStream::connect(&addr).expect("connect");
    let big = demarche::witness::MAX_REQUEST + 1;
    let _ = write!(
        s,
        "POST /add-checkpoint HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {big}\r\nConnection: close\r\n\r\n"
    );
    let _ = s.write_all(&vec![b'x'; big]);
    let mut response = String::new();
    let _ = s.read_to_string(&mut response);
    if !response.is_empty() {
        assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    }
    drop(server);
}
