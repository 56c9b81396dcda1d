//! [`KafkaConfigBuilder`]: finding the files and profiles, and stacking the
//! sources in precedence order.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use super::KafkaConfig;
use super::configtree::TreeLocationError;
use super::env::{EnvKey, LOCATION_VAR, find_var_for, map_var, ssl_bundle_vars};
use super::error::{ConfigIssue, ConfigLoadError};
use super::json::{APPLICATION_JSON_VAR, application_json};
use super::keys::{
    ConfigKey, KeyKind, edit_distance, fits_the_schema, misspelled_root, parse_dotted, parse_key,
    relaxed, split_key,
};
use super::merge::{RawValue, merge};
use super::origin::Origin;
use super::producers::{build_producers, ssl_bundle_keys};
use super::profiles::{ProfileCondition, ProfileKey, ProfileSources, profile_key_typo};
use super::properties::parse_properties;
use super::resolve::Resolver;
use super::schema::{Conversion, Node, ROOT};
use super::validate::validate_producer;
use super::yaml::{YamlEntry, parse_documents};

/// Where files are looked for when neither the builder nor
/// `KAFKA_CONFIG_LOCATION` says: the working directory, then `config/` (which wins).
const DEFAULT_DIRS: [&str; 2] = ["", "config"];
/// File extensions, in reading order, a later file overriding an earlier one
/// in the same directory, as in Spring Boot: `.properties` over `.yml` over
/// `.yaml`.
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "properties"];
/// Built-in defaults, the lowest layer (Spring Boot's default for
/// `spring.kafka.bootstrap-servers`, and the template close timeout).
const DEFAULTS: [(&str, &str); 2] = [
    ("kafka.bootstrap-servers", "localhost:9092"),
    ("kafka.template.close-timeout", "30s"),
];

