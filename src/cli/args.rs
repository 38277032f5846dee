//! Command-line arguments.

mod events;
mod query;
mod serve;
mod tlog;
mod witness;

pub use events::{ActorCommand, AppendArgs, HistoryArgs, LogArgs};
pub use query::{DiffArgs, Members, PositionsArgs, QueryArgs, Selection};
pub use serve::ServeArgs;
pub use tlog::{CloneArgs, FollowArgs, PublishArgs};
pub use witness::{WitnessCommand, WitnessKeys};

use clap::{Args, Parser, Subcommand};
use demarche::store::Engine;
use std::cell::Cell;
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Ledger location: --ledger PATH, else $DEMARCHE_LEDGER, else the user's data directory
(for example ~/.local/share/demarche/ledger).

Exit codes:
  0  success
  1  integrity failure: the chain does not verify (verify names the first bad seq)
  2  bad usage or bad input: nothing was changed
  3  I/O or store error (for example the ledger is held by another process)

Examples:
  demarche demo                       record the worked example and show it
  demarche log --party RUS            what Russia said, as recorded
  demarche verify --expect-head \"$(demarche head)\"";

/// A tamper-evident, event-sourced ledger of diplomatic statements.
///
/// Every statement a party makes is stored as an immutable event, chained by BLAKE3
/// hashes; `verify` proves that no one has edited, dropped or reordered the record.
#[derive(Parser, Debug)]
#[command(name = "demarche", version, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// Ledger directory (created on first append) [default: $DEMARCHE_LEDGER, else
    /// the user's data directory].
    // The variable is read where the ledger is opened, not by clap, so that a
    // usage message never shows `--ledger` as given, or as needed, when it is set.
    #[arg(long, global = true, value_name = "PATH")]
    pub ledger: Option<PathBuf>,

    /// Seconds to wait for another process that holds the ledger.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 10.0)]
    pub wait: f64,

    #[command(subcommand)]
    pub command: Command,
}

/// Output selection shared by read commands.
#[derive(Args, Debug, Clone, Copy)]
pub struct Output {
    /// Print JSON (one object per line) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `demarche key` subcommands.
#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Make an Ed25519 key pair for signing checkpoints.
    ///
    /// Writes PREFIX.key, the private signer key (mode 0600: keep it secret), and
    /// PREFIX.vkey, the verifier key to hand to anyone who checks your checkpoints
    /// and evidence. Both are in the C2SP signed-note format (the format of Go's
    /// golang.org/x/mod/sumdb/note), so other transparency-log tools read them.
    #[command(
        after_help = "Example:\n  demarche key generate --name newsroom.example/ledger --out newsroom\n  # newsroom.key (secret), newsroom.vkey (public)"
    )]
    Generate {
        /// The key's name, shown in every signature (no spaces or '+'); a
        /// domain-like name says whose key it is.
        #[arg(long)]
        name: String,
        /// Path prefix of the two files.
        #[arg(long, value_name = "PREFIX")]
        out: PathBuf,
        /// Overwrite existing key files.
        #[arg(long)]
        force: bool,
    },
}

/// Formats `import` reads.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// JSON Lines, one event per line (as `append --json` takes it).
    Jsonl,
    /// A GDELT 2.0 event export: tab-separated, no header, 61 columns.
    Gdelt,
}

/// How pictures name actors (`--labels`).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelsArg {
    /// The actor's name, cut with an ellipsis where a box is too narrow (the tooltip
    /// holds it whole).
    Name,
    /// The actor's id (RUS, UNSC): short, never cut.
    Id,
    /// The actor's name, whole: boxes and lanes grow to hold it.
    Full,
}

/// Formats `export` writes.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// JSON Lines with seq, recorded_at, prev, hash and digest: checkable, rebuildable.
    Jsonl,
    /// One row per (statement, subject) with CAMEO and PLOVER codes.
    Csv,
}

/// The storage engines `--engine` names.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineName {
    // Undocumented on purpose: `--help` then lists the names on one line.
    Sled,
    Redb,
}

impl From<EngineName> for Engine {
    fn from(e: EngineName) -> Engine {
        match e {
            EngineName::Sled => Engine::Sled,
            EngineName::Redb => Engine::Redb,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create an empty ledger, choosing its storage engine.
    ///
    /// The engine is recorded with the ledger and every command finds it: sled (the
    /// default) or redb. redb opens in well under a millisecond at any size, fsyncs every
    /// commit, and lets commands that only read run while another process appends. Other
    /// commands create a ledger on first use in $DEMARCHE_ENGINE, else sled. To move a
    /// ledger to the other engine: `export`, then `rebuild --engine`.
    #[command(
        after_help = "Examples:\n  demarche --ledger big init --engine redb\n  demarche export -o all.jsonl && demarche rebuild --from all.jsonl --engine redb --ledger moved"
    )]
    Init(Deferred<InitArgs>),

    /// Key pairs for signing checkpoints and evidence.
    #[command(subcommand)]
    Key(Deferred<KeyCommand>),

