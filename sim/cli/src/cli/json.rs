//! JSON Lines conventions shared by every `hca block` command: 64-bit
//! values as `"0x%016x"` strings, operands read into serde-derived types
//! (integers or hex strings that must fit their width, names or numbers),
//! precise errors naming the op and the field.

use serde::de::{DeserializeOwned, Error as DeError, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use std::marker::PhantomData;

/// A 64-bit value the way every response writes it.
pub fn hex64(v: u64) -> String {
    format!("0x{v:016x}")
}

/// An unsigned operand that must fit `N` bits: a JSON integer, or a hex
/// string `"0x..."` of 1 to 16 digits (the form every answer writes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Uint<const N: u32>(pub u64);

/// A 64-bit operand.
pub type U64 = Uint<64>;

impl<const N: u32> Uint<N> {
    pub fn u8(self) -> u8 {
        const { assert!(N <= 8) };
        self.0 as u8
    }

    pub fn u16(self) -> u16 {
        const { assert!(N <= 16) };
        self.0 as u16
    }

    pub fn u32(self) -> u32 {
        const { assert!(N <= 32) };
        self.0 as u32
    }
}

fn fit<const N: u32, E: DeError>(v: u64) -> Result<Uint<N>, E> {
    if N < 64 && v >> N != 0 {
        return Err(E::custom(format!("{v} does not fit in {N} bits")));
    }
    Ok(Uint(v))
}

impl<'de, const N: u32> Deserialize<'de> for Uint<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const N: u32>;
        impl<const N: u32> Visitor<'_> for V<N> {
            type Value = Uint<N>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number (an integer or a hex string like \"0xff\")")
            }

            fn visit_u64<E: DeError>(self, v: u64) -> Result<Uint<N>, E> {
                fit(v)
            }

            fn visit_i64<E: DeError>(self, v: i64) -> Result<Uint<N>, E> {
                match u64::try_from(v) {
                    Ok(v) => fit(v),
                    Err(_) => Err(E::custom(format!("{v} is not an integer from 0 to 2^64-1"))),
                }
            }

            fn visit_f64<E: DeError>(self, v: f64) -> Result<Uint<N>, E> {
                Err(E::custom(format!("{v} is not an integer from 0 to 2^64-1")))
            }

            fn visit_str<E: DeError>(self, s: &str) -> Result<Uint<N>, E> {
                let v = parse_hex(s).ok_or_else(|| {
                    E::custom(format!(
                        "bad hex {s:?} (expected a string like \"0x00000000000000ff\")"
                    ))
                })?;
                fit(v)
            }
        }
        d.deserialize_any(V::<N>)
    }
}

/// The names of a field's values: what [`Named`] and [`NamedBits`] read.
pub trait Names {
    /// What a value is, for errors ("state", "access").
    const WHAT: &'static str;
    /// Value `i` is called `NAMES[i]` (for [`NamedBits`], bit `i`).
    const NAMES: &'static [&'static str];
    /// Bits a value given as a number must fit.
    const BITS: u32;

    /// The code of the value named `NAMES[i]` (its position, unless the
    /// codes have gaps).
    fn code(i: usize) -> u8 {
        i as u8
    }
}

fn name_index<T: Names, E: DeError>(s: &str) -> Result<u8, E> {
    T::NAMES
        .iter()
        .position(|n| *n == s)
        .map(T::code)
        .ok_or_else(|| {
            E::custom(format!(
                "unknown {} `{s}` (known: {})",
                T::WHAT,
                T::NAMES.join(", ")
            ))
        })
}

fn small<T: Names, E: DeError>(v: u64) -> Result<u8, E> {
    if T::BITS >= 8 || v >> T::BITS != 0 {
        return Err(E::custom(format!("{v} does not fit in {} bits", T::BITS)));
    }
    Ok(v as u8)
}

/// One value, by name or as a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Named<T>(pub u8, PhantomData<T>);

impl<T> Named<T> {
    pub const fn new(v: u8) -> Self {
        Named(v, PhantomData)
    }
}

