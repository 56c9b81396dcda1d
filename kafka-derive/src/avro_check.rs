//! Field types Avro cannot express, recognised by their spelling so the error can
//! say why. Types not recognised here are left to the `AvroType` trait bound,
//! whose own message lists what is supported.

use syn::{GenericArgument, PathArguments, Type, TypePath};

/// The part of `ty` Avro cannot express, and why; `None` when nothing is known
/// to be wrong.
pub fn unsupported(ty: &Type) -> Option<(&Type, String)> {
    match ty {
        Type::Paren(inner) => unsupported(&inner.elem),
        Type::Group(inner) => unsupported(&inner.elem),
        Type::Path(path) if path.qself.is_none() => unsupported_path(ty, path),
        Type::Tuple(tuple) if tuple.elems.is_empty() => Some((
            ty,
            "Avro has no unit type; remove the field or `#[serde(skip)]` it".to_owned(),
        )),
        Type::Tuple(_) => Some((
            ty,
            "Avro has no tuples; use a struct deriving AvroType (an Avro record)".to_owned(),
        )),
        Type::Array(_) => Some((
            ty,
            "fixed-size arrays have no Avro mapping here; use Vec<T> (an Avro array), or \
             Vec<u8> for bytes"
                .to_owned(),
        )),
        Type::Reference(_) | Type::Slice(_) | Type::Ptr(_) => Some((
            ty,
            "a record owns its data; use an owned type such as String or Vec<T>".to_owned(),
        )),
        Type::BareFn(_) | Type::TraitObject(_) | Type::ImplTrait(_) | Type::Never(_) => {
            Some((ty, "this is not data Avro can hold".to_owned()))
        }
        _ => None,
    }
}

fn unsupported_path<'a>(ty: &'a Type, path: &'a TypePath) -> Option<(&'a Type, String)> {
    let last = path.path.segments.last()?;
    let name = last.ident.to_string();
    let reason = match name.as_str() {
        "u64" | "usize" => format!(
            "Avro's only 64-bit integer is the signed `long`, and `{name}` values above \
             i64::MAX would not fit; use i64, or u32 (written as long)"
        ),
        "u128" | "i128" => format!("Avro has no 128-bit integers; `{name}` does not fit a long"),
        "isize" => "`isize` has a platform-dependent width; use i32 or i64".to_owned(),
        "u8" => "`u8` on its own has no Avro type (Vec<u8> is Avro bytes); use i32 or u16 \
                 (Avro int)"
            .to_owned(),
        "HashSet" | "BTreeSet" => {
            format!("Avro has no set type; use Vec<T> (an Avro array) instead of `{name}`")
        }
        "Option" => {
            let inner = type_arguments(&last.arguments).next()?;
            if is_named(inner, "Option") {
                return Some((
                    ty,
                    "Option<Option<T>> would be a union inside a union, which Avro forbids"
                        .to_owned(),
                ));
            }
            return unsupported(inner);
        }
        "Vec" | "Box" | "Arc" | "Rc" => {
            let inner = type_arguments(&last.arguments).next()?;
            // Vec<u8> is Avro bytes.
            if name == "Vec" && is_named(inner, "u8") {
                return None;
            }
            return unsupported(inner);
        }
        "HashMap" | "BTreeMap" => {
            let mut arguments = type_arguments(&last.arguments);
            let key = arguments.next()?;
            if !is_named(key, "String") {
                return Some((
                    key,
                    "Avro map keys are always strings; use String as the key type".to_owned(),
                ));
            }
            return unsupported(arguments.next()?);
        }
        _ => return None,
    };
    Some((ty, reason))
}

/// The type arguments of `Name<A, B>`.
fn type_arguments(arguments: &PathArguments) -> impl Iterator<Item = &Type> {
    let arguments = match arguments {
        PathArguments::AngleBracketed(bracketed) => Some(&bracketed.args),
        _ => None,
    };
    arguments
        .into_iter()
        .flatten()
        .filter_map(|argument| match argument {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
}

/// Whether `ty` is spelled `name` or `path::to::name`, with any arguments.
pub fn is_named(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == name),
        Type::Paren(inner) => is_named(&inner.elem, name),
        Type::Group(inner) => is_named(&inner.elem, name),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(source: &str) -> Option<String> {
        let ty: Type = syn::parse_str(source).expect("a type");
        unsupported(&ty).map(|(_, reason)| reason)
    }

    #[test]
    fn expressible_types_pass() {
        for ok in [
            "String",
            "Option<Vec<u8>>",
            "HashMap<String, Vec<Customer>>",
            "std::collections::BTreeMap<String, i64>",
            "Box<Node>",
            "Arc<str>",
            "Option<Rc<Customer>>",
            "Customer",
        ] {
            assert_eq!(problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn inexpressible_types_are_explained() {
        for bad in [
            "u64",
            "Option<u64>",
            "Vec<(i32, i32)>",
            "HashMap<i32, String>",
            "Option<Option<String>>",
            "[u8; 16]",
            "&'static str",
            "HashSet<String>",
            "u8",
            "std::sync::Arc<u64>",
            "Option<Rc<u128>>",
        ] {
            assert!(problem(bad).is_some(), "{bad}");
        }
    }
}
