//! The position graph: who takes which stance on whom.
//!
//! Layout: parties (who speak) in a left column, subjects and places (who or
//! where is spoken of) in a right column; an actor that is both appears in
//! both columns, so every edge runs left to right and the columns can be
//! ordered by barycentres to reduce crossings. Each position is one row of its
//! party's box, with its label (stance, predicate, place) on the row, so labels
//! never overlap however many there are; each edge ends at a port of its own
//! on the target's box. The canvas grows with the counts.

use super::palette::{self, Style};
use super::svg::{self, esc, fit, text_width, w, LegendItem, MARGIN};
use super::{Caption, Labels};
use crate::dates::format_said_on;
use crate::event::{SaidOn, Seq};
use crate::projection::{stance_kind, Position, Terms};
use crate::vocab::{Actors, Vocabulary};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// The role of an actor in a graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    /// Holds positions and is spoken of in none.
    Party,
    /// Is the subject of positions and holds none.
    Subject,
    /// Is only the place of positions that name no subject.
    Location,
    /// Holds positions and is the subject or place of others.
    Both,
}

impl NodeKind {
    /// `party`, `subject`, `location` or `both`.
    pub fn as_str(&self) -> &'static str {
        match self {
            NodeKind::Party => "party",
            NodeKind::Subject => "subject",
            NodeKind::Location => "location",
            NodeKind::Both => "both",
        }
    }
}

/// One actor of a graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Canonical actor id.
    pub id: String,
    /// The actor's name (its id when the registry does not know it).
    pub label: String,
    /// Its role.
    pub kind: NodeKind,
}

/// One position: a party's stance on a proposition about a subject or place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The party.
    pub from: String,
    /// What the edge points at: the subject, else the location, else nothing
    /// (the position is then drawn as a mark on the party).
    pub to: Option<String>,
    /// Stance id (`calls-for`).
    pub stance: String,
    /// Stance label (`calls for`).
    pub stance_label: String,
    /// Stance kind (`appeal`).
    pub stance_kind: &'static str,
    /// Predicate id (`withdrawal`).
    pub predicate: String,
    /// Predicate label.
    pub predicate_label: String,
    /// The subject, if any.
    pub subject: Option<String>,
    /// The place, if any.
    pub location: Option<String>,
    /// What exactly (`military-personnel`).
    pub qualifier: Option<String>,
    /// The document (the resolution voted on).
    pub document: Option<String>,
    /// The hedge of the statement that set the stance.
    pub hedge: Option<String>,
    /// The condition, deadline and joint parties of the statement that set it.
    pub terms: Terms,
    /// When the stance was last said.
    pub said_on: SaidOn,
    /// The seq of that statement.
    pub seq: Seq,
    /// Every statement supporting the stance.
    pub statements: Vec<Seq>,
    /// How many positions the edge stands for: 1, or more when [`fold`]
    /// joined the positions of actors left out of the picture.
    pub positions: usize,
}

/// A neutral model of positions, ready to draw or serialise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graph {
    /// Actors, by id.
    pub nodes: Vec<Node>,
    /// Positions, by party, target, predicate, then seq.
    pub edges: Vec<Edge>,
    /// The display name of every actor id the graph mentions.
    pub names: BTreeMap<String, String>,
    /// What the graph shows, of which ledger state.
    pub caption: Caption,
    /// How actors are named on the picture.
    pub labels: Labels,
}

/// The id of the node that stands for the parties [`fold`] left out.
pub const OTHER_PARTIES: &str = "(other parties)";
/// The id of the node that stands for the subjects and places [`fold`] left out.
pub const OTHER_TARGETS: &str = "(other subjects and places)";

/// What [`fold`] left out of a graph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Folded {
    /// Parties joined into [`OTHER_PARTIES`].
    pub parties: usize,
    /// Subjects and places joined into [`OTHER_TARGETS`].
    pub targets: usize,
    /// Positions drawn as part of a joined edge.
    pub positions: usize,
    /// Edges of the picture before and after.
    pub edges: (usize, usize),
}

/// Builds the graph of `positions`, naming actors from `actors`.
pub fn graph(positions: &[Position], actors: &Actors, caption: &Caption) -> Graph {
    graph_with(positions, actors, caption, Labels::Name)
}

