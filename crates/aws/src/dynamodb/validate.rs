//! Member constraints as AWS's request validator reports them: up to ten errors collected into
//! "N validation error(s) detected: Value 'x' at 'member' failed to satisfy constraint: ...".

/// Collects constraint violations for one request.
#[derive(Default)]
pub struct Constraints {
    errors: Vec<String>,
}

/// AWS's table-name pattern.
pub const TABLE_NAME_PATTERN: &str = "[a-zA-Z0-9_.-]+";

fn render(value: Option<&str>) -> String {
    match value {
        Some(value) => format!("'{value}'"),
        None => "null".to_string(),
    }
}

impl Constraints {
    pub fn new() -> Constraints {
        Constraints::default()
    }

    fn push(&mut self, value: Option<&str>, member: &str, constraint: &str) {
        if self.errors.len() < 10 {
            self.errors.push(format!(
                "Value {} at '{member}' failed to satisfy constraint: {constraint}",
                render(value)
            ));
        }
    }

    pub fn not_null<T>(&mut self, member: &str, value: &Option<T>) {
        if value.is_none() {
            self.push(None, member, "Member must not be null");
        }
    }

    /// Length bounds, in characters, for strings.
    pub fn length(&mut self, member: &str, value: Option<&str>, min: usize, max: usize) {
        let Some(text) = value else { return };
        let length = text.chars().count();
        if length < min {
            self.push(
                value,
                member,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if length > max {
            self.push(
                value,
                member,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// A table or index name: 3 to 255 characters of `[a-zA-Z0-9_.-]`.
    pub fn table_name(&mut self, member: &str, value: Option<&str>, min: usize) {
        let Some(text) = value else { return };
        if !text.is_empty()
            && !text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
        {
            self.push(
                value,
                member,
                &format!("Member must satisfy regular expression pattern: {TABLE_NAME_PATTERN}"),
            );
        }
        self.length(member, value, min, 255);
    }

    pub fn enumeration(&mut self, member: &str, value: Option<&str>, allowed: &[&str]) {
        let Some(text) = value else { return };
        if !allowed.contains(&text) {
            self.push(
                value,
                member,
                &format!("Member must satisfy enum value set: [{}]", allowed.join(", ")),
            );
        }
    }

    pub fn at_least(&mut self, member: &str, value: Option<i64>, min: i64) {
        if let Some(number) = value
            && number < min
        {
            self.push(
                Some(&number.to_string()),
                member,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
    }

    pub fn at_most(&mut self, member: &str, value: Option<i64>, max: i64) {
        if let Some(number) = value
            && number > max
        {
            self.push(
                Some(&number.to_string()),
                member,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    pub fn list_length(&mut self, member: &str, rendered: &str, length: usize, min: usize, max: usize) {
        if length < min {
            self.push(
                Some(rendered),
                member,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if length > max {
            self.push(
                Some(rendered),
                member,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// The collected errors as one message, or `None` when there are none.
    pub fn finish(self) -> Option<String> {
        match self.errors.len() {
            0 => None,
            1 => Some(format!("1 validation error detected: {}", self.errors[0])),
            count => Some(format!(
                "{count} validation errors detected: {}",
                self.errors.join("; ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_aws() {
        let mut c = Constraints::new();
        c.not_null::<String>("tableName", &None);
        assert_eq!(
            c.finish().as_deref(),
            Some(
                "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
            )
        );
        let mut c = Constraints::new();
        c.table_name("tableName", Some("bad table!@#"), 3);
        assert_eq!(
            c.finish().as_deref(),
            Some(
                "1 validation error detected: Value 'bad table!@#' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
            )
        );
        let mut c = Constraints::new();
        c.table_name("tableName", Some(""), 1);
        assert_eq!(
            c.finish().as_deref(),
            Some(
                "1 validation error detected: Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1"
            )
        );
        let mut c = Constraints::new();
        c.enumeration(
            "returnValues",
            Some("INVALID"),
            &["ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"],
        );
        c.enumeration("returnConsumedCapacity", Some("INVALID"), &["INDEXES", "TOTAL", "NONE"]);
        assert_eq!(
            c.finish().as_deref(),
            Some(
                "2 validation errors detected: Value 'INVALID' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]; Value 'INVALID' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
            )
        );
    }
}
