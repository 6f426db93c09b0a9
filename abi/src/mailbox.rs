//! Command mailboxes, each defined once with [`mailbox_layout!`]: the
//! struct the firmware fills or parses, its encoding into the big-endian
//! bytes mlx4 reads with `MLX4_GET`, and the field table the docs print.
//!
//! A field is `name: T = (offset, lsb, width)`: the big-endian integer of
//! `T`'s size at byte `offset`, bits `lsb .. lsb + width` of it. Fields of
//! one mailbox may share bytes (mlx4 packs a table's log size into the low
//! byte of its base address); encoding clears and sets only a field's bits.

/// Bytes of a mailbox (`MLX4_MAILBOX_SIZE`).
pub const MAILBOX_BYTES: usize = 4096;

/// One field of a mailbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MbField {
    pub name: &'static str,
    /// Byte offset of the big-endian integer holding the field.
    pub offset: usize,
    /// Size of that integer in bytes (1, 2, 4 or 8).
    pub bytes: usize,
    pub lsb: u32,
    pub width: u32,
    pub doc: &'static str,
}

impl MbField {
    fn ones(&self) -> u64 {
        ((1u128 << self.width) - 1) as u64
    }

    /// Read the field from `buf` (zero where `buf` is too short).
    pub fn get(&self, buf: &[u8]) -> u64 {
        let mut raw = 0u64;
        for i in 0..self.bytes {
            raw = (raw << 8) | *buf.get(self.offset + i).unwrap_or(&0) as u64;
        }
        (raw >> self.lsb) & self.ones()
    }

    /// Write the field into `buf`, leaving every other bit alone.
    pub fn set(&self, buf: &mut [u8], value: u64) {
        let mut raw = 0u64;
        for i in 0..self.bytes {
            raw = (raw << 8) | buf[self.offset + i] as u64;
        }
        let mask = self.ones() << self.lsb;
        raw = (raw & !mask) | ((value << self.lsb) & mask);
        for i in 0..self.bytes {
            buf[self.offset + i] = (raw >> (8 * (self.bytes - 1 - i))) as u8;
        }
    }

    /// `0x12` or `0x12[3:0]`, as the docs print the field's place.
    pub fn place(&self) -> String {
        if self.lsb == 0 && self.width as usize == self.bytes * 8 {
            format!("{:#05x}", self.offset)
        } else {
            format!(
                "{:#05x}[{}:{}]",
                self.offset,
                self.lsb + self.width - 1,
                self.lsb
            )
        }
    }
}

/// A field's type in a mailbox: a layout value (to and from the 64 bits
/// it travels in, shared with `icm_layout!`) and the bytes it may span.
#[doc(hidden)]
pub trait MbValue: crate::icm_layout::FieldValue {
    const BYTES: usize;
}

macro_rules! mb_value {
    ($($t:ty),*) => {$(
        impl MbValue for $t {
            const BYTES: usize = std::mem::size_of::<$t>();
        }
    )*};
}
mb_value!(u8, u16, u32, u64);

impl MbValue for bool {
    const BYTES: usize = 1;
}