/// Loads a [`KafkaConfig`]: where to look, which profiles, explicit overrides
/// and (for tests) the environment to read instead of the process's.
///
/// ```
/// use kafka_template::config::KafkaConfig;
///
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(
///     dir.path().join("application.yml"),
///     "kafka:\n  producer:\n    acks: all\n    batch-size: 32KB\n",
/// )
/// .unwrap();
/// let config = KafkaConfig::builder()
///     .dir(dir.path())
///     .profiles(["dev"])
///     .override_value("kafka.producer.acks", "1")
///     .env_source([("KAFKA_PRODUCER_LINGER", "10ms")])
///     .load()
///     .unwrap();
/// assert_eq!(config.lookup("kafka.producer.acks"), Some("1"));
/// assert_eq!(config.lookup("kafka.producer.batchSize"), Some("32KB"));
/// let props = config.producer_properties(None).unwrap();
/// let linger = props.iter().find(|p| p.key == "linger.ms").unwrap();
/// assert_eq!(linger.value, "10");
/// ```
#[derive(Clone, Default)]
pub struct KafkaConfigBuilder {
    dirs: Vec<PathBuf>,
    profiles: Option<Vec<String>>,
    overrides: Vec<(String, String)>,
    env: Option<BTreeMap<String, String>>,
}

impl fmt::Debug for KafkaConfigBuilder {
    // The environment may hold secrets: only its size is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaConfigBuilder")
            .field("dirs", &self.dirs)
            .field("profiles", &self.profiles)
            .field(
                "overrides",
                &self.overrides.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("env_vars", &self.env.as_ref().map(BTreeMap::len))
            .finish()
    }
}

impl KafkaConfigBuilder {
    /// Reads `application*.yml` from `dir`. Call it again for more directories;
    /// later ones win. Replaces the default locations and `KAFKA_CONFIG_LOCATION`.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dirs.push(dir.into());
        self
    }

    /// The active profiles, in increasing precedence. Replaces
    /// `KAFKA_PROFILES_ACTIVE`, `SPRING_PROFILES_ACTIVE` and `profiles.active`;
    /// `profiles.include` and `profiles.group.*` still add to them, as they
    /// add to Spring's `--spring.profiles.active`.
    pub fn profiles<I, S>(mut self, profiles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.profiles = Some(profiles.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `key` (any spelling, e.g. `kafka.producer.acks` or
    /// `kafka.properties[enable.idempotence]`) above every other source.
    pub fn override_value(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.overrides.push((key.into(), value.into()));
        self
    }

    /// Reads these variables instead of the process environment (for tests:
    /// the process environment is shared by parallel tests).
    pub fn env_source<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.env = Some(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// Reads, merges, resolves and validates the configuration. Every problem
    /// found is in the error, not only the first.
    pub fn load(self) -> Result<KafkaConfig, ConfigLoadError> {
        let env = match self.env {
            Some(env) => env,
            // Variables that are not Unicode cannot be configuration: skipped.
            None => std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        };
        let mut issues = Vec::new();
        let overrides: Vec<RawValue> = self
            .overrides
            .iter()
            .map(|(key, value)| raw_value(parse_dotted(key), key, value, Origin::Override))
            .collect();
        // Read before the files (its issues reported after theirs, where it
        // ranks): it may name the cloud platform the files are read on.
        let mut json_issues = Vec::new();
        let json_values = application_json(&env, &mut json_issues);
        let platform_setting = PlatformSetting::above_files(&overrides, &json_values, &env);
        let early = EarlySettings::above_files(&overrides, &json_values, &env);
        let groups = search_locations(self.dirs, &env, &early, &mut issues);
        let names = config_names(early.name.as_ref(), &mut issues);

        // Spring's location groups: each read whole (its base files, then its
        // profile files) above the groups before it. Profiles are chosen from
        // every group's base files first.
        let detected = CloudPlatform::active(platform_setting.as_ref(), &env);
        let mut reading = BaseReading::read(&groups, &env, &names, detected);
        // Spring decides the cloud platform from the environment and the
        // files' `spring.main.cloud-platform` before it activates documents:
        // one the files name anew has them read again on that platform.
        if platform_setting.is_none()
            && let Some(platform) = file_cloud_platform(&reading.base, &env)
            && platform != detected
        {
            reading = BaseReading::read(&groups, &env, &names, platform);
        }
        let BaseReading {
            mut reader,
            base,
            searched,
            issues: reading_issues,
        } = reading;
        issues.extend(reading_issues);
        if !searched.iter().any(|path| path.is_file()) {
            warn_no_application_file(&searched);
        }
        // Spring reads SPRING_APPLICATION_JSON before the files, above the
        // variables: it may name the active profiles too.
        issues.extend(json_issues);
        let json = Document {
            profile_specific: false,
            gate: None,
            conditional: false,
            values: json_values,
        };
        // One resolver over both: a file's `${...}` may name a JSON key and
        // the other way round.
        let json_origin = Origin::Env {
            var: APPLICATION_JSON_VAR.to_owned(),
        };
        let (json_profile_values, profile_values): (Vec<_>, Vec<_>) =
            profile_settings(base.iter().flatten().chain(std::iter::once(&json)), &env)
                .into_iter()
                .partition(|(_, value)| value.origin == json_origin);
        let profiles = ProfileSources {
            builder: self.profiles,
            json: json_profile_values
                .iter()
                .map(|(k, v)| (k.clone(), v))
                .collect(),
            env: &env,
            files: profile_values.iter().map(|(k, v)| (k.clone(), v)).collect(),
        }
        .resolve(&mut issues);
        let mut documents = Vec::new();
        for (group, base_documents) in groups.iter().zip(base) {
            documents.extend(base_documents);
            for profile in &profiles {
                for location in group {
                    for path in location.files(Some(profile), &names) {
                        documents.extend(reader.read_file(&path, true, &mut issues));
                    }
                }
            }
        }

        let mut layers: Vec<Vec<RawValue>> = Vec::new();
        layers.push(
            DEFAULTS
                .iter()
                .map(|(key, value)| raw_value(parse_dotted(key), key, value, Origin::Default))
                .collect(),
        );
        for document in &documents {
            check_profiles_placement(document, &mut issues);
            if document.is_active(&profiles) {
                layers.push(admit_layer(&document.values, &mut issues, true));
            }
        }
        for value in &overrides {
            check_override(value, &mut issues);
        }
        let existing: Vec<ConfigKey> = layers
            .iter()
            .flatten()
            .chain(&json.values)
            .chain(&overrides)
            .map(|v| v.key.clone())
            .collect();
        let env_layer = env_values(&env, &existing, &mut issues);
        layers.push(admit_layer(&env_layer, &mut issues, false));
        // Spring's order: SPRING_APPLICATION_JSON above the variables, below
        // the command line (the builder's overrides here).
        layers.push(admit_layer(&json.values, &mut issues, false));
        layers.push(admit_layer(&overrides, &mut issues, false));

        let merged = match merge(layers) {
            Ok(merged) => merged,
            Err(message) => {
                issues.push(ConfigIssue::Internal { message });
                return Err(ConfigLoadError::new(issues));
            }
        };
        let merged: BTreeMap<Vec<String>, RawValue> = merged
            .into_iter()
            .map(|v| (v.key.path.clone(), v))
            .collect();
        let (entries, placeholder_issues) = Resolver::new(&merged, &env).resolve_all();
        issues.extend(placeholder_issues);
        let (producers, value_issues) = build_producers(&entries);
        issues.extend(value_issues);
        // kafka-core judges what converted and resolved; a value that did not is
        // already reported and left out, so "missing" would only repeat it.
        let earlier_problems = !issues.is_empty();
        for producer in &producers {
            issues.extend(validate_producer(producer).into_iter().filter(|issue| {
                !(earlier_problems && matches!(issue, ConfigIssue::Missing { .. }))
            }));
        }
        if !issues.is_empty() {
            return Err(ConfigLoadError::new(issues));
        }
        Ok(KafkaConfig {
            profiles,
            entries,
            env,
            producers,
        })
    }
}

fn raw_value(key: ConfigKey, written: &str, value: &str, origin: Origin) -> RawValue {
    RawValue {
        key,
        written: written.to_owned(),
        value: value.to_owned(),
        origin,
    }
}

/// The builder's directories, else `KAFKA_CONFIG_LOCATION`'s, else the defaults.
/// Explicit locations must exist; the defaults need not.
/// Where configuration files are read from, lowest precedence first.
#[derive(Debug)]
enum Location {
    /// `application.*` and `application-<profile>.*` in it (or those of the
    /// `SPRING_CONFIG_NAME` names).
    Dir(PathBuf),
    /// This file and, for a profile, `<stem>-<profile>.<ext>` beside it (as
    /// Spring expands a file location).
    File(PathBuf),
    /// A `configtree:` directory (see [`configtree`](super::configtree)):
    /// its values as one document, with no profile variants.
    ConfigTree(PathBuf),
}

impl Location {
    /// The files to read, for the base documents (`None`) or a profile, with
    /// the configuration's base `names` (`application`, or
    /// `SPRING_CONFIG_NAME`'s).
    fn files(&self, profile: Option<&str>, names: &[String]) -> Vec<PathBuf> {
        match self {
            Location::Dir(dir) => dir_files(dir, profile, names),
            Location::ConfigTree(_) => Vec::new(),
            Location::File(file) => {
                let Some(profile) = profile else {
                    return vec![file.clone()];
                };
                let stem = file
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default();
                let ext = file
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or_default();
                vec![file.with_file_name(format!("{stem}-{profile}.{ext}"))]
            }
        }
    }
}

/// The files of a directory location, lowest precedence first: for each
/// base name in order, `<name>.yaml`, `.yml`, `.properties` (or their
/// `-<profile>` variants), as Spring's `StandardConfigDataLocationResolver`
/// lists them (a later name wins, as a later extension does).
fn dir_files(dir: &Path, profile: Option<&str>, names: &[String]) -> Vec<PathBuf> {
    let suffix = profile.map(|p| format!("-{p}")).unwrap_or_default();
    let mut files = Vec::with_capacity(names.len() * EXTENSIONS.len());
    for name in names {
        for ext in EXTENSIONS {
            files.push(dir.join(format!("{name}{suffix}.{ext}")));
        }
    }
    files
}

/// The variable naming the configuration files' base names (Spring's
/// `spring.config.name`, read from the environment as Spring reads it,
/// before any file).
const SPRING_CONFIG_NAME_VAR: &str = "SPRING_CONFIG_NAME";

/// The base names of the configuration files: `spring.config.name`'s
/// comma-separated names (each once), else `application`. A name with `*`
/// is refused, as Spring refuses it; one with a path separator too (a name
/// is not a location: `spring.config.location` says where).
fn config_names(setting: Option<&EarlySetting>, issues: &mut Vec<ConfigIssue>) -> Vec<String> {
    let Some(setting) = setting else {
        return vec![DEFAULT_CONFIG_NAME.to_owned()];
    };
    let mut names = Vec::new();
    for name in setting
        .value
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        if name.contains(['*', '/', '\\']) {
            issues.push(ConfigIssue::InvalidValue {
                key: "spring.config.name".to_owned(),
                value: name.to_owned(),
                origin: setting.origin.clone(),
                expected: "file base names such as application or orders, comma-separated, \
                           without '*' or a path"
                    .to_owned(),
            });
            continue;
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    if names.is_empty() {
        names.push(DEFAULT_CONFIG_NAME.to_owned());
    }
    names
}

/// A setting Spring reads before any file: `spring.config.name`,
/// `.location`, `.additional-location` or `.import`.
#[derive(Debug)]
struct EarlySetting {
    value: String,
    /// The key as messages name it: the variable, or the key as written
    /// (in `SPRING_APPLICATION_JSON` or an override).
    key: String,
    origin: Origin,
}

impl EarlySetting {
    /// What names a location, for messages: the variable, or the key and
    /// where it was set.
    fn naming(&self) -> String {
        match &self.origin {
            Origin::Env { var } if *var == self.key => var.clone(),
            _ => self.source_name(),
        }
    }

    /// Where a location it names comes from, for messages.
    fn source_name(&self) -> String {
        match &self.origin {
            Origin::Env { var } if *var == self.key => format!("env {var}"),
            origin => format!("{} in {origin}", self.key),
        }
    }
}

/// The settings Spring reads before any file, each from the highest source
/// that sets it, as Spring ranks them: the builder's overrides (Spring's
/// command line), then `SPRING_APPLICATION_JSON`, then the variables.
#[derive(Debug, Default)]
struct EarlySettings {
    name: Option<EarlySetting>,
    location: Option<EarlySetting>,
    additional_location: Option<EarlySetting>,
    import: Option<EarlySetting>,
}

impl EarlySettings {
    fn above_files(
        overrides: &[RawValue],
        json: &[RawValue],
        env: &BTreeMap<String, String>,
    ) -> EarlySettings {
        // Read as written, `${...}` included, as the variables always were.
        let setting = |key: &str, vars: &[&'static str]| {
            let path = parse_dotted(key).path;
            let set = |values: &[RawValue]| {
                values
                    .iter()
                    .rfind(|v| v.key.path == path && !v.value.trim().is_empty())
                    .map(|v| EarlySetting {
                        value: v.value.clone(),
                        key: v.written.clone(),
                        origin: v.origin.clone(),
                    })
            };
            set(overrides).or_else(|| set(json)).or_else(|| {
                let (var, value) = first_env_var(env, vars)?;
                Some(EarlySetting {
                    value: value.to_owned(),
                    key: var.to_owned(),
                    origin: Origin::Env {
                        var: var.to_owned(),
                    },
                })
            })
        };
        EarlySettings {
            name: setting("spring.config.name", &[SPRING_CONFIG_NAME_VAR]),
            location: setting("spring.config.location", &[SPRING_LOCATION_VAR]),
            additional_location: setting(
                "spring.config.additional-location",
                &SPRING_ADDITIONAL_LOCATION_VARS,
            ),
            import: setting("spring.config.import", &[SPRING_IMPORT_VAR]),
        }
    }
}

/// Spring Boot's default `spring.config.name`.
const DEFAULT_CONFIG_NAME: &str = "application";

/// Spring Boot's `optional:file:./config/*/`: the directories right under
/// `config/`, in name order (Spring sorts them), after `config/` itself.
fn config_subdirectories() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir("config") else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Spring Boot's location variables: `SPRING_CONFIG_LOCATION` replaces the
/// default places, `SPRING_CONFIG_ADDITIONAL_LOCATION` adds to them (its
/// files win). Read when neither the builder nor `KAFKA_CONFIG_LOCATION`
/// names directories.
const SPRING_LOCATION_VAR: &str = "SPRING_CONFIG_LOCATION";
/// `spring.config.additional-location`'s variable as Spring's documentation
/// spells it (the dash dropped), then with the dash as `_`, which Spring
/// reads too.
const SPRING_ADDITIONAL_LOCATION_VARS: [&str; 2] = [
    "SPRING_CONFIG_ADDITIONALLOCATION",
    "SPRING_CONFIG_ADDITIONAL_LOCATION",
];
/// `spring.config.import` given in the environment: Spring Boot reads these
/// files whatever the locations are, above them (an import wins over what
/// imports it, here every location), and their `-{profile}` variants.
const SPRING_IMPORT_VAR: &str = "SPRING_CONFIG_IMPORT";

/// Locations read as one group, as Spring reads a location group: the base
/// files of all of them, then their profile files; a later group wins over
/// an earlier one, its base files over the earlier group's profile files.
type LocationGroup = Vec<Location>;

/// The location groups, lowest precedence first: the builder's directories,
/// `KAFKA_CONFIG_LOCATION`'s or Spring's places (each one group), then each
/// `SPRING_CONFIG_IMPORT` entry.
fn search_locations(
    from_builder: Vec<PathBuf>,
    env: &BTreeMap<String, String>,
    early: &EarlySettings,
    issues: &mut Vec<ConfigIssue>,
) -> Vec<LocationGroup> {
    let directories = |dirs: Vec<PathBuf>, source_name: String, issues: &mut Vec<ConfigIssue>| {
        dirs.into_iter()
            .filter(|dir| {
                let ok = dir.is_dir();
                if !ok {
                    issues.push(ConfigIssue::Location {
                        path: dir.clone(),
                        source_name: source_name.clone(),
                    });
                }
                ok
            })
            .map(Location::Dir)
            .collect()
    };
    let mut groups = if !from_builder.is_empty() {
        vec![directories(from_builder, "builder".to_owned(), issues)]
    } else if let Some(list) = env_var(env, LOCATION_VAR) {
        let dirs = list
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .collect();
        vec![directories(dirs, format!("env {LOCATION_VAR}"), issues)]
    } else {
        spring_search_locations(early, issues)
    };
    if let Some(import) = &early.import {
        groups.extend(spring_location_groups(import, issues));
    }
    groups
}

/// The places Spring Boot reads by default (one group), or
/// `spring.config.location`'s groups, with
/// `spring.config.additional-location`'s after them.
fn spring_search_locations(
    early: &EarlySettings,
    issues: &mut Vec<ConfigIssue>,
) -> Vec<LocationGroup> {
    let mut groups = match &early.location {
        Some(location) => spring_location_groups(location, issues),
        None => vec![
            DEFAULT_DIRS
                .iter()
                .map(|dir| Location::Dir(PathBuf::from(dir)))
                .chain(config_subdirectories().into_iter().map(Location::Dir))
                .collect(),
        ],
    };
    if let Some(additional) = &early.additional_location {
        groups.extend(spring_location_groups(additional, issues));
    }
    groups
}

/// A Spring location list: `,` separates location groups (each read whole
/// before the next, which wins), `;` the locations of one group.
fn spring_location_groups(
    setting: &EarlySetting,
    issues: &mut Vec<ConfigIssue>,
) -> Vec<LocationGroup> {
    setting
        .value
        .split(',')
        .map(str::trim)
        .filter(|group| !group.is_empty())
        .map(|group| spring_locations(group, setting, issues))
        .collect()
}

/// The locations of one group: `;`-separated files or directories (`/` at
/// the end, or an existing directory), each with an optional `optional:`
/// and `file:` (or `classpath:`, read from the working directory) prefix.
/// A `configtree:` directory (or `configtree:<dir>/*/`, each sub-directory)
/// is read as Spring reads a config tree (see
/// [`configtree`](super::configtree)). A missing location that is not
/// optional is an issue, as is another source (`configserver:`, ...) unless
/// optional (then a warning).
fn spring_locations(
    list: &str,
    setting: &EarlySetting,
    issues: &mut Vec<ConfigIssue>,
) -> Vec<Location> {
    let mut locations = Vec::new();
    for entry in list.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let (optional, rest) = split_optional(entry);
        // `classpath:` has no counterpart here but the working directory,
        // which its paths are read from (`classpath:/config/` is `config/`).
        let from_classpath = rest.strip_prefix("classpath:").map(|resource| {
            match resource.trim_start_matches('/') {
                "" => "./",
                relative => relative,
            }
        });
        if let Some(dir) = rest.strip_prefix("configtree:") {
            match super::configtree::trees(dir) {
                Ok(trees) => locations.extend(trees.into_iter().map(Location::ConfigTree)),
                Err(TreeLocationError::Missing) if optional => {}
                Err(error) => issues.push(ConfigIssue::InvalidValue {
                    key: setting.key.clone(),
                    value: entry.to_owned(),
                    origin: setting.origin.clone(),
                    expected: error.expected(dir),
                }),
            }
            continue;
        }
        let rest = match rest.strip_prefix("file:").or(from_classpath) {
            Some(path) => path,
            None => {
                if let Some(scheme) = other_source_scheme(rest) {
                    let reason = other_source_reason(scheme);
                    // A config server's URL may carry its credentials.
                    let shown = kafka_schema_registry::redact_urls(entry);
                    if optional {
                        tracing::warn!(location = %shown, setting = %setting.key, "{reason}");
                    } else {
                        issues.push(ConfigIssue::Unsupported {
                            key: format!("{shown} in {}", setting.key),
                            origin: setting.origin.clone(),
                            reason,
                        });
                    }
                    continue;
                }
                rest
            }
        };
        let path = PathBuf::from(rest);
        if rest.ends_with('/') || path.is_dir() {
            if path.is_dir() {
                locations.push(Location::Dir(path));
            } else if !optional {
                issues.push(ConfigIssue::Location {
                    path,
                    source_name: setting.source_name(),
                });
            }
        } else if path.is_file() || optional {
            locations.push(Location::File(path));
        } else {
            issues.push(ConfigIssue::Io {
                path,
                message: format!(
                    "{} names it, and it does not exist (prefix optional: if it may be missing)",
                    setting.naming()
                ),
            });
        }
    }
    locations
}

fn env_var<'e>(env: &'e BTreeMap<String, String>, name: &str) -> Option<&'e str> {
    env.get(name)
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
}

/// The first of `names` set (not blank), with its value: a setting whose
/// variable Spring maps from more than one spelling.
fn first_env_var<'e>(
    env: &'e BTreeMap<String, String>,
    names: &[&'static str],
) -> Option<(&'static str, &'e str)> {
    names
        .iter()
        .find_map(|name| env_var(env, name).map(|value| (*name, value)))
}

/// Says, as a warning, that no `application.properties`, `.yml` or `.yaml` exists where
/// one was looked for: the configuration then comes from the environment and
/// the defaults alone, which is rarely what was meant.
fn warn_no_application_file(searched: &[PathBuf]) {
    let cwd = std::env::current_dir().ok();
    let places: Vec<String> = searched
        .iter()
        .map(|path| match &cwd {
            Some(cwd) if path.is_relative() => cwd.join(path).display().to_string(),
            _ => path.display().to_string(),
        })
        .collect();
    tracing::warn!(
        searched = ?places,
        "no application.properties, application.yml or application.yaml found (searched {}); \
         using the environment \
         and defaults only (set {LOCATION_VAR} to read another directory)",
        places.join(", ")
    );
}

/// Whether a document applies.
#[derive(Clone, Debug, PartialEq)]
enum Gate {
    When(ProfileCondition),
    /// Its condition could not be read (already reported): never applies.
    Never,
}

/// One document of one file.
#[derive(Clone, Debug)]
struct Document {
    profile_specific: bool,
    gate: Option<Gate>,
    /// It had an `on-cloud-platform` condition (met or not): Spring reads
    /// no setting from it before activating documents.
    conditional: bool,
    values: Vec<RawValue>,
}

impl Document {
    fn is_active(&self, profiles: &[String]) -> bool {
        match &self.gate {
            None => true,
            Some(Gate::When(condition)) => condition.matches(profiles),
            Some(Gate::Never) => false,
        }
    }
}

/// Profiles cannot be chosen in a profile-specific file or a gated document
/// (Spring Boot 2.4 and later refuse `active`, `include` and `default` there,
/// and would ignore a group); nor can the 2.3 gate `spring.profiles` be used.
fn check_profiles_placement(document: &Document, issues: &mut Vec<ConfigIssue>) {
    for value in &document.values {
        if value.key.kind == KeyKind::Other && value.key.path == ["spring", "profiles"] {
            issues.push(ConfigIssue::Unsupported {
                key: value.written.clone(),
                origin: value.origin.clone(),
                reason: "Spring Boot 2.4 replaced it: gate the document with \
                         spring.config.activate.on-profile instead"
                    .to_owned(),
            });
            continue;
        }
        if !document.profile_specific && document.gate.is_none() {
            continue;
        }
        if let Some(key) = ProfileKey::of(&value.key) {
            let spring = split_key(&value.written)
                .first()
                .is_some_and(|root| relaxed(root) == "spring");
            issues.push(ConfigIssue::MisplacedProfiles {
                key: value.written.clone(),
                origin: value.origin.clone(),
                instead: key.allowed_places(spring),
            });
        }
    }
}

/// A key clearly meant for us that nothing would read: under a misspelled
/// root (`kafak.producer.acks`, `spring.kafak...`) or a typo of a Spring
/// profile setting (`spring.profiles.actve`). `names` are its pieces as written.
struct Stray {
    /// What to name: the root as written, or the whole key.
    key: String,
    /// The piece of the key to point at (the root's last, or the key's last).
    at: usize,
    meant: String,
    /// Whether `key` is a root (reported once per file).
    root: bool,
}

fn stray(names: &[String]) -> Option<Stray> {
    if let Some(root) = misspelled_root(names) {
        return fits_the_schema(&names[root.pieces..]).then(|| Stray {
            key: root.written,
            at: root.pieces - 1,
            meant: root.meant.to_owned(),
            root: true,
        });
    }
    profile_key_typo(names).map(|meant| Stray {
        key: names.join("."),
        at: names.len().saturating_sub(1),
        meant,
        root: false,
    })
}

/// Reports the strays of one file, each misspelled root once, at the line of
/// its key.
#[derive(Default)]
struct Strays {
    roots_seen: Vec<String>,
}

impl Strays {
    fn check(&mut self, entry: &YamlEntry, path: &Path, issues: &mut Vec<ConfigIssue>) {
        // Each path element's pieces, with the element's key line.
        let pieces: Vec<(String, usize)> = entry
            .path
            .iter()
            .zip(&entry.key_lines)
            .flat_map(|(element, line)| split_key(element).into_iter().map(move |p| (p, *line)))
            .collect();
        let names: Vec<String> = pieces.iter().map(|(p, _)| p.clone()).collect();
        let Some(found) = stray(&names) else {
            return;
        };
        if found.root {
            if self.roots_seen.contains(&found.key) {
                return;
            }
            self.roots_seen.push(found.key.clone());
        }
        issues.push(ConfigIssue::UnknownKey {
            key: found.key,
            origin: Origin::File {
                path: path.to_owned(),
                line: pieces.get(found.at).map_or(entry.line, |(_, line)| *line),
            },
            suggestion: Some(found.meant),
            known: Vec::new(),
        });
    }
}

/// A builder override under a misspelled root or with a typo of a profile
/// setting, named whole (`kafak.producer.acks`, did you mean
/// `kafka.producer.acks`).
fn check_override(value: &RawValue, issues: &mut Vec<ConfigIssue>) {
    if value.key.kind != KeyKind::Other {
        return;
    }
    let names = split_key(&value.written);
    if let Some(found) = stray(&names) {
        let meant = if found.root {
            let rest = names[found.at + 1..].iter().map(String::as_str);
            std::iter::once(found.meant.as_str())
                .chain(rest)
                .collect::<Vec<_>>()
                .join(".")
        } else {
            found.meant
        };
        issues.push(ConfigIssue::UnknownKey {
            key: value.written.clone(),
            origin: value.origin.clone(),
            suggestion: Some(meant),
            known: Vec::new(),
        });
    }
}

/// The profile settings of the ungated documents, lowest precedence first,
/// their placeholders replaced (`spring.profiles.active: ${APP_ENV:local}`) as
/// Spring binds them: from these documents and the environment. One that
/// cannot be resolved is left out here; the load reports it with the rest.
fn profile_settings<'d>(
    documents: impl Iterator<Item = &'d Document> + Clone,
    env: &BTreeMap<String, String>,
) -> Vec<(ProfileKey, RawValue)> {
    let ungated = || {
        documents
            .clone()
            .filter(|d| d.gate.is_none())
            .flat_map(|d| &d.values)
    };
    let base: BTreeMap<Vec<String>, RawValue> =
        ungated().map(|v| (v.key.path.clone(), v.clone())).collect();
    let mut resolver = Resolver::new(&base, env);
    ungated()
        .filter_map(|v| {
            let key = ProfileKey::of(&v.key)?;
            let value = resolver.resolve_text(&v.value).ok()?;
            Some((key, RawValue { value, ..v.clone() }))
        })
        .collect()
}

/// The documents of one file; nothing if it does not exist.
/// How deep `spring.config.import`s may nest (Spring refuses cycles; a
/// bound keeps a cycle here from recursing without end).
const MAX_IMPORT_DEPTH: usize = 8;

/// Reads configuration files: their documents, and those of the files they
/// import (each file imported once, as in Spring), with the placeholders
/// of the loader's own keys (imports, activations) resolved against the
/// environment.
struct FileReader<'e> {
    env: &'e BTreeMap<String, String>,
    /// The files' base names, for a directory imported.
    names: &'e [String],
    /// The cloud platform `on-cloud-platform` documents are matched against.
    platform: CloudPlatform,
    imported: std::collections::HashSet<PathBuf>,
}

