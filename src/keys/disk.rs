//! The key file on disk: created with O_EXCL (mode 0600), locked with `flock`, replaced by an
//! atomic rename after an fsync, so readers see the old file or the new one.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Creates the key file (O_EXCL, mode 0600) or opens the one that is there.
pub fn open_or_create(path: &Path) -> anyhow::Result<File> {
    let created = OpenOptions::new().read(true).write(true).create_new(true).mode(0o600).open(path);
    match created {
        Ok(file) => Ok(file),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            File::open(path).with_context(|| format!("cannot open the key file {}", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("cannot create the key file {}", path.display())),
    }
}

pub fn lock_exclusive(file: &File) -> std::io::Result<()> {
    // SAFETY: flock only reads the descriptor, which `file` keeps open; closing it unlocks.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Whether `file` is still the file at `path` (a writer may have replaced it meanwhile).
pub fn still_at(path: &Path, file: &File) -> anyhow::Result<bool> {
    let held = file.metadata().context("cannot stat the key file")?;
    match fs::metadata(path) {
        Ok(now) => Ok(now.ino() == held.ino() && now.dev() == held.dev()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot stat {}", path.display())),
    }
}

/// Writes `text` to a new file (O_EXCL, mode 0600) beside `path`, flushes it to disk and
/// renames it over `path`: readers see the old file or the new one.
pub fn replace(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut nonce = [0u8; 6];
    rand::fill(&mut nonce);
    let tmp = dir.join(format!(".{name}.{}.tmp", URL_SAFE_NO_PAD.encode(nonce)));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write the key file {}", path.display()));
    }
    // The rename itself survives a crash only once the directory is flushed.
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        log::warn!("cannot flush the directory of {}: {e}", path.display());
    }
    Ok(())
}

pub fn tighten_permissions(path: &Path) -> anyhow::Result<()> {
    let meta = fs::metadata(path).with_context(|| format!("cannot stat {}", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        log::warn!("the key file {} was readable by others; restricting it to the owner", path.display());
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {}", path.display()))?;
    }
    Ok(())
}
