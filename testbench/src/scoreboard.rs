//! Compares each response from the design with the reference model's.

use std::collections::VecDeque;
use std::fmt::Debug;

/// The first difference between the design and the model.
#[derive(Debug, Clone)]
pub struct Mismatch<Req, Resp> {
    /// Index of the transaction in issue order.
    pub index: u64,
    /// `None` when the design answered with no request outstanding.
    pub request: Option<Req>,
    pub expected: Option<Resp>,
    /// `None` when the design gave no response at all.
    pub got: Option<Resp>,
    pub cycle: u64,
}

impl<Req: Debug, Resp: Debug> std::fmt::Display for Mismatch<Req, Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.request, &self.expected) {
            (Some(req), Some(want)) => write!(
                f,
                "transaction #{} (by cycle {}): {req:x?}\n  expected {want:x?}\n  got      {}",
                self.index,
                self.cycle,
                self.got
                    .as_ref()
                    .map_or("nothing".to_string(), |g| format!("{g:x?}"))
            ),
            _ => write!(
                f,
                "a response with no request outstanding (by cycle {}): {:x?}",
                self.cycle, self.got
            ),
        }
    }
}

/// Expected responses queue in issue order; each observed response must
/// match the head.
#[derive(Debug)]
pub struct Scoreboard<Req, Resp> {
    expected: VecDeque<(u64, Req, Resp)>,
    issued: u64,
    checked: u64,
}

impl<Req, Resp> Default for Scoreboard<Req, Resp> {
    fn default() -> Self {
        Scoreboard {
            expected: VecDeque::new(),
            issued: 0,
            checked: 0,
        }
    }
}

impl<Req: Clone + Debug, Resp: Clone + Debug + PartialEq> Scoreboard<Req, Resp> {
    /// Record what the model answered to a request the design was sent.
    pub fn expect(&mut self, req: Req, resp: Resp) {
        self.expected.push_back((self.issued, req, resp));
        self.issued += 1;
    }

    /// Check one response from the design.
    pub fn observe(&mut self, got: Resp, cycle: u64) -> Result<(), Box<Mismatch<Req, Resp>>> {
        match self.expected.pop_front() {
            Some((index, request, expected)) if expected == got => {
                let _ = (index, request);
                self.checked += 1;
                Ok(())
            }
            Some((index, request, expected)) => Err(Box::new(Mismatch {
                index,
                request: Some(request),
                expected: Some(expected),
                got: Some(got),
                cycle,
            })),
            None => Err(Box::new(Mismatch {
                index: self.issued,
                request: None,
                expected: None,
                got: Some(got),
                cycle,
            })),
        }
    }

    pub fn outstanding(&self) -> usize {
        self.expected.len()
    }

    pub fn checked(&self) -> u64 {
        self.checked
    }
}
