//! A minimal JSON writer for `--json` output: strings, numbers, arrays and objects.
//!
//! Postfix counterpart: none (Postfix's JSON output, postqueue -j, is written by hand in
//! src/postqueue/showq_json.c the same way). Hand-written to keep this crate free of
//! dependencies.

/// A JSON value.
#[derive(Debug, Clone)]
pub enum Value {
    /// null.
    Null,
    /// true or false.
    Bool(bool),
    /// A number.
    Num(i64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Value>),
    /// An object, its members in order.
    Obj(Vec<(String, Value)>),
}

/// Quotes a string as JSON.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Value {
    /// A string value.
    pub fn s(text: impl Into<String>) -> Value {
        Value::Str(text.into())
    }

    /// The compact JSON text.
    pub fn render(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Num(n) => n.to_string(),
            Value::Str(s) => quote(s),
            Value::Arr(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(Value::render)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Value::Obj(members) => format!(
                "{{{}}}",
                members
                    .iter()
                    .map(|(k, v)| format!("{}:{}", quote(k), v.render()))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders() {
        let v = Value::Obj(vec![
            ("a".into(), Value::Arr(vec![Value::Num(1), Value::Null])),
            ("b".into(), Value::s("x\"\n")),
        ]);
        assert_eq!(v.render(), r#"{"a":[1,null],"b":"x\"\n"}"#);
    }
}
