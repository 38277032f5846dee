//! `demarche serve` end to end: the real binary on a free port of 127.0.0.1,
//! asked with a plain HTTP/1.1 client. Tiles and checkpoints against the
//! library's, the API against the command line's `--json`, bad requests
//! (which change nothing), both engines beside appends, a bounded load, and
//! the page in headless Chromium.

use crate::common;

use demarche::ledger::Ledger;
use demarche::note::{self, Checkpoint};
use demarche::store::OpenOptions;
use demarche::tlog;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---- the server and a client ----------------------------------------------

/// A running `demarche serve`, stopped with SIGTERM when dropped.
struct Server {
    child: Child,
    addr: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `demarche --ledger LEDGER serve --addr 127.0.0.1:0 ARGS` and
    /// waits for the line that names its address.
    fn start(ledger: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("demarche"))
            .env_remove("DEMARCHE_LEDGER")
            .env("NO_COLOR", "1")
            .arg("--ledger")
            .arg(ledger)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start demarche serve");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let mut seen = String::new();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("serve ended before it listened: {seen}");
            };
            seen.push_str(&line);
            seen.push('\n');
            if let Some(rest) = line.split(" at http://").nth(1) {
                break rest.trim_end_matches('/').to_string();
            }
        };
        // The rest of stderr is kept, so that the pipe never fills.
        let stderr = Arc::new(Mutex::new(seen));
        let keep = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut s = keep.lock().expect("stderr");
                s.push_str(&line);
                s.push('\n');
            }
        });
        Server {
            child,
            addr,
            stderr,
        }
    }

    fn get(&self, path: &str) -> Reply {
        request(&self.addr, "GET", path, &[], b"")
    }

    fn json(&self, path: &str) -> Value {
        let r = self.get(path);
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
        serde_json::from_slice(&r.body).expect("JSON")
    }

    /// SIGTERM, then the exit status and everything said on stderr.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        let status = self.terminate();
        // The reader thread ends with the pipe.
        std::thread::sleep(Duration::from_millis(50));
        let text = self.stderr.lock().expect("stderr").clone();
        (status, text)
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        self.child.wait().expect("wait")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

/// An HTTP answer.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn error(&self) -> String {
        let v: Value = serde_json::from_slice(&self.body).expect("a JSON error");
        v["error"].as_str().expect("error").to_string()
    }
}

/// One HTTP/1.1 request on its own connection, `path` sent as it is.
fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("send");
    // A server may answer (and close) before a large body is sent whole.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let end = rest.windows(2).position(|w| w == b"\r\n").expect("size");
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..end]).expect("hex"), 16)
                .expect("chunk size");
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[end + 2..end + 2 + size]);
            rest = &rest[end + 4 + size..];
        }
        body = out;
    }
    Reply {
        status,
        headers,
        body,
    }
}

// ---- ledgers ---------------------------------------------------------------

fn demarche(ledger: &Path) -> assert_cmd::Command {
    let mut c = common::bin();
    c.arg("--ledger").arg(ledger);
    c
}

/// The worked example in a new ledger of `engine` (the environment's when
/// `None`).
fn example(dir: &Path, engine: Option<&str>) -> PathBuf {
    let ledger = dir.join("ledger");
    if let Some(e) = engine {
        demarche(&ledger)
            .args(["init", "--engine", e])
            .assert()
            .success();
    }
    demarche(&ledger).arg("demo").assert().success();
    ledger
}

/// A signing key pair in `dir`: the key's path and the verifier key.
fn key(dir: &Path) -> (PathBuf, note::VerifierKey) {
    let prefix = dir.join("k");
    let out = common::bin()
        .args(["key", "generate", "--name", "serve.test/ledger", "--out"])
        .arg(&prefix)
        .assert()
        .success();
    let vkey = String::from_utf8(out.get_output().stdout.clone()).expect("utf8");
    (
        dir.join("k.key"),
        note::parse_verifier(vkey.trim()).expect("verifier key"),
    )
}

