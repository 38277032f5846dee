//! `publish`, `follow` and `clone`: the ledger as C2SP tlog-tiles, read back
//! from a directory and over HTTP from a static server, checked by the
//! command's own reader and, independently, by this test from the tiles; and
//! every way of changing a published file, caught and named.

use crate::common;

use common::bin;
use demarche::merkle::{self, Digest, NodeSource};
use demarche::note;
use demarche::tlog;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

fn demarche(ledger: &Path) -> assert_cmd::Command {
    let mut c = bin();
    c.arg("--ledger").arg(ledger);
    c
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).expect("utf8")
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stderr.clone()).expect("utf8")
}

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    ledger: PathBuf,
    key: PathBuf,
    vkey: PathBuf,
}

impl Setup {
    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    fn publish(&self, dir: &Path) -> assert_cmd::assert::Assert {
        demarche(&self.ledger)
            .arg("publish")
            .arg(dir)
            .arg("--sign")
            .arg(&self.key)
            .assert()
    }

    fn follow(&self, source: &str, state: &Path) -> assert_cmd::assert::Assert {
        bin()
            .args(["follow", source, "--key"])
            .arg(&self.vkey)
            .arg("--state")
            .arg(state)
            .assert()
    }

    fn head(&self, ledger: &Path) -> String {
        stdout(&demarche(ledger).arg("head").assert().success())
    }
}

/// The worked example with `extra` actor events after it, and a key pair.
fn setup(extra: usize) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    let ledger = root.join("ledger");
    demarche(&ledger).arg("demo").assert().success();
    if extra > 0 {
        add_actors(&ledger, 0, extra);
    }
    bin()
        .args([
            "key",
            "generate",
            "--name",
            "newsroom.example/ledger",
            "--out",
        ])
        .arg(root.join("k"))
        .assert()
        .success();
    Setup {
        _dir: dir,
        key: root.join("k.key"),
        vkey: root.join("k.vkey"),
        ledger,
        root,
    }
}

fn add_actors(ledger: &Path, from: usize, to: usize) {
    let lines: String = (from..to)
        .map(|i| {
            format!(r#"{{"type":"actor","id":"XG{i}","name":"Group number {i}","kind":"group"}}"#)
                + "\n"
        })
        .collect();
    let file = ledger.with_extension(format!("actors-{from}.jsonl"));
    std::fs::write(&file, lines).expect("write");
    demarche(ledger).arg("import").arg(&file).assert().success();
}

/// `python3 -m http.server` on a free port of 127.0.0.1, serving `dir`.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1"])
            .arg(port.to_string())
            .arg("--directory")
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m http.server");
        let s = Server { child, port };
        let start = Instant::now();
        while get(s.port, "/checkpoint").is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        s
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.0 GET: the body of a 200, `None` otherwise.
fn get(port: u16, path: &str) -> Option<Vec<u8>> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut all = Vec::new();
    s.read_to_end(&mut all).ok()?;
    let end = all.windows(4).position(|w| w == b"\r\n\r\n")?;
    let status = String::from_utf8_lossy(&all[..end]).into_owned();
    status
        .starts_with("HTTP/1.0 200")
        .then(|| all[end + 4..].to_vec())
}

/// The nodes of a published tree, read from its hash tiles over HTTP.
struct HttpTiles {
    port: u16,
    size: u64,
    fetched: std::collections::HashMap<String, Vec<Digest>>,
}

impl NodeSource for HttpTiles {
    type Error = String;

    fn node(&mut self, level: u8, index: u64) -> Result<Digest, String> {
        let (t, r) = (level / 8, u32::from(level % 8));
        let first = index << r;
        let n = first / 256;
        let width = tlog::tile_width(self.size, t, n);
        let path = format!("/{}", tlog::tile_path(t, n, width));
        if !self.fetched.contains_key(&path) {
            let bytes = get(self.port, &path).ok_or(format!("{path} missing"))?;
            let hashes = tlog::tile_hashes(&bytes).map_err(|l| format!("{path}: {l} bytes"))?;
            self.fetched.insert(path.clone(), hashes);
        }
        let hashes = &self.fetched[&path];
        let from = (first % 256) as usize;
        Ok(merkle::subtree_root(&hashes[from..from + (1 << r)]))
    }
}

