//! Secrets on disk: the ticket-signing key and the server's other random secrets.
//!
//! Every secret file is created with mode 0600 (`create_new`, so an existing file is never
//! overwritten) and read back on later starts. Nothing in this module logs or prints a secret:
//! only paths and key ids.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use og_shared::{DeploymentId, TicketSigner};
use zeroize::Zeroizing;

/// File name of the ticket-signing key inside `<data dir>/keys/`.
pub const SIGNING_KEY_FILE: &str = "ticket-signing-key.pem";

pub use crate::secrets::{create_private_dir, ensure_private_file, random_32, write_private_file, write_secret_file};

/// The key directory of a data dir.
pub fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
}

/// Loads the signing key, creating it (mode 0600) on first start. Returns the signer and
/// whether it was created now.
pub fn load_or_create_signer(path: &Path, deployment: &DeploymentId) -> Result<(TicketSigner, bool), String> {
    if path.exists() {
        let pem = Zeroizing::new(
            fs::read_to_string(path).map_err(|e| format!("cannot read signing key {}: {e}", path.display()))?,
        );
        let signer = TicketSigner::from_pkcs8_pem(&pem, deployment.clone())
            .map_err(|e| format!("signing key {}: {e}", path.display()))?;
        return Ok((signer, false));
    }
    let secret = random_32();
    let signer = TicketSigner::from_secret_bytes(&secret, deployment.clone());
    let pem = signer.to_pkcs8_pem().map_err(|e| e.to_string())?;
    write_secret_file(path, pem.as_bytes())
        .map_err(|e| format!("cannot create signing key {}: {e}", path.display()))?;
    Ok((signer, true))
}

/// Directory of retired signing keys inside `<data dir>/keys/`.
pub const RETIRED_DIR: &str = "retired";

/// Loads the retired signing keys (`<keys dir>/retired/*.pem`, see [`rotate_signer`]). The issuer
/// no longer signs tickets with them, only the key set it publishes, so that a gate trusting only
/// an older key adopts the new one.
pub fn load_retired_signers(keys_dir: &Path, deployment: &DeploymentId) -> Result<Vec<TicketSigner>, String> {
    let dir = keys_dir.join(RETIRED_DIR);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pem"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let pem = Zeroizing::new(fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?);
            TicketSigner::from_pkcs8_pem(&pem, deployment.clone()).map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect()
}

/// Retires the signing key at `path` (moved, still 0600, to `retired/<key id>.pem` beside it) and
/// creates a new one there. Run with the issuer stopped. Returns (old key, new key).
pub fn rotate_signer(path: &Path, deployment: &DeploymentId) -> Result<(TicketSigner, TicketSigner), String> {
    let (old, created) = load_or_create_signer(path, deployment)?;
    if created {
        return Err(format!(
            "there was no signing key at {}: one was created, nothing to rotate",
            path.display()
        ));
    }
    let dir = path.parent().unwrap_or(Path::new(".")).join(RETIRED_DIR);
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())?;
    let retired = dir.join(format!("{}.pem", old.key_id()));
    if retired.exists() {
        return Err(format!("{} already exists", retired.display()));
    }
    fs::rename(path, &retired).map_err(|e| format!("cannot move the key to {}: {e}", retired.display()))?;
    let (new, _) = load_or_create_signer(path, deployment)?;
    Ok((old, new))
}

/// Loads a 32-byte secret stored as hex in `path`, creating it (0600) on first start.
pub fn load_or_create_secret(path: &Path) -> Result<Zeroizing<[u8; 32]>, String> {
    if path.exists() {
        let text =
            Zeroizing::new(fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?);
        let mut out = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), &mut out[..])
            .map_err(|_| format!("{} does not hold 64 hex digits", path.display()))?;
        return Ok(out);
    }
    let secret = random_32();
    let hex = Zeroizing::new(hex::encode(&secret[..]));
    write_secret_file(path, hex.as_bytes()).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signing_key_file_is_created_owner_only_and_reloads_to_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = keys_dir(dir.path()).join(SIGNING_KEY_FILE);
        let dep = DeploymentId::parse("test").unwrap();
        let (a, created) = load_or_create_signer(&path, &dep).unwrap();
        assert!(created);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (b, created) = load_or_create_signer(&path, &dep).unwrap();
        assert!(!created);
        assert_eq!(a.verifying_key(), b.verifying_key());
    }

    #[test]
    fn a_rotated_key_is_kept_as_retired_and_a_new_one_signs() {
        let dir = tempfile::tempdir().unwrap();
        let kd = keys_dir(dir.path());
        let path = kd.join(SIGNING_KEY_FILE);
        let dep = DeploymentId::parse("test").unwrap();
        assert!(rotate_signer(&path, &dep).is_err(), "nothing to rotate yet");
        let (first, _) = load_or_create_signer(&path, &dep).unwrap();
        let (old, new) = rotate_signer(&path, &dep).unwrap();
        assert_eq!(old.key_id(), first.key_id());
        assert_ne!(new.key_id(), old.key_id());
        let retired = load_retired_signers(&kd, &dep).unwrap();
        assert_eq!(retired.len(), 1);
        assert_eq!(retired[0].key_id(), old.key_id());
        let f = kd.join(RETIRED_DIR).join(format!("{}.pem", old.key_id()));
        assert_eq!(fs::metadata(f).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(load_or_create_signer(&path, &dep).unwrap().0.key_id(), new.key_id());
    }

    #[test]
    fn a_secret_file_is_created_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.hex");
        let a = load_or_create_secret(&path).unwrap();
        let b = load_or_create_secret(&path).unwrap();
        assert_eq!(&a[..], &b[..]);
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