/// Builds the graph of `positions`, naming actors from `actors` as `labels` says.
pub fn graph_with(
    positions: &[Position],
    actors: &Actors,
    caption: &Caption,
    labels: Labels,
) -> Graph {
    let vocab = Vocabulary::builtin();
    let mut names = BTreeMap::new();
    let mut name = |id: &str| {
        names
            .entry(id.to_string())
            .or_insert_with(|| Labels::Name.name(actors, id));
    };
    let mut edges: Vec<Edge> = Vec::with_capacity(positions.len());
    for p in positions {
        let k = &p.key;
        name(&k.party);
        k.subject
            .iter()
            .chain(&k.location)
            .chain(&p.terms.joint_with)
            .for_each(|x| name(x));
        edges.push(Edge {
            from: k.party.clone(),
            to: k.subject.clone().or_else(|| k.location.clone()),
            stance: p.stance.clone(),
            stance_label: vocab
                .stance(&p.stance)
                .map_or_else(|| p.stance.clone(), |s| s.label.clone()),
            stance_kind: stance_kind(&p.stance),
            predicate: k.predicate.clone(),
            predicate_label: vocab
                .predicate(&k.predicate)
                .map_or_else(|| k.predicate.clone(), |s| s.label.clone()),
            subject: k.subject.clone(),
            location: k.location.clone(),
            qualifier: k.qualifier.clone(),
            document: k.document.clone(),
            hedge: p.hedge.clone(),
            terms: p.terms.clone(),
            said_on: p.said_on,
            seq: p.seq,
            statements: p.statements.clone(),
            positions: 1,
        });
    }
    sort_edges(&mut edges);
    let nodes = nodes_of(&edges, &names, labels);
    Graph {
        nodes,
        edges,
        names,
        caption: caption.clone(),
        labels,
    }
}

fn sort_edges(edges: &mut [Edge]) {
    edges.sort_by(|a, b| {
        (
            &a.from,
            &a.to,
            &a.predicate,
            &a.qualifier,
            &a.location,
            &a.document,
            a.seq,
        )
            .cmp(&(
                &b.from,
                &b.to,
                &b.predicate,
                &b.qualifier,
                &b.location,
                &b.document,
                b.seq,
            ))
    });
}

/// The nodes of `edges`: each actor once, with its role.
fn nodes_of(edges: &[Edge], names: &BTreeMap<String, String>, labels: Labels) -> Vec<Node> {
    let parties: BTreeSet<&str> = edges.iter().map(|e| e.from.as_str()).collect();
    let subjects: BTreeSet<&str> = edges.iter().filter_map(|e| e.subject.as_deref()).collect();
    let places: BTreeSet<&str> = edges
        .iter()
        .filter(|e| e.subject.is_none())
        .filter_map(|e| e.location.as_deref())
        .collect();
    let ids: BTreeSet<&str> = parties
        .iter()
        .chain(&subjects)
        .chain(&places)
        .copied()
        .collect();
    ids.into_iter()
        .map(|id| Node {
            id: id.to_string(),
            label: match labels {
                Labels::Id if !names.get(id).is_some_and(|n| n.starts_with('(')) => id.to_string(),
                _ => names.get(id).cloned().unwrap_or_else(|| id.to_string()),
            },
            kind: match (
                parties.contains(id),
                subjects.contains(id),
                places.contains(id),
            ) {
                (true, false, false) => NodeKind::Party,
                (true, _, _) => NodeKind::Both,
                (false, true, _) => NodeKind::Subject,
                (false, false, _) => NodeKind::Location,
            },
        })
        .collect()
}

/// The graph with at most `max_nodes` actors and, as far as that goes, at
/// most three rows (positions) per actor: the parties and the subjects or
/// places with the most positions stay, half of the room for each side (ties
/// go to the smaller id), the others
/// become one node each side, [`OTHER_PARTIES`] and [`OTHER_TARGETS`], and the
/// positions that touch them are joined into one edge per party, target and
/// stance, which lists its predicates (predicate `*` when there are several)
/// and says how many positions it stands for. Fewer
/// actors stay when that is what keeps the rows within bounds. A graph within
/// both limits is returned as it was, with nothing folded.
pub fn fold(mut g: Graph, max_nodes: usize) -> (Graph, Folded) {
    let max_rows = max_nodes.saturating_mul(3);
    let mut folded = Folded {
        edges: (g.edges.len(), g.edges.len()),
        ..Folded::default()
    };
    if g.nodes.len() <= max_nodes && g.edges.len() <= max_rows {
        return (g, folded);
    }
    // Positions touching each actor, on each side (true: as a party).
    let mut weight: BTreeMap<(bool, String), usize> = BTreeMap::new();
    for e in &g.edges {
        *weight.entry((true, e.from.clone())).or_default() += 1;
        if let Some(t) = &e.to {
            *weight.entry((false, t.clone())).or_default() += 1;
        }
    }
    let mut ranked: Vec<((bool, String), usize)> = weight.into_iter().collect();
    ranked.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then(a.0 .1.cmp(&b.0 .1))
            .then(b.0 .0.cmp(&a.0 .0))
    });
    // Keep room for the two nodes of what is folded; fewer actors while the
    // rows are too many.
    let edges = std::mem::take(&mut g.edges);
    let mut room = max_nodes.saturating_sub(2).max(2);
    let mut result = fold_keeping(&edges, &ranked, room);
    while result.0.len() > max_rows && room > 2 {
        room -= 1;
        result = fold_keeping(&edges, &ranked, room);
    }
    let (edges, gone_parties, gone_targets, positions) = result;
    folded.positions = positions;
    folded.parties = gone_parties;
    folded.targets = gone_targets;
    folded.edges.1 = edges.len();
    g.names.insert(
        OTHER_PARTIES.to_string(),
        format!("({} other parties)", folded.parties),
    );
    g.names.insert(
        OTHER_TARGETS.to_string(),
        format!("({} other subjects and places)", folded.targets),
    );
    g.nodes = nodes_of(&edges, &g.names, g.labels);
    g.edges = edges;
    (g, folded)
}