/// A token file of mode 0600.
fn token(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("token");
    let token = "serve-test-token-0123456789abcdef".to_string();
    std::fs::write(&path, format!("{token}\n")).expect("token");
    set_mode(&path, 0o600);
    (path, token)
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn head(ledger: &Path) -> String {
    let out = demarche(ledger).arg("head").assert().success();
    String::from_utf8(out.get_output().stdout.clone())
        .expect("utf8")
        .trim()
        .to_string()
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn open_read(ledger: &Path) -> Ledger {
    Ledger::open(
        ledger,
        &OpenOptions {
            read_only: true,
            ..OpenOptions::default()
        },
    )
    .expect("open")
}

/// A statement line, different for each `i`.
fn line(i: usize) -> String {
    serde_json::json!({
        "type": "statement", "said_on": "2021-02-01", "party": "FRA", "stance": "calls-for",
        "proposition": {"predicate": "withdrawal", "subjects": ["TUR"], "location": "LBY"},
        "quote": format!("France calls for the withdrawal, statement {i}"),
        "source": {"publisher": "AFP"}
    })
    .to_string()
}

// ---- tests -----------------------------------------------------------------

#[test]
fn serve_tiles_equal_the_ledgers_and_the_checkpoint_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    // 300 records: a full tile and bundle, and partial ones after them.
    let built = common::build(&ledger, 10, 280);
    assert_eq!(built.size, 300);
    let (k, vkey) = key(dir.path());
    let server = Server::start(&ledger, &["--sign", k.to_str().expect("utf8")]);

    let cp = server.get("/checkpoint");
    assert_eq!(cp.status, 200);
    assert_eq!(cp.header("content-type"), Some("text/plain; charset=utf-8"));
    assert!(cp
        .header("cache-control")
        .expect("cache")
        .contains("max-age=5"));
    let opened = note::open(&cp.text(), std::slice::from_ref(&vkey)).expect("signed by the key");
    let checkpoint = Checkpoint::parse(&opened.text).expect("a checkpoint");
    assert_eq!(checkpoint.size, 300);

    let paths = [
        tlog::tile_path(0, 0, 256),
        tlog::tile_path(0, 1, 44),
        tlog::tile_path(0, 1, 20),
        tlog::tile_path(1, 0, 1),
        tlog::entries_path(0, 256),
        tlog::entries_path(1, 44),
    ];
    let mut served = Vec::new();
    for p in &paths {
        let r = server.get(&format!("/{p}"));
        assert_eq!(r.status, 200, "{p}: {}", r.text());
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
        let cache = r.header("cache-control").expect("cache").to_string();
        if p.contains(".p/") {
            assert!(!cache.contains("immutable"), "{p}: {cache}");
        } else {
            assert!(cache.contains("immutable"), "{p}: {cache}");
        }
        served.push(r.body);
    }
    // Tiles the tree does not have (yet) are 404s.
    for p in ["/tile/0/001", "/tile/0/002.p/1", "/tile/entries/001.p/45"] {
        assert_eq!(server.get(p).status, 404, "{p}");
    }
    let (status, _) = server.stop();
    assert!(status.success());

    let l = open_read(&ledger);
    for (p, bytes) in paths.iter().zip(&served) {
        let expected = match tlog::parse_path(p).expect("a tile path") {
            tlog::Resource::Tile(level, n, w) => tlog::live_tile(&l, level, n, w),
            tlog::Resource::Entries(n, w) => tlog::live_bundle(&l, n, w),
            tlog::Resource::Checkpoint => unreachable!(),
        }
        .expect("read")
        .expect("there");
        assert_eq!(bytes, &expected, "{p}");
    }
    let (size, root) = l.tree_head().expect("tree");
    assert_eq!((checkpoint.size, checkpoint.root), (size, root));
    assert_eq!(
        checkpoint.extensions,
        vec![format!("chain {}", l.head().expect("head").token())]
    );
}

#[test]
fn serve_without_a_key_has_no_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = example(dir.path(), None);
    let server = Server::start(&ledger, &[]);
    let r = server.get("/checkpoint");
    assert_eq!(r.status, 404);
    let v: Value = serde_json::from_slice(&r.body).expect("JSON");
    assert!(v["hint"].as_str().expect("hint").contains("--sign"), "{v}");
    // The API's checkpoint is the unsigned one, as `checkpoint --json` gives it.
    let cp = server.json("/api/checkpoint");
    assert_eq!(cp["size"], 10);
    assert!(!cp["note"].as_str().expect("note").contains('\u{2014}'));
}

