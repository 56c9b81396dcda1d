//! The derive input as a typed model: the container, its fields or variants,
//! their parsed attributes and the names serde serializes them under.

use syn::{Data as SynData, DeriveInput, Fields, Ident, Type};

use crate::attr::{ContainerAttrs, Derive, FieldAttrs, ValueFormat, VariantAttrs};
use crate::ctxt::Ctxt;

pub struct Container<'a> {
    pub ident: &'a Ident,
    pub attrs: ContainerAttrs,
    pub data: Data<'a>,
    /// The Avro record or enum name: serde's `rename`, else the Rust name.
    pub avro_name: String,
    pub input: &'a DeriveInput,
}

pub enum Data<'a> {
    Struct(Vec<Field<'a>>),
    Enum(Vec<Variant<'a>>),
}

pub struct Field<'a> {
    pub member: &'a Ident,
    pub ty: &'a Type,
    pub attrs: FieldAttrs,
    /// The name serde writes: `rename`, else `rename_all` applied, else the field.
    pub name: String,
    /// Whether `name` came from the container's `rename_all`.
    pub named_by_rule: bool,
}

pub struct Variant<'a> {
    pub ident: &'a Ident,
    pub attrs: VariantAttrs,
    /// The symbol serde writes for this variant.
    pub name: String,
    /// Whether `name` came from the container's `rename_all`.
    pub named_by_rule: bool,
    pub fields: &'a Fields,
}

impl<'a> Container<'a> {
    /// Builds the model; `None` when the input's shape is unsupported (the
    /// reason is recorded in `cx`).
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput, derive: Derive) -> Option<Self> {
        let attrs = ContainerAttrs::parse(cx, &input.attrs, derive);
        let rename_all = attrs.serde.rename_all;
        let data = match &input.data {
            SynData::Struct(data) => match &data.fields {
                Fields::Named(named) => Data::Struct(
                    named
                        .named
                        .iter()
                        .filter_map(|field| {
                            let member = field.ident.as_ref()?;
                            let attrs = FieldAttrs::parse(cx, &field.attrs, derive);
                            let unraw = unraw(member);
                            let name = match &attrs.serde.rename {
                                Some(rename) => rename.value(),
                                None => rename_all
                                    .map_or(unraw.clone(), |rule| rule.apply_to_field(&unraw)),
                            };
                            Some(Field {
                                member,
                                ty: &field.ty,
                                named_by_rule: attrs.serde.rename.is_none() && rename_all.is_some(),
                                attrs,
                                name,
                            })
                        })
                        .collect(),
                ),
                Fields::Unnamed(_) => {
                    cx.error_spanned_by(
                        &input.ident,
                        format!(
                            "#[derive({derive:?})] needs named fields: a tuple struct has no \
                             field names for the Avro schema or JSON; write `struct {} {{ name: Type, .. }}`",
                            input.ident
                        ),
                    );
                    return None;
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        format!("#[derive({derive:?})] needs a struct with named fields; a unit struct carries no data"),
                    );
                    return None;
                }
            },
            SynData::Enum(data) if derive == Derive::AvroType => Data::Enum(
                data.variants
                    .iter()
                    .map(|variant| {
                        let attrs = VariantAttrs::parse(cx, &variant.attrs);
                        let unraw = unraw(&variant.ident);
                        let name = match &attrs.serde.rename {
                            Some(rename) => rename.value(),
                            None => rename_all
                                .map_or(unraw.clone(), |rule| rule.apply_to_variant(&unraw)),
                        };
                        Variant {
                            ident: &variant.ident,
                            named_by_rule: attrs.serde.rename.is_none() && rename_all.is_some(),
                            attrs,
                            name,
                            fields: &variant.fields,
                        }
                    })
                    .collect(),
            ),
            SynData::Enum(_) => {
                cx.error_spanned_by(
                    &input.ident,
                    "#[derive(KafkaRecord)] is for structs with named fields; derive AvroType \
                     on a unit-only enum to use it as a field of a record",
                );
                return None;
            }
            SynData::Union(_) => {
                cx.error_spanned_by(
                    &input.ident,
                    format!("#[derive({derive:?})] does not support unions"),
                );
                return None;
            }
        };
        let avro_name = attrs
            .serde
            .rename
            .as_ref()
            .map_or_else(|| unraw(&input.ident), |rename| rename.value());
        Some(Container {
            ident: &input.ident,
            attrs,
            data,
            avro_name,
            input,
        })
    }
}

impl Container<'_> {
    /// The record's value format (`format = ...`, JSON when not given).
    pub fn value_format(&self) -> ValueFormat {
        self.attrs
            .format
            .as_ref()
            .map_or(ValueFormat::Json, |format| format.value)
    }

    /// Whether this derive generates Avro support for the type.
    pub fn is_avro(&self, derive: Derive) -> bool {
        derive == Derive::AvroType || self.value_format() == ValueFormat::Avro
    }
}

/// The identifier as serde names it: `r#type` is `type`.
fn unraw(ident: &Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").map_or(text.clone(), str::to_owned)
}
