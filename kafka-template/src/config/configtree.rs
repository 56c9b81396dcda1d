//! `spring.config.import: configtree:<dir>/`: a directory of files, each
//! file's name its key and its content its value, as Kubernetes mounts a
//! Secret or a ConfigMap (Spring Boot's `ConfigTreePropertySource`).
//!
//! As Spring reads one: the location ends with `/`; a file under
//! sub-directories gets their names joined with dots before its own
//! (`kafka/producer/acks` is `kafka.producer.acks`); names starting with
//! `..` (Kubernetes' `..data` links and timestamped directories) are
//! skipped and symbolic links followed, each directory once; a value that is
//! one line ending with a line break loses that break (a PEM block keeps its
//! lines); a location ending in `/*/` reads each sub-directory as a tree of
//! its own, in name order. A file that is not UTF-8 text (a `.p12` or `.jks`
//! store mounted beside the values) is no value and is skipped.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

use super::keys::parse_key;
use super::merge::RawValue;
use super::origin::Origin;

/// How deep sub-directories are read (Spring's `MAX_DEPTH` is 100).
const MAX_DEPTH: usize = 100;

/// Why a `configtree:` location names no tree.
#[derive(Debug, PartialEq)]
pub(crate) enum TreeLocationError {
    /// It does not end with `/`: wrong even when optional (Spring asserts it).
    NoTrailingSlash,
    /// The directory is not there: wrong unless optional.
    Missing,
}

impl TreeLocationError {
    /// What the location should be, for "expected ...".
    pub(crate) fn expected(&self, dir: &str) -> String {
        match self {
            TreeLocationError::NoTrailingSlash => {
                format!("a directory ending with '/' (configtree:{dir}/), as Spring Boot requires")
            }
            TreeLocationError::Missing => format!(
                "a directory that exists ({dir} does not; prefix optional: if it may be missing)"
            ),
        }
    }
}

/// The trees a `configtree:` location names: the directory itself, or with
/// a trailing `*/` each of its sub-directories, in name order.
pub(crate) fn trees(location: &str) -> Result<Vec<PathBuf>, TreeLocationError> {
    if !location.ends_with('/') {
        return Err(TreeLocationError::NoTrailingSlash);
    }
    let Some(parent) = location.strip_suffix("*/") else {
        let dir = PathBuf::from(location);
        return match dir.is_dir() {
            true => Ok(vec![dir]),
            false => Err(TreeLocationError::Missing),
        };
    };
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(parent)
        .map_err(|_| TreeLocationError::Missing)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir() && !is_hidden(path))
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// The values of the tree at `root`, keys in file-name order.
pub(crate) fn read_tree(root: &Path) -> io::Result<Vec<RawValue>> {
    let mut files = Vec::new();
    let mut visited = HashSet::new();
    collect_files(root, Vec::new(), &mut files, &mut visited, 0)?;
    files.sort();
    let mut values = Vec::with_capacity(files.len());
    for (names, path) in files {
        let Ok(text) = String::from_utf8(std::fs::read(&path)?) else {
            tracing::debug!(file = %path.display(), "not UTF-8 text: no configuration value");
            continue;
        };
        let written = names.join(".");
        values.push(RawValue {
            key: parse_key(std::slice::from_ref(&written)),
            written,
            value: trim_one_line(text),
            origin: Origin::File { path, line: 1 },
        });
    }
    Ok(values)
}

/// The files under `dir`, each with its names from the root. A directory
/// reached again through a symbolic link is not read again.
fn collect_files(
    dir: &Path,
    names: Vec<String>,
    files: &mut Vec<(Vec<String>, PathBuf)>,
    visited: &mut HashSet<PathBuf>,
    depth: usize,
) -> io::Result<()> {
    if depth > MAX_DEPTH || !visited.insert(std::fs::canonicalize(dir)?) {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with("..") {
            continue;
        }
        let mut named = names.clone();
        named.push(name.to_owned());
        // `is_dir` and `is_file` follow symbolic links, as Spring does.
        if path.is_dir() {
            collect_files(&path, named, files, visited, depth + 1)?;
        } else if path.is_file() {
            files.push((named, path));
        }
    }
    Ok(())
}

/// Spring's hidden path element: a name starting with `..`.
fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(".."))
}

/// Spring's `AUTO_TRIM_TRAILING_NEW_LINE`: a value of one line loses the
/// line break it ends with; a value of several lines is kept whole.
fn trim_one_line(mut text: String) -> String {
    if text.ends_with('\n') && text.matches('\n').count() == 1 {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_values_lose_their_line_break_and_others_are_kept() {
        assert_eq!(trim_one_line("secret\n".into()), "secret");
        assert_eq!(trim_one_line("secret\r\n".into()), "secret");
        assert_eq!(trim_one_line("secret".into()), "secret");
        assert_eq!(trim_one_line("a\nb\n".into()), "a\nb\n");
        assert_eq!(trim_one_line("\n".into()), "");
    }

    #[test]
    fn nested_names_are_joined_with_dots_and_hidden_entries_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("kafka/producer")).unwrap();
        std::fs::create_dir_all(root.join("..data")).unwrap();
        std::fs::write(root.join("kafka/producer/acks"), "all\n").unwrap();
        std::fs::write(root.join("spring.kafka.client-id"), "orders").unwrap();
        std::fs::write(root.join(".dockerconfigjson"), "{}").unwrap();
        std::fs::write(root.join("..data/kafka.producer.acks"), "0").unwrap();
        std::fs::write(root.join("keystore.p12"), [0x30, 0x82, 0xff, 0xfe]).unwrap();
        // A link back to the root: read once, not forever.
        #[cfg(unix)]
        std::os::unix::fs::symlink(root, root.join("kafka/again")).unwrap();
        let values = read_tree(root).unwrap();
        let shown: Vec<(&str, &str)> = values
            .iter()
            .map(|v| (v.written.as_str(), v.value.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                (".dockerconfigjson", "{}"),
                ("kafka.producer.acks", "all"),
                ("spring.kafka.client-id", "orders")
            ]
        );
    }

    #[test]
    fn a_wildcard_names_each_sub_directory_in_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b", "a", "..data"] {
            std::fs::create_dir_all(dir.path().join(name)).unwrap();
        }
        std::fs::write(dir.path().join("file"), "x").unwrap();
        let location = format!("{}/*/", dir.path().display());
        assert_eq!(
            trees(&location).unwrap(),
            [dir.path().join("a"), dir.path().join("b")]
        );
        let without_slash = dir.path().join("a").display().to_string();
        assert_eq!(
            trees(&without_slash),
            Err(TreeLocationError::NoTrailingSlash)
        );
    }
}
