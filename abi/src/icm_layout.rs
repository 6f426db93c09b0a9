//! Contexts kept in ICM as 64-bit words, each defined once with
//! [`icm_layout!`]: the struct the models use, its packing, and the field
//! table the RTL takes its masks and shifts from and the docs print.

/// A field's place: word, least significant bit, width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub word: usize,
    pub lsb: u32,
    pub width: u32,
}

impl Field {
    /// The field's bits in its word.
    pub fn mask(&self) -> u64 {
        (((1u128 << self.width) - 1) as u64) << self.lsb
    }

    /// The field's bits, all ones, with the field right-aligned.
    pub fn ones(&self) -> u64 {
        ((1u128 << self.width) - 1) as u64
    }
}

/// The field called `name` in `fields`. Panics on an unknown name: callers
/// name fields with literals, so this is a programming error any test hits.
pub fn find(fields: &[Field], name: &str) -> Field {
    *fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field `{name}` in this layout"))
}

#[doc(hidden)]
pub trait FieldValue: Copy {
    fn to_u64(self) -> u64;
    fn from_u64(v: u64) -> Self;
}

macro_rules! field_value {
    ($($t:ty),*) => {$(
        impl FieldValue for $t {
            fn to_u64(self) -> u64 { self as u64 }
            fn from_u64(v: u64) -> Self { v as $t }
        }
    )*};
}
field_value!(u8, u16, u32, u64);

impl FieldValue for bool {
    fn to_u64(self) -> u64 {
        self as u64
    }
    fn from_u64(v: u64) -> Self {
        v != 0
    }
}

/// Define a context kept in ICM as 64-bit words: the struct, its `pack`
/// and `unpack`, and the table `FIELDS` everything else is derived from.
#[macro_export]
macro_rules! icm_layout {
    ($(#[$sdoc:meta])* $ty:ident, $words:expr, {$($(#[$doc:meta])* $name:ident : $t:ty = ($word:expr, $lsb:expr, $width:expr)),* $(,)?}) => {
        $(#[$sdoc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub struct $ty {
            $($(#[$doc])* pub $name: $t),*
        }

        /// Every field, in layout order.
        pub const FIELDS: &[$crate::icm_layout::Field] = &[
            $($crate::icm_layout::Field { name: stringify!($name), word: $word, lsb: $lsb, width: $width }),*
        ];

        /// The field called `name`.
        pub fn field(name: &str) -> $crate::icm_layout::Field {
            $crate::icm_layout::find(FIELDS, name)
        }

        impl $ty {
            /// The ICM words of this context. Values wider than their field
            /// are truncated to it.
            pub fn pack(&self) -> [u64; $words] {
                let mut w = [0u64; $words];
                $(
                    w[$word] |= ($crate::icm_layout::FieldValue::to_u64(self.$name) & (((1u128 << $width) - 1) as u64)) << $lsb;
                )*
                w
            }

            /// The context held in ICM words (reserved bits ignored).
            pub fn unpack(w: &[u64; $words]) -> Self {
                $ty {
                    $($name: $crate::icm_layout::FieldValue::from_u64((w[$word] >> $lsb) & (((1u128 << $width) - 1) as u64))),*
                }
            }
        }
    };
}

/// A field an RTL block reads from a fixed word of `fields`: refuse, when
/// the block is built, a layout that moved it.
pub fn fixed(block: &str, fields: &[Field], name: &str, word: usize) -> Field {
    let f = find(fields, name);
    assert_eq!(
        f.word, word,
        "the {block} RTL reads `{name}` from word {word}; the layout moved it"
    );
    f
}
