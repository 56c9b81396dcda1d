//! Where generated code finds the runtime: `#[kafka(crate = "...")]`, else the
//! `kafka-record` or `kafka-template` dependency in the user's Cargo.toml.

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Ident, Path};

/// The path of the record runtime (the `kafka-record` crate), as generated code
/// should spell it.
pub fn kafka_record_module(override_path: Option<&Path>) -> TokenStream {
    if let Some(path) = override_path {
        return quote!(#path);
    }
    if let Ok(found) = crate_name("kafka-record") {
        return match found {
            FoundCrate::Itself => quote!(crate),
            FoundCrate::Name(name) => {
                let name = Ident::new(&name, Span::call_site());
                quote!(::#name)
            }
        };
    }
    if let Ok(FoundCrate::Name(name)) = crate_name("kafka-template") {
        let name = Ident::new(&name, Span::call_site());
        return quote!(::#name::record);
    }
    // No manifest to read (a build outside Cargo): assume the usual name.
    quote!(::kafka_record)
}
