//! Reading `#[kafka(...)]`, the serde attributes that change names, and doc
//! comments into typed values. Every problem is recorded in the [`Ctxt`] and
//! parsing goes on, so all of them are reported together.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Meta, Path};

use crate::case::RenameRule;
use crate::ctxt::Ctxt;

/// Which derive is reading the attributes; some attributes belong to one only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derive {
    KafkaRecord,
    AvroType,
}

/// `#[kafka(format = ...)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueFormat {
    Json,
    Avro,
}

/// `#[kafka(key_format = ...)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// Java's built-in serializers (`KafkaBytes`); one key field only.
    Native,
    /// `serde_json`; several fields form an object.
    Json,
    /// `Display`; several fields are joined by the separator.
    String,
}

/// A value given once, with the tokens to point errors at.
pub struct Spanned<T> {
    pub value: T,
    pub tokens: TokenStream,
}

/// `#[kafka(header(name = "...", value = "..."))]` on a struct.
pub struct StaticHeader {
    pub name: LitStr,
    pub value: LitStr,
}

/// Attributes of the struct or enum.
#[derive(Default)]
pub struct ContainerAttrs {
    pub topic: Option<LitStr>,
    pub format: Option<Spanned<ValueFormat>>,
    pub namespace: Option<LitStr>,
    pub krate: Option<Path>,
    pub static_headers: Vec<StaticHeader>,
    pub type_id: Option<LitStr>,
    /// `key_type_id`: the `__Key_TypeId__` of a JSON key.
    pub key_type_id: Option<LitStr>,
    /// `json_schema`: the value's JSON Schema from `schemars::JsonSchema`.
    pub json_schema: Option<Path>,
    pub key_format: Option<Spanned<KeyFormat>>,
    pub key_separator: Option<LitStr>,
    pub serde: SerdeNames,
    pub doc: Option<String>,
}

/// Attributes of a struct field.
#[derive(Default)]
pub struct FieldAttrs {
    /// The `key` path, for spans.
    pub key: Option<Path>,
    pub header: Option<LitStr>,
    pub timestamp: Option<Path>,
    pub serde: SerdeNames,
    pub doc: Option<String>,
}

/// Attributes of an enum variant.
#[derive(Default)]
pub struct VariantAttrs {
    /// The `default` path: this symbol is the Avro enum's default.
    pub default: Option<Path>,
    pub serde: SerdeNames,
}

/// What serde's attributes say about names and presence.
#[derive(Default)]
pub struct SerdeNames {
    /// `rename = "..."` (the serialize side).
    pub rename: Option<LitStr>,
    /// `rename_all = "..."`, on containers.
    pub rename_all: Option<RenameRule>,
    /// `skip` or `skip_serializing`.
    pub skip: bool,
    /// `flatten`, which has no Avro counterpart.
    pub flatten: Option<Path>,
}

const CONTAINER_KEYS: &str = "`topic`, `format`, `namespace`, `crate`, `header(name = .., value = ..)`, \
     `type_id`, `json_schema`, `key_format`, `key_separator`, `key_type_id`";
const FIELD_KEYS: &str = "`key`, `header = \"...\"`, `timestamp`";
const VARIANT_KEYS: &str = "`default`";

/// Records "set twice" and keeps the first value.
fn set_once<T>(cx: &Ctxt, slot: &mut Option<T>, value: T, meta: &ParseNestedMeta) {
    if slot.is_some() {
        cx.error_spanned_by(
            &meta.path,
            format!("duplicate kafka attribute `{}`", path_name(&meta.path)),
        );
    } else {
        *slot = Some(value);
    }
}

fn path_name(path: &Path) -> String {
    path.segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// Consumes whatever follows an attribute key we do not read: `= expr` or `(...)`.
fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

/// Runs `handle` on each item of every `#[kafka(...)]` attribute, recording
/// syntax errors and going on with the next attribute.
fn for_each_kafka_meta(
    cx: &Ctxt,
    attrs: &[Attribute],
    mut handle: impl FnMut(&ParseNestedMeta) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("kafka")) {
        if let Meta::List(_) = &attr.meta {
            if let Err(error) = attr.parse_nested_meta(|meta| handle(&meta)) {
                cx.syn_error(error);
            }
        } else {
            cx.error_spanned_by(attr, "expected `#[kafka(...)]`");
        }
    }
}

/// The string value of `key = "..."`.
fn string_value(meta: &ParseNestedMeta) -> syn::Result<LitStr> {
    meta.value()?.parse()
}

