//! Crash and concurrency tests, in the manner of sled's crash-recovery test: the
//! test binary re-runs itself as a child that appends in a loop and is killed with
//! SIGKILL at random moments; the parent reopens the ledger, verifies it and checks
//! that every acknowledged append is there. Then two processes append at once.

#[path = "common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CHILD_ENV: &str = "DEMARCHE_CRASH_CHILD";
const ROUNDS: u64 = 24;

/// splitmix64: deterministic randomness without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The child: appends single events and batches forever, printing `SIZE HASH`
/// after each append returns (that is, once it is durable). With `reopen`,
/// the ledger is opened again for every append, as one `demarche append`
/// process after another opens it: a kill then also lands in an open, in
/// the recovery an open makes, or in a close.
fn child(dir: &Path, seed: u64, reopen: bool) -> ! {
    let mut rng = Rng(seed);
    let mut ledger = common::open(dir);
    let stdout = std::io::stdout();
    let mut i = seed * 1_000_000;
    loop {
        if reopen {
            drop(ledger);
            ledger = common::open(dir);
        }
        let pick = rng.next() % 12;
        let head = if pick < 4 {
            // Small batches fit in one commit; large ones are staged in parts first.
            let n = if pick == 0 {
                30_000
            } else {
                1 + rng.next() % 400
            };
            let batch: Vec<_> = (0..n).map(|k| Ok(common::statement(i + k))).collect();
            i += n;
            ledger.append_batch(batch).expect("batch append").head
        } else {
            i += 1;
            let r = ledger.append(common::statement(i)).expect("append");
            demarche::event::Head {
                size: r.seq,
                hash: r.hash,
                recorded_at: r.recorded_at,
            }
        };
        let mut out = stdout.lock();
        writeln!(out, "{} {}", head.size, head.hash).expect("stdout");
        out.flush().expect("flush");
    }
}

fn crash_rounds() -> Result<(), String> {
    kill_rounds(false)
}

/// As [`crash_rounds`], with the ledger opened again for every append.
fn crash_rounds_reopening() -> Result<(), String> {
    kill_rounds(true)
}

fn kill_rounds(reopen: bool) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut rng = Rng(42);
    let mut total_acked = 0usize;
    for round in 0..ROUNDS {
        let mut c = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
            .env(CHILD_ENV, dir.path())
            .env("DEMARCHE_CRASH_SEED", (round + 1).to_string())
            .env("DEMARCHE_CRASH_MODE", if reopen { "reopen" } else { "" })
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        let acked: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
        let reader = {
            let acked = Arc::clone(&acked);
            let out = c.stdout.take().expect("piped");
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    let (s, h) = line.split_once(' ').expect("SIZE HASH");
                    acked
                        .lock()
                        .expect("lock")
                        .push((s.parse().expect("size"), h.to_string()));
                }
            })
        };
        std::thread::sleep(Duration::from_millis(30 + rng.next() % 600));
        c.kill().map_err(|e| e.to_string())?;
        c.wait().map_err(|e| e.to_string())?;
        reader
            .join()
            .map_err(|_| "reader thread panicked".to_string())?;
        let acked = acked.lock().expect("lock").clone();
        total_acked += acked.len();
        let ledger = common::open(dir.path());
        let report = ledger.verify(None).map_err(|e| e.to_string())?;
        if let Some(p) = &report.problem {
            return Err(format!(
                "round {round}: ledger does not verify after the kill: {p}"
            ));
        }
        for (size, hash) in &acked {
            let r = ledger
                .get(*size)
                .map_err(|e| format!("round {round}: acknowledged seq {size} lost: {e}"))?;
            if r.hash.to_hex() != *hash {
                return Err(format!(
                    "round {round}: seq {size} has hash {} but {hash} was acknowledged",
                    r.hash
                ));
            }
        }
        let head = ledger.head().map_err(|e| e.to_string())?;
        if let Some((size, _)) = acked.last() {
            if head.size < *size {
                return Err(format!(
                    "round {round}: head {} behind acknowledged {size}",
                    head.size
                ));
            }
        }
        eprintln!(
            "round {round:>2}: {} appends acknowledged, head {}, {} staged events ignored",
            acked.len(),
            head.size,
            report.staged
        );
    }
    if total_acked == 0 {
        return Err("no append was acknowledged in any round: the child never ran".into());
    }
    Ok(())
}

