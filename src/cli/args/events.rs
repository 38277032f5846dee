//! The flags of the commands that write or list events: `append`, `log`,
//! `history` and `actor`.

use super::Output;
use clap::{Args, Subcommand};

const STATEMENT_FLAGS: [&str; 21] = [
    "said_on",
    "party",
    "joint_with",
    "speaker",
    "speaker_role",
    "speaker_actor",
    "stance",
    "hedge",
    "condition",
    "deadline",
    "predicate",
    "subjects",
    "location",
    "qualifier",
    "document",
    "quote",
    "quote_kind",
    "language",
    "url",
    "publisher",
    "published_on",
];

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("amend").args(["retract", "correct"])))]
pub struct AppendArgs {
    /// The event as one JSON line (see schema/event.schema.json); `-` reads it from
    /// standard input.
    #[arg(long, value_name = "LINE", conflicts_with_all = STATEMENT_FLAGS, conflicts_with = "amend")]
    pub json: Option<String>,

    /// Retract an event (with --reason): a statement, a correction, or an
    /// actor, alias or role event. Named by seq, HEAD, HEAD~N or a hash prefix.
    #[arg(long, value_name = "SEQ", conflicts_with_all = STATEMENT_FLAGS, requires = "reason")]
    pub retract: Option<String>,

    /// Correct a statement (seq, HEAD, HEAD~N or a hash prefix): the statement
    /// flags give what changes; every other field stays as the statement
    /// stands (with earlier corrections).
    #[arg(long, value_name = "SEQ")]
    pub correct: Option<String>,

    /// Why (for --retract and --correct).
    #[arg(long, requires = "amend")]
    pub reason: Option<String>,

    /// Record the event even if the ledger already holds the same one. By
    /// default an event whose content (every field, after names are resolved)
    /// is already recorded is refused, naming the seq that holds it (exit 2).
    #[arg(long)]
    pub allow_duplicate: bool,

