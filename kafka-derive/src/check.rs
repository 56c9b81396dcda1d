//! Rules the model must satisfy before code is generated. Every broken rule is
//! recorded, spanned on the field or attribute at fault.

use std::collections::HashSet;

use quote::ToTokens;
use syn::Fields;

use crate::ast::{Container, Data, Field, Variant};
use crate::attr::{Derive, KeyFormat, ValueFormat};
use crate::avro_check;
use crate::ctxt::Ctxt;
use crate::names::{avro_name_problem, avro_namespace_problem, avro_type_name_problem};
use crate::topic::topic_spec_problem;

/// The header Spring's JsonDeserializer reads; `type_id` writes it.
const TYPE_ID_HEADER: &str = "__TypeId__";
/// The header Spring's JsonDeserializer reads for keys; `key_type_id` writes it.
const KEY_TYPE_ID_HEADER: &str = "__Key_TypeId__";

pub fn check(cx: &Ctxt, cont: &Container, derive: Derive) {
    check_generics(cx, cont, derive);
    if derive == Derive::KafkaRecord {
        check_record(cx, cont);
    }
    if cont.is_avro(derive) {
        check_avro(cx, cont);
    }
}

fn check_generics(cx: &Ctxt, cont: &Container, derive: Derive) {
    let generics = &cont.input.generics;
    if !generics.params.is_empty() {
        cx.error_spanned_by(
            &generics.params,
            format!(
                "#[derive({derive:?})] does not support generic types: the Avro schema and the \
                 topic are fixed per type; write a concrete struct (or wrap each instantiation)"
            ),
        );
    }
}

fn check_record(cx: &Ctxt, cont: &Container) {
    let attrs = &cont.attrs;
    match &attrs.topic {
        None => cx.error_spanned_by(
            cont.ident,
            format!(
                "missing topic: add #[kafka(topic = \"...\")] to `{}` with a topic name or a \
                 `${{config.key:default}}` placeholder",
                cont.ident
            ),
        ),
        Some(topic) => {
            if let Some(problem) = topic_spec_problem(&topic.value()) {
                cx.error_spanned_by(topic, problem);
            }
        }
    }
    let format = cont.value_format();
    if let (ValueFormat::Json, Some(namespace)) = (format, &attrs.namespace) {
        cx.error_spanned_by(
            namespace,
            "`namespace` names the Avro schema, and this record's value is JSON; add \
             `format = \"avro\"` or remove it",
        );
    }
    if let (ValueFormat::Avro, Some(type_id)) = (format, &attrs.type_id) {
        cx.error_spanned_by(
            type_id,
            "`type_id` sets the __TypeId__ header Spring's JsonDeserializer reads; this record's \
             value is Avro",
        );
    }
    if let (ValueFormat::Avro, Some(json_schema)) = (format, &attrs.json_schema) {
        cx.error_spanned_by(
            json_schema,
            "`json_schema` gives a JSON record's value a JSON Schema (for Confluent's \
             KafkaJsonSchemaSerializer); this record's value is Avro, whose schema is derived \
             already",
        );
    }
    let Data::Struct(fields) = &cont.data else {
        return;
    };
    check_keys(cx, cont, fields);
    let mut timestamps = fields
        .iter()
        .filter_map(|field| field.attrs.timestamp.as_ref());
    timestamps.next();
    for extra in timestamps {
        cx.error_spanned_by(
            extra,
            "a record has one timestamp; #[kafka(timestamp)] is already on another field",
        );
    }
    check_header_names(cx, cont, fields);
}

fn check_keys(cx: &Ctxt, cont: &Container, fields: &[Field]) {
    let attrs = &cont.attrs;
    let key_format = attrs.key_format.as_ref().map(|format| format.value);
    let mut keys = fields.iter().filter_map(|field| field.attrs.key.as_ref());
    let first_key = keys.next();
    if !matches!(key_format, Some(KeyFormat::Json | KeyFormat::String)) {
        for extra in keys {
            cx.error_spanned_by(
                extra,
                "a second #[kafka(key)] field: several key fields make a composite key, which \
                 needs a format on the struct: #[kafka(key_format = \"json\")] (a JSON object) \
                 or #[kafka(key_format = \"string\")] (Display, joined by `key_separator`)",
            );
        }
    }
    if let (Some(format), None) = (&attrs.key_format, first_key) {
        cx.error_spanned_by(
            &format.tokens,
            "`key_format` without a #[kafka(key)] field; mark the key field(s) or remove it",
        );
    }
    if let Some(separator) = &attrs.key_separator
        && key_format != Some(KeyFormat::String)
    {
        cx.error_spanned_by(
            separator,
            "`key_separator` joins the fields of a `key_format = \"string\"` key; set that \
             format or remove it",
        );
    }
    if let Some(key_type_id) = &attrs.key_type_id
        && (key_format != Some(KeyFormat::Json) || first_key.is_none())
    {
        cx.error_spanned_by(
            key_type_id,
            "`key_type_id` sets the __Key_TypeId__ header Spring's JsonDeserializer reads for a \
             JSON key; this record needs #[kafka(key)] field(s) and #[kafka(key_format = \"json\")]",
        );
    }
}

