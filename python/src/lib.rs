//! `mlv._mlv`: git-mlv's library seen from Python. Only bindings live here: every
//! behaviour is the library's (`mlv::ops::read`, `mlv::ops::lineage`), and errors carry the
//! text the CLI prints. The Python half of the package (`mlv/`) shapes the public API.

use mlv::cache::Cache;
use mlv::hash::Hash;
use mlv::ops::read::{self, Entry};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use std::path::Path;
use std::ptr;
use std::sync::Mutex;

/// The Python exception for a library error: `mlv.errors.NotTrackedError` (a
/// `FileNotFoundError` too) for a path not tracked at the revision, else `UsageError` (the
/// CLI's exit 2) or `OperationError` (exit 1), with the CLI's message and hint lines.
fn raise(py: Python<'_>, err: anyhow::Error) -> PyErr {
    let (code, hint) = mlv::error::outcome(&err);
    let (message, hints) = mlv::error::message(&err, hint.as_deref());
    let text = std::iter::once(message)
        .chain(hints.iter().map(|h| format!("hint: {h}")))
        .collect::<Vec<_>>()
        .join("\n");
    let not_tracked = err.chain().any(|c| {
        matches!(
            c.downcast_ref::<read::ReadError>(),
            Some(read::ReadError::NotTracked { .. })
        )
    });
    let class = match (not_tracked, code) {
        (true, _) => "NotTrackedError",
        (false, 2) => "UsageError",
        _ => "OperationError",
    };
    let made = py
        .import("mlv.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1((text, hints.last().cloned())));
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

fn entry<'py>(py: Python<'py>, e: &Entry) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("path", &e.path)?;
    d.set_item("size", e.size)?;
    d.set_item("hash", e.hash.map(|h| h.to_string()))?;
    d.set_item("type", e.kind)?;
    Ok(d)
}

/// The object `hash` (`size` bytes) from `cache` as a Python `bytes`, copied into it
/// once, straight from the cache file's mapping: the new `bytes` is not zero-filled
/// first, and a big one is read and copied without the GIL. Not hashed again: cache
/// objects are verified when they enter the cache ([`Cache::object_bytes`]).
fn bytes<'py>(
    py: Python<'py>,
    cache: &Cache,
    hash: &Hash,
    size: u64,
) -> PyResult<Bound<'py, PyBytes>> {
    let big = size > BIG;
    let data = match big {
        true => py.detach(|| cache.object_bytes(hash, size)),
        false => cache.object_bytes(hash, size),
    }
    .map_err(|e| raise(py, e.into()))?;
    let len = ffi::Py_ssize_t::try_from(data.len()).map_err(|e| raise(py, e.into()))?;
    // SAFETY: with a NULL source CPython allocates `len` uninitialised bytes; the new
    // object is ours alone until it is returned, so filling it in place is allowed.
    let obj = unsafe {
        Bound::from_owned_ptr_or_err(py, ffi::PyBytes_FromStringAndSize(ptr::null(), len))?
    };
    // An address (not a pointer) crosses into the closure run without the GIL.
    let dst = unsafe { ffi::PyBytes_AsString(obj.as_ptr()) } as usize;
    let copy = || {
        // SAFETY: `dst` holds `data.len()` bytes (allocated above) that nothing else sees.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), dst as *mut u8, data.len()) }
    };
    match big {
        true => py.detach(copy),
        false => copy(),
    }
    // SAFETY: `PyBytes_FromStringAndSize` made a `bytes` object.
    Ok(unsafe { obj.cast_into_unchecked() })
}

/// Objects above this size are read with the GIL released.
const BIG: u64 = 1 << 20;

/// One repository at one revision, opened once for many reads.
#[pyclass(module = "mlv._mlv", frozen)]
struct Reader(Mutex<read::Reader>);

impl Reader {
    /// Runs `f` on the reader without holding the GIL (reads and downloads take time).
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&read::Reader) -> anyhow::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            let reader = self.0.lock().unwrap_or_else(|e| e.into_inner());
            f(&reader)
        })
        .map_err(|e| raise(py, e))
    }
}

#[pymethods]
impl Reader {
    #[new]
    #[pyo3(signature = (repo, rev=None, remote=None))]
    fn new(py: Python<'_>, repo: &str, rev: Option<&str>, remote: Option<&str>) -> PyResult<Self> {
        py.detach(|| read::Reader::open(repo, rev, remote))
            .map(|r| Reader(Mutex::new(r)))
            .map_err(|e| raise(py, e))
    }

    fn info<'py>(&self, py: Python<'py>, path: &str) -> PyResult<Bound<'py, PyDict>> {
        let e = self.with(py, |r| r.info(path))?;
        entry(py, &e)
    }

    #[pyo3(signature = (path, recursive=false))]
    fn ls<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        recursive: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let entries = self.with(py, |r| r.list(path, recursive))?;
        let list = PyList::empty(py);
        for e in &entries {
            list.append(entry(py, e)?)?;
        }
        Ok(list)
    }

    fn object_path(&self, py: Python<'_>, path: &str) -> PyResult<String> {
        let p = self.with(py, |r| r.object(path))?;
        Ok(p.display().to_string())
    }

    fn read<'py>(&self, py: Python<'py>, path: &str) -> PyResult<Bound<'py, PyBytes>> {
        let (cache, objects) = self.with(py, |r| Ok((r.cache().clone(), r.objects(&[path])?)))?;
        let (hash, size) = objects[0];
        bytes(py, &cache, &hash, size)
    }

    /// The bytes of every file in `paths`, in order; what the cache lacks is fetched first
    /// in one batch.
    fn read_many<'py>(
        &self,
        py: Python<'py>,
        paths: Vec<String>,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let (cache, objects) = self.with(py, |r| Ok((r.cache().clone(), r.objects(&paths)?)))?;
        objects
            .iter()
            .map(|(hash, size)| bytes(py, &cache, hash, *size))
            .collect()
    }

    /// Makes sure the cache holds the objects of the files `paths`, fetching what it
    /// lacks in one batch.
    fn fetch(&self, py: Python<'_>, paths: Vec<String>) -> PyResult<()> {
        self.with(py, |r| r.objects(&paths).map(drop))
    }

    fn url(&self, py: Python<'_>, path: &str) -> PyResult<String> {
        self.with(py, |r| r.url(path))
    }
}

/// `git mlv lineage --json`'s document, as JSON text.
#[pyfunction]
#[pyo3(signature = (artifact, rev=None, repo="."))]
fn lineage(py: Python<'_>, artifact: &str, rev: Option<&str>, repo: &str) -> PyResult<String> {
    py.detach(|| -> anyhow::Result<String> {
        let repo = mlv::repo::Repo::open(read::local_repo(repo)?)?;
        let node = mlv::ops::lineage::trace(&repo, Path::new(artifact), rev)?;
        Ok(serde_json::to_string(&mlv::ops::lineage::document(
            rev, &node,
        ))?)
    })
    .map_err(|e| raise(py, e))
}

#[pymodule]
fn _mlv(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Reader>()?;
    m.add_function(wrap_pyfunction!(lineage, m)?)?;
    Ok(())
}
