//! The timeline: every statement at the date it was said, one lane per party
//! or per proposition, with what became of it (corrected, retracted).
//!
//! The date axis is linear in days; its ticks are days, weeks, months or
//! years, the finest step whose labels do not collide. Marks that fall on
//! (nearly) the same date, as most of a day's statements do on a thirty-year
//! axis, stack into sub-rows of their lane, each with its label beside it
//! (right of the mark, or left near the axis' end), so nothing overlaps.
//! A statement that stands and whose deadline lies on the axis has a bar at
//! the deadline's date, in the mark's row, joined to it by a dotted line;
//! its label stops short of the bar (or starts beyond it).

use super::palette;
use super::svg::{self, esc, fit, text_width, w, LegendItem, GLYPH_R, MARGIN};
use super::{Caption, Labels};
use crate::dates::{date_from_days, days_from_date, format_said_on};
use crate::event::{Event, Recorded, SaidOn, Seq};
use crate::projection::{stance_kind, Terms};
use crate::vocab::{Actors, Vocabulary};
use jiff::civil::Date;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;

/// What became of a statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// It stands as recorded.
    Standing,
    /// A later correction replaced it (the newest correction that stands).
    Corrected {
        /// The correction.
        by: Seq,
    },
    /// A later retraction removed it.
    Retracted {
        /// The retraction.
        by: Seq,
    },
    /// It is itself a correction of an earlier event.
    Correction {
        /// The event it corrects.
        of: Seq,
    },
}

impl Status {
    /// `standing`, `corrected`, `retracted` or `correction`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Standing => "standing",
            Status::Corrected { .. } => "corrected",
            Status::Retracted { .. } => "retracted",
            Status::Correction { .. } => "correction",
        }
    }
}

/// One statement (or correction) on the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineEvent {
    /// The event's seq.
    pub seq: Seq,
    /// When it was said.
    pub said_on: SaidOn,
    /// The party's actor id.
    pub party: String,
    /// Stance id.
    pub stance: String,
    /// Predicate id.
    pub predicate: String,
    /// Subject actor ids.
    pub subjects: Vec<String>,
    /// Location actor id.
    pub location: Option<String>,
    /// What exactly (`military-personnel`).
    pub qualifier: Option<String>,
    /// The document (the resolution voted on).
    pub document: Option<String>,
    /// The hedging words, if hedged.
    pub hedge: Option<String>,
    /// The statement's condition and deadline, and the other parties of a
    /// joint statement (`party` is the one it is attributed to).
    pub terms: Terms,
    /// The words as reported.
    pub quote: String,
    /// What became of it.
    pub status: Status,
}

/// What a lane holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lanes {
    /// One lane per party.
    ByParty,
    /// One lane per proposition: predicate, subjects, location, qualifier.
    ByProposition,
}

/// The statements and corrections among `records`, each with its [`Status`],
/// ordered by said date then seq. A statement retracted is `Retracted`; one
/// replaced by a correction that stands is `Corrected` by the newest such
/// correction; a correction is `Correction`, unless it was retracted or a
/// newer correction of the same statement replaced it.
pub fn timeline_events(records: &[Recorded]) -> Vec<TimelineEvent> {
    let mut sorted: Vec<&Recorded> = records.iter().collect();
    sorted.sort_by_key(|r| r.seq);
    let mut retracted_by: HashMap<Seq, Seq> = HashMap::new();
    let mut root: HashMap<Seq, Seq> = HashMap::new();
    for r in &sorted {
        match &r.event {
            Some(Event::Retraction(x)) => {
                retracted_by.entry(x.of).or_insert(r.seq);
            }
            Some(Event::Correction(c)) => {
                let to = root.get(&c.of).copied().unwrap_or(c.of);
                root.insert(r.seq, to);
            }
            _ => {}
        }
    }
    let mut newest: HashMap<Seq, Seq> = HashMap::new();
    for (&c, &of) in &root {
        if !retracted_by.contains_key(&c) {
            let n = newest.entry(of).or_insert(c);
            *n = (*n).max(c);
        }
    }
    let mut out = Vec::new();
    for r in sorted {
        let (s, status) = match &r.event {
            Some(Event::Statement(s)) => (
                s,
                match (retracted_by.get(&r.seq), newest.get(&r.seq)) {
                    (Some(&by), _) => Status::Retracted { by },
                    (None, Some(&by)) => Status::Corrected { by },
                    (None, None) => Status::Standing,
                },
            ),
            Some(Event::Correction(c)) => (
                &c.statement,
                match (retracted_by.get(&r.seq), newest.get(&root[&r.seq])) {
                    (Some(&by), _) => Status::Retracted { by },
                    (None, Some(&by)) if by != r.seq => Status::Corrected { by },
                    _ => Status::Correction { of: c.of },
                },
            ),
            _ => continue,
        };
        let p = &s.proposition;
        out.push(TimelineEvent {
            seq: r.seq,
            said_on: s.said_on,
            party: s.party.clone(),
            stance: s.stance.clone(),
            predicate: p.predicate.clone(),
            subjects: p.subjects.clone(),
            location: p.location.clone(),
            qualifier: p.qualifier.clone(),
            document: p.document.clone(),
            hedge: s.hedge.clone(),
            terms: Terms {
                condition: s.condition.clone(),
                deadline: s.deadline,
                joint_with: s.joint_with.clone(),
            },
            quote: s.quote.clone(),
            status,
        });
    }
    out.sort_by_key(|e| (e.said_on, e.seq));
    out
}

