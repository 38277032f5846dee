//! Pictures: the position graph and the timeline of the worked example, parsed
//! back as XML and rendered to pixels; a fifty-party graph whose labels must
//! not collide; documents, deadlines, conditions and joint parties in both
//! pictures; escaping; empty and extreme inputs.
//!
//! Set `DEMARCHE_DRAW_DOCS=1` to also write the worked example's pictures
//! (SVG and PNG) into `docs/` for the README.

use demarche::draw::{self, Caption, Lanes, Status, TimelineEvent};
use demarche::event::{ActorDef, Event, Hash, Head, Recorded, SaidOn};
use demarche::ledger::Ledger;
use demarche::projection::{stance_kind, Position, PositionKey, Query, Terms};
use demarche::vocab::{Actors, Modality, Vocabulary};
use demarche::{example, json};
use jiff::civil::{date, Date};
use resvg::usvg;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, LazyLock};

const AS_OF: Date = date(2021, 1, 29);

struct Example {
    ledger: Ledger,
    positions: Vec<Position>,
    records: Vec<Recorded>,
    actors: Actors,
    caption: Caption,
}

fn example() -> Example {
    let mut ledger = Ledger::in_memory();
    ledger.set_clock(|| 1_795_953_600_000_000);
    example::record(&mut ledger).expect("record the example");
    load(ledger)
}

fn load(ledger: Ledger) -> Example {
    let positions = ledger
        .positions(&Query {
            as_of: Some(AS_OF),
            ..Default::default()
        })
        .expect("positions");
    let records: Vec<Recorded> = ledger
        .iter(1, u64::MAX)
        .expect("iter")
        .collect::<Result<_, _>>()
        .expect("records");
    let actors = ledger.actors().expect("actors").clone();
    let caption = Caption {
        as_of: Some(AS_OF),
        known_at: None,
        head: ledger.head().expect("head"),
        filters: String::new(),
    };
    Example {
        ledger,
        positions,
        records,
        actors,
        caption,
    }
}

fn parse(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("SVG is not well-formed XML: {e}"))
}

fn classes<'a>(n: &roxmltree::Node<'a, '_>) -> Vec<&'a str> {
    n.attribute("class")
        .map(|c| c.split_whitespace().collect())
        .unwrap_or_default()
}

fn has_class(n: &roxmltree::Node, c: &str) -> bool {
    classes(n).contains(&c)
}

fn groups<'a, 'i>(doc: &'a roxmltree::Document<'i>, class: &str) -> Vec<roxmltree::Node<'a, 'i>> {
    doc.descendants()
        .filter(|n| n.has_tag_name("g") && has_class(n, class))
        .collect()
}

fn num(n: &roxmltree::Node, attr: &str) -> i64 {
    n.attribute(attr)
        .unwrap_or_else(|| panic!("<{}> has no {attr}", n.tag_name().name()))
        .parse()
        .unwrap_or_else(|_| panic!("{attr} is a whole number"))
}

fn title_of(n: &roxmltree::Node) -> String {
    n.children()
        .find(|c| c.has_tag_name("title"))
        .and_then(|t| t.text())
        .unwrap_or_default()
        .to_string()
}

fn all_text(n: &roxmltree::Node) -> String {
    n.descendants()
        .filter(|d| d.has_tag_name("text"))
        .filter_map(|d| d.text())
        .collect::<Vec<_>>()
        .join(" ")
}

fn size(doc: &roxmltree::Document) -> (i64, i64) {
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let (w, h) = (num(&root, "width"), num(&root, "height"));
    assert!(w > 0 && h > 0, "size {w}x{h}");
    (w, h)
}

/// What an edge should point at, from the position alone.
fn target(p: &Position) -> Option<&str> {
    p.key.subject.as_deref().or(p.key.location.as_deref())
}

// ---------------------------------------------------------------- graph

#[test]
fn graph_svg_of_the_worked_example_has_a_node_per_actor_and_an_edge_per_position() {
    let ex = example();
    assert!(ex.positions.len() >= 10, "{} positions", ex.positions.len());
    let g = draw::graph(&ex.positions, &ex.actors, &ex.caption);
    let svg = draw::graph_svg(&g);
    let doc = parse(&svg);
    size(&doc);

    // Nodes: the parties on the left, what they speak of on the right.
    let parties: BTreeSet<&str> = ex.positions.iter().map(|p| p.key.party.as_str()).collect();
    let targets: BTreeSet<&str> = ex.positions.iter().filter_map(target).collect();
    let nodes = groups(&doc, "node");
    let side = |class: &str| -> BTreeSet<&str> {
        nodes
            .iter()
            .filter(|n| has_class(n, class))
            .map(|n| n.attribute("data-id").expect("data-id"))
            .collect()
    };
    assert_eq!(side("party"), parties);
    let right: BTreeSet<&str> = side("subject").union(&side("location")).copied().collect();
    assert_eq!(right, targets);
    assert_eq!(
        nodes.len(),
        parties.len() + targets.len(),
        "one box per actor and side"
    );
    for id in ["USA", "RUS", "TUR", "UN", "UNSC", "IRQ", "FOREIGN-FORCES"] {
        assert!(side("party").contains(id) || right.contains(id), "{id}");
    }
    // Russia speaks and is spoken of: it is marked as both on each side.
    assert!(nodes
        .iter()
        .filter(|n| n.attribute("data-id") == Some("RUS"))
        .all(|n| has_class(n, "both")));
    // Labels are names, from the actor registry.
    let label = |id: &str| {
        nodes
            .iter()
            .find(|n| n.attribute("data-id") == Some(id))
            .map(all_text)
            .expect("node")
    };
    assert_eq!(label("UNSC"), "United Nations Security Council");
    assert_eq!(label("RUS"), "Russia");

    // Edges: one per position, classed by the stance kind.
    let edges = groups(&doc, "edge");
    assert_eq!(edges.len(), ex.positions.len());
    for p in &ex.positions {
        let found: Vec<_> = edges
            .iter()
            .filter(|e| {
                e.attribute("data-seq") == Some(&p.seq.to_string())
                    && e.attribute("data-from") == Some(&p.key.party)
                    && e.attribute("data-to") == target(p)
                    && e.attribute("data-predicate") == Some(&p.key.predicate)
            })
            .collect();
        assert!(!found.is_empty(), "no edge for {:?}", p.key);
        assert!(
            found.iter().any(|e| has_class(e, stance_kind(&p.stance))),
            "{:?} is not drawn as {}",
            p.key,
            stance_kind(&p.stance)
        );
        let tip = title_of(found[0]);
        assert!(
            tip.contains(&p.key.party) && tip.contains(&format!("seq {}", p.seq)),
            "{tip}"
        );
        if let Some(h) = &p.hedge {
            assert!(tip.contains(h.as_str()), "hedge missing from {tip}");
        }
    }
    let edge = |from: &str, to: &str, predicate: &str, stance: &str| {
        edges
            .iter()
            .find(|e| {
                e.attribute("data-from") == Some(from)
                    && e.attribute("data-to") == Some(to)
                    && e.attribute("data-predicate") == Some(predicate)
                    && e.attribute("data-stance") == Some(stance)
            })
            .unwrap_or_else(|| panic!("no edge {from} {stance} {predicate} {to}"))
    };
    assert!(has_class(
        edge("UNSC", "IRQ", "withdrawal", "demands"),
        "demand"
    ));
    assert!(has_class(
        edge("USA", "TUR", "withdrawal", "calls-for"),
        "appeal"
    ));
    assert!(has_class(
        edge("RUS", "RUS", "presence", "denies"),
        "denial"
    ));
    // The denial ends in a cross, the demand in an arrowhead: distinct markers.
    let marker = |e: &roxmltree::Node| {
        e.descendants()
            .find(|d| d.has_tag_name("path"))
            .and_then(|d| d.attribute("marker-end"))
            .expect("marker-end")
            .to_string()
    };
    assert_ne!(
        marker(edge("RUS", "RUS", "presence", "denies")),
        marker(edge("UNSC", "IRQ", "withdrawal", "demands"))
    );

    // The legend lists every stance kind used, and each marker referenced exists.
    let used: BTreeSet<&str> = ex
        .positions
        .iter()
        .map(|p| stance_kind(&p.stance))
        .collect();
    let listed: BTreeSet<&str> = groups(&doc, "legend-item")
        .iter()
        .filter_map(|n| n.attribute("data-kind"))
        .collect();
    for k in &used {
        assert!(listed.contains(k), "legend lacks {k}: {listed:?}");
    }
    let ids: BTreeSet<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("id"))
        .collect();
    for e in &edges {
        let m = marker(e);
        let id = m.trim_start_matches("url(#").trim_end_matches(')');
        assert!(ids.contains(id), "marker {id} is not defined");
    }

    // The caption names the date and the exact ledger state.
    let caption = groups(&doc, "caption");
    assert_eq!(caption.len(), 1);
    let text = all_text(&caption[0]);
    assert!(text.contains(&ex.caption.head.token()), "{text}");
    assert!(text.contains("2021-01-29"), "{text}");
    assert_eq!(ex.caption.head.size, ex.records.len() as u64);
}