/// The edges with the first `room` actors of `ranked` kept and the others
/// joined; with the number of parties and of targets joined, and of the
/// positions that went into joined edges.
fn fold_keeping(
    edges: &[Edge],
    ranked: &[((bool, String), usize)],
    room: usize,
) -> (Vec<Edge>, usize, usize, usize) {
    // Half the room for each side, what one side cannot use to the other.
    let parties: Vec<&str> = ranked
        .iter()
        .filter(|((side, _), _)| *side)
        .map(|((_, id), _)| id.as_str())
        .collect();
    let targets: Vec<&str> = ranked
        .iter()
        .filter(|((side, _), _)| !*side)
        .map(|((_, id), _)| id.as_str())
        .collect();
    let kt = targets.len().min(room / 2);
    let kp = parties.len().min(room - kt);
    let kt = targets.len().min(room - kp);
    let gone_parties: BTreeSet<&str> = parties[kp..].iter().copied().collect();
    let gone_targets: BTreeSet<&str> = targets[kt..].iter().copied().collect();
    let mut out: Vec<Edge> = Vec::new();
    let mut positions = 0;
    let mut joined: BTreeMap<(String, Option<String>, String), usize> = BTreeMap::new();
    for e in edges {
        let from_gone = gone_parties.contains(e.from.as_str());
        let to_gone = e.to.as_deref().is_some_and(|t| gone_targets.contains(t));
        if !from_gone && !to_gone {
            out.push(e.clone());
            continue;
        }
        positions += e.positions;
        let from = if from_gone {
            OTHER_PARTIES.to_string()
        } else {
            e.from.clone()
        };
        let to = if to_gone {
            Some(OTHER_TARGETS.to_string())
        } else {
            e.to.clone()
        };
        let key = (from.clone(), to.clone(), e.stance.clone());
        match joined.get(&key) {
            Some(&i) => {
                let j: &mut Edge = &mut out[i];
                // One edge per stance: the predicates it joins are listed.
                let listed: Vec<&str> = j.predicate_label.split(", ").collect();
                if !listed.contains(&e.predicate_label.as_str()) && !listed.contains(&"…") {
                    if listed.len() >= 3 {
                        j.predicate_label.push_str(", …");
                    } else {
                        j.predicate_label = format!("{}, {}", j.predicate_label, e.predicate_label);
                    }
                }
                if j.predicate != e.predicate {
                    j.predicate = "*".to_string();
                }
                j.positions += e.positions;
                j.statements.extend(&e.statements);
                if (e.said_on, e.seq) > (j.said_on, j.seq) {
                    j.said_on = e.said_on;
                    j.seq = e.seq;
                }
            }
            None => {
                let to_is_subject = e.subject.is_some();
                joined.insert(key, out.len());
                out.push(Edge {
                    subject: match (to_gone, to_is_subject) {
                        (true, true) => to.clone(),
                        _ => e.subject.clone(),
                    },
                    location: match (to_gone, to_is_subject) {
                        (true, false) => to.clone(),
                        (true, true) => None,
                        _ => e.location.clone(),
                    },
                    from,
                    to,
                    qualifier: None,
                    document: None,
                    hedge: None,
                    terms: Terms::default(),
                    ..e.clone()
                });
            }
        }
    }
    for e in &mut out {
        e.statements.sort_unstable();
        e.statements.dedup();
    }
    sort_edges(&mut out);
    (out, gone_parties.len(), gone_targets.len(), positions)
}

impl Graph {
    /// How `id` is named on the picture (its id, with `--labels id`).
    fn short<'a>(&'a self, id: &'a str) -> &'a str {
        match self.labels {
            Labels::Id if !self.name(id).starts_with('(') => id,
            _ => self.name(id),
        }
    }

    fn name<'a>(&'a self, id: &'a str) -> &'a str {
        self.names.get(id).map_or(id, String::as_str)
    }

    fn named(&self, id: &str) -> String {
        let n = self.name(id);
        if n == id {
            id.to_string()
        } else {
            format!("{n} ({id})")
        }
    }
}

fn words(id: &str) -> String {
    id.replace('-', " ")
}

