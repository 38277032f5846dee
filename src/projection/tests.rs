use super::*;
use crate::json::parse_event;

fn rec(seq: Seq, line: &str) -> Entry {
    Entry {
        seq,
        recorded_at: seq as i64 * 1_000_000,
        event: Some(parse_event(line).expect("test line parses")),
    }
}

fn said(date: &str, party: &str, stance: &str, predicate: &str, subjects: &[&str]) -> String {
    serde_json::json!({
        "type": "statement", "said_on": date, "party": party, "stance": stance,
        "proposition": {"predicate": predicate, "subjects": subjects, "location": "LBY"},
        "quote": "q", "source": {"publisher": "p"}
    })
    .to_string()
}

fn retract(of: Seq) -> String {
    format!(r#"{{"type":"retraction","of":{of},"reason":"r"}}"#)
}

fn correct(of: Seq, date: &str, stance: &str) -> String {
    format!(
        r#"{{"type":"correction","of":{of},"statement":{{"said_on":"{date}","party":"USA","stance":"{stance}","proposition":{{"predicate":"withdrawal","subjects":["RUS"],"location":"LBY"}},"quote":"q","source":{{"publisher":"p"}}}}}}"#
    )
}

fn query() -> Query {
    Query::default()
}

fn stance_of(ps: &[Position], party: &str, subject: &str) -> Option<String> {
    ps.iter()
        .find(|p| p.key.party == party && p.key.subject.as_deref() == Some(subject))
        .map(|p| p.stance.clone())
}

#[test]
fn one_position_per_subject() {
    let ev = vec![rec(
        1,
        &said(
            "2021-01-28",
            "USA",
            "calls-for",
            "withdrawal",
            &["RUS", "TUR"],
        ),
    )];
    let ps = positions(&ev, &query());
    assert_eq!(ps.len(), 2);
    assert_eq!(stance_of(&ps, "USA", "RUS").as_deref(), Some("calls-for"));
    assert_eq!(stance_of(&ps, "USA", "TUR").as_deref(), Some("calls-for"));
}

#[test]
fn the_latest_said_wins_whatever_the_order_of_recording() {
    let ev = vec![
        rec(
            1,
            &said("2021-03-01", "USA", "demands", "withdrawal", &["RUS"]),
        ),
        rec(
            2,
            &said("2021-01-01", "USA", "calls-for", "withdrawal", &["RUS"]),
        ),
    ];
    let ps = positions(&ev, &query());
    assert_eq!(ps[0].stance, "demands");
    assert_eq!(ps[0].seq, 1);
    assert_eq!(ps[0].statements, vec![1]);
    let early = Query {
        as_of: Some(jiff::civil::date(2021, 2, 1)),
        ..query()
    };
    assert_eq!(positions(&ev, &early)[0].stance, "calls-for");
}

#[test]
fn ties_on_the_same_day_go_to_the_later_seq_and_support_accumulates() {
    let ev = vec![
        rec(
            1,
            &said("2021-01-28", "USA", "calls-for", "withdrawal", &["RUS"]),
        ),
        rec(
            2,
            &said("2021-01-28", "USA", "demands", "withdrawal", &["RUS"]),
        ),
        rec(
            3,
            &said("2021-01-20", "USA", "demands", "withdrawal", &["RUS"]),
        ),
    ];
    let ps = positions(&ev, &query());
    assert_eq!(ps[0].stance, "demands");
    assert_eq!(ps[0].seq, 2);
    assert_eq!(ps[0].statements, vec![2, 3]);
}

#[test]
fn corrections_replace_and_retractions_remove() {
    let base = vec![
        rec(
            1,
            &said("2021-01-28", "USA", "calls-for", "withdrawal", &["RUS"]),
        ),
        rec(2, &correct(1, "2021-01-28", "demands")),
    ];
    assert_eq!(positions(&base, &query())[0].stance, "demands");
    assert_eq!(
        positions(&base, &query())[0].seq,
        1,
        "a correction takes the place of what it corrects"
    );
    // A correction of the correction replaces the same statement again.
    let mut ev = base.clone();
    ev.push(rec(3, &correct(2, "2021-01-28", "rejects")));
    assert_eq!(positions(&ev, &query())[0].stance, "rejects");
    // Retracting the last correction brings back the one before it.
    ev.push(rec(4, &retract(3)));
    assert_eq!(positions(&ev, &query())[0].stance, "demands");
    // Retracting the statement removes it, corrections and all.
    ev.push(rec(5, &retract(1)));
    assert!(positions(&ev, &query()).is_empty());
    // As known before the retraction, it was there.
    let before = Query {
        known_at: Some(KnownAt::Seq(4)),
        ..query()
    };
    assert_eq!(positions(&ev, &before)[0].stance, "demands");
    let by_time = Query {
        known_at: Some(KnownAt::Time(2_500_000)),
        ..query()
    };
    assert_eq!(positions(&ev, &by_time)[0].stance, "demands");
    let first = Query {
        known_at: Some(KnownAt::Seq(1)),
        ..query()
    };
    assert_eq!(positions(&ev, &first)[0].stance, "calls-for");
}

#[test]
fn a_correction_can_move_a_statement_in_valid_time() {
    let ev = vec![
        rec(
            1,
            &said("2021-01-28", "USA", "calls-for", "withdrawal", &["RUS"]),
        ),
        rec(2, &correct(1, "2021-03-01", "calls-for")),
    ];
    let q = Query {
        as_of: Some(jiff::civil::date(2021, 2, 1)),
        ..query()
    };
    assert!(positions(&ev, &q).is_empty());
}

#[test]
fn the_stance_filter_looks_at_the_current_stance() {
    let ev = vec![
        rec(
            1,
            &said("2021-01-01", "USA", "demands", "withdrawal", &["RUS"]),
        ),
        rec(
            2,
            &said("2021-02-01", "USA", "rejects", "withdrawal", &["RUS"]),
        ),
    ];
    let q = Query {
        filter: Filter {
            stance: Some("demands".into()),
            ..Filter::default()
        },
        ..query()
    };
    assert!(positions(&ev, &q).is_empty(), "USA no longer demands it");
}

#[test]
fn diff_names_what_appeared_changed_and_ended() {
    let ev = vec![
        rec(
            1,
            &said("2021-01-01", "USA", "calls-for", "withdrawal", &["RUS"]),
        ),
        rec(
            2,
            &said("2021-01-01", "FRA", "calls-for", "withdrawal", &["TUR"]),
        ),
        rec(
            3,
            &said("2021-02-01", "USA", "demands", "withdrawal", &["RUS"]),
        ),
        rec(
            4,
            &said("2021-02-01", "GBR", "calls-for", "withdrawal", &["RUS"]),
        ),
        rec(5, &retract(2)),
    ];
    let at = |d| {
        positions(
            &ev,
            &Query {
                as_of: Some(d),
                known_at: Some(KnownAt::Seq(4)),
                ..query()
            },
        )
    };
    let changes = diff(
        at(jiff::civil::date(2021, 1, 15)),
        at(jiff::civil::date(2021, 2, 15)),
    );
    assert_eq!(changes.len(), 2);
    assert!(changes.iter().any(|c| matches!(c, Change::Changed { from, to } if from.stance == "calls-for" && to.stance == "demands")));
    assert!(changes
        .iter()
        .any(|c| matches!(c, Change::Appeared(p) if p.key.party == "GBR")));
    let now = |d| {
        positions(
            &ev,
            &Query {
                as_of: Some(d),
                ..query()
            },
        )
    };
    let changes = diff(
        now(jiff::civil::date(2021, 1, 15)),
        now(jiff::civil::date(2021, 2, 15)),
    );
    assert!(
        !changes
            .iter()
            .any(|c| matches!(c, Change::Ended(p) if p.key.party == "FRA")),
        "retracted: never held"
    );
}

#[test]
fn changes_read_from_two_folds_side_by_side_are_the_diff_of_their_positions() {
    let mut ev = Vec::new();
    let parties = ["USA", "FRA", "GBR", "TUR", "RUS"];
    let stances = ["calls-for", "demands", "rejects", "supports"];
    for i in 0..60u64 {
        let party = parties[(i % 5) as usize];
        let subject = parties[(i / 5 % 5) as usize];
        let stance = stances[(i / 3 % 4) as usize];
        let date = format!("2021-{:02}-{:02}", 1 + i / 10, 1 + i % 27);
        ev.push(rec(
            i + 1,
            &said(&date, party, stance, "withdrawal", &[subject]),
        ));
    }
    ev.push(rec(61, &retract(9)));
    let answer = |d| {
        let q = Query {
            as_of: Some(d),
            ..query()
        };
        let mut fold = Fold::new(&q, Amendments::collect(&ev, q.known_at));
        for r in &ev {
            fold.add(r);
        }
        fold.answer()
    };
    let (before, after) = (
        answer(jiff::civil::date(2021, 2, 10)),
        answer(jiff::civil::date(2021, 5, 20)),
    );
    let borrowed: Vec<Change> = changes(before.iter(), after.iter())
        .map(|c| c.to_change())
        .collect();
    // The owned diff, given its positions in another order, finds the same.
    let mut b = before.into_positions();
    let mut a = after.into_positions();
    b.reverse();
    a.reverse();
    // What changed, found another way: by key, in a map.
    let mut held: std::collections::BTreeMap<PositionKey, Position> =
        b.iter().map(|p| (p.key.clone(), p.clone())).collect();
    let mut expected = Vec::new();
    for p in &a {
        match held.remove(&p.key) {
            None => expected.push(Change::Appeared(p.clone())),
            Some(was)
                if (&was.stance, &was.hedge, &was.terms) != (&p.stance, &p.hedge, &p.terms) =>
            {
                expected.push(Change::Changed {
                    from: Box::new(was),
                    to: Box::new(p.clone()),
                })
            }
            Some(_) => {}
        }
    }
    expected.extend(held.into_values().map(Change::Ended));
    let owned = diff(b, a);
    assert_eq!(owned.len(), expected.len());
    for c in &expected {
        assert!(owned.contains(c), "{c:?}");
    }
    assert_eq!(borrowed, owned);
    assert!(owned.iter().any(|c| matches!(c, Change::Appeared(_))));
    assert!(owned.iter().any(|c| matches!(c, Change::Changed { .. })));
    let keys: Vec<&PositionKey> = owned
        .iter()
        .map(|c| match c {
            Change::Appeared(p) | Change::Ended(p) => &p.key,
            Change::Changed { to, .. } => &to.key,
        })
        .collect();
    assert!(keys.is_sorted(), "in key order");
}

#[test]
#[should_panic(expected = "out of key order")]
fn changes_refuse_positions_out_of_key_order() {
    let ev = vec![
        rec(
            1,
            &said("2021-01-01", "USA", "calls-for", "withdrawal", &["RUS"]),
        ),
        rec(
            2,
            &said("2021-01-01", "FRA", "calls-for", "withdrawal", &["TUR"]),
        ),
    ];
    let ps = positions(&ev, &query());
    let backwards: Vec<PositionRef<'_>> = ps.iter().rev().map(Position::view).collect();
    let _ = changes(backwards, std::iter::empty()).count();
}

/// A statement as a machine coder (GDELT) makes it, with `mentions`.
fn coded(date: &str, stance: &str, mentions: u32) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&said(date, "USA", stance, "withdrawal", &["RUS"])).expect("json");
    v["coded"] = serde_json::json!({"coder": "gdelt", "event_id": 7, "cameo": "1056",
        "mentions": mentions, "sources": 1, "goldstein": -5.0, "tone": -2.5});
    v.to_string()
}

