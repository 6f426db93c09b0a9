//! Seeds that make every random run replayable.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The environment variable that fixes the seed of every random test.
pub const SEED_VAR: &str = "HCA_SEED";

/// A random seed, printed when used so a failing run can be replayed with
/// `HCA_SEED=<seed>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seed(pub u64);

impl Seed {
    /// `HCA_SEED` if set (decimal or 0x-hex), otherwise a fresh seed from
    /// the clock, so repeated runs explore new stimulus. Panics on a
    /// malformed `HCA_SEED`, which in a test is the clearest failure; tools
    /// use [`Seed::try_from_env`].
    pub fn from_env() -> Seed {
        Self::try_from_env().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Seed::from_env`], with a malformed `HCA_SEED` as an error.
    pub fn try_from_env() -> Result<Seed, String> {
        match std::env::var(SEED_VAR) {
            Ok(s) => parse_u64(&s)
                .map(Seed)
                .ok_or_else(|| format!("{SEED_VAR}={s:?} is not a number (decimal or 0x-hex)")),
            Err(_) => {
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0);
                Ok(Seed(t ^ (std::process::id() as u64).rotate_left(32)))
            }
        }
    }

    /// A deterministic stream for one named part of a test, so adding a
    /// part does not shift the others' stimulus.
    pub fn rng(&self, stream: &str) -> ChaCha8Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in stream.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        ChaCha8Rng::seed_from_u64(self.0 ^ h)
    }

    pub fn replay_hint(&self) -> String {
        format!("{SEED_VAR}={}", self.0)
    }
}

impl std::fmt::Display for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Parse a decimal or `0x` hexadecimal integer.
pub fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}