impl<'e> FileReader<'e> {
    fn new(
        env: &'e BTreeMap<String, String>,
        names: &'e [String],
        platform: CloudPlatform,
    ) -> Self {
        FileReader {
            env,
            names,
            platform,
            imported: std::collections::HashSet::new(),
        }
    }

    /// The documents of `path`, each followed by the documents of the files
    /// its `spring.config.import` names, in order (so their values override
    /// the importing document's, and later imports earlier ones, as in
    /// Spring).
    fn read_file(
        &mut self,
        path: &Path,
        profile_specific: bool,
        issues: &mut Vec<ConfigIssue>,
    ) -> Vec<Document> {
        self.read_file_importing(path, profile_specific, issues, 0)
    }

    fn read_file_importing(
        &mut self,
        path: &Path,
        profile_specific: bool,
        issues: &mut Vec<ConfigIssue>,
        depth: usize,
    ) -> Vec<Document> {
        let mut out = Vec::new();
        for document in read_documents(path, profile_specific, self.env, self.platform, issues) {
            let imports: Vec<RawValue> = document
                .values
                .iter()
                .filter(|v| v.key.path == ["spring", "config", "import"])
                .cloned()
                .collect();
            let gate = document.gate.clone();
            out.push(document);
            for import in imports {
                let value = resolve_from_env(&import.value, self.env);
                for location in value.split(',').map(str::trim) {
                    if location.is_empty() {
                        continue;
                    }
                    if let Some(trees) =
                        config_tree_documents(location, &import, profile_specific, issues)
                    {
                        for mut tree in trees {
                            tree.gate.clone_from(&gate);
                            out.push(tree);
                        }
                        continue;
                    }
                    let Some(files) = import_location(path, location, &import, self.names, issues)
                    else {
                        continue;
                    };
                    if depth >= MAX_IMPORT_DEPTH {
                        issues.push(ConfigIssue::Unsupported {
                            key: import.written.clone(),
                            origin: import.origin.clone(),
                            reason: format!(
                                "imports nest deeper than {MAX_IMPORT_DEPTH} files: is there a cycle?"
                            ),
                        });
                        continue;
                    }
                    for file in files {
                        // Imported once, where first declared: by a document
                        // that always applies (a gated one's import applies
                        // only with its gate, and may be wanted again).
                        let identity =
                            std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
                        let already = if gate.is_none() {
                            !self.imported.insert(identity)
                        } else {
                            self.imported.contains(&identity)
                        };
                        if already {
                            continue;
                        }
                        for mut imported in
                            self.read_file_importing(&file, profile_specific, issues, depth + 1)
                        {
                            // Imported under a profile condition: only with it.
                            if imported.gate.is_none() {
                                imported.gate.clone_from(&gate);
                            }
                            out.push(imported);
                        }
                    }
                }
            }
        }
        out
    }
}

