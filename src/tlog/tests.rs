use super::follow::{follow, DirSource, FollowError, State};
use super::publish::publish;
use super::*;
use crate::event::Event;
use crate::ledger::Ledger;
use crate::merkle::MemTree;
use crate::note;

#[test]
fn index_paths_are_groups_of_three_digits() {
    assert_eq!(index_path(0), "000");
    assert_eq!(index_path(5), "005");
    assert_eq!(index_path(1234067), "x001/x234/067");
    assert_eq!(index_path(1000), "x001/000");
    assert_eq!(tile_path(0, 1234067, 256), "tile/0/x001/x234/067");
    assert_eq!(tile_path(2, 3, 17), "tile/2/003.p/17");
    assert_eq!(entries_path(1, 5), "tile/entries/001.p/5");
    for n in [0, 7, 999, 1000, 1234067, u64::MAX] {
        for w in [1, 255, 256] {
            assert_eq!(
                parse_path(&tile_path(3, n, w)),
                Some(Resource::Tile(3, n, w))
            );
            assert_eq!(
                parse_path(&entries_path(n, w)),
                Some(Resource::Entries(n, w))
            );
        }
    }
    assert_eq!(parse_path("checkpoint"), Some(Resource::Checkpoint));
    for bad in [
        "tile/0/5",
        "tile/00/005",
        "tile/0/x000/005",
        "tile/0/005.p/0",
        "tile/0/005.p/256",
        "tile/0/005.p/07",
        "tile/64/005",
        "tile/0/../005",
        "tile/0/001/005",
        "tile/0/x1/005",
        "tile/entries/005/",
        "/checkpoint",
        "",
    ] {
        assert_eq!(parse_path(bad), None, "{bad}");
    }
}

#[test]
fn tile_widths_follow_the_specification_example() {
    // "a tree of size 70,000 will be represented by 273 full level 0 tiles,
    // one partial level 0 tile of width 112, one full level 1 tile, one
    // partial level 1 tile of width 17, and one partial level 2 tile of width 1"
    let s = 70_000;
    assert_eq!(tile_width(s, 0, 272), 256);
    assert_eq!(tile_width(s, 0, 273), 112);
    assert_eq!(tile_width(s, 0, 274), 0);
    assert_eq!(tile_width(s, 1, 0), 256);
    assert_eq!(tile_width(s, 1, 1), 17);
    assert_eq!(tile_width(s, 2, 0), 1);
    assert_eq!(tile_width(s, 3, 0), 0);
    assert_eq!(tile_width(256, 1, 0), 1);
}

fn leaves(n: u64) -> Vec<Digest> {
    (0..n)
        .map(|i| crate::merkle::leaf_hash(&i.to_be_bytes()))
        .collect()
}

#[test]
fn tiles_hold_the_tree_and_resume_from_their_partials() {
    for size in [1u64, 255, 256, 257, 511, 512, 65_537] {
        let all = leaves(size);
        let mut tiles = Tiles::new();
        let mut full = Vec::new();
        for l in &all {
            tiles.push(*l, |level, n, h| full.push((level, n, h.to_vec())));
        }
        let reference = MemTree::from_leaves(all.iter().copied());
        assert_eq!(tiles.root(), reference.root(), "size {size}");
        // Each full tile holds the roots of the subtrees it names.
        for (level, n, hashes) in &full {
            assert_eq!(hashes.len(), 256);
            let span = 256u64.pow(u32::from(*level));
            for (i, h) in hashes.iter().enumerate() {
                let first = ((n * 256 + i as u64) * span) as usize;
                assert_eq!(
                    *h,
                    crate::merkle::subtree_root(&all[first..first + span as usize])
                );
            }
        }
        let resumed = Tiles::resume(size, tiles.levels().to_vec()).unwrap();
        assert_eq!(resumed.root(), reference.root());
        // Growing on from the resumed partials gives the same tree as one walk.
        let more = leaves(size + 300);
        let mut a = resumed;
        let mut b = tiles.clone();
        for l in &more[size as usize..] {
            a.push(*l, |_, _, _| {});
            b.push(*l, |_, _, _| {});
        }
        assert_eq!(a.root(), MemTree::from_leaves(more.iter().copied()).root());
        assert_eq!(a.levels(), b.levels());
    }
    // Partials of the wrong width are refused, naming the level.
    assert_eq!(Tiles::resume(257, vec![vec![]]).unwrap_err(), 0);
    assert_eq!(Tiles::resume(3, vec![leaves(3), leaves(1)]).unwrap_err(), 1);
}

