//! What every subcommand starts from: the global options resolved (`Cli::common`), handed to
//! `serve` and to the offline commands of [`super::admin`].

use std::path::PathBuf;

use crate::config::FileConfig;

/// Global options common to every subcommand, resolved.
pub struct Common {
    pub file: FileConfig,
    pub data_dir: PathBuf,
    pub database: Option<crate::store::DatabaseUrl>,
    pub deployment: og_shared::DeploymentId,
}