/// The application files' base documents, read on one cloud platform, with
/// what reading them found wrong.
struct BaseReading<'e> {
    reader: FileReader<'e>,
    /// Per location group, its base documents (imports included).
    base: Vec<Vec<Document>>,
    searched: Vec<PathBuf>,
    issues: Vec<ConfigIssue>,
}

impl<'e> BaseReading<'e> {
    fn read(
        groups: &[LocationGroup],
        env: &'e BTreeMap<String, String>,
        names: &'e [String],
        platform: CloudPlatform,
    ) -> Self {
        let mut reader = FileReader::new(env, names, platform);
        let mut issues = Vec::new();
        let mut base = Vec::with_capacity(groups.len());
        let mut searched = Vec::new();
        for group in groups {
            let mut documents = Vec::new();
            for location in group {
                if let Location::ConfigTree(tree) = location {
                    match tree_document(tree, false) {
                        Ok(document) => documents.push(document),
                        Err(issue) => issues.push(issue),
                    }
                    continue;
                }
                for path in location.files(None, names) {
                    documents.extend(reader.read_file(&path, false, &mut issues));
                    searched.push(path);
                }
            }
            base.push(documents);
        }
        BaseReading {
            reader,
            base,
            searched,
            issues,
        }
    }
}

/// The cloud platform the files' documents without a condition name in
/// `spring.main.cloud-platform` (the last one, its `${...}` resolved from the
/// environment). One Spring does not know enforces nothing there (Spring
/// detects the platform then): a warning says so.
fn file_cloud_platform(
    base: &[Vec<Document>],
    env: &BTreeMap<String, String>,
) -> Option<CloudPlatform> {
    let key = parse_dotted("spring.main.cloud-platform").path;
    let value = base
        .iter()
        .flatten()
        .filter(|d| d.gate.is_none() && !d.conditional && !d.profile_specific)
        .flat_map(|d| &d.values)
        .rfind(|v| v.key.path == key)?;
    let wanted = resolve_from_env(&value.value, env);
    let named = CloudPlatform::enforced(wanted.trim());
    if named.is_none() {
        tracing::warn!(
            key = %value.written,
            origin = %value.origin,
            value = %wanted,
            "names no cloud platform Spring Boot knows ({}): the platform is detected",
            CloudPlatform::expected()
        );
    }
    named
}

