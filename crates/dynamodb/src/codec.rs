//! The stored encoding of items and table definitions: compact binary with a version marker,
//! decoded defensively (a corrupt record is an error, never a panic).

use crate::number::Number;
use crate::value::{AttributeValue, Item};

/// First byte of every stored item; bump it when the layout changes.
pub const ITEM_FORMAT_VERSION: u8 = 1;

const TAG_S: u8 = 1;
const TAG_N: u8 = 2;
const TAG_B: u8 = 3;
const TAG_TRUE: u8 = 4;
const TAG_FALSE: u8 = 5;
const TAG_NULL: u8 = 6;
const TAG_M: u8 = 7;
const TAG_L: u8 = 8;
const TAG_SS: u8 = 9;
const TAG_NS: u8 = 10;
const TAG_BS: u8 = 11;

/// Deepest nesting accepted when decoding (DynamoDB allows 32 levels).
const DEPTH_MAX: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptRecord(pub &'static str);

impl std::fmt::Display for CorruptRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt stored record: {}", self.0)
    }
}

/// Appends little pieces to a byte buffer.
#[derive(Default)]
pub struct Encoder {
    pub bytes: Vec<u8>,
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder::default()
    }

    pub fn u8(&mut self, value: u8) {
        self.bytes.push(value);
    }

    pub fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.bytes.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.bytes.push(value as u8);
    }

    pub fn bytes(&mut self, value: &[u8]) {
        self.varint(value.len() as u64);
        self.bytes.extend_from_slice(value);
    }

    pub fn str(&mut self, value: &str) {
        self.bytes(value.as_bytes());
    }

    pub fn i64(&mut self, value: i64) {
        self.bytes.extend_from_slice(&value.to_be_bytes());
    }
}

/// Reads pieces back, failing on truncation.
pub struct Decoder<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(bytes: &'a [u8]) -> Decoder<'a> {
        Decoder { bytes, position: 0 }
    }

    pub fn is_done(&self) -> bool {
        self.position >= self.bytes.len()
    }

    pub fn u8(&mut self) -> Result<u8, CorruptRecord> {
        let value = *self.bytes.get(self.position).ok_or(CorruptRecord("truncated"))?;
        self.position += 1;
        Ok(value)
    }

    pub fn varint(&mut self) -> Result<u64, CorruptRecord> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(CorruptRecord("varint too long"))
    }

    pub fn bytes(&mut self) -> Result<&'a [u8], CorruptRecord> {
        let length = usize::try_from(self.varint()?).map_err(|_| CorruptRecord("length"))?;
        let end = self.position.checked_add(length).ok_or(CorruptRecord("length"))?;
        let slice = self.bytes.get(self.position..end).ok_or(CorruptRecord("truncated"))?;
        self.position = end;
        Ok(slice)
    }

    pub fn string(&mut self) -> Result<String, CorruptRecord> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| CorruptRecord("invalid UTF-8"))
    }

    pub fn i64(&mut self) -> Result<i64, CorruptRecord> {
        let end = self.position + 8;
        let slice = self.bytes.get(self.position..end).ok_or(CorruptRecord("truncated"))?;
        self.position = end;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(slice);
        Ok(i64::from_be_bytes(raw))
    }

    /// A count of elements that each take at least one byte: bounded by what is left.
    fn count(&mut self) -> Result<usize, CorruptRecord> {
        let count = usize::try_from(self.varint()?).map_err(|_| CorruptRecord("count"))?;
        if count > self.bytes.len().saturating_sub(self.position) {
            return Err(CorruptRecord("count larger than record"));
        }
        Ok(count)
    }
}

pub fn encode_item(item: &Item) -> Vec<u8> {
    let mut encoder = Encoder {
        bytes: Vec::with_capacity(64),
    };
    encoder.u8(ITEM_FORMAT_VERSION);
    encode_map(&mut encoder, item);
    encoder.bytes
}

fn encode_map(encoder: &mut Encoder, map: &Item) {
    encoder.varint(map.len() as u64);
    for (name, value) in map {
        encoder.str(name);
        encode_value(encoder, value);
    }
}

fn encode_number(encoder: &mut Encoder, number: &Number) {
    let mut ordered = Vec::with_capacity(24);
    number.encode_ordered(&mut ordered);
    encoder.bytes(&ordered);
}

fn encode_value(encoder: &mut Encoder, value: &AttributeValue) {
    match value {
        AttributeValue::S(s) => {
            encoder.u8(TAG_S);
            encoder.str(s);
        }
        AttributeValue::N(n) => {
            encoder.u8(TAG_N);
            encode_number(encoder, n);
        }
        AttributeValue::B(b) => {
            encoder.u8(TAG_B);
            encoder.bytes(b);
        }
        AttributeValue::Bool(true) => encoder.u8(TAG_TRUE),
        AttributeValue::Bool(false) => encoder.u8(TAG_FALSE),
        AttributeValue::Null => encoder.u8(TAG_NULL),
        AttributeValue::M(map) => {
            encoder.u8(TAG_M);
            encode_map(encoder, map);
        }
        AttributeValue::L(list) => {
            encoder.u8(TAG_L);
            encoder.varint(list.len() as u64);
            for element in list {
                encode_value(encoder, element);
            }
        }
        AttributeValue::Ss(set) => {
            encoder.u8(TAG_SS);
            encoder.varint(set.len() as u64);
            for element in set {
                encoder.str(element);
            }
        }
        AttributeValue::Ns(set) => {
            encoder.u8(TAG_NS);
            encoder.varint(set.len() as u64);
            for element in set {
                encode_number(encoder, element);
            }
        }
        AttributeValue::Bs(set) => {
            encoder.u8(TAG_BS);
            encoder.varint(set.len() as u64);
            for element in set {
                encoder.bytes(element);
            }
        }
    }
}