/// Splits DOT text into what is inside double-quoted strings and what is not.
fn dot_outside_strings(dot: &str) -> String {
    let mut out = String::new();
    let (mut inside, mut escaped) = (false, false);
    for c in dot.chars() {
        if inside {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => inside = false,
                _ => {}
            }
        } else if c == '"' {
            inside = true;
            out.push_str("\"\"");
        } else {
            out.push(c);
        }
    }
    assert!(!inside, "an unterminated string in DOT");
    out
}

#[test]
fn dot_and_json_agree_with_the_svg() {
    let ex = example();
    let g = draw::graph(&ex.positions, &ex.actors, &ex.caption);
    let svg = draw::graph_svg(&g);
    let doc = parse(&svg);
    let svg_edges = groups(&doc, "edge").len();
    let svg_actors: BTreeSet<&str> = groups(&doc, "node")
        .iter()
        .filter_map(|n| n.attribute("data-id"))
        .collect();

    let dot = draw::graph_dot(&g);
    let bare = dot_outside_strings(&dot);
    assert!(bare.trim_start().starts_with("digraph"), "{dot}");
    assert_eq!(bare.matches('{').count(), 1);
    assert_eq!(bare.matches('}').count(), 1);
    assert!(bare.trim_end().ends_with('}'));
    assert_eq!(bare.matches('[').count(), bare.matches(']').count());
    assert_eq!(bare.matches("->").count(), svg_edges);
    // Every node of the SVG is declared, and the caption travels along.
    for id in &svg_actors {
        assert!(
            dot.contains(&format!("\n  \"{id}\" [label=")),
            "{id} not declared"
        );
    }
    assert!(dot.contains(&ex.caption.head.token()));

    let v = draw::graph_json(&g);
    let nodes = v["nodes"].as_array().expect("nodes array");
    let edges = v["edges"].as_array().expect("edges array");
    assert_eq!(edges.len(), svg_edges);
    assert_eq!(nodes.len(), svg_actors.len());
    let json_ids: BTreeSet<&str> = nodes.iter().filter_map(|n| n["id"].as_str()).collect();
    assert_eq!(json_ids, svg_actors);
    assert_eq!(v["caption"]["head"], ex.caption.head.token());
    assert_eq!(v["caption"]["as_of"], "2021-01-29");
    let demand = edges
        .iter()
        .find(|e| e["from"] == "UNSC" && e["to"] == "IRQ")
        .expect("UNSC -> IRQ");
    assert_eq!(demand["stance_kind"], "demand");
    assert_eq!(demand["location"], "KWT");
}

#[test]
fn the_same_positions_in_any_order_give_the_same_bytes() {
    let ex = example();
    let a = draw::graph(&ex.positions, &ex.actors, &ex.caption);
    let mut reversed = ex.positions.clone();
    reversed.reverse();
    let b = draw::graph(&reversed, &ex.actors, &ex.caption);
    assert_eq!(draw::graph_svg(&a), draw::graph_svg(&b));
    assert_eq!(draw::graph_dot(&a), draw::graph_dot(&b));
    assert_eq!(draw::graph_json(&a), draw::graph_json(&b));
    let events = draw::timeline_events(&ex.records);
    let t1 = draw::timeline_svg(&events, Lanes::ByParty, None, None, &ex.actors, &ex.caption);
    let mut shuffled = events.clone();
    shuffled.reverse();
    let t2 = draw::timeline_svg(
        &shuffled,
        Lanes::ByParty,
        None,
        None,
        &ex.actors,
        &ex.caption,
    );
    assert_eq!(t1, t2);
}

#[test]
fn no_positions_give_a_picture_that_says_so() {
    let ex = example();
    let g = draw::graph(&[], &ex.actors, &ex.caption);
    let svg = draw::graph_svg(&g);
    let doc = parse(&svg);
    size(&doc);
    let text = all_text(&doc.root_element());
    assert!(text.contains("no positions match"), "{text}");
    assert!(text.contains(&ex.caption.head.token()));
    assert!(groups(&doc, "edge").is_empty());
    assert_eq!(bare_count(&draw::graph_dot(&g), "->"), 0);
    assert_eq!(
        draw::graph_json(&g)["edges"].as_array().map(Vec::len),
        Some(0)
    );
}

fn bare_count(dot: &str, what: &str) -> usize {
    dot_outside_strings(dot).matches(what).count()
}

#[test]
fn a_position_about_nothing_is_a_mark_on_its_party() {
    let p = Position {
        key: PositionKey {
            party: "USA".into(),
            predicate: "negotiations".into(),
            subject: None,
            location: None,
            qualifier: None,
            document: None,
            modality: Modality::Normative,
        },
        stance: "supports".into(),
        hedge: None,
        said_on: SaidOn {
            date: date(2021, 1, 28),
            time: None,
        },
        seq: 4,
        statements: vec![4],
        terms: Default::default(),
    };
    let caption = empty_caption();
    let g = draw::graph(std::slice::from_ref(&p), &Actors::starter(), &caption);
    assert_eq!(g.edges[0].to, None);
    let svg = draw::graph_svg(&g);
    let doc = parse(&svg);
    let edges = groups(&doc, "edge");
    assert_eq!(edges.len(), 1);
    assert!(has_class(&edges[0], "support") && has_class(&edges[0], "mark"));
    assert_eq!(edges[0].attribute("data-to"), None);
    assert_eq!(groups(&doc, "node").len(), 1);
    let dot = draw::graph_dot(&g);
    assert_eq!(bare_count(&dot, "->"), 1);
}

fn empty_caption() -> Caption {
    Caption {
        as_of: None,
        known_at: Some("seq 4".into()),
        head: Head {
            size: 4,
            hash: Hash([7; 32]),
            recorded_at: 0,
        },
        filters: "party USA".into(),
    }
}

// ---------------------------------------------------------------- rendering

static FONTS: LazyLock<Arc<usvg::fontdb::Database>> = LazyLock::new(|| {
    let mut db = usvg::fontdb::Database::new();
    db.load_system_fonts();
    Arc::new(db)
});