    /// When it was said: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM].
    #[arg(long, value_name = "DATE")]
    pub said_on: Option<String>,
    /// Party the statement is attributed to (actor id or alias).
    #[arg(long)]
    pub party: Option<String>,
    /// Another party of a joint statement (repeat for several): one event, and
    /// each party holds the position.
    #[arg(long = "joint-with", value_name = "ACTOR")]
    pub joint_with: Vec<String>,
    /// Person who spoke for the party, as reported.
    #[arg(long)]
    pub speaker: Option<String>,
    /// The speaker's role.
    #[arg(long)]
    pub speaker_role: Option<String>,
    /// The speaker as an actor of kind person (id or alias), whose roles the
    /// registry keeps: `log --speaker` then finds every statement of theirs.
    #[arg(long, value_name = "ACTOR")]
    pub speaker_actor: Option<String>,
    /// Stance: demands, calls-for, denies, asserts, acknowledges, ...
    #[arg(long)]
    pub stance: Option<String>,
    /// Hedging words of a hedged statement ("cannot totally exclude").
    #[arg(long)]
    pub hedge: Option<String>,
    /// What the stance depends on ("after EU monitors deploy").
    #[arg(long, value_name = "TEXT")]
    pub condition: Option<String>,
    /// The date by which it is to happen (an ultimatum's), YYYY-MM-DD; may lie ahead.
    #[arg(long, value_name = "DATE")]
    pub deadline: Option<String>,
    /// Predicate: withdrawal, presence, intervention, ceasefire, ...
    #[arg(long)]
    pub predicate: Option<String>,
    /// Actor the predicate is about (repeat for several).
    #[arg(long = "subject", value_name = "ACTOR")]
    pub subjects: Vec<String>,
    /// Place (actor id of a state, usually).
    #[arg(long)]
    pub location: Option<String>,
    /// Narrows the predicate: military-personnel, mercenaries, ... (see `demarche vocab`).
    #[arg(long)]
    pub qualifier: Option<String>,
    /// The document the proposition is about, such as "S/RES/2728(2024)"
    /// (a resolution needs one).
    #[arg(long, value_name = "TEXT")]
    pub document: Option<String>,
    /// The words as reported.
    #[arg(long)]
    pub quote: Option<String>,
    /// How the quote renders what was said: verbatim (the default), translation
    /// or paraphrase.
    #[arg(long, value_name = "KIND")]
    pub quote_kind: Option<String>,
    /// The language the words were said in, as a BCP 47 tag: ru, fr, ar, zh-Hant.
    #[arg(long, value_name = "TAG")]
    pub language: Option<String>,
    /// Source address. Repeat --url, --publisher and --published-on for a
    /// statement several sources report: the first of each make the first
    /// source, the second of each the second, and so on.
    #[arg(long, value_name = "URL")]
    pub url: Vec<String>,
    /// Source publisher (repeatable, see --url).
    #[arg(long, value_name = "NAME")]
    pub publisher: Vec<String>,
    /// Source publication date, YYYY-MM-DD (repeatable, see --url).
    #[arg(long, value_name = "DATE")]
    pub published_on: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LogArgs {
    /// Only statements by this party (id or alias), alone or jointly.
    #[arg(long)]
    pub party: Option<String>,
    /// Only statements this person made (an actor of kind person), in any role.
    #[arg(long, value_name = "ACTOR")]
    pub speaker: Option<String>,
    /// Only this stance.
    #[arg(long)]
    pub stance: Option<String>,
    /// Only statements on this predicate (withdrawal, presence, ...).
    #[arg(long)]
    pub predicate: Option<String>,
    /// Only statements about this subject (id or alias).
    #[arg(long)]
    pub subject: Option<String>,
    /// Only statements about this place (id or alias).
    #[arg(long)]
    pub location: Option<String>,
    /// Only statements whose quote holds this text (any case). Also `--grep`.
    #[arg(long, value_name = "TEXT", visible_alias = "grep")]
    pub search: Option<String>,
    /// Only this event type: statement, correction, retraction, actor, alias, role.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    #[command(flatten)]
    pub coder: super::query::CoderFlags,
    /// Only statements said on or after this date.
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Only statements said on or before this date.
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Start here: a seq (digits alone: `--since 2023` is seq 2023), HEAD~N or a
    /// hash prefix; or a date or time, YYYY-MM, YYYY-MM-DD or
    /// YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM] (UTC when no offset is given): the
    /// events recorded on or after it.
    #[arg(long, value_name = "SEQ|DATE")]
    pub since: Option<String>,
    /// Print at most N events.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub members: super::Members,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// The party whose statements to show (alone or jointly).
    #[arg(long, required_unless_present_any = ["predicate", "subject", "location", "speaker"])]
    pub party: Option<String>,
    /// Only statements this person made (an actor of kind person), in any role.
    #[arg(long, value_name = "ACTOR")]
    pub speaker: Option<String>,
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
    pub members: super::Members,
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
    /// Give an existing actor one more name (an `alias` event in the chain),
    /// or, with --remove, retire a name given to it by mistake (a retraction of
    /// the alias event): the name then resolves to nothing, and may be given to
    /// another actor. Statements recorded before keep the actor's id.
    #[command(
        after_help = "A name that already resolves to another actor, or that can be mistaken for one \
(the same Unicode TR39 skeleton: a Cyrillic S in RUS, fullwidth letters), is refused with exit 2.\n\n\
Examples:
  demarche actor alias UN \"Organisation des Nations unies\"
  demarche actor alias RUS \"Ankara\" --remove --reason \"given to the wrong actor\"
  demarche actor alias TUR \"Ankara\""
    )]
    Alias {
        /// The actor (id or a name it already has).
        actor: String,
        /// The new name (with --remove: the name to retire).
        alias: String,
        /// Retire the alias event that gave ACTOR this name, instead of adding it.
        #[arg(long, requires = "reason")]
        remove: bool,
        /// Why the name is retired (with --remove).
        #[arg(long, requires = "remove")]
        reason: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// Retire an actor added by mistake (a retraction of its `actor` event).
    ///
    /// Its id, name and aliases no longer resolve: a new event cannot name it,
    /// and its name and aliases may be given to another actor. Its id is not
    /// given to another actor, and statements recorded before keep it and mean
    /// what they meant (selecting by the id still finds them). Actors it is the
    /// parent of keep it as parent. An actor of the starter set has no event
    /// and cannot be retired. A role or a single alias is retired with
    /// `demarche append --retract SEQ --reason ...` (or `actor alias --remove`).
    #[command(after_help = "Example:
  demarche actor retire XMIL --reason \"duplicate of WAGNER\"")]
    Retire {
        /// The actor (its id, or a name it has).
        actor: String,
        /// Why it is retired.
        #[arg(long)]
        reason: String,
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
    /// Record a role a person holds for a party from a date (a `role` event):
    /// who was foreign minister of which state, from when. Give --until to
    /// record when it ended (again with the same --from).
    #[command(
        after_help = "Example:\n  demarche actor add --id LAVROV --name \"Sergey Lavrov\" --kind person --alias \"Lavrov\"\n  demarche actor role LAVROV --of RUS --role \"foreign minister\" --from 2004-03-09"
    )]
    Role {
        /// The person (id or a name it has).
        actor: String,
        /// The party the role is held for.
        #[arg(long, value_name = "ACTOR")]
        of: String,
        /// The role ("foreign minister").
        #[arg(long)]
        role: String,
        /// The first day in the role, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        from: String,
        /// The last day in the role, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
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