/// Define a mailbox: `Name, size_in_bytes, { fields }`.
#[macro_export]
macro_rules! mailbox_layout {
    ($(#[$sdoc:meta])* $ty:ident, $size:expr, {$($(#[doc = $doc:literal])* $name:ident : $t:ty = ($off:expr, $lsb:expr, $width:expr)),* $(,)?}) => {
        $(#[$sdoc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
        pub struct $ty {
            $($(#[doc = $doc])* pub $name: $t),*
        }

        impl $ty {
            /// Bytes of the mailbox the command uses.
            pub const SIZE: usize = $size;

            /// Every field, in layout order.
            pub const FIELDS: &'static [$crate::mailbox::MbField] = &[
                $($crate::mailbox::MbField {
                    name: stringify!($name),
                    offset: $off,
                    bytes: <$t as $crate::mailbox::MbValue>::BYTES,
                    lsb: $lsb,
                    width: $width,
                    doc: concat!($($doc),*),
                }),*
            ];

            /// The mailbox's bytes (`SIZE` of them, zero but for the fields).
            pub fn encode(&self) -> Vec<u8> {
                let mut buf = vec![0u8; Self::SIZE];
                let mut i = 0;
                $(
                    Self::FIELDS[i].set(&mut buf, $crate::icm_layout::FieldValue::to_u64(self.$name));
                    i += 1;
                )*
                let _ = i;
                buf
            }

            /// Parse a mailbox (missing bytes read as zero).
            pub fn decode(buf: &[u8]) -> Self {
                let mut i = 0;
                $(
                    let $name = <$t as $crate::icm_layout::FieldValue>::from_u64(Self::FIELDS[i].get(buf));
                    i += 1;
                )*
                let _ = i;
                $ty { $($name),* }
            }
        }
    };
}

/// Every field fits the integer it is read from and the mailbox; fields
/// overlap only where named in `shared` (pairs of names).
pub fn check(fields: &[MbField], size: usize, shared: &[(&str, &str)]) -> Result<(), String> {
    for f in fields {
        if f.width == 0 || f.lsb + f.width > 8 * f.bytes as u32 || f.offset + f.bytes > size {
            return Err(format!("{} does not fit", f.name));
        }
    }
    for (i, a) in fields.iter().enumerate() {
        for b in &fields[i + 1..] {
            let bits = |f: &MbField| {
                let lo = f.offset as u64 * 8 + (8 * f.bytes as u64 - f.lsb as u64 - f.width as u64);
                lo..lo + f.width as u64
            };
            let (x, y) = (bits(a), bits(b));
            let overlap = x.start < y.end && y.start < x.end;
            let allowed = shared
                .iter()
                .any(|(p, q)| (*p == a.name && *q == b.name) || (*p == b.name && *q == a.name));
            if overlap && !allowed {
                return Err(format!("{} overlaps {}", a.name, b.name));
            }
        }
    }
    Ok(())
}

/// The docs' table of a mailbox: place, field, meaning.
pub fn markdown(fields: &[MbField]) -> String {
    let mut s = String::from("| offset[bits] | field | meaning |\n|---|---|---|\n");
    for f in fields {
        s.push_str(&format!(
            "| `{}` | `{}` | {} |\n",
            f.place(),
            f.name,
            f.doc.trim()
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    mailbox_layout! {
        Probe, 0x10, {
            /// A whole word.
            base: u64 = (0x0, 0, 64),
            /// Low five bits of the same word's last byte.
            log: u8 = (0x7, 0, 5),
            /// High nibble.
            hi: u8 = (0x8, 4, 4),
            lo: u8 = (0x8, 0, 4),
            flag: bool = (0xc, 7, 1),
        }
    }

    #[test]
    fn fields_sharing_bytes_keep_each_other() {
        let p = Probe {
            base: 0x1234_5000,
            log: 17,
            hi: 0xa,
            lo: 0x5,
            flag: true,
        };
        let b = p.encode();
        assert_eq!(b.len(), 0x10);
        assert_eq!(&b[4..8], &[0x12, 0x34, 0x50, 17]);
        assert_eq!(b[8], 0xa5);
        assert_eq!(b[0xc], 0x80);
        let q = Probe::decode(&b);
        assert_eq!(q.base, 0x1234_5000 | 17);
        assert_eq!((q.log, q.hi, q.lo, q.flag), (17, 0xa, 5, true));
        assert_eq!(Probe::FIELDS[1].place(), "0x007[4:0]");
        assert_eq!(Probe::FIELDS[0].place(), "0x000");
    }

    #[test]
    fn check_finds_overlaps_and_misfits() {
        assert!(super::check(Probe::FIELDS, Probe::SIZE, &[("base", "log")]).is_ok());
        assert!(super::check(Probe::FIELDS, Probe::SIZE, &[]).is_err());
        assert!(super::check(Probe::FIELDS, 8, &[("base", "log")]).is_err());
    }

    #[test]
    fn short_buffers_read_as_zero() {
        assert_eq!(Probe::decode(&[0xff; 3]).base, 0xffffff << 40);
    }
}