#[test]
fn serve_answers_the_worked_example_as_the_command_line_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = example(dir.path(), None);
    let (k, _) = key(dir.path());
    let questions: [(&[&str], &str); 5] = [
        (&["positions", "--json"], "/api/positions"),
        (
            &["positions", "--json", "--as-of", "2021-01-29"],
            "/api/positions?as-of=2021-01-29",
        ),
        (
            &[
                "positions",
                "--json",
                "--party",
                "Russia",
                "--view",
                "presence",
            ],
            "/api/positions?party=Russia&view=presence",
        ),
        (
            &["history", "--json", "--party", "RUS"],
            "/api/history?party=RUS",
        ),
        (
            &[
                "diff",
                "--json",
                "--from",
                "2021-01-27",
                "--to",
                "2021-01-29",
            ],
            "/api/diff?from=2021-01-27&to=2021-01-29",
        ),
    ];
    // sled is held by the server: the command line answers first.
    let expected: Vec<Vec<Value>> = questions
        .iter()
        .map(|(args, _)| {
            let out = demarche(&ledger).args(*args).assert().success();
            json_lines(&out.get_output().stdout)
        })
        .collect();
    let show = demarche(&ledger)
        .args(["show", "3", "--json"])
        .assert()
        .success();
    let show: Value = serde_json::from_slice(&show.get_output().stdout).expect("JSON");
    let prove = demarche(&ledger)
        .args(["prove", "3", "--json"])
        .assert()
        .success();
    let prove: Value = serde_json::from_slice(&prove.get_output().stdout).expect("JSON");

    let server = Server::start(&ledger, &["--sign", k.to_str().expect("utf8")]);
    for ((_, path), want) in questions.iter().zip(&expected) {
        let got = server.json(path);
        assert_eq!(got.as_array().expect("an array"), want, "{path}");
    }
    assert_eq!(expected[1].len(), 13, "the worked example's positions");
    assert_eq!(server.json("/api/show?seq=3"), show);
    assert_eq!(server.json("/api/record?seq=3"), show);
    assert_eq!(server.json("/api/proofs/inclusion?seq=3"), prove);
    let proof = server.json("/api/proofs/consistency?old=4&new=10");
    assert_eq!(proof["new_root"], prove["root"]);
    // The graph and the timeline are the commands' SVG.
    let graph = server.get("/api/graph?as-of=2021-01-29");
    assert_eq!(graph.header("content-type"), Some("image/svg+xml"));
    assert!(graph.text().starts_with("<svg"));
    let timeline = server.get("/api/timeline?party=RUS");
    assert!(timeline.text().contains("<svg"));
    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-security-policy")
        .expect("a policy")
        .contains("script-src 'self'"));
}

