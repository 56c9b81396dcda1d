//! Finding Java (`JAVA_HOME`, else `PATH`) without running anything that could hang.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::EmbeddedKafkaError;

/// The Java the broker and Kafka's tools run on.
#[derive(Clone, Debug)]
pub(crate) struct Java {
    pub(crate) java: PathBuf,
}

/// `name` as an executable file in one of `PATH`'s directories.
pub(crate) fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

impl Java {
    /// `$JAVA_HOME/bin/java` when `JAVA_HOME` is set (it must be there), else
    /// `java` on `PATH`; `explicit` (the builder's `java_home`) wins over both.
    pub(crate) fn find(explicit: Option<&Path>) -> Result<Java, EmbeddedKafkaError> {
        let home = explicit.map(Path::to_path_buf).or_else(|| {
            std::env::var_os("JAVA_HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from)
        });
        if let Some(home) = home {
            let java = home.join("bin").join("java");
            return if is_executable(&java) {
                Ok(Java { java })
            } else {
                Err(EmbeddedKafkaError::JavaNotFound {
                    searched: format!("JAVA_HOME is {}, but it has no bin/java", home.display()),
                })
            };
        }
        match on_path("java") {
            Some(java) => Ok(Java { java }),
            None => Err(EmbeddedKafkaError::JavaNotFound {
                searched: "JAVA_HOME is not set and there is no `java` on PATH".to_owned(),
            }),
        }
    }

    /// `javac` beside this `java` (through symlinks such as Debian's
    /// alternatives), else on `PATH`.
    pub(crate) fn javac(&self) -> Result<PathBuf, EmbeddedKafkaError> {
        let real = std::fs::canonicalize(&self.java).unwrap_or_else(|_| self.java.clone());
        [
            real.with_file_name("javac"),
            self.java.with_file_name("javac"),
        ]
        .into_iter()
        .find(|c| is_executable(c))
        .or_else(|| on_path("javac"))
        .ok_or_else(|| EmbeddedKafkaError::JavacNotFound {
            java: self.java.clone(),
        })
    }

    /// The major version `java -version` reports (`None` when it says nothing
    /// readable: the broker's own start then tells).
    pub(crate) fn major_version(&self) -> Result<Option<u32>, EmbeddedKafkaError> {
        let output = Command::new(&self.java)
            .arg("-version")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                EmbeddedKafkaError::io(format!("run {} -version", self.java.display()), e)
            })?;
        Ok(parse_major(&String::from_utf8_lossy(&output.stderr)))
    }

    /// Fails when this Java is older than Kafka `version` needs (17 for 4.x).
    pub(crate) fn check_for(&self, kafka_version: &str) -> Result<(), EmbeddedKafkaError> {
        let needed = 17;
        match self.major_version()? {
            Some(found) if found < needed => Err(EmbeddedKafkaError::JavaTooOld {
                java: self.java.clone(),
                found,
                needed,
                kafka_version: kafka_version.to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

/// `openjdk version "17.0.15" ...` → 17; `java version "1.8.0_392"` → 8.
fn parse_major(version_output: &str) -> Option<u32> {
    let quoted = version_output.split('"').nth(1)?;
    let mut parts = quoted.split(['.', '_', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_versions_are_read_old_and_new_style() {
        assert_eq!(
            parse_major("openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime"),
            Some(17)
        );
        assert_eq!(parse_major("java version \"1.8.0_392\""), Some(8));
        assert_eq!(parse_major("openjdk version \"21\" 2023-09-19"), Some(21));
        assert_eq!(parse_major("no version here"), None);
    }
}