/// Reports an attribute that belongs to the other derive.
fn wrong_derive(cx: &Ctxt, meta: &ParseNestedMeta, explanation: &str) -> syn::Result<()> {
    cx.error_spanned_by(&meta.path, explanation);
    skip_value(meta)
}

impl ContainerAttrs {
    pub fn parse(cx: &Ctxt, attrs: &[Attribute], derive: Derive) -> Self {
        let mut out = ContainerAttrs {
            serde: SerdeNames::parse(attrs),
            doc: doc_text(attrs),
            ..ContainerAttrs::default()
        };
        let record_only = |cx: &Ctxt, meta: &ParseNestedMeta| {
            wrong_derive(
                cx,
                meta,
                &format!(
                    "`{}` belongs to #[derive(KafkaRecord)]; a #[derive(AvroType)] type is nested \
                     inside a record and has no topic, key, headers or format of its own",
                    path_name(&meta.path)
                ),
            )
        };
        for_each_kafka_meta(cx, attrs, |meta| {
            let key = path_name(&meta.path);
            match key.as_str() {
                "namespace" => set_once(cx, &mut out.namespace, string_value(meta)?, meta),
                "crate" => {
                    let lit = string_value(meta)?;
                    set_once(cx, &mut out.krate, lit.parse::<Path>()?, meta);
                }
                _ if derive == Derive::AvroType
                    && matches!(
                        key.as_str(),
                        "topic"
                            | "format"
                            | "header"
                            | "type_id"
                            | "json_schema"
                            | "key_format"
                            | "key_separator"
                            | "key_type_id"
                    ) =>
                {
                    record_only(cx, meta)?;
                }
                "topic" => set_once(cx, &mut out.topic, string_value(meta)?, meta),
                "format" => {
                    let lit = string_value(meta)?;
                    let format = match lit.value().as_str() {
                        "json" => ValueFormat::Json,
                        "avro" => ValueFormat::Avro,
                        other => {
                            cx.error_spanned_by(
                                &lit,
                                format!("unknown format `{other}`; expected \"json\" or \"avro\""),
                            );
                            return Ok(());
                        }
                    };
                    let tokens = quote::ToTokens::to_token_stream(&lit);
                    set_once(
                        cx,
                        &mut out.format,
                        Spanned {
                            value: format,
                            tokens,
                        },
                        meta,
                    );
                }
                "key_format" => {
                    let lit = string_value(meta)?;
                    let format = match lit.value().as_str() {
                        "native" => KeyFormat::Native,
                        "json" => KeyFormat::Json,
                        "string" => KeyFormat::String,
                        other => {
                            cx.error_spanned_by(
                                &lit,
                                format!(
                                    "unknown key format `{other}`; expected \"native\" (Java's \
                                     serializers), \"json\" or \"string\" (Display)"
                                ),
                            );
                            return Ok(());
                        }
                    };
                    let tokens = quote::ToTokens::to_token_stream(&lit);
                    set_once(
                        cx,
                        &mut out.key_format,
                        Spanned {
                            value: format,
                            tokens,
                        },
                        meta,
                    );
                }
                "key_separator" => set_once(cx, &mut out.key_separator, string_value(meta)?, meta),
                "type_id" => set_once(cx, &mut out.type_id, string_value(meta)?, meta),
                "key_type_id" => set_once(cx, &mut out.key_type_id, string_value(meta)?, meta),
                "json_schema" => {
                    if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                        cx.error_spanned_by(
                            &meta.path,
                            "`json_schema` takes no value: write `#[kafka(json_schema)]` and \
                             derive `schemars::JsonSchema`",
                        );
                        skip_value(meta)?;
                    }
                    set_once(cx, &mut out.json_schema, meta.path.clone(), meta);
                }
                "header" => {
                    if !meta.input.peek(syn::token::Paren) {
                        cx.error_spanned_by(
                            &meta.path,
                            "on the struct a static header is written \
                             `header(name = \"...\", value = \"...\")`; `header = \"...\"` \
                             belongs on a field",
                        );
                        return skip_value(meta);
                    }
                    out.static_headers.extend(parse_static_header(cx, meta)?);
                }
                _ => {
                    cx.error_spanned_by(
                        &meta.path,
                        format!(
                            "unknown kafka attribute `{key}` on a type; expected {CONTAINER_KEYS}"
                        ),
                    );
                    skip_value(meta)?;
                }
            }
            Ok(())
        });
        out
    }
}