    /// Print the ledger's checkpoint: its Merkle tree's size and root.
    ///
    /// The tree is RFC 6962's (SHA-256) over the records' chain hashes; the checkpoint
    /// is a C2SP tlog checkpoint (origin, size, base64 root, and a `chain SIZE:HASH`
    /// line), signed as a C2SP signed note with --sign. Keep signed checkpoints, or
    /// give them to others: `verify --against` later proves that the ledger still
    /// extends them, and no one can rewrite history below a checkpoint unnoticed.
    #[command(
        after_help = "Examples:\n  demarche checkpoint\n  demarche checkpoint --sign newsroom.key > 2021-01-29.checkpoint"
    )]
    Checkpoint(Deferred<CheckpointArgs>),

    /// Publish the ledger as a transparency log of static files (C2SP tlog-tiles).
    ///
    /// Writes DIR/checkpoint (the signed checkpoint), the hash tiles DIR/tile/L/N and
    /// the entry bundles DIR/tile/entries/N, whose entries are the records' exact
    /// stored bytes (schema/FORMAT.md). Any static web server, object store or CDN
    /// serves DIR as it is, to any number of readers; `follow` and `clone` read it
    /// back and check every byte against the signed checkpoint.
    ///
    /// Running it again writes only what is new: full tiles are never rewritten,
    /// partial ones are added, and the checkpoint is replaced last, whole, once
    /// everything it covers is on disk; a directory changed since, or published from
    /// another ledger or key, is refused. So `publish` after every append, or from
    /// cron, is cheap. What is signed comes from the chain: each record published is
    /// re-hashed from its stored bytes and linked to the one before.
    #[command(after_help = "Examples:
  demarche key generate --name newsroom.example/ledger --out newsroom
  demarche publish /var/www/ledger --sign newsroom.key
  demarche follow https://newsroom.example/ledger --key newsroom.vkey")]
    Publish(Deferred<PublishArgs>),

    /// Follow a published ledger without a store: check what is new since last time.
    ///
    /// Fetches the checkpoint and checks its signature, then fetches every entry
    /// published since the last checkpoint this reader saw (kept in a small state
    /// file, as a witness keeps it): each record's chain hash is re-derived from its
    /// bytes and linked to the one before, and the tree they make must reach the new
    /// checkpoint's root from the old one, which proves the log only grew. The hash
    /// tiles are checked too. A checkpoint of a smaller tree (a rollback), another
    /// root at the same size (a fork), or a changed tile, bundle or checkpoint is
    /// named and exits 1; the state then stays as it was.
    ///
    /// With --ledger naming a copy made by `clone` (or $DEMARCHE_LEDGER naming one),
    /// brings that copy up to date instead (its source and key are the defaults).
    #[command(after_help = "Examples:
  demarche follow https://newsroom.example/ledger --key newsroom.vkey
  demarche follow ./published --key newsroom.vkey --records | jq -r .type
  demarche --ledger copy follow