/// Reads a published tree over HTTP as an independent reader would: the
/// checkpoint's signature, every entry re-derived and linked to the chain
/// head, and inclusion proofs built from the tiles for a spread of records.
fn check_over_http(port: u16, vkey: &Path) -> (u64, String, Digest) {
    let key = note::parse_verifier(std::fs::read_to_string(vkey).unwrap().trim_end()).unwrap();
    let cp_note = String::from_utf8(get(port, "/checkpoint").expect("checkpoint")).unwrap();
    note::open(&cp_note, &[key]).expect("the checkpoint's signature verifies");
    let cp = note::Checkpoint::parse(demarche::evidence::note_text(&cp_note).unwrap()).unwrap();
    let size = cp.size;
    let mut prev = demarche::event::Hash::ZERO;
    let mut leaves = Vec::new();
    for n in 0..size.div_ceil(256) {
        let width = tlog::tile_width(size, 0, n);
        let bundle = get(port, &format!("/{}", tlog::entries_path(n, width))).expect("bundle");
        for entry in tlog::split_bundle(&bundle).unwrap() {
            let (rec, hash) = tlog::read_entry(entry).expect("an entry is a record");
            assert_eq!(rec.header.seq, leaves.len() as u64 + 1);
            assert_eq!(rec.header.prev, prev, "seq {} links", rec.header.seq);
            prev = hash;
            leaves.push(demarche::tree::leaf(&hash));
        }
    }
    assert_eq!(leaves.len() as u64, size);
    let chain = cp
        .extensions
        .iter()
        .find_map(|e| e.strip_prefix("chain "))
        .expect("a chain line");
    assert_eq!(
        chain,
        format!("{size}:{prev}"),
        "the entries end at the chain head"
    );
    let mut tiles = HttpTiles {
        port,
        size,
        fetched: Default::default(),
    };
    assert_eq!(merkle::root(size, &mut tiles).unwrap(), cp.root);
    // The first, the last, and some at random (a fixed xorshift, so a failure
    // can be run again).
    let mut x = size ^ 0x9e37_79b9_7f4a_7c15;
    let mut random = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % size
    };
    let picks = [
        0,
        size - 1,
        random(),
        random(),
        random(),
        random(),
        random(),
    ];
    for i in picks {
        let proof = merkle::inclusion_proof(i, size, &mut tiles).expect("a proof from the tiles");
        merkle::verify_inclusion(&leaves[i as usize], i, size, &proof, &cp.root)
            .unwrap_or_else(|e| panic!("record {}: {e}", i + 1));
    }
    (size, chain.to_string(), cp.root)
}