/// `${...}` in a value the loader reads itself (an import, an activation),
/// resolved as Spring binds those: against the environment; what cannot be
/// resolved is kept as written.
fn resolve_from_env(text: &str, env: &BTreeMap<String, String>) -> String {
    if !text.contains("${") {
        return text.to_owned();
    }
    let nothing = BTreeMap::new();
    Resolver::new(&nothing, env)
        .resolve_text(text)
        .unwrap_or_else(|_| text.to_owned())
}

/// A location's `optional:` prefix: whether it had one, and the rest.
fn split_optional(location: &str) -> (bool, &str) {
    match location.strip_prefix("optional:") {
        Some(rest) => (true, rest),
        None => (false, location),
    }
}

/// The documents of a `[optional:]configtree:<dir>` import, one per tree
/// (see [`configtree`](super::configtree)); `None` when `location` is not one.
/// A directory missing is an issue unless the import is optional; a
/// location not ending with `/` is one always, as in Spring.
fn config_tree_documents(
    location: &str,
    import: &RawValue,
    profile_specific: bool,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Vec<Document>> {
    let (optional, rest) = split_optional(location);
    let dir = rest.strip_prefix("configtree:")?;
    let trees = match super::configtree::trees(dir) {
        Ok(trees) => trees,
        Err(TreeLocationError::Missing) if optional => Vec::new(),
        Err(error) => {
            issues.push(ConfigIssue::InvalidValue {
                key: import.written.clone(),
                value: location.to_owned(),
                origin: import.origin.clone(),
                expected: error.expected(dir),
            });
            Vec::new()
        }
    };
    let mut documents = Vec::with_capacity(trees.len());
    for tree in trees {
        match tree_document(&tree, profile_specific) {
            Ok(document) => documents.push(document),
            Err(issue) => issues.push(issue),
        }
    }
    Some(documents)
}

/// The values of the config tree at `tree`, as one document.
fn tree_document(tree: &Path, profile_specific: bool) -> Result<Document, ConfigIssue> {
    match super::configtree::read_tree(tree) {
        Ok(values) => Ok(Document {
            profile_specific,
            gate: None,
            conditional: false,
            values,
        }),
        Err(error) => Err(ConfigIssue::Io {
            path: tree.to_owned(),
            message: error.to_string(),
        }),
    }
}

/// The files one `spring.config.import` location names, as Spring reads
/// it: `optional:` may be missing; `file:` is relative to the working
/// directory; a bare or `classpath:` path is relative to the importing
/// file (Spring's class path has no counterpart here but the configuration's
/// own directory); a directory is searched for `application.*` (or the
/// `SPRING_CONFIG_NAME` names). Other
/// sources (`configserver:`, `vault:`, ...; `configtree:` is read by
/// [`config_tree_documents`]) are not read here: a warning when optional,
/// else an issue. `None` after an issue.
fn import_location(
    importer: &Path,
    location: &str,
    import: &RawValue,
    names: &[String],
    issues: &mut Vec<ConfigIssue>,
) -> Option<Vec<PathBuf>> {
    let (optional, rest) = split_optional(location);
    let beside = |relative: &str| {
        importer
            .parent()
            .map_or_else(|| PathBuf::from(relative), |dir| dir.join(relative))
    };
    let path = if let Some(file) = rest.strip_prefix("file:") {
        PathBuf::from(file)
    } else if let Some(resource) = rest.strip_prefix("classpath:") {
        beside(resource.trim_start_matches('/'))
    } else if let Some(scheme) = other_source_scheme(rest) {
        let reason = other_source_reason(scheme);
        if optional {
            let shown = kafka_schema_registry::redact_urls(location);
            tracing::warn!(import = %shown, origin = %import.origin, "{reason}");
            return Some(Vec::new());
        }
        issues.push(ConfigIssue::Unsupported {
            key: import.written.clone(),
            origin: import.origin.clone(),
            reason,
        });
        return None;
    } else {
        beside(rest)
    };
    if path.is_dir() {
        return Some(
            dir_files(&path, None, names)
                .into_iter()
                .filter(|file| file.is_file())
                .collect(),
        );
    }
    if path.is_file() {
        let known = path
            .extension()
            .and_then(|ext| ext.to_str())
            .is_some_and(|ext| EXTENSIONS.contains(&ext));
        if known {
            return Some(vec![path]);
        }
        issues.push(ConfigIssue::InvalidValue {
            key: import.written.clone(),
            value: location.to_owned(),
            origin: import.origin.clone(),
            expected: "a .properties, .yml or .yaml file, or a directory".to_owned(),
        });
        return None;
    }
    if optional {
        return Some(Vec::new());
    }
    issues.push(ConfigIssue::InvalidValue {
        key: import.written.clone(),
        value: location.to_owned(),
        origin: import.origin.clone(),
        expected: format!(
            "a file or directory that exists ({} does not; prefix optional: if it may be missing)",
            path.display()
        ),
    });
    None
}

/// The scheme of a location that is not a file (`configserver:`, `vault:`,
/// `configtree:`): a word of two or more characters before a colon (one
/// letter is a Windows drive).
fn other_source_scheme(location: &str) -> Option<&str> {
    let (scheme, _) = location.split_once(':')?;
    (scheme.len() > 1
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.')))
    .then_some(scheme)
}

fn other_source_reason(scheme: &str) -> String {
    format!(
        "'{scheme}:' imports (a config server, a secret store) are not read by this \
         loader: give their values through the environment or a configtree: directory, or \
         prefix the import with optional: to go without it"
    )
}

fn read_documents(
    path: &Path,
    profile_specific: bool,
    env: &BTreeMap<String, String>,
    platform: CloudPlatform,
    issues: &mut Vec<ConfigIssue>,
) -> Vec<Document> {
    if !path.is_file() {
        return Vec::new();
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            issues.push(ConfigIssue::Io {
                path: path.to_owned(),
                message: error.to_string(),
            });
            return Vec::new();
        }
    };
    let documents = if path.extension().is_some_and(|ext| ext == "properties") {
        parse_properties(&bytes).map_err(|error| ConfigIssue::Properties {
            path: path.to_owned(),
            line: error.line,
            message: error.message,
        })
    } else {
        String::from_utf8(bytes)
            .map_err(|error| ConfigIssue::Io {
                path: path.to_owned(),
                message: format!("not UTF-8: {error}"),
            })
            .and_then(|text| {
                parse_documents(&text).map_err(|error| ConfigIssue::Yaml {
                    path: path.to_owned(),
                    line: error.line,
                    column: error.column,
                    message: error.message,
                })
            })
    };
    let documents = match documents {
        Ok(documents) => documents,
        Err(issue) => {
            issues.push(issue);
            return Vec::new();
        }
    };
    let mut strays = Strays::default();
    documents
        .into_iter()
        .map(|document| {
            let mut gate = None;
            let mut other_platform = false;
            let mut conditional = false;
            let mut values = Vec::new();
            for entry in document.entries {
                let origin = Origin::File {
                    path: path.to_owned(),
                    line: entry.line,
                };
                match activation_key(&entry) {
                    Some(Activation::OnProfile) => {
                        gate = Some(read_gate(&entry, origin, env, issues));
                    }
                    Some(Activation::Misspelled(meant)) => {
                        // Read as a gate that never matches: its document is
                        // meant for some profiles, not for all.
                        issues.push(ConfigIssue::UnknownKey {
                            key: entry.path.join("."),
                            origin,
                            suggestion: Some(meant),
                            known: Vec::new(),
                        });
                        gate = Some(Gate::Never);
                    }
                    Some(Activation::OnCloudPlatform) => {
                        conditional = true;
                        let wanted =
                            resolve_from_env(&entry.value.clone().unwrap_or_default(), env);
                        match CloudPlatform::named(&wanted) {
                            Some(wanted_platform) => {
                                other_platform |= wanted_platform != platform;
                            }
                            None => {
                                issues.push(ConfigIssue::InvalidValue {
                                    key: entry.path.join("."),
                                    value: wanted,
                                    origin,
                                    expected: CloudPlatform::expected(),
                                });
                                other_platform = true;
                            }
                        }
                    }
                    Some(Activation::Unsupported) => {
                        issues.push(ConfigIssue::Unsupported {
                            key: entry.path.join("."),
                            origin,
                            reason: "only on-profile and on-cloud-platform can activate a \
                                     document"
                                .to_owned(),
                        });
                        gate = Some(Gate::Never);
                    }
                    None => {
                        let key = parse_key(&entry.path);
                        if key.kind == KeyKind::Other {
                            strays.check(&entry, path, issues);
                        }
                        // `producer:` with every key under it commented out.
                        if entry.value.is_none() && key.kind == KeyKind::Section {
                            continue;
                        }
                        values.push(RawValue {
                            key,
                            written: entry.path.join("."),
                            value: entry.value.unwrap_or_default(),
                            origin,
                        });
                    }
                }
            }
            // On another cloud platform the document never applies.
            if other_platform {
                gate = Some(Gate::Never);
            }
            Document {
                profile_specific,
                gate,
                conditional,
                values,
            }
        })
        .collect()
}

enum Activation {
    /// `spring.config.activate.on-profile` or our `kafka.config.activate.on-profile`.
    OnProfile,
    /// `spring.config.activate.on-cloud-platform`.
    OnCloudPlatform,
    /// Another `*.config.activate.*` condition.
    Unsupported,
    /// A typo of the on-profile gate (`spring.config.activte.on-profile`): the
    /// key meant, spelled with the written root.
    Misspelled(String),
}

fn activation_key(entry: &YamlEntry) -> Option<Activation> {
    let written: Vec<String> = entry.path.iter().flat_map(|k| split_key(k)).collect();
    let pieces: Vec<String> = written.iter().map(|p| relaxed(p)).collect();
    let [root, config, activate, condition] = pieces.as_slice() else {
        return None;
    };
    if root != "spring" && root != "kafka" {
        return None;
    }
    let distance = edit_distance(config, "config")
        + edit_distance(activate, "activate")
        + edit_distance(condition, "onprofile");
    if config == "config" && activate == "activate" && condition == "oncloudplatform" {
        return Some(Activation::OnCloudPlatform);
    }
    match distance {
        0 => Some(Activation::OnProfile),
        _ if config == "config" && activate == "activate" && distance > 2 => {
            Some(Activation::Unsupported)
        }
        1 | 2 => Some(Activation::Misspelled(format!(
            "{}.config.activate.on-profile",
            written[0]
        ))),
        _ => None,
    }
}

/// `spring.main.cloud-platform` where Spring's environment has it before
/// the files are read: the builder's overrides (Spring's command line),
/// `SPRING_APPLICATION_JSON`, or the variable (`SPRING_MAIN_CLOUDPLATFORM`,
/// or `SPRING_MAIN_CLOUD_PLATFORM` as Spring's legacy mapping reads it), the
/// first that sets it, its `${...}` resolved from the environment.
#[derive(Debug)]
struct PlatformSetting {
    value: String,
    /// Where it was set, for the warning about a name Spring does not know.
    set_in: String,
}

impl PlatformSetting {
    fn above_files(
        overrides: &[RawValue],
        json: &[RawValue],
        env: &BTreeMap<String, String>,
    ) -> Option<PlatformSetting> {
        let key = parse_dotted("spring.main.cloud-platform").path;
        // Set blank, it is set: Spring's environment has the property then
        // (so it detects nothing) and it enforces no platform.
        let setting = |values: &[RawValue]| {
            values
                .iter()
                .rfind(|v| v.key.path == key)
                .map(|v| PlatformSetting {
                    value: resolve_from_env(&v.value, env),
                    set_in: format!("{} ({})", v.written, v.origin),
                })
        };
        setting(overrides).or_else(|| setting(json)).or_else(|| {
            CloudPlatform::VARS.iter().find_map(|var| {
                env.get(*var).map(|value| PlatformSetting {
                    value: resolve_from_env(value, env),
                    set_in: (*var).to_owned(),
                })
            })
        })
    }
}

/// Spring Boot's `CloudPlatform`: the one this process runs on, as
/// `spring.main.cloud-platform` names it above the files, else detected from
/// the variables each platform sets, as Spring detects it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CloudPlatform {
    None,
    CloudFoundry,
    Heroku,
    Sap,
    Nomad,
    Kubernetes,
    AzureAppService,
    AwsEcs,
}