Exit status: 0 when the log checks out (new records or none), 1 when it does not, 2 for
a bad argument or key, 3 when it cannot be fetched.")]
    Follow(Deferred<FollowArgs>),

    /// Make a verified local copy of a published ledger, which `follow` keeps up to date.
    ///
    /// Reads the tree as `follow` does, checking every entry against the signed
    /// checkpoint, and records each record into a new ledger (--ledger) with its
    /// original seq, time and hashes: the copy's head is the publisher's. The copy
    /// remembers its source and key, so `demarche --ledger COPY follow` takes it on.
    #[command(after_help = "Examples:
  demarche --ledger copy clone https://newsroom.example/ledger --key newsroom.vkey
  demarche --ledger copy positions --as-of 2021-01-29
  demarche --ledger copy follow")]
    Clone(Deferred<CloneArgs>),

    /// Prove that one record is in the ledger (an RFC 6962 inclusion proof), or
    /// that the ledger extends a checkpoint (--from: a consistency proof).
    ///
    /// The inclusion proof is for the tree of the ledger's current size, or for the
    /// tree a checkpoint states (--checkpoint), which must be the ledger's own. Anyone
    /// holding the record's chain hash and the checkpoint can check it, without the
    /// ledger.
    ///
    /// With --from CHECKPOINT, no seq: the consistency proof from the checkpoint's
    /// tree to today's, once the chain is verified and the checkpoint found to be
    /// this ledger's own (its origin, and its root the ledger's at its size). Printed
    /// as base64 hashes one per line, the lines a witness reads (`demarche witness
    /// cosign --proof`, or after `old N` in a tlog-witness request); --json gives
    /// old_size, new_size, old_root, new_root and proof.
    #[command(
        after_help = "Examples:\n  demarche prove 3\n  demarche prove 3 --checkpoint 2021-01-29.checkpoint --json\n  demarche prove --from last.cosigned --key newsroom.vkey > proof"
    )]
    #[command(group(clap::ArgGroup::new("checkpoint_file").args(["checkpoint", "from"])))]
    Prove(Deferred<ProveArgs>),

    /// Write an evidence bundle: positions, the statements they rest on, a proof
    /// for each, and a signed checkpoint, in one file that checks offline.
    ///
    /// Takes the selection of `positions`. `check-evidence` checks the bundle without
    /// the ledger: the signature, every proof, and that the positions follow from the
    /// statements under the projection's rules. A bundle proves what it holds; it
    /// cannot prove that the ledger holds nothing else on the matter.
    #[command(
        after_help = "Example:\n  demarche evidence --as-of 2021-01-29 --view withdrawal --sign newsroom.key -o libya.evidence\n  demarche check-evidence libya.evidence --key newsroom.vkey"
    )]
    Evidence(Deferred<EvidenceArgs>),

    /// Draw who calls on or demands what of whom, as a picture (SVG), DOT or JSON.
    ///
    /// Parties on the left, subjects and places on the right, an arrow for each position:
    /// thick for demands, thin for calls, dashed with a cross for denials, dotted with a
    /// diamond for assertions and acknowledgements of presence. The caption gives the
    /// as-of date and the ledger head (SIZE:HASH), so a picture can be traced back to the
    /// exact ledger state it shows. Takes the selection of `positions`.
    ///
    /// A large selection stays readable: past --max-nodes actors (or three times as many
    /// arrows), those with the fewest positions are joined into one node each side ("N
    /// other parties", "N other subjects and places"), their positions into one arrow
    /// per stance that lists its predicates and says how many positions it stands for,
    /// and stderr says what was joined. --labels id or full when names are cut.
    #[command(after_help = "Examples:
  demarche graph --as-of 2021-01-29 -o libya.svg
  demarche graph --predicate withdrawal --format dot -o w.dot && dot -Tpng w.dot > w.png
  demarche graph --party Russia --format json
  demarche graph --location SYR --max-nodes 20 --labels id -o syria.svg")]
    Graph(Deferred<GraphArgs>),

    /// Draw statements on a timeline (SVG): a lane per party (or proposition), a mark
    /// per statement at its said date, coloured by stance, with corrections and
    /// retractions shown as such.
    #[command(after_help = "Examples:
  demarche timeline --party Russia -o russia.svg
  demarche timeline --subject Turkey --from 2020-01-01 --to 2021-12-31 --lanes proposition -o t.svg")]
    Timeline(Deferred<TimelineArgs>),

    /// Where the ledger is, what it holds, and whether it verifies (--verify).
    #[command(after_help = "Examples:\n  demarche status\n  demarche status --verify --json")]
    Status(Deferred<StatusArgs>),

    /// Print a shell completion script.
    #[command(after_help = "Examples:
  demarche completions bash > ~/.local/share/bash-completion/completions/demarche
  demarche completions zsh > ~/.zfunc/_demarche
  demarche completions fish > ~/.config/fish/completions/demarche.fish")]
    Completions(Deferred<CompletionsArgs>),

    /// Print the manual page (roff).
    #[command(after_help = "Example:\n  demarche man > demarche.1 && man ./demarche.1")]
    Man,

    /// Check an evidence bundle offline, without the ledger.
    ///
    /// Exit 0 when it holds: the checkpoint is signed by the key, every record hashes
    /// to its chain hash and is in the checkpoint's tree, and the positions follow from
    /// the records. Exit 1 when any of it does not hold; 2 when the file is not a
    /// bundle or the key not a verifier key.
    #[command(
        after_help = "Example:\n  demarche check-evidence libya.evidence --key newsroom.vkey"
    )]
    CheckEvidence(Deferred<CheckEvidenceArgs>),

    /// Record the worked example (Libya, 29 January 2021) and show it.
    ///
    /// Appends the statements of the news report the project was born from, and a formal
    /// demand from the public record beside them, then lists them and verifies the chain.
    /// Running it again adds nothing: events the ledger already holds are skipped.
    #[command(after_help = "Example:\n  demarche demo\n  demarche --ledger /tmp/try demo --json")]
    Demo(Deferred<Output>),

    /// Append one event, from a JSON line or from flags.
    ///
    /// The event is checked (fields, dates, actors, stance and predicate) and acknowledged
    /// only once it is durable. Actor names are resolved to canonical ids ("U.N." → UN).
    #[command(after_help = r#"Examples:
  demarche append --json '{"type":"statement","said_on":"2021-01-28","party":"USA",
    "stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["RUS","TUR"],
    "location":"LBY"},"quote":"we call on Turkey and Russia to ...",
    "source":{"publisher":"AFP"}}'
  demarche append --said-on 2021-01-28 --party USA --stance calls-for \
    --predicate withdrawal --subject RUS --subject TUR --location LBY \
    --quote "we call on Turkey and Russia to ..." --publisher AFP
  demarche append --retract 5 --reason "recorded from a misattributed quote"
  A joint statement (one event; each party holds the position):
    demarche append --said-on 2024-01-28 --party BFA --joint-with MLI --joint-with NER \
      --stance announces --predicate suspension --subject BFA --subject MLI --subject NER \
      --location ECOWAS --quote "...withdraw without delay from ECOWAS" --publisher Reuters
  A threat with a deadline:
    demarche append --said-on 2023-07-30 --party ECOWAS --stance threatens \
      --predicate use-of-force --subject ECOWAS --location NER --deadline 2023-08-06 \
      --condition "if constitutional order is not restored" --quote "..." --publisher AFP
  A vote on a resolution (the document is required):
    demarche append --said-on 2024-03-25 --party USA --stance abstains --predicate resolution \
      --document "S/RES/2728(2024)" --quote "..." --url https://press.un.org/...
  A translated quote reported by two sources (repeat the source flags, in order):
    ... --quote-kind translation --language ru --publisher TASS --url https://tass.com/... \
        --publisher Reuters --url https://www.reuters.com/...

