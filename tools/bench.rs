//! `demarche-bench`: measures the ledger against baselines taken in the same run.
//!
//! ```text
//! cargo build --release --bins
//! target/release/demarche-bench --sizes 100000,1000000 --append-samples 30
//! target/release/demarche-bench --sizes 10000 --json > bench.json
//! ```
//!
//! For each size N it measures, on a synthetic corpus (`tools/corpus.rs`):
//! generating and parsing the JSON lines, BLAKE3 of each line (baseline), raw
//! sled inserts and scan of the same bytes (baseline), one streaming batch
//! append of N events, one pre-parsed batch append, `verify`, opening the
//! ledger, single appends through the `demarche` binary (one process each), and
//! bytes on disk. Phases that write or read a store run in their own child
//! process (`demarche-bench phase ...`) so their peak RSS (VmHWM) is their own.

#[path = "corpus.rs"]
mod corpus;

use clap::{Args, Parser, Subcommand};
use corpus::Corpus;
use demarche::event::Event;
use demarche::json::parse_event;
use demarche::ledger::Ledger;
use demarche::store::OpenOptions;
use serde_json::{json, Value};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A failure of the bench: a message, with what it was doing in front.
type Error = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = Error> = std::result::Result<T, E>;

/// Stops the function with a failure, its message formatted.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err(format!($($arg)*).into())
    };
}

/// An error and its causes, one after the other: `outer: inner`.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Says what was being done when a failure came: `cannot open x: cause`.
trait Context<T> {
    fn context(self, what: &str) -> Result<T>;
    /// The same, with the words made only on failure.
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: std::error::Error + 'static> Context<T> for Result<T, E> {
    fn context(self, what: &str) -> Result<T> {
        self.with_context(|| what.to_string())
    }

    fn with_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| format!("{}: {}", what(), chain(&e)).into())
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: &str) -> Result<T> {
        self.with_context(|| what.to_string())
    }

    fn with_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.ok_or_else(|| what().into())
    }
}

/// Lines generated at a time where a phase must not hold the whole corpus.
const CHUNK: u64 = 10_000;

/// Benchmarks demarche against raw sled and BLAKE3, in one run.
///
/// Prints a Markdown table per size on standard output; with --json, prints a
/// JSON object there instead and the tables on standard error.
#[derive(Parser, Debug)]
#[command(
    name = "demarche-bench",
    version,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Ledger sizes (events), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100000,1000000")]
    sizes: Vec<u64>,
    /// Storage engines to measure side by side, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "sled,redb", value_parser = ["sled", "redb"])]
    engines: Vec<String>,
    /// `positions --as-of` queries through the `demarche` binary, one process each,
    /// per size (after one that builds the snapshot).
    #[arg(long, value_name = "K", default_value_t = 15)]
    query_samples: usize,
    /// Where to create the ledgers (default: a fresh directory under the system temp dir).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Single appends through the `demarche` binary, one process each, per size.
    #[arg(long, value_name = "K", default_value_t = 30)]
    append_samples: usize,
    /// Print a JSON object on standard output (the tables go to standard error).
    #[arg(long)]
    json: bool,
    /// Keep the ledgers and sled databases created (default: delete them).
    #[arg(long)]
    keep: bool,
    /// Seed of the corpus.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// One measured phase (run by the parent as a child process; prints one JSON line).
    #[command(subcommand)]
    Phase(Phase),
}

