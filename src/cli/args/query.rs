//! The flags of the commands that ask for positions: `positions`, `diff`,
//! and (through `QueryArgs`) `graph` and `evidence`.

use super::Output;
use clap::Args;

/// Whether an actor in a selection (`--party`, `--subject`, `--location`)
/// stands for the actors that belong to it too.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct Members {
    /// An actor in --party, --subject or --location stands for itself alone,
    /// not for the actors that belong to it (by default --party USA also
    /// selects USA-DOD, and --location GEO a region of Georgia).
    #[arg(long, conflicts_with = "with_members")]
    pub no_members: bool,
    /// An actor in --party, --subject or --location stands for itself and
    /// the actors that belong to it (the default).
    #[arg(long)]
    pub with_members: bool,
}

/// Which positions to show.
#[derive(Args, Debug, Clone, Default)]
pub struct Selection {
    /// Only positions of this party (id or alias).
    #[arg(long)]
    pub party: Option<String>,
    /// Only positions whose current stance is this.
    #[arg(long)]
    pub stance: Option<String>,
    /// Only this predicate (withdrawal, presence, ...).
    #[arg(long)]
    pub predicate: Option<String>,
    /// Only positions about this subject (id or alias).
    #[arg(long)]
    pub subject: Option<String>,
    /// Only positions about this location (id or alias).
    #[arg(long)]
    pub location: Option<String>,
    #[command(flatten)]
    pub members: Members,
    #[command(flatten)]
    pub coder: CoderFlags,
}

/// Which statements count by who coded them: a person, or a machine coder
/// (GDELT), and how widely a machine-coded event was reported.
#[derive(Args, Debug, Clone, Default)]
pub struct CoderFlags {
    /// Only statements recorded by hand (human), or only those a machine coder made
    /// from event data (gdelt).
    #[arg(long, value_name = "CODER", value_parser = ["human", "gdelt"])]
    pub coded_by: Option<String>,
    /// Only machine-coded statements whose event had at least N mentions
    /// (NumMentions); hand-recorded statements have no count and are kept (add
    /// --coded-by gdelt for machine-coded ones alone).
    #[arg(long, value_name = "N")]
    pub min_mentions: Option<u32>,
}

#[derive(Args, Debug)]
pub struct PositionsArgs {
    #[command(flatten)]
    pub query: QueryArgs,
    /// A view analysts ask for by name: withdrawal (who demands withdrawal from whom,
    /// grouped by the subject asked to leave) or presence (who denies, acknowledges or
    /// asserts presence where).
    #[arg(long, value_parser = ["withdrawal", "presence"])]
    pub view: Option<String>,
    /// Replay the whole chain instead of starting from the saved snapshot
    /// (the answer is the same; this is slower, and checks it).
    #[arg(long)]
    pub replay: bool,
    #[command(flatten)]
    pub out: Output,
}

/// The question of `positions`, `graph` and `evidence`: a date, a point in the
/// ledger's own time, and which positions.
#[derive(Args, Debug)]
pub struct QueryArgs {
    /// Valid time: only statements said on or before this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Transaction time: only what the ledger held at this seq (or HEAD~N) or
    /// RFC 3339 time.
    #[arg(long, value_name = "SEQ|TIME")]
    pub known_at: Option<String>,
    #[command(flatten)]
    pub selection: Selection,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The earlier date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: String,
    /// The later date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to: String,
    /// Transaction time: only what the ledger held at this seq (or HEAD~N) or
    /// RFC 3339 time.
    #[arg(long, value_name = "SEQ|TIME")]
    pub known_at: Option<String>,
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub out: Output,
}