fn tree(svg: &str) -> usvg::Tree {
    let opt = usvg::Options {
        fontdb: FONTS.clone(),
        ..Default::default()
    };
    usvg::Tree::from_str(svg, &opt).expect("usvg parses the SVG")
}

/// Renders at the SVG's own size; checks the size and that it is not blank.
fn render(svg: &str, name: &str, out: &Path) -> resvg::tiny_skia::Pixmap {
    let (w, h) = size(&parse(svg));
    let t = tree(svg);
    assert_eq!(t.size().width() as i64, w);
    assert_eq!(t.size().height() as i64, h);
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w as u32, h as u32).expect("pixmap");
    resvg::render(
        &t,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    assert_eq!((pixmap.width() as i64, pixmap.height() as i64), (w, h));
    let inked = pixmap
        .pixels()
        .iter()
        .filter(|p| p.alpha() > 0 && (p.red() < 230 || p.green() < 230 || p.blue() < 230))
        .count();
    let total = pixmap.pixels().len();
    assert!(
        inked * 200 > total,
        "{name}: only {inked} of {total} pixels drawn"
    );
    // The background is drawn too: no transparent corner.
    assert_eq!(pixmap.pixel(0, 0).map(|p| p.alpha()), Some(255));
    let path = out.join(format!("{name}.png"));
    pixmap.save_png(&path).expect("write png");
    assert!(std::fs::metadata(&path).expect("png written").len() > 1000);
    pixmap
}

/// Pixels within a small distance of `#rrggbb`.
fn pixels_of(p: &resvg::tiny_skia::Pixmap, hex: &str) -> usize {
    let c = |i: usize| i32::from_str_radix(&hex[i..i + 2], 16).expect("hex");
    let (r, g, b) = (c(1), c(3), c(5));
    p.pixels()
        .iter()
        .filter(|x| {
            let d = (i32::from(x.red()) - r).abs()
                + (i32::from(x.green()) - g).abs()
                + (i32::from(x.blue()) - b).abs();
            x.alpha() == 255 && d < 24
        })
        .count()
}

#[test]
fn both_pictures_render_to_pixels_at_their_size() {
    let ex = with_amendments();
    let dir = tempfile::tempdir().expect("temp dir");
    let fonts = FONTS.len();
    eprintln!("{fonts} font faces found");

    let graph_svg = draw::graph_svg(&draw::graph(&ex.positions, &ex.actors, &ex.caption));
    let pixmap = render(&graph_svg, "graph", dir.path());
    // The demand (UNSC, Iraq) and the denials (Russia) show in their colours.
    assert!(pixels_of(&pixmap, draw::style("demand").colour) > 40);
    assert!(pixels_of(&pixmap, draw::style("denial").colour) > 40);
    assert!(pixels_of(&pixmap, draw::style("appeal").colour) > 40);

    let events = draw::timeline_events(&ex.records);
    let timeline_svg =
        draw::timeline_svg(&events, Lanes::ByParty, None, None, &ex.actors, &ex.caption);
    let pixmap = render(&timeline_svg, "timeline", dir.path());
    assert!(pixels_of(&pixmap, draw::style("demand").colour) > 20);
    assert!(pixels_of(&pixmap, draw::style("appeal").colour) > 20);

    if fonts > 0 {
        // With a font the text rasterises: dark pixels of the labels show.
        let dark = pixmap
            .pixels()
            .iter()
            .filter(|p| p.red() < 60 && p.green() < 60 && p.blue() < 60)
            .count();
        assert!(dark > 500, "only {dark} dark pixels: is the text drawn?");
    }

    if std::env::var_os("DEMARCHE_DRAW_DOCS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::create_dir_all(&docs).expect("docs/");
        for name in ["graph", "timeline"] {
            std::fs::copy(
                dir.path().join(format!("{name}.png")),
                docs.join(format!("{name}.png")),
            )
            .expect("copy png");
        }
        std::fs::write(docs.join("graph.svg"), &graph_svg).expect("write svg");
        std::fs::write(docs.join("timeline.svg"), &timeline_svg).expect("write svg");
    }
}