Prints the new event's seq and hash (with --json input, the recorded event as JSON)."#)]
    Append(Deferred<Box<AppendArgs>>),

    /// Append every event of a JSON Lines file (or stdin), all or nothing.
    ///
    /// Each line is one event, as for `append --json`; blank lines are skipped. The whole
    /// file is one durable batch: a bad line anywhere means nothing is appended, and the
    /// error names the line and the field.
    ///
    /// Events the ledger already holds are skipped and counted, so importing the same
    /// file twice adds nothing the second time. An event's identity is the digest of its
    /// content: every field, after actor names are resolved to ids ("Russia" → RUS). Two
    /// statements differing in any field (a date, a word of the quote, the source) are
    /// two events.
    ///
    /// With --format gdelt, each FILE is a GDELT 2.0 event export (tab-separated, 61
    /// columns), a directory (its *.export.CSV files), or - for a pipe from a
    /// decompressor; all of them are one batch, all or nothing. A row becomes a
    /// statement when its CAMEO code is one of things said (roots 01, 02, 03, 05, 10, 11,
    /// 12, 13, 16; schema/gdelt-cameo.json says what each code maps to and which stay
    /// out) and its Actor1 is a party: a state, alone or with a government role (GOV, MIL,
    /// LEG, JUD, SPY), or an organisation of states (IGO...). Actor2 is the subject when it
    /// is a party too. Each statement keeps its provenance: coder gdelt, event id, CAMEO
    /// code, NumMentions, NumSources, GoldsteinScale, AvgTone and SOURCEURL (see
    /// `positions --coded-by` and `--min-mentions`). A row whose event id the ledger or an
    /// earlier row already has is skipped. The summary counts, per CAMEO root, rows,
    /// eligible rows (a party under a root of things said), statements, and why the rest
    /// made none; party codes the registry lacks are listed with their counts.
    #[command(after_help = "Examples:
  demarche import statements.jsonl
  generate-statements | demarche import -
  demarche import --format gdelt 20191024143000.export.CSV
  demarche import --format gdelt exports/                 # every *.export.CSV in it
  unzip -p 20191024143000.export.CSV.zip | demarche import --format gdelt -
  demarche import --format gdelt day/ --add-actors --json
  demarche import statements.jsonl --json    # summary as JSON")]
    Import(Deferred<ImportArgs>),

    /// Write every event, with its seq, time and hashes, as JSON Lines (or CSV).
    ///
    /// JSON Lines (the default): one line per event, its fields as `append --json` takes
    /// them inside an envelope of `seq`, `recorded_at`, `prev`, `hash` and `digest`.
    /// Anyone can check the chain from the export alone (`demarche verify --export`, or
    /// tools/verify_export.py, which needs nothing but Python), and `demarche rebuild`
    /// makes a new ledger from it with every hash identical.
    ///
    /// CSV: one row per (statement, subject) pair of each statement that stands
    /// (retracted ones left out, corrected ones as corrected, `status` says which), with
    /// the CAMEO code and PLOVER event of its stance and predicate, the speaker and their
    /// role, and the source's publisher and date. For spreadsheets and pandas: `said_on`
    /// is a plain date (YYYY-MM-DD) and a time of day is in `said_at`; new columns come
    /// last. A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is
    /// written with a leading `'`, so that a spreadsheet never runs it as a formula.
    #[command(after_help = "Examples:
  demarche export -o ledger.jsonl
  demarche verify --export ledger.jsonl
  demarche export --format csv -o statements.csv
  demarche export | gzip > ledger.jsonl.gz")]
    Export(Deferred<ExportArgs>),

    /// Make a new ledger from an export, checking every hash on the way.
    ///
    /// Each record is checked in the export's chain as it is read (as `verify --export`
    /// checks it), then appended with its original time, and each new record must hash
    /// exactly as the export says: the new ledger's head equals the original's. A broken
    /// chain anywhere in the export is refused with exit 1, naming the first bad seq; an
    /// event the new ledger refuses, in an export whose chain holds, with exit 2. Either way nothing is written: the events are committed
    /// together, after the last line. The target ledger must not exist yet.
    #[command(after_help = "Examples:
  demarche export -o backup.jsonl
  demarche rebuild --from backup.jsonl --ledger restored
  demarche --ledger restored head      # the same SIZE:HASH as the original

  # straight from one ledger to another, through a pipe
  demarche --ledger old export | demarche --ledger new rebuild --engine redb \\
      --from - --expect-head \"$(demarche --ledger old head)\"")]
    Rebuild(Deferred<RebuildArgs>),

    /// Correct a statement in an editor: it opens as JSON, as it stands (with
    /// earlier corrections applied), and what you change is recorded as a
    /// correction, as `append --correct` records it.
    ///
    /// The editor is $VISUAL, else $EDITOR, else vi. Save and quit to record;
    /// leave the file as it was to record nothing. A file that is not valid JSON,
    /// or not a valid statement, records nothing and is kept: the message names
    /// it, and `--file` takes it back once fixed.
    #[command(after_help = "Examples:
  demarche amend 11 --reason \"wrong date\"
  demarche amend HEAD~2
  EDITOR=nano demarche amend 6fb328e2
  demarche amend 11 --file /tmp/demarche-amend-11.json   # an edit kept from before")]
    Amend(Deferred<AmendArgs>),

    /// List events in seq order, with filters.
    #[command(
        after_help = "Examples:\n  demarche log\n  demarche log --party RUS --from 2021-01-01\n  demarche log --json | jq .quote"
    )]
    Log(Deferred<LogArgs>),

    /// Show one event in full: fields, quote, source and hashes.
    #[command(after_help = "Example:\n  demarche show 3\n  demarche show 3 --json")]
    #[command(
        after_help = "Examples:\n  demarche show 3\n  demarche show HEAD\n  demarche show 6fb328e2      # the event whose chain hash starts so"
    )]
    Show(Deferred<ShowArgs>),

    /// Re-hash every event and check the whole chain, then the derived data against it.
    ///
    /// Exit 0 when intact, 1 when not (naming the first bad seq and why). A dropped tail is
    /// only visible against a head saved earlier: keep the output of `demarche head` and
    /// pass it to --expect-head.
    ///
    /// Derived data is then compared with what the chain makes: the Merkle tree, the actor
    /// and digest indexes, and the positions snapshot a query would start from (one sealed
    /// under your cache key). A difference is damage too (exit 1: tree-mismatch,
    /// actor-index-mismatch, digest-index-mismatch, snapshot-mismatch), though the chain
    /// itself may be whole: --chain-only tells.
    #[command(
        after_help = "Examples:\n  demarche verify\n  demarche verify --expect-head 10:4be1...\n  demarche verify --json\n  demarche verify --export ledger.jsonl --expect-head 10:4be1...\n  demarche checkpoint --sign me.key > saved.checkpoint   # later:\n  demarche verify --against saved.checkpoint --key me.vkey\n  demarche verify --against cosigned.checkpoint --key me.vkey --witness w1.witness.vkey"
    )]
    Verify(Deferred<VerifyArgs>),

    /// Print the current head: `SIZE:HASH` (number of events and hash of the last).
    #[command(
        after_help = "Example:\n  demarche head > saved-head\n  demarche verify --expect-head \"$(cat saved-head)\""
    )]
    Head(Deferred<Output>),

    /// Positions: what each party currently holds on each proposition.
    ///
    /// A position is (party, predicate, subject, location, qualifier) with the party's
    /// latest stance on it (by the date it was said; ties by seq), and the statements that
    /// support it. Corrections replace what they correct; retractions remove it.
    #[command(after_help = "Examples:
  demarche positions --as-of 2021-01-29
  demarche positions --view withdrawal          who demands withdrawal from whom
  demarche positions --view presence            who denies or acknowledges presence where
  demarche positions --party Russia --json
  demarche positions --as-of 2021-01-29 --known-at 8     as the ledger knew it at seq 8
  demarche positions --known-at 2026-03-01T00:00:00Z     as the ledger knew it then")]
    Positions(Deferred<PositionsArgs>),

    /// The timeline of one party, or of one proposition, with quotes and sources.
    #[command(after_help = "Examples:
  demarche history --party Russia
  demarche history --predicate withdrawal --subject RUS --location LBY
  demarche history --party USA --from 2021-01-01 --json")]
    History(Deferred<HistoryArgs>),

    /// Positions that appeared, changed stance, or ended between two dates.
    #[command(after_help = "Examples:
  demarche diff --from 2021-01-27 --to 2021-01-29
  demarche diff --from 2020-01-01 --to 2021-12-31 --party USA --json")]
    Diff(Deferred<DiffArgs>),

    /// List the stances, predicates and qualifiers, and the nearest CAMEO and
    /// PLOVER code of each (stance, predicate) pair.
    ///
    /// With --json, one line per (stance, predicate) pair and its codes; the
    /// stances, predicates and qualifiers themselves are in
    /// schema/vocabulary.json.
    #[command(
        after_help = "Examples:\n  demarche vocab\n  demarche vocab --json | jq 'select(.stance == \"demands\")'"
    )]
    Vocab(Deferred<Output>),

    /// Add, alias, list and look up actors.
    #[command(subcommand)]
    Actor(Deferred<ActorCommand>),

    /// Serve the ledger over HTTP: its tiles, a JSON API and a page to read it.
    ///
    /// Routes (GET unless said):
    ///   /                     a page: positions as of a date (a slider), the graph
    ///                         and the timeline, each statement with its quote, its
    ///                         sources and whether its inclusion in the signed
    ///                         checkpoint verifies, checked in the browser
    ///   /checkpoint           the signed checkpoint (with --sign), C2SP tlog-tiles
    ///   /tile/L/N[.p/W]       hash tiles; /tile/entries/N[.p/W] entry bundles
    ///   /api/positions        as `positions --json`; /api/history, /api/diff,
    ///   /api/log, /api/show   /api/log (at most 1000 events unless limit says)
    ///                         and /api/show?seq=N as their `--json`; a JSON
    ///                         array of the lines, an object for show
    ///   /api/graph            as `graph` (format=svg|json|dot); /api/timeline: SVG
    ///   /api/record?seq=N     a statement as `show N --json`, its status read once
    ///                         per head instead of at each request
    ///   /api/head             as `head --json`; /api/checkpoint as `checkpoint --json`;
    ///                         /api/actors as `actor list --json`
    ///   /api/proofs/inclusion?seq=N[&size=M]    as `prove N --json`
    ///   /api/proofs/consistency?old=M[&new=N]   between two tree sizes
    ///   POST /api/append      one event as `append --json` takes it (needs --token-file)
    ///
    /// The API takes the commands' flags as query parameters, by their long names
    /// (as-of, known-at, party, stance, predicate, subject, location, coded-by,
    /// min-mentions, view, no-members, ...). An unknown parameter is a 400 naming it;
    /// any bad request is a 4xx with a JSON body {"error", "hint"} and changes nothing.
    ///
    /// Engines. On redb every request opens the ledger read-only on the snapshot of
    /// the moment, so `demarche append` and `import` in other processes go on while
    /// the server runs, and the next request sees them. sled lets one process hold a
    /// ledger: the server holds it for as long as it runs, other commands on it wait
    /// (--wait) and then fail with exit 3, and appends go through POST /api/append.
    ///
    /// Writes need `Authorization: Bearer TOKEN`, TOKEN from --token-file, a file of
    /// mode 0600 (the server refuses to start otherwise). Without --token-file there
    /// are no writes. Requests are bounded: bodies to 1 MiB, 30 seconds each. Nothing
    /// is served from disk but the ledger: the tile paths are parsed strictly.
    /// SIGINT or SIGTERM stops the server once the requests under way are answered.
    #[command(
        verbatim_doc_comment,
        after_help = "Examples:
  demarche key generate --name newsroom.example/ledger --out newsroom
  demarche serve --sign newsroom.key                     # http://127.0.0.1:8080/
  curl -s 'http://127.0.0.1:8080/api/positions?as-of=2021-01-29&party=RUS'
  curl -s http://127.0.0.1:8080/checkpoint
  curl -s 'http://127.0.0.1:8080/api/proofs/inclusion?seq=3'

  Appends over HTTP (on sled, the only way while the server runs):
  (umask 077; head -c 32 /dev/urandom | base64 > token)
  demarche serve --sign newsroom.key --token-file token
  curl -s -H \"Authorization: Bearer $(cat token)\" --data-binary @event.json \\
    http://127.0.0.1:8080/api/append"
    )]
    Serve(Deferred<ServeArgs>),

    /// Act as a transparency-log witness: cosign the checkpoints of logs you
    /// trust, once each extends the last you cosigned (C2SP tlog-witness).
    ///
    /// A witness keeps, per log origin, the latest checkpoint it cosigned, and
    /// refuses one that is smaller or does not extend it: a log that shows one
    /// history to some and another to others cannot have both cosigned. Give its
    /// verifier key (`witness vkey`) to those who check, with `verify --against
    /// CHECKPOINT --witness WITNESS.vkey`.
    #[command(subcommand)]
    #[command(after_help = "Examples:
  demarche key generate --name witness.example/w1 --out w1
  demarche witness vkey --key w1.key > w1.witness.vkey
  demarche witness cosign --key w1.key --log-key newsroom.vkey today.checkpoint
  demarche witness serve --key w1.key --log-key newsroom.vkey --addr 127.0.0.1:7380")]
    Witness(Deferred<WitnessCommand>),
}