#[test]
fn a_published_tree_is_read_over_http_by_follow_and_by_an_independent_reader() {
    let s = setup(290);
    let pubdir = s.path("pub");
    s.publish(&pubdir).success();
    let server = Server::start(&pubdir);
    let (size, chain, first_root) = check_over_http(server.port, &s.vkey);
    assert_eq!(size, 300);
    assert_eq!(s.head(&s.ledger).trim(), chain);
    let state = s.path("state");
    let out = stdout(&s.follow(&server.url(), &state).success());
    assert!(out.contains("300 records, every one checked"), "{out}");

    // A second publish writes only what is new; the reader sees the log grow.
    add_actors(&s.ledger, 290, 600);
    let out = stdout(&s.publish(&pubdir).success());
    assert!(out.contains("(310 new since the last publish)"), "{out}");
    let (size, chain, root) = check_over_http(server.port, &s.vkey);
    assert_eq!(size, 610);
    assert_eq!(s.head(&s.ledger).trim(), chain);
    // The second checkpoint extends the first: a consistency proof from the tiles.
    let mut tiles = HttpTiles {
        port: server.port,
        size,
        fetched: Default::default(),
    };
    let proof = merkle::consistency_proof(300, 610, &mut tiles).expect("a proof from the tiles");
    merkle::verify_consistency(300, 610, &first_root, &root, &proof).expect("consistent");
    assert!(merkle::verify_consistency(300, 610, &root, &root, &proof).is_err());
    let out = stdout(&s.follow(&server.url(), &state).success());
    assert!(out.contains("310 new since the checkpoint of 300"), "{out}");
    let out = stdout(&s.follow(&server.url(), &state).success());
    assert!(out.contains("nothing new"), "{out}");
    // Publishing again with nothing new writes nothing.
    let json = stdout(
        &demarche(&s.ledger)
            .arg("publish")
            .arg(&pubdir)
            .arg("--sign")
            .arg(&s.key)
            .arg("--json")
            .assert()
            .success(),
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!((v["files"].as_u64(), v["new"].as_u64()), (Some(0), Some(0)));
    // The reader's records are the ledger's, as `log --json` prints them.
    let records = stdout(
        &bin()
            .args(["follow", &server.url(), "--records", "--key"])
            .arg(&s.vkey)
            .arg("--state")
            .arg(s.path("fresh-state"))
            .assert()
            .success(),
    );
    let log = stdout(
        &demarche(&s.ledger)
            .args(["log", "--json"])
            .assert()
            .success(),
    );
    let firsts: Vec<&str> = records.lines().take(610).collect();
    let logs: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(firsts.len(), 610);
    for (r, l) in firsts.iter().zip(&logs) {
        let r: serde_json::Value = serde_json::from_str(r).unwrap();
        assert_eq!((&r["seq"], &r["hash"]), (&l["seq"], &l["hash"]));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

fn flip(path: &Path, at: usize) {
    let mut b = std::fs::read(path).unwrap();
    let i = at.min(b.len() - 1);
    b[i] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

#[test]
fn a_changed_tile_bundle_or_checkpoint_is_caught_and_named() {
    let s = setup(290);
    let pubdir = s.path("pub");
    s.publish(&pubdir).success();
    // 300 records: full tile/0/000 and bundle 000, partial 001.p/44, tile/1/000.p/1.
    type Change = fn(&Path);
    let cases: [(&str, Change, &str); 7] = [
        (
            "a hash in a full tile",
            |d| flip(&d.join("tile/0/000"), 100),
            "tile/0/000",
        ),
        (
            "a hash in a partial tile",
            |d| flip(&d.join("tile/0/001.p/44"), 5),
            "tile/0/001.p/44",
        ),
        (
            "the level-1 tile",
            |d| flip(&d.join("tile/1/000.p/1"), 0),
            "tile/1/000.p/1",
        ),
        // A byte of the payload of the 40th record of the first bundle.
        (
            "a record in a full bundle",
            |d| {
                let p = d.join("tile/entries/000");
                let b = std::fs::read(&p).unwrap();
                let entries = tlog::split_bundle(&b).unwrap();
                let offset: usize =
                    entries[..40].iter().map(|e| e.len() + 2).sum::<usize>() + 2 + 70;
                flip(&p, offset);
            },
            "tile/entries/000",
        ),
        (
            "a record in the partial bundle",
            |d| {
                let p = d.join("tile/entries/001.p/44");
                let len = std::fs::metadata(&p).unwrap().len() as usize;
                flip(&p, len - 3);
            },
            "tile/entries/001.p/44",
        ),
        (
            "the checkpoint's root",
            |d| {
                let p = d.join("checkpoint");
                let t = std::fs::read_to_string(&p).unwrap();
                let lines: Vec<&str> = t.lines().collect();
                let root = lines[2];
                let other = if root.starts_with('A') {
                    root.replacen('A', "B", 1)
                } else {
                    format!("A{}", &root[1..])
                };
                std::fs::write(&p, t.replacen(root, &other, 1)).unwrap();
            },
            "checkpoint",
        ),
        (
            "a missing bundle",
            |d| std::fs::remove_file(d.join("tile/entries/001.p/44")).unwrap(),
            "tile/entries/001.p/44 is missing",
        ),
    ];
    for (what, change, named) in cases {
        let dir = s.path(&format!("copy-{}", what.replace(' ', "-")));
        copy_dir(&pubdir, &dir);
        change(&dir);
        let state = s.path(&format!("state-{}", what.replace(' ', "-")));
        let a = s.follow(dir.to_str().unwrap(), &state).code(1);
        let err = stderr(&a);
        assert!(err.contains(named), "{what}: {err}");
        assert!(
            !state.exists(),
            "{what}: nothing is believed, no state is kept"
        );
    }
}

#[test]
fn a_rollback_or_a_fork_of_what_was_seen_is_refused() {
    let s = setup(0);
    let pubdir = s.path("pub");
    s.publish(&pubdir).success();
    let early = s.path("early");
    copy_dir(&pubdir, &early);
    // A second ledger with the same first records: the same log, until it forks.
    let fork = s.path("fork");
    demarche(&fork).arg("demo").assert().success();
    add_actors(&fork, 1000, 1001);
    add_actors(&s.ledger, 0, 1);
    s.publish(&pubdir).success();
    let forkdir = s.path("forkpub");
    demarche(&fork)
        .arg("publish")
        .arg(&forkdir)
        .arg("--sign")
        .arg(&s.key)
        .assert()
        .success();

    let state = s.path("state");
    s.follow(pubdir.to_str().unwrap(), &state).success();
    let kept = std::fs::read(&state).unwrap();
    let err = stderr(&s.follow(early.to_str().unwrap(), &state).code(1));
    assert!(err.contains("rolled back"), "{err}");
    let err = stderr(&s.follow(forkdir.to_str().unwrap(), &state).code(1));
    assert!(err.contains("forked"), "{err}");
    assert_eq!(
        std::fs::read(&state).unwrap(),
        kept,
        "the state is unchanged"
    );
    // A forked log that grew past what was seen does not extend it either.
    add_actors(&fork, 1001, 1003);
    demarche(&fork)
        .arg("publish")
        .arg(&forkdir)
        .arg("--sign")
        .arg(&s.key)
        .assert()
        .success();
    let err = stderr(&s.follow(forkdir.to_str().unwrap(), &state).code(1));
    assert!(err.contains("tile/entries/000.p/13"), "{err}");
    // A state file changed by hand is not believed.
    let text = String::from_utf8(kept)
        .unwrap()
        .replacen("recorded_at 1", "recorded_at 2", 1);
    let tiles_changed = text.replacen(" ", " 00", 3);
    std::fs::write(&state, tiles_changed).unwrap();
    let err = stderr(&s.follow(pubdir.to_str().unwrap(), &state).code(1));
    assert!(err.contains("state file"), "{err}");
}

#[test]
fn clone_makes_a_verified_copy_that_follow_keeps_up_to_date() {
    let s = setup(300);
    let pubdir = s.path("pub");
    s.publish(&pubdir).success();
    let copy = s.path("copy");
    let out = stdout(
        &demarche(&copy)
            .args(["clone", pubdir.to_str().unwrap(), "--key"])
            .arg(&s.vkey)
            .assert()
            .success(),
    );
    assert!(out.contains("310 records recorded"), "{out}");
    assert_eq!(s.head(&copy), s.head(&s.ledger));
    demarche(&copy).arg("verify").assert().success();
    let positions = |l: &Path| {
        stdout(
            &demarche(l)
                .args(["positions", "--as-of", "2021-01-29", "--json"])
                .assert()
                .success(),
        )
    };
    assert_eq!(positions(&copy), positions(&s.ledger));

    add_actors(&s.ledger, 300, 320);
    s.publish(&pubdir).success();
    let out = stdout(&demarche(&copy).arg("follow").assert().success());
    assert!(out.contains("20 new since the checkpoint of 310"), "{out}");
    assert_eq!(s.head(&copy), s.head(&s.ledger));

    // A changed bundle: nothing of it reaches the copy.
    add_actors(&s.ledger, 320, 330);
    s.publish(&pubdir).success();
    let before = s.head(&copy);
    let bundle = pubdir.join("tile/entries/001.p/84");
    let len = std::fs::metadata(&bundle).unwrap().len() as usize;
    flip(&bundle, len - 3);
    let err = stderr(&demarche(&copy).arg("follow").assert().code(1));
    assert!(err.contains("tile/entries/001.p/84"), "{err}");
    assert_eq!(s.head(&copy), before);
    demarche(&copy).arg("verify").assert().success();

    // A copy is a new ledger; an existing one is refused.
    let err = stderr(
        &demarche(&s.ledger)
            .args(["clone", pubdir.to_str().unwrap(), "--key"])
            .arg(&s.vkey)
            .assert()
            .code(2),
    );
    assert!(err.contains("already exists"), "{err}");
    // And `follow` on a ledger that is not a copy says so.
    let err = stderr(&demarche(&s.ledger).arg("follow").assert().code(2));
    assert!(err.contains("not a copy"), "{err}");
    // A reader who keeps a ledger in $DEMARCHE_LEDGER still follows without a
    // store; when that ledger is a copy, following its source updates it.
    flip(&bundle, len - 3);
    let out = stdout(
        &bin()
            .env("DEMARCHE_LEDGER", &s.ledger)
            .args(["follow", pubdir.to_str().unwrap(), "--key"])
            .arg(&s.vkey)
            .arg("--state")
            .arg(s.path("reader.state"))
            .assert()
            .success(),
    );
    assert!(out.contains("340 records, every one checked"), "{out}");
    let out = stdout(
        &bin()
            .env("DEMARCHE_LEDGER", &copy)
            .args(["follow", pubdir.to_str().unwrap()])
            .assert()
            .success(),
    );
    assert!(out.contains("10 records recorded"), "{out}");
    assert_eq!(s.head(&copy), s.head(&s.ledger));
}

#[test]
fn publish_refuses_a_directory_it_did_not_make_and_an_empty_ledger() {
    let s = setup(0);
    let pubdir = s.path("pub");
    s.publish(&pubdir).success();
    // Another key's directory.
    bin()
        .args(["key", "generate", "--name", "other.example/x", "--out"])
        .arg(s.path("o"))
        .assert()
        .success();
    let err = stderr(
        &demarche(&s.ledger)
            .arg("publish")
            .arg(&pubdir)
            .arg("--sign")
            .arg(s.path("o.key"))
            .assert()
            .code(1),
    );
    assert!(err.contains("not signed by"), "{err}");
    // Another ledger's directory.
    let other = s.path("other");
    add_actors(&other, 0, 3);
    let err = stderr(
        &demarche(&other)
            .arg("publish")
            .arg(&pubdir)
            .arg("--sign")
            .arg(&s.key)
            .assert()
            .code(1),
    );
    assert!(err.contains("not of this ledger"), "{err}");
    // A partial tile changed after publishing: not extended.
    flip(&pubdir.join("tile/0/000.p/10"), 40);
    add_actors(&s.ledger, 0, 1);
    let before = std::fs::read(pubdir.join("checkpoint")).unwrap();
    let err = stderr(&s.publish(&pubdir).code(1));
    assert!(err.contains("do not make its root"), "{err}");
    assert_eq!(std::fs::read(pubdir.join("checkpoint")).unwrap(), before);
    // Nothing to publish.
    let empty = s.path("empty");
    demarche(&empty).arg("init").assert().success();
    let err = stderr(
        &demarche(&empty)
            .arg("publish")
            .arg(s.path("p2"))
            .arg("--sign")
            .arg(&s.key)
            .assert()
            .code(2),
    );
    assert!(err.contains("nothing to publish"), "{err}");
}
