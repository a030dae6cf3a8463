//! Attribute values and items as the engine sees them: plain Rust, no wire format.

use std::collections::BTreeMap;

use crate::number::Number;

/// One DynamoDB attribute value. Sets are kept sorted and free of duplicates (see
/// [`AttributeValue::string_set`] and friends), so equal sets compare equal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttributeValue {
    S(String),
    N(Number),
    B(Vec<u8>),
    Bool(bool),
    Null,
    M(Item),
    L(Vec<AttributeValue>),
    Ss(Vec<String>),
    Ns(Vec<Number>),
    Bs(Vec<Vec<u8>>),
}

/// An item, or the contents of a map value: attribute name to value.
pub type Item = BTreeMap<String, AttributeValue>;

/// The ten attribute types, by their DynamoDB names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    S,
    N,
    B,
    Bool,
    Null,
    M,
    L,
    Ss,
    Ns,
    Bs,
}

impl ValueType {
    /// The DynamoDB name: `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`, `NS`, `BS`.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::S => "S",
            ValueType::N => "N",
            ValueType::B => "B",
            ValueType::Bool => "BOOL",
            ValueType::Null => "NULL",
            ValueType::M => "M",
            ValueType::L => "L",
            ValueType::Ss => "SS",
            ValueType::Ns => "NS",
            ValueType::Bs => "BS",
        }
    }

    pub fn from_name(name: &str) -> Option<ValueType> {
        Some(match name {
            "S" => ValueType::S,
            "N" => ValueType::N,
            "B" => ValueType::B,
            "BOOL" => ValueType::Bool,
            "NULL" => ValueType::Null,
            "M" => ValueType::M,
            "L" => ValueType::L,
            "SS" => ValueType::Ss,
            "NS" => ValueType::Ns,
            "BS" => ValueType::Bs,
            _ => return None,
        })
    }
}

/// Why a set cannot be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetError {
    Empty(ValueType),
    /// Duplicates, with AWS's rendering of the input for string sets.
    Duplicates(ValueType, Option<String>),
}

impl SetError {
    /// AWS's message, to follow "One or more parameter values were invalid: ".
    pub fn message(&self) -> String {
        match self {
            SetError::Empty(ValueType::Ss) => "An string set  may not be empty".to_string(),
            SetError::Empty(ValueType::Ns) => "An number set  may not be empty".to_string(),
            SetError::Empty(_) => "Binary sets should not be empty".to_string(),
            SetError::Duplicates(_, Some(rendered)) => {
                format!("Input collection {rendered} contains duplicates.")
            }
            SetError::Duplicates(_, None) => "Input collection contains duplicates".to_string(),
        }
    }
}

impl AttributeValue {
    pub fn value_type(&self) -> ValueType {
        match self {
            AttributeValue::S(_) => ValueType::S,
            AttributeValue::N(_) => ValueType::N,
            AttributeValue::B(_) => ValueType::B,
            AttributeValue::Bool(_) => ValueType::Bool,
            AttributeValue::Null => ValueType::Null,
            AttributeValue::M(_) => ValueType::M,
            AttributeValue::L(_) => ValueType::L,
            AttributeValue::Ss(_) => ValueType::Ss,
            AttributeValue::Ns(_) => ValueType::Ns,
            AttributeValue::Bs(_) => ValueType::Bs,
        }
    }

    /// Builds a string set, rejecting empty sets and duplicates as AWS does.
    pub fn string_set(mut values: Vec<String>) -> Result<AttributeValue, SetError> {
        if values.is_empty() {
            return Err(SetError::Empty(ValueType::Ss));
        }
        let rendered = format!("[{}]", values.join(", "));
        values.sort_unstable();
        if values.windows(2).any(|w| w[0] == w[1]) {
            return Err(SetError::Duplicates(ValueType::Ss, Some(rendered)));
        }
        Ok(AttributeValue::Ss(values))
    }