#[derive(Subcommand, Debug)]
enum Phase {
    /// Create a ledger at DIR and append COUNT corpus events as one batch.
    Append {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Parse every line into a Vec first and time only `append_batch`
        /// (default: lines are generated and parsed inside the batch iterator).
        #[arg(long)]
        pre_parsed: bool,
        /// Do not keep the Merkle tree (to measure what keeping it costs).
        #[arg(long)]
        no_tree: bool,
    },
    /// Verify the ledger at DIR (and check it holds COUNT events).
    Verify {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        count: Option<u64>,
        /// The chain alone, without rebuilding the Merkle tree.
        #[arg(long)]
        chain_only: bool,
    },
    /// Baseline: insert COUNT corpus lines into a fresh sled db at DIR, then flush.
    SledInsert {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Baseline for exports: read every record of the ledger at DIR (blocks
    /// opened and decompressed, records walked, nothing decoded or hashed).
    Scan {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        count: Option<u64>,
    },
    /// Inclusion and consistency proofs on the ledger at DIR: time to make
    /// and to check them, and their size, over SAMPLES spread seqs.
    Proofs {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 200)]
        samples: u64,
    },
    /// Baseline: iterate every value of the sled db at DIR, summing lengths.
    SledScan {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        count: Option<u64>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match &cli.cmd {
        Some(Cmd::Phase(p)) => run_phase(p).map(|v| println!("{v}")),
        None => run(&cli.run),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demarche-bench: {}", chain(&*e));
            std::process::ExitCode::FAILURE
        }
    }
}

// ----------------------------------------------------------------------------
// child phases

/// Peak resident set size of this process, in kB (0 where /proc is missing).
fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn sync_file(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot fsync {}", path.display()))
}

fn open_raw_sled(dir: &Path) -> Result<sled::Db> {
    // The ledger's own configuration (store.rs), so the baseline differs only
    // in what is stored.
    sled::Config::new()
        .path(dir)
        .mode(sled::Mode::HighThroughput)
        .open()
        .with_context(|| format!("cannot open sled db {}", dir.display()))
}

