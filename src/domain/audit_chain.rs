//! The audit log's hash chain: `hash = SHA-256(prev_hash ‖ canonical JSON of the entry)`.
//! Canonical JSON has object keys sorted at every level and no insignificant whitespace.

use chrono::NaiveDateTime;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an entry says; its hash covers all of it.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryContent<'a> {
    pub seq: i64,
    pub occurred_at: NaiveDateTime,
    pub actor: &'a str,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub details: &'a Value,
}

impl EntryContent<'_> {
    fn to_json(&self) -> Value {
        serde_json::json!({
            "seq": self.seq,
            "occurred_at": self.occurred_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            "actor": self.actor,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "details": self.details,
        })
    }
}

pub fn entry_hash(prev_hash: &str, entry: &EntryContent<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(canonical_json(&entry.to_json()).as_bytes());
    hex::encode(hasher.finalize())
}

/// Serialises with keys sorted at every level, whatever map order serde_json was built with.
pub fn canonical_json(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&map[k]));
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    // With serde_json's default (sorted) map the insert order is irrelevant; with
    // `preserve_order` enabled by some dependency, inserting in sorted order keeps it canonical.
    serde_json::to_string(&sorted(value)).expect("JSON values always serialise")
}

/// Why a stored chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The entry's stored hash is not the hash of its content.
    HashMismatch,
    /// The entry does not point at the hash of the entry before it.
    PrevHashMismatch,
    /// Sequence numbers skip or repeat: an entry was removed or inserted.
    SequenceGap { expected: i64 },
}

impl ChainBreak {
    pub fn describe(&self) -> String {
        match self {
            ChainBreak::HashMismatch => "stored hash does not match the entry's content".into(),
            ChainBreak::PrevHashMismatch => "prev_hash does not match the previous entry".into(),
            ChainBreak::SequenceGap { expected } => {
                format!("expected sequence number {expected}: an entry is missing or was inserted")
            }
        }
    }
}

/// Checks one stored entry against the entry before it (`prev_seq`, `prev_hash`).
pub fn check_link(
    prev_seq: i64,
    prev_hash: &str,
    entry: &EntryContent<'_>,
    stored_prev_hash: &str,
    stored_hash: &str,
) -> Result<(), ChainBreak> {
    if entry.seq != prev_seq + 1 {
        return Err(ChainBreak::SequenceGap {
            expected: prev_seq + 1,
        });
    }
    if stored_prev_hash != prev_hash {
        return Err(ChainBreak::PrevHashMismatch);
    }
    if entry_hash(stored_prev_hash, entry) != stored_hash {
        return Err(ChainBreak::HashMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at() -> NaiveDateTime {
        chrono::DateTime::parse_from_rfc3339("2026-11-29T10:00:00.123456Z")
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v = json!({"b": 1, "a": {"d": [ {"z": 1, "y": 2} ], "c": null}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}"#
        );
    }

    #[test]
    fn a_chain_links_and_any_edit_breaks_it() {
        let details = json!({"roles": ["admin"]});
        let first = EntryContent {
            seq: 1,
            occurred_at: at(),
            actor: "cli",
            action: "user.created",
            entity_type: "user",
            entity_id: "u1",
            details: &details,
        };
        let h1 = entry_hash(GENESIS_HASH, &first);
        assert_eq!(h1.len(), 64);
        assert_eq!(
            check_link(0, GENESIS_HASH, &first, GENESIS_HASH, &h1),
            Ok(())
        );

        let edited = EntryContent {
            actor: "someone",
            ..first.clone()
        };
        assert_eq!(
            check_link(0, GENESIS_HASH, &edited, GENESIS_HASH, &h1),
            Err(ChainBreak::HashMismatch)
        );
        assert_eq!(
            check_link(0, &h1, &first, GENESIS_HASH, &h1),
            Err(ChainBreak::PrevHashMismatch)
        );
        let later = EntryContent {
            seq: 3,
            ..first.clone()
        };
        assert_eq!(
            check_link(1, &h1, &later, &h1, "x"),
            Err(ChainBreak::SequenceGap { expected: 2 })
        );
    }

    #[test]
    fn the_hash_does_not_depend_on_key_order_in_details() {
        let a = json!({"x": 1, "y": 2});
        let b: Value = serde_json::from_str(r#"{"y":2,"x":1}"#).unwrap();
        let entry = |d| EntryContent {
            seq: 1,
            occurred_at: at(),
            actor: "cli",
            action: "a",
            entity_type: "t",
            entity_id: "i",
            details: d,
        };
        assert_eq!(
            entry_hash(GENESIS_HASH, &entry(&a)),
            entry_hash(GENESIS_HASH, &entry(&b))
        );
    }
}
