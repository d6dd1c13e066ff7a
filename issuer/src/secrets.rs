//! What every secret is made from and kept in: 32 random bytes from the operating system, and
//! files and directories only the owner may read (0600/0700). Below every context: the store
//! keeps its database file private with it, the trust authority its keys.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use rand::RngExt as _;
use zeroize::Zeroizing;

/// Writes `contents` to a new file readable by the owner only.
pub fn write_secret_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

/// Creates `dir` (and its parents) if needed and makes it owner-only (0700), also when it
/// already existed with a wider mode.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

/// Creates `path` if it does not exist and makes it owner-only (0600), also when it existed.
pub fn ensure_private_file(path: &Path) -> std::io::Result<()> {
    OpenOptions::new().append(true).create(true).mode(0o600).open(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
}

/// Writes a new file readable by the owner only, in an owner-only directory (mails in demo
/// mode hold activation and reset links). The file appears whole or not at all (written to a
/// hidden `.<name>.tmp` beside it, then linked to its name), and never replaces one that
/// exists.
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "a file path has a name"))?;
    let nonce: [u8; 6] = rand::random();
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        nonce.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ));
    let written = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        // Fails if `path` exists: an existing file is never replaced.
        fs::hard_link(&tmp, path)
    })();
    let _ = fs::remove_file(&tmp);
    written
}

/// A password kept in a file (a Docker secret, a file only the service user reads): the file's
/// text without its final line break. `what` names it in the error, which never holds the text.
pub fn read_password_file(path: &Path, what: &str) -> Result<Zeroizing<String>, String> {
    let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read the {what} file {}: {e} (it must be readable by the user the issuer runs as)",
            path.display()
        )
    })?);
    let password = Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_owned());
    if password.is_empty() {
        return Err(format!("the {what} file {} is empty", path.display()));
    }
    Ok(password)
}

/// 32 bytes from the operating system's CSPRNG.
pub fn random_32() -> Zeroizing<[u8; 32]> {
    let mut b = Zeroizing::new([0u8; 32]);
    rand::rng().fill(&mut b[..]);
    b
}