fn run_phase(p: &Phase) -> Result<Value> {
    match p {
        Phase::Append {
            dir,
            count,
            seed,
            pre_parsed,
            no_tree,
        } => phase_append(dir, *count, *seed, *pre_parsed, *no_tree),
        Phase::Verify {
            dir,
            count,
            chain_only,
        } => {
            let t = Instant::now();
            let ledger = Ledger::open(dir, &OpenOptions::default())?;
            let open = t.elapsed();
            let t = Instant::now();
            let report = if *chain_only {
                ledger.verify_chain(None)?
            } else {
                ledger.verify(None)?
            };
            let secs = t.elapsed();
            if let Some(p) = &report.problem {
                bail!("verify: the ledger is not intact: {p:?}");
            }
            if let Some(c) = count {
                if report.checked != *c {
                    bail!("verify checked {} events, expected {c}", report.checked);
                }
            }
            Ok(json!({
                "phase": "verify",
                "open_secs": open.as_secs_f64(),
                "secs": secs.as_secs_f64(),
                "checked": report.checked,
                "intact": report.is_intact(),
                "vmhwm_kb": vm_hwm_kb(),
            }))
        }
        Phase::SledInsert { dir, count, seed } => {
            let db = open_raw_sled(dir)?;
            let mut corpus = Corpus::new(*seed);
            let mut insert = Duration::ZERO;
            let mut key = 0u64;
            while key < *count {
                let chunk: Vec<String> = corpus
                    .by_ref()
                    .take(CHUNK.min(*count - key) as usize)
                    .collect();
                let t = Instant::now();
                for line in &chunk {
                    db.insert(key.to_be_bytes(), line.as_bytes())?;
                    key += 1;
                }
                insert += t.elapsed();
            }
            // Durable like a ledger commit: sled's flush, then fsync of its data file.
            let t = Instant::now();
            db.flush()?;
            sync_file(&dir.join("db"))?;
            let flush = t.elapsed();
            Ok(json!({
                "phase": "sled-insert",
                "insert_secs": insert.as_secs_f64(),
                "flush_secs": flush.as_secs_f64(),
                "secs": (insert + flush).as_secs_f64(),
                "vmhwm_kb": vm_hwm_kb(),
            }))
        }
        Phase::Scan { dir, count } => {
            let ledger = Ledger::open(dir, &OpenOptions::default())?;
            let t = Instant::now();
            let (mut n, mut bytes) = (0u64, 0u64);
            ledger.for_each_record(1, |rec| {
                n += 1;
                bytes += rec.body.len() as u64;
                Ok(true)
            })?;
            let secs = t.elapsed();
            if let Some(c) = count {
                if n != *c {
                    bail!("the scan found {n} records, expected {c}");
                }
            }
            Ok(json!({
                "phase": "scan",
                "secs": secs.as_secs_f64(),
                "records": n,
                "payload_bytes": bytes,
                "vmhwm_kb": vm_hwm_kb(),
            }))
        }
        Phase::Proofs { dir, samples } => {
            let ledger = Ledger::open(dir, &OpenOptions::default())?;
            let t = Instant::now();
            let (size, root) = ledger.tree_head()?;
            let head_secs = t.elapsed().as_secs_f64();
            let hashes: Vec<_> = {
                let mut v = Vec::new();
                for k in 1..=*samples {
                    let seq = (size * k / (*samples + 1)).max(1);
                    v.push((seq, ledger.get(seq)?.hash));
                }
                v
            };
            let (mut make, mut check, mut bytes) = (Duration::ZERO, Duration::ZERO, 0usize);
            for (seq, hash) in &hashes {
                let t = Instant::now();
                let proof = ledger.inclusion_proof(*seq, size)?;
                make += t.elapsed();
                let t = Instant::now();
                demarche::merkle::verify_inclusion(
                    &demarche::tree::leaf(hash),
                    seq - 1,
                    size,
                    &proof,
                    &root,
                )
                .map_err(|e| format!("inclusion of {seq}: {e}"))?;
                check += t.elapsed();
                bytes += proof.len() * 32;
            }
            let (mut cmake, mut ccheck, mut cbytes) = (Duration::ZERO, Duration::ZERO, 0usize);
            for (old, _) in &hashes {
                let old_root = ledger.tree_root(*old)?;
                let t = Instant::now();
                let proof = ledger.consistency_proof(*old, size)?;
                cmake += t.elapsed();
                let t = Instant::now();
                demarche::merkle::verify_consistency(*old, size, &old_root, &root, &proof)
                    .map_err(|e| format!("consistency from {old}: {e}"))?;
                ccheck += t.elapsed();
                cbytes += proof.len() * 32;
            }
            let n = hashes.len() as f64;
            Ok(json!({
                "phase": "proofs",
                "size": size,
                "tree_head_secs": head_secs,
                "inclusion_make_ms": make.as_secs_f64() * 1e3 / n,
                "inclusion_check_us": check.as_secs_f64() * 1e6 / n,
                "inclusion_bytes": bytes as f64 / n,
                "consistency_make_ms": cmake.as_secs_f64() * 1e3 / n,
                "consistency_check_us": ccheck.as_secs_f64() * 1e6 / n,
                "consistency_bytes": cbytes as f64 / n,
                "vmhwm_kb": vm_hwm_kb(),
            }))
        }
        Phase::SledScan { dir, count } => {
            let db = open_raw_sled(dir)?;
            let t = Instant::now();
            let (mut n, mut bytes) = (0u64, 0u64);
            for v in db.iter().values() {
                bytes += v?.len() as u64;
                n += 1;
            }
            let secs = t.elapsed();
            if let Some(c) = count {
                if n != *c {
                    bail!("sled scan found {n} values, expected {c}");
                }
            }
            Ok(json!({
                "phase": "sled-scan",
                "secs": secs.as_secs_f64(),
                "values": n,
                "bytes": bytes,
                "vmhwm_kb": vm_hwm_kb(),
            }))
        }
    }
}

