//! Saving the stat cache: the file's entries and the recorded ones merged in path order
//! (fresh ones from `add` streamed in), written whole under a temporary name and renamed
//! over the old file, so a reader never sees half of one.

use super::*;

/// Records merged between two releases of their pages.
const RELEASE_EVERY: usize = 1 << 16;

impl StatCache {
    /// Calls `f` with every entry in path order: the file's and the recorded ones merged,
    /// a recorded one winning, moved-away ones left out; then `fresh` (`<dir>/<rel>`,
    /// sorted by `<dir>/<rel>`) merged in, winning over both.
    fn for_each_merged<'a, I: Iterator<Item = Fresh<'a>>>(
        &self,
        fresh: Option<&dyn Fn() -> I>,
        mut f: impl FnMut(&[u8], Stat, Hash) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut fresh = fresh.map(|entries| entries().peekable());
        let mut key = Vec::new();
        // Emits the fresh entries before `p` (all of them when None); true when one is `p`.
        let mut fresh_up_to = |p: Option<&[u8]>, f: &mut Emit| {
            let Some(entries) = fresh.as_mut() else {
                return Ok(false);
            };
            while let Some((dir, rel, ..)) = entries.peek() {
                let parts: [&[u8]; 3] = [dir.as_bytes(), b"/", rel.as_bytes()];
                let ord = p.map_or(std::cmp::Ordering::Greater, |p| cmp_parts(p, &parts));
                if ord.is_lt() {
                    return Ok(false);
                }
                let (.., s, h) = entries.next().expect("peeked");
                key.clear();
                parts.iter().for_each(|part| key.extend_from_slice(part));
                f(&key, s, h)?;
                if ord.is_eq() {
                    return Ok(true);
                }
            }
            Ok(false)
        };
        let mut old = |p: &[u8], s: Stat, h: Hash| match fresh_up_to(Some(p), &mut f)? {
            true => Ok(()),
            false => f(p, s, h),
        };
        let mut added = self.added.iter().peekable();
        if let Some(base) = &self.base {
            for i in 0..base.count {
                // The records merged are done with: the map is not kept resident whole.
                if i % RELEASE_EVERY == 0 && i > 0 {
                    base.release(i - RELEASE_EVERY..i);
                }
                let p = base.path(i);
                while let Some((a, e)) = added.next_if(|(a, _)| a.as_bytes() < p) {
                    old(a.as_bytes(), e.0, e.1)?;
                }
                if added.peek().is_some_and(|(a, _)| a.as_bytes() == p) {
                    continue;
                }
                let moved = !self.removed.is_empty()
                    && std::str::from_utf8(p).is_ok_and(|s| self.removed.contains(s));
                if !moved {
                    let (s, h) = base.entry(i);
                    old(p, s, h)?;
                }
            }
        }
        for (a, e) in added {
            old(a.as_bytes(), e.0, e.1)?;
        }
        fresh_up_to(None, &mut f).map(|_| ())
    }

    /// Writes the stat cache atomically if anything changed. Racy entries are written too:
    /// the new file's later mtime makes them trustworthy once they are hashed again.
    pub fn save(&mut self) -> io::Result<()> {
        self.write(None::<&dyn Fn() -> std::iter::Empty<_>>)
    }

    /// `record` of every `(rel, stat, hash)` that `fresh` yields (sorted by rel) as
    /// `<dir>/<rel>`, then `save`, without holding them: for a million files just hashed
    /// by `add`, the recorded entries were 130 MB. They are merged straight into the file.
    pub fn save_with<'a, I: Iterator<Item = (&'a str, Stat, Hash)>>(
        &mut self,
        dir: &str,
        fresh: impl Fn() -> I,
    ) -> io::Result<()> {
        self.save_with_under(|| fresh().map(move |(rel, s, h)| (dir, rel, s, h)))
    }

    /// `save_with` of files under several folders: `fresh` yields `(dir, rel, stat, hash)`
    /// sorted by `<dir>/<rel>` (`checkout` of a million files recorded them one by one in
    /// memory, 130 MB, beside its plan).
    pub fn save_with_under<'a, I: Iterator<Item = Fresh<'a>>>(
        &mut self,
        fresh: impl Fn() -> I,
    ) -> io::Result<()> {
        let mut key = String::new();
        let changed = fresh().any(|(dir, rel, s, h)| {
            key.clear();
            key.push_str(dir);
            key.push('/');
            key.push_str(rel);
            self.get(&key) != Some((s, h))
        });
        if !changed {
            return self.save();
        }
        self.write(Some(&fresh as &dyn Fn() -> I))?;
        // The file now holds everything recorded: read it from there (it was written by
        // this process a moment ago, so it is not checked record by record again).
        if let Some(base) = Base::open_written(&self.path) {
            self.base = Some(base);
            self.added.clear();
            self.removed.clear();
        }
        Ok(())
    }

    fn write<'a, I: Iterator<Item = Fresh<'a>>>(
        &mut self,
        fresh: Option<&dyn Fn() -> I>,
    ) -> io::Result<()> {
        if !self.dirty && fresh.is_none() {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            fs_err::create_dir_all(dir)?;
        }
        let dirs: Vec<DirSummary> = self
            .dirs
            .iter()
            .map(|(d, (g, m, c, f))| (d.clone(), *g, *m, *c, f.clone()))
            .collect();
        let dirs = postcard::to_stdvec(&dirs).expect("folder table serializes");
        // Streamed in three passes over the merge rather than collected: a million
        // entries would be another 80 MB.
        let (mut count, mut blob_len) = (0u32, 0u64);
        self.for_each_merged(fresh, |p, _, _| {
            count += 1;
            blob_len += p.len() as u64;
            Ok(())
        })?;
        crate::fsutil::write_atomic_with(&self.path, |w| {
            w.write_all(MAGIC)?;
            w.write_all(&VERSION.to_le_bytes())?;
            w.write_all(&count.to_le_bytes())?;
            w.write_all(&blob_len.to_le_bytes())?;
            w.write_all(&(dirs.len() as u64).to_le_bytes())?;
            let mut off = 0u32;
            self.for_each_merged(fresh, |p, s, h| {
                w.write_all(&off.to_le_bytes())?;
                w.write_all(&(p.len() as u32).to_le_bytes())?;
                w.write_all(&s.to_bytes())?;
                w.write_all(h.as_bytes())?;
                off += p.len() as u32;
                Ok(())
            })?;
            self.for_each_merged(fresh, |p, _, _| w.write_all(p))?;
            w.write_all(&dirs)
        })?;
        self.dirty = false;
        self.must_save = false;
        self.learnt = 0;
        Ok(())
    }
}
