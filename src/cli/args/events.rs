//! The flags of the commands that write or list events: `append`, `log`,
//! `history` and `actor`.

use super::Output;
use clap::{Args, Subcommand};

const STATEMENT_FLAGS: [&str; 14] = [
    "said_on",
    "party",
    "speaker",
    "speaker_role",
    "stance",
    "hedge",
    "predicate",
    "subjects",
    "location",
    "qualifier",
    "quote",
    "url",
    "publisher",
    "published_on",
];

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("amend").args(["retract", "correct"])))]
pub struct AppendArgs {
    /// The event as one JSON line (see schema/event.schema.json).
    #[arg(long, value_name = "LINE", conflicts_with_all = STATEMENT_FLAGS, conflicts_with = "amend")]
    pub json: Option<String>,

    /// Retract event SEQ (with --reason).
    #[arg(long, value_name = "SEQ", conflicts_with_all = STATEMENT_FLAGS, requires = "reason")]
    pub retract: Option<u64>,

    /// Correct event SEQ: the statement flags give it as it should have been.
    #[arg(long, value_name = "SEQ")]
    pub correct: Option<u64>,

    /// Why (for --retract and --correct).
    #[arg(long, requires = "amend")]
    pub reason: Option<String>,

    /// When it was said: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM].
    #[arg(long, value_name = "DATE")]
    pub said_on: Option<String>,
    /// Party the statement is attributed to (actor id or alias).
    #[arg(long)]
    pub party: Option<String>,
    /// Person who spoke for the party.
    #[arg(long)]
    pub speaker: Option<String>,
    /// The speaker's role.
    #[arg(long, requires = "speaker")]
    pub speaker_role: Option<String>,
    /// Stance: demands, calls-for, denies, asserts, acknowledges, ...
    #[arg(long)]
    pub stance: Option<String>,
    /// Hedging words of a hedged statement ("cannot totally exclude").
    #[arg(long)]
    pub hedge: Option<String>,
    /// Predicate: withdrawal, presence, intervention, ceasefire, ...
    #[arg(long)]
    pub predicate: Option<String>,
    /// Actor the predicate is about (repeat for several).
    #[arg(long = "subject", value_name = "ACTOR")]
    pub subjects: Vec<String>,
    /// Place (actor id of a state, usually).
    #[arg(long)]
    pub location: Option<String>,
    /// Narrows the predicate: military-personnel, mercenaries, ...
    #[arg(long)]
    pub qualifier: Option<String>,
    /// The words as reported.
    #[arg(long)]
    pub quote: Option<String>,
    /// Source address.
    #[arg(long)]
    pub url: Option<String>,
    /// Source publisher.
    #[arg(long)]
    pub publisher: Option<String>,
    /// Source publication date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub published_on: Option<String>,
}

#[derive(Args, Debug)]
pub struct LogArgs {
    /// Only statements by this party (id or alias).
    #[arg(long)]
    pub party: Option<String>,
    /// Only this stance.
    #[arg(long)]
    pub stance: Option<String>,
    /// Only this event type: statement, correction, retraction, actor, alias.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// Only statements said on or after this date.
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Only statements said on or before this date.
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Start at this seq.
    #[arg(long, value_name = "SEQ", default_value_t = 1)]
    pub since: u64,
    /// Print at most N events.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// The party whose statements to show.
    #[arg(long, required_unless_present_any = ["predicate", "subject", "location"])]
    pub party: Option<String>,
    /// The proposition's predicate.
    #[arg(long)]
    pub predicate: Option<String>,
    /// The proposition's subject.
    #[arg(long)]
    pub subject: Option<String>,
    /// The proposition's location.
    #[arg(long)]
    pub location: Option<String>,
    /// Only statements said on or after this date.
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Only statements said on or before this date.
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Subcommand, Debug)]
pub enum ActorCommand {
    /// Define a new actor (an `actor` event in the chain).
    #[command(
        after_help = "Example:\n  demarche actor add --id RUS-MFA --name \"Russian Foreign Ministry\" --kind body \\\n    --parent RUS --alias \"Russian MFA\" --alias \"MID\""
    )]
    Add {
        /// Canonical id: 2-32 upper-case letters, digits, '-'.
        #[arg(long)]
        id: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// state, organisation, body, person, group, company, region (a territory
        /// that is not a state), authority (who governs in fact: a junta) or other.
        #[arg(long)]
        kind: String,
        /// Another name (repeat for several).
        #[arg(long = "alias", value_name = "NAME")]
        aliases: Vec<String>,
        /// The actor this one belongs to.
        #[arg(long)]
        parent: Option<String>,
        /// CAMEO actor code.
        #[arg(long)]
        cameo: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// Give an existing actor one more name (an `alias` event in the chain).
    #[command(
        after_help = "Example:\n  demarche actor alias UN \"Organisation des Nations unies\""
    )]
    Alias {
        /// The actor (id or a name it already has).
        actor: String,
        /// The new name.
        alias: String,
        #[command(flatten)]
        out: Output,
    },
    /// List the known actors: the starter set and those added to this ledger.
    List {
        /// Only this kind.
        #[arg(long)]
        kind: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// Resolve a name to its actor.
    #[command(after_help = "Example:\n  demarche actor show \"U.N.\"")]
    Show {
        /// An id, name or alias.
        name: String,
        #[command(flatten)]
        out: Output,
    },
}
