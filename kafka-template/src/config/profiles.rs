//! Active profiles and Spring's profile expressions (`prod`, `!prod`,
//! `prod & eu`, `(dev | test) & !ci`), used to gate YAML documents.

/// The profile used when none is active, as in Spring.
pub(crate) const DEFAULT_PROFILE: &str = "default";

/// Splits a comma-separated profile list (`dev, eu`), dropping empty names.
pub(crate) fn split_profiles(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A parsed `on-profile` condition: any of its comma-separated expressions.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ProfileCondition {
    any_of: Vec<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    Profile(String),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl ProfileCondition {
    /// Parses Spring's syntax: a comma-separated list of expressions, any of which
    /// must match; each is a profile name, `!expr`, `a & b`, `a | b` or a
    /// parenthesised expression. Mixing `&` and `|` needs parentheses, as in Spring.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut any_of = Vec::new();
        for part in text.split(',') {
            let tokens = tokenize(part);
            if tokens.is_empty() {
                continue;
            }
            let mut parser = ExprParser {
                tokens: &tokens,
                at: 0,
            };
            let expr = parser.expression()?;
            if let Some(token) = tokens.get(parser.at) {
                return Err(format!("unexpected '{}'", token.text()));
            }
            any_of.push(expr);
        }
        if any_of.is_empty() {
            return Err("no profile named".to_owned());
        }
        Ok(ProfileCondition { any_of })
    }

    /// Whether the condition holds for these active profiles.
    pub(crate) fn matches(&self, active: &[String]) -> bool {
        self.any_of.iter().any(|expr| expr.matches(active))
    }
}

impl Expr {
    fn matches(&self, active: &[String]) -> bool {
        match self {
            Expr::Profile(name) => active.iter().any(|p| p == name),
            Expr::Not(inner) => !inner.matches(active),
            Expr::And(all) => all.iter().all(|e| e.matches(active)),
            Expr::Or(any) => any.iter().any(|e| e.matches(active)),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Name(String),
    Not,
    And,
    Or,
    Open,
    Close,
}

impl Token {
    fn text(&self) -> &str {
        match self {
            Token::Name(name) => name,
            Token::Not => "!",
            Token::And => "&",
            Token::Or => "|",
            Token::Open => "(",
            Token::Close => ")",
        }
    }
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut name = String::new();
    for c in text.chars() {
        let operator = match c {
            '!' => Some(Token::Not),
            '&' => Some(Token::And),
            '|' => Some(Token::Or),
            '(' => Some(Token::Open),
            ')' => Some(Token::Close),
            c if c.is_whitespace() => None,
            c => {
                name.push(c);
                continue;
            }
        };
        if !name.is_empty() {
            tokens.push(Token::Name(std::mem::take(&mut name)));
        }
        tokens.extend(operator);
    }
    if !name.is_empty() {
        tokens.push(Token::Name(name));
    }
    tokens
}

struct ExprParser<'a> {
    tokens: &'a [Token],
    at: usize,
}

impl ExprParser<'_> {
    /// operand (('&' operand)* | ('|' operand)*)
    fn expression(&mut self) -> Result<Expr, String> {
        let first = self.operand()?;
        let mut operands = vec![first];
        let mut operator: Option<Token> = None;
        while let Some(token @ (Token::And | Token::Or)) = self.tokens.get(self.at) {
            if operator.as_ref().is_some_and(|op| op != token) {
                return Err("mixing '&' and '|' needs parentheses".to_owned());
            }
            operator = Some(token.clone());
            self.at += 1;
            operands.push(self.operand()?);
        }
        Ok(match operator {
            None => operands.pop().unwrap_or(Expr::Or(Vec::new())),
            Some(Token::And) => Expr::And(operands),
            Some(_) => Expr::Or(operands),
        })
    }

    fn operand(&mut self) -> Result<Expr, String> {
        let token = self
            .tokens
            .get(self.at)
            .ok_or_else(|| "expression ends early".to_owned())?;
        self.at += 1;
        match token {
            Token::Name(name) => Ok(Expr::Profile(name.clone())),
            Token::Not => Ok(Expr::Not(Box::new(self.operand()?))),
            Token::Open => {
                let inner = self.expression()?;
                match self.tokens.get(self.at) {
                    Some(Token::Close) => {
                        self.at += 1;
                        Ok(inner)
                    }
                    _ => Err("missing ')'".to_owned()),
                }
            }
            other => Err(format!("unexpected '{}'", other.text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn expressions_match_like_spring() {
        let cases = [
            ("prod", &["prod"][..], true),
            ("prod", &["dev"][..], false),
            ("!prod", &["dev"][..], true),
            ("prod & eu", &["prod", "eu"][..], true),
            ("prod & eu", &["prod"][..], false),
            ("prod | eu", &["eu"][..], true),
            ("dev, test", &["test"][..], true),
            ("(dev | test) & !ci", &["dev"][..], true),
            ("(dev | test) & !ci", &["dev", "ci"][..], false),
            ("!!prod", &["prod"][..], true),
        ];
        for (text, profiles, expected) in cases {
            let condition = ProfileCondition::parse(text).unwrap();
            assert_eq!(
                condition.matches(&active(profiles)),
                expected,
                "{text} with {profiles:?}"
            );
        }
    }

    #[test]
    fn malformed_expressions_are_rejected() {
        for text in ["a & b | c", "(a", "a &", "", ")", "a b"] {
            assert!(ProfileCondition::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn profile_lists_are_trimmed() {
        assert_eq!(split_profiles(" dev, ,eu "), active(&["dev", "eu"]));
        assert!(split_profiles("").is_empty());
    }
}
