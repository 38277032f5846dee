//! `demarche-gen`: writes a synthetic corpus of statement events, one JSON line
//! each, deterministic for a seed. See `tools/corpus.rs` for what the lines hold.
//!
//! ```text
//! demarche-gen --count 100000 --seed 7 --out corpus.jsonl
//! demarche-gen --count 3 --seed 1 | head -n 1
//! ```

#[path = "corpus.rs"]
mod corpus;

use clap::Parser;
use std::io::Write;
use std::path::PathBuf;

/// Writes N synthetic statement events as JSON lines (schema/event.schema.json).
#[derive(Parser, Debug)]
#[command(name = "demarche-gen", version)]
struct Args {
    /// How many lines to write.
    #[arg(long, value_name = "N")]
    count: u64,
    /// Seed of the generator: the same seed gives the same lines.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Output file, or `-` for standard output.
    #[arg(long, value_name = "FILE", default_value = "-")]
    out: PathBuf,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demarche-gen: {e}");
            std::process::ExitCode::from(3)
        }
    }
}

fn run(args: &Args) -> std::io::Result<()> {
    let sink: Box<dyn Write> = if args.out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(&args.out).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot create {}: {e}", args.out.display()),
            )
        })?)
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, sink);
    let mut corpus = corpus::Corpus::new(args.seed);
    for line in corpus.by_ref().take(args.count as usize) {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    eprintln!(
        "demarche-gen: wrote {} lines (seed {}), average {:.1} bytes of JSON a line",
        args.count,
        args.seed,
        corpus.average_len()
    );
    Ok(())
}