pub fn decode_item(bytes: &[u8]) -> Result<Item, CorruptRecord> {
    let mut decoder = Decoder::new(bytes);
    if decoder.u8()? != ITEM_FORMAT_VERSION {
        return Err(CorruptRecord("unknown item format version"));
    }
    let item = decode_map(&mut decoder, 0)?;
    if !decoder.is_done() {
        return Err(CorruptRecord("trailing bytes"));
    }
    Ok(item)
}

fn decode_map(decoder: &mut Decoder<'_>, depth: usize) -> Result<Item, CorruptRecord> {
    let count = decoder.count()?;
    let mut map = Item::new();
    for _ in 0..count {
        let name = decoder.string()?;
        let value = decode_value(decoder, depth + 1)?;
        map.insert(name, value);
    }
    Ok(map)
}

fn decode_number(decoder: &mut Decoder<'_>) -> Result<Number, CorruptRecord> {
    let bytes = decoder.bytes()?;
    match Number::decode_ordered(bytes) {
        Some((number, used)) if used == bytes.len() => Ok(number),
        _ => Err(CorruptRecord("invalid number")),
    }
}

fn decode_value(decoder: &mut Decoder<'_>, depth: usize) -> Result<AttributeValue, CorruptRecord> {
    if depth > DEPTH_MAX {
        return Err(CorruptRecord("nesting too deep"));
    }
    Ok(match decoder.u8()? {
        TAG_S => AttributeValue::S(decoder.string()?),
        TAG_N => AttributeValue::N(decode_number(decoder)?),
        TAG_B => AttributeValue::B(decoder.bytes()?.to_vec()),
        TAG_TRUE => AttributeValue::Bool(true),
        TAG_FALSE => AttributeValue::Bool(false),
        TAG_NULL => AttributeValue::Null,
        TAG_M => AttributeValue::M(decode_map(decoder, depth)?),
        TAG_L => {
            let count = decoder.count()?;
            let mut list = Vec::with_capacity(count);
            for _ in 0..count {
                list.push(decode_value(decoder, depth + 1)?);
            }
            AttributeValue::L(list)
        }
        TAG_SS => {
            let count = decoder.count()?;
            let mut set = Vec::with_capacity(count);
            for _ in 0..count {
                set.push(decoder.string()?);
            }
            AttributeValue::Ss(set)
        }
        TAG_NS => {
            let count = decoder.count()?;
            let mut set = Vec::with_capacity(count);
            for _ in 0..count {
                set.push(decode_number(decoder)?);
            }
            AttributeValue::Ns(set)
        }
        TAG_BS => {
            let count = decoder.count()?;
            let mut set = Vec::with_capacity(count);
            for _ in 0..count {
                set.push(decoder.bytes()?.to_vec());
            }
            AttributeValue::Bs(set)
        }
        _ => return Err(CorruptRecord("unknown value tag")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Item {
        let number = |t: &str| Number::parse(t).expect("number");
        let mut inner = Item::new();
        inner.insert(
            "deep".into(),
            AttributeValue::L(vec![AttributeValue::Null, AttributeValue::Bool(false)]),
        );
        let mut item = Item::new();
        item.insert("s".into(), AttributeValue::S("héllo".into()));
        item.insert("n".into(), AttributeValue::N(number("-12.5")));
        item.insert("b".into(), AttributeValue::B(vec![0, 255]));
        item.insert("t".into(), AttributeValue::Bool(true));
        item.insert("m".into(), AttributeValue::M(inner));
        item.insert("ss".into(), AttributeValue::Ss(vec!["a".into(), "b".into()]));
        item.insert("ns".into(), AttributeValue::Ns(vec![number("1"), number("1e100")]));
        item.insert("bs".into(), AttributeValue::Bs(vec![vec![1], vec![2, 3]]));
        item
    }

    #[test]
    fn items_round_trip() {
        let item = sample();
        assert_eq!(decode_item(&encode_item(&item)), Ok(item));
    }

    /// Found by fuzzing (fuzz/ item_codec): a number stored as the non-canonical digits
    /// [0, 0] decoded to a zero with exponent -1, which re-encoded as 0x80 and so did not
    /// round-trip. It is now a corrupt record.
    #[test]
    fn non_canonical_number_is_corrupt_not_decoded() {
        // version 1, one attribute "a" = N(0xc0 0x00 0xc8 0x01 0x01)
        let bytes = [1, 1, 1, b'a', 2, 5, 0xc0, 0x00, 0xc8, 0x01, 0x01];
        assert_eq!(decode_item(&bytes), Err(CorruptRecord("invalid number")));
    }

    #[test]
    fn every_truncation_and_garbage_is_an_error_not_a_panic() {
        let encoded = encode_item(&sample());
        for length in 0..encoded.len() {
            assert!(decode_item(&encoded[..length]).is_err(), "prefix {length}");
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut garbage = encoded.clone();
            for _ in 0..3 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let index = (state as usize) % garbage.len();
                garbage[index] = (state >> 32) as u8;
            }
            let _ = decode_item(&garbage);
        }
    }
}
