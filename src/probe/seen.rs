//! What a rendering has written already: the names of a Prometheus page's families and
//! series, the keys of a JSON object.
//!
//! A table of the hashes of names, each with a number the caller gives (where the name is),
//! found again by open addressing: one slot looked at for most names, as a page's names are
//! new. The hash is keyed at random for each table, so that no `mntr` answer can be made
//! whose names all land on one slot: the renderings take time in proportion to the answer.

/// Names by their hash, each with the caller's number for it (a `u32`: an answer is at most
/// `fourlw::MAX_REPLY` bytes, far fewer lines than that).
pub struct Seen {
    /// `(hash, number)`; hash 0 is a free slot (a name's hash is never 0).
    slots: Vec<(u64, u32)>,
    /// The number of slots less 1 (a power of 2 less 1).
    mask: usize,
    /// How many more names the table takes before it grows: it stays at most half full.
    room: usize,
    key: [u64; 2],
}

/// What `Seen::entry` found.
pub enum Entry {
    /// A name the test said is the one: its number.
    Found(u32),
    /// None was: the number is in the table now.
    Added,
}

impl Seen {
    /// Room for `names` names before the table grows.
    pub fn with_capacity(names: usize) -> Seen {
        let slots = (names.max(4) * 2).next_power_of_two();
        Seen {
            slots: vec![(0, 0); slots],
            mask: slots - 1,
            room: slots / 2,
            key: random_key(),
        }
    }

    /// The hash of `name` in this table.
    #[inline(always)]
    pub fn hash(&self, name: &[u8]) -> u64 {
        hash(self.key, name) | 1
    }

    /// The number of the name whose hash is `hash` and for whose number `is` holds; else
    /// `number` is added under `hash`.
    #[inline(always)]
    pub fn entry(&mut self, hash: u64, number: u32, is: impl Fn(u32) -> bool) -> Entry {
        let slot = match self.search(hash, is) {
            Ok(found) => return Entry::Found(found),
            Err(free) => free,
        };
        self.slots[slot] = (hash, number);
        self.room -= 1;
        if self.room == 0 {
            self.grow();
        }
        Entry::Added
    }

    /// The number of the name whose hash is `hash` and for whose number `is` holds.
    pub fn find(&self, hash: u64, is: impl Fn(u32) -> bool) -> Option<u32> {
        self.search(hash, is).ok()
    }

    /// The number of the name whose hash is `hash` and for whose number `is` holds, else the
    /// free slot where the search ended.
    #[inline(always)]
    fn search(&self, hash: u64, is: impl Fn(u32) -> bool) -> Result<u32, usize> {
        // The high bits: the multiplication has mixed every byte into them.
        let mut slot = (hash >> 32) as usize & self.mask;
        loop {
            match self.slots[slot] {
                (0, _) => return Err(slot),
                (h, n) if h == hash && is(n) => return Ok(n),
                _ => slot = (slot + 1) & self.mask,
            }
        }
    }

    /// The longest run of taken slots: the furthest a search can go.
    #[cfg(test)]
    pub fn longest_run(&self) -> usize {
        let runs = self.slots.split(|&(hash, _)| hash == 0);
        runs.map(<[_]>::len).max().unwrap_or(0)
    }

    /// Twice the slots, each hash placed anew (the hashes are kept: no name is read again).
    #[cold]
    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        self.slots = vec![(0, 0); old.len() * 2];
        self.mask = self.slots.len() - 1;
        self.room = old.len() / 2;
        for (hash, number) in old.into_iter().filter(|&(hash, _)| hash != 0) {
            // No name is there twice: the search ends at a free slot.
            if let Err(free) = self.search(hash, |_| false) {
                self.slots[free] = (hash, number);
            }
        }
    }
}

/// Two random words from the standard library's source of hash keys (the system's random
/// numbers, asked once per thread).
fn random_key() -> [u64; 2] {
    use std::hash::{BuildHasher as _, RandomState};
    let state = RandomState::new();
    [state.hash_one(1u64), state.hash_one(2u64)]
}