fn phase_append(
    dir: &Path,
    count: u64,
    seed: u64,
    pre_parsed: bool,
    no_tree: bool,
) -> Result<Value> {
    let opts = OpenOptions {
        create: true,
        ..Default::default()
    };
    let t = Instant::now();
    let mut ledger = Ledger::open(dir, &opts)?;
    ledger.keep_tree(!no_tree);
    let open = t.elapsed();
    let mut corpus = Corpus::new(seed);
    let (summary, secs, extra) = if pre_parsed {
        let t = Instant::now();
        let events: Vec<Event> = corpus
            .by_ref()
            .take(count as usize)
            .map(|l| parse_event(&l))
            .collect::<Result<_, _>>()?;
        let prepare = t.elapsed();
        let t = Instant::now();
        let summary = ledger.append_batch(events.into_iter().map(Ok))?;
        let secs = t.elapsed();
        (
            summary,
            secs,
            json!({"prepare_secs": prepare.as_secs_f64()}),
        )
    } else {
        // Lines are generated inside the iterator, one at a time; the time spent
        // generating them is measured there and left out of the phase's time.
        let mut generating = Duration::ZERO;
        let t = Instant::now();
        let summary = ledger.append_batch((0..count).map(|_| {
            let g = Instant::now();
            let line = corpus.line();
            generating += g.elapsed();
            parse_event(&line)
        }))?;
        let total = t.elapsed();
        (
            summary,
            total.saturating_sub(generating),
            json!({"generate_secs": generating.as_secs_f64(), "total_secs": total.as_secs_f64()}),
        )
    };
    if summary.appended != count {
        bail!("appended {} events, expected {count}", summary.appended);
    }
    let mut out = json!({
        "phase": if pre_parsed { "append-pre-parsed" } else { "append-streaming" },
        "open_secs": open.as_secs_f64(),
        "secs": secs.as_secs_f64(),
        "head": summary.head.token(),
        "vmhwm_kb": vm_hwm_kb(),
    });
    if let (Some(o), Value::Object(e)) = (out.as_object_mut(), extra) {
        o.extend(e);
    }
    Ok(out)
}

// ----------------------------------------------------------------------------
// parent