// ---------------------------------------------------------------- axis

const PLOT_W: i64 = 960;
const LANE_FONT: i64 = 12;
const MARK_FONT: i64 = 10;
const TICK_FONT: i64 = 10;
const SUB: i64 = 18;
const LANE_PAD: i64 = 6;
const MAX_LANE_LABEL: i64 = 260;
const MAX_MARK_LABEL: i64 = 380;
/// Above this many statements marks carry no labels (tooltips only).
const LABELLED_UP_TO: usize = 400;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Days(i64),
    Months(i32),
    Years(i32),
}

impl Step {
    fn days(self) -> i64 {
        match self {
            Step::Days(n) => n,
            Step::Months(n) => i64::from(n) * 30,
            Step::Years(n) => i64::from(n) * 365,
        }
    }

    fn class(self) -> &'static str {
        match self {
            Step::Days(_) => "days",
            Step::Months(_) => "months",
            Step::Years(_) => "years",
        }
    }
}

const STEPS: &[Step] = &[
    Step::Days(1),
    Step::Days(2),
    Step::Days(7),
    Step::Days(14),
    Step::Months(1),
    Step::Months(3),
    Step::Months(6),
    Step::Years(1),
    Step::Years(2),
    Step::Years(5),
    Step::Years(10),
    Step::Years(20),
    Step::Years(50),
    Step::Years(100),
    Step::Years(200),
    Step::Years(500),
    Step::Years(1000),
    Step::Years(2000),
    Step::Years(5000),
];

/// Tick days and labels of `step` within `lo..=hi` (days since 1970).
fn ticks(step: Step, lo: i64, hi: i64) -> Vec<(i64, String)> {
    let date = |d: i64| i32::try_from(d).ok().and_then(date_from_days);
    let mut out = Vec::new();
    match step {
        Step::Days(n) => {
            let mut d = lo;
            while d <= hi {
                if let Some(x) = date(d) {
                    out.push((d, x.to_string()));
                }
                d += n;
            }
        }
        Step::Months(n) => {
            let Some(start) = date(lo) else { return out };
            let (mut y, mut m) = (i32::from(start.year()), i32::from(start.month()));
            loop {
                let Ok(first) = Date::new(y as i16, m as i8, 1) else {
                    break;
                };
                let d = i64::from(days_from_date(first));
                if d > hi {
                    break;
                }
                if d >= lo && (m - 1) % n == 0 {
                    out.push((d, format!("{y:04}-{m:02}")));
                }
                m += 1;
                if m > 12 {
                    (y, m) = (y + 1, 1);
                }
            }
        }
        Step::Years(n) => {
            let (Some(a), Some(b)) = (date(lo), date(hi)) else {
                return out;
            };
            let mut y = i32::from(a.year());
            y += (n - y.rem_euclid(n)) % n;
            while y <= i32::from(b.year()) {
                if let Ok(first) = Date::new(y as i16, 1, 1) {
                    let d = i64::from(days_from_date(first));
                    if d >= lo && d <= hi {
                        out.push((d, y.to_string()));
                    }
                }
                y += n;
            }
        }
    }
    out
}