/// The 128-bit product of `a` and `b`, its halves folded into one word.
#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// The word of 8 bytes at `at`.
#[inline(always)]
fn word(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// A keyed hash of `bytes`: the length in the starting state, then every 16 bytes folded
/// into it with the key. Names of 16 bytes or more are read 16 at a time with the last 16
/// read whole, shorter ones as one or two words that may overlap, and the shortest byte by
/// byte.
#[inline(always)]
fn hash(key: [u64; 2], bytes: &[u8]) -> u64 {
    const ODD: u64 = 0x9e37_79b9_7f4a_7c15;
    let n = bytes.len();
    let mut state = key[0] ^ (n as u64).wrapping_mul(ODD);
    if n > 64 {
        let mut at = 0;
        while at + 16 < n {
            state = fold(state ^ word(bytes, at), key[1] ^ word(bytes, at + 8));
            at += 16;
        }
        state = fold(state ^ word(bytes, n - 16), key[1] ^ word(bytes, n - 8));
    } else if n >= 16 {
        // As above, written out for the one to four turns most names take.
        if n > 16 {
            state = fold(state ^ word(bytes, 0), key[1] ^ word(bytes, 8));
            if n > 32 {
                state = fold(state ^ word(bytes, 16), key[1] ^ word(bytes, 24));
                if n > 48 {
                    state = fold(state ^ word(bytes, 32), key[1] ^ word(bytes, 40));
                }
            }
        }
        state = fold(state ^ word(bytes, n - 16), key[1] ^ word(bytes, n - 8));
    } else if n >= 8 {
        state = fold(state ^ word(bytes, 0), key[1] ^ word(bytes, n - 8));
    } else {
        let mut small = 0;
        for (i, &b) in bytes.iter().enumerate() {
            small |= u64::from(b) << (8 * i);
        }
        state = fold(state ^ small, key[1]);
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_added_and_nothing_else() {
        let names: Vec<String> = (0..5000)
            .map(|i| format!("zk_{}_{i}", "x".repeat(i % 70)))
            .collect();
        let mut seen = Seen::with_capacity(4);
        for (i, name) in names.iter().enumerate() {
            let hash = seen.hash(name.as_bytes());
            let entry = seen.entry(hash, i as u32, |n| names[n as usize] == *name);
            assert!(matches!(entry, Entry::Added), "{name}");
        }
        for (i, name) in names.iter().enumerate() {
            let hash = seen.hash(name.as_bytes());
            let entry = seen.entry(hash, u32::MAX, |n| names[n as usize] == *name);
            assert!(matches!(entry, Entry::Found(n) if n == i as u32), "{name}");
            assert_eq!(
                seen.find(hash, |n| names[n as usize] == *name),
                Some(i as u32)
            );
        }
        let hash = seen.hash(b"zk_absent");
        assert_eq!(seen.find(hash, |n| names[n as usize] == "zk_absent"), None);
    }

    #[test]
    fn every_byte_counts() {
        // Names that differ in one byte, anywhere, or only in length, hash apart.
        let seen = Seen::with_capacity(4);
        for len in 0..80 {
            let base = vec![b'a'; len];
            let mut hashes = vec![seen.hash(&base)];
            for at in 0..len {
                let mut other = base.clone();
                other[at] = b'b';
                hashes.push(seen.hash(&other));
            }
            hashes.push(seen.hash(&vec![b'a'; len + 1]));
            if len > 0 {
                hashes.push(seen.hash(&vec![0; len]));
            }
            let count = hashes.len();
            hashes.sort_unstable();
            hashes.dedup();
            assert_eq!(hashes.len(), count, "length {len}");
        }
    }

    #[test]
    fn names_that_hash_alike_are_told_apart_by_the_test() {
        // The caller's test decides: two numbers under one hash are both found.
        let mut seen = Seen::with_capacity(4);
        assert!(matches!(seen.entry(7, 1, |_| false), Entry::Added));
        assert!(matches!(seen.entry(7, 2, |n| n == 9), Entry::Added));
        assert_eq!(seen.find(7, |n| n == 2), Some(2));
        assert_eq!(seen.find(7, |n| n == 1), Some(1));
        assert_eq!(seen.find(7, |n| n == 3), None);
    }
}
