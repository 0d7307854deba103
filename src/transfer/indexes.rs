//! The remote's pack indexes, its inventory of packed objects: one listing of `packs/`
//! per command (or, where the remote cannot list, its `packs/inventory` object), new
//! indexes downloaded and kept on this machine, ones no longer listed forgotten.

use super::Engine;
use crate::hash::Hash;
use crate::pack::{self, Index, Inventory};
use crate::remote::{ErrorKind, RemoteError};
use futures::StreamExt;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// An index bigger than this is damaged: a full 64 MiB pack of 1-byte objects needs less.
const INDEX_MAX: u64 = 64 << 20;

impl Engine {
    /// The remote's packed objects, read once per command.
    pub async fn packs(&self) -> Result<Arc<Inventory>, RemoteError> {
        if let Some(known) = self.inventory.lock().expect("not poisoned").clone() {
            return Ok(known);
        }
        let inventory = Arc::new(self.read_indexes().await?);
        *self.inventory.lock().expect("not poisoned") = Some(inventory.clone());
        Ok(inventory)
    }

    /// Indexes the remote lists but that are damaged, as `(key, why)`.
    pub fn damaged_indexes(&self) -> Vec<(String, String)> {
        self.damaged_indexes.lock().expect("not poisoned").clone()
    }

    /// Adds an index this command wrote to the inventory and to the local copies.
    pub(super) fn learn_index(&self, index: &Index) -> std::io::Result<()> {
        if let Some(local) = &self.local_indexes {
            local.save(index)?;
        }
        let mut known = self.inventory.lock().expect("not poisoned");
        // In place when no reader holds it: a push learns a pack at a time, and a copy of
        // a million-object inventory per pack would double the push's memory.
        Arc::make_mut(known.get_or_insert_with(Default::default)).add(index);
        Ok(())
    }

    async fn read_indexes(&self) -> Result<Inventory, RemoteError> {
        let listed = self
            .retry(|| self.backend.list(pack::DIR, usize::MAX))
            .await?;
        self.lists_packs.store(listed.is_some(), Ordering::Relaxed);
        let names: HashSet<Hash> = match listed {
            Some(listed) => listed
                .iter()
                .filter_map(|l| pack::pack_of_index_key(&l.key))
                .collect(),
            None => self.read_inventory_object().await?,
        };
        if let Some(local) = &self.local_indexes {
            for gone in local.cached().iter().filter(|p| !names.contains(p)) {
                local.forget(gone);
            }
        }
        Ok(Inventory::of(&self.indexes_of(names).await?))
    }

    /// The sound indexes of `packs`, read at once (damaged ones noted, gone ones skipped).
    pub(super) async fn indexes_of(
        &self,
        packs: impl IntoIterator<Item = Hash>,
    ) -> Result<Vec<Index>, RemoteError> {
        let read: Vec<Result<Option<Index>, RemoteError>> = futures::stream::iter(packs)
            .map(|p| self.index_of(p))
            .buffer_unordered(self.jobs)
            .collect()
            .await;
        let mut out = Vec::new();
        for index in read {
            out.extend(index?);
        }
        Ok(out)
    }

    /// The index of pack `p`: the local copy, else downloaded and checked (a damaged one
    /// is noted and skipped; one the inventory object names but that is gone, skipped).
    async fn index_of(&self, p: Hash) -> Result<Option<Index>, RemoteError> {
        if let Some(index) = self.local_indexes.as_ref().and_then(|l| l.read(&p)) {
            return Ok(Some(index));
        }
        let key = pack::index_key(&p);
        let bytes = match self.retry(|| self.backend.get_bytes(&key, INDEX_MAX)).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
            Err(e) if e.kind == ErrorKind::Corrupt => {
                self.note_damaged(key, e.to_string());
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        match Index::decode(&key, &bytes) {
            Ok(index) => {
                if let Some(local) = &self.local_indexes {
                    // Only a cache: a failed write means the next command downloads it again.
                    let _ = local.save(&index);
                }
                Ok(Some(index))
            }
            Err(e) => {
                self.note_damaged(key, e.to_string());
                Ok(None)
            }
        }
    }

    fn note_damaged(&self, key: String, why: String) {
        self.damaged_indexes
            .lock()
            .expect("not poisoned")
            .push((key, why));
    }

    /// The index names in `packs/inventory`, for a remote that cannot list.
    async fn read_inventory_object(&self) -> Result<HashSet<Hash>, RemoteError> {
        let text = match self
            .retry(|| self.backend.get_bytes(pack::INVENTORY_KEY, INDEX_MAX))
            .await
        {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(HashSet::new()),
            Err(e) => return Err(e),
        };
        Ok(text
            .lines()
            .filter_map(|l| pack::pack_of_index_key(&format!("{}{}", pack::DIR, l.trim())))
            .collect())
    }

    /// Adds `written` to `packs/inventory` on a remote that cannot list. Two pushes at
    /// once may each rewrite it without the other's line: those objects then look missing
    /// and the next push packs them again (waste, never loss).
    pub(super) async fn record_in_inventory(&self, written: &[Hash]) -> Result<(), RemoteError> {
        if written.is_empty() || self.lists_packs.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut names = self.read_inventory_object().await?;
        names.extend(written.iter().copied());
        let mut lines: Vec<String> = names.iter().map(|p| format!("{}.idx\n", p.hex())).collect();
        lines.sort();
        let text = lines.concat();
        self.retry(|| {
            self.backend
                .replace(pack::INVENTORY_KEY, text.clone().into())
        })
        .await
    }
}