/// Every text's laid-out box, by the fonts found (none without fonts).
fn text_boxes(svg: &str) -> Vec<(String, usvg::Rect)> {
    fn walk(g: &usvg::Group, out: &mut Vec<(String, usvg::Rect)>) {
        for n in g.children() {
            match n {
                usvg::Node::Group(g) => walk(g, out),
                usvg::Node::Text(t) => out.push((t.id().to_string(), t.abs_bounding_box())),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(tree(svg).root(), &mut out);
    out
}

fn overlap(a: &usvg::Rect, b: &usvg::Rect) -> bool {
    let e = 0.5;
    a.left() + e < b.right()
        && b.left() + e < a.right()
        && a.top() + e < b.bottom()
        && b.top() + e < a.bottom()
}

/// No two texts overlap, every text lies on the canvas, every node label
/// lies in its box: by the fonts' real metrics where fonts exist.
fn assert_legible(svg: &str) {
    let doc = parse(svg);
    let (w, h) = size(&doc);
    let texts = doc.descendants().filter(|n| n.has_tag_name("text")).count();
    if FONTS.is_empty() {
        eprintln!("no fonts: text layout not checked");
        return;
    }
    let boxes = text_boxes(svg);
    assert_eq!(boxes.len(), texts, "some text was not laid out");
    for (i, (ia, a)) in boxes.iter().enumerate() {
        assert!(
            a.left() >= 0.0 && a.top() >= 0.0 && a.right() <= w as f32 && a.bottom() <= h as f32,
            "text {ia} {a:?} leaves the {w}x{h} canvas"
        );
        for (ib, b) in &boxes[i + 1..] {
            assert!(!overlap(a, b), "texts overlap: {ia} {a:?} and {ib} {b:?}");
        }
    }
    let rects: BTreeMap<String, (f32, f32, f32, f32)> = groups(&doc, "node")
        .iter()
        .map(|n| {
            let side = ["party", "subject", "location"]
                .into_iter()
                .find(|c| has_class(n, c))
                .expect("side");
            let r = n.children().find(|c| c.has_tag_name("rect")).expect("rect");
            let f = |a| num(&r, a) as f32;
            (
                format!("label-{side}-{}", n.attribute("data-id").expect("id")),
                (f("x"), f("y"), f("width"), f("height")),
            )
        })
        .collect();
    let mut checked = 0;
    for (id, b) in &boxes {
        if let Some(&(x, y, rw, rh)) = rects.get(id) {
            assert!(
                b.left() >= x
                    && b.right() <= x + rw
                    && b.top() >= y - 2.0
                    && b.bottom() <= y + rh + 2.0,
                "{id} {b:?} leaves its box {x},{y} {rw}x{rh}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, rects.len(), "every node label was found");
}

#[test]
fn the_worked_examples_pictures_are_legible() {
    let ex = with_amendments();
    assert_legible(&draw::graph_svg(&draw::graph(
        &ex.positions,
        &ex.actors,
        &ex.caption,
    )));
    let events = draw::timeline_events(&ex.records);
    for lanes in [Lanes::ByParty, Lanes::ByProposition] {
        assert_legible(&draw::timeline_svg(
            &events,
            lanes,
            None,
            None,
            &ex.actors,
            &ex.caption,
        ));
    }
}

// ---------------------------------------------------------------- fifty parties

/// A small deterministic generator (a linear congruential one).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn fifty_parties() -> (Vec<Position>, Actors) {
    let actors = Actors::starter();
    let states: Vec<String> = actors
        .iter()
        .filter(|a| a.def.kind == "state")
        .map(|a| a.def.id.clone())
        .collect();
    let others: Vec<String> = actors
        .iter()
        .filter(|a| a.def.kind != "state")
        .map(|a| a.def.id.clone())
        .collect();
    assert!(states.len() >= 80 && others.len() >= 10);
    let parties = &states[..50];
    // Subjects: other states, some of the parties, long-named bodies.
    let mut subjects: Vec<String> = states[50..75].to_vec();
    subjects.extend(parties.iter().step_by(5).cloned());
    subjects.extend(others.iter().take(10).cloned());
    let vocab = Vocabulary::builtin();
    let mut rng = Lcg(0x5eed);
    let mut out = Vec::new();
    let mut seq = 0;
    let mut keys = BTreeSet::new();
    for party in parties {
        for _ in 0..1 + rng.next(4) {
            seq += 1;
            let subject = (rng.next(8) > 0).then(|| subjects[rng.next(subjects.len())].clone());
            let stance = &vocab.stances[rng.next(vocab.stances.len())];
            let key = PositionKey {
                party: party.clone(),
                predicate: vocab.predicates[rng.next(vocab.predicates.len())]
                    .id
                    .clone(),
                subject,
                location: Some(states[75 + rng.next(5)].clone()),
                qualifier: (rng.next(5) == 0).then(|| "military-personnel".to_string()),
                document: None,
                modality: stance.modality,
            };
            if !keys.insert(key.clone()) {
                continue;
            }
            out.push(Position {
                key,
                stance: stance.id.clone(),
                hedge: (rng.next(7) == 0).then(|| "reportedly".to_string()),
                said_on: SaidOn {
                    date: date(2020, 1 + rng.next(12) as i8, 1 + rng.next(28) as i8),
                    time: None,
                },
                seq,
                statements: vec![seq],
                terms: Default::default(),
            });
        }
    }
    (out, actors)
}

#[test]
fn fifty_parties_keep_their_labels_apart() {
    let (positions, actors) = fifty_parties();
    let parties: BTreeSet<&str> = positions.iter().map(|p| p.key.party.as_str()).collect();
    assert_eq!(parties.len(), 50);
    let g = draw::graph(&positions, &actors, &empty_caption());
    let svg = draw::graph_svg(&g);
    assert!(svg.len() < 2_000_000, "{} bytes", svg.len());
    let doc = parse(&svg);
    let (w, h) = size(&doc);
    assert!(w < 4000, "width {w}");
    assert_eq!(groups(&doc, "edge").len(), positions.len());

    // From the emitted geometry alone: boxes of one column never overlap,
    // each label starts inside its box, on a line within it, and the box is at
    // least as wide as a lower bound of the label's width.
    let nodes = groups(&doc, "node");
    let mut columns: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for n in &nodes {
        let r = n.children().find(|c| c.has_tag_name("rect")).expect("rect");
        let t = n.children().find(|c| c.has_tag_name("text")).expect("text");
        let (x, y, rw, rh) = (
            num(&r, "x"),
            num(&r, "y"),
            num(&r, "width"),
            num(&r, "height"),
        );
        let (tx, ty) = (num(&t, "x"), num(&t, "y"));
        let size = num(&t, "font-size");
        let label = t.text().unwrap_or_default();
        assert!(tx > x && ty > y && ty < y + rh, "label outside its box");
        let at_least = label.chars().count() as i64 * size * 55 / 100;
        assert!(tx - x + at_least <= rw, "box of {label:?} too narrow: {rw}");
        assert!(x + rw <= w && y + rh <= h);
        columns.entry(x).or_default().push((y, y + rh));
    }
    assert_eq!(columns.len(), 2, "two columns");
    for spans in columns.values_mut() {
        spans.sort_unstable();
        for p in spans.windows(2) {
            assert!(p[0].1 < p[1].0, "boxes overlap: {p:?}");
        }
    }
    // And by the fonts' real metrics.
    assert_legible(&svg);
}

#[test]
fn a_folded_graph_keeps_its_limit_counts_every_position_and_stays_legible() {
    let (positions, actors) = fifty_parties();
    let g = draw::graph(&positions, &actors, &empty_caption());
    let whole = size(&parse(&draw::graph_svg(&g))).1;
    // Within the limits nothing changes.
    let (same, none) = draw::fold(g.clone(), 10_000);
    assert_eq!(same, g);
    assert_eq!(none.positions, 0);
    let (f, folded) = draw::fold(g.clone(), 12);
    assert!(f.nodes.len() <= 12, "{} nodes", f.nodes.len());
    assert!(f.edges.len() <= 36, "{} edges", f.edges.len());
    assert!(folded.parties > 0 && folded.targets > 0, "{folded:?}");
    assert_eq!(folded.edges, (g.edges.len(), f.edges.len()));
    // Every position is drawn once: kept as it was, or counted in a joined edge.
    let counted: usize = f.edges.iter().map(|e| e.positions).sum();
    assert_eq!(counted, positions.len());
    let joined: usize = f
        .edges
        .iter()
        .filter(|e| e.from == draw::OTHER_PARTIES || e.to.as_deref() == Some(draw::OTHER_TARGETS))
        .map(|e| e.positions)
        .sum();
    assert_eq!(joined, folded.positions);
    // The kept parties are those with the most positions.
    let mut held: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &positions {
        *held.entry(p.key.party.as_str()).or_default() += 1;
    }
    let kept: Vec<&str> = f
        .nodes
        .iter()
        .filter(|n| held.contains_key(n.id.as_str()))
        .map(|n| n.id.as_str())
        .collect();
    let least_kept = kept.iter().map(|id| held[id]).min().expect("a party kept");
    let most_gone = held
        .iter()
        .filter(|(id, _)| !kept.contains(id))
        .map(|(_, n)| *n)
        .max()
        .expect("a party joined");
    assert!(least_kept >= most_gone, "{least_kept} < {most_gone}");
    let names: Vec<&str> = f.nodes.iter().map(|n| n.label.as_str()).collect();
    assert!(
        names.contains(&format!("({} other parties)", folded.parties).as_str()),
        "{names:?}"
    );
    let svg = draw::graph_svg(&f);
    assert!(size(&parse(&svg)).1 < whole / 2);
    assert!(svg.contains(" positions"), "a joined edge says how many");
    assert_legible(&svg);
}

// ---------------------------------------------------------------- timeline

/// The worked example, with the US call on Turkey and Russia corrected and the
/// UN's estimate retracted.
fn with_amendments() -> Example {
    let mut ex = example();
    let find = |party: &str, predicate: &str| {
        ex.records
            .iter()
            .find(|r| {
                matches!(&r.event, Some(Event::Statement(s))
                    if s.party == party && s.proposition.predicate == predicate)
            })
            .map(|r| r.seq)
            .expect("statement in the example")
    };
    let corrected = find("USA", "withdrawal");
    let retracted = find("UN", "presence");
    let correction = format!(
        r#"{{"type":"correction","of":{corrected},"reason":"the speaker named Russia first","statement":{{"said_on":"2021-01-28","party":"USA","stance":"calls-for","proposition":{{"predicate":"withdrawal","subjects":["RUS","TUR"],"location":"LBY"}},"quote":"we call on Russia and Turkey to withdraw","source":{{"publisher":"news report of 29 January 2021"}}}}}}"#
    );
    let retraction = format!(
        r#"{{"type":"retraction","of":{retracted},"reason":"an estimate, not a statement"}}"#
    );
    let mut ledger = ex.ledger;
    for line in [correction, retraction] {
        ledger
            .append(json::parse_event(&line).expect("event parses"))
            .expect("append");
    }
    ex = load(ledger);
    ex
}

#[test]
fn timeline_of_the_worked_example_shows_corrections_and_retractions() {
    let ex = with_amendments();
    let statements: Vec<&Recorded> = ex
        .records
        .iter()
        .filter(|r| matches!(r.event, Some(Event::Statement(_) | Event::Correction(_))))
        .collect();
    let seq_of = |kind: &str| {
        ex.records
            .iter()
            .find(|r| r.event.as_ref().is_some_and(|e| e.kind() == kind))
            .map(|r| r.seq)
            .expect(kind)
    };
    let (correction, retraction) = (seq_of("correction"), seq_of("retraction"));
    let (corrected, retracted) = match (
        &ex.records[correction as usize - 1].event,
        &ex.records[retraction as usize - 1].event,
    ) {
        (Some(Event::Correction(c)), Some(Event::Retraction(r))) => (c.of, r.of),
        other => panic!("{other:?}"),
    };

    let events = draw::timeline_events(&ex.records);
    assert_eq!(events.len(), statements.len());
    let status = |seq| events.iter().find(|e| e.seq == seq).map(|e| e.status);
    assert_eq!(
        status(corrected),
        Some(Status::Corrected { by: correction })
    );
    assert_eq!(
        status(retracted),
        Some(Status::Retracted { by: retraction })
    );
    assert_eq!(
        status(correction),
        Some(Status::Correction { of: corrected })
    );

    let svg = draw::timeline_svg(&events, Lanes::ByParty, None, None, &ex.actors, &ex.caption);
    let doc = parse(&svg);
    size(&doc);
    let marks = groups(&doc, "mark");
    assert_eq!(marks.len(), statements.len());
    let mark = |seq: u64| {
        marks
            .iter()
            .find(|m| m.attribute("data-seq") == Some(&seq.to_string()))
            .unwrap_or_else(|| panic!("no mark for seq {seq}"))
    };
    assert!(has_class(mark(corrected), "corrected"));
    assert!(has_class(mark(retracted), "retracted"));
    assert!(has_class(mark(correction), "correction"));
    let standing = marks.iter().filter(|m| has_class(m, "standing")).count();
    assert_eq!(standing, statements.len() - 3);
    for r in &statements {
        let m = mark(r.seq);
        let s = r
            .event
            .as_ref()
            .and_then(Event::statement)
            .expect("statement");
        assert!(has_class(m, stance_kind(&s.stance)), "seq {}", r.seq);
        assert_eq!(
            m.attribute("data-date"),
            Some(s.said_on.date.to_string().as_str())
        );
        assert_eq!(m.attribute("data-lane"), Some(s.party.as_str()));
        assert!(title_of(m).contains(&format!("seq {}", r.seq)));
    }
    // A link from the corrected statement to its correction.
    let links: Vec<_> = doc
        .descendants()
        .filter(|n| has_class(n, "correction-link"))
        .collect();
    assert_eq!(links.len(), 1);
    assert_eq!(
        links[0].attribute("data-from"),
        Some(corrected.to_string().as_str())
    );
    assert_eq!(
        links[0].attribute("data-to"),
        Some(correction.to_string().as_str())
    );

    // One lane per party.
    let parties: BTreeSet<&str> = statements
        .iter()
        .filter_map(|r| r.event.as_ref().and_then(Event::statement))
        .map(|s| s.party.as_str())
        .collect();
    let lanes: BTreeSet<&str> = groups(&doc, "lane")
        .iter()
        .filter_map(|n| n.attribute("data-lane"))
        .collect();
    assert_eq!(lanes, parties);
    assert_eq!(groups(&doc, "lane").len(), parties.len());

    // Thirty years of axis: year ticks, from 1990 to 2021.
    let ticks = ticks(&doc);
    assert!(ticks.len() >= 5, "{ticks:?}");
    assert!(ticks.iter().all(|d| d.ends_with("-01-01")), "{ticks:?}");
    assert!(ticks.first().is_some_and(|d| d.as_str() >= "1990"));
    assert!(ticks.last().is_some_and(|d| d.as_str() <= "2022"));

    // The legend names every kind and the statuses shown.
    let listed: BTreeSet<&str> = groups(&doc, "legend-item")
        .iter()
        .filter_map(|n| n.attribute("data-kind"))
        .collect();
    for r in &statements {
        let s = r
            .event
            .as_ref()
            .and_then(Event::statement)
            .expect("statement");
        assert!(listed.contains(stance_kind(&s.stance)));
    }
    for s in ["corrected", "retracted", "correction"] {
        assert!(listed.contains(s), "{s}");
    }
    let caption = all_text(&groups(&doc, "caption")[0]);
    assert!(caption.contains(&ex.caption.head.token()) && caption.contains("2021-01-29"));
}

fn ticks(doc: &roxmltree::Document) -> Vec<String> {
    groups(doc, "tick")
        .iter()
        .filter_map(|t| t.attribute("data-date").map(String::from))
        .collect()
}

#[test]
fn timeline_by_proposition_has_a_lane_per_proposition() {
    let ex = example();
    let events = draw::timeline_events(&ex.records);
    let svg = draw::timeline_svg(
        &events,
        Lanes::ByProposition,
        None,
        None,
        &ex.actors,
        &ex.caption,
    );
    let doc = parse(&svg);
    let propositions: BTreeSet<String> = events
        .iter()
        .map(|e| {
            format!(
                "{:?}",
                (
                    &e.predicate,
                    &e.subjects,
                    &e.location,
                    &e.qualifier,
                    &e.document
                )
            )
        })
        .collect();
    assert_eq!(groups(&doc, "lane").len(), propositions.len());
    assert_eq!(groups(&doc, "mark").len(), events.len());
    // Marks sit in lanes that exist.
    let lanes: BTreeSet<&str> = groups(&doc, "lane")
        .iter()
        .filter_map(|n| n.attribute("data-lane"))
        .collect();
    for m in groups(&doc, "mark") {
        assert!(lanes.contains(m.attribute("data-lane").expect("data-lane")));
    }
}

#[test]
fn a_single_day_and_a_range_give_day_ticks_and_drop_what_is_outside() {
    let ex = example();
    let events = draw::timeline_events(&ex.records);
    let day = date(2021, 1, 28);
    let on_day = events.iter().filter(|e| e.said_on.date == day).count();
    assert!(on_day >= 5);
    let svg = draw::timeline_svg(
        &events,
        Lanes::ByParty,
        Some(day),
        Some(day),
        &ex.actors,
        &ex.caption,
    );
    let doc = parse(&svg);
    assert_eq!(groups(&doc, "mark").len(), on_day);
    let t = ticks(&doc);
    assert!(t.contains(&"2021-01-28".to_string()), "{t:?}");
    assert!(groups(&doc, "axis").iter().all(|a| has_class(a, "days")));
    assert_legible(&svg);

    // The events themselves on a single day, without a range.
    let one: Vec<TimelineEvent> = events
        .iter()
        .filter(|e| e.said_on.date == day)
        .cloned()
        .collect();
    let svg = draw::timeline_svg(&one, Lanes::ByParty, None, None, &ex.actors, &ex.caption);
    let doc = parse(&svg);
    assert!(ticks(&doc).contains(&"2021-01-28".to_string()));
    assert_eq!(groups(&doc, "mark").len(), on_day);

    // A month: ticks by day or week, all within the range.
    let (from, to) = (date(2021, 1, 1), date(2021, 1, 31));
    let svg = draw::timeline_svg(
        &events,
        Lanes::ByParty,
        Some(from),
        Some(to),
        &ex.actors,
        &ex.caption,
    );
    let doc = parse(&svg);
    let t = ticks(&doc);
    assert!(
        t.len() >= 3
            && t.iter()
                .all(|d| d.as_str() >= "2020-12" && d.as_str() <= "2021-02"),
        "{t:?}"
    );
    assert_eq!(
        groups(&doc, "mark").len(),
        events.len() - 1,
        "the 1990 demand is outside"
    );
}

#[test]
fn no_statements_give_a_picture_that_says_so() {
    let ex = example();
    let svg = draw::timeline_svg(&[], Lanes::ByParty, None, None, &ex.actors, &ex.caption);
    let doc = parse(&svg);
    size(&doc);
    assert!(all_text(&doc.root_element()).contains("no statements"));
    assert!(groups(&doc, "mark").is_empty());
    // A range with nothing in it says so too.
    let events = draw::timeline_events(&ex.records);
    let svg = draw::timeline_svg(
        &events,
        Lanes::ByParty,
        Some(date(2000, 1, 1)),
        Some(date(2000, 12, 31)),
        &ex.actors,
        &ex.caption,
    );
    let doc = parse(&svg);
    assert!(all_text(&doc.root_element()).contains("no statements"));
    assert!(groups(&doc, "mark").is_empty());
}

// ---------------------------------------------------------------- escaping

#[test]
fn markup_in_names_quotes_and_hedges_stays_text() {
    let nasty = "Q<&>\"'uote </svg><script>";
    let mut actors = Actors::starter();
    actors
        .add(
            ActorDef {
                id: "ESC".into(),
                name: nasty.into(),
                kind: "other".into(),
                aliases: vec![],
                parent: None,
                cameo: None,
            },
            Some(1),
        )
        .expect("add actor");
    let said_on = SaidOn {
        date: date(2021, 1, 28),
        time: None,
    };
    let p = Position {
        key: PositionKey {
            party: "ESC".into(),
            predicate: "withdrawal".into(),
            subject: Some("RUS".into()),
            location: Some("LBY".into()),
            qualifier: Some("a<b".into()),
            document: None,
            modality: Modality::Normative,
        },
        stance: "demands".into(),
        hedge: Some("\"maybe\" & <perhaps>".into()),
        said_on,
        seq: 1,
        statements: vec![1],
        terms: Default::default(),
    };
    let mut caption = empty_caption();
    caption.filters = "party <&>\"".into();
    let g = draw::graph(std::slice::from_ref(&p), &actors, &caption);
    let svg = draw::graph_svg(&g);
    assert!(!svg.contains("<script>"));
    let doc = parse(&svg);
    let node = groups(&doc, "node")
        .into_iter()
        .find(|n| n.attribute("data-id") == Some("ESC"))
        .expect("ESC");
    assert_eq!(all_text(&node), nasty);
    let edge = &groups(&doc, "edge")[0];
    assert!(title_of(edge).contains("\"maybe\" & <perhaps>"));
    assert!(title_of(edge).contains(nasty));
    assert!(all_text(&groups(&doc, "caption")[0]).contains("party <&>\""));

    let dot = draw::graph_dot(&g);
    let bare = dot_outside_strings(&dot);
    assert_eq!(bare.matches('{').count(), bare.matches('}').count());
    assert_eq!(bare.matches("->").count(), 1);
    let v = draw::graph_json(&g);
    assert_eq!(v["nodes"].as_array().map(Vec::len), Some(2));
    assert!(v.to_string().contains("Q<&>\\\"'uote"));

    let e = TimelineEvent {
        seq: 1,
        said_on,
        party: "ESC".into(),
        stance: "demands".into(),
        predicate: "withdrawal".into(),
        subjects: vec!["RUS".into()],
        location: Some("LBY".into()),
        qualifier: Some("<&>".into()),
        document: None,
        hedge: Some("<i>".into()),
        terms: Terms::default(),
        quote: "we say \"<leave>\" & mean it\u{1}".into(),
        status: Status::Standing,
    };
    for lanes in [Lanes::ByParty, Lanes::ByProposition] {
        let svg = draw::timeline_svg(
            std::slice::from_ref(&e),
            lanes,
            None,
            None,
            &actors,
            &caption,
        );
        let doc = parse(&svg);
        let m = &groups(&doc, "mark")[0];
        assert!(title_of(m).contains("we say \"<leave>\" & mean it"));
        assert!(groups(&doc, "lane")
            .iter()
            .any(|l| all_text(l).contains("<&>") || all_text(l).contains(nasty)));
    }
}

// ---------------------------------------------------------------- terms and documents

const DOC: &str = "S/RES/2728(2024)";
const CONDITION: &str = "if constitutional order is not restored";

/// A joint ultimatum on a condition (France with the United Kingdom and the
/// United States: a position each), and an abstention on a resolution.
fn positions_with_terms() -> Vec<Position> {
    let ultimatum = |party: &str, others: [&str; 2]| Position {
        key: PositionKey {
            party: party.into(),
            predicate: "withdrawal".into(),
            subject: Some("RUS".into()),
            location: Some("LBY".into()),
            qualifier: None,
            document: None,
            modality: Modality::Normative,
        },
        stance: "demands".into(),
        hedge: None,
        said_on: SaidOn {
            date: date(2023, 7, 30),
            time: None,
        },
        seq: 3,
        statements: vec![3],
        terms: Terms {
            condition: Some(CONDITION.into()),
            deadline: Some(date(2023, 8, 6)),
            joint_with: others.map(String::from).to_vec(),
        },
    };
    let vote = Position {
        key: PositionKey {
            party: "USA".into(),
            predicate: "resolution".into(),
            subject: None,
            location: None,
            qualifier: None,
            document: Some(DOC.into()),
            modality: Modality::Formal,
        },
        stance: "abstains".into(),
        hedge: None,
        said_on: SaidOn {
            date: date(2024, 3, 25),
            time: None,
        },
        seq: 4,
        statements: vec![4],
        terms: Terms::default(),
    };
    vec![
        ultimatum("FRA", ["GBR", "USA"]),
        ultimatum("GBR", ["FRA", "USA"]),
        ultimatum("USA", ["FRA", "GBR"]),
        vote,
    ]
}

/// The DOT statement of the edge from `from` to `to`.
fn dot_edge<'a>(dot: &'a str, from: &str, to: &str) -> &'a str {
    let start = format!("  \"{from}\" -> \"{to}\" [");
    dot.lines()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("no edge {from} -> {to} in {dot}"))
}

/// The value of attribute `name` in a DOT statement, unescaped.
fn dot_attr(statement: &str, name: &str) -> String {
    let at = [format!("[{name}=\""), format!(" {name}=\"")]
        .iter()
        .find_map(|k| statement.find(k.as_str()))
        .unwrap_or_else(|| panic!("no {name} in {statement}"))
        + name.len()
        + 3;
    let mut out = String::new();
    let mut chars = statement[at..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return out,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some(c) => out.push(c),
                None => break,
            },
            c => out.push(c),
        }
    }
    panic!("unterminated {name} in {statement}")
}

