//! Numbers: `Number::parse` on arbitrary text never panics, and whatever parses keeps the
//! invariants the engine relies on — canonical text round-trips, the ordered (sort key)
//! encoding round-trips and sorts as `Ord` does, arithmetic is exact and does not panic.
//!
//! Input: lossy UTF-8, split at the first ',' into two numbers (the second defaults to "1").

#![no_main]

use std::cmp::Ordering;

use libfuzzer_sys::fuzz_target;
use stratus_dynamodb::number::Number;

fn encoded(number: &Number) -> Vec<u8> {
    let mut out = Vec::new();
    number.encode_ordered(&mut out);
    out
}

fn check_one(number: &Number) {
    let text = number.to_string();
    assert_eq!(
        Number::parse(&text).as_ref(),
        Ok(number),
        "canonical text {text:?} round trip"
    );
    let bytes = encoded(number);
    assert_eq!(
        Number::decode_ordered(&bytes),
        Some((number.clone(), bytes.len())),
        "ordered encoding round trip"
    );
    // Followed by other key bytes (a composite key), it still decodes to itself.
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0x00, 0xff, 0x05]);
    let (decoded, used) = Number::decode_ordered(&longer).expect("decodes with a suffix");
    assert_eq!(
        (&decoded, used),
        (number, bytes.len()),
        "ordered encoding with a suffix"
    );
    assert_eq!(number.negated().negated(), *number);
    assert_eq!(number.cmp(number), Ordering::Equal);
    if let Some(i) = number.to_i64() {
        assert_eq!(Number::from_i64(i), *number, "i64 round trip");
    }
    let _ = number.size_bytes();
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (first, second) = text.split_once(',').unwrap_or((&text, "1"));
    let Ok(a) = Number::parse(first) else { return };
    check_one(&a);
    let Ok(b) = Number::parse(second) else { return };
    check_one(&b);

    let order = a.cmp(&b);
    assert_eq!(
        order,
        encoded(&a).cmp(&encoded(&b)),
        "ordered encoding disagrees with Ord for {a} and {b}"
    );
    assert_eq!(order == Ordering::Equal, a == b, "Ord and Eq disagree for {a} and {b}");
    assert_eq!(b.cmp(&a), order.reverse());

    let sum = a.add(&b);
    assert_eq!(sum, b.add(&a), "addition commutes");
    let difference = a.sub(&b);
    assert_eq!(difference, a.add(&b.negated()), "a - b == a + -b");
    if let Ok(sum) = &sum {
        // Exact arithmetic: whenever the way back is representable, it lands on a.
        if let Ok(back) = sum.sub(&b) {
            assert_eq!(back, a, "({a} + {b}) - {b}");
        }
        match b.cmp(&Number::ZERO) {
            Ordering::Greater => assert!(*sum > a, "{a} + {b} > {a}"),
            Ordering::Less => assert!(*sum < a, "{a} + {b} < {a}"),
            Ordering::Equal => assert_eq!(*sum, a),
        }
        check_one(sum);
    }
    if let Ok(difference) = &difference {
        check_one(difference);
    }
});