/// The finest step whose tick labels fit between neighbouring ticks, with
/// `x` mapping a day to its pixel column.
fn choose_ticks(lo: i64, hi: i64, x: &dyn Fn(i64) -> i64) -> (Step, Vec<(i64, String)>) {
    let span = (hi - lo).max(1);
    for &step in STEPS {
        if span / step.days() > PLOT_W / 12 {
            continue;
        }
        let t = ticks(step, lo, hi);
        let fits = t.windows(2).all(|p| {
            let room = x(p[1].0) - x(p[0].0);
            room >= text_width(&p[0].1, TICK_FONT).max(text_width(&p[1].1, TICK_FONT)) + 10
        });
        if fits && !t.is_empty() {
            return (step, t);
        }
    }
    let last = STEPS[STEPS.len() - 1];
    (last, ticks(last, lo, hi))
}

// ---------------------------------------------------------------- drawing

fn named(actors: &Actors, id: &str) -> String {
    match actors.get(id) {
        Some(a) if a.def.name != id => format!("{} ({id})", a.def.name),
        _ => id.to_string(),
    }
}

fn lane_key(e: &TimelineEvent, lanes: Lanes) -> String {
    match lanes {
        Lanes::ByParty => e.party.clone(),
        Lanes::ByProposition => {
            let mut k = format!("{} {}", e.predicate, e.subjects.join(","));
            if let Some(l) = &e.location {
                w!(k, " {l}");
            }
            if let Some(q) = &e.qualifier {
                w!(k, " ({q})");
            }
            if let Some(d) = &e.document {
                w!(k, " [{d}]");
            }
            k
        }
    }
}

fn lane_label(e: &TimelineEvent, lanes: Lanes, actors: &Actors, labels: Labels) -> String {
    let name = |actors: &Actors, id: &str| labels.name(actors, id);
    match lanes {
        Lanes::ByParty => name(actors, &e.party),
        Lanes::ByProposition => {
            let vocab = Vocabulary::builtin();
            let mut k = vocab
                .predicate(&e.predicate)
                .map_or_else(|| e.predicate.clone(), |p| p.label.clone());
            if let Some(d) = &e.document {
                w!(k, " {d}");
            }
            if let Some(q) = &e.qualifier {
                w!(k, ", {}", q.replace('-', " "));
            }
            if !e.subjects.is_empty() {
                let s: Vec<String> = e.subjects.iter().map(|s| name(actors, s)).collect();
                w!(k, ": {}", s.join(", "));
            }
            if let Some(l) = &e.location {
                w!(k, " ({})", name(actors, l));
            }
            k
        }
    }
}

fn stance_label(stance: &str) -> String {
    Vocabulary::builtin()
        .stance(stance)
        .map_or_else(|| stance.to_string(), |s| s.label.clone())
}

fn mark_label(e: &TimelineEvent, lanes: Lanes) -> String {
    let mut s = match lanes {
        Lanes::ByParty => {
            let mut s = format!(
                "{} {}",
                stance_label(&e.stance),
                Vocabulary::builtin()
                    .predicate(&e.predicate)
                    .map_or(e.predicate.as_str(), |p| p.label.as_str())
            );
            if let Some(d) = &e.document {
                w!(s, " {d}");
            }
            if let Some(q) = &e.qualifier {
                w!(s, ", {}", q.replace('-', " "));
            }
            if !e.subjects.is_empty() {
                w!(s, ": {}", e.subjects.join(", "));
            }
            if let Some(l) = &e.location {
                w!(s, " ({l})");
            }
            s
        }
        Lanes::ByProposition => format!("{} {}", e.party, stance_label(&e.stance)),
    };
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

fn mark_text(e: &TimelineEvent, actors: &Actors) -> String {
    let mut s = format!(
        "{} · seq {}\n{} {} {}",
        format_said_on(&e.said_on),
        e.seq,
        named(actors, &e.party),
        stance_label(&e.stance),
        e.predicate
    );
    if !e.subjects.is_empty() {
        let n: Vec<String> = e.subjects.iter().map(|x| named(actors, x)).collect();
        w!(s, "\nsubject: {}", n.join(", "));
    }
    if let Some(l) = &e.location {
        w!(s, "\nlocation: {}", named(actors, l));
    }
    if let Some(q) = &e.qualifier {
        w!(s, "\nqualifier: {q}");
    }
    if let Some(d) = &e.document {
        w!(s, "\ndocument: {d}");
    }
    if let Some(h) = &e.hedge {
        w!(s, "\nhedge: \u{201c}{h}\u{201d}");
    }
    if let Some(d) = &e.terms.deadline {
        w!(s, "\nby {d}");
    }
    if let Some(c) = &e.terms.condition {
        w!(s, "\ncondition: {c}");
    }
    if !e.terms.joint_with.is_empty() {
        let n: Vec<String> = e
            .terms
            .joint_with
            .iter()
            .map(|x| named(actors, x))
            .collect();
        w!(s, "\njointly with {}", n.join(", "));
    }
    if !e.quote.is_empty() {
        w!(s, "\n\u{201c}{}\u{201d}", e.quote);
    }
    match e.status {
        Status::Standing => {}
        Status::Corrected { by } => w!(s, "\ncorrected by seq {by}"),
        Status::Retracted { by } => w!(s, "\nretracted by seq {by}"),
        Status::Correction { of } => w!(s, "\ncorrects seq {of}"),
    }
    s
}

struct Mark<'a> {
    e: &'a TimelineEvent,
    lane: usize,
    x: i64,
    row: i64,
    label: Option<Label>,
    /// The column of the statement's deadline, when it is drawn.
    deadline: Option<i64>,
    y: i64,
}