#[test]
fn deadlines_conditions_joint_parties_and_documents_reach_the_graph() {
    let positions = positions_with_terms();
    let g = draw::graph(&positions, &Actors::starter(), &empty_caption());
    let svg = draw::graph_svg(&g);
    let doc = parse(&svg);
    let edges = groups(&doc, "edge");
    assert_eq!(edges.len(), positions.len());
    let edge = |from: &str, predicate: &str| {
        edges
            .iter()
            .find(|e| {
                e.attribute("data-from") == Some(from)
                    && e.attribute("data-predicate") == Some(predicate)
            })
            .unwrap_or_else(|| panic!("no {predicate} edge from {from}"))
    };

    // The ultimatum: its tooltip says all, its row says the deadline and who with.
    let fra = edge("FRA", "withdrawal");
    let tip = title_of(fra);
    for want in [
        "by 2023-08-06",
        &format!("condition: {CONDITION}"),
        "jointly with United Kingdom (GBR), United States (USA)",
    ] {
        assert!(
            tip.contains(want),
            "{want:?} missing from the tooltip {tip:?}"
        );
    }
    // (A long row is cut at its end, where the joint parties are: DOT has them whole.)
    let row = all_text(fra);
    assert!(row.contains("by 2023-08-06, conditional"), "{row}");
    assert_eq!(fra.attribute("data-deadline"), Some("2023-08-06"));
    assert_eq!(fra.attribute("data-document"), None);
    // Each party of the joint statement names the others.
    assert!(title_of(edge("USA", "withdrawal"))
        .contains("jointly with France (FRA), United Kingdom (GBR)"));

    // The vote: the document is part of the proposition, on the row and in the tooltip.
    let vote = edge("USA", "resolution");
    let tip = title_of(vote);
    assert!(tip.contains(&format!("document: {DOC}")), "{tip}");
    assert!(
        all_text(vote).contains(&format!("abstains resolution {DOC}")),
        "{}",
        all_text(vote)
    );
    assert_eq!(vote.attribute("data-document"), Some(DOC));
    // Terms it does not have are not invented.
    for absent in ["\nby ", "condition:", "jointly"] {
        assert!(!tip.contains(absent), "{absent:?} in {tip:?}");
    }
    assert_eq!(vote.attribute("data-deadline"), None);
    assert_legible(&svg);

    // DOT: the same words in the label and the tooltip.
    let dot = draw::graph_dot(&g);
    let line = dot_edge(&dot, "FRA", "RUS");
    let (label, tip) = (dot_attr(line, "label"), dot_attr(line, "tooltip"));
    assert!(label.contains("by 2023-08-06"), "{label}");
    assert!(
        label.ends_with("by 2023-08-06, conditional, jointly with GBR, USA"),
        "{label}"
    );
    assert!(tip.contains("\nby 2023-08-06"), "{tip}");
    assert!(tip.contains(&format!("\ncondition: {CONDITION}")), "{tip}");
    assert!(tip.contains("\njointly with United Kingdom (GBR), United States (USA)"));
    let line = dot_edge(&dot, "USA", "mark-USA-4");
    assert!(dot_attr(line, "label").contains(DOC), "{line}");
    assert!(dot_attr(line, "tooltip").contains(&format!("\ndocument: {DOC}")));

    // JSON: the fields of `positions --json`.
    let v = draw::graph_json(&g);
    let edges = v["edges"].as_array().expect("edges");
    let fra = edges
        .iter()
        .find(|e| e["from"] == "FRA")
        .expect("FRA's edge");
    assert_eq!(fra["deadline"], "2023-08-06");
    assert_eq!(fra["condition"], CONDITION);
    assert_eq!(fra["joint_with"], serde_json::json!(["GBR", "USA"]));
    assert_eq!(fra["document"], serde_json::Value::Null);
    let vote = edges
        .iter()
        .find(|e| e["predicate"] == "resolution")
        .expect("the vote");
    assert_eq!(vote["document"], DOC);
    assert_eq!(vote["deadline"], serde_json::Value::Null);
    assert_eq!(vote["joint_with"], serde_json::json!([]));
}