#[test]
fn bundles_split_back_into_their_entries() {
    let mut b = Vec::new();
    push_entry(&mut b, b"abc").unwrap();
    push_entry(&mut b, &[7u8; 300]).unwrap();
    assert_eq!(
        split_bundle(&b).unwrap(),
        vec![&b"abc"[..], &[7u8; 300][..]]
    );
    assert!(push_entry(&mut b, &vec![0u8; 65_536]).is_err());
    assert!(split_bundle(&b[..b.len() - 1])
        .unwrap_err()
        .contains("entry 1"));
    assert!(split_bundle(&[0, 0]).unwrap_err().contains("empty"));
    assert!(split_bundle(&[1]).unwrap_err().contains("cut short"));
}

/// A ledger of `n` actor events in memory, each a distinct record.
fn ledger_of(n: u64) -> Ledger {
    let mut l = Ledger::in_memory();
    l.set_clock(|| 1_795_953_600_000_000);
    extend(&mut l, 0, n);
    l
}

fn extend(l: &mut Ledger, from: u64, to: u64) {
    let events = (from..to).map(|i| {
        crate::json::parse_event(&format!(
            r#"{{"type":"actor","id":"X{i}","name":"Actor {i}","kind":"group"}}"#
        ))
        .map(|e: Event| e)
    });
    l.append_batch(events).unwrap();
}