    pub fn number_set(mut values: Vec<Number>) -> Result<AttributeValue, SetError> {
        if values.is_empty() {
            return Err(SetError::Empty(ValueType::Ns));
        }
        values.sort_unstable();
        if values.windows(2).any(|w| w[0] == w[1]) {
            return Err(SetError::Duplicates(ValueType::Ns, None));
        }
        Ok(AttributeValue::Ns(values))
    }

    pub fn binary_set(mut values: Vec<Vec<u8>>) -> Result<AttributeValue, SetError> {
        if values.is_empty() {
            return Err(SetError::Empty(ValueType::Bs));
        }
        values.sort_unstable();
        if values.windows(2).any(|w| w[0] == w[1]) {
            return Err(SetError::Duplicates(ValueType::Bs, None));
        }
        Ok(AttributeValue::Bs(values))
    }

    /// Size in bytes as DynamoDB counts it (not including the attribute name).
    pub fn size_bytes(&self) -> usize {
        match self {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => n.size_bytes(),
            AttributeValue::B(b) => b.len(),
            AttributeValue::Bool(_) | AttributeValue::Null => 1,
            AttributeValue::M(map) => {
                3 + map
                    .iter()
                    .map(|(name, value)| 1 + name.len() + value.size_bytes())
                    .sum::<usize>()
            }
            AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + v.size_bytes()).sum::<usize>(),
            AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
            AttributeValue::Ns(set) => set.iter().map(Number::size_bytes).sum(),
            AttributeValue::Bs(set) => set.iter().map(Vec::len).sum(),
        }
    }

    /// Keeps each set sorted and deduplicated after an in-place change.
    pub(crate) fn normalize_set(&mut self) {
        match self {
            AttributeValue::Ss(set) => {
                set.sort_unstable();
                set.dedup();
            }
            AttributeValue::Ns(set) => {
                set.sort_unstable();
                set.dedup();
            }
            AttributeValue::Bs(set) => {
                set.sort_unstable();
                set.dedup();
            }
            _ => {}
        }
    }
}

/// Item size as DynamoDB counts it: attribute names' UTF-8 bytes plus values.
pub fn item_size_bytes(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value.size_bytes()).sum()
}

/// The item size limit: 400 KB.
pub const ITEM_BYTES_MAX: usize = 400 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(text).expect("number"))
    }

    #[test]
    fn sizes_follow_aws_rules() {
        let mut item = Item::new();
        item.insert("a".into(), AttributeValue::S("héllo".into()));
        assert_eq!(item_size_bytes(&item), 1 + 6);
        let mut nested = Item::new();
        nested.insert("k".into(), AttributeValue::Bool(true));
        let cases = [
            (AttributeValue::Null, 1),
            (AttributeValue::Bool(false), 1),
            (AttributeValue::B(vec![1, 2, 3]), 3),
            (num("123"), 3),
            (AttributeValue::L(vec![]), 3),
            (
                AttributeValue::L(vec![AttributeValue::Null, AttributeValue::S("ab".into())]),
                3 + 2 + 3,
            ),
            (AttributeValue::M(nested), 3 + 1 + 1 + 1),
            (AttributeValue::Ss(vec!["ab".into(), "c".into()]), 3),
        ];
        for (value, size) in cases {
            assert_eq!(value.size_bytes(), size, "{value:?}");
        }
    }

    #[test]
    fn sets_are_validated_and_sorted() {
        assert_eq!(
            AttributeValue::string_set(vec!["a".into(), "a".into()]).map_err(|e| e.message()),
            Err("Input collection [a, a] contains duplicates.".to_string())
        );
        assert_eq!(
            AttributeValue::string_set(vec![]).map_err(|e| e.message()),
            Err("An string set  may not be empty".to_string())
        );
        let set = AttributeValue::number_set(vec![Number::parse("10").expect("n"), Number::parse("2").expect("n")]);
        assert_eq!(
            set,
            Ok(AttributeValue::Ns(vec![
                Number::parse("2").expect("n"),
                Number::parse("10").expect("n")
            ]))
        );
        assert!(
            AttributeValue::number_set(vec![Number::parse("1").expect("n"), Number::parse("1.0").expect("n")]).is_err()
        );
    }
}