/// The short text on an edge's row: stance, predicate, document, qualifier,
/// place, then the deadline, whether it is hedged or conditional, and the
/// other parties of a joint statement (by id: the list comes last, as a long
/// row is cut at its end).
fn edge_label(g: &Graph, e: &Edge) -> String {
    let mut s = format!("{} {}", e.stance_label, e.predicate_label);
    if let Some(d) = &e.document {
        w!(s, " {d}");
    }
    if let Some(q) = &e.qualifier {
        w!(s, ", {}", words(q));
    }
    if let (Some(_), Some(l)) = (&e.subject, &e.location) {
        w!(s, " ({})", g.short(l));
    }
    if e.positions > 1 {
        w!(s, ", {} positions", e.positions);
    }
    if let Some(d) = &e.terms.deadline {
        w!(s, ", by {d}");
    }
    if e.hedge.is_some() {
        s.push_str(", hedged");
    }
    if e.terms.condition.is_some() {
        s.push_str(", conditional");
    }
    if !e.terms.joint_with.is_empty() {
        w!(s, ", jointly with {}", e.terms.joint_with.join(", "));
    }
    s
}

/// The full text of an edge, for its tooltip.
fn edge_text(g: &Graph, e: &Edge) -> String {
    let mut s = format!(
        "{} {} {}",
        g.named(&e.from),
        e.stance_label,
        e.predicate_label
    );
    if let Some(x) = &e.subject {
        w!(s, "\nsubject: {}", g.named(x));
    }
    if let Some(x) = &e.location {
        w!(s, "\nlocation: {}", g.named(x));
    }
    if let Some(x) = &e.qualifier {
        w!(s, "\nqualifier: {x}");
    }
    if let Some(x) = &e.document {
        w!(s, "\ndocument: {x}");
    }
    if let Some(x) = &e.hedge {
        w!(s, "\nhedge: \u{201c}{x}\u{201d}");
    }
    if let Some(x) = &e.terms.deadline {
        w!(s, "\nby {x}");
    }
    if let Some(x) = &e.terms.condition {
        w!(s, "\ncondition: {x}");
    }
    if !e.terms.joint_with.is_empty() {
        let with: Vec<String> = e.terms.joint_with.iter().map(|x| g.named(x)).collect();
        w!(s, "\njointly with {}", with.join(", "));
    }
    w!(
        s,
        "\nstance: {} ({}); predicate: {}\nsaid on {}; seq {}",
        e.stance,
        e.stance_kind,
        e.predicate,
        format_said_on(&e.said_on),
        e.seq
    );
    if e.statements.len() > 1 || e.statements.first() != Some(&e.seq) {
        let list: Vec<String> = e.statements.iter().take(20).map(u64::to_string).collect();
        let more = match e.statements.len().saturating_sub(20) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        w!(s, "; supported by seq {}{more}", list.join(", "));
    }
    if e.positions > 1 {
        w!(
            s,
            "\n{} positions joined: actors left out of the picture (raise --max-nodes to see them)",
            e.positions
        );
    }
    s
}

// ---------------------------------------------------------------- layout

const ROW: i64 = 22;
const GAP: i64 = 12;
const NODE_FONT: i64 = 12;
const EDGE_FONT: i64 = 10;
const PAD: i64 = 8;
const HEAD: i64 = 30;
const MAX_NODE_LABEL: i64 = 260;
const MAX_EDGE_LABEL: i64 = 340;
const CURVE: i64 = 170;

/// Centres (doubled, to stay whole) of boxes stacked in `order` with `rows` rows each.
fn centres(order: &[usize], rows: &[i64], total: i64) -> Vec<i64> {
    let own: i64 = order.iter().map(|&i| rows[i] * ROW + GAP).sum();
    let mut y = total - own; // half of the slack on each side, doubled
    let mut c = vec![0; rows.len()];
    for &i in order {
        let h = rows[i] * ROW;
        c[i] = y + h;
        y += 2 * (h + GAP);
    }
    c
}

/// Edge crossings between two columns, for links (party rank, target rank).
fn crossings(links: &[(usize, usize)], nt: usize) -> u64 {
    let mut sorted = links.to_vec();
    sorted.sort_unstable();
    let mut tree = vec![0u64; nt + 1];
    let (mut total, mut seen) = (0u64, 0u64);
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j < sorted.len() && sorted[j].0 == sorted[i].0 {
            // links seen so far (from parties above) whose target is below this one
            let mut at = sorted[j].1 + 1;
            let mut upto = 0;
            while at > 0 {
                upto += tree[at];
                at &= at - 1;
            }
            total += seen - upto;
            j += 1;
        }
        for &(_, t) in &sorted[i..j] {
            let mut at = t + 1;
            while at <= nt {
                tree[at] += 1;
                at += at & at.wrapping_neg();
            }
            seen += 1;
        }
        i = j;
    }
    total
}

