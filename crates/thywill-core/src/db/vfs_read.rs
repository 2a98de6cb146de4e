//! Reading a file that SQLite connections of this process may have open.
//!
//! Closing any descriptor of a file drops every POSIX lock the process holds on it, so a
//! plain `File::open` and close of the app's live database, in the app's process, silently
//! releases the locks of the app's own connections: another process may then write under
//! them. SQLite's unix file layer knows this: when a file it opened is closed while a
//! connection of the same library holds locks on that file, it keeps the descriptor open
//! until they are released. Reading through that layer (the default VFS) keeps the app's
//! locks wherever the core and the app share one SQLite library, as the Python module does.

use std::ffi::{c_int, c_void, CString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rusqlite::ffi;

/// A file open read-only through SQLite's default VFS, read from start to end.
pub(crate) struct VfsReader {
    vfs: *mut ffi::sqlite3_vfs,
    /// The `sqlite3_file` the VFS fills in (`szOsFile` bytes, 8-byte aligned).
    file: Vec<u64>,
    /// The name as SQLite wants it (two NULs at the end); it must outlive the open file.
    _name: Vec<u8>,
    size: u64,
    position: u64,
}

// SAFETY: the VFS handle and the file are used by one thread at a time (`&mut self`), and the
// unix VFS guards its shared per-file state with its own mutex.
unsafe impl Send for VfsReader {}

impl VfsReader {
    /// Opens `path` for reading.
    pub(crate) fn open(path: &Path) -> io::Result<VfsReader> {
        // SAFETY: sqlite3_vfs_find(NULL) returns the default VFS or NULL.
        let vfs = unsafe { ffi::sqlite3_vfs_find(std::ptr::null()) };
        if vfs.is_null() {
            return Err(io::Error::other("SQLite has no default VFS"));
        }
        let mut name = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in the path"))?
            .into_bytes_with_nul();
        name.push(0);
        // SAFETY: `vfs` is the registered default VFS; szOsFile is its file object's size.
        let (size_of_file, open) = unsafe { ((*vfs).szOsFile, (*vfs).xOpen) };
        let open = open.ok_or_else(|| io::Error::other("SQLite's VFS cannot open files"))?;
        let words = usize::try_from(size_of_file)
            .unwrap_or(0)
            .div_ceil(8)
            .max(1);
        let mut reader = VfsReader {
            vfs,
            file: vec![0u64; words],
            _name: name,
            size: 0,
            position: 0,
        };
        let mut out_flags: c_int = 0;
        // SAFETY: the file buffer is szOsFile bytes, zeroed (pMethods NULL until opened);
        // the name is NUL-terminated twice and lives as long as the reader.
        let rc = unsafe {
            open(
                vfs,
                reader._name.as_ptr().cast(),
                reader.file_ptr(),
                ffi::SQLITE_OPEN_READONLY | ffi::SQLITE_OPEN_MAIN_DB,
                &mut out_flags,
            )
        };
        if rc != ffi::SQLITE_OK {
            // The reader's Drop closes nothing: pMethods stays NULL after a failed open.
            return Err(match std::fs::metadata(path) {
                Err(missing) => missing,
                Ok(_) => reader.last_os_error(rc),
            });
        }
        let mut size: ffi::sqlite3_int64 = 0;
        let methods = reader.methods();
        // SAFETY: an open file and its own methods.
        let rc = match methods.and_then(|m| m.xFileSize) {
            Some(file_size) => unsafe { file_size(reader.file_ptr(), &mut size) },
            None => ffi::SQLITE_IOERR,
        };
        if rc != ffi::SQLITE_OK {
            return Err(reader.last_os_error(rc));
        }
        reader.size = u64::try_from(size).unwrap_or(0);
        Ok(reader)
    }

    /// The file's size when it was opened.
    pub(crate) fn len(&self) -> u64 {
        self.size
    }

    fn file_ptr(&mut self) -> *mut ffi::sqlite3_file {
        self.file.as_mut_ptr().cast()
    }

    fn methods(&self) -> Option<&ffi::sqlite3_io_methods> {
        // SAFETY: the buffer starts with the sqlite3_file header; pMethods is NULL or the
        // VFS's static method table.
        unsafe {
            let file: *const ffi::sqlite3_file = self.file.as_ptr().cast();
            (*file).pMethods.as_ref()
        }
    }

    /// The operating system's error behind a failed VFS call, else SQLite's code.
    fn last_os_error(&self, rc: c_int) -> io::Error {
        // SAFETY: `vfs` is the default VFS; xGetLastError writes at most 0 bytes here.
        let errno = unsafe {
            (*self.vfs)
                .xGetLastError
                .map_or(0, |last| last(self.vfs, 0, std::ptr::null_mut()))
        };
        if errno > 0 {
            io::Error::from_raw_os_error(errno)
        } else {
            io::Error::other(format!("SQLite's file layer failed (code {rc})"))
        }
    }
}

impl io::Read for VfsReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.size.saturating_sub(self.position);
        let n = usize::try_from(left).map_or(buf.len(), |left| left.min(buf.len()));
        let n = n.min(c_int::MAX as usize);
        if n == 0 {
            return Ok(0);
        }
        let offset = ffi::sqlite3_int64::try_from(self.position)
            .map_err(|_| io::Error::other("file offset beyond SQLite's range"))?;
        let read = self
            .methods()
            .and_then(|m| m.xRead)
            .ok_or_else(|| io::Error::other("SQLite's file cannot be read"))?;
        let file = self.file_ptr();
        // SAFETY: an open file, a buffer of at least `n` bytes, `n` within c_int.
        let rc = unsafe { read(file, buf.as_mut_ptr().cast::<c_void>(), n as c_int, offset) };
        match rc {
            ffi::SQLITE_OK => {
                self.position += n as u64;
                Ok(n)
            }
            // The file shrank since it was opened: what is left reads as zeros; stop at EOF.
            ffi::SQLITE_IOERR_SHORT_READ => {
                self.size = self.position;
                Ok(0)
            }
            other => Err(self.last_os_error(other)),
        }
    }
}

impl Drop for VfsReader {
    fn drop(&mut self) {
        if let Some(close) = self.methods().and_then(|m| m.xClose) {
            let file = self.file_ptr();
            // SAFETY: an open file, closed once; the VFS keeps the descriptor while
            // connections of this process hold locks on the file.
            unsafe { close(file) };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::VfsReader;

    #[test]
    fn reads_a_whole_file_and_reports_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.bin");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let mut reader = VfsReader::open(&path).unwrap();
        assert_eq!(reader.len(), data.len() as u64);
        let mut back = Vec::new();
        reader.read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
        let missing = VfsReader::open(&dir.path().join("nope")).err().unwrap();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    }
}