// The arguments of `demarche init`.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// The storage engine: sled or redb.
    #[arg(long, value_enum)]
    pub engine: Option<EngineName>,
}

// The arguments of `demarche checkpoint`.
#[derive(Args, Debug)]
pub struct CheckpointArgs {
    /// Sign with this private key (from `demarche key generate`).
    #[arg(long, value_name = "PREFIX.key")]
    pub sign: Option<PathBuf>,
    #[command(flatten)]
    pub out: Output,
}

// The arguments of `demarche prove`.
#[derive(Args, Debug)]
pub struct ProveArgs {
    /// The record's seq.
    #[arg(required_unless_present = "from")]
    pub seq: Option<u64>,
    /// Prove against this checkpoint's tree (its size) instead of today's.
    #[arg(long, value_name = "FILE", conflicts_with = "from")]
    pub checkpoint: Option<PathBuf>,
    /// Prove that today's tree extends this checkpoint's (a consistency proof).
    #[arg(long, value_name = "CHECKPOINT", conflicts_with = "seq")]
    pub from: Option<PathBuf>,
    /// The verifier key whose signature the checkpoint must carry.
    #[arg(long, value_name = "PREFIX.vkey", requires = "checkpoint_file")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub out: Output,
}

// The arguments of `demarche evidence`.
#[derive(Args, Debug)]
pub struct EvidenceArgs {
    #[command(flatten)]
    pub query: QueryArgs,
    /// Only the positions of a named view, as `positions --view` shows them
    /// (and the statements they rest on); the bundle's `query.view` names it.
    #[arg(long, value_parser = ["withdrawal", "presence"])]
    pub view: Option<String>,
    /// Sign the checkpoint with this private key.
    #[arg(long, value_name = "PREFIX.key")]
    pub sign: PathBuf,
    /// The bundle file to write (`-`: stdout); a symbolic link is refused.
    #[arg(short = 'o', long, value_name = "BUNDLE")]
    pub output: PathBuf,
    /// Overwrite the bundle file if it exists.
    #[arg(long)]
    pub force: bool,
}

