//! The stored item codec: `decode_item` on arbitrary bytes returns an error or an item, never
//! panics (nor allocates without bound); an item it returns holds only normalised numbers
//! (equal to their canonical text parsed back) and re-encodes and decodes to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use stratus_dynamodb::codec::{decode_item, encode_item};
use stratus_dynamodb::number::Number;
use stratus_dynamodb::value::AttributeValue;

fn check_numbers(value: &AttributeValue) {
    let canonical = |n: &Number| {
        assert_eq!(
            Number::parse(&n.to_string()).as_ref(),
            Ok(n),
            "decoded number is not normalised"
        );
    };
    match value {
        AttributeValue::N(n) => canonical(n),
        AttributeValue::Ns(set) => set.iter().for_each(canonical),
        AttributeValue::M(map) => map.values().for_each(check_numbers),
        AttributeValue::L(list) => list.iter().for_each(check_numbers),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(item) = decode_item(data) else { return };
    item.values().for_each(check_numbers);
    let encoded = encode_item(&item);
    let decoded = decode_item(&encoded).expect("an encoded item decodes");
    assert_eq!(decoded, item, "encode -> decode round trip");
    // The canonical encoding is a fixed point.
    assert_eq!(encode_item(&decoded), encoded);
});
