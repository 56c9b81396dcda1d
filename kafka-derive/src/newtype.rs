//! `#[derive(KafkaBytes)]`: a newtype written as its one field.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Member, Path};

use crate::ctxt::Ctxt;
use crate::runtime_path::kafka_record_module;

/// The one field of a newtype: how to reach it and its type.
pub struct NewtypeField<'a> {
    pub member: Member,
    pub ty: &'a syn::Type,
}

/// The single field of `struct Id(T)` or `struct Id { value: T }`; any other
/// shape is recorded in `cx` as an error naming `derive`.
pub fn single_field<'a>(
    cx: &Ctxt,
    input: &'a DeriveInput,
    derive: &str,
) -> Option<NewtypeField<'a>> {
    let shape_error = |what: &str| {
        format!(
            "#[derive({derive})] is for a newtype over one value, such as `struct {}(String)`; {what}",
            input.ident
        )
    };
    let fields = match &input.data {
        Data::Struct(data) => &data.fields,
        Data::Enum(_) => {
            cx.error_spanned_by(&input.ident, shape_error("an enum has no single field"));
            return None;
        }
        Data::Union(_) => {
            cx.error_spanned_by(&input.ident, shape_error("a union is not supported"));
            return None;
        }
    };
    let mut iter = fields.iter();
    let (Some(field), None) = (iter.next(), iter.next()) else {
        let what = if matches!(fields, Fields::Unit) || fields.is_empty() {
            "this struct has no field".to_owned()
        } else {
            format!(
                "this struct has {} fields; a key of several fields needs \
                 #[kafka(key_format = \"json\")] or #[kafka(key_format = \"string\")] on the record",
                fields.len()
            )
        };
        cx.error_spanned_by(&input.ident, shape_error(&what));
        return None;
    };
    let member = match &field.ident {
        Some(ident) => Member::Named(ident.clone()),
        None => Member::Unnamed(0.into()),
    };
    Some(NewtypeField {
        member,
        ty: &field.ty,
    })
}

/// Reads `#[kafka(crate = "...")]`, the only attribute a newtype derive takes.
fn crate_attr(cx: &Ctxt, input: &DeriveInput, derive: &str) -> Option<Path> {
    let mut krate = None;
    for attr in input
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("kafka"))
    {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                krate = Some(lit.parse::<Path>()?);
            } else {
                cx.error_spanned_by(
                    &meta.path,
                    format!(
                        "#[derive({derive})] on a newtype takes only `crate = \"...\"`; the \
                         newtype is written as its field"
                    ),
                );
                if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<syn::Expr>()?;
                }
            }
            Ok(())
        });
        if let Err(error) = parsed {
            cx.syn_error(error);
        }
    }
    krate
}

pub fn expand_kafka_bytes(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let field = single_field(&cx, input, "KafkaBytes");
    let krate = crate_attr(&cx, input, "KafkaBytes");
    cx.check()?;
    let Some(NewtypeField { member, ty }) = field else {
        return Ok(TokenStream::new());
    };
    let p = kafka_record_module(krate.as_ref());
    let ident = &input.ident;
    let mut generics = input.generics.clone();
    if !generics.params.is_empty() {
        // `struct Id<T>(T)`: an Id of any key type.
        generics
            .make_where_clause()
            .predicates
            .push(syn::parse_quote_spanned!(ty.span()=> #ty: #p::KafkaBytes));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let encoding = quote_spanned!(ty.span()=> <#ty as #p::KafkaBytes>::ENCODING);
    let bytes = quote_spanned!(ty.span()=> <#ty as #p::KafkaBytes>::kafka_bytes(&self.#member));
    let write =
        quote_spanned!(ty.span()=> <#ty as #p::KafkaBytes>::write_kafka_bytes(&self.#member, out));
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #p::KafkaBytes for #ident #ty_generics #where_clause {
            const ENCODING: #p::KeyEncoding = #encoding;

            fn kafka_bytes(&self) -> ::core::option::Option<::std::vec::Vec<u8>> {
                #bytes
            }

            fn write_kafka_bytes(&self, out: &mut ::std::vec::Vec<u8>) -> bool {
                #write
            }
        }
    })
}

/// Whether `input` is `struct Id(T)`: `#[derive(AvroType)]` makes it `T` in
/// the schema, as serde writes a newtype as its field.
pub fn is_tuple_newtype(input: &DeriveInput) -> bool {
    matches!(&input.data, Data::Struct(data) if matches!(&data.fields, Fields::Unnamed(f) if f.unnamed.len() == 1))
}

/// `#[derive(AvroType)]` on `struct Id(T)`: `T`'s schema and encoding.
pub fn expand_avro_newtype(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let field = single_field(&cx, input, "AvroType");
    let krate = crate_attr(&cx, input, "AvroType");
    cx.check()?;
    let Some(NewtypeField { member, ty }) = field else {
        return Ok(TokenStream::new());
    };
    let p = kafka_record_module(krate.as_ref());
    let avro = quote!(#p::avro);
    let ident = &input.ident;
    let mut generics = input.generics.clone();
    if !generics.params.is_empty() {
        generics
            .make_where_clause()
            .predicates
            .push(syn::parse_quote_spanned!(ty.span()=> #ty: #avro::AvroType));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let nullable = quote_spanned!(ty.span()=> <#ty as #avro::AvroType>::NULLABLE);
    let schema = quote_spanned!(ty.span()=> <#ty as #avro::AvroType>::write_schema(writer));
    let encode = quote_spanned!(ty.span()=> <#ty as #avro::AvroType>::encode(&self.#member, out));
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #avro::AvroType for #ident #ty_generics #where_clause {
            const NULLABLE: bool = #nullable;

            fn write_schema(
                writer: &mut #avro::SchemaWriter,
            ) -> ::core::result::Result<(), #avro::AvroSchemaError> {
                #schema
            }

            fn encode(
                &self,
                out: &mut ::std::vec::Vec<u8>,
            ) -> ::core::result::Result<(), #avro::AvroEncodeError> {
                #encode
            }
        }
    })
}
