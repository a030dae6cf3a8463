//! DynamoDB Streams: the records a write leaves in its table's stream, their stored form, shard
//! iterators, and TTL's expiry index.
//!
//! A stream's records live in the space `stream/{id}`, keyed by their sequence number (8 bytes,
//! big-endian); sequence numbers grow across the whole engine, so a record's number orders it.
//! Each stream has one shard. Re-enabling a table's stream makes a new one; the table keeps the
//! previous ones readable (and listed) until 24 hours after they were disabled, and DeleteTable
//! drops them all with the table (AWS keeps them for 24 hours past that). An item's expiry
//! lives in `ttl/{table id}` under `expiry seconds (8 bytes) ‖ table key`, so the sweeper reads
//! only what is due.

use crate::codec::{CorruptRecord, Decoder, Encoder, decode_item, encode_item};
use crate::table::StreamViewType;
use crate::value::{AttributeValue, Item, item_size_bytes};

/// How long records are kept: 24 hours.
pub const RETENTION_MS: i64 = 24 * 60 * 60 * 1000;
/// How long a shard iterator stays valid: 15 minutes.
pub const ITERATOR_LIFETIME_MS: i64 = 15 * 60 * 1000;
/// Most records one GetRecords returns.
pub const RECORDS_MAX: usize = 1000;
/// AWS leaves items alone whose expiry is more than five years in the past.
pub const TTL_IGNORED_AGE_SECONDS: i64 = 5 * 365 * 24 * 60 * 60;

const RECORD_FORMAT_VERSION: u8 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventName {
    Insert,
    Modify,
    Remove,
}

impl EventName {
    pub fn name(self) -> &'static str {
        match self {
            EventName::Insert => "INSERT",
            EventName::Modify => "MODIFY",
            EventName::Remove => "REMOVE",
        }
    }
}

/// One stream record.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamRecord {
    pub sequence: u64,
    pub event_name: EventName,
    pub created_ms: i64,
    pub keys: Item,
    pub new_image: Option<Item>,
    pub old_image: Option<Item>,
    pub size_bytes: usize,
    pub view_type: StreamViewType,
    /// Deleted by TTL (`userIdentity` is DynamoDB itself).
    pub by_service: bool,
}

impl StreamRecord {
    /// The record a write leaves, or `None` when the write changed nothing.
    pub fn of_write(
        view_type: StreamViewType,
        keys: Item,
        old: Option<&Item>,
        new: Option<&Item>,
        created_ms: i64,
        by_service: bool,
    ) -> Option<StreamRecord> {
        let event_name = match (old, new) {
            (None, Some(_)) => EventName::Insert,
            (Some(old), Some(new)) if old == new => return None,
            (Some(_), Some(_)) => EventName::Modify,
            (Some(_), None) => EventName::Remove,
            (None, None) => return None,
        };
        let (new_image, old_image) = match view_type {
            StreamViewType::KeysOnly => (None, None),
            StreamViewType::NewImage => (new.cloned(), None),
            StreamViewType::OldImage => (None, old.cloned()),
            StreamViewType::NewAndOldImages => (new.cloned(), old.cloned()),
        };
        let size_bytes = item_size_bytes(&keys)
            + new_image.as_ref().map_or(0, item_size_bytes)
            + old_image.as_ref().map_or(0, item_size_bytes);
        Some(StreamRecord {
            sequence: 0,
            event_name,
            created_ms,
            keys,
            new_image,
            old_image,
            size_bytes,
            view_type,
            by_service,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u8(RECORD_FORMAT_VERSION);
        e.u8(match self.event_name {
            EventName::Insert => 0,
            EventName::Modify => 1,
            EventName::Remove => 2,
        });
        e.i64(self.created_ms);
        e.bytes(&encode_item(&self.keys));
        for image in [&self.new_image, &self.old_image] {
            match image {
                Some(item) => {
                    e.u8(1);
                    e.bytes(&encode_item(item));
                }
                None => e.u8(0),
            }
        }
        e.varint(self.size_bytes as u64);
        e.str(self.view_type.name());
        e.u8(u8::from(self.by_service));
        e.bytes
    }

    pub fn decode(sequence: u64, bytes: &[u8]) -> Result<StreamRecord, CorruptRecord> {
        let mut d = Decoder::new(bytes);
        if d.u8()? != RECORD_FORMAT_VERSION {
            return Err(CorruptRecord("unknown stream record version"));
        }
        let event_name = match d.u8()? {
            0 => EventName::Insert,
            1 => EventName::Modify,
            2 => EventName::Remove,
            _ => return Err(CorruptRecord("event name")),
        };
        let created_ms = d.i64()?;
        let keys = decode_item(d.bytes()?)?;
        let mut images = [None, None];
        for image in images.iter_mut() {
            if d.u8()? == 1 {
                *image = Some(decode_item(d.bytes()?)?);
            }
        }
        let [new_image, old_image] = images;
        let size_bytes = d.varint()? as usize;
        let view_type = StreamViewType::from_name(&d.string()?).ok_or(CorruptRecord("view type"))?;
        let by_service = d.u8()? == 1;
        Ok(StreamRecord {
            sequence,
            event_name,
            created_ms,
            keys,
            new_image,
            old_image,
            size_bytes,
            view_type,
            by_service,
        })
    }
}

/// A sequence number as AWS shows them: decimal, 21 digits.
pub fn sequence_text(sequence: u64) -> String {
    format!("{sequence:021}")
}

pub fn parse_sequence(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 40 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.trim_start_matches('0')
        .parse::<u64>()
        .ok()
        .or(Some(0).filter(|_| text.bytes().all(|b| b == b'0')))
}

/// The one shard of a stream, named after the stream's id.
pub fn shard_id(stream_id: u64) -> String {
    format!(
        "shardId-{:020}-{:08x}",
        stream_id,
        (stream_id as u32).wrapping_mul(0x9e37_79b9)
    )
}

/// What a shard iterator points at: the next record to read is the first with a sequence number
/// above `after`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iterator {
    pub table: String,
    pub stream_id: u64,
    pub after: u64,
    pub issued_ms: i64,
}

impl Iterator {
    /// An opaque text (what GetShardIterator returns).
    pub fn encode(&self) -> String {
        use base64::Engine as _;
        let text = format!("{}|{}|{}|{}", self.stream_id, self.after, self.issued_ms, self.table);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text.as_bytes())
    }

