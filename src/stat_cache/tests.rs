use super::disk::HEADER;
use super::*;

fn stat(n: u64) -> Stat {
    Stat::new(n, 1_000 + n as i64, 2_000 + n as i64, 3_000 + n)
}

/// A saved cache with `paths`, reloaded with every entry older than its stamp.
fn saved(dir: &Path, paths: &[&str]) -> StatCache {
    let path = dir.join("sc");
    let mut sc = StatCache::load(&path);
    for (i, p) in paths.iter().enumerate() {
        sc.record((*p).into(), stat(i as u64), Hash::of(p.as_bytes()));
    }
    sc.save().unwrap();
    StatCache::load(&path)
}

#[test]
fn unchanged_file_is_trusted_only_once_older_than_the_stamp() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, b"a").unwrap();
    let meta = std::fs::metadata(&file).unwrap();
    let sc_path = dir.path().join("sc");
    let mut sc = StatCache::load(&sc_path);
    sc.record("f".into(), &meta, Hash::of(b"a"));
    // Same-tick write: racy until the saved file's mtime is later than the entry.
    sc.stamp_ns = crate::fsutil::mtime_ns(&meta);
    assert_eq!(
        sc.lookup("f", &meta),
        None,
        "an entry as new as the stamp is racy"
    );
    sc.stamp_ns += 1;
    assert_eq!(sc.lookup("f", &meta), Some(Hash::of(b"a")));
    sc.save().unwrap();
    let mut loaded = StatCache::load(&sc_path);
    assert!(loaded.base.as_ref().is_some_and(|b| b.count == 1));
    // Loaded from the file, the same guard holds against the file's own mtime.
    loaded.stamp_ns = crate::fsutil::mtime_ns(&meta);
    assert_eq!(loaded.lookup("f", &meta), None);
}

#[test]
fn changed_size_misses() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, b"a").unwrap();
    let mut sc = StatCache::load(&dir.path().join("sc"));
    sc.record(
        "f".into(),
        &std::fs::metadata(&file).unwrap(),
        Hash::of(b"a"),
    );
    sc.stamp_ns = i64::MAX;
    std::fs::write(&file, b"ab").unwrap();
    assert_eq!(sc.lookup("f", &std::fs::metadata(&file).unwrap()), None);
}

#[test]
fn round_trip_keeps_every_entry_and_merges_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let paths = ["b/2", "a", "b/1", "c/d/e", "b"];
    let mut sc = saved(dir.path(), &paths);
    sc.stamp_ns = i64::MAX;
    for (i, p) in paths.iter().enumerate() {
        assert_eq!(
            sc.lookup(p, stat(i as u64)),
            Some(Hash::of(p.as_bytes())),
            "{p}"
        );
    }
    assert_eq!(sc.lookup("b/3", stat(0)), None);
    // The same lookups without building the key.
    assert_eq!(sc.lookup_in("b", "1", stat(2)), Some(Hash::of(b"b/1")));
    assert_eq!(sc.lookup_in("c", "d/e", stat(3)), Some(Hash::of(b"c/d/e")));
    assert_eq!(sc.lookup_in("b", "", stat(4)), None, "`b/` is not `b`");
    assert_eq!(sc.lookup_in("c/d", "e", stat(3)), Some(Hash::of(b"c/d/e")));
    assert_eq!(sc.lookup_in("c", "d", stat(3)), None);
    let walked = sc.lookup_sorted_in(
        "b",
        [("0", stat(0)), ("1", stat(2)), ("2", stat(0))].into_iter(),
    );
    assert_eq!(
        walked,
        [None, Some(Hash::of(b"b/1")), Some(Hash::of(b"b/2"))]
    );
    // Unchanged entries leave the file alone; a new and a changed one are merged in.
    sc.record("a".into(), stat(1), Hash::of(b"a"));
    assert!(!sc.dirty);
    sc.record("a".into(), stat(9), Hash::of(b"A"));
    sc.record("aa".into(), stat(8), Hash::of(b"aa"));
    sc.record_dir("b", Hash::of(b"digest"), Hash::of(b"manifest"), None);
    sc.save().unwrap();
    let mut again = StatCache::load(&dir.path().join("sc"));
    again.stamp_ns = i64::MAX;
    assert_eq!(again.base.as_ref().map(|b| b.count), Some(6));
    assert_eq!(again.lookup("a", stat(9)), Some(Hash::of(b"A")));
    assert_eq!(again.lookup("aa", stat(8)), Some(Hash::of(b"aa")));
    assert_eq!(again.lookup("c/d/e", stat(3)), Some(Hash::of(b"c/d/e")));
    assert_eq!(
        again.dir_manifest("b", &Hash::of(b"digest")),
        Some((Hash::of(b"manifest"), None))
    );
    assert_eq!(again.dir_manifest("b", &Hash::of(b"other")), None);
}