// The arguments of `demarche graph`.
#[derive(Args, Debug)]
pub struct GraphArgs {
    #[command(flatten)]
    pub query: QueryArgs,
    /// Only the positions of a named view: withdrawal (who demands or
    /// commits to withdrawal) or presence (who asserts, denies,
    /// acknowledges or accuses presence).
    #[arg(long, value_parser = ["withdrawal", "presence"])]
    pub view: Option<String>,
    /// What to write.
    #[arg(long, value_parser = ["svg", "dot", "json"], default_value = "svg")]
    pub format: String,
    /// How actors are named: name (cut to fit), id, or full (the name whole).
    #[arg(long, value_enum, default_value_t = LabelsArg::Name)]
    pub labels: LabelsArg,
    /// The most actors drawn (and about three arrows each); the actors with the
    /// fewest positions are joined (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub max_nodes: usize,
    /// Write to this file instead of stdout (`-`: stdout). Only a regular
    /// file is written, whole or not at all; a symbolic link is refused.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

// The arguments of `demarche timeline`.
#[derive(Args, Debug)]
pub struct TimelineArgs {
    /// Only statements of this party, alone or jointly.
    #[arg(long)]
    pub party: Option<String>,
    /// Only statements about this subject.
    #[arg(long)]
    pub subject: Option<String>,
    /// Only statements about this place.
    #[arg(long)]
    pub location: Option<String>,
    /// Only statements on this predicate (withdrawal, presence, ...).
    #[arg(long)]
    pub predicate: Option<String>,
    /// Only statements of this stance.
    #[arg(long)]
    pub stance: Option<String>,
    #[command(flatten)]
    pub members: Members,
    #[command(flatten)]
    pub coder: query::CoderFlags,
    /// From this date (YYYY-MM-DD, YYYY-MM or YYYY).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// To this date (YYYY-MM-DD, YYYY-MM or YYYY).
    #[arg(long, value_name = "DATE", conflicts_with = "as_of")]
    pub to: Option<String>,
    /// As of this date: the same as --to, as positions take it.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// One lane per party or per proposition.
    #[arg(long, value_parser = ["party", "proposition"], default_value = "party")]
    pub lanes: String,
    /// What to write (SVG only, for now).
    #[arg(long, value_parser = ["svg"], default_value = "svg")]
    pub format: String,
    /// How actors are named: name (cut to fit), id, or full (the name whole).
    #[arg(long, value_enum, default_value_t = LabelsArg::Name)]
    pub labels: LabelsArg,
    /// Write to this file instead of stdout (`-`: stdout). Only a regular
    /// file is written, whole or not at all; a symbolic link is refused.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

// The arguments of `demarche status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Also verify the chain and the Merkle tree (takes about a second per million events).
    #[arg(long)]
    pub verify: bool,
    #[command(flatten)]
    pub out: Output,
}

// The arguments of `demarche completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_parser = ["bash", "zsh", "fish", "elvish", "powershell"])]
    pub shell: String,
}