/// Orders both columns by alternating barycentre sweeps, keeping the order
/// with the fewest crossings. Ties keep the previous order, which starts
/// from the ids: the result depends on the input alone.
fn order(prow: &[i64], trow: &[i64], links: &[(usize, Option<usize>)]) -> (Vec<usize>, Vec<usize>) {
    let (np, nt) = (prow.len(), trow.len());
    let total = (prow.iter().sum::<i64>() * ROW + np as i64 * GAP)
        .max(trow.iter().sum::<i64>() * ROW + nt as i64 * GAP);
    let linked: Vec<(usize, usize)> = links
        .iter()
        .filter_map(|&(p, t)| t.map(|t| (p, t)))
        .collect();
    let rank = |order: &[usize]| {
        let mut r = vec![0; order.len()];
        for (i, &x) in order.iter().enumerate() {
            r[x] = i;
        }
        r
    };
    let count = |po: &[usize], to: &[usize]| {
        let (pr, tr) = (rank(po), rank(to));
        let l: Vec<(usize, usize)> = linked.iter().map(|&(p, t)| (pr[p], tr[t])).collect();
        crossings(&l, nt)
    };
    let mut po: Vec<usize> = (0..np).collect();
    let mut to: Vec<usize> = (0..nt).collect();
    let mut best = (count(&po, &to), po.clone(), to.clone());
    for sweep in 0..8 {
        if best.0 == 0 && sweep > 0 {
            break;
        }
        let (moving, fixed, fixed_order, fixed_rows, moving_rows) = if sweep % 2 == 0 {
            (&mut to, np, &po, prow, trow)
        } else {
            (&mut po, nt, &to, trow, prow)
        };
        let fc = centres(fixed_order, fixed_rows, total);
        let mc = centres(moving, moving_rows, total);
        let mut sum = vec![(0i64, 0i64); moving_rows.len()];
        for &(p, t) in &linked {
            let (m, f) = if sweep % 2 == 0 { (t, p) } else { (p, t) };
            debug_assert!(f < fixed);
            sum[m].0 += fc[f];
            sum[m].1 += 1;
        }
        let key: Vec<i64> = (0..moving_rows.len())
            .map(|m| match sum[m] {
                (_, 0) => mc[m] * 1024,
                (s, n) => s * 1024 / n,
            })
            .collect();
        let pos = rank(moving);
        moving.sort_by_key(|&m| (key[m], pos[m]));
        let c = count(&po, &to);
        if c < best.0 {
            best = (c, po.clone(), to.clone());
        }
    }
    (best.1, best.2)
}

struct Placed {
    /// Row centre at the party.
    y0: i64,
    /// Port centre at the target.
    y1: i64,
}

