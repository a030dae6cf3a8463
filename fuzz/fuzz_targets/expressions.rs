//! The expression language: parse arbitrary text as every kind of expression, and whatever
//! parses is evaluated / applied / projected against a few fixed items. Nothing may panic,
//! hang or overflow the stack; updates must leave sets sorted, de-duplicated and non-empty,
//! and the results must survive the stored item codec.
//!
//! Input: first byte selects the expression kind (and whether the placeholders are defined),
//! the rest is the expression text (lossy UTF-8).

#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stratus_dynamodb::codec::{decode_item, encode_item};
use stratus_dynamodb::expr::{
    ConditionKind, ExpressionContext, parse_condition, parse_key_condition, parse_projection, parse_update, project,
};
use stratus_dynamodb::number::Number;
use stratus_dynamodb::value::{AttributeValue, Item};

struct Fixture {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    items: Vec<Item>,
}

fn n(text: &str) -> AttributeValue {
    AttributeValue::N(Number::parse(text).expect("fixture number"))
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_string())
}

fn map(entries: Vec<(&str, AttributeValue)>) -> Item {
    entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn ss(values: &[&str]) -> AttributeValue {
    AttributeValue::string_set(values.iter().map(|v| v.to_string()).collect()).expect("fixture set")
}

fn ns(values: &[&str]) -> AttributeValue {
    AttributeValue::number_set(
        values
            .iter()
            .map(|v| Number::parse(v).expect("fixture number"))
            .collect(),
    )
    .expect("fixture set")
}

fn bs(values: &[&[u8]]) -> AttributeValue {
    AttributeValue::binary_set(values.iter().map(|v| v.to_vec()).collect()).expect("fixture set")
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let names = [
            ("#a", "a"),
            ("#b", "b"),
            ("#n", "nested"),
            ("#l", "list"),
            ("#k", "pk"),
            ("#s", "sk"),
            ("#d", "a.b"),
            ("#e", ""),
            ("#x", "missing"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let values: HashMap<String, AttributeValue> = [
            (":s", s("abc")),
            (":e", s("")),
            (":n", n("42")),
            (":z", n("0")),
            (":f", n("-0.5")),
            (":big", n("9.9999999999999999999999999999999999999E+125")),
            (":tiny", n("1E-130")),
            (":b", AttributeValue::B(vec![0, 1, 2])),
            (":t", AttributeValue::Bool(true)),
            (":null", AttributeValue::Null),
            (
                ":l",
                AttributeValue::L(vec![n("1"), s("two"), AttributeValue::L(vec![])]),
            ),
            (":el", AttributeValue::L(vec![])),
            (
                ":m",
                AttributeValue::M(map(vec![("x", n("1")), ("y", AttributeValue::M(Item::new()))])),
            ),
            (":ss", ss(&["a", "b", "zz"])),
            (":ns", ns(&["1", "-2", "3.5"])),
            (":bs", bs(&[b"a", b"\x00"])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();

        let deep = (0..10).fold(n("7"), |inner, _| {
            AttributeValue::M(map(vec![("d", inner.clone()), ("l", AttributeValue::L(vec![inner]))]))
        });
        let full = map(vec![
            ("pk", s("abc")),
            ("sk", n("42")),
            ("a", s("abcdef")),
            ("b", n("-3.25")),
            ("a.b", s("dotted")),
            (
                "nested",
                AttributeValue::M(map(vec![
                    (
                        "x",
                        AttributeValue::L(vec![n("1"), n("2"), AttributeValue::M(map(vec![("y", s("z"))]))]),
                    ),
                    (
                        "m",
                        AttributeValue::M(map(vec![("a", ss(&["a", "q"])), ("b", AttributeValue::Null)])),
                    ),
                    ("deep", deep),
                ])),
            ),
            (
                "list",
                AttributeValue::L(vec![
                    n("1"),
                    s("two"),
                    AttributeValue::L(vec![n("3"), AttributeValue::L(vec![n("4")])]),
                    AttributeValue::M(map(vec![("k", AttributeValue::Bool(false))])),
                ]),
            ),
            ("ss", ss(&["a", "b", "c"])),
            ("ns", ns(&["1", "2", "99999999999999999999999999999999999999"])),
            ("bs", bs(&[b"a", b"bb"])),
            ("flag", AttributeValue::Bool(true)),
            ("nul", AttributeValue::Null),
            ("bin", AttributeValue::B(b"abc".to_vec())),
        ]);
        let other = map(vec![
            ("pk", n("1")),
            ("a", AttributeValue::L(vec![])),
            ("b", AttributeValue::M(Item::new())),
            ("nested", s("not a map")),
            ("list", AttributeValue::M(map(vec![("0", n("0"))]))),
            ("ss", ns(&["5"])),
        ]);
        Fixture {
            names,
            values,
            items: vec![full, other, Item::new()],
        }
    })
}

/// The invariants every stored item keeps: sets sorted, free of duplicates, not empty; and it
/// survives the item codec.
fn check_item(item: &Item) {
    fn check_value(value: &AttributeValue) {
        match value {
            AttributeValue::Ss(set) => {
                assert!(!set.is_empty(), "empty string set");
                assert!(
                    set.windows(2).all(|w| w[0] < w[1]),
                    "string set not sorted/unique: {set:?}"
                );
            }
            AttributeValue::Ns(set) => {
                assert!(!set.is_empty(), "empty number set");
                assert!(
                    set.windows(2).all(|w| w[0] < w[1]),
                    "number set not sorted/unique: {set:?}"
                );
            }
            AttributeValue::Bs(set) => {
                assert!(!set.is_empty(), "empty binary set");
                assert!(
                    set.windows(2).all(|w| w[0] < w[1]),
                    "binary set not sorted/unique: {set:?}"
                );
            }
            AttributeValue::M(map) => map.values().for_each(check_value),
            AttributeValue::L(list) => list.iter().for_each(check_value),
            _ => {}
        }
    }
    item.values().for_each(check_value);
    let decoded = decode_item(&encode_item(item)).expect("encoded item decodes");
    assert_eq!(&decoded, item, "item codec round trip");
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let fixture = fixture();
    // Bits 4 and 5 drop the names / values, as a request without them.
    let names = (selector & 0x10 == 0).then_some(&fixture.names);
    let values = (selector & 0x20 == 0).then_some(&fixture.values);
    let mut ctx = ExpressionContext::new(names, values);

    match selector % 5 {
        0 | 1 => {
            let kind = if selector % 5 == 0 {
                ConditionKind::Condition
            } else {
                ConditionKind::Filter
            };
            if let Ok(condition) = parse_condition(kind, &text, &mut ctx) {
                for item in &fixture.items {
                    let _ = condition.evaluate(item);
                }
                let _ = condition.paths();
            }
        }
        2 => {
            let range = if selector & 0x40 == 0 { Some("sk") } else { None };
            let _ = parse_key_condition(&text, &mut ctx, "pk", range);
        }
        3 => {
            if let Ok(update) = parse_update(&text, &mut ctx) {
                let _ = update.check_key_attributes(&["pk", "sk"]);
                let _ = update.updated_paths();
                for item in &fixture.items {
                    let mut updated = item.clone();
                    if update.apply(&mut updated).is_ok() {
                        check_item(&updated);
                    }
                }
            }
        }
        _ => {
            if let Ok(paths) = parse_projection(&text, &mut ctx) {
                for item in &fixture.items {
                    let projected = project(item, &paths);
                    check_item(&projected);
                }
            }
        }
    }
    let _ = ctx.check_unused();
});