#[test]
fn a_published_tree_is_followed_and_extended() {
    let dir = tempfile::tempdir().unwrap();
    let (key, vkey) = note::generate_key("test.example/log").unwrap();
    let mut l = ledger_of(300);
    let p = publish(&l, dir.path(), &key).unwrap();
    assert_eq!((p.size, p.previous), (300, 0));
    let mut records = Vec::new();
    let first = follow(&DirSource(dir.path().into()), &vkey, None, &mut |r, _| {
        records.push(r.header.seq);
        Ok(())
    })
    .unwrap();
    assert_eq!(records, (1..=300).collect::<Vec<_>>());
    assert_eq!(first.state.root, l.tree_head().unwrap().1);
    // The state file reads back, and checks itself.
    let text = first.state.to_text();
    assert_eq!(State::parse(&text, &vkey).unwrap(), first.state);
    let forged = text.replacen("tile ", "tile 00", 1);
    assert!(State::parse(&forged, &vkey).is_err());

    extend(&mut l, 300, 700);
    let p = publish(&l, dir.path(), &key).unwrap();
    assert_eq!((p.size, p.previous), (700, 300));
    // A server's live tiles and bundles are the published files.
    for (rel, live) in [
        ("tile/0/000", live_tile(&l, 0, 0, 256).unwrap()),
        ("tile/0/002.p/188", live_tile(&l, 0, 2, 188).unwrap()),
        ("tile/1/000.p/2", live_tile(&l, 1, 0, 2).unwrap()),
        ("tile/entries/001", live_bundle(&l, 1, 256).unwrap()),
        ("tile/entries/002.p/188", live_bundle(&l, 2, 188).unwrap()),
    ] {
        assert_eq!(
            live,
            Some(std::fs::read(dir.path().join(rel)).unwrap()),
            "{rel}"
        );
    }
    assert_eq!(live_tile(&l, 0, 2, 189).unwrap(), None);
    assert_eq!(live_bundle(&l, 3, 1).unwrap(), None);
    assert_eq!(
        live_bundle(&l, 2, 5)
            .unwrap()
            .map(|b| split_bundle(&b).unwrap().len()),
        Some(5)
    );
    // Publishing again writes nothing.
    assert_eq!(publish(&l, dir.path(), &key).unwrap().written, 0);
    let mut seqs = Vec::new();
    let second = follow(
        &DirSource(dir.path().into()),
        &vkey,
        Some(&first.state),
        &mut |r, _| {
            seqs.push(r.header.seq);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(seqs, (301..=700).collect::<Vec<_>>());
    assert_eq!(second.previous, 300);
    assert_eq!(second.state.root, l.tree_head().unwrap().1);
    // The partial tiles replaced by full ones are gone.
    assert!(!dir.path().join("tile/0/001.p").exists());
    assert!(dir.path().join("tile/0/002.p/188").exists());

    // A tree of the same log cut shorter is a rollback; another log is refused.
    let shorter = ledger_of(5);
    let sdir = tempfile::tempdir().unwrap();
    publish(&shorter, sdir.path(), &key).unwrap();
    let e = follow(
        &DirSource(sdir.path().into()),
        &vkey,
        Some(&second.state),
        &mut |_, _| Ok(()),
    )
    .unwrap_err();
    assert!(
        matches!(e, FollowError::Rollback { seen: 700, now: 5 }),
        "{e}"
    );
    let mut other = Ledger::in_memory();
    extend(&mut other, 1000, 1005);
    let odir = tempfile::tempdir().unwrap();
    publish(&other, odir.path(), &key).unwrap();
    let e = follow(
        &DirSource(odir.path().into()),
        &vkey,
        Some(&second.state),
        &mut |_, _| Ok(()),
    )
    .unwrap_err();
    assert!(matches!(e, FollowError::OtherLog { .. }), "{e}");
}

#[test]
fn records_held_beyond_memory_come_back_whole_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (key, vkey) = note::generate_key("test.example/log").unwrap();
    let l = ledger_of(600);
    publish(&l, dir.path(), &key).unwrap();
    let mut direct = Vec::new();
    super::follow::follow_lines(&DirSource(dir.path().into()), &vkey, None, &mut |line| {
        direct.extend_from_slice(line);
        Ok(())
    })
    .unwrap();
    let mut spilled = Vec::new();
    let mut lines = 0;
    super::follow::follow_lines_holding(
        &DirSource(dir.path().into()),
        &vkey,
        None,
        &mut |line| {
            assert!(line.ends_with(b"\n"));
            lines += 1;
            spilled.extend_from_slice(line);
            Ok(())
        },
        4096,
    )
    .unwrap();
    assert_eq!(lines, 600);
    assert_eq!(spilled, direct);
    let first: serde_json::Value =
        serde_json::from_slice(direct.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["seq"], 1);
}

#[test]
fn a_verified_tree_grows_with_the_ledger_and_refuses_another_chain() {
    let mut l = ledger_of(300);
    let v = Verified::new().extend(&l).unwrap();
    assert_eq!((v.size(), v.root()), l.tree_head().unwrap());
    assert_eq!(v.head(), l.head().unwrap());
    let cp = v.checkpoint().unwrap();
    assert_eq!(cp, crate::evidence::checkpoint_from_chain(&l).unwrap());
    extend(&mut l, 300, 520);
    let grown = v.extend(&l).unwrap();
    assert_eq!((grown.size(), grown.root()), l.tree_head().unwrap());
    assert_eq!(
        grown.checkpoint().unwrap(),
        crate::evidence::checkpoint_from_chain(&l).unwrap()
    );
    // Nothing new: the same tree.
    assert_eq!(grown.extend(&l).unwrap().root(), grown.root());
    // A ledger that does not extend what was verified is refused.
    let mut other = Ledger::in_memory();
    extend(&mut other, 1000, 1400);
    assert!(matches!(v.extend(&other), Err(VerifyError::Chain(_))));
    assert_eq!(Verified::new().checkpoint(), None);
}