#[test]
fn a_hand_recorded_statement_outranks_a_machine_coded_one_of_the_same_date() {
    let hand = said("2021-01-28", "USA", "calls-for", "withdrawal", &["RUS"]);
    // Recorded before or after it, the coded statement of the same date loses.
    for ev in [
        vec![rec(1, &hand), rec(2, &coded("2021-01-28", "demands", 40))],
        vec![rec(1, &coded("2021-01-28", "demands", 40)), rec(2, &hand)],
    ] {
        let ps = positions(&ev, &query());
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].stance, "calls-for", "{ev:?}");
    }
    // A later date still wins, whoever coded it.
    let ev = vec![rec(1, &hand), rec(2, &coded("2021-01-29", "demands", 40))];
    assert_eq!(positions(&ev, &query())[0].stance, "demands");
    // Between two coded statements of one date, the later seq.
    let ev = vec![
        rec(1, &coded("2021-01-28", "demands", 3)),
        rec(2, &coded("2021-01-28", "calls-for", 3)),
    ];
    assert_eq!(positions(&ev, &query())[0].stance, "calls-for");
}

#[test]
fn coder_filters_keep_hand_recorded_or_machine_coded_statements() {
    let ev = vec![
        rec(
            1,
            &said("2021-01-27", "USA", "calls-for", "withdrawal", &["RUS"]),
        ),
        rec(2, &coded("2021-01-28", "demands", 4)),
    ];
    let with = |coded_by: Option<&str>, min_mentions: Option<u32>| {
        let q = Query {
            filter: Filter {
                coded_by: coded_by.map(str::to_string),
                min_mentions,
                ..Filter::default()
            },
            ..query()
        };
        positions(&ev, &q)
            .into_iter()
            .map(|p| (p.stance, p.statements))
            .collect::<Vec<_>>()
    };
    assert_eq!(with(None, None), vec![("demands".into(), vec![2])]);
    assert_eq!(
        with(Some("human"), None),
        vec![("calls-for".into(), vec![1])]
    );
    assert_eq!(with(Some("gdelt"), None), vec![("demands".into(), vec![2])]);
    // Too few mentions: the coded statement is out, the hand-recorded one kept.
    assert_eq!(with(None, Some(5)), vec![("calls-for".into(), vec![1])]);
    assert_eq!(with(Some("gdelt"), Some(5)), vec![]);
    assert_eq!(
        with(Some("gdelt"), Some(4)),
        vec![("demands".into(), vec![2])]
    );
}

/// A replay applies the amendments it met once the chain is read: one that
/// names a seq past the last read (only a forged chain has one) is passed
/// over, not used to size anything.
#[test]
fn amendments_of_seqs_past_the_read_are_passed_over() {
    let ev = [rec(
        1,
        &said("2021-01-28", "USA", "demands", "withdrawal", &["RUS"]),
    )];
    let q = query();
    let mut fold = Fold::new(&q, Amendments::default());
    fold.add(&ev[0]);
    let mut amendments = Amendments::default();
    amendments.retracted.insert(Seq::MAX);
    fold.amend(amendments, 1, |_| true);
    let ps = fold.finish();
    assert_eq!(stance_of(&ps, "USA", "RUS").as_deref(), Some("demands"));
}