/// `header(name = "...", value = "...")`.
fn parse_static_header(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<StaticHeader>> {
    let mut name = None;
    let mut value = None;
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("name") {
            set_once(cx, &mut name, string_value(&inner)?, &inner);
        } else if inner.path.is_ident("value") {
            set_once(cx, &mut value, string_value(&inner)?, &inner);
        } else {
            cx.error_spanned_by(
                &inner.path,
                "a static header takes `name = \"...\"` and `value = \"...\"`",
            );
            skip_value(&inner)?;
        }
        Ok(())
    })?;
    match (name, value) {
        (Some(name), Some(value)) => Ok(Some(StaticHeader { name, value })),
        _ => {
            cx.error_spanned_by(
                &meta.path,
                "a static header needs both `name = \"...\"` and `value = \"...\"`",
            );
            Ok(None)
        }
    }
}

impl FieldAttrs {
    pub fn parse(cx: &Ctxt, attrs: &[Attribute], derive: Derive) -> Self {
        let mut out = FieldAttrs {
            serde: SerdeNames::parse(attrs),
            doc: doc_text(attrs),
            ..FieldAttrs::default()
        };
        for_each_kafka_meta(cx, attrs, |meta| {
            let key = path_name(&meta.path);
            match key.as_str() {
                "key" | "header" | "timestamp" if derive == Derive::AvroType => {
                    wrong_derive(
                        cx,
                        meta,
                        &format!(
                            "`{key}` belongs to #[derive(KafkaRecord)]; a #[derive(AvroType)] \
                             type is only a value inside a record"
                        ),
                    )?;
                }
                "key" => set_once(cx, &mut out.key, meta.path.clone(), meta),
                "timestamp" => set_once(cx, &mut out.timestamp, meta.path.clone(), meta),
                "header" if !meta.input.peek(syn::Token![=]) => {
                    cx.error_spanned_by(
                        &meta.path,
                        "a header field needs the header's name: #[kafka(header = \"name\")]",
                    );
                    skip_value(meta)?;
                }
                "header" => set_once(cx, &mut out.header, string_value(meta)?, meta),
                _ => {
                    cx.error_spanned_by(
                        &meta.path,
                        format!(
                            "unknown kafka attribute `{key}` on a field; expected {FIELD_KEYS}"
                        ),
                    );
                    skip_value(meta)?;
                }
            }
            Ok(())
        });
        out
    }
}

impl VariantAttrs {
    pub fn parse(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut out = VariantAttrs {
            serde: SerdeNames::parse(attrs),
            ..VariantAttrs::default()
        };
        for_each_kafka_meta(cx, attrs, |meta| {
            if meta.path.is_ident("default") {
                set_once(cx, &mut out.default, meta.path.clone(), meta);
            } else {
                cx.error_spanned_by(
                    &meta.path,
                    format!(
                        "unknown kafka attribute `{}` on a variant; expected {VARIANT_KEYS}",
                        path_name(&meta.path)
                    ),
                );
                skip_value(meta)?;
            }
            Ok(())
        });
        out
    }
}

impl SerdeNames {
    /// Reads the serde attributes that change the serialized shape. Anything else
    /// (and any syntax error) is serde_derive's to report, so it is skipped here.
    fn parse(attrs: &[Attribute]) -> Self {
        let mut out = SerdeNames::default();
        for attr in attrs.iter().filter(|attr| attr.path().is_ident("serde")) {
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    out.rename = serialize_side(&meta)?.or(out.rename.take());
                } else if meta.path.is_ident("rename_all") {
                    if let Some(rule) = serialize_side(&meta)? {
                        out.rename_all = RenameRule::from_str(&rule.value()).ok();
                    }
                } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_serializing") {
                    out.skip = true;
                } else if meta.path.is_ident("flatten") {
                    out.flatten = Some(meta.path.clone());
                } else {
                    skip_value(&meta)?;
                }
                Ok(())
            });
        }
        out
    }
}

/// `key = "x"` or `key(serialize = "x", deserialize = "y")`: the serialize side.
fn serialize_side(meta: &ParseNestedMeta) -> syn::Result<Option<LitStr>> {
    if meta.input.peek(syn::Token![=]) {
        return Ok(Some(string_value(meta)?));
    }
    let mut serialize = None;
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("serialize") {
            serialize = Some(string_value(&inner)?);
        } else {
            skip_value(&inner)?;
        }
        Ok(())
    })?;
    Ok(serialize)
}

/// The `///` comments, one line each with the conventional leading space removed.
pub fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(name_value) => match &name_value.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(text),
                    ..
                }) => Some(text.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(&line)
                .trim_end()
                .to_owned()
        })
        .collect();
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}