impl CloudPlatform {
    const ALL: [(CloudPlatform, &'static str); 8] = [
        (CloudPlatform::None, "none"),
        (CloudPlatform::CloudFoundry, "cloud_foundry"),
        (CloudPlatform::Heroku, "heroku"),
        (CloudPlatform::Sap, "sap"),
        (CloudPlatform::Nomad, "nomad"),
        (CloudPlatform::Kubernetes, "kubernetes"),
        (CloudPlatform::AzureAppService, "azure_app_service"),
        (CloudPlatform::AwsEcs, "aws_ecs"),
    ];

    /// The platform `spring.main.cloud-platform` enforces: Spring's
    /// `CloudPlatform.isEnforced` compares the value with the enum's name,
    /// ignoring case only (`kubernetes`, `CLOUD_FOUNDRY`; not `cloud-foundry`,
    /// which enforces none).
    fn enforced(text: &str) -> Option<CloudPlatform> {
        Self::ALL
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(text))
            .map(|(platform, _)| *platform)
    }

    /// The platform a `spring.config.activate.on-cloud-platform` value names,
    /// as Spring binds an enum leniently (`kubernetes`, `KUBERNETES`,
    /// `cloud-foundry`, `CloudFoundry`).
    fn named(text: &str) -> Option<CloudPlatform> {
        let squeeze = |s: &str| {
            s.chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_lowercase())
                .collect::<String>()
        };
        let wanted = squeeze(text);
        Self::ALL
            .iter()
            .find(|(_, name)| squeeze(name) == wanted)
            .map(|(platform, _)| *platform)
    }

    /// Spring's Kubernetes detection: `KUBERNETES_SERVICE_HOST` and `_PORT`,
    /// or any other Service's `<NAME>_SERVICE_HOST` with its `_SERVICE_PORT`.
    fn kubernetes_services(env: &BTreeMap<String, String>) -> bool {
        env.keys().any(|name| {
            name.strip_suffix("_SERVICE_HOST")
                .is_some_and(|service| env.contains_key(&format!("{service}_SERVICE_PORT")))
        })
    }

    /// What a platform setting accepts, for messages.
    fn expected() -> String {
        format!(
            "a cloud platform Spring Boot knows: {}",
            Self::ALL.map(|(_, name)| name).join(", ")
        )
    }

    /// The variables that name the platform (Spring's
    /// `spring.main.cloud-platform`): its documented form first, then the
    /// form with the dash as an underscore, which Spring reads too.
    const VARS: [&'static str; 2] = ["SPRING_MAIN_CLOUDPLATFORM", "SPRING_MAIN_CLOUD_PLATFORM"];

    /// The platform `setting` names, else the one detected. A setting that
    /// names no platform: Spring enforces none then and detects none either
    /// (its `CloudPlatform.isActive`), so no platform is active; a warning
    /// says so.
    fn active(setting: Option<&PlatformSetting>, env: &BTreeMap<String, String>) -> CloudPlatform {
        if let Some(setting) = setting {
            return Self::enforced(setting.value.trim()).unwrap_or_else(|| {
                tracing::warn!(
                    value = %setting.value,
                    "{} names no cloud platform Spring Boot knows ({}): no platform is active",
                    setting.set_in,
                    Self::expected()
                );
                CloudPlatform::None
            });
        }
        let set = |name: &str| env.contains_key(name);
        if set("VCAP_APPLICATION") || set("VCAP_SERVICES") {
            CloudPlatform::CloudFoundry
        } else if set("DYNO") {
            CloudPlatform::Heroku
        } else if set("HC_LANDSCAPE") {
            CloudPlatform::Sap
        } else if set("NOMAD_ALLOC_ID") {
            CloudPlatform::Nomad
        } else if Self::kubernetes_services(env) {
            CloudPlatform::Kubernetes
        } else if [
            "WEBSITE_SITE_NAME",
            "WEBSITE_INSTANCE_ID",
            "WEBSITE_RESOURCE_GROUP",
            "WEBSITE_SKU",
        ]
        .iter()
        .all(|name| set(name))
        {
            CloudPlatform::AzureAppService
        } else if env
            .get("AWS_EXECUTION_ENV")
            .is_some_and(|v| v.starts_with("AWS_ECS"))
        {
            CloudPlatform::AwsEcs
        } else {
            CloudPlatform::None
        }
    }
}

