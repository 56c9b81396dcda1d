//! serde's `rename_all` rules, applied to field and variant names the way serde
//! applies them, so the Avro schema uses the names serde writes.

use std::fmt;

/// A `rename_all` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

/// The rule names serde accepts.
const RULES: &[(&str, RenameRule)] = &[
    ("lowercase", RenameRule::Lower),
    ("UPPERCASE", RenameRule::Upper),
    ("PascalCase", RenameRule::Pascal),
    ("camelCase", RenameRule::Camel),
    ("snake_case", RenameRule::Snake),
    ("SCREAMING_SNAKE_CASE", RenameRule::ScreamingSnake),
    ("kebab-case", RenameRule::Kebab),
    ("SCREAMING-KEBAB-CASE", RenameRule::ScreamingKebab),
];

/// An unknown rule name, with the list of known ones for the message.
pub struct UnknownRule<'a>(pub &'a str);

impl fmt::Display for UnknownRule<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown rename rule `{}`; expected one of ", self.0)?;
        for (i, (name, _)) in RULES.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "\"{name}\"")?;
        }
        Ok(())
    }
}

impl RenameRule {
    pub fn from_str(name: &str) -> Result<Self, UnknownRule<'_>> {
        RULES
            .iter()
            .find(|(rule_name, _)| *rule_name == name)
            .map(|(_, rule)| *rule)
            .ok_or(UnknownRule(name))
    }

    /// A variant name (PascalCase in Rust) under this rule.
    pub fn apply_to_variant(self, variant: &str) -> String {
        match self {
            RenameRule::Pascal => variant.to_owned(),
            RenameRule::Lower => variant.to_ascii_lowercase(),
            RenameRule::Upper => variant.to_ascii_uppercase(),
            RenameRule::Camel => {
                let mut chars = variant.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            }
            RenameRule::Snake => pascal_to_separated(variant, '_'),
            RenameRule::ScreamingSnake => pascal_to_separated(variant, '_').to_ascii_uppercase(),
            RenameRule::Kebab => pascal_to_separated(variant, '-'),
            RenameRule::ScreamingKebab => pascal_to_separated(variant, '-').to_ascii_uppercase(),
        }
    }

    /// A field name (snake_case in Rust) under this rule.
    pub fn apply_to_field(self, field: &str) -> String {
        match self {
            RenameRule::Lower | RenameRule::Snake => field.to_owned(),
            RenameRule::Upper | RenameRule::ScreamingSnake => field.to_ascii_uppercase(),
            RenameRule::Pascal => snake_to_pascal(field),
            RenameRule::Camel => {
                let pascal = snake_to_pascal(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            }
            RenameRule::Kebab => field.replace('_', "-"),
            RenameRule::ScreamingKebab => field.replace('_', "-").to_ascii_uppercase(),
        }
    }
}

/// `OrderPlaced` -> `order_placed` (with `separator`).
fn pascal_to_separated(name: &str, separator: char) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, ch) in name.char_indices() {
        if i > 0 && ch.is_uppercase() {
            out.push(separator);
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}

/// `order_id` -> `OrderId`.
fn snake_to_pascal(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut capitalize = true;
    for ch in name.chars() {
        if ch == '_' {
            capitalize = true;
        } else if capitalize {
            out.push(ch.to_ascii_uppercase());
            capitalize = false;
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_follow_serde() {
        let cases = [
            (RenameRule::Camel, "order_id", "orderId"),
            (RenameRule::Pascal, "order_id", "OrderId"),
            (RenameRule::ScreamingSnake, "order_id", "ORDER_ID"),
            (RenameRule::Kebab, "order_id", "order-id"),
            (RenameRule::Lower, "order_id", "order_id"),
        ];
        for (rule, input, expected) in cases {
            assert_eq!(rule.apply_to_field(input), expected, "{rule:?}");
        }
    }

    #[test]
    fn variants_follow_serde() {
        let cases = [
            (RenameRule::Snake, "OutForDelivery", "out_for_delivery"),
            (
                RenameRule::ScreamingSnake,
                "OutForDelivery",
                "OUT_FOR_DELIVERY",
            ),
            (RenameRule::Camel, "OutForDelivery", "outForDelivery"),
            (RenameRule::Lower, "OutForDelivery", "outfordelivery"),
            (
                RenameRule::ScreamingKebab,
                "OutForDelivery",
                "OUT-FOR-DELIVERY",
            ),
        ];
        for (rule, input, expected) in cases {
            assert_eq!(rule.apply_to_variant(input), expected, "{rule:?}");
        }
    }
}