/// Draws the graph as SVG: see the module docs for the layout.
pub fn graph_svg(g: &Graph) -> String {
    let title = "Positions: who takes which stance on whom";
    if g.edges.is_empty() {
        return svg::empty("demarche-graph", title, "no positions match", &g.caption);
    }
    // Columns.
    let parties: Vec<&Node> = g
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Party | NodeKind::Both))
        .collect();
    let targets: Vec<&Node> = g
        .nodes
        .iter()
        .filter(|n| n.kind != NodeKind::Party)
        .collect();
    let pidx: BTreeMap<&str, usize> = parties
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let tidx: BTreeMap<&str, usize> = targets
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let links: Vec<(usize, Option<usize>)> = g
        .edges
        .iter()
        .map(|e| (pidx[e.from.as_str()], e.to.as_deref().map(|t| tidx[t])))
        .collect();
    let mut prow = vec![0i64; parties.len()];
    let mut trow = vec![0i64; targets.len()];
    for &(p, t) in &links {
        prow[p] += 1;
        if let Some(t) = t {
            trow[t] += 1;
        }
    }
    trow.iter_mut().for_each(|r| *r = (*r).max(1));
    let (po, to) = order(&prow, &trow, &links);
    let prank: Vec<usize> = {
        let mut r = vec![0; po.len()];
        po.iter().enumerate().for_each(|(i, &x)| r[x] = i);
        r
    };
    let trank: Vec<usize> = {
        let mut r = vec![0; to.len()];
        to.iter().enumerate().for_each(|(i, &x)| r[x] = i);
        r
    };

    // Sizes.
    let plabel: Vec<String> = parties
        .iter()
        .map(|n| fit(&n.label, NODE_FONT, g.labels.max_width(MAX_NODE_LABEL)))
        .collect();
    let tlabel: Vec<String> = targets
        .iter()
        .map(|n| fit(&n.label, NODE_FONT, g.labels.max_width(MAX_NODE_LABEL)))
        .collect();
    let elabel: Vec<String> = g
        .edges
        .iter()
        .map(|e| {
            fit(
                &edge_label(g, e),
                EDGE_FONT,
                g.labels.max_width(MAX_EDGE_LABEL),
            )
        })
        .collect();
    let col_w = |labels: &[String], head: &str| {
        labels
            .iter()
            .map(|l| text_width(l, NODE_FONT) + 2 * PAD)
            .chain([text_width(head, NODE_FONT), 60])
            .max()
            .unwrap_or(60)
    };
    let (phead, thead) = ("party", "subject or place");
    let pw = col_w(&plabel, phead);
    let tw = col_w(&tlabel, thead);
    let lw = elabel
        .iter()
        .map(|l| text_width(l, EDGE_FONT) + 16)
        .max()
        .unwrap_or(0);
    let x_p = MARGIN;
    let x_l = x_p + pw;
    let x_s = x_l + lw;
    let x_t = x_s + CURVE;
    let col_h = |rows: &[i64]| rows.iter().sum::<i64>() * ROW + (rows.len() as i64 - 1) * GAP;
    let (ph, th) = (col_h(&prow), col_h(&trow));
    let body_h = ph.max(th);
    let top = MARGIN + HEAD;

    // Box tops.
    let stack = |order: &[usize], rows: &[i64], h: i64| {
        let mut tops = vec![0; rows.len()];
        let mut y = top + (body_h - h) / 2;
        for &i in order {
            tops[i] = y;
            y += rows[i] * ROW + GAP;
        }
        tops
    };
    let ptop = stack(&po, &prow, ph);
    let ttop = stack(&to, &trow, th);

    // Rows at the parties, ports at the targets.
    let mut by_party: Vec<Vec<usize>> = vec![Vec::new(); parties.len()];
    for (i, &(p, _)) in links.iter().enumerate() {
        by_party[p].push(i);
    }
    let mut placed: Vec<Placed> = (0..links.len()).map(|_| Placed { y0: 0, y1: 0 }).collect();
    let mut row_of = vec![0usize; links.len()];
    for (p, list) in by_party.iter_mut().enumerate() {
        list.sort_by_key(|&i| (links[i].1.map_or(usize::MAX, |t| trank[t]), g.edges[i].seq));
        for (r, &i) in list.iter().enumerate() {
            row_of[i] = r;
            placed[i].y0 = ptop[p] + r as i64 * ROW + ROW / 2;
        }
    }
    let mut by_target: Vec<Vec<usize>> = vec![Vec::new(); targets.len()];
    for (i, &(_, t)) in links.iter().enumerate() {
        if let Some(t) = t {
            by_target[t].push(i);
        }
    }
    for (t, list) in by_target.iter_mut().enumerate() {
        list.sort_by_key(|&i| (prank[links[i].0], row_of[i]));
        for (r, &i) in list.iter().enumerate() {
            placed[i].y1 = ttop[t] + r as i64 * ROW + ROW / 2;
        }
    }

    // Legend.
    let mut kinds: BTreeMap<usize, BTreeSet<&str>> = BTreeMap::new();
    for e in &g.edges {
        kinds
            .entry(palette::order(e.stance_kind))
            .or_default()
            .insert(e.stance_label.as_str());
    }
    let mut items: Vec<LegendItem> = kinds
        .iter()
        .map(|(&k, labels)| {
            let s = &palette::palette()[k];
            LegendItem {
                class: s.kind.to_string(),
                kind: s.kind.to_string(),
                sample: format!(
                    "<path d=\"M0,0 L34,0\" {} marker-end=\"url(#{})\"/>",
                    svg::stroke(s),
                    svg::marker_id(s)
                ),
                text: format!(
                    "{}: {}",
                    s.kind,
                    labels.iter().copied().collect::<Vec<_>>().join(", ")
                ),
                title: format!("{}: {}", s.kind, s.describe),
            }
        })
        .collect();
    if g.edges.iter().any(|e| e.hedge.is_some()) {
        items.push(LegendItem {
            class: "hedged".into(),
            kind: "hedged".into(),
            sample: "<path d=\"M0,0 L34,0\" fill=\"none\" stroke=\"#555555\" stroke-width=\"2\" stroke-opacity=\"0.45\"/>".into(),
            text: "hedged: faded".into(),
            title: "a hedged statement (\u{201c}cannot totally exclude\u{201d}) is drawn faded".into(),
        });
    }
    if g.nodes.iter().any(|n| n.kind == NodeKind::Both) {
        items.push(LegendItem {
            class: "both".into(),
            kind: "both".into(),
            sample: "<rect x=\"4\" y=\"-6\" width=\"28\" height=\"12\" rx=\"3\" fill=\"#fdf3e1\" stroke=\"#444444\"/>".into(),
            text: "speaks and is spoken of: in both columns".into(),
            title: "an actor that holds positions and is the subject or place of others appears in both columns".into(),
        });
    }

    // Canvas.
    let cap_w = svg::caption_width(&g.caption);
    let width = (x_t + tw + MARGIN)
        .max(cap_w + 2 * MARGIN)
        .max(svg::legend_min_width(&items) + 2 * MARGIN);
    let legend_y = top + body_h + 24;
    let legend_h = svg::legend_height(&items, width - 2 * MARGIN);
    let caption_y = legend_y + legend_h + 10;
    let height = caption_y + svg::caption_height() + MARGIN;

    let mut out = String::with_capacity(1024 + 700 * g.edges.len() + 400 * g.nodes.len());
    svg::open(&mut out, "demarche-graph", width, height, title);
    out.push_str("<defs>\n");
    let used: Vec<&Style> = kinds.keys().map(|&k| &palette::palette()[k]).collect();
    for s in &used {
        svg::marker(&mut out, s);
    }
    out.push_str("</defs>\n");
    w!(
        out,
        "<g class=\"headings\" font-size=\"{NODE_FONT}\" fill=\"#555555\"><text x=\"{x_p}\" y=\"{}\">{}</text><text x=\"{x_t}\" y=\"{}\">{}</text></g>\n",
        top - 12,
        phead,
        top - 12,
        thead
    );

    // Edges under the nodes.
    out.push_str("<g class=\"edges\">\n");
    for (i, e) in g.edges.iter().enumerate() {
        let s = palette::style(e.stance_kind);
        let Placed { y0, y1 } = placed[i];
        let path = match links[i].1 {
            Some(_) => {
                let dx = CURVE / 2;
                format!(
                    "M{x_l},{y0} L{x_s},{y0} C{},{y0} {},{y1} {},{y1}",
                    x_s + dx,
                    x_t - dx,
                    x_t - 1
                )
            }
            None => format!("M{x_l},{y0} L{},{y0}", x_s + 36),
        };
        let mut class = format!("edge {}", s.kind);
        if e.hedge.is_some() {
            class.push_str(" hedged");
        }
        if e.to.is_none() {
            class.push_str(" mark");
        }
        w!(
            out,
            "<g class=\"{class}\" data-seq=\"{}\" data-from=\"{}\"",
            e.seq,
            esc(&e.from)
        );
        if let Some(t) = &e.to {
            w!(out, " data-to=\"{}\"", esc(t));
        }
        if let Some(d) = &e.document {
            w!(out, " data-document=\"{}\"", esc(d));
        }
        if let Some(d) = &e.terms.deadline {
            w!(out, " data-deadline=\"{d}\"");
        }
        w!(
            out,
            " data-stance=\"{}\" data-kind=\"{}\" data-predicate=\"{}\"{}><title>{}</title><path d=\"{path}\" {} marker-end=\"url(#{})\"/><text x=\"{}\" y=\"{}\" font-size=\"{EDGE_FONT}\" fill=\"#222222\">{}</text></g>\n",
            esc(&e.stance),
            s.kind,
            esc(&e.predicate),
            if e.hedge.is_some() { " stroke-opacity=\"0.45\"" } else { "" },
            esc(&edge_text(g, e)),
            svg::stroke(s),
            svg::marker_id(s),
            x_l + 8,
            y0 - 4,
            esc(&elabel[i])
        );
    }
    out.push_str("</g>\n");

    // Nodes.
    out.push_str("<g class=\"nodes\">\n");
    let node = |out: &mut String,
                n: &Node,
                side: &str,
                x: i64,
                y: i64,
                wd: i64,
                rows: i64,
                label: &str,
                tip: String| {
        let both = n.kind == NodeKind::Both;
        let h = rows * ROW;
        w!(
            out,
            "<g class=\"node {side}{}\" data-id=\"{}\" data-kind=\"{}\"><title>{}</title><rect x=\"{x}\" y=\"{y}\" width=\"{wd}\" height=\"{h}\" rx=\"4\" fill=\"{}\" stroke=\"#444444\"/><text id=\"label-{side}-{}\" x=\"{}\" y=\"{}\" font-size=\"{NODE_FONT}\" fill=\"#111111\">{}</text></g>\n",
            if both { " both" } else { "" },
            esc(&n.id),
            n.kind.as_str(),
            esc(&tip),
            if both { "#fdf3e1" } else { "#f2f2f2" },
            esc(&n.id),
            x + PAD,
            y + h / 2 + 4,
            esc(label)
        );
    };
    for &p in &po {
        let n = parties[p];
        let tip = format!(
            "{}\nholds {} position(s) drawn here",
            g.named(&n.id),
            prow[p]
        );
        node(
            &mut out, n, "party", x_p, ptop[p], pw, prow[p], &plabel[p], tip,
        );
    }
    for &t in &to {
        let n = targets[t];
        let as_subject = g.edges.iter().any(|e| e.subject.as_deref() == Some(&n.id));
        let side = if as_subject { "subject" } else { "location" };
        let tip = format!(
            "{}\n{} of {} position(s)",
            g.named(&n.id),
            if as_subject { "subject" } else { "place" },
            by_target[t].len()
        );
        node(
            &mut out, n, side, x_t, ttop[t], tw, trow[t], &tlabel[t], tip,
        );
    }
    out.push_str("</g>\n");

    svg::legend(&mut out, &items, MARGIN, legend_y, width - 2 * MARGIN);
    svg::caption(&mut out, &g.caption, MARGIN, caption_y);
    out.push_str("</svg>\n");
    out
}

