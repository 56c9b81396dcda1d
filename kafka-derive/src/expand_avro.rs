//! Generates `AvroType` (schema writer and binary encoder) and `AvroNamed` (the
//! cached schema) for a record or a unit-only enum.
//!
//! The JSON text of the type's own part of the schema (names, docs, symbols) is
//! prepared here as string literals; field types contribute their schemas at
//! run time through their own `AvroType` impls.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{Container, Data, Field, Variant};
use crate::names::json_string;

/// `"doc":"..."` followed by a comma, or nothing.
fn doc_member(doc: Option<&String>) -> String {
    doc.map_or_else(String::new, |doc| format!("\"doc\":{},", json_string(doc)))
}

pub fn expand(cont: &Container, rt: &TokenStream) -> TokenStream {
    let ident = cont.ident;
    let p = quote!(#rt::__private);
    let name = &cont.avro_name;
    let namespace = match &cont.attrs.namespace {
        Some(namespace) => quote!(::core::option::Option::Some(#namespace)),
        None => quote!(::core::option::Option::None),
    };
    let (write_schema, encode) = match &cont.data {
        Data::Struct(fields) => record_body(cont, fields, &p),
        Data::Enum(variants) => enum_body(cont, variants, &p),
    };
    quote! {
        #[automatically_derived]
        impl #p::AvroType for #ident {
            fn write_schema(
                writer: &mut #p::SchemaWriter,
            ) -> ::core::result::Result<(), #p::AvroSchemaError> {
                let ::core::option::Option::Some(scope) = writer.begin_named(
                    #p::NamedTypeId::of::<Self>(),
                    #name,
                    #namespace,
                )?
                else {
                    return ::core::result::Result::Ok(());
                };
                #write_schema
                writer.end_named(scope);
                ::core::result::Result::Ok(())
            }

            #[inline]
            fn encode(
                &self,
                out: &mut ::std::vec::Vec<u8>,
            ) -> ::core::result::Result<(), #p::AvroEncodeError> {
                #encode
            }
        }

        #[automatically_derived]
        impl #p::AvroNamed for #ident {
            fn avro_schema() -> ::core::result::Result<
                &'static #p::AvroSchema,
                #p::AvroSchemaError,
            > {
                static SCHEMA: ::std::sync::OnceLock<
                    ::core::result::Result<#p::AvroSchema, #p::AvroSchemaError>,
                > = ::std::sync::OnceLock::new();
                #p::cached_schema::<Self>(&SCHEMA)
            }
        }
    }
}

/// The start of a named type's JSON: type, name, namespace and doc.
fn named_head(cont: &Container, avro_type: &str) -> String {
    let mut head = format!(
        "{{\"type\":\"{avro_type}\",\"name\":{}",
        json_string(&cont.avro_name)
    );
    if let Some(namespace) = &cont.attrs.namespace {
        head.push_str(&format!(
            ",\"namespace\":{}",
            json_string(&namespace.value())
        ));
    }
    head.push(',');
    head.push_str(&doc_member(cont.attrs.doc.as_ref()));
    head
}

fn record_body(cont: &Container, fields: &[Field], p: &TokenStream) -> (TokenStream, TokenStream) {
    let fields: Vec<&Field> = fields
        .iter()
        .filter(|field| !field.attrs.serde.skip)
        .collect();
    let head = format!("{}\"fields\":[", named_head(cont, "record"));
    let field_schemas = fields.iter().enumerate().map(|(i, field)| {
        let ty = field.ty;
        let field_head = format!(
            "{}{{\"name\":{},{}\"type\":",
            if i == 0 { "" } else { "," },
            json_string(&field.name),
            doc_member(field.attrs.doc.as_ref()),
        );
        // Spanned on the type so a missing AvroType impl points at it; every
        // use is the same `<T as AvroType>` path, so rustc reports it once.
        quote_spanned! {ty.span()=>
            writer.raw(#field_head);
            <#ty as #p::AvroType>::write_schema(writer)?;
            writer.end_field(<#ty as #p::AvroType>::NULLABLE);
        }
    });
    let write_schema = quote! {
        writer.raw(#head);
        #(#field_schemas)*
        writer.raw("]}");
    };
    let field_encoders = fields.iter().map(|field| {
        let ty = field.ty;
        let member = field.member;
        let name = member.to_string();
        quote_spanned! {ty.span()=>
            <#ty as #p::AvroType>::encode(&self.#member, out)
                .map_err(|error| error.in_field(#name))?;
        }
    });
    let encode = quote! {
        #(#field_encoders)*
        ::core::result::Result::Ok(())
    };
    (write_schema, encode)
}

fn enum_body(
    cont: &Container,
    variants: &[Variant],
    p: &TokenStream,
) -> (TokenStream, TokenStream) {
    let symbols: Vec<&Variant> = variants.iter().filter(|v| !v.attrs.serde.skip).collect();
    let mut json = format!("{}\"symbols\":[", named_head(cont, "enum"));
    let list: Vec<String> = symbols.iter().map(|v| json_string(&v.name)).collect();
    json.push_str(&list.join(","));
    json.push(']');
    if let Some(default) = symbols.iter().find(|v| v.attrs.default.is_some()) {
        json.push_str(&format!(",\"default\":{}", json_string(&default.name)));
    }
    json.push('}');
    let write_schema = quote!(writer.raw(#json););

    let enum_name = cont.ident.to_string();
    let mut index = 0i32;
    let arms: Vec<TokenStream> = variants
        .iter()
        .map(|variant| {
            let ident = variant.ident;
            if variant.attrs.serde.skip {
                let name = ident.to_string();
                quote! {
                    Self::#ident => {
                        return ::core::result::Result::Err(#p::skipped_variant(#enum_name, #name));
                    }
                }
            } else {
                let arm = quote!(Self::#ident => #index,);
                index += 1;
                arm
            }
        })
        .collect();
    let encode = quote! {
        let index: i32 = match self { #(#arms)* };
        #p::write_int(out, index);
        ::core::result::Result::Ok(())
    };
    (write_schema, encode)
}
