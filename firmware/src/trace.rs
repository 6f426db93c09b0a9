//! The command trace: one record per command the driver posted.

use crate::status::Status;
use serde::Serialize;
use std::time::Duration;

#[derive(Clone, Debug, Serialize)]
pub struct CommandRecord {
    /// Commands posted since power-on, counting from 1.
    pub seq: u64,
    pub opcode: u16,
    pub name: &'static str,
    pub op_modifier: u8,
    pub in_modifier: u32,
    pub in_param: u64,
    pub out_param: u64,
    /// Completion by event (the HCR's E bit) rather than by polling.
    pub event: bool,
    pub token: u16,
    #[serde(serialize_with = "status_name")]
    pub status: Status,
    /// Time the device took, from the GO write to the completion.
    #[serde(serialize_with = "micros")]
    pub duration: Duration,
    /// What went wrong, in words, for a status other than OK.
    pub detail: Option<String>,
}

fn status_name<S: serde::Serializer>(s: &Status, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.name())
}

fn micros<S: serde::Serializer>(d: &Duration, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_f64(d.as_secs_f64() * 1e6)
}

impl CommandRecord {
    /// One line: `#12 MAP_ICM op_mod 0 in_mod 0x40 -> OK 35 us`.
    pub fn line(&self) -> String {
        let mut s = format!(
            "#{:<4} {:<16} op_mod {:<2} in_mod {:#010x} -> {:<13} {:>8.1} us",
            self.seq,
            self.name,
            self.op_modifier,
            self.in_modifier,
            self.status.name(),
            self.duration.as_secs_f64() * 1e6
        );
        if self.event {
            s.push_str(" (event)");
        }
        if let Some(d) = &self.detail {
            s.push_str(&format!(": {d}"));
        }
        s
    }
}
