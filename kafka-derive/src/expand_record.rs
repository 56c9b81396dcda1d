//! Generates `KafkaRecord`: topic, format, key, headers, timestamp and value.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{Container, Data, Field};
use crate::attr::{KeyFormat, ValueFormat};
use crate::names::json_string;

/// Separator of `key_format = "string"` keys when none is given.
const DEFAULT_KEY_SEPARATOR: &str = ":";

pub fn expand(cont: &Container, rt: &TokenStream) -> TokenStream {
    let ident = cont.ident;
    let p = quote!(#rt::__private);
    let Data::Struct(fields) = &cont.data else {
        // Enums were rejected with an error while building the model.
        return TokenStream::new();
    };
    let record_type = ident.to_string();
    let topic = cont.attrs.topic.as_ref().map(|topic| topic.value());
    let (value_format, value_schema, write_value) = match cont.value_format() {
        ValueFormat::Avro => (
            quote!(#p::ValueFormat::Avro),
            quote!(::core::option::Option::Some(<Self as #p::AvroNamed>::avro_schema())),
            quote!(#p::write_avro_value(self, framing, out)),
        ),
        ValueFormat::Json => (
            quote!(#p::ValueFormat::Json),
            quote!(::core::option::Option::None),
            quote!(#p::write_json_value(self, framing, out)),
        ),
    };
    let json_type_id = match &cont.attrs.type_id {
        Some(type_id) => quote!(::core::option::Option::Some(#type_id)),
        None => quote!(::core::option::Option::None),
    };
    let json_key_type_id = match &cont.attrs.key_type_id {
        Some(key_type_id) => quote! {
            fn json_key_type_id() -> ::core::option::Option<&'static str> {
                ::core::option::Option::Some(#key_type_id)
            }
        },
        None => TokenStream::new(),
    };
    let value_json_schema = match &cont.attrs.json_schema {
        Some(path) => quote_spanned! {path.span()=>
            fn value_json_schema() -> ::core::option::Option<::std::string::String> {
                ::core::option::Option::Some(#p::json_schema_of::<Self>())
            }
        },
        None => TokenStream::new(),
    };
    let record_key = record_key(cont, fields, &p);
    let key_bytes = key_bytes(cont, fields, &p);
    let write_key = write_key(cont, fields, &p);
    let headers = headers(cont, fields, &p);
    let timestamp = timestamp(&record_type, fields, &p);
    quote! {
        #[automatically_derived]
        impl #p::KafkaRecord for #ident {
            fn record_type_name() -> &'static str {
                #record_type
            }

            fn topic_spec() -> &'static str {
                #topic
            }

            fn value_format() -> #p::ValueFormat {
                #value_format
            }

            fn value_schema() -> ::core::option::Option<
                ::core::result::Result<&'static #p::AvroSchema, #p::AvroSchemaError>,
            > {
                #value_schema
            }

            fn json_type_id() -> ::core::option::Option<&'static str> {
                #json_type_id
            }

            #json_key_type_id

            #value_json_schema

            fn record_key() -> ::core::option::Option<#p::RecordKey> {
                #record_key
            }

            fn key_bytes(
                &self,
            ) -> ::core::result::Result<
                ::core::option::Option<::std::vec::Vec<u8>>,
                #p::SerializationError,
            > {
                #key_bytes
            }

            #write_key

            fn headers(&self) -> ::std::vec::Vec<#p::Header> {
                #headers
            }

            fn timestamp_ms(
                &self,
            ) -> ::core::result::Result<::core::option::Option<i64>, #p::SerializationError> {
                #timestamp
            }

            fn write_value(
                &self,
                framing: &#p::ValueFraming,
                out: &mut ::std::vec::Vec<u8>,
            ) -> ::core::result::Result<(), #p::SerializationError> {
                #write_value
            }
        }
    }
}

/// The `#[kafka(key)]` fields, in declaration order.
fn key_fields<'f, 'a>(fields: &'f [Field<'a>]) -> Vec<&'f Field<'a>> {
    fields
        .iter()
        .filter(|field| field.attrs.key.is_some())
        .collect()
}

fn key_format(cont: &Container) -> KeyFormat {
    cont.attrs
        .key_format
        .as_ref()
        .map_or(KeyFormat::Native, |format| format.value)
}