fn read_gate(
    entry: &YamlEntry,
    origin: Origin,
    env: &BTreeMap<String, String>,
    issues: &mut Vec<ConfigIssue>,
) -> Gate {
    let expression = resolve_from_env(&entry.value.clone().unwrap_or_default(), env);
    match ProfileCondition::parse(&expression) {
        Ok(condition) => Gate::When(condition),
        Err(reason) => {
            issues.push(ConfigIssue::ProfileExpression {
                key: entry.path.join("."),
                expression,
                origin,
                reason,
            });
            Gate::Never
        }
    }
}

/// The environment's values: `KAFKA_*`/`SPRING_KAFKA_*` variables read against
/// the schema (`KAFKA_*` winning over `SPRING_KAFKA_*` for the same key), and
/// Spring-named variables for the application keys the files use.
fn env_values(
    env: &BTreeMap<String, String>,
    existing: &[ConfigKey],
    issues: &mut Vec<ConfigIssue>,
) -> Vec<RawValue> {
    let mut values = Vec::new();
    let mut seen_other: Vec<&Vec<String>> = Vec::new();
    for key in existing.iter().filter(|k| k.kind == KeyKind::Other) {
        if seen_other.contains(&&key.path) {
            continue;
        }
        seen_other.push(&key.path);
        if let Some((var, value)) = find_var_for(key, env) {
            values.push(raw_value(
                key.clone(),
                &key.display(),
                value,
                Origin::Env {
                    var: var.to_owned(),
                },
            ));
        }
    }
    // SSL bundles' keys the files do not name (those are read above).
    for (key, var, value) in ssl_bundle_vars(env, ssl_bundle_keys) {
        if !seen_other.contains(&&key.path) {
            let written = key.display();
            let origin = Origin::Env {
                var: var.to_owned(),
            };
            values.push(raw_value(key, &written, value, origin));
        }
    }
    // Spring's first so that ours win; then the rest, for misspelled prefixes.
    let rank = |var: &str| {
        let var = var.to_lowercase();
        if var.starts_with("spring_kafka_") {
            0
        } else if var.starts_with("kafka_") {
            1
        } else {
            2
        }
    };
    let mut ordered: Vec<(&String, &String)> = env.iter().collect();
    ordered.sort_by_key(|(var, _)| rank(var));
    // Spring's indexed form of a list (`SPRING_KAFKA_BOOTSTRAPSERVERS_0`,
    // `_1`, ...): each list's items by index, in the order first met.
    let mut lists: Vec<(Vec<String>, String, BTreeMap<u64, &String>)> = Vec::new();
    for (var, value) in ordered {
        let origin = Origin::Env { var: var.clone() };
        let mapped = map_var(var, existing);
        if matches!(mapped, EnvKey::Unrelated | EnvKey::Unknown(_))
            && let Some((pieces, index)) = list_item_var(var, existing)
        {
            match lists.iter_mut().find(|(p, _, _)| *p == pieces) {
                Some((_, _, items)) => {
                    items.insert(index, value);
                }
                None => lists.push((pieces, var.clone(), BTreeMap::from([(index, value)]))),
            }
            continue;
        }
        match mapped {
            EnvKey::Key(pieces) => {
                let key = parse_key(&pieces);
                values.push(raw_value(key, &pieces.join("."), value, origin));
            }
            EnvKey::Misspelled(meant) => issues.push(ConfigIssue::MisspelledVariable {
                var: var.clone(),
                meant,
            }),
            EnvKey::Unknown(key) => issues.push(ConfigIssue::UnknownKey {
                key,
                origin,
                suggestion: None,
                known: Vec::new(),
            }),
            EnvKey::Unrelated => {
                tracing::trace!(var = %var, "environment variable is not a Kafka configuration key");
            }
        }
    }
    for (pieces, first_var, items) in lists {
        let joined: Vec<&str> = items.values().map(|v| v.as_str()).collect();
        let key = parse_key(&pieces);
        let origin = Origin::Env { var: first_var };
        values.push(raw_value(key, &pieces.join("."), &joined.join(","), origin));
    }
    values
}