/// Statements of 26 July to 10 August 2023: a call; a joint demand with a
/// deadline and a condition (seq 2); a warning with a deadline, retracted
/// (seq 3, by seq 6); a demand whose deadline lies beyond the picture (seq 4);
/// an abstention on a resolution (seq 5); a call with a deadline the next day
/// (seq 7).
fn ledger_with_terms() -> Example {
    let mut ledger = Ledger::in_memory();
    ledger.set_clock(|| 1_795_953_600_000_000);
    let statement = |said_on: &str, party: &str, extra: serde_json::Value| {
        let mut v = serde_json::json!({
            "type": "statement", "said_on": said_on, "party": party,
            "quote": "q", "source": {"publisher": "AFP"}
        });
        v.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        v.to_string()
    };
    let lines = [
        statement(
            "2023-07-26",
            "USA",
            serde_json::json!({"stance": "calls-for",
                "proposition": {"predicate": "constitutional-order", "subjects": [], "location": "NER"}}),
        ),
        statement(
            "2023-07-30",
            "FRA",
            serde_json::json!({"joint_with": ["DEU", "GBR"], "stance": "demands",
                "condition": CONDITION, "deadline": "2023-08-06",
                "proposition": {"predicate": "constitutional-order", "subjects": [], "location": "NER"}}),
        ),
        statement(
            "2023-08-01",
            "GBR",
            serde_json::json!({"stance": "warns", "deadline": "2023-08-08",
                "proposition": {"predicate": "use-of-force", "subjects": ["ECOWAS"], "location": "NER"}}),
        ),
        statement(
            "2023-08-02",
            "DEU",
            serde_json::json!({"stance": "demands", "deadline": "2024-12-31",
                "proposition": {"predicate": "release", "subjects": [], "location": "NER", "qualifier": "president"}}),
        ),
        statement(
            "2023-08-10",
            "USA",
            serde_json::json!({"stance": "abstains",
                "proposition": {"predicate": "resolution", "subjects": [], "document": DOC}}),
        ),
        r#"{"type":"retraction","of":3,"reason":"misattributed"}"#.to_string(),
        statement(
            "2023-08-03",
            "GBR",
            serde_json::json!({"stance": "calls-for", "deadline": "2023-08-04",
                "proposition": {"predicate": "ceasefire", "subjects": [], "location": "NER"}}),
        ),
    ];
    for line in lines {
        let event = json::parse_event(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
        ledger
            .append(event)
            .unwrap_or_else(|e| panic!("{line}: {e}"));
    }
    load(ledger)
}

/// The first number of each path's `d` in `n`, in order.
fn path_starts(n: &roxmltree::Node) -> Vec<i64> {
    n.descendants()
        .filter(|d| d.has_tag_name("path"))
        .map(|d| {
            let p = d.attribute("d").expect("d");
            p[1..p.find(',').expect("x,y")].parse().expect("a whole x")
        })
        .collect()
}

#[test]
fn deadlines_conditions_joint_parties_and_documents_reach_the_timeline() {
    let ex = ledger_with_terms();
    let events = draw::timeline_events(&ex.records);
    assert_eq!(events.len(), 6);
    let joint = events.iter().find(|e| e.seq == 2).expect("seq 2");
    assert_eq!(
        joint.terms,
        Terms {
            condition: Some(CONDITION.into()),
            deadline: Some(date(2023, 8, 6)),
            joint_with: vec!["DEU".into(), "GBR".into()],
        }
    );
    let vote = events.iter().find(|e| e.seq == 5).expect("seq 5");
    assert_eq!(vote.document.as_deref(), Some(DOC));

    let svg = draw::timeline_svg(&events, Lanes::ByParty, None, None, &ex.actors, &ex.caption);
    let doc = parse(&svg);
    let marks = groups(&doc, "mark");
    let mark = |seq: u64| {
        marks
            .iter()
            .find(|m| m.attribute("data-seq") == Some(&seq.to_string()))
            .unwrap_or_else(|| panic!("no mark for seq {seq}"))
    };
    let tip = title_of(mark(2));
    for want in [
        "by 2023-08-06",
        &format!("condition: {CONDITION}"),
        "jointly with Germany (DEU), United Kingdom (GBR)",
    ] {
        assert!(tip.contains(want), "{want:?} missing from {tip:?}");
    }
    let label = all_text(mark(2));
    assert!(label.contains("by 2023-08-06"), "{label}");
    assert!(title_of(mark(5)).contains(&format!("document: {DOC}")));
    assert!(all_text(mark(5)).contains(&format!("abstains resolution {DOC}")));
    // The deadline beyond the picture and the retracted one stay in the tooltips.
    assert!(title_of(mark(4)).contains("by 2024-12-31"));
    assert!(title_of(mark(3)).contains("by 2023-08-08"));

    // A bar at the deadline's date, in the mark's row: only for a deadline on
    // the axis of a statement that stands.
    let fences = |m: &roxmltree::Node| -> Vec<String> {
        m.descendants()
            .filter(|d| d.has_tag_name("g") && has_class(d, "deadline"))
            .filter_map(|d| d.attribute("data-deadline").map(String::from))
            .collect()
    };
    assert_eq!(fences(mark(2)), ["2023-08-06"]);
    assert_eq!(fences(mark(7)), ["2023-08-04"]);
    for seq in [1, 3, 4, 5] {
        assert!(fences(mark(seq)).is_empty(), "seq {seq}");
    }
    // Where the axis puts 6 August, by its ticks (whole pixels: within one or two).
    let ticks: Vec<(i64, i64)> = groups(&doc, "tick")
        .iter()
        .map(|t| {
            let day = demarche::dates::days_from_date(
                t.attribute("data-date")
                    .expect("date")
                    .parse()
                    .expect("a date"),
            );
            (i64::from(day), path_starts(t)[0])
        })
        .collect();
    assert!(ticks.len() >= 2, "{ticks:?}");
    let ((d1, x1), (d2, x2)) = (ticks[0], ticks[ticks.len() - 1]);
    let deadline = i64::from(demarche::dates::days_from_date(date(2023, 8, 6)));
    let expected = x1 + (deadline - d1) * (x2 - x1) / (d2 - d1);
    let fence = mark(2)
        .descendants()
        .find(|d| d.has_tag_name("g") && has_class(d, "deadline"))
        .expect("the fence");
    let starts = path_starts(&fence);
    let (from, bar) = (starts[0], starts[1]);
    assert!(
        (bar - expected).abs() <= 2,
        "bar at {bar}, 6 August at {expected}"
    );
    assert!(from < bar, "the line runs from the mark to its deadline");
    assert!(title_of(&fence).contains("by 2023-08-06"));
    // A label never runs across its bar: cut short of it, or set beyond it
    // when the deadline is too near for that.
    let text_x = |m: &roxmltree::Node| {
        let t = m
            .children()
            .find(|c| c.has_tag_name("text"))
            .expect("a label");
        assert_eq!(t.attribute("text-anchor"), Some("start"));
        num(&t, "x")
    };
    assert!(text_x(mark(2)) < bar);
    let near = mark(7)
        .descendants()
        .find(|d| d.has_tag_name("g") && has_class(d, "deadline"))
        .expect("the next day's bar");
    assert!(path_starts(&near)[1] < text_x(mark(7)));
    assert!(all_text(mark(7)).starts_with("calls for ceasefire (NER), by 2023-08-04"));
    let listed: BTreeSet<&str> = groups(&doc, "legend-item")
        .iter()
        .filter_map(|n| n.attribute("data-kind"))
        .collect();
    assert!(listed.contains("deadline"), "{listed:?}");
    assert_legible(&svg);

    // By proposition: the document is part of the resolution's lane.
    let svg = draw::timeline_svg(
        &events,
        Lanes::ByProposition,
        None,
        None,
        &ex.actors,
        &ex.caption,
    );
    let doc = parse(&svg);
    let lane = groups(&doc, "lane")
        .into_iter()
        .find(|l| l.attribute("data-lane").is_some_and(|k| k.contains(DOC)))
        .expect("the resolution's lane");
    assert!(all_text(&lane).contains(DOC));
    let marks = groups(&doc, "mark");
    let joint = marks
        .iter()
        .find(|m| m.attribute("data-seq") == Some("2"))
        .expect("seq 2");
    assert_eq!(
        all_text(joint),
        "FRA demands, by 2023-08-06, conditional, jointly with DEU, GBR"
    );
    assert_legible(&svg);

    // Without a deadline in range, no bar and no legend entry.
    let svg = draw::timeline_svg(
        &events,
        Lanes::ByParty,
        None,
        Some(date(2023, 7, 31)),
        &ex.actors,
        &ex.caption,
    );
    let doc = parse(&svg);
    assert!(groups(&doc, "deadline").is_empty());
    assert!(groups(&doc, "legend-item")
        .iter()
        .all(|n| n.attribute("data-kind") != Some("deadline")));
    assert!(title_of(&groups(&doc, "mark")[1]).contains("by 2023-08-06"));
}

#[test]
fn markup_in_conditions_and_documents_stays_text() {
    let hostile = "</title><script>alert(1)</script> & \"quoted\" 'single'";
    let hostile_doc = "S/RES/<b>1</b>&\"2\"";
    let mut positions = positions_with_terms();
    positions[0].terms.condition = Some(format!("{hostile}\u{1}"));
    positions[3].key.document = Some(hostile_doc.into());
    let g = draw::graph(&positions, &Actors::starter(), &empty_caption());

    let svg = draw::graph_svg(&g);
    assert!(!svg.contains("<script>") && !svg.contains("<b>"));
    let doc = parse(&svg);
    let edges = groups(&doc, "edge");
    let fra = edges
        .iter()
        .find(|e| e.attribute("data-from") == Some("FRA"))
        .expect("FRA");
    assert!(
        title_of(fra).contains(&format!("condition: {hostile}\u{fffd}")),
        "{}",
        title_of(fra)
    );
    let vote = edges
        .iter()
        .find(|e| e.attribute("data-predicate") == Some("resolution"))
        .expect("vote");
    assert_eq!(vote.attribute("data-document"), Some(hostile_doc));
    assert!(title_of(vote).contains(hostile_doc));
    assert!(all_text(vote).contains(hostile_doc));

    let dot = draw::graph_dot(&g);
    let bare = dot_outside_strings(&dot);
    assert!(!bare.contains("script") && !bare.contains("RES"), "{bare}");
    assert_eq!(bare.matches('{').count(), 1);
    assert_eq!(bare.matches('[').count(), bare.matches(']').count());
    assert_eq!(bare.matches("->").count(), positions.len());
    let tip = dot_attr(dot_edge(&dot, "FRA", "RUS"), "tooltip");
    assert!(tip.contains(&format!("condition: {hostile} ")), "{tip}");
    assert!(dot_attr(dot_edge(&dot, "USA", "mark-USA-4"), "label").contains(hostile_doc));

    let e = TimelineEvent {
        seq: 1,
        said_on: SaidOn {
            date: date(2023, 7, 30),
            time: None,
        },
        party: "FRA".into(),
        stance: "demands".into(),
        predicate: "resolution".into(),
        subjects: vec![],
        location: None,
        qualifier: None,
        document: Some(hostile_doc.into()),
        hedge: None,
        terms: Terms {
            condition: Some(hostile.into()),
            deadline: Some(date(2023, 8, 6)),
            joint_with: vec!["GBR".into()],
        },
        quote: "q".into(),
        status: Status::Standing,
    };
    for lanes in [Lanes::ByParty, Lanes::ByProposition] {
        let svg = draw::timeline_svg(
            std::slice::from_ref(&e),
            lanes,
            None,
            None,
            &Actors::starter(),
            &empty_caption(),
        );
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
        let doc = parse(&svg);
        let m = &groups(&doc, "mark")[0];
        assert!(title_of(m).contains(&format!("condition: {hostile}")));
        assert!(title_of(m).contains(hostile_doc));
        let texts = all_text(&doc.root_element());
        assert!(texts.contains(hostile_doc), "{texts}");
    }
}
