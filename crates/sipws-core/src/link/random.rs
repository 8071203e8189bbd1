//! Injected randomness for jitter.
//!
//! The core never asks the operating system for random numbers: the driver
//! hands the link a [`RandomSource`] (seeded from the OS natively, from
//! `crypto.getRandomValues` in the browser, from a constant in tests), so a
//! test with a fixed seed is fully deterministic. Jitter needs no
//! cryptographic strength.

/// A source of uniformly distributed `u64` values.
pub trait RandomSource {
    /// The next value.
    fn next_u64(&mut self) -> u64;
}

/// xorshift64* (Marsaglia / Vigna): tiny, fast, good enough for jitter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XorShift64 {
    state: u64,
}

impl XorShift64 {
    /// A generator from `seed`; seed `0` (a fixed point of xorshift) is
    /// replaced by a non-zero constant.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        let state = if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        };
        XorShift64 { state }
    }
}

impl RandomSource for XorShift64 {
    fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

impl<R: RandomSource + ?Sized> RandomSource for &mut R {
    fn next_u64(&mut self) -> u64 {
        (**self).next_u64()
    }
}

/// A source that repeats a fixed list of values (tests and examples that
/// want exact jitter). An empty list yields `0` forever.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequence {
    values: Vec<u64>,
    next: usize,
}

impl Sequence {
    /// Cycle through `values` in order.
    #[must_use]
    pub fn new(values: Vec<u64>) -> Self {
        Sequence { values, next: 0 }
    }
}

impl RandomSource for Sequence {
    fn next_u64(&mut self) -> u64 {
        let v = self.values.get(self.next).copied().unwrap_or(0);
        self.next = if self.next + 1 >= self.values.len() {
            0
        } else {
            self.next + 1
        };
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xorshift_is_deterministic_and_never_stuck() {
        let mut a = XorShift64::new(0);
        let mut b = XorShift64::new(0);
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert!(xs.windows(2).all(|w| w[0] != w[1]));
    }

    #[test]
    fn sequence_cycles() {
        let mut s = Sequence::new(vec![1, 2]);
        assert_eq!([s.next_u64(), s.next_u64(), s.next_u64()], [1, 2, 1]);
        assert_eq!(Sequence::new(vec![]).next_u64(), 0);
    }
}