// The arguments of `demarche check-evidence`.
#[derive(Args, Debug)]
pub struct CheckEvidenceArgs {
    /// The bundle.
    pub bundle: PathBuf,
    /// The verifier key of whoever signed it.
    #[arg(long, value_name = "PREFIX.vkey")]
    pub key: PathBuf,
    #[command(flatten)]
    pub out: Output,
}

// The arguments of `demarche import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The file, or - for standard input; with --format gdelt, several files or
    /// directories.
    #[arg(value_name = "FILE", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// What the file holds.
    #[arg(long, value_enum, default_value_t = ImportFormat::Jsonl)]
    pub format: ImportFormat,
    /// With --format gdelt: record the party codes the registry lacks (a state by its
    /// code, an organisation by its IGO code) as actor events first, so that their
    /// rows become statements.
    #[arg(long)]
    pub add_actors: bool,
    #[command(flatten)]
    pub out: Output,
}

// The arguments of `demarche export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// What to write.
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    pub format: ExportFormat,
    /// Write to this file instead of stdout (`-`: stdout). Only a regular
    /// file is written, whole or not at all; a symbolic link is refused.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

// The arguments of `demarche rebuild`.
#[derive(Args, Debug)]
pub struct RebuildArgs {
    /// The export (JSON Lines) to rebuild from; `-` for standard input, which
    /// needs --expect-head.
    #[arg(long, value_name = "EXPORT")]
    pub from: PathBuf,
    /// The head of the ledger the export was made from, `SIZE:HASH` (`demarche
    /// head` there): the export must pass through it. One cut short, or
    /// rewritten from a seq on, is refused with exit 1 and nothing is written.
    /// With it, the export may come through a pipe.
    #[arg(long, value_name = "SIZE:HASH")]
    pub expect_head: Option<String>,
    /// The new ledger's storage engine: sled or redb (default: $DEMARCHE_ENGINE,
    /// else sled). Rebuilding into the other engine moves a ledger without
    /// changing a hash.
    #[arg(long, value_enum)]
    pub engine: Option<EngineName>,
    #[command(flatten)]
    pub out: Output,
}

// The arguments of `demarche amend`.
#[derive(Args, Debug)]
pub struct AmendArgs {
    /// The statement (or correction): seq, HEAD, HEAD~N or a hash prefix.
    #[arg(value_name = "SEQ|HEAD~N|HASH")]
    pub event: String,
    /// Why it is corrected.
    #[arg(long)]
    pub reason: Option<String>,
    /// Take the edited statement from this file instead of opening an editor.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Record the correction even if the ledger already holds the same one.
    #[arg(long)]
    pub allow_duplicate: bool,
    #[command(flatten)]
    pub out: Output,
}

// The arguments of `demarche show`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The event: its seq (1 is the first), HEAD (the last), or the first
    /// hex digits (at least 6) of its chain hash.
    #[arg(value_name = "SEQ|HEAD|HASH")]
    pub seq: String,
    #[command(flatten)]
    pub out: Output,
}

// The arguments of `demarche verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// A head saved earlier, `SIZE:HASH`: the ledger must pass through it.
    #[arg(long, value_name = "SIZE:HASH")]
    pub expect_head: Option<String>,
    /// Check an export file's chain instead of the ledger (no ledger needed).
    #[arg(long, value_name = "FILE", conflicts_with = "against")]
    pub export: Option<PathBuf>,
    /// Also prove that the ledger extends a checkpoint saved earlier (a C2SP
    /// checkpoint, as `demarche checkpoint` prints it): a consistency proof from
    /// its tree to today's. A history rewritten and re-hashed fails it.
    #[arg(long, value_name = "CHECKPOINT_FILE")]
    pub against: Option<PathBuf>,
    /// The verifier key whose signature the checkpoint must carry.
    #[arg(long, value_name = "PREFIX.vkey", requires = "against")]
    pub key: Option<PathBuf>,
    /// A witness's verifier key (`demarche witness vkey`): the checkpoint must
    /// carry its valid cosignature (repeat for several witnesses).
    #[arg(long = "witness", value_name = "WITNESS.vkey", requires = "against")]
    pub witnesses: Vec<PathBuf>,
    /// Check the chain alone, faster (at 1M events, about half the time when a
    /// positions snapshot is compared): the derived data (the Merkle tree, the
    /// indexes, the positions snapshot) is not compared.
    #[arg(long, conflicts_with_all = ["against", "export"])]
    pub chain_only: bool,
    #[command(flatten)]
    pub out: Output,
}