struct Label {
    text: String,
    /// Where the text starts (on the right) or ends (on the left).
    x: i64,
    /// Whether it is right of the mark.
    right: bool,
}

/// The least room worth cutting a label to, short of a deadline's bar.
const MIN_CUT: i64 = 60;

/// Places a mark's label: right of the mark at `mx` (`r`: its half-width and
/// a gap), or left of it when the axis (from `x0` to `end`) has no room on the
/// right. A label never runs across its deadline's bar at `deadline`: it is
/// cut short of the bar, or, with too little room for that, set beyond the
/// bar (or left of the mark). Returns the label and the span of mark and label.
fn place_label(
    text: String,
    mx: i64,
    r: i64,
    x0: i64,
    end: i64,
    deadline: Option<i64>,
) -> (Label, i64, i64) {
    let lw = text_width(&text, MARK_FONT);
    let crosses = |a: i64, b: i64| deadline.is_some_and(|dx| dx + 4 >= a && dx - 4 <= b);
    let (right_at, left_end) = (mx + r + 3, mx - r - 3);
    let on_right = |text: String, at: i64| {
        let w = text_width(&text, MARK_FONT);
        let label = Label {
            text,
            x: at,
            right: true,
        };
        (label, mx - r, at + w)
    };
    let on_left = |text: String| {
        let w = text_width(&text, MARK_FONT);
        let label = Label {
            text,
            x: left_end,
            right: false,
        };
        (label, left_end - w, mx + r)
    };
    match deadline {
        _ if right_at + lw <= end && !crosses(right_at, right_at + lw) => on_right(text, right_at),
        Some(dx) if right_at + lw <= end => {
            let room = dx - 6 - right_at;
            if room >= MIN_CUT {
                on_right(fit(&text, MARK_FONT, room), right_at)
            } else if dx + 6 + lw <= end {
                on_right(text, dx + 6)
            } else if left_end - lw >= x0 && !crosses(left_end - lw, left_end) {
                on_left(text)
            } else {
                on_right(fit(&text, MARK_FONT, room), right_at)
            }
        }
        Some(dx) if crosses(left_end - lw, left_end) => {
            on_left(fit(&text, MARK_FONT, left_end - (dx + 6)))
        }
        _ => on_left(text),
    }
}

/// Draws `events` on a timeline from `from` to `to` (each defaulting to the
/// first or last date among the events; events outside are left out), one lane
/// per party or per proposition, naming actors from `actors`.
pub fn timeline_svg(
    events: &[TimelineEvent],
    lanes: Lanes,
    from: Option<Date>,
    to: Option<Date>,
    actors: &Actors,
    caption: &Caption,
) -> String {
    timeline_svg_with(events, lanes, from, to, actors, caption, Labels::Name)
}