#[test]
fn damaged_or_old_file_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sc");
    saved(dir.path(), &["a", "b"]);
    let good = std::fs::read(&path).unwrap();
    let damaged: [Vec<u8>; 4] = [
        good[..good.len() - 3].to_vec(),
        b"garbage".to_vec(),
        [&good[..], b"x"].concat(),
        // A version-1 file: postcard, no magic.
        vec![1, 0, 0, 0],
    ];
    for bytes in damaged {
        std::fs::write(&path, &bytes).unwrap();
        let mut sc = StatCache::load(&path);
        assert!(sc.base.is_none());
        assert_eq!(sc.lookup("a", stat(0)), None);
        // It is rebuilt on the next save.
        sc.record("a".into(), stat(0), Hash::of(b"a"));
        sc.save().unwrap();
        assert!(StatCache::load(&path).base.is_some());
    }
    // A record pointing outside the path blob makes the file unreadable, not a panic.
    let mut bad = good.clone();
    bad[HEADER..HEADER + 4].copy_from_slice(&1000u32.to_le_bytes());
    std::fs::write(&path, &bad).unwrap();
    assert!(StatCache::load(&path).base.is_none());
}

#[test]
fn rename_under_moves_a_folder_and_nothing_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut sc = saved(dir.path(), &["d/x", "d/y/z", "d2/x", "d", "e"]);
    sc.stamp_ns = i64::MAX;
    sc.record("d/new".into(), stat(7), Hash::of(b"d/new"));
    sc.record_dir("d", Hash::of(b"g"), Hash::of(b"m"), Some(Hash::of(b"c")));
    sc.rename_under("d", "n/d");
    for (old, i) in [("d/x", 0), ("d/y/z", 1), ("d", 3), ("d/new", 7)] {
        let new = format!("n/{old}");
        assert_eq!(sc.lookup(old, stat(i)), None, "{old} moved");
        assert_eq!(sc.lookup(&new, stat(i)), Some(Hash::of(old.as_bytes())));
    }
    assert_eq!(sc.lookup("d2/x", stat(2)), Some(Hash::of(b"d2/x")));
    assert_eq!(sc.dir_manifest("d", &Hash::of(b"g")), None);
    sc.save().unwrap();
    let mut again = StatCache::load(&dir.path().join("sc"));
    again.stamp_ns = i64::MAX;
    assert_eq!(again.lookup("d/x", stat(0)), None);
    assert_eq!(again.lookup("n/d/y/z", stat(1)), Some(Hash::of(b"d/y/z")));
    assert_eq!(again.lookup("e", stat(4)), Some(Hash::of(b"e")));
    again.forget_under("n/d");
    assert_eq!(again.lookup("n/d/x", stat(0)), None);
    assert_eq!(again.lookup("d2/x", stat(2)), Some(Hash::of(b"d2/x")));
}

#[test]
fn folder_digests_and_saved_records_of_one_folder() {
    let dir = tempfile::tempdir().unwrap();
    let paths = ["d/a", "d/b", "d/b/x", "d/c", "d/sub/y", "d0/z", "e"];
    let mut sc = saved(dir.path(), &paths);
    let names: Vec<String> = sc.saved_in("d").into_iter().map(|(n, _, _)| n).collect();
    assert_eq!(names, ["a", "b", "c"], "only the folder's own files");
    assert_eq!(sc.saved_in("d/sub")[0].2, Hash::of(b"d/sub/y"));
    assert!(sc.saved_in("nowhere").is_empty());
    // Folder digests belong to the digest they make: kept while it stays, dropped after.
    let (g, m) = (Hash::of(b"g"), Hash::of(b"m"));
    sc.record_dir("d", g, m, None);
    sc.record_folders("d", vec![("".into(), [7; 32])]);
    assert!(sc.worth_saving());
    sc.save().unwrap();
    let mut again = StatCache::load(&dir.path().join("sc"));
    assert_eq!(again.dir_folders("d", &m).map(|f| f.0.len()), Some(1));
    assert_eq!(again.dir_folders("d", &g), None, "another manifest");
    again.record_dir("d", g, m, Some(Hash::of(b"stamp")));
    assert!(again.dir_folders("d", &m).is_some());
    again.record_dir("d", Hash::of(b"moved"), m, None);
    assert_eq!(again.dir_folders("d", &m), None);
    // A few small hashes are not worth rewriting the file for; a folder table is.
    let big = tempfile::tempdir().unwrap();
    let many: Vec<String> = (0..300).map(|i| format!("f{i}")).collect();
    let mut few = saved(
        big.path(),
        &many.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    few.record("f1".into(), stat(99), Hash::of(b"new"));
    assert!(few.dirty && !few.worth_saving());
    few.record_dir("f", g, m, None);
    assert!(few.worth_saving());
}
