//! JSON Lines conventions shared by every `hca block` command: 64-bit
//! values as `"0x%016x"` strings, precise errors naming the field.

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
        *value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
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
                "field `{name}`: expected a hex string, got {other}"
            )),
        }
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
}