// ---------------------------------------------------------------- DOT and JSON

fn dot_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn dot_arrow(s: &Style) -> &'static str {
    match s.mark {
        palette::Mark::Arrow => "normal",
        palette::Mark::OpenArrow => "vee",
        palette::Mark::Cross => "tee",
        palette::Mark::Diamond => "diamond",
        palette::Mark::Dot => "dot",
        palette::Mark::Bar => "obox",
        palette::Mark::Triangle => "empty",
    }
}

fn dot_style(s: &Style) -> &'static str {
    match s.dash {
        None => "solid",
        Some(d) if d.starts_with(['1', '2', '3']) && d.len() <= 3 => "dotted",
        Some(_) => "dashed",
    }
}

/// Writes the graph as Graphviz DOT (`dot -Tsvg` draws it): one node
/// statement per actor, one `->` per position, with the same colours and
/// (as near as DOT allows) the same line styles and ends as the SVG.
pub fn graph_dot(g: &Graph) -> String {
    let mut out = String::from("digraph demarche {\n");
    let [a, b] = g.caption.lines();
    w!(
        out,
        "  graph [rankdir=LR, fontname=\"DejaVu Sans\", labelloc=b, labeljust=l, label={}];\n",
        dot_str(&format!("{a}\n{b}"))
    );
    out.push_str("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f2f2f2\", fontname=\"DejaVu Sans\", fontsize=12];\n");
    out.push_str("  edge [fontname=\"DejaVu Sans\", fontsize=10];\n");
    for n in &g.nodes {
        w!(
            out,
            "  {} [label={}, class={}, tooltip={}{}];\n",
            dot_str(&n.id),
            dot_str(&n.label),
            dot_str(&format!("node {}", n.kind.as_str())),
            dot_str(&g.named(&n.id)),
            if n.kind == NodeKind::Both {
                ", fillcolor=\"#fdf3e1\""
            } else {
                ""
            }
        );
    }
    for e in &g.edges {
        let s = palette::style(e.stance_kind);
        let to = match &e.to {
            Some(t) => dot_str(t),
            None => {
                let id = dot_str(&format!("mark-{}-{}", e.from, e.seq));
                w!(out, "  {id} [shape=point, width=0.08, label=\"\"];\n");
                id
            }
        };
        w!(
            out,
            "  {} -> {to} [label={}, tooltip={}, class={}, color=\"{}\", fontcolor=\"#222222\", style={}, penwidth={}, arrowhead={}];\n",
            dot_str(&e.from),
            dot_str(&edge_label(g, e)),
            dot_str(&edge_text(g, e)),
            dot_str(&format!("edge {}", s.kind)),
            s.colour,
            dot_style(s),
            s.width(),
            dot_arrow(s)
        );
    }
    out.push_str("}\n");
    out
}