/// Removes what the run created, unless asked to keep it (also on failure).
struct Cleanup {
    paths: Vec<PathBuf>,
    keep: bool,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.keep {
            for p in &self.paths {
                eprintln!("kept {}", p.display());
            }
            return;
        }
        for p in self.paths.iter().rev() {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

fn dir_size(path: &Path) -> u64 {
    let Ok(dir) = std::fs::read_dir(path) else {
        return 0;
    };
    dir.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./,=:+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Runs `demarche-bench phase ...` as a child and returns the JSON line it prints.
fn child(exe: &Path, args: &[OsString]) -> Result<Value> {
    let out = Command::new(exe)
        .arg("phase")
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", exe.display()))?;
    if !out.status.success() {
        bail!("phase {args:?} failed ({})", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    serde_json::from_str(line).with_context(|| format!("phase {args:?} printed {text:?}"))
}

fn os(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    args.iter().map(|a| a.as_ref().to_os_string()).collect()
}

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(f64::NAN)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Everything measured for one size.
struct Measured {
    n: u64,
    engine: String,
    query_ms: Vec<f64>,
    json_bytes: u64,
    json_avg: f64,
    generate: f64,
    parse: f64,
    blake3: f64,
    sled_insert: Value,
    sled_scan: Value,
    sled_disk: u64,
    append_streaming: Value,
    append_pre_parsed: Value,
    ledger_disk: u64,
    pre_parsed_disk: u64,
    verify: Value,
    open_ms: Vec<f64>,
    cli_ms: Vec<f64>,
}

impl Measured {
    fn rate(&self, secs: f64) -> f64 {
        self.n as f64 / secs
    }
    fn open_median(&self) -> f64 {
        let mut v = self.open_ms.clone();
        v.sort_by(f64::total_cmp);
        percentile(&v, 50.0)
    }
    fn cli_p(&self, p: f64) -> f64 {
        let mut v = self.cli_ms.clone();
        v.sort_by(f64::total_cmp);
        percentile(&v, p)
    }

    fn to_json(&self) -> Value {
        let n = self.n as f64;
        let sled_rate = self.rate(f(&self.sled_insert, "secs"));
        let scan_rate = self.rate(f(&self.sled_scan, "secs"));
        let blake3_rate = self.rate(self.blake3);
        let stream_rate = self.rate(f(&self.append_streaming, "secs"));
        let pre_rate = self.rate(f(&self.append_pre_parsed, "secs"));
        let verify_rate = self.rate(f(&self.verify, "secs"));
        json!({
            "n": self.n,
            "engine": self.engine,
            "positions_ms_p50": percentile(&self.query_ms, 50.0),
            "json_bytes_total": self.json_bytes,
            "json_bytes_per_line": self.json_avg,
            "generate": {"secs": self.generate, "lines_per_s": self.rate(self.generate)},
            "parse": {"secs": self.parse, "events_per_s": self.rate(self.parse)},
            "baseline_blake3": {
                "secs": self.blake3,
                "messages_per_s": blake3_rate,
                "mb_per_s": self.json_bytes as f64 / self.blake3 / 1e6,
            },
            "baseline_sled_insert": {
                "child": self.sled_insert,
                "inserts_per_s": sled_rate,
                "disk_bytes": self.sled_disk,
                "disk_bytes_per_value": self.sled_disk as f64 / n,
            },
            "baseline_sled_scan": {"child": self.sled_scan, "values_per_s": scan_rate},
            "append_streaming": {
                "child": self.append_streaming,
                "events_per_s": stream_rate,
                "vs_sled_inserts": stream_rate / sled_rate,
            },
            "append_pre_parsed": {
                "child": self.append_pre_parsed,
                "events_per_s": pre_rate,
                "vs_sled_inserts": pre_rate / sled_rate,
                "disk_bytes": self.pre_parsed_disk,
            },
            "verify": {
                "child": self.verify,
                "events_per_s": verify_rate,
                "vs_blake3_messages": verify_rate / blake3_rate,
                "vs_sled_scan": verify_rate / scan_rate,
            },
            "open_ms": {"median": self.open_median(), "samples": self.open_ms},
            "cli_append_ms": {
                "p50": self.cli_p(50.0),
                "p90": self.cli_p(90.0),
                "samples": self.cli_ms,
            },
            "disk": {
                "ledger_bytes": self.ledger_disk,
                "ledger_bytes_per_event": self.ledger_disk as f64 / n,
                "ledger_vs_json": self.ledger_disk as f64 / self.json_bytes as f64,
                "sled_vs_json": self.sled_disk as f64 / self.json_bytes as f64,
            },
        })
    }

    fn table(&self) -> String {
        let n = self.n as f64;
        let sled_rate = self.rate(f(&self.sled_insert, "secs"));
        let scan_rate = self.rate(f(&self.sled_scan, "secs"));
        let blake3_rate = self.rate(self.blake3);
        let stream_rate = self.rate(f(&self.append_streaming, "secs"));
        let pre_rate = self.rate(f(&self.append_pre_parsed, "secs"));
        let verify_rate = self.rate(f(&self.verify, "secs"));
        let rss = |v: &Value| format!("{:.0} MiB", f(v, "vmhwm_kb") / 1024.0);
        let secs = |s: f64| format!("{s:.3} s");
        let per_s = |r: f64, unit: &str| format!("{} {unit}/s", thousands(r));
        let avg = self.json_avg;
        let ledger_per = self.ledger_disk as f64 / n;
        let sled_per = self.sled_disk as f64 / n;
        let rows: Vec<[String; 5]> = vec![
            [
                "JSON line (corpus), average size".into(),
                format!("{avg:.0} B"),
                String::new(),
                String::new(),
                String::new(),
            ],
            [
                "generate JSON lines (corpus)".into(),
                per_s(self.rate(self.generate), "lines"),
                secs(self.generate),
                String::new(),
                String::new(),
            ],
            [
                "parse JSON lines (`json::parse_event`)".into(),
                per_s(self.rate(self.parse), "events"),
                secs(self.parse),
                String::new(),
                String::new(),
            ],
            [
                "*baseline*: BLAKE3 of each line, 1 core".into(),
                format!(
                    "{} ({:.0} MB/s)",
                    per_s(blake3_rate, "msgs"),
                    self.json_bytes as f64 / self.blake3 / 1e6
                ),
                secs(self.blake3),
                String::new(),
                String::new(),
            ],
            [
                "*baseline*: raw sled 0.34.7, N inserts + flush + fsync".into(),
                per_s(sled_rate, "inserts"),
                secs(f(&self.sled_insert, "secs")),
                rss(&self.sled_insert),
                String::new(),
            ],
            [
                "*baseline*: raw sled 0.34.7, scan all values".into(),
                per_s(scan_rate, "values"),
                secs(f(&self.sled_scan, "secs")),
                rss(&self.sled_scan),
                String::new(),
            ],
            [
                "**batch append**, streaming (parse + append), 1 batch".into(),
                per_s(stream_rate, "events"),
                secs(f(&self.append_streaming, "secs")),
                rss(&self.append_streaming),
                format!("{:.2} × raw sled inserts", stream_rate / sled_rate),
            ],
            [
                "**batch append**, pre-parsed (`append_batch` only), 1 batch".into(),
                per_s(pre_rate, "events"),
                secs(f(&self.append_pre_parsed, "secs")),
                rss(&self.append_pre_parsed),
                format!("{:.2} × raw sled inserts", pre_rate / sled_rate),
            ],
            [
                "**verify** (`Ledger::verify`), intact".into(),
                per_s(verify_rate, "events"),
                secs(f(&self.verify, "secs")),
                rss(&self.verify),
                format!(
                    "{:.2} × BLAKE3 msgs/s; {:.2} × raw sled scan",
                    verify_rate / blake3_rate,
                    verify_rate / scan_rate
                ),
            ],
            [
                format!("open ledger + `head()`, median of {}", self.open_ms.len()),
                String::new(),
                format!("{:.1} ms", self.open_median()),
                String::new(),
                String::new(),
            ],
            [
                format!(
                    "single append per process (`demarche append --json`), p50 / p90 of {}",
                    self.cli_ms.len()
                ),
                String::new(),
                format!("{:.1} / {:.1} ms", self.cli_p(50.0), self.cli_p(90.0)),
                String::new(),
                String::new(),
            ],
            [
                format!(
                    "`demarche positions --as-of --party USA` per process, p50 / p90 of {}",
                    self.query_ms.len()
                ),
                String::new(),
                format!(
                    "{:.1} / {:.1} ms",
                    percentile(&self.query_ms, 50.0),
                    percentile(&self.query_ms, 90.0)
                ),
                String::new(),
                String::new(),
            ],
            [
                "bytes on disk per event (ledger)".into(),
                format!("{ledger_per:.0} B"),
                String::new(),
                String::new(),
                format!("{:.2} × JSON line", ledger_per / avg),
            ],
            [
                "bytes on disk per value (raw sled)".into(),
                format!("{sled_per:.0} B"),
                String::new(),
                String::new(),
                format!("{:.2} × JSON line", sled_per / avg),
            ],
        ];
        let mut s = format!("## N = {} events, engine {}\n\n", thousands(n), self.engine);
        s.push_str("| measure | rate | time | peak RSS | ratio |\n");
        s.push_str("|---|--:|--:|--:|---|\n");
        for r in rows {
            s.push_str(&format!("| {} |\n", r.join(" | ")));
        }
        s.push_str(&format!(
            "\nStreaming append: {} s total, of which {} s generating lines inside the \
             iterator (left out). Pre-parsed append: {} s parsing beforehand (left out). \
             Ledger open in the append child {:.1} ms, in the verify child {:.1} ms. \
             Pre-parsed ledger on disk: {} B/event.\n",
            fmt3(f(&self.append_streaming, "total_secs")),
            fmt3(f(&self.append_streaming, "generate_secs")),
            fmt3(f(&self.append_pre_parsed, "prepare_secs")),
            f(&self.append_streaming, "open_secs") * 1e3,
            f(&self.verify, "open_secs") * 1e3,
            thousands(self.pre_parsed_disk as f64 / n),
        ));
        s
    }
}

fn fmt3(x: f64) -> String {
    format!("{x:.3}")
}

fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 {
        out.insert(0, '-');
    }
    out
}

fn run(args: &RunArgs) -> Result<()> {
    let command = std::env::args()
        .map(|a| shell_word(&a))
        .collect::<Vec<_>>()
        .join(" ");
    let exe = std::env::current_exe().context("cannot locate the bench executable")?;
    let bin_dir = exe
        .parent()
        .context("the bench executable has no directory")?;
    let cli_bin = bin_dir.join(format!("demarche{}", std::env::consts::EXE_SUFFIX));
    if !cli_bin.exists() {
        bail!(
            "{} not found: build it with `cargo build --release --bins`",
            cli_bin.display()
        );
    }
    if args.sizes.contains(&0) {
        bail!("--sizes: every size must be at least 1");
    }
    let mut cleanup = Cleanup {
        paths: Vec::new(),
        keep: args.keep,
    };
    let base = match &args.dir {
        Some(d) => {
            if !d.exists() {
                std::fs::create_dir_all(d)
                    .with_context(|| format!("cannot create {}", d.display()))?;
                cleanup.paths.push(d.clone());
            }
            d.clone()
        }
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let d = std::env::temp_dir()
                .join(format!("demarche-bench-{}-{nanos:08x}", std::process::id()));
            std::fs::create_dir_all(&d)
                .with_context(|| format!("cannot create {}", d.display()))?;
            cleanup.paths.push(d.clone());
            d
        }
    };

    // The Markdown goes to standard output, or with --json to standard error
    // (standard output then carries only the JSON object), a table per size as
    // soon as it is measured. Progress lines go to standard error.
    let emit = |text: &str| {
        if args.json {
            eprint!("{text}");
        } else {
            print!("{text}");
            let _ = std::io::Write::flush(&mut std::io::stdout());
        }
    };
    emit(&header(&command, args, &base));
    let mut results = Vec::new();
    for &n in &args.sizes {
        for engine in &args.engines {
            // Children and the in-process opens create ledgers in this engine.
            std::env::set_var("DEMARCHE_ENGINE", engine);
            let m = bench_size(n, args, &exe, &cli_bin, &base.join(engine), &mut cleanup)?;
            emit(&format!("\n{}", m.table()));
            results.push(m);
        }
    }
    if args.json {
        let out = json!({
            "command": command,
            "seed": args.seed,
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "results": results.iter().map(Measured::to_json).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

fn header(command: &str, args: &RunArgs, base: &Path) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "# demarche-bench\n\n```\n{command}\n```\n\n\
         {} CPUs ({cpu}); seed {}; directory {}. Rates are per second of wall time; \
         phases with a peak RSS ran in a child process of their own (VmHWM of that \
         process); the page cache is warm.\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        args.seed,
        base.display()
    )
}

fn bench_size(
    n: u64,
    args: &RunArgs,
    exe: &Path,
    cli_bin: &Path,
    base: &Path,
    cleanup: &mut Cleanup,
) -> Result<Measured> {
    let root = base.join(format!("n{n}"));
    if root.exists() {
        bail!("{} exists already: pick another --dir", root.display());
    }
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    cleanup.paths.push(root.clone());
    let seed = args.seed;
    let count = n.to_string();
    let seed_s = seed.to_string();
    eprintln!("\n[N={n}] generate, BLAKE3, parse (in process)");

    // 1. Generation, BLAKE3 and parsing, in process, a chunk at a time.
    let mut corpus = Corpus::new(seed);
    let (mut generate, mut hashing, mut parsing) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut json_bytes = 0u64;
    let mut sink = 0u8;
    let mut done = 0u64;
    while done < n {
        let k = CHUNK.min(n - done);
        let t = Instant::now();
        let lines: Vec<String> = corpus.by_ref().take(k as usize).collect();
        generate += t.elapsed();
        let t = Instant::now();
        for l in &lines {
            sink ^= blake3::hash(l.as_bytes()).as_bytes()[0];
        }
        hashing += t.elapsed();
        let t = Instant::now();
        let events: Vec<Event> = lines
            .iter()
            .map(|l| parse_event(l))
            .collect::<Result<_, _>>()
            .context("the corpus produced a line that does not parse")?;
        parsing += t.elapsed();
        std::hint::black_box(&events);
        json_bytes += lines.iter().map(|l| l.len() as u64).sum::<u64>();
        done += k;
    }
    std::hint::black_box(sink);
    let json_avg = corpus.average_len();

    // 2. Baselines: raw sled.
    let raw = root.join("sled-raw");
    eprintln!("[N={n}] raw sled insert");
    let sled_insert = child(
        exe,
        &os(&[
            &"sled-insert",
            &"--dir",
            &raw,
            &"--count",
            &count,
            &"--seed",
            &seed_s,
        ]),
    )?;
    let sled_disk = dir_size(&raw);
    eprintln!("[N={n}] raw sled scan");
    let sled_scan = child(
        exe,
        &os(&[&"sled-scan", &"--dir", &raw, &"--count", &count]),
    )?;
    if !args.keep {
        let _ = std::fs::remove_dir_all(&raw);
    }

    // 3. The ledger: streaming batch append, then a pre-parsed one in another ledger.
    let ledger = root.join("ledger");
    eprintln!("[N={n}] batch append, streaming");
    let append_streaming = child(
        exe,
        &os(&[
            &"append", &"--dir", &ledger, &"--count", &count, &"--seed", &seed_s,
        ]),
    )?;
    let ledger_disk = dir_size(&ledger);
    let pre = root.join("ledger-pre-parsed");
    eprintln!("[N={n}] batch append, pre-parsed");
    let append_pre_parsed = child(
        exe,
        &os(&[
            &"append",
            &"--dir",
            &pre,
            &"--count",
            &count,
            &"--seed",
            &seed_s,
            &"--pre-parsed",
        ]),
    )?;
    let pre_parsed_disk = dir_size(&pre);
    if !args.keep {
        let _ = std::fs::remove_dir_all(&pre);
    }

    // 4. Verify.
    eprintln!("[N={n}] verify");
    let verify = child(
        exe,
        &os(&[&"verify", &"--dir", &ledger, &"--count", &count]),
    )?;

    // 5. Open + head, in process.
    let mut open_ms = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let l = Ledger::open(&ledger, &OpenOptions::default())?;
        let head = l.head()?;
        open_ms.push(t.elapsed().as_secs_f64() * 1e3);
        if head.size != n {
            bail!("the ledger holds {} events, expected {n}", head.size);
        }
    }

    // 6. Single appends, one `demarche` process each.
    eprintln!(
        "[N={n}] {} single appends through {}",
        args.append_samples,
        cli_bin.display()
    );
    let mut more = Corpus::new(seed ^ 0x5EED_0C11);
    let mut cli_ms = Vec::new();
    for _ in 0..args.append_samples {
        let line = more.line();
        let t = Instant::now();
        let out = Command::new(cli_bin)
            .arg("--ledger")
            .arg(&ledger)
            .args(["append", "--json", &line])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .with_context(|| format!("cannot run {}", cli_bin.display()))?;
        cli_ms.push(t.elapsed().as_secs_f64() * 1e3);
        if !out.status.success() {
            bail!(
                "demarche append failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    // 7. `positions --as-of` through the binary: the first query builds the
    //    snapshot; the others are timed.
    let mut query_ms = Vec::new();
    for i in 0..=args.query_samples {
        let t = Instant::now();
        let out = Command::new(cli_bin)
            .arg("--ledger")
            .arg(&ledger)
            .args([
                "positions",
                "--as-of",
                "2012-06-30",
                "--party",
                "USA",
                "--json",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .with_context(|| format!("cannot run {}", cli_bin.display()))?;
        if i > 0 {
            query_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        if !out.status.success() {
            bail!(
                "demarche positions failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    query_ms.sort_by(f64::total_cmp);
    let size = Ledger::open(&ledger, &OpenOptions::default())?.head()?.size;
    if size != n + args.append_samples as u64 {
        bail!(
            "after single appends the ledger holds {size} events, expected {}",
            n + args.append_samples as u64
        );
    }
    if !args.keep {
        let _ = std::fs::remove_dir_all(&root);
    }

    Ok(Measured {
        n,
        engine: std::env::var("DEMARCHE_ENGINE").unwrap_or_else(|_| "sled".into()),
        query_ms,
        json_bytes,
        json_avg,
        generate: generate.as_secs_f64(),
        parse: parsing.as_secs_f64(),
        blake3: hashing.as_secs_f64(),
        sled_insert,
        sled_scan,
        sled_disk,
        append_streaming,
        append_pre_parsed,
        ledger_disk,
        pre_parsed_disk,
        verify,
        open_ms,
        cli_ms,
    })
}