/// [`timeline_svg`], naming actors as `labels` says.
pub fn timeline_svg_with(
    events: &[TimelineEvent],
    lanes: Lanes,
    from: Option<Date>,
    to: Option<Date>,
    actors: &Actors,
    caption: &Caption,
    labels: Labels,
) -> String {
    let title = match lanes {
        Lanes::ByParty => "Statements by party",
        Lanes::ByProposition => "Statements by proposition",
    };
    let mut shown: Vec<&TimelineEvent> = events
        .iter()
        .filter(|e| {
            from.is_none_or(|d| e.said_on.date >= d) && to.is_none_or(|d| e.said_on.date <= d)
        })
        .collect();
    shown.sort_by_key(|e| (e.said_on, e.seq));
    if shown.is_empty() || from.zip(to).is_some_and(|(a, b)| a > b) {
        let msg = match (from, to) {
            (None, None) => "no statements".to_string(),
            (a, b) => format!(
                "no statements from {} to {}",
                a.map_or("the first".into(), |d| d.to_string()),
                b.map_or("the last".into(), |d| d.to_string())
            ),
        };
        return svg::empty("demarche-timeline", title, &msg, caption);
    }

    // Axis.
    let day = |d: Date| i64::from(days_from_date(d));
    let lo = day(from.unwrap_or(shown[0].said_on.date));
    let hi = day(to.unwrap_or(shown[shown.len() - 1].said_on.date));
    let pad = ((hi - lo) / 40).max(1);
    let (a_lo, a_hi) = (lo - pad, hi + pad);

    // Lanes.
    let mut lane_ids: BTreeMap<String, String> = BTreeMap::new();
    for e in &shown {
        lane_ids
            .entry(lane_key(e, lanes))
            .or_insert_with(|| lane_label(e, lanes, actors, labels));
    }
    let lane_index: BTreeMap<&str, usize> = lane_ids
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let lane_labels: Vec<String> = lane_ids
        .values()
        .map(|l| fit(l, LANE_FONT, labels.max_width(MAX_LANE_LABEL)))
        .collect();
    let lane_w = lane_labels
        .iter()
        .map(|l| text_width(l, LANE_FONT))
        .max()
        .unwrap_or(0)
        + 16;
    let x0 = MARGIN + lane_w;
    let x = |d: i64| x0 + (d - a_lo) * PLOT_W / (a_hi - a_lo);
    let (step, tick_list) = choose_ticks(a_lo, a_hi, &x);

    // Marks, stacked in sub-rows of their lane.
    let labelled = shown.len() <= LABELLED_UP_TO;
    let mut marks: Vec<Mark> = Vec::with_capacity(shown.len());
    let mut rows: Vec<Vec<i64>> = vec![Vec::new(); lane_ids.len()];
    for e in &shown {
        let lane = lane_index[lane_key(e, lanes).as_str()];
        let mx = x(day(e.said_on.date));
        let r = GLYPH_R + 3;
        // A deadline on the axis, of a statement that stands, is drawn in the
        // mark's row (which then reaches to it), unless it falls on the mark.
        let deadline = e
            .terms
            .deadline
            .filter(|_| matches!(e.status, Status::Standing | Status::Correction { .. }))
            .map(day)
            .filter(|d| (a_lo..=a_hi).contains(d))
            .map(&x)
            .filter(|dx| (dx - mx).abs() > r);
        let (label, start, end) = if labelled {
            let l = fit(
                &mark_label(e, lanes),
                MARK_FONT,
                labels.max_width(MAX_MARK_LABEL),
            );
            let (l, start, end) = place_label(l, mx, r, x0, x0 + PLOT_W, deadline);
            (Some(l), start, end)
        } else {
            (None, mx - r, mx + r)
        };
        let (start, end) = match deadline {
            Some(dx) => (start.min(dx - 4), end.max(dx + 4)),
            None => (start, end),
        };
        let lane_rows = &mut rows[lane];
        let row = match lane_rows.iter().position(|&end| end + 6 <= start) {
            Some(i) => i,
            None => {
                lane_rows.push(i64::MIN);
                lane_rows.len() - 1
            }
        };
        lane_rows[row] = end;
        marks.push(Mark {
            e,
            lane,
            x: mx,
            row: row as i64,
            label,
            deadline,
            y: 0,
        });
    }
    let top = MARGIN + 30;
    let mut lane_top = Vec::with_capacity(rows.len());
    let mut y = top;
    for r in &rows {
        lane_top.push(y);
        y += r.len() as i64 * SUB + 2 * LANE_PAD;
    }
    let lanes_bottom = y;
    for m in &mut marks {
        m.y = lane_top[m.lane] + LANE_PAD + m.row * SUB + SUB / 2;
    }

    // Legend: kinds, then what became of statements.
    let mut kinds: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for e in &shown {
        kinds
            .entry(palette::order(stance_kind(&e.stance)))
            .or_default()
            .insert(stance_label(&e.stance));
    }
    let mut items: Vec<LegendItem> = kinds
        .iter()
        .map(|(&k, labels)| {
            let s = &palette::palette()[k];
            LegendItem {
                class: s.kind.into(),
                kind: s.kind.into(),
                sample: svg::glyph(
                    s.glyph,
                    18,
                    0,
                    &format!("fill=\"{}\" stroke=\"{}\"", s.colour, s.colour),
                ),
                text: format!(
                    "{}: {}",
                    s.kind,
                    labels.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
                title: format!("{} statements", s.kind),
            }
        })
        .collect();
    let statuses: BTreeSet<&str> = shown.iter().map(|e| e.status.as_str()).collect();
    let grey = &palette::style("other");
    if marks.iter().any(|m| m.deadline.is_some()) {
        let mut sample = String::new();
        deadline_fence(&mut sample, grey.colour, 4, 30, 0);
        let text = "deadline: a bar at its date, joined to the statement";
        items.push(LegendItem {
            class: "deadline".into(),
            kind: "deadline".into(),
            sample,
            text: text.into(),
            title: text.into(),
        });
    }
    for (status, text) in [
        (
            "corrected",
            "corrected: hollow, struck, linked to its correction",
        ),
        ("correction", "correction: ringed"),
        ("retracted", "retracted: crossed out"),
    ] {
        if statuses.contains(status) {
            let mut sample = String::new();
            status_glyph(&mut sample, grey, palette::Glyph::Circle, status, 18, 0);
            items.push(LegendItem {
                class: status.into(),
                kind: status.into(),
                sample,
                text: text.into(),
                title: text.into(),
            });
        }
    }

    // Canvas.
    let width = (x0 + PLOT_W + MARGIN + 40)
        .max(svg::caption_width(caption) + 2 * MARGIN)
        .max(svg::legend_min_width(&items) + 2 * MARGIN);
    let axis_y = lanes_bottom + 4;
    let legend_y = axis_y + 34;
    let legend_h = svg::legend_height(&items, width - 2 * MARGIN);
    let caption_y = legend_y + legend_h + 10;
    let height = caption_y + svg::caption_height() + MARGIN;

    let mut out = String::with_capacity(2048 + 800 * shown.len());
    svg::open(&mut out, "demarche-timeline", width, height, title);
    out.push_str("<defs><marker id=\"end-link\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 Z\" fill=\"#444444\"/></marker></defs>\n");
    let first = shown[0].said_on.date;
    let last = shown[shown.len() - 1].said_on.date;
    w!(
        out,
        "<text class=\"heading\" x=\"{MARGIN}\" y=\"{}\" font-size=\"13\" fill=\"#222222\">{}</text>\n",
        MARGIN + 12,
        esc(&if first == last {
            format!("{title}, {first}")
        } else {
            format!("{title}, {first} to {last}")
        })
    );

    // Lane bands and labels.
    for (i, (key, full)) in lane_ids.iter().enumerate() {
        let h = rows[i].len() as i64 * SUB + 2 * LANE_PAD;
        let n = marks.iter().filter(|m| m.lane == i).count();
        w!(
            out,
            "<g class=\"lane\" data-lane=\"{}\"><title>{} ({n} statement(s))</title><rect x=\"{MARGIN}\" y=\"{}\" width=\"{}\" height=\"{h}\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"{LANE_FONT}\" fill=\"#111111\">{}</text></g>\n",
            esc(key),
            esc(full),
            lane_top[i],
            lane_w + PLOT_W,
            if i % 2 == 0 { "#f5f5f5" } else { "#ffffff" },
            MARGIN + 6,
            lane_top[i] + h / 2 + 4,
            esc(&lane_labels[i])
        );
    }

    // Axis: grid lines, the axis line, ticks and their labels.
    w!(
        out,
        "<g class=\"axis {}\" data-step=\"{:?}\">\n<path d=\"M{x0},{axis_y} L{},{axis_y}\" stroke=\"#333333\" stroke-width=\"1\"/>\n",
        step.class(),
        step,
        x0 + PLOT_W
    );
    for (d, label) in &tick_list {
        let tx = x(*d);
        w!(
            out,
            "<g class=\"tick\" data-date=\"{}\"><path d=\"M{tx},{top} L{tx},{axis_y}\" stroke=\"#dddddd\" stroke-width=\"1\"/><path d=\"M{tx},{axis_y} L{tx},{}\" stroke=\"#333333\" stroke-width=\"1\"/><text x=\"{tx}\" y=\"{}\" font-size=\"{TICK_FONT}\" text-anchor=\"middle\" fill=\"#333333\">{}</text></g>\n",
            i32::try_from(*d).ok().and_then(date_from_days).map(|x| x.to_string()).unwrap_or_default(),
            axis_y + 5,
            axis_y + 17,
            esc(label)
        );
    }
    out.push_str("</g>\n");

    // Links from corrected statements to their corrections.
    let at: HashMap<Seq, (i64, i64)> = marks.iter().map(|m| (m.e.seq, (m.x, m.y))).collect();
    out.push_str("<g class=\"links\">\n");
    for m in &marks {
        if let Status::Corrected { by } = m.e.status {
            if let Some(&(x2, y2)) = at.get(&by) {
                let (x1, y1) = (m.x, m.y);
                // Bend the link away from the labels when both are on one date.
                let bend = match (&m.label, x1 == x2) {
                    (_, false) => 0,
                    (Some(Label { right: true, .. }), true) => -24,
                    _ => 24,
                };
                w!(
                    out,
                    "<path class=\"correction-link\" data-from=\"{}\" data-to=\"{by}\" d=\"M{x1},{y1} C{},{y1} {},{y2} {x2},{y2}\" fill=\"none\" stroke=\"#444444\" stroke-width=\"1.2\" stroke-dasharray=\"3 2\" marker-end=\"url(#end-link)\"/>\n",
                    m.e.seq,
                    x1 + bend,
                    x2 + bend
                );
            }
        }
    }
    out.push_str("</g>\n");

    // Marks.
    out.push_str("<g class=\"marks\">\n");
    for m in &marks {
        let kind = stance_kind(&m.e.stance);
        let s = palette::style(kind);
        let status = m.e.status.as_str();
        w!(
            out,
            "<g class=\"mark {kind} {status}\" data-seq=\"{}\" data-date=\"{}\" data-lane=\"{}\" data-status=\"{status}\"><title>{}</title>",
            m.e.seq,
            m.e.said_on.date,
            esc(&lane_key(m.e, lanes)),
            esc(&mark_text(m.e, actors))
        );
        status_glyph(&mut out, s, s.glyph, status, m.x, m.y);
        if let (Some(dx), Some(d)) = (m.deadline, m.e.terms.deadline) {
            w!(
                out,
                "<g class=\"deadline\" data-deadline=\"{d}\"><title>by {d} (seq {})</title>",
                m.e.seq
            );
            deadline_fence(&mut out, s.colour, m.x, dx, m.y);
            out.push_str("</g>");
        }
        if let Some(Label { text, x: tx, right }) = &m.label {
            let anchor = if *right { "start" } else { "end" };
            let faded = matches!(
                m.e.status,
                Status::Corrected { .. } | Status::Retracted { .. }
            );
            w!(
                out,
                "<text x=\"{tx}\" y=\"{}\" font-size=\"{MARK_FONT}\" text-anchor=\"{anchor}\" fill=\"{}\"{}>{}</text>",
                m.y + 4,
                if faded { "#888888" } else { "#222222" },
                if faded { " text-decoration=\"line-through\"" } else { "" },
                esc(text)
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n");

    svg::legend(&mut out, &items, MARGIN, legend_y, width - 2 * MARGIN);
    svg::caption(&mut out, caption, MARGIN, caption_y);
    out.push_str("</svg>\n");
    out
}

/// A deadline: a dotted line from under the mark at `x` to a bar at the
/// deadline's column `dx`, in the stance's colour.
fn deadline_fence(out: &mut String, colour: &str, x: i64, dx: i64, y: i64) {
    let below = y + GLYPH_R + 3;
    w!(
        out,
        "<path d=\"M{x},{} L{x},{below} L{dx},{below}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1\" stroke-dasharray=\"2 2\"/><path d=\"M{dx},{} L{dx},{below}\" stroke=\"{colour}\" stroke-width=\"2\"/>",
        y + GLYPH_R,
        y - GLYPH_R - 1
    );
}

/// A mark's glyph as its status draws it: filled (standing), filled and
/// ringed (a correction), hollow and struck (corrected), faded and crossed
/// out (retracted).
fn status_glyph(
    out: &mut String,
    s: &palette::Style,
    g: palette::Glyph,
    status: &str,
    x: i64,
    y: i64,
) {
    let c = s.colour;
    match status {
        "corrected" => {
            out.push_str(&svg::glyph(
                g,
                x,
                y,
                &format!("fill=\"#ffffff\" stroke=\"{c}\" stroke-width=\"1.5\""),
            ));
            w!(
                out,
                "<path d=\"M{},{y} L{},{y}\" stroke=\"#222222\" stroke-width=\"1.5\"/>",
                x - 8,
                x + 8
            );
        }
        "retracted" => {
            out.push_str(&svg::glyph(
                g,
                x,
                y,
                &format!("fill=\"{c}\" fill-opacity=\"0.35\" stroke=\"{c}\""),
            ));
            w!(
                out,
                "<path d=\"M{},{} L{},{} M{},{} L{},{}\" stroke=\"#222222\" stroke-width=\"2\"/>",
                x - 7,
                y - 7,
                x + 7,
                y + 7,
                x - 7,
                y + 7,
                x + 7,
                y - 7
            );
        }
        "correction" => {
            out.push_str(&svg::glyph(
                g,
                x,
                y,
                &format!("fill=\"{c}\" stroke=\"{c}\""),
            ));
            w!(out, "<circle cx=\"{x}\" cy=\"{y}\" r=\"{}\" fill=\"none\" stroke=\"#222222\" stroke-width=\"1.2\"/>", GLYPH_R + 3);
        }
        _ => out.push_str(&svg::glyph(
            g,
            x,
            y,
            &format!("fill=\"{c}\" stroke=\"{c}\""),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn d(y: i16, m: i8, day: i8) -> i64 {
        i64::from(days_from_date(date(y, m, day)))
    }

    #[test]
    fn ticks_of_a_long_span_are_years_and_of_a_short_one_days() {
        let lin = |lo: i64, hi: i64| move |v: i64| (v - lo) * PLOT_W / (hi - lo);
        let (lo, hi) = (d(1990, 8, 2), d(2021, 1, 29));
        let (step, t) = choose_ticks(lo, hi, &lin(lo, hi));
        assert!(matches!(step, Step::Years(_)), "{step:?}");
        assert!(t.len() >= 5 && t.len() <= 32, "{}", t.len());
        assert!(t.iter().all(|(_, l)| l.len() == 4));
        let (lo, hi) = (d(2021, 1, 27), d(2021, 1, 29));
        let (step, t) = choose_ticks(lo, hi, &lin(lo, hi));
        assert_eq!(step, Step::Days(1));
        assert_eq!(t.len(), 3);
        assert_eq!(t[1].1, "2021-01-28");
    }

    #[test]
    fn a_label_never_runs_across_its_deadline() {
        let text = "demands constitutional order (Niger), by 2023-08-06".to_string();
        let lw = text_width(&text, MARK_FONT);
        let (x0, end, mx, r) = (100, 1060, 200, GLYPH_R + 3);
        // No deadline, or one beyond the label: right of the mark, whole.
        for deadline in [None, Some(mx + r + 3 + lw + 10)] {
            let (l, a, b) = place_label(text.clone(), mx, r, x0, end, deadline);
            assert!(l.right && l.text == text && l.x == mx + r + 3);
            assert_eq!((a, b), (mx - r, mx + r + 3 + lw));
        }
        // A deadline under the label, with room before it: cut short of it.
        let dx = mx + 120;
        let (l, _, b) = place_label(text.clone(), mx, r, x0, end, Some(dx));
        assert!(l.right && l.x == mx + r + 3 && l.text.ends_with('\u{2026}'));
        assert!(b <= dx - 6, "{b} runs across {dx}");
        // Too near for that: beyond the bar.
        let dx = mx + 30;
        let (l, _, b) = place_label(text.clone(), mx, r, x0, end, Some(dx));
        assert!(l.right && l.x == dx + 6 && l.text == text);
        assert_eq!(b, dx + 6 + lw);
        // Near the axis' end, with no room beyond the bar: left of the mark.
        let (mx, dx) = (end - 40, end - 10);
        let (l, a, _) = place_label(text.clone(), mx, r, x0, end, Some(dx));
        assert!(!l.right && l.x == mx - r - 3 && l.text == text);
        assert_eq!(a, mx - r - 3 - lw);
    }

    #[test]
    fn month_ticks_fall_on_the_first() {
        let t = ticks(Step::Months(3), d(2020, 2, 10), d(2020, 12, 31));
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["2020-04", "2020-07", "2020-10"]);
        assert_eq!(t[0].0, d(2020, 4, 1));
    }
}