#[test]
fn serve_refuses_bad_requests_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = example(dir.path(), None);
    let (tok, token) = token(dir.path());
    let before = head(&ledger);
    let server = Server::start(&ledger, &["--token-file", tok.to_str().expect("utf8")]);
    let bearer = format!("Bearer {token}");
    let auth = [("Authorization", bearer.as_str())];

    let huge = vec![b'x'; 3 << 20];
    let r = request(&server.addr, "POST", "/api/append", &auth, &huge);
    assert_eq!(r.status, 413, "{}", r.text());
    for path in [
        "/tile/../../../etc/passwd",
        "/tile/0/%2e%2e/%2e%2e/etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/../Cargo.toml",
        "/tile/0/000/../001",
        "/tile/00/000.p/1",
        "/tile/0/000.p/256",
        "/page.js/..",
    ] {
        let r = server.get(path);
        assert!(
            r.status == 404 || r.status == 400,
            "{path}: {} {}",
            r.status,
            r.text()
        );
        assert!(!r.text().contains("root:"), "{path}");
    }
    let r = server.get("/api/positions?as-of=2021-01-29&colour=red");
    assert_eq!(r.status, 400);
    assert!(r.error().contains("\"colour\""), "{}", r.error());
    let r = server.get("/api/positions?as-of=yesterday");
    assert_eq!(r.status, 400);
    assert!(r.error().contains("as-of"), "{}", r.error());
    let r = server.get("/api/positions?ledger=/etc");
    assert_eq!(r.status, 400);
    let r = server.get("/api/show?seq=99");
    assert_eq!(r.status, 400);

    let good = line(1);
    for auth in [
        vec![],
        vec![("Authorization", "Bearer not-the-token-at-all-000")],
        vec![("Authorization", token.as_str())],
    ] {
        let r = request(&server.addr, "POST", "/api/append", &auth, good.as_bytes());
        assert_eq!(r.status, 401, "{auth:?}: {}", r.text());
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
    let r = request(
        &server.addr,
        "POST",
        "/api/append",
        &auth,
        b"{\"type\":\"statement\"",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = request(
        &server.addr,
        "POST",
        "/api/append?force=1",
        &auth,
        good.as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = request(&server.addr, "GET", "/api/append", &auth, b"");
    assert_eq!(r.status, 405);

    assert_eq!(
        server.json("/api/head")["size"],
        before
            .split(':')
            .next()
            .expect("size")
            .parse::<u64>()
            .expect("n")
    );
    let (status, _) = server.stop();
    assert!(status.success());
    assert_eq!(head(&ledger), before, "bad requests changed nothing");
}

#[test]
fn serve_refuses_a_token_file_others_can_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = example(dir.path(), None);
    let (tok, _) = token(dir.path());
    set_mode(&tok, 0o644);
    demarche(&ledger)
        .args(["serve", "--addr", "127.0.0.1:0", "--token-file"])
        .arg(&tok)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("mode 0644"))
        .stderr(predicates::str::contains("0600"));
}

#[test]
fn serve_on_redb_lets_the_command_line_append() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = example(dir.path(), Some("redb"));
    let server = Server::start(&ledger, &[]);
    let before = server.json("/api/positions?party=FRA");
    assert_eq!(before.as_array().expect("array").len(), 0);
    demarche(&ledger)
        .args(["--wait", "5", "append", "--json", &line(1)])
        .assert()
        .success();
    let after = server.json("/api/positions?party=FRA");
    assert_eq!(after.as_array().expect("array").len(), 1, "{after}");
    assert_eq!(server.json("/api/head")["size"], 11);
    // A correction by the command line: the statement's record says so.
    assert_eq!(server.json("/api/record?seq=3")["status"], "standing");
    demarche(&ledger)
        .args([
            "--wait",
            "5",
            "append",
            "--correct",
            "3",
            "--quote",
            "corrected",
        ])
        .args(["--reason", "a word was wrong"])
        .assert()
        .success();
    let r = server.json("/api/record?seq=3");
    assert_eq!(
        (&r["status"], &r["corrected_by"]),
        (&"corrected".into(), &12.into())
    );
    // Without a token file the server takes no writes.
    let r = request(&server.addr, "POST", "/api/append", &[], line(2).as_bytes());
    assert_eq!(r.status, 403);
}