/// The list setting a variable `<list>_<n>` sets item `n` of, if it is one.
fn list_item_var(var: &str, existing: &[ConfigKey]) -> Option<(Vec<String>, u64)> {
    let (base, index) = var.rsplit_once('_')?;
    let index: u64 = index.parse().ok()?;
    let EnvKey::Key(pieces) = map_var(base, existing) else {
        return None;
    };
    match parse_key(&pieces).kind {
        KeyKind::Setting { setting, .. } if setting.conversion() == Conversion::List => {
            Some((pieces, index))
        }
        _ => None,
    }
}

/// The values of one source that take part in the merge; unknown keys and
/// values given to sections are reported. `one_document`: duplicates are errors
/// (two spellings of one key in one document); elsewhere the later one wins.
fn admit_layer(
    values: &[RawValue],
    issues: &mut Vec<ConfigIssue>,
    one_document: bool,
) -> Vec<RawValue> {
    let mut admitted: Vec<RawValue> = Vec::new();
    let mut index: HashMap<Vec<String>, usize> = HashMap::new();
    for value in values {
        match &value.key.kind {
            KeyKind::Unknown { suggestion } => {
                issues.push(ConfigIssue::UnknownKey {
                    key: value.written.clone(),
                    origin: value.origin.clone(),
                    suggestion: suggestion.clone(),
                    known: if suggestion.is_some() {
                        Vec::new()
                    } else {
                        known_children(&value.key)
                    },
                });
                continue;
            }
            KeyKind::Section => {
                issues.push(ConfigIssue::SectionValue {
                    key: value.written.clone(),
                    origin: value.origin.clone(),
                    known: known_children(&value.key),
                });
                continue;
            }
            // Kept for lookups and placeholders; no producer reads it.
            KeyKind::Ignored => {
                tracing::debug!(key = %value.written, "not a producer setting");
            }
            _ => {}
        }
        match index.get(&value.key.path) {
            Some(&at) => {
                if one_document {
                    issues.push(ConfigIssue::DuplicateKey {
                        key: admitted[at].written.clone(),
                        first: admitted[at].origin.clone(),
                        second_key: value.written.clone(),
                        second: value.origin.clone(),
                    });
                }
                admitted[at] = value.clone();
            }
            None => {
                index.insert(value.key.path.clone(), admitted.len());
                admitted.push(value.clone());
            }
        }
    }
    admitted
}

/// What may be written under the deepest known section of `key`.
fn known_children(key: &ConfigKey) -> Vec<String> {
    let mut node = &ROOT;
    // names[0] is "kafka"; walk the known part of the path.
    for name in key.names.iter().skip(1) {
        let next = match node {
            Node::NamedProducers => Some(&Node::Producer { named: true }),
            _ => node
                .fields()
                .find(|f| relaxed(f.name) == relaxed(name))
                .map(|f| &f.node),
        };
        match next {
            Some(next) => node = next,
            None => break,
        }
    }
    match node {
        Node::JavaProperties => {
            vec!["Java client property names (e.g. enable.idempotence)".to_owned()]
        }
        Node::Topics => vec!["topic names".to_owned()],
        Node::JaasOptions => vec!["JAAS option names".to_owned()],
        Node::ProfileGroups => vec!["profile group names".to_owned()],
        Node::NamedProducers => vec!["producer names".to_owned()],
        node if node.is_section() => node.fields().map(|f| f.name.to_owned()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classpath_locations_are_read_from_the_working_directory() {
        // `classpath:/x/` is `x/` under the working directory, not `/x/`.
        let mut issues = Vec::new();
        let var = EarlySetting {
            value: String::new(),
            key: "SPRING_CONFIG_LOCATION".to_owned(),
            origin: Origin::Env {
                var: "SPRING_CONFIG_LOCATION".to_owned(),
            },
        };
        let var = &var;
        assert!(spring_locations("classpath:/no-such-config-dir/", var, &mut issues).is_empty());
        match issues.as_slice() {
            [ConfigIssue::Location { path, .. }] => {
                assert_eq!(path, &PathBuf::from("no-such-config-dir/"));
            }
            other => panic!("{other:?}"),
        }
        // `classpath:/` is the working directory itself.
        let locations = spring_locations("optional:classpath:/", var, &mut issues);
        assert!(
            matches!(locations.as_slice(), [Location::Dir(dir)] if dir == Path::new("./")),
            "{locations:?}"
        );
    }
}