/// A subcommand's arguments (or a command's subcommands), built only when the
/// subcommand is parsed, or its help, a manual page or completions are made:
/// clap otherwise builds every subcommand's arguments in every process (a
/// third of a millisecond).
///
/// Deferred, `T`'s own command attributes are applied after the variant's,
/// where built whole they come before: [`keeping_about`] keeps the variant's
/// summary, and any other text belongs on the variant alone (an `after_help`
/// on `T` would replace the variant's in `--help` but not in the manual). A
/// test compares every command's help built both ways.
#[derive(Debug, Clone, Copy)]
pub struct Deferred<T>(pub T);

impl<T> std::ops::Deref for Deferred<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Runs `augment` on `cmd` keeping the texts the subcommand's own doc comment
/// gave it: a struct's doc comment (`Output`'s, flattened) would otherwise
/// replace them, since the deferred part runs after the subcommand is made.
fn keeping_about(cmd: clap::Command, augment: fn(clap::Command) -> clap::Command) -> clap::Command {
    let about = cmd.get_about().cloned();
    let long_about = cmd.get_long_about().cloned();
    let mut cmd = augment(cmd);
    if let Some(about) = about {
        cmd = cmd.about(about);
    }
    if let Some(long_about) = long_about {
        cmd = cmd.long_about(long_about);
    }
    cmd
}

fn augment_args<T: clap::Args>(cmd: clap::Command) -> clap::Command {
    keeping_about(cmd, T::augment_args)
}

fn augment_args_for_update<T: clap::Args>(cmd: clap::Command) -> clap::Command {
    keeping_about(cmd, T::augment_args_for_update)
}

fn augment_subcommands<T: clap::Subcommand>(cmd: clap::Command) -> clap::Command {
    keeping_about(cmd, T::augment_subcommands)
}

fn augment_subcommands_for_update<T: clap::Subcommand>(cmd: clap::Command) -> clap::Command {
    keeping_about(cmd, T::augment_subcommands_for_update)
}

/// `augment` now when the command line is built whole, else `later` (the
/// same, keeping the subcommand's summary) when clap builds the subcommand.
fn defer_unless_whole(
    cmd: clap::Command,
    augment: fn(clap::Command) -> clap::Command,
    later: fn(clap::Command) -> clap::Command,
) -> clap::Command {
    match whole() {
        true => augment(cmd),
        false => cmd.defer(later),
    }
}

thread_local! {
    /// Whether [`Cli::command`] builds every subcommand whole, as completions
    /// and the manual page need: a deferred command's subcommands are missing
    /// from the `help` command clap makes, which the completions describe.
    static WHOLE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with the command line built whole, nothing deferred. The switch
/// is the calling thread's own, so a command line built meanwhile on another
/// thread (`demarche serve` parses every request) is deferred as ever, and it
/// is turned off again even if `f` panics.
fn with_whole<T>(f: impl FnOnce() -> T) -> T {
    struct Off;
    impl Drop for Off {
        fn drop(&mut self) {
            WHOLE.with(|w| w.set(false));
        }
    }
    WHOLE.with(|w| w.set(true));
    let _off = Off;
    f()
}

/// The whole command line, nothing deferred: for completions and the manual.
pub fn whole_command() -> clap::Command {
    with_whole(<Cli as clap::CommandFactory>::command)
}

fn whole() -> bool {
    WHOLE.with(Cell::get)
}

impl<T: clap::Args> clap::Args for Deferred<T> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        defer_unless_whole(cmd, T::augment_args, augment_args::<T>)
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        defer_unless_whole(
            cmd,
            T::augment_args_for_update,
            augment_args_for_update::<T>,
        )
    }
    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
}

/// A command's subcommands (`#[command(subcommand)]` on the variant) are
/// deferred the same way.
impl<T: clap::Subcommand> clap::Subcommand for Deferred<T> {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        defer_unless_whole(cmd, T::augment_subcommands, augment_subcommands::<T>)
    }
    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        defer_unless_whole(
            cmd,
            T::augment_subcommands_for_update,
            augment_subcommands_for_update::<T>,
        )
    }
    fn has_subcommand(name: &str) -> bool {
        T::has_subcommand(name)
    }
}

impl<T: clap::FromArgMatches> clap::FromArgMatches for Deferred<T> {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(m).map(Deferred)
    }
    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clap's own checks of every command, built whole, as the deferred
    /// commands are built when run: names, groups and the arguments they
    /// require or conflict with all refer to arguments the command has.
    #[test]
    fn every_command_s_definition_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
        whole_command().debug_assert();
    }

    /// Every command's and subcommand's help, deferred as a command run
    /// builds it, is the help the whole command line (completions, the
    /// manual) gives it.
    #[test]
    fn every_command_s_help_is_the_same_deferred_or_whole() {
        let mut paths: Vec<Vec<String>> = Vec::new();
        for sc in whole_command().get_subcommands() {
            paths.push(vec![sc.get_name().to_string()]);
            for sub in sc.get_subcommands() {
                paths.push(vec![sc.get_name().to_string(), sub.get_name().to_string()]);
            }
        }
        assert!(paths.len() > 40, "{}", paths.len());
        for path in paths.iter().filter(|p| !p.iter().any(|n| n == "help")) {
            for flag in ["--help", "-h"] {
                let args: Vec<&str> = std::iter::once("demarche")
                    .chain(path.iter().map(String::as_str))
                    .chain(std::iter::once(flag))
                    .collect();
                let help = |e: clap::Error| {
                    assert_eq!(e.kind(), clap::error::ErrorKind::DisplayHelp, "{args:?}");
                    e.render().to_string()
                };
                let deferred = help(Cli::try_parse_from(&args).expect_err("help"));
                let whole = help(with_whole(|| Cli::try_parse_from(&args)).expect_err("help"));
                assert_eq!(deferred, whole, "{args:?}");
            }
        }
    }
}