/// The graph as JSON: `{"nodes": [...], "edges": [...], "caption": {...}}`.
pub fn graph_json(g: &Graph) -> serde_json::Value {
    let nodes: Vec<serde_json::Value> = g
        .nodes
        .iter()
        .map(|n| serde_json::json!({"id": n.id, "label": n.label, "kind": n.kind.as_str()}))
        .collect();
    let edges: Vec<serde_json::Value> = g
        .edges
        .iter()
        .map(|e| {
            serde_json::json!({
                "from": e.from,
                "to": e.to,
                "stance": e.stance,
                "stance_label": e.stance_label,
                "stance_kind": e.stance_kind,
                "predicate": e.predicate,
                "predicate_label": e.predicate_label,
                "subject": e.subject,
                "location": e.location,
                "qualifier": e.qualifier,
                "document": e.document,
                "hedge": e.hedge,
                "said_on": format_said_on(&e.said_on),
                "seq": e.seq,
                "statements": e.statements,
                "positions": e.positions,
                "condition": e.terms.condition,
                "deadline": e.terms.deadline.map(|d| d.to_string()),
                "joint_with": e.terms.joint_with,
            })
        })
        .collect();
    serde_json::json!({"nodes": nodes, "edges": edges, "caption": g.caption.json()})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossings_counts_inversions_between_columns() {
        assert_eq!(crossings(&[(0, 0), (1, 1)], 2), 0);
        assert_eq!(crossings(&[(0, 1), (1, 0)], 2), 1);
        // Edges from one party, or into one target, never cross each other.
        assert_eq!(crossings(&[(0, 0), (0, 1), (1, 1)], 2), 0);
        assert_eq!(crossings(&[(0, 2), (1, 1), (2, 0)], 3), 3);
    }

    #[test]
    fn ordering_untangles_a_crossed_pair() {
        let links = [(0, Some(1)), (1, Some(0))];
        let (po, to) = order(&[1, 1], &[1, 1], &links);
        let rank = |o: &[usize], x: usize| o.iter().position(|&y| y == x).unwrap();
        let l: Vec<(usize, usize)> = links
            .iter()
            .map(|&(p, t)| (rank(&po, p), rank(&to, t.unwrap())))
            .collect();
        assert_eq!(crossings(&l, 2), 0);
    }

    #[test]
    fn dot_strings_escape_quotes_and_backslashes() {
        assert_eq!(dot_str("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