fn two_processes_append_at_once() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().to_path_buf();
    let per_process = 12u64;
    let workers: Vec<_> = (0..2u64)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut results = Vec::new();
                for k in 0..per_process {
                    let line = demarche::json::view::event_json(&common::statement(w * 1000 + k));
                    let out = Command::new(env!("CARGO_BIN_EXE_demarche"))
                        .arg("--ledger")
                        .arg(&path)
                        .args([
                            "--wait",
                            "30",
                            "append",
                            "--json",
                            &serde_json::Value::Object(line).to_string(),
                        ])
                        .output()
                        .expect("run demarche");
                    results.push((
                        out.status.code(),
                        String::from_utf8_lossy(&out.stdout).into_owned(),
                        String::from_utf8_lossy(&out.stderr).into_owned(),
                    ));
                }
                results
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for w in workers {
        for (code, stdout, stderr) in w.join().map_err(|_| "worker panicked".to_string())? {
            match code {
                Some(0) => {
                    let v: serde_json::Value = serde_json::from_str(stdout.trim())
                        .map_err(|e| format!("{e}: {stdout}"))?;
                    seqs.push(v["seq"].as_u64().ok_or("no seq")?);
                }
                Some(3)
                    if stderr.contains("in use by another process")
                        && stderr.contains(&path.display().to_string()) => {}
                other => return Err(format!("append failed unclearly: {other:?} {stderr}")),
            }
        }
    }
    seqs.sort_unstable();
    let ledger = common::open(&path);
    let report = ledger.verify(None).map_err(|e| e.to_string())?;
    if !report.is_intact() {
        return Err(format!(
            "concurrent appends damaged the ledger: {:?}",
            report.problem
        ));
    }
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    if seqs != expected || report.checked != seqs.len() as u64 {
        return Err(format!(
            "seqs {seqs:?} do not match {} verified events",
            report.checked
        ));
    }
    if seqs.is_empty() {
        return Err("no append succeeded".into());
    }
    eprintln!(
        "two processes: {} of {} appends succeeded, ledger intact",
        seqs.len(),
        2 * per_process
    );
    Ok(())
}

/// The child of [`a_batch_killed_midway`]: one long batch, never finished.
fn long_batch_child(dir: &Path) -> ! {
    let mut ledger = common::open(dir);
    let batch = (0..3_000_000u64).map(|i| Ok(common::statement(10_000_000 + i)));
    let _ = ledger.append_batch(batch);
    std::process::exit(3) // not reached within the test's patience
}

fn a_batch_killed_midway() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let before = {
        let mut l = common::open(dir.path());
        l.append_batch((0..500).map(|i| Ok(common::statement(i))))
            .map_err(|e| e.to_string())?;
        l.head().map_err(|e| e.to_string())?
    };
    let mut c = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .env(CHILD_ENV, dir.path())
        .env("DEMARCHE_CRASH_MODE", "long-batch")
        .spawn()
        .map_err(|e| e.to_string())?;
    // Long enough for sled's background flush (every 500 ms) to write staged blocks.
    std::thread::sleep(Duration::from_millis(1500));
    let finished = c.try_wait().map_err(|e| e.to_string())?;
    c.kill().map_err(|e| e.to_string())?;
    c.wait().map_err(|e| e.to_string())?;
    if finished.is_some() {
        return Err("the batch ended before it was killed".into());
    }
    let mut ledger = common::open(dir.path());
    let report = ledger.verify(None).map_err(|e| e.to_string())?;
    if let Some(p) = &report.problem {
        return Err(format!("after the kill: {p}"));
    }
    if ledger.head().map_err(|e| e.to_string())? != before {
        return Err("the unfinished batch moved the head".into());
    }
    let staged = report.staged;
    ledger
        .append(common::statement(500))
        .map_err(|e| e.to_string())?;
    let report = ledger.verify(None).map_err(|e| e.to_string())?;
    if !report.is_intact() || report.staged != 0 || report.checked != before.size + 1 {
        return Err(format!("after the next append: {report:?}"));
    }
    eprintln!("batch killed midway: {staged} staged events left, ignored, then removed by the next append");
    Ok(())
}

fn main() {
    if std::env::var("DEMARCHE_CRASH_MODE").as_deref() == Ok("long-batch") {
        if let Ok(dir) = std::env::var(CHILD_ENV) {
            long_batch_child(Path::new(&dir));
        }
    }
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        let seed = std::env::var("DEMARCHE_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        let reopen = std::env::var("DEMARCHE_CRASH_MODE").as_deref() == Ok("reopen");
        child(Path::new(&dir), seed, reopen);
    }
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        println!(
            "crash_rounds: test\ncrash_rounds_reopening: test\ntwo_processes_append_at_once: test\na_batch_killed_midway: test"
        );
        return;
    }
    let filter: Vec<&String> = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    type Case = (&'static str, fn() -> Result<(), String>);
    let tests: [Case; 4] = [
        ("crash_rounds", crash_rounds),
        ("crash_rounds_reopening", crash_rounds_reopening),
        ("two_processes_append_at_once", two_processes_append_at_once),
        ("a_batch_killed_midway", a_batch_killed_midway),
    ];
    let (mut passed, mut failed) = (0, 0);
    for (name, f) in tests {
        if !filter.is_empty() && !filter.iter().any(|p| name.contains(p.as_str())) {
            continue;
        }
        match f() {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(e) => {
                println!("test {name} ... FAILED\n  {e}");
                failed += 1;
            }
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {failed} failed; 0 ignored",
        if failed == 0 { "ok" } else { "FAILED" }
    );
    if failed > 0 {
        std::process::exit(101);
    }
}
