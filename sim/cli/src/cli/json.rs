//! JSON Lines conventions shared by every `hca block` command: 64-bit
//! values as `"0x%016x"` strings, precise errors naming the field.

use serde::de::{Error as _, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// A 64-bit value the way every response writes it.
pub fn hex64(v: u64) -> String {
    format!("0x{v:016x}")
}

/// One parsed JSON object, with the fields an operation may use.
pub struct Obj<'a> {
    map: &'a Map<String, Value>,
    op: &'a str,
}

impl<'a> Obj<'a> {
    /// Parse a line into an object with a string `op`.
    pub fn parse(line: &str, value: &'a mut Value) -> Result<Obj<'a>, String> {
        *value = strict(line)?;
        let map = value.as_object().ok_or("not a JSON object")?;
        let op = match map.get("op") {
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err("field `op` must be a string".into()),
            None => return Err("missing field `op`".into()),
        };
        Ok(Obj { map, op })
    }

    pub fn op(&self) -> &'a str {
        self.op
    }

    /// A nested object field, with the same conventions.
    pub fn object(&self, name: &str) -> Result<Option<Obj<'a>>, String> {
        match self.map.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Obj { map, op: self.op })),
            Some(other) => Err(format!("field `{name}`: expected an object, got {other}")),
        }
    }

    /// Whether a field is present.
    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// The names of the fields present, `op` excepted.
    pub fn keys(&self) -> impl Iterator<Item = &'a str> {
        self.map.keys().map(String::as_str).filter(|k| *k != "op")
    }

    /// An unsigned field that must fit in `bits` bits.
    pub fn uint(&self, name: &str, bits: u32) -> Result<u64, String> {
        let v = self.u64(name)?;
        if bits < 64 && v >> bits != 0 {
            return Err(format!("field `{name}`: {v} does not fit in {bits} bits"));
        }
        Ok(v)
    }

    /// A list of strings, if the field is one.
    pub fn list(&self, name: &str) -> Result<Option<Vec<&'a str>>, String> {
        match self.map.get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .ok_or_else(|| format!("field `{name}`: expected a list of names, got {i}"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            _ => Ok(None),
        }
    }

    /// A boolean field, `false` when absent.
    pub fn flag(&self, name: &str) -> Result<bool, String> {
        match self.map.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(format!(
                "field `{name}`: expected true or false, got {other}"
            )),
        }
    }

    /// A string field.
    pub fn string(&self, name: &str) -> Result<&'a str, String> {
        match self.map.get(name) {
            None => Err(format!("missing field `{name}`")),
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(format!("field `{name}`: expected a string, got {other}")),
        }
    }

    /// Refuse fields other than `op` and `allowed`, so a misspelt operand
    /// is an error rather than a silent zero.
    pub fn only(&self, allowed: &[&str]) -> Result<(), String> {
        for k in self.map.keys() {
            if k != "op" && !allowed.contains(&k.as_str()) {
                return Err(format!(
                    "unknown field `{k}` for op `{}` (it takes: {})",
                    self.op,
                    allowed.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// A 64-bit field: a hex string `"0x..."` (1 to 16 digits) or a JSON
    /// integer.
    pub fn u64(&self, name: &str) -> Result<u64, String> {
        match self.map.get(name) {
            None => Err(format!("missing field `{name}`")),
            Some(Value::String(s)) => parse_hex(s).ok_or_else(|| {
                format!(
                    "field `{name}`: bad hex {s:?} (expected a string like \"0x00000000000000ff\")"
                )
            }),
            Some(Value::Number(n)) => n
                .as_u64()
                .ok_or_else(|| format!("field `{name}`: {n} is not an integer from 0 to 2^64-1")),
            Some(other) => Err(format!(
                "field `{name}`: expected a number (an integer or a hex string like \"0xff\"), got {}",
                kind(other)
            )),
        }
    }
}

/// What a JSON value is, for errors: `true`, `null`, a list, an object.
fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Parse one line of JSON, refusing an object that names a field twice
/// (serde_json would keep the last silently).
pub fn strict(line: &str) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_str(line);
    let v = Strict::deserialize(&mut de).map_err(|e| format!("not JSON: {e}"))?;
    de.end().map_err(|e| format!("not JSON: {e}"))?;
    Ok(v.0)
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(n.into())
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(n.into())
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.contains_key(&k) {
                return Err(A::Error::custom(format!("field `{k}` given twice")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

/// `0x` followed by 1 to 16 hex digits.
pub fn parse_hex(s: &str) -> Option<u64> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

/// `{"error": reason}`.
pub fn error_line(reason: &str) -> String {
    serde_json::json!({ "error": reason }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_forms() {
        assert_eq!(parse_hex("0x00000000000000ff"), Some(0xff));
        assert_eq!(parse_hex("0XfF"), Some(0xff));
        assert_eq!(parse_hex("0xffffffffffffffff"), Some(u64::MAX));
        for bad in ["", "0x", "ff", "0x1ffffffffffffffff", "0x-1", "0x 1", "0xg"] {
            assert_eq!(parse_hex(bad), None, "{bad:?}");
        }
        assert_eq!(hex64(0xff), "0x00000000000000ff");
    }

    #[test]
    fn a_field_given_twice_is_refused_at_any_depth() {
        for line in [
            r#"{"op":"a","x":1,"x":2}"#,
            r#"{"op":"a","e":{"y":1,"y":1}}"#,
        ] {
            let e = strict(line).expect_err(line);
            assert!(e.contains("given twice"), "{line}: {e}");
        }
        assert_eq!(
            strict(r#"{"op":"a","l":[{"x":1},{"x":2}]}"#).map(|_| ()),
            Ok(())
        );
    }

    #[test]
    fn a_number_field_names_what_it_got() {
        for (line, got) in [
            (r#"{"op":"a","n":true}"#, "got true"),
            (r#"{"op":"a","n":null}"#, "got null"),
            (r#"{"op":"a","n":[1]}"#, "got a list"),
            (r#"{"op":"a","n":-1}"#, "not an integer"),
            (r#"{"op":"a","n":1.5}"#, "not an integer"),
        ] {
            let mut v = Value::Null;
            let o = Obj::parse(line, &mut v).expect(line);
            let e = o.u64("n").expect_err(line);
            assert!(e.contains("field `n`") && e.contains(got), "{line}: {e}");
        }
    }
}