    pub fn decode(text: &str) -> Option<Iterator> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.splitn(4, '|');
        let stream_id = parts.next()?.parse().ok()?;
        let after = parts.next()?.parse().ok()?;
        let issued_ms = parts.next()?.parse().ok()?;
        let table = parts.next()?.to_string();
        Some(Iterator {
            table,
            stream_id,
            after,
            issued_ms,
        })
    }
}

/// An item's expiry in epoch seconds, when its TTL attribute is a number.
pub fn expiry_seconds(item: &Item, attribute: &str) -> Option<i64> {
    match item.get(attribute)? {
        AttributeValue::N(number) => number.to_string().split('.').next()?.parse::<i64>().ok(),
        _ => None,
    }
}

/// The TTL index key of an item: `expiry ‖ table key`, with expiries before 1970 left out.
pub fn ttl_key(expiry: i64, table_key: &[u8]) -> Option<Vec<u8>> {
    let expiry = u64::try_from(expiry).ok()?;
    let mut key = expiry.to_be_bytes().to_vec();
    key.extend_from_slice(table_key);
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, &str)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string())))
            .collect()
    }

    #[test]
    fn writes_become_records_by_their_effect() {
        let keys = item(&[("pk", "1")]);
        let old = item(&[("pk", "1"), ("a", "x")]);
        let new = item(&[("pk", "1"), ("a", "y")]);
        let view = StreamViewType::NewAndOldImages;
        let insert = StreamRecord::of_write(view, keys.clone(), None, Some(&new), 5, false);
        assert_eq!(insert.map(|r| r.event_name), Some(EventName::Insert));
        let modify = StreamRecord::of_write(view, keys.clone(), Some(&old), Some(&new), 5, false);
        assert_eq!(modify.as_ref().map(|r| r.event_name), Some(EventName::Modify));
        assert!(
            modify
                .as_ref()
                .is_some_and(|r| r.old_image.is_some() && r.new_image.is_some())
        );
        assert!(StreamRecord::of_write(view, keys.clone(), Some(&old), Some(&old), 5, false).is_none());
        let remove = StreamRecord::of_write(StreamViewType::KeysOnly, keys.clone(), Some(&old), None, 5, true);
        assert!(
            remove
                .as_ref()
                .is_some_and(|r| r.event_name == EventName::Remove && r.new_image.is_none() && r.by_service)
        );
        if let Some(record) = modify {
            let decoded = StreamRecord::decode(42, &record.encode());
            assert_eq!(decoded.map(|r| (r.sequence, r.new_image)), Ok((42, Some(new))));
        }
    }

    #[test]
    fn iterators_and_sequence_numbers_round_trip() {
        let iterator = Iterator {
            table: "books|odd".into(),
            stream_id: 3,
            after: 99,
            issued_ms: 1_700_000_000_000,
        };
        assert_eq!(Iterator::decode(&iterator.encode()), Some(iterator));
        assert_eq!(Iterator::decode("garbage!"), None);
        assert_eq!(sequence_text(42), "000000000000000000042");
        assert_eq!(parse_sequence("000000000000000000042"), Some(42));
        assert_eq!(parse_sequence("0"), Some(0));
        assert_eq!(parse_sequence("12a"), None);
    }
}
