//! DynamoDB numbers: exact decimals of up to 38 significant digits, with AWS's parsing, limits,
//! canonical text form, ordering and arithmetic.

use std::cmp::Ordering;
use std::fmt;

/// Most significant digits a DynamoDB number may hold.
pub const SIGNIFICANT_DIGITS_MAX: usize = 38;
/// Largest decimal exponent of the leading digit (9.99…E+125 is the largest magnitude).
const EXPONENT_MAX: i32 = 125;
/// Smallest decimal exponent of the leading digit (1E-130 is the smallest magnitude).
const EXPONENT_MIN: i32 = -130;

/// A DynamoDB number: `(-1)^negative × significand × 10^exponent`, normalised so that the
/// significand has no trailing zeros and zero is always `(false, 0, 0)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    significand: u128,
    exponent: i32,
}

/// Why a string or a computation is not a valid DynamoDB number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumberError {
    /// The text is not a number at all.
    NotNumeric(String),
    /// More than 38 significant digits.
    Precision,
    /// Magnitude above 9.99…E+125.
    Overflow,
    /// Magnitude below 1E-130.
    Underflow,
}

impl NumberError {
    /// AWS's message for this error (a `ValidationException`).
    pub fn message(&self) -> String {
        match self {
            NumberError::NotNumeric(text) => {
                format!("The parameter cannot be converted to a numeric value: {text}")
            }
            NumberError::Precision => "Attempting to store more than 38 significant digits in a Number".to_string(),
            NumberError::Overflow => {
                "Number overflow. Attempting to store a number with magnitude larger than supported range".to_string()
            }
            NumberError::Underflow => {
                "Number underflow. Attempting to store a number with magnitude smaller than supported range".to_string()
            }
        }
    }
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl Number {
    pub const ZERO: Number = Number {
        negative: false,
        significand: 0,
        exponent: 0,
    };

    /// Parses a number as DynamoDB accepts it: optional sign, digits with an optional decimal
    /// point, optional exponent (`1.5e-3`). Leading and trailing zeros are not significant.
    pub fn parse(text: &str) -> Result<Number, NumberError> {
        let not_numeric = || NumberError::NotNumeric(text.to_string());
        let bytes = text.as_bytes();
        let mut position = 0;
        let mut negative = false;
        if let Some(&sign) = bytes.first()
            && (sign == b'-' || sign == b'+')
        {
            negative = sign == b'-';
            position = 1;
        }
        // Digits of the mantissa, leading zeros dropped, with the count of digits after the point.
        let mut digits: Vec<u8> = Vec::new();
        let mut fraction_digits: i64 = 0;
        let mut seen_digit = false;
        let mut seen_point = false;
        while position < bytes.len() {
            match bytes[position] {
                digit @ b'0'..=b'9' => {
                    seen_digit = true;
                    if seen_point {
                        fraction_digits += 1;
                    }
                    if !(digits.is_empty() && digit == b'0') {
                        digits.push(digit - b'0');
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            position += 1;
        }
        if !seen_digit {
            return Err(not_numeric());
        }
        let mut exponent: i64 = 0;
        if position < bytes.len() {
            if bytes[position] != b'e' && bytes[position] != b'E' {
                return Err(not_numeric());
            }
            position += 1;
            let mut exponent_negative = false;
            if let Some(&sign) = bytes.get(position)
                && (sign == b'-' || sign == b'+')
            {
                exponent_negative = sign == b'-';
                position += 1;
            }
            let start = position;
            while position < bytes.len() && bytes[position].is_ascii_digit() {
                // Saturate: anything this large is out of range anyway.
                exponent = (exponent * 10 + i64::from(bytes[position] - b'0')).min(1_000_000_000);
                position += 1;
            }
            if start == position || position != bytes.len() {
                return Err(not_numeric());
            }
            if exponent_negative {
                exponent = -exponent;
            }
        }
        // value = 0.digits… scaled: integer(digits) × 10^(exponent - fraction_digits)
        while digits.last() == Some(&0) {
            digits.pop();
            exponent += 1;
        }
        if digits.is_empty() {
            return Ok(Number::ZERO);
        }
        Number::from_digits(negative, &digits, exponent - fraction_digits)
    }

    /// Builds a number from decimal digits (no leading or trailing zeros, not empty) and an
    /// exponent, checking precision and range.
    fn from_digits(negative: bool, digits: &[u8], exponent: i64) -> Result<Number, NumberError> {
        // AWS checks the magnitude before the precision.
        let leading = exponent + digits.len() as i64 - 1;
        if leading > i64::from(EXPONENT_MAX) {
            return Err(NumberError::Overflow);
        }
        if leading < i64::from(EXPONENT_MIN) {
            return Err(NumberError::Underflow);
        }
        if digits.len() > SIGNIFICANT_DIGITS_MAX {
            return Err(NumberError::Precision);
        }
        let significand = digits.iter().fold(0u128, |acc, &d| acc * 10 + u128::from(d));
        // In range by the checks above.
        let exponent = exponent as i32;
        Ok(Number {
            negative,
            significand,
            exponent,
        })
    }

    pub fn is_zero(&self) -> bool {
        self.significand == 0
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// The significant digits, most significant first (`[0]` for zero).
    pub fn digits(&self) -> Vec<u8> {
        if self.significand == 0 {
            return vec![0];
        }
        let mut digits = Vec::with_capacity(SIGNIFICANT_DIGITS_MAX);
        let mut rest = self.significand;
        while rest > 0 {
            digits.push((rest % 10) as u8);
            rest /= 10;
        }
        digits.reverse();
        digits
    }

    /// The decimal exponent of the leading digit: 0 for 1–9, 1 for 10–99, -1 for 0.1–0.9.
    pub fn leading_exponent(&self) -> i32 {
        if self.significand == 0 {
            return 0;
        }
        self.exponent + digit_count(self.significand) as i32 - 1
    }

    /// Size in bytes as DynamoDB counts it towards item size: one byte, plus one per two
    /// significant digits on each side of the decimal point (leading and trailing zeros
    /// trimmed), plus one if negative. This is the rule measured against DynamoDB by bisecting
    /// the 400 KB limit; the developer guide's "1 byte per two significant digits plus 1" is
    /// its approximation.
    pub fn size_bytes(&self) -> usize {
        if self.significand == 0 {
            return 1;
        }
        let count = digit_count(self.significand);
        let fraction = if self.exponent < 0 {
            count.min((-self.exponent) as usize)
        } else {
            0
        };
        let integer = count - fraction;
        1 + integer.div_ceil(2) + fraction.div_ceil(2) + usize::from(self.negative)
    }

    /// Exact sum; fails if the result needs more than 38 digits or leaves the range.
    pub fn add(&self, other: &Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(other.clone());
        }
        if other.is_zero() {
            return Ok(self.clone());
        }
        let exponent = self.exponent.min(other.exponent);
        // Any digit that would have to sit more than 38 places above the lowest one makes an
        // exact result of more than 38 significant digits impossible to avoid (no cancellation
        // can reach that far), so the work stays small. DynamoDB reports a result it cannot
        // hold exactly as an overflow, whatever the cause (1e50 + 1 is "Number overflow").
        let shift_self = (self.exponent - exponent) as usize;
        let shift_other = (other.exponent - exponent) as usize;
        if shift_self > SIGNIFICANT_DIGITS_MAX + 1 || shift_other > SIGNIFICANT_DIGITS_MAX + 1 {
            return Err(NumberError::Overflow);
        }
        let a = Wide::from_u128(self.significand).shifted(shift_self);
        let b = Wide::from_u128(other.significand).shifted(shift_other);
        let (negative, magnitude) = if self.negative == other.negative {
            (self.negative, a.add(&b))
        } else {
            match a.cmp(&b) {
                Ordering::Equal => return Ok(Number::ZERO),
                Ordering::Greater => (self.negative, a.sub(&b)),
                Ordering::Less => (other.negative, b.sub(&a)),
            }
        };
        let mut digits = magnitude.decimal_digits();
        let mut exponent = i64::from(exponent);
        while digits.last() == Some(&0) {
            digits.pop();
            exponent += 1;
        }
        Number::from_digits(negative, &digits, exponent).map_err(|error| match error {
            NumberError::Precision => NumberError::Overflow,
            other => other,
        })
    }

    /// Exact difference `self - other`.
    pub fn sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.add(&other.negated())
    }

    pub fn negated(&self) -> Number {
        if self.is_zero() {
            return Number::ZERO;
        }
        Number {
            negative: !self.negative,
            ..self.clone()
        }
    }

    /// Compares magnitudes of two non-zero numbers.
    fn cmp_magnitude(&self, other: &Number) -> Ordering {
        let by_exponent = self.leading_exponent().cmp(&other.leading_exponent());
        if by_exponent != Ordering::Equal {
            return by_exponent;
        }
        // Same leading exponent: align the significands to the same digit count.
        let (a, b) = (digit_count(self.significand), digit_count(other.significand));
        let width = a.max(b);
        let scaled_a = self.significand * 10u128.pow((width - a) as u32);
        let scaled_b = other.significand * 10u128.pow((width - b) as u32);
        scaled_a.cmp(&scaled_b)
    }

    /// An encoding whose byte order is the numeric order, for sort keys.
    pub fn encode_ordered(&self, out: &mut Vec<u8>) {
        if self.is_zero() {
            out.push(0x80);
            return;
        }
        // The leading exponent lies in -130..=125; bias it into 1..=256 - keep it in a u16.
        let biased = (self.leading_exponent() + 200) as u16;
        let digits = self.digits();
        if self.negative {
            out.push(0x40);
            out.extend_from_slice(&(!biased).to_be_bytes());
            out.extend(digits.iter().map(|d| 10 - d));
            // A terminator above every digit so that a shorter negative sorts after a longer one
            // sharing its prefix (-1.5 > -1.51).
            out.push(0xff);
        } else {
            out.push(0xc0);
            out.extend_from_slice(&biased.to_be_bytes());
            out.extend(digits.iter().map(|d| d + 1));
        }
    }

    /// Decodes [`Number::encode_ordered`]; returns the number and the bytes consumed.
    pub fn decode_ordered(bytes: &[u8]) -> Option<(Number, usize)> {
        match *bytes.first()? {
            0x80 => Some((Number::ZERO, 1)),
            marker @ (0x40 | 0xc0) => {
                let negative = marker == 0x40;
                let raw = u16::from_be_bytes([*bytes.get(1)?, *bytes.get(2)?]);
                let biased = if negative { !raw } else { raw };
                let leading = i64::from(biased) - 200;
                let mut digits = Vec::new();
                let mut position = 3;
                while let Some(&byte) = bytes.get(position) {
                    if negative {
                        position += 1;
                        if byte == 0xff {
                            break;
                        }
                        if !(1..=10).contains(&byte) {
                            return None;
                        }
                        digits.push(10 - byte);
                    } else {
                        if !(1..=10).contains(&byte) {
                            break;
                        }
                        digits.push(byte - 1);
                        position += 1;
                    }
                }
                // Only the canonical form decodes: no leading or trailing zero digits (zero is
                // 0x80), so a decoded number is normalised like a parsed one.
                if digits.is_empty()
                    || digits.len() > SIGNIFICANT_DIGITS_MAX
                    || digits.first() == Some(&0)
                    || digits.last() == Some(&0)
                {
                    return None;
                }
                let exponent = leading - digits.len() as i64 + 1;
                Number::from_digits(negative, &digits, exponent)
                    .ok()
                    .map(|n| (n, position))
            }
            _ => None,
        }
    }

    /// Converts to an integer when the number is one and fits.
    pub fn to_i64(&self) -> Option<i64> {
        if self.exponent < 0 {
            return None;
        }
        let value = self
            .significand
            .checked_mul(10u128.checked_pow(self.exponent as u32)?)?;
        let value = i64::try_from(value).ok()?;
        Some(if self.negative { -value } else { value })
    }

    pub fn from_i64(value: i64) -> Number {
        let mut text = String::new();
        use std::fmt::Write;
        let _ = write!(text, "{value}");
        // An i64 always has fewer than 38 digits and is within range.
        Number::parse(&text).unwrap_or(Number::ZERO)
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => {
                return if other.negative {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
            }
            (false, true) => {
                return if self.negative {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
            }
            (false, false) => {}
        }
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The canonical text DynamoDB returns: plain decimal notation, no exponent, no trailing zeros.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.significand == 0 {
            return f.write_str("0");
        }
        let digits: String = self.digits().iter().map(|d| char::from(b'0' + d)).collect();
        let mut out = String::with_capacity(digits.len() + 8);
        if self.negative {
            out.push('-');
        }
        if self.exponent >= 0 {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', self.exponent as usize));
        } else {
            let fraction = (-self.exponent) as usize;
            if fraction >= digits.len() {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', fraction - digits.len()));
                out.push_str(&digits);
            } else {
                let split = digits.len() - fraction;
                out.push_str(&digits[..split]);
                out.push('.');
                out.push_str(&digits[split..]);
            }
        }
        f.write_str(&out)
    }
}

fn digit_count(mut value: u128) -> usize {
    let mut count = 1;
    while value >= 10 {
        value /= 10;
        count += 1;
    }
    count
}

/// A small unsigned big integer in base 10^9 limbs, least significant first, enough for the
/// at most 78 decimal digits that aligned additions need.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Wide(Vec<u32>);

const LIMB: u64 = 1_000_000_000;

impl Wide {
    fn from_u128(mut value: u128) -> Wide {
        let mut limbs = Vec::new();
        while value > 0 {
            limbs.push((value % u128::from(LIMB)) as u32);
            value /= u128::from(LIMB);
        }
        Wide(limbs)
    }

    fn shifted(mut self, places: usize) -> Wide {
        for _ in 0..places {
            let mut carry = 0u64;
            for limb in &mut self.0 {
                let value = u64::from(*limb) * 10 + carry;
                *limb = (value % LIMB) as u32;
                carry = value / LIMB;
            }
            if carry > 0 {
                self.0.push(carry as u32);
            }
        }
        self
    }

    fn add(&self, other: &Wide) -> Wide {
        let mut limbs = Vec::with_capacity(self.0.len().max(other.0.len()) + 1);
        let mut carry = 0u64;
        for index in 0..self.0.len().max(other.0.len()) {
            let value =
                u64::from(*self.0.get(index).unwrap_or(&0)) + u64::from(*other.0.get(index).unwrap_or(&0)) + carry;
            limbs.push((value % LIMB) as u32);
            carry = value / LIMB;
        }
        if carry > 0 {
            limbs.push(carry as u32);
        }
        Wide(limbs)
    }

    /// `self - other`, for `self >= other`.
    fn sub(&self, other: &Wide) -> Wide {
        let mut limbs = Vec::with_capacity(self.0.len());
        let mut borrow = 0i64;
        for index in 0..self.0.len() {
            let mut value = i64::from(self.0[index]) - i64::from(*other.0.get(index).unwrap_or(&0)) - borrow;
            borrow = 0;
            if value < 0 {
                value += LIMB as i64;
                borrow = 1;
            }
            limbs.push(value as u32);
        }
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
        Wide(limbs)
    }

    fn decimal_digits(&self) -> Vec<u8> {
        let mut digits = Vec::new();
        for limb in &self.0 {
            let mut value = *limb;
            for _ in 0..9 {
                digits.push((value % 10) as u8);
                value /= 10;
            }
        }
        while digits.last() == Some(&0) {
            digits.pop();
        }
        digits.reverse();
        digits
    }
}

impl Ord for Wide {
    fn cmp(&self, other: &Self) -> Ordering {
        let trimmed = |w: &Wide| w.0.iter().rposition(|&l| l != 0).map_or(0, |p| p + 1);
        let (a, b) = (trimmed(self), trimmed(other));
        a.cmp(&b).then_with(|| {
            for index in (0..a).rev() {
                let order = self.0[index].cmp(&other.0[index]);
                if order != Ordering::Equal {
                    return order;
                }
            }
            Ordering::Equal
        })
    }
}

impl PartialOrd for Wide {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        match Number::parse(text) {
            Ok(number) => number,
            Err(error) => panic!("{text}: {error}"),
        }
    }

    #[test]
    fn canonical_forms() {
        for (input, canonical) in [
            ("1.50", "1.5"),
            ("0010", "10"),
            ("1e3", "1000"),
            ("-0", "0"),
            ("+7", "7"),
            ("0.001", "0.001"),
            ("1E-10", "0.0000000001"),
            ("-12.3400", "-12.34"),
            (".5", "0.5"),
            ("5.", "5"),
            (
                "123456789012345678901234567890123456780000",
                "123456789012345678901234567890123456780000",
            ),
            (
                "9.9999999999999999999999999999999999999E+125",
                "999999999999999999999999999999999999990000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
            ),
        ] {
            assert_eq!(n(input).to_string(), canonical, "{input}");
        }
    }

    #[test]
    fn invalid_numbers() {
        for (input, error) in [
            ("b", NumberError::NotNumeric("b".into())),
            ("", NumberError::NotNumeric("".into())),
            ("1.2.3", NumberError::NotNumeric("1.2.3".into())),
            ("1e", NumberError::NotNumeric("1e".into())),
            (" 1", NumberError::NotNumeric(" 1".into())),
            ("123456789012345678901234567890123456789", NumberError::Precision),
            ("1e126", NumberError::Overflow),
            ("1e-131", NumberError::Underflow),
            ("1e999999999999999", NumberError::Overflow),
        ] {
            assert_eq!(Number::parse(input), Err(error), "{input}");
        }
        assert!(Number::parse("1e-130").is_ok());
        assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
    }

    #[test]
    fn exact_arithmetic() {
        for (a, b, sum) in [
            ("0.1", "0.2", "0.3"),
            ("1", "-1", "0"),
            (
                "99999999999999999999999999999999999999",
                "-1",
                "99999999999999999999999999999999999998",
            ),
            ("-5", "3", "-2"),
            (
                "1e100",
                "1e100",
                "20000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
            ),
            ("0.5", "-0.25", "0.25"),
        ] {
            assert_eq!(n(a).add(&n(b)).map(|r| r.to_string()), Ok(sum.to_string()), "{a}+{b}");
        }
        assert_eq!(
            n("99999999999999999999999999999999999999")
                .add(&n("1"))
                .map(|r| r.to_string()),
            Ok("100000000000000000000000000000000000000".to_string())
        );
        assert_eq!(n("1e100").add(&n("1")), Err(NumberError::Overflow));
        assert_eq!(n("1e-38").add(&n("1")), Err(NumberError::Overflow));
        assert_eq!(
            n("9.9999999999999999999999999999999999999E+125").add(&n("1e125")),
            Err(NumberError::Overflow)
        );
        assert_eq!(n("10").sub(&n("0.5")).map(|r| r.to_string()), Ok("9.5".to_string()));
    }

    #[test]
    fn ordering_matches_value_and_encoding() {
        let sorted = [
            "-1e125", "-100", "-10", "-1.51", "-1.5", "-1", "-0.5", "-1e-130", "0", "1e-130", "0.5", "1", "1.5",
            "1.51", "2", "10", "100", "1e125",
        ];
        for window in sorted.windows(2) {
            let (a, b) = (n(window[0]), n(window[1]));
            assert_eq!(a.cmp(&b), Ordering::Less, "{} < {}", window[0], window[1]);
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            a.encode_ordered(&mut ea);
            b.encode_ordered(&mut eb);
            assert!(ea < eb, "encoding {} < {}", window[0], window[1]);
        }
        for text in sorted {
            let mut encoded = Vec::new();
            n(text).encode_ordered(&mut encoded);
            let (decoded, used) = Number::decode_ordered(&encoded).expect("decodes");
            assert_eq!((decoded, used), (n(text), encoded.len()));
        }
        assert_eq!(n("1.0"), n("1"));
    }

    /// Found by fuzzing (fuzz/ item_codec): `decode_ordered` accepted zero digits at either end
    /// (and, for negatives, a 0x00 byte as the digit "10"), building non-normalised numbers such
    /// as a zero with exponent -1 that is not equal to `Number::ZERO` and does not survive
    /// encode → decode.
    #[test]
    fn decode_ordered_rejects_non_canonical_digits() {
        for bytes in [
            &[0xc0, 0x00, 0xc7, 0x01][..],             // positive, digits [0]
            &[0xc0, 0x00, 0xc8, 0x01, 0x01][..],       // positive, digits [0, 0]
            &[0xc0, 0x00, 0xc9, 0x02, 0x01][..],       // positive, digits [1, 0] (10 is [1] at exponent 1)
            &[0xc0, 0x00, 0xc9, 0x01, 0x02][..],       // positive, digits [0, 1]
            &[0x40, 0xff, 0x37, 0x0a, 0xff][..],       // negative, digits [0]
            &[0x40, 0xff, 0x36, 0x09, 0x0a, 0xff][..], // negative, digits [1, 0]
            &[0x40, 0xff, 0x37, 0x00, 0xff][..],       // negative, digit "10"
        ] {
            assert_eq!(Number::decode_ordered(bytes), None, "{bytes:02x?}");
        }
        for text in ["10", "-10", "0.01", "-1.5", "100000000000000000000000000000000000000"] {
            let mut bytes = Vec::new();
            n(text).encode_ordered(&mut bytes);
            assert_eq!(Number::decode_ordered(&bytes), Some((n(text), bytes.len())), "{text}");
        }
    }

    #[test]
    fn sizes_as_aws_counts_them() {
        for (text, size) in [
            ("0", 1),
            ("1", 2),
            ("12", 2),
            ("123", 3),
            ("10", 2),
            ("-1", 3),
            ("0.5", 2),
            ("1234", 3),
        ] {
            assert_eq!(n(text).size_bytes(), size, "{text}");
        }
    }
}
