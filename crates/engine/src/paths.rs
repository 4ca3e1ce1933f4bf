//! Where Landfall keeps its state, shared by the CLI and the desktop: the data directory
//! (`$LANDFALL_DATA_DIR`, else the platform's data folder + `landfall`) and the keyring service
//! name (`$LANDFALL_KEYRING_SERVICE`, else `landfall`), both overridable so tests never touch
//! the user's files or keyring entries.
//!
//! The platform rules are the ones the `dirs` crate follows, written out rather than taken as a
//! dependency for four environment variables: `$XDG_DATA_HOME` or `~/.local/share` on Linux
//! and the BSDs, `~/Library/Application Support` on macOS, `%APPDATA%` on Windows.

use std::ffi::OsString;
use std::path::PathBuf;

use landfall_azure::auth::cache::KEYRING_SERVICE;

/// Overrides the data directory.
pub const DATA_DIR_VAR: &str = "LANDFALL_DATA_DIR";
/// Overrides the keyring service name.
pub const KEYRING_SERVICE_VAR: &str = "LANDFALL_KEYRING_SERVICE";

/// The data directory, from the environment.
pub fn data_dir() -> Result<PathBuf, String> {
    data_dir_from(|name| std::env::var_os(name))
}

/// The keyring service name, from the environment.
pub fn keyring_service() -> String {
    std::env::var(KEYRING_SERVICE_VAR)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| KEYRING_SERVICE.to_owned())
}

/// The data directory given a way to read environment variables (tests pass a map).
fn data_dir_from(var: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf, String> {
    // An empty or relative value is ignored, as the XDG base directory spec says.
    let absolute = |name: &str| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
    if let Some(dir) = absolute(DATA_DIR_VAR) {
        return Ok(dir);
    }
    let base = if cfg!(windows) {
        absolute("APPDATA")
    } else if cfg!(target_os = "macos") {
        absolute("HOME").map(|h| h.join("Library").join("Application Support"))
    } else {
        absolute("XDG_DATA_HOME").or_else(|| absolute("HOME").map(|h| h.join(".local/share")))
    };
    base.map(|b| b.join("landfall")).ok_or_else(|| {
        let home = if cfg!(windows) { "APPDATA" } else { "HOME" };
        format!("cannot find a data folder: set {DATA_DIR_VAR} (or {home}) to an absolute path")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<PathBuf, String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        data_dir_from(|name| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn the_override_wins_and_relative_paths_are_ignored() {
        assert_eq!(
            with(&[(DATA_DIR_VAR, "/tmp/lf"), ("HOME", "/home/ada")]).unwrap(),
            PathBuf::from("/tmp/lf")
        );
        assert!(with(&[(DATA_DIR_VAR, "relative")]).is_err());
        let e = with(&[]).unwrap_err();
        assert!(e.contains(DATA_DIR_VAR), "{e}");
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn linux_follows_the_xdg_rules() {
        assert_eq!(
            with(&[("HOME", "/home/ada")]).unwrap(),
            PathBuf::from("/home/ada/.local/share/landfall")
        );
        assert_eq!(
            with(&[("HOME", "/home/ada"), ("XDG_DATA_HOME", "/data")]).unwrap(),
            PathBuf::from("/data/landfall")
        );
        assert_eq!(
            with(&[("HOME", "/home/ada"), ("XDG_DATA_HOME", "")]).unwrap(),
            PathBuf::from("/home/ada/.local/share/landfall")
        );
    }
}