fn check_header_names(cx: &Ctxt, cont: &Container, fields: &[Field]) {
    let attrs = &cont.attrs;
    let mut seen = HashSet::new();
    if attrs.type_id.is_some() {
        seen.insert(TYPE_ID_HEADER.to_owned());
    }
    if attrs.key_type_id.is_some() {
        seen.insert(KEY_TYPE_ID_HEADER.to_owned());
    }
    let names = attrs
        .static_headers
        .iter()
        .map(|header| &header.name)
        .chain(
            fields
                .iter()
                .filter_map(|field| field.attrs.header.as_ref()),
        );
    for name in names {
        let text = name.value();
        if text.is_empty() {
            cx.error_spanned_by(name, "a header name cannot be empty");
        } else if !seen.insert(text.clone()) {
            cx.error_spanned_by(
                name,
                format!(
                    "header `{text}` is declared twice on this record{}",
                    match text.as_str() {
                        TYPE_ID_HEADER => "; `type_id` already writes it",
                        KEY_TYPE_ID_HEADER => "; `key_type_id` already writes it",
                        _ => "",
                    }
                ),
            );
        }
    }
}

fn check_avro(cx: &Ctxt, cont: &Container) {
    let attrs = &cont.attrs;
    if let Some(problem) = avro_type_name_problem(&cont.avro_name) {
        match &attrs.serde.rename {
            Some(rename) => cx.error_spanned_by(rename, problem),
            None => cx.error_spanned_by(cont.ident, problem),
        }
    }
    if let Some(namespace) = &attrs.namespace
        && let Some(problem) = avro_namespace_problem(&namespace.value())
    {
        cx.error_spanned_by(namespace, problem);
    }
    match &cont.data {
        Data::Struct(fields) => check_avro_fields(cx, fields),
        Data::Enum(variants) => check_avro_variants(cx, cont, variants),
    }
}

/// Where an Avro name came from, to explain a bad one.
struct NameOrigin<'a> {
    /// The rename literal or the ident, to span the error on.
    span: &'a dyn ToTokens,
    /// `"field"` or `"symbol"`.
    what: &'static str,
    /// The Rust name, when serde's `rename_all` derived the Avro name from it.
    renamed_from: Option<String>,
}

/// Reports an invalid or repeated Avro name.
fn check_avro_name(cx: &Ctxt, seen: &mut HashSet<String>, name: &str, origin: NameOrigin) {
    if let Some(problem) = avro_name_problem(name) {
        match origin.renamed_from {
            Some(rust_name) => cx.error_spanned_by(
                origin.span,
                format!("#[serde(rename_all)] turns `{rust_name}` into `{name}`, and {problem}"),
            ),
            None => cx.error_spanned_by(origin.span, problem),
        }
    } else if !seen.insert(name.to_owned()) {
        cx.error_spanned_by(
            origin.span,
            format!(
                "two {}s are named `{name}` in the Avro schema (after serde renames)",
                origin.what
            ),
        );
    }
}

fn check_avro_fields(cx: &Ctxt, fields: &[Field]) {
    let mut seen = HashSet::new();
    for field in fields.iter().filter(|field| !field.attrs.serde.skip) {
        if let Some(flatten) = &field.attrs.serde.flatten {
            cx.error_spanned_by(
                flatten,
                format!(
                    "field `{}`: #[serde(flatten)] has no Avro counterpart; nest the struct as \
                     a field (an Avro record) instead",
                    field.member
                ),
            );
            continue;
        }
        let span: &dyn ToTokens = match &field.attrs.serde.rename {
            Some(rename) => rename,
            None => field.member,
        };
        let origin = NameOrigin {
            span,
            what: "field",
            renamed_from: field.named_by_rule.then(|| field.member.to_string()),
        };
        check_avro_name(cx, &mut seen, &field.name, origin);
        if let Some((offending, reason)) = avro_check::unsupported(field.ty) {
            cx.error_spanned_by(
                offending,
                format!(
                    "field `{}`: Avro cannot express this type: {reason}",
                    field.member
                ),
            );
        }
    }
}

fn check_avro_variants(cx: &Ctxt, cont: &Container, variants: &[Variant]) {
    let mut seen = HashSet::new();
    let mut defaults = 0;
    for variant in variants {
        if !matches!(variant.fields, Fields::Unit) {
            cx.error_spanned_by(
                variant.fields,
                format!(
                    "variant `{}` carries data, and an Avro enum is symbols only; a data-carrying \
                     enum would be an Avro union of records, which this derive does not generate",
                    variant.ident
                ),
            );
        }
        if let Some(default) = &variant.attrs.default {
            defaults += 1;
            if defaults > 1 {
                cx.error_spanned_by(default, "an Avro enum has one default symbol");
            }
            if variant.attrs.serde.skip {
                cx.error_spanned_by(
                    default,
                    "a variant serde skips has no symbol to be the default",
                );
            }
        }
        if variant.attrs.serde.skip {
            continue;
        }
        let span: &dyn ToTokens = match &variant.attrs.serde.rename {
            Some(rename) => rename,
            None => variant.ident,
        };
        let origin = NameOrigin {
            span,
            what: "symbol",
            renamed_from: variant.named_by_rule.then(|| variant.ident.to_string()),
        };
        check_avro_name(cx, &mut seen, &variant.name, origin);
    }
    if seen.is_empty() && variants.iter().all(|variant| variant.attrs.serde.skip) {
        cx.error_spanned_by(cont.ident, "an Avro enum needs at least one symbol");
    }
}
