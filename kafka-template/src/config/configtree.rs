//! `spring.config.import: configtree:<dir>/`: a directory of files, each
//! file's name its key and its content its value, as Kubernetes mounts a
//! Secret or a ConfigMap (Spring Boot's `ConfigTreePropertySource`).
//!
//! As Spring reads one: a file under sub-directories gets their names joined
//! with dots before its own (`kafka/producer/acks` is `kafka.producer.acks`);
//! hidden files and directories (Kubernetes' `..data` links) are skipped and
//! symbolic links followed; a value that is one line ending with a line
//! break loses that break (a PEM block keeps its lines); a location ending in
//! `/*/` reads each sub-directory as a tree of its own, in name order.

use std::io;
use std::path::{Path, PathBuf};

use super::keys::parse_key;
use super::merge::RawValue;
use super::origin::Origin;

/// How deep sub-directories are read (Spring's `MAX_DEPTH` is 100).
const MAX_DEPTH: usize = 100;

/// The trees a `configtree:` location names: the directory itself, or with
/// a trailing `*/` (or `*`) each of its sub-directories, in name order.
pub(crate) fn trees(location: &str) -> io::Result<Vec<PathBuf>> {
    let wildcard = location
        .strip_suffix("*/")
        .or_else(|| location.strip_suffix('*'));
    let Some(parent) = wildcard else {
        return Ok(vec![PathBuf::from(location)]);
    };
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(parent)?
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
    collect_files(root, Vec::new(), &mut files, 0)?;
    files.sort();
    let mut values = Vec::with_capacity(files.len());
    for (names, path) in files {
        let bytes = std::fs::read(&path)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not UTF-8 text", path.display()),
            )
        })?;
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

fn collect_files(
    dir: &Path,
    names: Vec<String>,
    files: &mut Vec<(Vec<String>, PathBuf)>,
    depth: usize,
) -> io::Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let mut named = names.clone();
        named.push(name.to_owned());
        // `is_dir` and `is_file` follow symbolic links, as Spring does.
        if path.is_dir() {
            collect_files(&path, named, files, depth + 1)?;
        } else if path.is_file() {
            files.push((named, path));
        }
    }
    Ok(())
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
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
        std::fs::write(root.join(".hidden"), "x").unwrap();
        std::fs::write(root.join("..data/kafka.producer.acks"), "0").unwrap();
        let values = read_tree(root).unwrap();
        let shown: Vec<(&str, &str)> = values
            .iter()
            .map(|v| (v.written.as_str(), v.value.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("kafka.producer.acks", "all"),
                ("spring.kafka.client-id", "orders")
            ]
        );
    }

    #[test]
    fn a_wildcard_names_each_sub_directory_in_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b", "a", ".hidden"] {
            std::fs::create_dir_all(dir.path().join(name)).unwrap();
        }
        std::fs::write(dir.path().join("file"), "x").unwrap();
        let location = format!("{}/*/", dir.path().display());
        assert_eq!(
            trees(&location).unwrap(),
            [dir.path().join("a"), dir.path().join("b")]
        );
    }
}