impl<'de, T: Names> Deserialize<'de> for Named<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<T: Names> Visitor<'_> for V<T> {
            type Value = Named<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a name ({}) or a number", T::NAMES.join(", "))
            }

            fn visit_u64<E: DeError>(self, v: u64) -> Result<Named<T>, E> {
                small::<T, E>(v).map(Named::new)
            }

            fn visit_str<E: DeError>(self, s: &str) -> Result<Named<T>, E> {
                name_index::<T, E>(s).map(Named::new)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A set of bits: a list of their names, or a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamedBits<T>(pub u8, PhantomData<T>);

impl<T> Default for NamedBits<T> {
    fn default() -> Self {
        NamedBits(0, PhantomData)
    }
}

impl<'de, T: Names> Deserialize<'de> for NamedBits<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Names> Visitor<'de> for V<T> {
            type Value = NamedBits<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a list of names ({}) or a number", T::NAMES.join(", "))
            }

            fn visit_u64<E: DeError>(self, v: u64) -> Result<NamedBits<T>, E> {
                small::<T, E>(v).map(|v| NamedBits(v, PhantomData))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NamedBits<T>, A::Error> {
                let mut bits = 0u8;
                while let Some(name) = seq.next_element::<String>()? {
                    bits |= 1u8
                        .checked_shl(name_index::<T, A::Error>(&name)?.into())
                        .unwrap_or(0);
                }
                Ok(NamedBits(bits, PhantomData))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// An op with no operands.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoFields {}

/// One op a block takes: its name, and how its operands (the line's
/// object without `op`) become a request.
pub struct Op<R> {
    pub name: &'static str,
    pub parse: fn(Value) -> Result<R, String>,
}

/// Operands into their serde-derived type, an error naming the field at
/// fault (`entry.kind`), as the blocks' schemas nest.
pub fn fields<T: DeserializeOwned>(v: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let mut path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // The path of an unknown field ends in the field itself: name the
        // object it was found in instead.
        if inner.starts_with("unknown field") {
            path = path
                .rsplit_once('.')
                .map_or(".".to_string(), |(p, _)| p.to_string());
        }
        if path == "." {
            inner
        } else {
            format!("field `{path}`: {inner}")
        }
    })
}

/// Parse one line into a request: strict JSON (no field given twice), an
/// object, a string `op` naming one of `ops`, and that op's operands.
pub fn parse_line<R>(line: &str, ops: &[Op<R>]) -> Result<R, String> {
    let mut v = strict(line)?;
    let map = v.as_object_mut().ok_or("not a JSON object")?;
    let name = match map.remove("op") {
        Some(Value::String(s)) => s,
        Some(_) => return Err("field `op` must be a string".into()),
        None => return Err("missing field `op`".into()),
    };
    let Some(op) = ops.iter().find(|o| o.name == name) else {
        let known: Vec<&str> = ops.iter().map(|o| o.name).collect();
        return Err(format!("unknown op `{name}` (known: {})", known.join(", ")));
    };
    (op.parse)(v).map_err(|e| format!("op `{name}`: {e}"))
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
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct N {
            n: U64,
            b: Option<Uint<8>>,
        }
        let ops = [Op {
            name: "a",
            parse: |v| fields::<N>(v).map(|_| ()),
        }];
        for (line, got) in [
            (
                r#"{"op":"a","n":true}"#,
                "field `n`: invalid type: boolean `true`",
            ),
            (r#"{"op":"a","n":null}"#, "field `n`: invalid type: null"),
            (r#"{"op":"a","n":[1]}"#, "field `n`: invalid type: sequence"),
            (r#"{"op":"a","n":-1}"#, "field `n`: -1 is not an integer"),
            (r#"{"op":"a","n":1.5}"#, "field `n`: 1.5 is not an integer"),
            (r#"{"op":"a","n":"12"}"#, "field `n`: bad hex \"12\""),
            (
                r#"{"op":"a","n":1,"b":256}"#,
                "field `b`: 256 does not fit in 8 bits",
            ),
            (r#"{"op":"a","n":1,"c":1}"#, "op `a`: unknown field `c`"),
            (r#"{"op":"a"}"#, "op `a`: missing field `n`"),
            (r#"{"op":"b"}"#, "unknown op `b` (known: a)"),
            (r#"{"op":1}"#, "field `op` must be a string"),
            (r#"[1]"#, "not a JSON object"),
        ] {
            let e = parse_line(line, &ops).expect_err(line);
            assert!(e.contains(got), "{line}: {e}");
        }
        assert_eq!(parse_line(r#"{"op":"a","n":"0xff","b":255}"#, &ops), Ok(()));
    }
}
