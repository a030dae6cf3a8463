//! A secret access key: redacted in `Debug`, compared in constant time.

/// A secret that never prints itself; shared, so handing a caller's secret to the verifier is
/// a reference count, not a copy.
#[derive(Clone)]
pub struct Secret(std::sync::Arc<str>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(std::sync::Arc::from(value.into()))
    }

    /// The secret's text, for signing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

/// Equality whose time does not depend on where the inputs first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |difference, (x, y)| difference | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_hide_and_compare() {
        let secret = Secret::new("wJalrXUtnFEMI");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert!(secret == Secret::new("wJalrXUtnFEMI"));
        assert!(secret != Secret::new("wJalrXUtnFEMJ"));
        assert!(!constant_time_eq(b"ab", b"abc"));
    }
}
