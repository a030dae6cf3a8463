//! Table-driven tests of the expression language: AWS's messages, evaluation, updates,
//! projections, key conditions, and a fuzz pass that nothing panics.

use std::collections::HashMap;

use super::*;
use crate::number::Number;

fn n(text: &str) -> AttributeValue {
    AttributeValue::N(Number::parse(text).expect("number"))
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_string())
}

fn ss(members: &[&str]) -> AttributeValue {
    AttributeValue::string_set(members.iter().map(|m| m.to_string()).collect()).expect("set")
}

fn ns(members: &[&str]) -> AttributeValue {
    AttributeValue::number_set(members.iter().map(|m| Number::parse(m).expect("n")).collect()).expect("set")
}

fn bs(members: &[&[u8]]) -> AttributeValue {
    AttributeValue::binary_set(members.iter().map(|m| m.to_vec()).collect()).expect("set")
}

fn l(values: Vec<AttributeValue>) -> AttributeValue {
    AttributeValue::L(values)
}

fn m(entries: &[(&str, AttributeValue)]) -> AttributeValue {
    AttributeValue::M(item(entries))
}

fn item(entries: &[(&str, AttributeValue)]) -> Item {
    entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn names(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn values(pairs: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn condition_error(kind: ConditionKind, text: &str, n: &[(&str, &str)], v: &[(&str, AttributeValue)]) -> String {
    let (names, values) = (names(n), values(v));
    let mut ctx = ExpressionContext::new(Some(&names), Some(&values));
    match parse_condition(kind, text, &mut ctx) {
        Ok(_) => panic!("{text:?} parsed"),
        Err(ExprError(message)) => message,
    }
}

fn filter_error(text: &str, v: &[(&str, AttributeValue)]) -> String {
    condition_error(ConditionKind::Filter, text, &[("#a", "a")], v)
}

fn update_error(text: &str, v: &[(&str, AttributeValue)]) -> String {
    let (names, values) = (names(&[("#a", "a")]), values(v));
    let mut ctx = ExpressionContext::new(Some(&names), Some(&values));
    match parse_update(text, &mut ctx) {
        Ok(_) => panic!("{text:?} parsed"),
        Err(ExprError(message)) => message,
    }
}

fn projection_error(text: &str) -> String {
    let names = names(&[("#a", "a"), ("#b", "b")]);
    let mut ctx = ExpressionContext::new(Some(&names), None);
    match parse_projection(text, &mut ctx) {
        Ok(_) => panic!("{text:?} parsed"),
        Err(ExprError(message)) => message,
    }
}

fn condition(text: &str, v: &[(&str, AttributeValue)]) -> Condition {
    let (names, values) = (names(&[("#a", "a"), ("#n", "name")]), values(v));
    let mut ctx = ExpressionContext::new(Some(&names), Some(&values));
    parse_condition(ConditionKind::Condition, text, &mut ctx).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn update(text: &str, v: &[(&str, AttributeValue)]) -> Update {
    let (names, values) = (names(&[("#a", "a")]), values(v));
    let mut ctx = ExpressionContext::new(Some(&names), Some(&values));
    parse_update(text, &mut ctx).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

const SYNTAX: &str = "Syntax error; ";

#[test]
fn empty_and_oversized_expressions() {
    assert_eq!(
        filter_error("", &[]),
        "Invalid FilterExpression: The expression can not be empty;"
    );
    assert_eq!(
        filter_error("  \n", &[]),
        "Invalid FilterExpression: The expression can not be empty;"
    );
    assert_eq!(
        condition_error(ConditionKind::Condition, "", &[], &[]),
        "Invalid ConditionExpression: The expression can not be empty;"
    );
    assert_eq!(
        condition_error(ConditionKind::KeyCondition, "", &[], &[]),
        "Invalid KeyConditionExpression: The expression can not be empty;"
    );
    assert_eq!(
        update_error("", &[]),
        "Invalid UpdateExpression: The expression can not be empty;"
    );
    assert_eq!(
        projection_error(""),
        "Invalid ProjectionExpression: The expression can not be empty;"
    );
    let long = format!("a = :v AND {}", "b".repeat(4090));
    assert_eq!(
        filter_error(&long, &[]),
        format!(
            "Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: {}",
            long.len()
        )
    );
    let ops = vec!["a = :v"; 151].join(" AND ");
    assert_eq!(
        filter_error(&ops, &[(":v", n("1"))]),
        "Invalid FilterExpression: The expression contains too many operators; operator count: 301"
    );
    let ok = vec!["a = :v"; 150].join(" AND ");
    let values = values(&[(":v", n("1"))]);
    let mut ctx = ExpressionContext::new(None, Some(&values));
    assert!(parse_condition(ConditionKind::Filter, &ok, &mut ctx).is_ok());
}

#[test]
fn syntax_errors_name_token_and_neighbours() {
    for (text, token, near) in [
        ("attribute_type()", ")", "()"),
        ("a > 4", "4", "> 4"),
        ("a = :v AND", "<EOF>", "AND"),
        ("a = = b", "=", "= = b"),
        ("a b", "b", "a b"),
        ("ü > a", "ü", "ü >"),
        ("a in b", "b", "in b"),
        ("a in (b,c,)", ")", ",)"),
        ("size(a).b > a", ".", ").b"),
    ] {
        assert_eq!(
            filter_error(text, &[(":v", n("1"))]),
            format!("Invalid FilterExpression: Syntax error; token: \"{token}\", near: \"{near}\""),
            "{text}"
        );
    }
    for (text, token, near) in [
        ("INVALID SYNTAX HERE", "INVALID", "INVALID SYNTAX"),
        ("ADD hits : incr", ":", "hits : incr"),
        ("REMOVE a, #, b", "#", ", #,"),
        ("SET a = :v SET", "<EOF>", "SET"),
        ("SET a = b + c + d", "+", "c + d"),
        ("SET a = :v,", "<EOF>", ","),
        ("REMOVE a[1.5]", ".", "1.5"),
    ] {
        assert_eq!(
            update_error(text, &[(":v", n("1"))]),
            format!("Invalid UpdateExpression: Syntax error; token: \"{token}\", near: \"{near}\""),
            "{text}"
        );
    }
    for (text, token, near) in [
        ("!!!", "!", "!!"),
        ("a b", "b", "a b"),
        ("a,", "<EOF>", ","),
        ("a.:b", ":b", ".:b"),
    ] {
        assert_eq!(
            projection_error(text),
            format!("Invalid ProjectionExpression: Syntax error; token: \"{token}\", near: \"{near}\""),
            "{text}"
        );
    }
}

#[test]
fn aws_syntax_error_cases() {
    for text in [
        "things are not gonna be ok",
        "a > 4",
        "attribute_exists(Pictures-RearView)",
        "attribute_exists(\"Pictures.RearView\")",
        "attribute_exists(Pictures..RearView)",
        "attribute_exists(Pi#ctures.RearView)",
        "attribute_exists(asdf[a])",
        "a.:a < b.:b",
        "a in b, c",
        "a > between",
        "a in b",
        "a in (b,c,)",
        "(a)between(b.(c.d))and(c)",
        "(a)between(b.c.d)and((c)",
        "#$.b > a",
        "a > :things.stuff",
        "b[:a] > a",
        "b[#_] > a",
        "ü > a",
        "(a)between(b.c[4.5].#d)and(:a)",
        "size(a).b > a",
        "(size(a)).b > a",
        "size(a)[0] > a",
        "(size(a))[0] > a",
        "a = b AND",
        "NOT",
        "a BETWEEN b",
        "a IN ()",
        "a[99999999999999999999999] = b",
        "(m.y).z = :v",
    ] {
        let message = filter_error(text, &[]);
        assert!(
            message.starts_with(&format!("Invalid FilterExpression: {SYNTAX}")),
            "{text}: {message}"
        );
    }
    for text in [
        "SET",
        "SET a",
        "SET a =",
        "REMOVE",
        "ADD a",
        "ADD a b",
        "DELETE a :v :w",
        "SET a = :v REMOVE",
        "a = :v",
        "SET a = (((:v)))",
        "SET add = :v",
    ] {
        let message = update_error(text, &[(":v", n("1")), (":w", n("1"))]);
        assert!(
            message.starts_with(&format!("Invalid UpdateExpression: {SYNTAX}")),
            "{text}: {message}"
        );
    }
    for text in ["a.", "a[", "a[b]", ":a", "a, ,b", "(a)", "a = b"] {
        let message = projection_error(text);
        assert!(
            message.starts_with(&format!("Invalid ProjectionExpression: {SYNTAX}")),
            "{text}: {message}"
        );
    }
}

#[test]
fn redundant_parentheses() {
    for text in [
        "a=a and a > ((views))",
        "(a)between(((b.c)).d)and(c)",
        "a > whatever((:things), ((a)))",
        "a=a AND ((a=a AND a=a)) AND a=a",
        "a=a OR ((a=a OR a=a)) OR a=a",
        "a=a AND ((a=a AND (a=a AND a=a)))",
        "a=a OR ((a=a OR (a=a OR a=a)))",
        "((attribute_not_exists(pk)))",
    ] {
        assert_eq!(
            filter_error(text, &[]),
            "Invalid FilterExpression: The expression has redundant parentheses;",
            "{text}"
        );
    }
    assert_eq!(
        condition_error(ConditionKind::Condition, "((attribute_not_exists(pk)))", &[], &[]),
        "Invalid ConditionExpression: The expression has redundant parentheses;"
    );
}

#[test]
fn semantic_errors_in_aws_order() {
    let undefined_name = "An expression attribute name used in the document path is not defined; attribute name: ";
    let undefined_value = "An expression attribute value used in expression is not defined; attribute value: ";
    let operands = "Incorrect number of operands for operator or function; operator or function: ";
    let misused = "The function is not allowed to be used this way in an expression; function: ";
    let distinct =
        "The first operand must be distinct from the remaining operands for this operator or function; operator: ";
    let reserved = "Attribute name is a reserved keyword; reserved keyword: ";
    let cases: Vec<(&str, String)> = vec![
        ("a=a and whatever((:things)) > a", "Invalid function name; function: whatever".into()),
        ("attRIbute_exIsts((views), #a)", "Invalid function name; function: attRIbute_exIsts".into()),
        ("a=a and attribute_exists((views), (#a)) > b", format!("{misused}attribute_exists")),
        ("attribute_not_exists(things) > b", format!("{misused}attribute_not_exists")),
        ("attribute_type(things, :a) > b", format!("{misused}attribute_type")),
        ("begins_with(things, a) > b", format!("{misused}begins_with")),
        ("contains(:things, c) > b", format!("{misused}contains")),
        ("size(contains(a, b)) > a", format!("{misused}contains")),
        ("size(things)", format!("{misused}size")),
        ("a between b and attribute_exists(things)", format!("{misused}attribute_exists")),
        ("a in (b, attribute_exists(things))", format!("{misused}attribute_exists")),
        ("attribute_exists(views, #b)", format!("{reserved}views")),
        (":a < abOrT", format!("{reserved}abOrT")),
        ("views > :v", format!("{reserved}views")),
        ("attribute_exists(#Pictures.RearView, :a) and a=a", format!("{undefined_name}#Pictures")),
        ("begins_with(Pictures.#RearView)", format!("{undefined_name}#RearView")),
        ("(#P between :lo and :hi) and (#PC in (:cat1, :cat2))", format!("{undefined_name}#P")),
        ("#4g > a", format!("{undefined_name}#4g")),
        ("#_ > a", format!("{undefined_name}#_")),
        ("(a)between(b.c[45].#d)and(:a)", format!("{undefined_name}#d")),
        ("begins_with(:hello, #a, #b)", format!("{undefined_value}:hello")),
        (":b < :c", format!("{undefined_value}:b")),
        (":_ > a", format!("{undefined_value}:_")),
        ("attribute_exists(things, a) and a=a", format!("{operands}attribute_exists, number of operands: 2")),
        ("attribute_not_exists(things, b)", format!("{operands}attribute_not_exists, number of operands: 2")),
        ("attribute_type(things)", format!("{operands}attribute_type, number of operands: 1")),
        ("begins_with(things)", format!("{operands}begins_with, number of operands: 1")),
        ("begins_with(things, size(a), b)", format!("{operands}begins_with, number of operands: 3")),
        ("contains(things)", format!("{operands}contains, number of operands: 1")),
        ("size(things, a) > b", format!("{operands}size, number of operands: 2")),
        ("a = a AND #a = b AND :v > a", format!("{distinct}=, first operand: [a]")),
        ("#a <> a", format!("{distinct}<>, first operand: [a]")),
        ("a > #a", format!("{distinct}>, first operand: [a]")),
        ("((a=a) OR (a=a))", format!("{distinct}=, first operand: [a]")),
        ("contains(ab.bc[1].a, ab.bc[1].#a)", format!("{distinct}contains, first operand: [ab, bc, [1], a]")),
        ("attribute_type(ab.bc[1].#a, ab.bc[1].a)", format!("{distinct}attribute_type, first operand: [ab, bc, [1], a]")),
        ("begins_with(ab.bc[1].a, ab.bc[1].#a)", format!("{distinct}begins_with, first operand: [ab, bc, [1], a]")),
        ("attribute_exists(:v) and a=a", "Operator or function requires a document path; operator or function: attribute_exists".into()),
        ("attribute_not_exists(size(:s))", "Operator or function requires a document path; operator or function: attribute_not_exists".into()),
        ("attribute_type(a, :s)", "Invalid attribute type name found; type: 1, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}".into()),
        (
            "a between :v and :s",
            "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:1}".into(),
        ),
        (
            "a between :v and :zero",
            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {N:0}".into(),
        ),
    ];
    for (text, message) in cases {
        assert_eq!(
            filter_error(text, &[(":v", n("1")), (":s", s("1")), (":zero", n("0"))]),
            format!("Invalid FilterExpression: {message}"),
            "{text}"
        );
    }
    assert_eq!(
        condition_error(ConditionKind::Condition, "contains(data, data)", &[], &[]),
        "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: contains, first operand: [data]"
    );
    let many: Vec<String> = (0..101).map(|_| ":v".to_string()).collect();
    assert_eq!(
        filter_error(&format!("a IN ({})", many.join(", ")), &[(":v", n("1"))]),
        "Invalid FilterExpression: The IN operator is provided with too many operands; number of operands: 101"
    );
}

#[test]
fn operand_types_checked_statically() {
    let cases: Vec<(&str, &str, AttributeValue)> = vec![
        ("attribute_type(a, size(a)) and a=a and a=:a", "attribute_type", n("1")),
        ("attribute_type(a, :a)", "attribute_type", n("1")),
        (
            "attribute_type(a, :a)",
            "attribute_type",
            AttributeValue::B(b"a".to_vec()),
        ),
        ("attribute_type(a, :a)", "attribute_type", AttributeValue::Bool(true)),
        ("attribute_type(a, :a)", "attribute_type", AttributeValue::Null),
        ("attribute_type(a, :a)", "attribute_type", l(vec![])),
        ("attribute_type(a, :a)", "attribute_type", m(&[])),
        ("attribute_type(a, :a)", "attribute_type", ss(&["1"])),
        ("attribute_type(a, :a)", "attribute_type", ns(&["1"])),
        ("attribute_type(a, :a)", "attribute_type", bs(&[b"a"])),
        ("begins_with(a, size(a)) and a=:a", "begins_with", n("1")),
        ("begins_with(a, :a)", "begins_with", n("1")),
        ("begins_with(a, :a)", "begins_with", AttributeValue::Bool(true)),
        ("begins_with(a, :a)", "begins_with", AttributeValue::Null),
        ("begins_with(a, :a)", "begins_with", l(vec![])),
        ("begins_with(a, :a)", "begins_with", m(&[])),
        ("begins_with(a, :a)", "begins_with", ss(&["1"])),
        ("begins_with(a, :a)", "begins_with", ns(&["1"])),
        ("begins_with(a, :a)", "begins_with", bs(&[b"a"])),
        ("begins_with(:a, a)", "begins_with", n("1")),
        ("begins_with(:a, a)", "begins_with", m(&[])),
        ("size(size(a)) > :a", "size", n("1")),
        ("attribute_not_exists(size(:a))", "size", n("1")),
        ("size(:a) > a", "size", AttributeValue::Bool(true)),
        ("size(:a) > a", "size", AttributeValue::Null),
    ];
    for (text, function, value) in cases {
        let ty = value.value_type().name();
        assert_eq!(
            filter_error(text, &[(":a", value)]),
            format!(
                "Invalid FilterExpression: Incorrect operand type for operator or function; operator or function: {function}, operand type: {ty}"
            ),
            "{text}"
        );
    }
}

#[test]
fn placeholders_and_unused_keys() {
    let names = names(&[("#a", "a"), ("#b", "b"), ("#unused", "x")]);
    let values = values(&[(":a", n("1")), (":c", n("2")), (":unused", n("3"))]);
    let mut ctx = ExpressionContext::new(Some(&names), Some(&values));
    parse_condition(ConditionKind::Condition, "#a = :a", &mut ctx).expect("parses");
    assert_eq!(
        ctx.check_unused(),
        Err(ExprError(
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b, #unused}".into()
        ))
    );
    parse_projection("#b, #unused", &mut ctx).expect("parses");
    assert_eq!(
        ctx.check_unused(),
        Err(ExprError(
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:c, :unused}".into()
        ))
    );
    parse_update("SET x = :c ADD y :unused", &mut ctx).expect("parses");
    assert_eq!(ctx.check_unused(), Ok(()));
    let ctx = ExpressionContext::new(None, None);
    assert_eq!(ctx.check_unused(), Ok(()));
}

#[test]
fn update_validation_messages() {
    let overlap = "Two document paths overlap with each other; must remove or rewrite one of these paths; ";
    let conflict = "Two document paths conflict with each other; must remove or rewrite one of these paths; ";
    let cases: Vec<(&str, String)> = vec![
        ("SET x = :gone", "An expression attribute value used in expression is not defined; attribute value: :gone".into()),
        (
            "SET #upd_my_attribute_name = :v",
            "An expression attribute name used in the document path is not defined; attribute name: #upd_my_attribute_name".into(),
        ),
        ("SET abOrt = :v", "Attribute name is a reserved keyword; reserved keyword: abOrt".into()),
        ("SET a = :v REMOVE b.Name", "Attribute name is a reserved keyword; reserved keyword: Name".into()),
        ("SET f = :v, f = :v", format!("{overlap}path one: [f], path two: [f]")),
        ("SET a.b = :v REMOVE a", format!("{overlap}path one: [a, b], path two: [a]")),
        ("REMOVE a[1], a[1].b", format!("{overlap}path one: [a, [1]], path two: [a, [1], b]")),
        ("SET a.b = :v, a[0] = :v", format!("{conflict}path one: [a, b], path two: [a, [0]]")),
        ("ADD x :v SET a = :v ADD y :v", "The \"ADD\" section can only be used once in an update expression;".into()),
        ("SET a = :v SET b = :v", "The \"SET\" section can only be used once in an update expression;".into()),
        ("REMOVE a REMOVE b", "The \"REMOVE\" section can only be used once in an update expression;".into()),
        ("DELETE a :set DELETE b :set", "The \"DELETE\" section can only be used once in an update expression;".into()),
        ("ADD a :s", "Incorrect operand type for operator or function; operator: ADD, operand type: STRING".into()),
        ("ADD a :l", "Incorrect operand type for operator or function; operator: ADD, operand type: LIST".into()),
        ("ADD a :m", "Incorrect operand type for operator or function; operator: ADD, operand type: MAP".into()),
        ("ADD a :bool", "Incorrect operand type for operator or function; operator: ADD, operand type: BOOLEAN".into()),
        ("ADD a :null", "Incorrect operand type for operator or function; operator: ADD, operand type: NULL".into()),
        ("ADD a :b", "Incorrect operand type for operator or function; operator: ADD, operand type: BINARY".into()),
        ("DELETE a :v", "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER".into()),
        ("SET a = size(b)", "Invalid function name; function: size".into()),
        ("SET a = If_Not_Exists(b, :v)", "Invalid function name; function: If_Not_Exists".into()),
        ("SET a = list_append(:v, b)", "Incorrect operand type for operator or function; operator or function: list_append, operand type: N".into()),
        ("SET a = if_not_exists(:v, b)", "Operator or function requires a document path; operator or function: if_not_exists".into()),
        ("SET a = list_append(b)", "Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1".into()),
        ("SET a = b + :s", "Incorrect operand type for operator or function; operator or function: +, operand type: S".into()),
        ("SET a = :l - b", "Incorrect operand type for operator or function; operator or function: -, operand type: L".into()),
        // Reserved words are reported before everything else.
        ("SET a = :gone, b = c REMOVE size", "Attribute name is a reserved keyword; reserved keyword: size".into()),
        // Undefined names before undefined values, before overlaps.
        ("SET a = :gone, a = #gone", "An expression attribute name used in the document path is not defined; attribute name: #gone".into()),
        ("SET a = :gone, a = :v", "An expression attribute value used in expression is not defined; attribute value: :gone".into()),
    ];
    let v = [
        (":v", n("1")),
        (":s", s("x")),
        (":l", l(vec![])),
        (":m", m(&[])),
        (":bool", AttributeValue::Bool(true)),
        (":null", AttributeValue::Null),
        (":b", AttributeValue::B(vec![1])),
        (":set", ss(&["a"])),
    ];
    for (text, message) in cases {
        assert_eq!(
            update_error(text, &v),
            format!("Invalid UpdateExpression: {message}"),
            "{text}"
        );
    }
    // Clause keywords and function names: keywords case-insensitive, functions case-sensitive.
    update("set a = :v remove b Add c :v delete d :set", &v);
    let u = update("SET pk = :v, x = :v", &v);
    assert_eq!(
        u.check_key_attributes(&["pk", "sk"]),
        Err(ExprError(
            "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"
                .into()
        ))
    );
    let u = update("REMOVE sk.x", &v);
    assert_eq!(
        u.check_key_attributes(&["pk", "sk"]),
        Err(ExprError(
            "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key"
                .into()
        ))
    );
    assert_eq!(update("SET a = :v", &v).check_key_attributes(&["pk", "sk"]), Ok(()));
}

#[test]
fn paths_display_and_lookup() {
    let path = Path(vec![
        PathElement::Attribute("a".into()),
        PathElement::Attribute("b".into()),
        PathElement::Index(1),
        PathElement::Index(0),
    ]);
    assert_eq!(path.to_string(), "a.b[1][0]");
    assert_eq!(path.top(), "a");
    assert_eq!(path.bracketed(), "[a, b, [1], [0]]");
    let doc = item(&[("a", m(&[("b", l(vec![n("0"), l(vec![s("deep")])]))]))]);
    assert_eq!(path.get(&doc), Some(&s("deep")));
    assert_eq!(Path(vec![PathElement::Index(0)]).get(&doc), None);
    assert_eq!(Path(vec![PathElement::Index(0)]).top(), "");
    assert_eq!(Path(vec![]).get(&doc), None);
}

/// An item with one attribute of every type.
fn sample() -> Item {
    item(&[
        ("s", s("hello")),
        ("n", n("10")),
        ("b", AttributeValue::B(vec![1, 2, 3])),
        ("t", AttributeValue::Bool(true)),
        ("z", AttributeValue::Null),
        ("ss", ss(&["a", "b"])),
        ("ns", ns(&["1", "2"])),
        ("bs", bs(&[b"x", b"y"])),
        ("l", l(vec![s("a"), n("1"), m(&[("k", s("v"))])])),
        (
            "m",
            m(&[("x", n("1")), ("y", m(&[("z", s("deep"))])), ("name", s("reserved"))]),
        ),
        ("u", s("é𝄞")),
    ])
}

#[test]
fn evaluation_truth_tables() {
    let v = [
        (":s", s("hello")),
        (":s2", s("help")),
        (":he", s("he")),
        (":n", n("10")),
        (":n9", n("9")),
        (":n11", n("11.5")),
        (":b", AttributeValue::B(vec![1, 2, 3])),
        (":b12", AttributeValue::B(vec![1, 2])),
        (":b2", AttributeValue::B(vec![2])),
        (":t", AttributeValue::Bool(true)),
        (":f", AttributeValue::Bool(false)),
        (":null", AttributeValue::Null),
        (":ss", ss(&["b", "a"])),
        (":ns", ns(&["2", "1"])),
        (":bs", bs(&[b"y", b"x"])),
        (":a", s("a")),
        (":one", n("1")),
        (":x", AttributeValue::B(b"x".to_vec())),
        (":l", l(vec![s("a"), n("1"), m(&[("k", s("v"))])])),
        (":m", m(&[("k", s("v"))])),
        (":typeS", s("S")),
        (":typeN", s("N")),
        (":typeSS", s("SS")),
        (":typeM", s("M")),
        (":typeNULL", s("NULL")),
        (":typeBOOL", s("BOOL")),
        (":two", n("2")),
        (":three", n("3")),
        (":five", n("5")),
        (":deep", s("deep")),
        (":ee", s("ell")),
    ];
    let table: &[(&str, bool)] = &[
        // equality across types
        ("s = :s", true),
        ("s = :s2", false),
        ("s = :n", false),
        ("n = :n", true),
        ("b = :b", true),
        ("t = :t", true),
        ("t = :f", false),
        ("z = :null", true),
        ("ss = :ss", true),
        ("ns = :ns", true),
        ("bs = :bs", true),
        ("l = :l", true),
        ("m.y.z = :deep", true),
        ("gone = :s", false),
        ("s <> :s2", true),
        ("s <> :s", false),
        ("s <> :n", true),
        ("gone <> :s", true),
        ("gone <> gone_too", false),
        ("ss <> :ns", true),
        // ordering: S by bytes, N numerically, B by bytes; other types never order
        ("s < :s2", true),
        ("s <= :s", true),
        ("s > :s2", false),
        ("s >= :he", true),
        ("n < :n11", true),
        ("n > :n9", true),
        ("n >= :n", true),
        ("n <= :n9", false),
        ("b > :b12", true),
        ("b < :b2", true),
        ("t > :f", false),
        ("t < :t", false),
        ("ss >= :ss", false),
        ("gone < :n", false),
        ("n < :s", false),
        // BETWEEN / IN
        ("n BETWEEN :n9 AND :n11", true),
        ("n BETWEEN :n AND :n", true),
        ("n between :n11 and :n11", false),
        ("s BETWEEN :he AND :s2", true),
        ("s BETWEEN :n9 AND :n11", false),
        ("gone BETWEEN :n9 AND :n11", false),
        ("n IN (:n9, :n)", true),
        ("n IN (:n9, :n11)", false),
        ("s in (:n, :s)", true),
        ("gone IN (:s)", false),
        ("ss IN (:ss)", true),
        // logic
        ("n = :n AND s = :s", true),
        ("n = :n AND s = :n", false),
        ("n = :n9 OR s = :s", true),
        ("NOT n = :n", false),
        ("NOT gone = :n", true),
        ("not not n = :n", true),
        ("NOT (n = :n9 OR s = :n)", true),
        ("n = :n9 OR s = :s AND t = :f", false),
        ("(n = :n9 OR s = :s) AND t = :t", true),
        ("n = :n OR s = :n AND t = :f", true),
        // functions
        ("attribute_exists(s)", true),
        ("attribute_exists(gone)", false),
        ("attribute_exists(m.y.z)", true),
        ("attribute_exists(l[2].k)", true),
        ("attribute_exists(l[3])", false),
        ("attribute_exists(s.x)", false),
        ("attribute_exists(#n)", false),
        ("attribute_exists(m.#n)", true),
        ("attribute_not_exists(gone)", true),
        ("attribute_not_exists(z)", false),
        ("attribute_type(s, :typeS)", true),
        ("attribute_type(s, :typeN)", false),
        ("attribute_type(ss, :typeSS)", true),
        ("attribute_type(m, :typeM)", true),
        ("attribute_type(z, :typeNULL)", true),
        ("attribute_type(t, :typeBOOL)", true),
        ("attribute_type(gone, :typeS)", false),
        ("begins_with(s, :he)", true),
        ("begins_with(s, :s2)", false),
        ("begins_with(b, :b12)", true),
        ("begins_with(b, :b2)", false),
        ("begins_with(n, :he)", false),
        ("begins_with(gone, :he)", false),
        ("contains(s, :ee)", true),
        ("contains(s, :s2)", false),
        ("contains(ss, :a)", true),
        ("contains(ss, :he)", false),
        ("contains(ns, :one)", true),
        ("contains(ns, :n)", false),
        ("contains(bs, :x)", true),
        ("contains(b, :b2)", true),
        ("contains(l, :a)", true),
        ("contains(l, :m)", true),
        ("contains(l, :s)", false),
        ("contains(n, :n)", false),
        ("contains(gone, :a)", false),
        ("contains(s, n)", false),
        // size
        ("size(s) = :five", true),
        ("size(u) = :three", true),
        ("size(b) = :three", true),
        ("size(ss) = :two", true),
        ("size(ns) = :two", true),
        ("size(bs) = :two", true),
        ("size(l) = :three", true),
        ("size(m) = :three", true),
        ("size(m.y) = :one", true),
        ("size(n) = :two", false),
        ("size(t) = :one", false),
        ("size(gone) = :one", false),
        ("size(gone) <> :one", true),
        ("size(s) > size(ss)", true),
        ("size(l) BETWEEN :two AND :three", true),
        ("size(l) IN (:one, :three)", true),
        ("(size(s)) > (:two)", true),
        ("(s) = :s", true),
        (":n = :n", true),
        (":n > :n9", true),
        ("begins_with(:s, :he)", true),
    ];
    let doc = sample();
    for (text, expected) in table {
        assert_eq!(condition(text, &v).evaluate(&doc), *expected, "{text}");
    }
    // With no item at all every attribute is gone.
    assert!(condition("attribute_not_exists(pk)", &v).evaluate(&Item::new()));
    assert!(!condition("attribute_exists(pk)", &v).evaluate(&Item::new()));
}

#[test]
fn keywords_are_case_insensitive() {
    let v = [(":a", n("1")), (":b", n("3"))];
    let doc = item(&[("x", n("2"))]);
    for (text, expected) in [
        ("x BeTwEeN :a aNd :b", true),
        ("x in (:a, :b) Or x = :b", false),
        ("NoT x = :a AnD x > :a", true),
        ("x IN (:a) oR nOt x <> :a", false),
    ] {
        assert_eq!(condition(text, &v).evaluate(&doc), expected, "{text}");
    }
    // Function names are not: AWS reports them as unknown.
    assert_eq!(
        filter_error("ATTRIBUTE_EXISTS(x)", &[]),
        "Invalid FilterExpression: Invalid function name; function: ATTRIBUTE_EXISTS"
    );
}

fn applied(text: &str, v: &[(&str, AttributeValue)], start: &Item) -> Result<Item, ExprError> {
    let mut doc = start.clone();
    update(text, v).apply(&mut doc).map(|()| doc)
}

#[test]
fn update_application() {
    let v = [
        (":v", n("1")),
        (":two", n("2")),
        (":s", s("x")),
        (":l", l(vec![n("9")])),
        (":ss", ss(&["c", "a"])),
        (":ns", ns(&["3"])),
        (":bs", bs(&[b"q"])),
        (":del", ss(&["a", "zzz"])),
        (":all", ss(&["a", "b"])),
        (":empty", l(vec![])),
        (":big", n("9.9999999999999999999999999999999999999E+125")),
        (":m", m(&[])),
    ];
    let start = item(&[
        ("pk", s("k")),
        ("n", n("5")),
        ("s", s("str")),
        ("l", l(vec![n("0"), n("1"), n("2"), n("3")])),
        ("m", m(&[("a", n("1")), ("nest", m(&[("x", s("y"))]))])),
        ("ss", ss(&["a", "b"])),
        ("ns", ns(&["1"])),
        ("bs", bs(&[b"p"])),
    ]);
    type Check = fn(&Item) -> bool;
    let cases: Vec<(&str, Check)> = vec![
        ("SET x = :v", |i| i.get("x") == Some(&n("1"))),
        ("SET n = n + :v", |i| i.get("n") == Some(&n("6"))),
        ("SET n = :two - n", |i| i.get("n") == Some(&n("-3"))),
        ("SET x = n + n", |i| i.get("x") == Some(&n("10"))),
        ("SET n = (n - :v)", |i| i.get("n") == Some(&n("4"))),
        ("SET m.a = :s", |i| {
            i.get("m") == Some(&m(&[("a", s("x")), ("nest", m(&[("x", s("y"))]))]))
        }),
        ("SET m.nest.z = :v", |i| {
            Path(vec![
                PathElement::Attribute("m".into()),
                PathElement::Attribute("nest".into()),
                PathElement::Attribute("z".into()),
            ])
            .get(i)
                == Some(&n("1"))
        }),
        ("SET l[1] = :s", |i| {
            i.get("l") == Some(&l(vec![n("0"), s("x"), n("2"), n("3")]))
        }),
        ("SET l[10] = :s", |i| {
            i.get("l") == Some(&l(vec![n("0"), n("1"), n("2"), n("3"), s("x")]))
        }),
        ("SET l[11] = :s, l[10] = :v", |i| {
            i.get("l") == Some(&l(vec![n("0"), n("1"), n("2"), n("3"), n("1"), s("x")]))
        }),
        ("SET l = list_append(l, :l)", |i| {
            i.get("l") == Some(&l(vec![n("0"), n("1"), n("2"), n("3"), n("9")]))
        }),
        ("SET l = list_append(:l, l)", |i| {
            i.get("l") == Some(&l(vec![n("9"), n("0"), n("1"), n("2"), n("3")]))
        }),
        ("SET x = list_append(if_not_exists(x, :empty), :l)", |i| {
            i.get("x") == Some(&l(vec![n("9")]))
        }),
        ("SET n = if_not_exists(n, :v)", |i| i.get("n") == Some(&n("5"))),
        ("SET x = if_not_exists(x, :v)", |i| i.get("x") == Some(&n("1"))),
        ("SET x = if_not_exists(x, n)", |i| i.get("x") == Some(&n("5"))),
        ("SET n = s, s = n", |i| {
            i.get("n") == Some(&s("str")) && i.get("s") == Some(&n("5"))
        }),
        ("SET #a = :v", |i| i.get("a") == Some(&n("1"))),
        ("SET x = m.nest", |i| i.get("x") == Some(&m(&[("x", s("y"))]))),
        ("REMOVE s, m.a", |i| {
            !i.contains_key("s") && i.get("m") == Some(&m(&[("nest", m(&[("x", s("y"))]))]))
        }),
        ("REMOVE l[1]", |i| i.get("l") == Some(&l(vec![n("0"), n("2"), n("3")]))),
        ("REMOVE l[0], l[2]", |i| i.get("l") == Some(&l(vec![n("1"), n("3")]))),
        ("REMOVE l[2], l[0]", |i| i.get("l") == Some(&l(vec![n("1"), n("3")]))),
        ("REMOVE l[9], gone, m.gone", |i| {
            i.get("l")
                .is_some_and(|v| matches!(v, AttributeValue::L(x) if x.len() == 4))
        }),
        ("ADD n :v", |i| i.get("n") == Some(&n("6"))),
        ("ADD x :v", |i| i.get("x") == Some(&n("1"))),
        ("ADD m.cnt :two", |i| {
            Path(vec![
                PathElement::Attribute("m".into()),
                PathElement::Attribute("cnt".into()),
            ])
            .get(i)
                == Some(&n("2"))
        }),
        ("ADD ss :ss", |i| i.get("ss") == Some(&ss(&["a", "b", "c"]))),
        ("ADD ns :ns", |i| i.get("ns") == Some(&ns(&["1", "3"]))),
        ("ADD bs :bs", |i| i.get("bs") == Some(&bs(&[b"p", b"q"]))),
        ("ADD newset :ss", |i| i.get("newset") == Some(&ss(&["a", "c"]))),
        ("DELETE ss :del", |i| i.get("ss") == Some(&ss(&["b"]))),
        ("DELETE ss :all", |i| !i.contains_key("ss")),
        ("DELETE gone :all", |i| !i.contains_key("gone")),
        ("SET a = :v REMOVE s ADD n :v DELETE ss :del", |i| {
            i.get("a") == Some(&n("1"))
                && !i.contains_key("s")
                && i.get("n") == Some(&n("6"))
                && i.get("ss") == Some(&ss(&["b"]))
        }),
        ("SET x = :m SET", |_| false),
    ];
    for (text, check) in cases {
        if text.ends_with("SET") {
            continue;
        }
        let result = applied(text, &v, &start).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(check(&result), "{text}: {result:?}");
    }
    // Upsert into an empty item.
    let created = applied("SET a = :v ADD c :v, s :ss", &v, &Item::new()).expect("applies");
    assert_eq!(created, item(&[("a", n("1")), ("c", n("1")), ("s", ss(&["a", "c"]))]));

    let gone = "The provided expression refers to an attribute that does not exist in the item";
    let invalid_path = "The document path provided in the update expression is invalid for update";
    let wrong_type = "An operand in the update expression has an incorrect data type";
    for (text, message) in [
        ("SET x = gone", gone),
        ("SET x = gone + :v", gone),
        ("SET x = list_append(gone, :l)", gone),
        ("SET nope.b = :v", gone),
        ("SET nope[1] = :v", gone),
        ("SET l[7].x = :v", gone),
        ("SET s.b = :v", invalid_path),
        ("SET m[0] = :v", invalid_path),
        ("SET l.x = :v", invalid_path),
        ("REMOVE nope.b", invalid_path),
        ("REMOVE s.b", invalid_path),
        ("SET n = s + :v", wrong_type),
        ("SET n = n - s", wrong_type),
        ("SET l = list_append(l, n)", wrong_type),
        ("ADD s :v", wrong_type),
        ("ADD ss :ns", wrong_type),
        ("ADD l :ss", wrong_type),
        ("DELETE ss :ns", wrong_type),
        ("DELETE n :ss", wrong_type),
        ("ADD nope.x :v", gone),
        (
            "SET n = n + :big",
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            "ADD n :big",
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
    ] {
        assert_eq!(applied(text, &v, &start), Err(ExprError(message.to_string())), "{text}");
    }
    let u = update("SET a = :v, m.a = :v REMOVE l[1] ADD n :v DELETE ss :ss", &v);
    assert_eq!(
        u.updated_paths().iter().map(Path::to_string).collect::<Vec<_>>(),
        vec!["a", "m.a", "l[1]", "n", "ss"]
    );
}

#[test]
fn projections() {
    let names = names(&[("#n", "name"), ("#x", "x")]);
    let mut ctx = ExpressionContext::new(Some(&names), None);
    let paths = parse_projection("s, m.y.z, l[2].k, l[0], #n, m.#x, gone, l[7]", &mut ctx).expect("parses");
    assert_eq!(paths.len(), 8);
    assert_eq!(paths[4], Path(vec![PathElement::Attribute("name".into())]));
    let mut doc = sample();
    doc.insert("name".into(), s("N"));
    let projected = project(&doc, &paths);
    assert_eq!(
        projected,
        item(&[
            ("s", s("hello")),
            ("m", m(&[("x", n("1")), ("y", m(&[("z", s("deep"))]))])),
            ("l", l(vec![s("a"), m(&[("k", s("v"))])])),
            ("name", s("N")),
        ])
    );
    assert_eq!(project(&doc, &[]), Item::new());

    let overlap = "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; ";
    assert_eq!(
        projection_error("a.b, a"),
        format!("{overlap}path one: [a, b], path two: [a]")
    );
    assert_eq!(
        projection_error("a, #a"),
        format!("{overlap}path one: [a], path two: [a]")
    );
    assert_eq!(
        projection_error("x[1], x[1][2]"),
        format!("{overlap}path one: [x, [1]], path two: [x, [1], [2]]")
    );
    assert_eq!(
        projection_error("a.b, a[1]"),
        "Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]"
    );
    assert_eq!(
        projection_error("a, name"),
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: name"
    );
    assert_eq!(
        projection_error("#undefined, name"),
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: name"
    );
    assert_eq!(
        projection_error("#zz"),
        "Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: #zz"
    );
    // No keywords in projections: `and` is just a reserved word.
    assert_eq!(
        projection_error("x, AND"),
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: AND"
    );
    let mut ctx = ExpressionContext::new(None, None);
    assert!(parse_projection(" a , b.c[3] ,_d ", &mut ctx).is_ok());
}

fn key(text: &str, range: Option<&str>) -> Result<KeyCondition, ExprError> {
    let values = values(&[
        (":a", s("a")),
        (":b", s("b")),
        (":n", n("1")),
        (":m", n("2")),
        (":t", s("S")),
    ]);
    let names = names(&[("#pk", "pk")]);
    let mut ctx = ExpressionContext::new(Some(&names), Some(&values));
    parse_key_condition(text, &mut ctx, "pk", range)
}

#[test]
fn key_conditions() {
    let ok: Vec<(&str, Option<SortKeyCondition>)> = vec![
        ("pk = :a", None),
        ("#pk = :a", None),
        (":a = pk", None),
        ("pk = :a AND sk = :b", Some(SortKeyCondition::Eq(s("b")))),
        ("sk < :b AND pk = :a", Some(SortKeyCondition::Lt(s("b")))),
        ("pk = :a AND sk <= :b", Some(SortKeyCondition::Le(s("b")))),
        ("pk = :a AND sk > :b", Some(SortKeyCondition::Gt(s("b")))),
        ("pk = :a AND sk >= :b", Some(SortKeyCondition::Ge(s("b")))),
        ("pk = :a AND :b > sk", Some(SortKeyCondition::Lt(s("b")))),
        ("pk = :a AND :b <= sk", Some(SortKeyCondition::Ge(s("b")))),
        (
            "pk = :a AND sk BETWEEN :a AND :b",
            Some(SortKeyCondition::Between(s("a"), s("b"))),
        ),
        (
            "pk = :a AND begins_with(sk, :b)",
            Some(SortKeyCondition::BeginsWith(s("b"))),
        ),
        (
            "(pk = :a) AND (begins_with(sk, :b))",
            Some(SortKeyCondition::BeginsWith(s("b"))),
        ),
    ];
    for (text, sort) in ok {
        assert_eq!(
            key(text, Some("sk")),
            Ok(KeyCondition {
                partition_value: s("a"),
                sort
            }),
            "{text}"
        );
    }
    let cases: Vec<(&str, Option<&str>, &str)> = vec![
        ("sk = :a", Some("sk"), "Query condition missed key schema element: pk"),
        ("x1 = :a", None, "Query condition missed key schema element: pk"),
        (
            "pk = :a OR sk = :b",
            Some("sk"),
            "Invalid operator used in KeyConditionExpression: OR",
        ),
        (
            "a > b and size(b) > c or a > c",
            Some("sk"),
            "Invalid operator used in KeyConditionExpression: OR",
        ),
        (
            "pk IN (:a, :b)",
            Some("sk"),
            "Invalid operator used in KeyConditionExpression: IN",
        ),
        (
            "attribute_exists(pk)",
            Some("sk"),
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        ),
        (
            "attribute_not_exists(pk)",
            Some("sk"),
            "Invalid operator used in KeyConditionExpression: attribute_not_exists",
        ),
        (
            "contains(a.d, b)",
            Some("sk"),
            "Invalid operator used in KeyConditionExpression: contains",
        ),
        (
            "attribute_type(a, :t)",
            Some("sk"),
            "Invalid operator used in KeyConditionExpression: attribute_type",
        ),
        (
            "not a > b",
            Some("sk"),
            "Invalid operator used in KeyConditionExpression: NOT",
        ),
        (
            "pk <> :a",
            Some("sk"),
            "Invalid operator used in KeyConditionExpression: <>",
        ),
        (
            "pk = :a AND sk > :a AND sk < :b",
            Some("sk"),
            "KeyConditionExpressions must only contain one condition per key",
        ),
        (
            "(a > :n and b > :n) and (b > :n and c > :n)",
            Some("sk"),
            "KeyConditionExpressions must only contain one condition per key",
        ),
        (
            "pk = :a AND begins_with(:b, sk)",
            Some("sk"),
            "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand",
        ),
        (
            ":a between size(b) and size(a) and b > :b",
            Some("sk"),
            "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand",
        ),
        (
            "size(b) > a AND a.b > b AND b > c",
            Some("sk"),
            "KeyConditionExpressions cannot contain nested operations",
        ),
        (
            "a > size(b.d)",
            Some("sk"),
            "KeyConditionExpressions cannot contain nested operations",
        ),
        (
            "a between size(b) and size(a)",
            Some("sk"),
            "KeyConditionExpressions cannot contain nested operations",
        ),
        (
            "b > a.b",
            Some("sk"),
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
        ),
        (
            "b between c[1] and d",
            Some("sk"),
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
        ),
        (
            "a between b and size(a)",
            Some("sk"),
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
        ),
        (
            "begins_with(a, b)",
            Some("sk"),
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
        ),
        (
            "b.d > a AND c.d > e.f",
            Some("sk"),
            "KeyConditionExpressions cannot have conditions on nested attributes",
        ),
        (
            "a.d > c",
            Some("sk"),
            "KeyConditionExpressions cannot have conditions on nested attributes",
        ),
        (
            "b[0] > a",
            Some("sk"),
            "KeyConditionExpressions cannot have conditions on nested attributes",
        ),
        (
            ":b > :a AND a < :b",
            Some("sk"),
            "Invalid condition in KeyConditionExpression: No key attribute specified",
        ),
        (
            ":a > b AND :a < :b",
            Some("sk"),
            "Invalid condition in KeyConditionExpression: No key attribute specified",
        ),
        ("pk > :a", Some("sk"), "Query key condition not supported"),
        ("begins_with(pk, :a)", None, "Query key condition not supported"),
        ("pk BETWEEN :a AND :b", None, "Query key condition not supported"),
        ("pk = :a AND sk = :b", None, "Query key condition not supported"),
        ("pk = :a AND stat = :b", Some("sk"), "Query key condition not supported"),
        ("pk = :a AND x1 = :b", Some("sk"), "Query key condition not supported"),
        (
            "",
            Some("sk"),
            "Invalid KeyConditionExpression: The expression can not be empty;",
        ),
        (
            "things are not gonna be ok",
            Some("sk"),
            "Invalid KeyConditionExpression: Syntax error; token: \"are\", near: \"things are not\"",
        ),
        (
            "pk = :zz",
            Some("sk"),
            "Invalid KeyConditionExpression: An expression attribute value used in expression is not defined; attribute value: :zz",
        ),
        (
            "pk = :a AND sk between :n and :a",
            Some("sk"),
            "Invalid KeyConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}",
        ),
        (
            "pk = :a AND sk between :b and :a",
            Some("sk"),
            "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}",
        ),
        (
            "attribute_type(a, b)",
            Some("sk"),
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}",
        ),
    ];
    for (text, range, message) in cases {
        assert_eq!(key(text, range), Err(ExprError(message.to_string())), "{text}");
    }
}

#[test]
fn deep_nesting_is_bounded() {
    for depth in [10, 63, 64, 65, 500, 2000] {
        let text = format!("{}a = :v{}", "(".repeat(depth), ")".repeat(depth));
        let values = values(&[(":v", n("1"))]);
        let mut ctx = ExpressionContext::new(None, Some(&values));
        let result = parse_condition(ConditionKind::Filter, &text, &mut ctx);
        assert!(result.is_err(), "depth {depth}");
        let text = format!("{}a = :v", "NOT ".repeat(depth));
        let result = parse_condition(ConditionKind::Filter, &text, &mut ctx);
        assert_eq!(result.is_ok(), depth <= 64, "NOT depth {depth}");
        let text = format!("SET a = {}b{}", "if_not_exists(b, ".repeat(depth), ")".repeat(depth));
        let _ = parse_update(&text, &mut ctx);
        let text = format!("size({}a{}) > :v", "(".repeat(depth), ")".repeat(depth));
        let _ = parse_condition(ConditionKind::Filter, &text, &mut ctx);
    }
    let values = values(&[(":v", n("1"))]);
    let mut ctx = ExpressionContext::new(None, Some(&values));
    let text = format!("{}a = :v{}", "(a = :v AND ".repeat(40), ")".repeat(40));
    assert!(parse_condition(ConditionKind::Filter, &text, &mut ctx).is_ok());
}

/// A small deterministic generator (xorshift) for the fuzz test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[(self.next() % options.len() as u64) as usize]
    }
}

#[test]
fn fuzzed_expressions_never_panic() {
    const ALPHABET: &[&str] = &[
        "a",
        "b",
        "l",
        "m",
        "s",
        "n",
        "ss",
        "#a",
        "#b",
        "#zz",
        ":v",
        ":s",
        ":l",
        ":ss",
        ":zz",
        "=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "(",
        ")",
        "(",
        ")",
        "[",
        "]",
        "[0]",
        "[1]",
        "[99]",
        ",",
        ".",
        "+",
        "-",
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "SET",
        "REMOVE",
        "ADD",
        "DELETE",
        "size",
        "contains",
        "begins_with",
        "attribute_exists",
        "attribute_not_exists",
        "attribute_type",
        "if_not_exists",
        "list_append",
        "name",
        "0",
        "7",
        "#",
        ":",
        "!",
        "ü",
        "\"",
        " ",
        "\t",
        "_x",
    ];
    let names = names(&[("#a", "a"), ("#b", "b")]);
    let values = values(&[
        (":v", n("1")),
        (":s", s("S")),
        (":l", l(vec![n("1")])),
        (":ss", ss(&["x"])),
    ]);
    let doc = sample();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..4000 {
        let length = 1 + (rng.next() % 14) as usize;
        let mut text = String::new();
        for _ in 0..length {
            text.push_str(rng.pick(ALPHABET));
            if !rng.next().is_multiple_of(3) {
                text.push(' ');
            }
        }
        if round % 4 == 0 {
            text = format!("SET {text}");
        }
        let mut ctx = ExpressionContext::new(Some(&names), Some(&values));
        for kind in [ConditionKind::Condition, ConditionKind::Filter] {
            if let Ok(cond) = parse_condition(kind, &text, &mut ctx) {
                let _ = cond.evaluate(&doc);
                let _ = cond.evaluate(&Item::new());
            }
        }
        if let Ok(update) = parse_update(&text, &mut ctx) {
            let mut target = doc.clone();
            let _ = update.apply(&mut target);
            let _ = update.apply(&mut Item::new());
            let _ = update.updated_paths();
            let _ = update.check_key_attributes(&["s"]);
        }
        if let Ok(paths) = parse_projection(&text, &mut ctx) {
            let _ = project(&doc, &paths);
        }
        let _ = parse_key_condition(&text, &mut ctx, "s", Some("n"));
        let _ = ctx.check_unused();
    }
    // Arbitrary bytes too.
    for _ in 0..1000 {
        let length = (rng.next() % 40) as usize;
        let text: String = (0..length)
            .map(|_| char::from_u32((rng.next() % 0x250) as u32).unwrap_or('?'))
            .collect();
        let mut ctx = ExpressionContext::new(Some(&names), Some(&values));
        let _ = parse_condition(ConditionKind::Filter, &text, &mut ctx);
        let _ = parse_update(&text, &mut ctx);
        let _ = parse_projection(&text, &mut ctx);
    }
}

#[test]
fn reserved_words_table() {
    assert_eq!(reserved::RESERVED_WORDS.len(), 573);
    assert!(reserved::RESERVED_WORDS.windows(2).all(|w| w[0] < w[1]));
    for word in ["abort", "ABORT", "Name", "size", "zone", "views", "status", "data"] {
        assert!(reserved::is_reserved(word), "{word}");
    }
    for word in ["pk", "sk", "attribute_exists", "names2", "", "naméé"] {
        assert!(!reserved::is_reserved(word), "{word}");
    }
}

#[test]
fn pathological_inputs_stay_fast() {
    let values = values(&[(":v", n("1"))]);
    let started = std::time::Instant::now();
    for text in [
        "(".repeat(4000),
        format!("{}a", "(".repeat(4000)),
        format!("{}a) = :v", "size(".repeat(800)),
        format!("a IN ({})", vec!["((:v))"; 500].join(",")),
        format!("{}a = :v", "NOT (".repeat(600)),
        vec!["((a = :v) OR (a <> :v))"; 150].join(" AND "),
    ] {
        let text: String = text.chars().take(4096).collect();
        let mut ctx = ExpressionContext::new(None, Some(&values));
        let _ = parse_condition(ConditionKind::Filter, &text, &mut ctx);
        let _ = parse_update(&format!("SET a = {text}"), &mut ctx);
        let _ = parse_projection(&text, &mut ctx);
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    // Many SET clauses are not operators.
    let sets: Vec<String> = (0..400).map(|i| format!("a{i} = :v")).collect();
    let mut ctx = ExpressionContext::new(None, Some(&values));
    assert!(parse_update(&format!("SET {}", sets.join(",")), &mut ctx).is_ok());
}
