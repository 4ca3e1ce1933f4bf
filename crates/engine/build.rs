//! Compiles the files of `templates/data-platform` into the engine as an `include_str!` table
//! (`OUT_DIR/builtin_bundle.rs`, read by `src/bundle.rs`). A missing or empty folder still
//! builds: `Bundle::builtin()` then says so.

use std::error::Error;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let templates = crate_dir.join("../../templates");
    let root = templates.join("data-platform");
    let root = root.canonicalize().unwrap_or(root);

    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    if root.is_dir() {
        println!("cargo:rerun-if-changed={}", root.display());
        walk(&root, &root, &mut files, &mut unreadable)?;
    } else if templates.is_dir() {
        // Watching the parent makes the folder's arrival rebuild the table.
        println!("cargo:rerun-if-changed={}", templates.display());
    } else {
        println!("cargo:rerun-if-changed={}", root.display());
    }
    files.sort();
    unreadable.sort();

    let mut code = String::new();
    writeln!(
        code,
        "pub(crate) const ROOT: &str = {:?};",
        root.display().to_string()
    )?;
    writeln!(code, "pub(crate) const FILES: &[(&str, &str)] = &[")?;
    for (rel, abs) in &files {
        println!("cargo:rerun-if-changed={}", abs.display());
        writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        )?;
    }
    writeln!(code, "];")?;
    writeln!(code, "pub(crate) const UNREADABLE: &[&str] = &[")?;
    for rel in &unreadable {
        writeln!(code, "    {rel:?},")?;
    }
    writeln!(code, "];")?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("builtin_bundle.rs");
    fs::write(out, code)?;
    Ok(())
}

/// Collects every file under `dir` as (path relative to `root` with '/', absolute path);
/// files whose name starts with '.' are not part of a bundle (the same rule as
/// `bundle::read_dir`). Files that are not UTF-8 text are listed apart.
fn walk(
    root: &Path,
    dir: &Path,
    files: &mut Vec<(String, PathBuf)>,
    unreadable: &mut Vec<String>,
) -> Result<(), Box<dyn Error>> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let meta = fs::metadata(&path)?;
        if meta.is_dir() {
            walk(root, &path, files, unreadable)?;
            continue;
        }
        let rel = path
            .strip_prefix(root)?
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if std::str::from_utf8(&fs::read(&path)?).is_ok() {
            files.push((rel, path));
        } else {
            unreadable.push(rel);
        }
    }
    Ok(())
}