/// `record_key()`: the key fields' names and their encoding (a native key's
/// comes from its type's `KafkaBytes::ENCODING`).
fn record_key(cont: &Container, fields: &[Field], p: &TokenStream) -> TokenStream {
    let keys = key_fields(fields);
    let names = keys.iter().map(|key| {
        let name = key.member.to_string();
        name.strip_prefix("r#").map_or(name.clone(), str::to_owned)
    });
    let encoding = match (key_format(cont), keys.as_slice()) {
        (_, []) => return quote!(::core::option::Option::None),
        (KeyFormat::Native, [key, ..]) => {
            let ty = key.ty;
            quote_spanned!(ty.span()=> <#ty as #p::KafkaBytes>::ENCODING)
        }
        (KeyFormat::Json, _) => quote!(#p::KeyEncoding::Json),
        (KeyFormat::String, _) => quote!(#p::KeyEncoding::Utf8),
    };
    quote! {
        ::core::option::Option::Some(#p::RecordKey {
            fields: &[#(#names),*],
            encoding: #encoding,
        })
    }
}

/// `write_key` for a key written by `KafkaBytes` (straight into the
/// buffer); other keys keep the trait's default, through `key_bytes`.
fn write_key(cont: &Container, fields: &[Field], p: &TokenStream) -> TokenStream {
    match (key_format(cont), key_fields(fields).as_slice()) {
        (KeyFormat::Native, [key, ..]) => {
            let (ty, member) = (key.ty, key.member);
            let write = quote_spanned! {ty.span()=>
                <#ty as #p::KafkaBytes>::write_kafka_bytes(&self.#member, out)
            };
            quote! {
                fn write_key(
                    &self,
                    out: &mut ::std::vec::Vec<u8>,
                ) -> ::core::result::Result<bool, #p::SerializationError> {
                    ::core::result::Result::Ok(#write)
                }
            }
        }
        _ => TokenStream::new(),
    }
}

fn key_bytes(cont: &Container, fields: &[Field], p: &TokenStream) -> TokenStream {
    let keys = key_fields(fields);
    let record_type = cont.ident.to_string();
    match (key_format(cont), keys.as_slice()) {
        (_, []) => quote!(::core::result::Result::Ok(::core::option::Option::None)),
        (KeyFormat::Native, [key, ..]) => {
            let (ty, member) = (key.ty, key.member);
            quote_spanned! {ty.span()=>
                ::core::result::Result::Ok(<#ty as #p::KafkaBytes>::kafka_bytes(&self.#member))
            }
        }
        (KeyFormat::Json, [key]) => {
            let write = json_key_part(key, &record_type, p);
            // A key that is JSON null (`None`) is no key, as Spring's
            // JsonSerializer gives for a null: a record without a key, not
            // the four bytes `null` (another partition, and a tombstone's
            // key for compaction).
            quote! {
                let mut key = ::std::vec::Vec::new();
                #write
                if key.as_slice() == b"null" {
                    return ::core::result::Result::Ok(::core::option::Option::None);
                }
                ::core::result::Result::Ok(::core::option::Option::Some(key))
            }
        }
        (KeyFormat::Json, keys) => {
            // {"a":<json>,"b":<json>} in declaration order, with serde names.
            let parts = keys.iter().enumerate().map(|(i, key)| {
                let prefix = format!(
                    "{}{}:",
                    if i == 0 { "{" } else { "," },
                    json_string(&key.name)
                );
                let write = json_key_part(key, &record_type, p);
                quote! {
                    key.extend_from_slice(#prefix.as_bytes());
                    #write
                }
            });
            quote! {
                let mut key = ::std::vec::Vec::new();
                #(#parts)*
                key.push(b'}');
                ::core::result::Result::Ok(::core::option::Option::Some(key))
            }
        }
        (KeyFormat::String, keys) => {
            let separator = cont.attrs.key_separator.as_ref().map_or_else(
                || DEFAULT_KEY_SEPARATOR.to_owned(),
                |separator| separator.value(),
            );
            let parts = keys.iter().enumerate().map(|(i, key)| {
                let (ty, member) = (key.ty, key.member);
                let write = quote_spanned! {ty.span()=>
                    #p::display_key_part(&mut key, ::core::format_args!("{}", self.#member));
                };
                if i == 0 {
                    write
                } else {
                    quote!(key.push_str(#separator); #write)
                }
            });
            quote! {
                let mut key = ::std::string::String::new();
                #(#parts)*
                ::core::result::Result::Ok(::core::option::Option::Some(key.into_bytes()))
            }
        }
    }
}

fn headers(cont: &Container, fields: &[Field], p: &TokenStream) -> TokenStream {
    let statics = cont.attrs.static_headers.iter().map(|header| {
        let (name, value) = (&header.name, &header.value);
        quote!(#p::static_header(#name, #value))
    });
    let from_fields = fields.iter().filter_map(|field| {
        let name = field.attrs.header.as_ref()?;
        let (ty, member) = (field.ty, field.member);
        Some(quote_spanned! {ty.span()=>
            #p::field_header(#name, <#ty as #p::KafkaBytes>::kafka_bytes(&self.#member))
        })
    });
    let type_id = cont
        .attrs
        .type_id
        .iter()
        .map(|type_id| quote!(#p::static_header(#p::TYPE_ID_HEADER, #type_id)));
    let key_type_id = cont
        .attrs
        .key_type_id
        .iter()
        .map(|key_type_id| quote!(#p::static_header(#p::KEY_TYPE_ID_HEADER, #key_type_id)));
    quote! {
        ::std::vec![#(#statics,)* #(#from_fields,)* #(#type_id,)* #(#key_type_id,)*]
    }
}

fn timestamp(record_type: &str, fields: &[Field], p: &TokenStream) -> TokenStream {
    match fields.iter().find(|field| field.attrs.timestamp.is_some()) {
        None => quote!(::core::result::Result::Ok(::core::option::Option::None)),
        Some(field) => {
            let (ty, member) = (field.ty, field.member);
            let name = member.to_string();
            quote_spanned! {ty.span()=>
                #p::timestamp_ms(
                    #record_type,
                    #name,
                    <#ty as #p::KafkaTimestamp>::kafka_timestamp_ms(&self.#member),
                )
            }
        }
    }
}

/// Appends one key field's JSON to `key`, spanned on its type so a missing
/// `Serialize` points there.
fn json_key_part(key: &Field, record_type: &str, p: &TokenStream) -> TokenStream {
    let (ty, member) = (key.ty, key.member);
    quote_spanned! {ty.span()=>
        <#ty as #p::Serialize>::serialize(
            &self.#member,
            &mut #p::serde_json::Serializer::new(&mut key),
        )
        .map_err(|error| #p::json_key_error(#record_type, error))?;
    }
}
