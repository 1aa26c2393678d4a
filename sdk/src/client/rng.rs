//! The client core's only source of randomness: a splitmix64 generator seeded by the caller.
//!
//! The core never asks the platform for randomness, so the same seed and the same inputs always
//! give the same outputs (which is what makes the core testable and replayable). Callers seed it
//! from a real source (`crypto.getRandomValues` in the browser, the OS elsewhere).

use alloc::string::String;

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast and good enough for jitter and identifiers.
/// It is not a cryptographic generator; nothing secret is derived from it.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose whole future output is determined by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number uniformly drawn from `0..=max`.
    pub(crate) fn up_to(&mut self, max: u64) -> u64 {
        match max.checked_add(1) {
            // Multiply-shift maps 64 random bits onto the range; the bias is below 2^-40 for the
            // ranges used here (milliseconds up to minutes).
            Some(span) => ((u128::from(self.next_u64()) * u128::from(span)) >> 64) as u64,
            None => self.next_u64(),
        }
    }

    /// A random UUID (version 4 layout, lowercase hex with dashes), for `client_id`s.
    ///
    /// Built by hand rather than with `format!` to keep formatting machinery out of the wasm build.
    pub(crate) fn uuid_v4(&mut self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut bits = (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64());
        // Version 4 in the high nibble of byte 6, RFC 4122 variant in the top bits of byte 8.
        bits = (bits & !(0xF_u128 << 76)) | (0x4_u128 << 76);
        bits = (bits & !(0x3_u128 << 62)) | (0x2_u128 << 62);
        let mut out = String::with_capacity(36);
        for nibble_index in 0..32 {
            if matches!(nibble_index, 8 | 12 | 16 | 20) {
                out.push('-');
            }
            let nibble = (bits >> (124 - 4 * nibble_index)) & 0xF;
            out.push(char::from(HEX[nibble as usize]));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        for _ in 0..10 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn up_to_stays_within_its_inclusive_bound_and_reaches_both_ends() {
        let mut rng = SplitMix64::new(7);
        let draws: Vec<u64> = (0..2000).map(|_| rng.up_to(3)).collect();
        assert!(draws.iter().all(|&d| d <= 3));
        assert!(draws.contains(&0) && draws.contains(&3));
        assert_eq!(rng.up_to(0), 0);
        let _ = rng.up_to(u64::MAX);
    }

    #[test]
    fn a_generated_uuid_has_the_version_4_layout() {
        let mut rng = SplitMix64::new(1);
        let id = rng.uuid_v4();
        assert_eq!(id.len(), 36);
        let bytes = id.as_bytes();
        assert_eq!(
            [bytes[8], bytes[13], bytes[18], bytes[23]],
            [b'-', b'-', b'-', b'-']
        );
        assert_eq!(bytes[14], b'4');
        assert!(matches!(bytes[19], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(id, rng.uuid_v4());
    }
}
