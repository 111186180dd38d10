//! `--visitor-id hashed`: visitors counted without any stored address, as Plausible counts.
//!
//! The client address of each row is replaced, before anything is stored, by a keyed hash
//! of it under a salt drawn at random for the row's day (`h:` and 16 hex digits, BLAKE3 in
//! keyed mode). Within a day the same address always gives the same key, so every distinct
//! count of a day — addresses, visitors (address and agent), visits — is what the full
//! addresses give (up to a 64-bit collision among one day's addresses). Across days the
//! keys differ, and once a day's salt is deleted (when the warehouse holds rows two days
//! later, see `Warehouse::forget_old_salts`) nothing links a key to an address: the salt
//! is 256 random bits, so guessing addresses and hashing them is hopeless.
//!
//! Only the address is hashed, not (address, agent) as Plausible does: the agent is stored
//! anyway, and a key per address keeps the address-based counts (`visitors` of
//! `daily_visitors`, …) exact too.

use std::collections::HashMap;

/// How a visitor is known in the stored rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum VisitorId {
    /// By its client address (masked if --anonymize-ip says so).
    #[default]
    Address,
    /// By a keyed hash of its address under a salt that changes every day.
    Hashed,
}

impl VisitorId {
    /// The flag's spelling (recorded in the warehouse).
    pub fn name(self) -> &'static str {
        match self {
            VisitorId::Address => "address",
            VisitorId::Hashed => "hashed",
        }
    }
}

/// A day's salt (days since 1970-01-01, as the `day` column).
pub type Salt = [u8; 32];

/// The salts of the days being read: those the warehouse kept, and those drawn meanwhile
/// (stored with the batch whose rows they keyed, in its transaction).
#[derive(Default)]
pub struct DailySalts {
    salts: HashMap<i32, Salt>,
    drawn: Vec<(i32, Salt)>,
}

impl DailySalts {
    pub fn new(stored: HashMap<i32, Salt>) -> Self {
        DailySalts {
            salts: stored,
            drawn: Vec::new(),
        }
    }

    /// The key of `addr` on `day`.
    pub fn key(&mut self, day: i32, addr: &str) -> String {
        let salt = match self.salts.get(&day) {
            Some(salt) => *salt,
            None => {
                let salt = random_salt();
                self.salts.insert(day, salt);
                self.drawn.push((day, salt));
                salt
            }
        };
        let hash = blake3::keyed_hash(&salt, addr.as_bytes());
        let mut key = String::with_capacity(18);
        key.push_str("h:");
        for b in &hash.as_bytes()[..8] {
            key.push_str(&format!("{b:02x}"));
        }
        key
    }

    /// The salts drawn since the last call: the next sealed batch stores them.
    pub fn take_drawn(&mut self) -> Vec<(i32, Salt)> {
        std::mem::take(&mut self.drawn)
    }
}

fn random_salt() -> Salt {
    let mut salt = [0u8; 32];
    // No salt, no run: a predictable one would make the keys reversible.
    getrandom::fill(&mut salt).expect("the operating system's random source");
    salt
}

/// A salt as stored (hex).
pub fn salt_hex(salt: &Salt) -> String {
    salt.iter().map(|b| format!("{b:02x}")).collect()
}

/// A stored salt read back; None if it is not 64 hex digits.
pub fn salt_from_hex(text: &str) -> Option<Salt> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut salt = [0u8; 32];
    for (i, b) in salt.iter_mut().enumerate() {
        *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(salt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_per_address_and_day_and_salts_drawn_once_per_day() {
        let mut s = DailySalts::default();
        let a = s.key(100, "192.0.2.1");
        assert_eq!(a, s.key(100, "192.0.2.1"));
        assert_ne!(a, s.key(100, "192.0.2.2"));
        assert_ne!(a, s.key(101, "192.0.2.1"));
        assert!(a.starts_with("h:") && a.len() == 18, "{a}");
        let drawn = s.take_drawn();
        assert_eq!(drawn.iter().map(|d| d.0).collect::<Vec<_>>(), [100, 101]);
        assert!(s.take_drawn().is_empty());
        // A stored salt gives the same keys in a later run.
        let day100: HashMap<i32, Salt> = [(100, drawn[0].1)].into();
        let text = salt_hex(&drawn[0].1);
        assert_eq!(salt_from_hex(&text), Some(drawn[0].1));
        assert_eq!(DailySalts::new(day100).key(100, "192.0.2.1"), a);
        // Keyed: not the plain hash of the address.
        let plain = blake3::hash(b"192.0.2.1");
        assert!(!a.ends_with(&salt_hex(plain.as_bytes())[..16]));
    }
}