#[test]
fn serve_on_sled_holds_the_store_and_takes_appends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = example(dir.path(), Some("sled"));
    let (tok, token) = token(dir.path());
    let server = Server::start(&ledger, &["--token-file", tok.to_str().expect("utf8")]);
    demarche(&ledger)
        .args(["--wait", "0.3", "append", "--json", &line(1)])
        .assert()
        .code(3)
        .stderr(predicates::str::contains("in use by another process"));
    let bearer = format!("Bearer {token}");
    let auth = [("Authorization", bearer.as_str())];
    let r = request(
        &server.addr,
        "POST",
        "/api/append",
        &auth,
        line(1).as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let recorded: Value = serde_json::from_slice(&r.body).expect("JSON");
    assert_eq!(recorded["seq"], 11);
    // The same event again is a conflict, unless asked for.
    let r = request(
        &server.addr,
        "POST",
        "/api/append",
        &auth,
        line(1).as_bytes(),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    let after = server.json("/api/positions?party=FRA");
    assert_eq!(after.as_array().expect("array").len(), 1, "{after}");
    let (status, stderr) = server.stop();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
    let shown = demarche(&ledger)
        .args(["show", "11", "--json"])
        .assert()
        .success();
    let shown: Value = serde_json::from_slice(&shown.get_output().stdout).expect("JSON");
    assert_eq!(shown["hash"], recorded["hash"]);
    demarche(&ledger).arg("verify").assert().success();
}

/// Readers of the checkpoint, a tile and positions beside appends, for at
/// most 10 seconds or 4,000 requests: no errors, and every acknowledged
/// append is in the ledger afterwards. The figures are printed, never
/// asserted.
#[test]
fn serve_under_load_answers_everything_and_keeps_every_append() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = example(dir.path(), None);
    let (k, _) = key(dir.path());
    let (tok, token) = token(dir.path());
    let server = Server::start(
        &ledger,
        &[
            "--sign",
            k.to_str().expect("utf8"),
            "--token-file",
            tok.to_str().expect("utf8"),
        ],
    );
    let addr = server.addr.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(10);
    let done = move |count: &AtomicUsize, stop: &AtomicBool| {
        stop.load(Ordering::Relaxed)
            || count.load(Ordering::Relaxed) >= 4_000
            || Instant::now() >= deadline
    };
    let paths = [
        "/checkpoint",
        "/tile/0/000.p/10",
        "/api/positions?as-of=2021-01-29",
        "/tile/entries/000.p/8",
        "/api/positions?party=RUS",
    ];
    let mut threads = Vec::new();
    for t in 0..4 {
        let (addr, stop, count) = (addr.clone(), stop.clone(), count.clone());
        threads.push(std::thread::spawn(move || {
            let (mut times, mut errors) = (Vec::new(), Vec::new());
            let mut i = t;
            while !done(&count, &stop) {
                let path = paths[i % paths.len()];
                i += 1;
                let t0 = Instant::now();
                let r = request(&addr, "GET", path, &[], b"");
                times.push(t0.elapsed());
                count.fetch_add(1, Ordering::Relaxed);
                if r.status != 200 {
                    errors.push(format!("{path}: {} {}", r.status, r.text()));
                }
            }
            (times, errors, Vec::<Value>::new())
        }));
    }
    {
        let (addr, stop, count) = (addr.clone(), stop.clone(), count.clone());
        let bearer = format!("Bearer {token}");
        threads.push(std::thread::spawn(move || {
            let (mut times, mut errors, mut acked) = (Vec::new(), Vec::new(), Vec::new());
            let mut i = 100;
            while !done(&count, &stop) {
                i += 1;
                let t0 = Instant::now();
                let r = request(
                    &addr,
                    "POST",
                    "/api/append",
                    &[("Authorization", bearer.as_str())],
                    line(i).as_bytes(),
                );
                times.push(t0.elapsed());
                count.fetch_add(1, Ordering::Relaxed);
                match r.status {
                    201 => acked.push(serde_json::from_slice(&r.body).expect("JSON")),
                    s => errors.push(format!("append: {s} {}", r.text())),
                }
            }
            (times, errors, acked)
        }));
    }
    let mut times = Vec::new();
    let mut errors = Vec::new();
    let mut acked = Vec::new();
    for t in threads {
        let (tm, e, a) = t.join().expect("thread");
        times.extend(tm);
        errors.extend(e);
        acked.extend(a);
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    times.sort();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    println!(
        "serve load ({} engine): {} requests ({} appends) in {:.2} s: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms",
        std::env::var("DEMARCHE_ENGINE").unwrap_or_else(|_| "sled".into()),
        times.len(),
        acked.len(),
        elapsed.as_secs_f64(),
        times.len() as f64 / elapsed.as_secs_f64(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
    );
    assert!(
        errors.is_empty(),
        "{} errors, first: {}",
        errors.len(),
        errors[0]
    );
    assert!(!acked.is_empty());
    let (status, stderr) = server.stop();
    assert!(status.success(), "{stderr}");

    let l = open_read(&ledger);
    for a in &acked {
        let seq = a["seq"].as_u64().expect("seq");
        let r = l.get(seq).expect("an acknowledged append is there");
        assert_eq!(Value::from(r.hash.to_hex()), a["hash"], "seq {seq}");
    }
    assert_eq!(l.head().expect("head").size, 10 + acked.len() as u64);
    assert!(l.verify(None).expect("verify").is_intact());
}

#[test]
fn serve_help_says_how_to_serve() {
    let out = common::bin().args(["serve", "--help"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).expect("utf8");
    for words in [
        "POST /api/append",
        "0600",
        "read-only",
        "sled",
        "/tile/",
        "Examples:",
        "--token-file",
    ] {
        assert!(
            text.contains(words),
            "serve --help lacks {words:?}:\n{text}"
        );
    }
}

/// Where a test writes what a person may want to look at.
fn output_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("serve-screenshots")
}

#[test]
fn serve_page_in_headless_chromium() {
    let required = std::env::var("DEMARCHE_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let websockets = Command::new("python3")
        .args(["-c", "import websockets.sync.client"])
        .status()
        .is_ok_and(|s| s.success());
    let (Some(chromium), true) = (chromium, websockets) else {
        assert!(
            !required,
            "DEMARCHE_REQUIRE_BROWSER=1, but chromium or Python's websockets is missing"
        );
        println!("skipped: no chromium, or no Python websockets package (install both to run it)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = example(dir.path(), None);
    let (k, _) = key(dir.path());
    let server = Server::start(&ledger, &["--sign", k.to_str().expect("utf8")]);
    let out_dir = output_dir();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/page.py");
    let run = Command::new("python3")
        .arg(&script)
        .args(["--url", &format!("http://{}/", server.addr)])
        .args(["--chromium", chromium])
        .arg("--out")
        .arg(&out_dir)
        .output()
        .expect("run the page driver");
    assert!(
        run.status.success(),
        "the page driver failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: Value = serde_json::from_slice(&run.stdout).expect("a JSON report");
    let libya = |key: &str| -> usize {
        report[key]
            .as_array()
            .expect("positions")
            .iter()
            .filter(|p| p["location"] == "LBY")
            .count()
    };
    assert_eq!(report["error"], "", "{report}");
    assert_eq!(report["as_of"], "2021-01-29");
    assert!(libya("positions") >= 10, "{report}");
    assert_eq!(report["before_as_of"], "2021-01-27");
    assert_eq!(libya("before"), 0, "before 2021-01-28: {report}");
    assert!(
        !report["before"].as_array().expect("array").is_empty(),
        "the 1990 demand stays"
    );
    let checks = report["checks"].as_array().expect("checks");
    assert!(!checks.is_empty());
    assert!(
        checks.iter().all(|c| c == "verified"),
        "every statement verifies: {report}"
    );
    assert!(report["checkpoint"]
        .as_str()
        .expect("text")
        .contains("signed by serve.test/ledger"));
    let png = std::fs::read(out_dir.join("page.png")).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"));
    println!("screenshot: {}", out_dir.join("page.png").display());
}

#[test]
fn serve_is_a_tree_that_clone_and_follow_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = example(dir.path(), Some("redb"));
    let (k, _) = key(dir.path());
    let vkey = dir.path().join("k.vkey");
    let server = Server::start(&ledger, &["--sign", k.to_str().expect("utf8")]);
    let url = format!("http://{}/", server.addr);
    let copy = dir.path().join("copy");
    demarche(&copy)
        .args(["clone", &url, "--key"])
        .arg(&vkey)
        .assert()
        .success();
    assert_eq!(head(&copy), head(&ledger));
    // A follower keeps its state, and sees the ledger grow while it is served.
    let state = dir.path().join("follow.state");
    let follow = || {
        let mut c = common::bin();
        c.args(["follow", &url, "--key"])
            .arg(&vkey)
            .arg("--state")
            .arg(&state);
        c
    };
    follow().assert().success();
    demarche(&ledger)
        .args(["--wait", "5", "append", "--json", &line(7)])
        .assert()
        .success();
    follow()
        .assert()
        .success()
        .stdout(predicates::str::contains("size 11"));
}
