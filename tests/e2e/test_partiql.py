"""PartiQL: ExecuteStatement and BatchExecuteStatement with SELECT, INSERT, UPDATE
and DELETE, parameters, literals of every type, paging, and AWS's errors.

Messages: the syntax errors ("Statement wasn't well formed, can't be processed:
...") and the write rules (full key in WHERE, DuplicateItemException, a missing
item is ConditionalCheckFailed for UPDATE and a no-op for DELETE, RETURNING) are
the wording AWS gives, as recorded by other emulators' suites pinned against
DynamoDB; the rest follows the messages of DynamoDB Local's PartiQL layer. A
comment marks each message whose wording is Stratus's own.
"""

from __future__ import annotations

import pytest

from support import assert_error, expect_error

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": str(v)}  # noqa: E731

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "
INCOMPLETE_KEY = "Where clause does not contain a mandatory equality on all key attributes"


def run(ddb, statement, *parameters, **extra):
    if parameters:
        extra["Parameters"] = list(parameters)
    return ddb.execute_statement(Statement=statement, **extra)


def _get(ddb, table, key):
    return ddb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")


@pytest.fixture
def numbers_table(table_factory):
    return table_factory(hash_key=("pk", "S"), range_key=("sk", "N"))


@pytest.fixture
def table_n(ddb, numbers_table):
    for i in range(1, 6):
        ddb.put_item(TableName=numbers_table, Item={
            "pk": S("a"), "sk": N(i), "n": N(i * 10), "tag": S("even" if i % 2 == 0 else "odd"),
            "m": {"M": {"k": {"L": [N(i), S("x")]}, "z": S("deep")}}})
    ddb.put_item(TableName=numbers_table, Item={"pk": S("b"), "sk": N(1), "only": {"BOOL": True}})
    return numbers_table


def _sks(items):
    return [int(item["sk"]["N"]) for item in items]


# ----- INSERT ------------------------------------------------------------------------------

def test_insert_literals_of_every_type(ddb, hash_table):
    statement = (f'INSERT INTO "{hash_table}" VALUE {{\'pk\': \'k\', \'s\': \'it\'\'s\', \'n\': -1.50, '
                 "'t': true, 'f': FALSE, 'nul': null, 'l': [1, 'two', [3]], 'm': {'a': {'b': 2}}, "
                 "'ss': <<'b', 'a'>>, 'ns': <<3, 1, 2>>, 'e': 1E3}")
    assert run(ddb, statement)["Items"] == []
    assert _get(ddb, hash_table, {"pk": S("k")}) == {
        "pk": S("k"), "s": S("it's"), "n": N("-1.5"), "t": {"BOOL": True}, "f": {"BOOL": False},
        "nul": {"NULL": True}, "l": {"L": [N(1), S("two"), {"L": [N(3)]}]},
        "m": {"M": {"a": {"M": {"b": N(2)}}}}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2", "3"]},
        "e": N(1000),
    }


def test_insert_with_parameters(ddb, hash_table):
    blob = b"\x00\x01"
    run(ddb, f"insert into \"{hash_table}\" value {{'pk': ?, 'b': ?, 'nested': {{'list': [?, 1]}}, 'set': ?}}",
        S("p"), {"B": blob}, {"BOOL": False}, {"SS": ["x"]})
    assert _get(ddb, hash_table, {"pk": S("p")}) == {
        "pk": S("p"), "b": {"B": b"\x00\x01"}, "nested": {"M": {"list": {"L": [{"BOOL": False}, N(1)]}}},
        "set": {"SS": ["x"]},
    }


def test_insert_existing_key_is_duplicate(ddb, hash_table):
    run(ddb, f"INSERT INTO \"{hash_table}\" VALUE {{'pk': 'k', 'v': 1}}")
    err = expect_error(run, ddb, f"INSERT INTO \"{hash_table}\" VALUE {{'pk': 'k', 'v': 2}}")
    assert_error(err, "DuplicateItemException", "Duplicate primary key exists in table")
    assert _get(ddb, hash_table, {"pk": S("k")}) == {"pk": S("k"), "v": N(1)}


@pytest.mark.parametrize("statement,message", [
    # DynamoDB Local's wording for a key missing from the item or of the wrong type.
    ("INSERT INTO \"{t}\" VALUE {{'v': 1}}", "Key attribute should be present in the item: Key pk"),
    ("INSERT INTO \"{t}\" VALUE {{'pk': 1}}",
     "Key attribute's data type should match its data type in table's schema: Key pk"),
    ("INSERT INTO \"{t}\" VALUE [1]",
     "Unsupported format in item expression. Please use struct format {{...}} to express item values for "
     "insert statement."),
    ("INSERT INTO \"{t}\" VALUE {{'pk': 'a'}} RETURNING ALL NEW *", "RETURNING is not supported in INSERT"),
    ("INSERT INTO \"{t}\" VALUE {{'pk': 'a', 's': <<>>}}", "Empty bags are not supported"),
    ("INSERT INTO \"{t}\" VALUE {{'pk': 'a', 's': <<?>>}}",
     "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags"),
    ("INSERT INTO \"{t}\" VALUE {{'pk': 'a', 'n': 1e126}}",
     "Number overflow. Attempting to store a number with magnitude larger than supported range under root"),
    ("INSERT INTO \"{t}\" t VALUE {{'pk': 'a'}}", NOT_WELL_FORMED + "Unexpected token after expression"),
], ids=["missing-key", "key-type", "not-a-map", "returning", "empty-bag", "parameter-in-bag", "overflow", "alias"])
def test_insert_errors(ddb, hash_table, statement, message):
    err = expect_error(run, ddb, statement.format(t=hash_table), S("x"))
    assert_error(err, "ValidationException", message.replace("{{", "{").replace("}}", "}"))
    assert ddb.scan(TableName=hash_table)["Items"] == []


# ----- SELECT ------------------------------------------------------------------------------

@pytest.mark.parametrize("where,expected", [
    ("pk = 'a'", [1, 2, 3, 4, 5]),
    ("pk = 'a' AND sk = 3", [3]),
    ("pk = 'a' AND sk > 3", [4, 5]),
    ("pk = 'a' AND 3 >= sk", [1, 2, 3]),
    ("pk = 'a' AND sk BETWEEN 2 AND 4", [2, 3, 4]),
    ("pk = 'a' AND sk >= 2 AND sk < 4", [2, 3]),
    ("pk = 'a' AND tag = 'even'", [2, 4]),
    ("pk = 'a' AND (tag = 'even' OR n > 40)", [2, 4, 5]),
    ("pk = 'a' AND NOT tag = 'even'", [1, 3, 5]),
    ("pk = 'a' AND sk IN [1, 5, 7]", [1, 5]),
    ("pk = 'a' AND contains(m.k, 'x') AND size(m.k) = 2 AND m.k[0] < 3", [1, 2]),
    ("pk = 'a' AND attribute_type(n, 'N') AND n <> 30", [1, 2, 4, 5]),
    ("tag IS MISSING", [1]),
    ("\"only\" IS NOT MISSING", [1]),
    ("n >= 40", [4, 5]),
    ("tag = 'odd' OR \"only\" = TRUE", [1, 1, 3, 5]),
    ("\"tag\" IS STRING AND n IS NUMERIC", [1, 2, 3, 4, 5]),
    # PartiQL's rule that a missing attribute IS NULL too (not recorded against DynamoDB).
    ("\"only\" IS NULL", [1, 2, 3, 4, 5]),
    ("\"only\" IS NOT NULL AND \"only\" IS BOOLEAN", [1]),
])
def test_select_where(ddb, table_n, where, expected):
    items = run(ddb, f'SELECT * FROM "{table_n}" WHERE {where}', ConsistentRead=True)["Items"]
    assert sorted(_sks(items)) == sorted(expected)


def test_select_with_parameters_and_projection(ddb, table_n):
    items = run(ddb, f'SELECT sk, m.z, m.k[1], "n", missing_attr FROM "{table_n}" WHERE pk = ? AND sk = ?',
                S("a"), N(2))["Items"]
    assert items == [{"sk": N(2), "z": S("deep"), "k[1]": S("x"), "n": N(20)}]
    items = run(ddb, f'SELECT "only" FROM "{table_n}" WHERE pk = ?', S("a"))["Items"]
    assert items == [{}, {}, {}, {}, {}]


def test_select_without_match(ddb, table_n):
    assert run(ddb, f'SELECT * FROM "{table_n}" WHERE pk = ?', S("none"))["Items"] == []


def test_select_order_by_sort_key(ddb, table_n):
    items = run(ddb, f'SELECT sk FROM "{table_n}" WHERE pk = \'a\' ORDER BY sk DESC')["Items"]
    assert _sks(items) == [5, 4, 3, 2, 1]
    items = run(ddb, f'SELECT sk FROM "{table_n}" WHERE pk = \'a\' AND sk < 3 ORDER BY sk ASC')["Items"]
    assert _sks(items) == [1, 2]


def test_select_statement_forms(ddb, table_factory):
    import uuid
    name = f"partiql_plain_{uuid.uuid4().hex[:8]}"
    table_factory(name=name)
    ddb.put_item(TableName=name, Item={"pk": S("k"), "v": N(1)})
    for statement in [
        f"select * from {name} where pk = 'k'",
        f'SeLeCt * FrOm "{name}" WhErE "pk" = \'k\';',
        f"-- leading comment\nSELECT /* inline */ * FROM {name} WHERE pk = 'k' -- trailing",
        f"SELECT * FROM {name} WHERE pk = 'k' AND v = 1.0",
    ]:
        assert run(ddb, statement)["Items"] == [{"pk": S("k"), "v": N(1)}], statement


def test_select_pages_with_limit_and_next_token(ddb, table_n):
    statement = f'SELECT sk FROM "{table_n}" WHERE n >= 10'
    seen, token, pages = [], None, 0
    while True:
        extra = {"NextToken": token} if token else {}
        page = run(ddb, statement, Limit=2, **extra)
        pages += 1
        seen.extend(_sks(page["Items"]))
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == [1, 2, 3, 4, 5]
    assert pages >= 3
    query = run(ddb, f'SELECT sk FROM "{table_n}" WHERE pk = \'a\'', Limit=3)
    assert _sks(query["Items"]) == [1, 2, 3]
    rest = run(ddb, f'SELECT sk FROM "{table_n}" WHERE pk = \'a\'', Limit=3, NextToken=query["NextToken"])
    assert _sks(rest["Items"]) == [4, 5]
    assert "NextToken" not in rest


def test_next_token_of_another_statement(ddb, table_n):
    token = run(ddb, f'SELECT * FROM "{table_n}"', Limit=1)["NextToken"]
    err = expect_error(run, ddb, f'SELECT sk FROM "{table_n}"', NextToken=token)
    assert_error(err, "ValidationException", "The provided starting key is invalid")
    err = expect_error(run, ddb, f'SELECT * FROM "{table_n}"', NextToken="bm90IGEgdG9rZW4=")
    assert_error(err, "ValidationException", "Invalid NextToken")


def test_select_consumed_capacity(ddb, table_n):
    out = run(ddb, f'SELECT * FROM "{table_n}" WHERE pk = \'a\' AND sk = 1', ReturnConsumedCapacity="TOTAL",
              ConsistentRead=True)
    assert out["ConsumedCapacity"] == {"TableName": table_n, "CapacityUnits": 1.0}


@pytest.mark.parametrize("where,message", [
    ("pk = 1", "Key attribute's data type should match its data type in table's schema: Key pk"),
    ("pk = 'a' AND sk = 'x'", "Key attribute's data type should match its data type in table's schema: Key sk"),
    ("x IS MISSING ORDER BY sk", "Must have at least one non-optional hash key condition in WHERE clause when "
                                 "using ORDER BY clause."),
    ("pk = 'a' ORDER BY n", "Variable reference n in ORDER BY clause must be part of the primary key"),
    ("n = MISSING", "MISSING must be compared using IS operator"),
    ("exists(n)", "EXISTS can only be used in ExecuteTransaction write requests."),
])
def test_select_errors(ddb, table_n, where, message):
    err = expect_error(run, ddb, f'SELECT * FROM "{table_n}" WHERE {where}')
    assert_error(err, "ValidationException", message)


def test_select_unknown_table(ddb):
    err = expect_error(run, ddb, 'SELECT * FROM "no-such-table-partiql" WHERE pk = 1')
    assert_error(err, "ResourceNotFoundException", "Requested resource not found")


def test_select_from_an_index_of_a_table_without_indexes(ddb, table_n):
    # Stratus has no secondary indexes yet; the message is Query/Scan's.
    err = expect_error(run, ddb, f'SELECT * FROM "{table_n}"."by_tag" WHERE tag = \'odd\'')
    assert_error(err, "ValidationException", "The table does not have the specified index: by_tag")


def test_select_duplicate_output_names(ddb, table_n):
    err = expect_error(run, ddb, f'SELECT m.z, z FROM "{table_n}"')
    assert_error(err, "ValidationException", "Duplicate identifiers in select clause: z")


# ----- UPDATE ------------------------------------------------------------------------------

def test_update_set_and_remove(ddb, table_n):
    out = run(ddb, f'UPDATE "{table_n}" SET n = n + 5, tag = ?, m.z = \'new\', m.k[0] = 9 '
                   f'SET added = [1] REMOVE "only" WHERE pk = \'a\' AND sk = 1 RETURNING ALL NEW *', S("t"))
    expected = {"pk": S("a"), "sk": N(1), "n": N(15), "tag": S("t"), "added": {"L": [N(1)]},
                "m": {"M": {"k": {"L": [N(9), S("x")]}, "z": S("new")}}}
    assert out["Items"] == [expected]
    assert _get(ddb, table_n, {"pk": S("a"), "sk": N(1)}) == expected


def test_update_functions(ddb, hash_table):
    key = {"pk": S("k")}
    ddb.put_item(TableName=hash_table, Item={**key, "l": {"L": [N(1)]}, "s": {"SS": ["a", "b"]}, "c": N(1)})
    run(ddb, f'UPDATE "{hash_table}" SET l = list_append(l, [2, 3]), s = set_add(s, <<\'c\'>>), '
             f'c = c - 3, d = if_not_exists(d, 7) WHERE pk = \'k\'')
    got = _get(ddb, hash_table, key)
    assert got["l"] == {"L": [N(1), N(2), N(3)]}
    assert sorted(got["s"]["SS"]) == ["a", "b", "c"]
    assert got["c"] == N(-2) and got["d"] == N(7)
    run(ddb, f'UPDATE "{hash_table}" SET s = set_delete(s, <<\'a\', \'c\'>>) WHERE pk = \'k\'')
    assert _get(ddb, hash_table, key)["s"] == {"SS": ["b"]}


@pytest.mark.parametrize("returning,expected", [
    ("ALL OLD *", [{"pk": S("k"), "data": S("old"), "keep": S("same")}]),
    ("MODIFIED OLD *", [{"data": S("old")}]),
    ("ALL NEW *", [{"pk": S("k"), "data": S("new"), "keep": S("same")}]),
    ("MODIFIED NEW *", [{"data": S("new")}]),
])
def test_update_returning(ddb, hash_table, returning, expected):
    ddb.put_item(TableName=hash_table, Item={"pk": S("k"), "data": S("old"), "keep": S("same")})
    out = run(ddb, f'UPDATE "{hash_table}" SET data = \'new\' WHERE pk = \'k\' RETURNING {returning}')
    assert out["Items"] == expected


def test_update_remove_returning_modified_new_is_empty(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": S("k"), "data": S("old")})
    out = run(ddb, f'UPDATE "{hash_table}" REMOVE data WHERE pk = \'k\' RETURNING MODIFIED NEW *')
    assert out["Items"] == []


def test_update_missing_item_fails(ddb, hash_table):
    err = expect_error(run, ddb, f'UPDATE "{hash_table}" SET v = 1 WHERE pk = \'nope\'')
    assert_error(err, "ConditionalCheckFailedException", "The conditional request failed")
    assert _get(ddb, hash_table, {"pk": S("nope")}) is None


def test_update_with_a_false_predicate(ddb, hash_table):
    item = {"pk": S("k"), "name": S("alpha"), "n": N(5)}
    ddb.put_item(TableName=hash_table, Item=item)
    err = expect_error(run, ddb, f'UPDATE "{hash_table}" SET n = 9 WHERE pk = \'k\' AND "name" = \'beta\'',
                       ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert_error(err, "ConditionalCheckFailedException", "The conditional request failed")
    assert err.response["Item"] == item
    run(ddb, f'UPDATE "{hash_table}" SET n = 9 WHERE pk = \'k\' AND "name" = \'alpha\'')
    assert _get(ddb, hash_table, {"pk": S("k")})["n"] == N(9)


@pytest.mark.parametrize("statement,message", [
    ("UPDATE \"{t}\" SET v = 1 WHERE sk = 1", INCOMPLETE_KEY),
    ("UPDATE \"{t}\" SET v = 1 WHERE pk = 'a'", INCOMPLETE_KEY),
    ("UPDATE \"{t}\" SET v = 1 WHERE pk = 'a' OR sk = 1", INCOMPLETE_KEY),
    ("UPDATE \"{t}\" SET v = 1", INCOMPLETE_KEY),
    ("UPDATE \"{t}\" SET v = 1 WHERE pk = 'a' AND sk = 1 AND pk = 'b'",
     "Multiple conditions on same key pk. Only single item Update/Insert/Delete are supported"),
    ("UPDATE \"{t}\" SET sk = 2 WHERE pk = 'a' AND sk = 1",
     "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key"),
    ("UPDATE \"{t}\" SET s = set_add(other, <<'x'>>) WHERE pk = 'a' AND sk = 1",
     "The first argument to SET_ADD must equal the assignment value"),
    ("UPDATE \"{t}\" SET s = set_add(s, 'x') WHERE pk = 'a' AND sk = 1",
     "The second argument to SET_ADD must be a value with type SET"),
    ("UPDATE \"{t}\" x SET v = 1 WHERE pk = 'a' AND sk = 1", "Aliasing is not supported"),
    ("UPDATE \"{t}\" SET v = 1 WHERE pk = 'a' AND sk = 1 RETURNING ALL OLD",
     "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause"),
])
def test_update_errors(ddb, table_n, statement, message):
    err = expect_error(run, ddb, statement.format(t=table_n))
    assert_error(err, "ValidationException", message)
    assert "v" not in _get(ddb, table_n, {"pk": S("a"), "sk": N(1)})


# ----- DELETE ------------------------------------------------------------------------------

def test_delete(ddb, table_n):
    out = run(ddb, f'DELETE FROM "{table_n}" WHERE pk = \'a\' AND sk = 2 RETURNING ALL OLD *')
    assert _sks(out["Items"]) == [2]
    assert _get(ddb, table_n, {"pk": S("a"), "sk": N(2)}) is None
    assert run(ddb, f'DELETE FROM "{table_n}" WHERE pk = ? AND sk = ?', S("a"), N(3))["Items"] == []
    assert _get(ddb, table_n, {"pk": S("a"), "sk": N(3)}) is None


def test_delete_with_a_single_predicate(ddb, table_n):
    run(ddb, f'DELETE FROM "{table_n}" WHERE pk = \'a\' AND sk = 4 AND gone IS NULL')
    assert _get(ddb, table_n, {"pk": S("a"), "sk": N(4)}) is None


def test_delete_missing_item_is_a_no_op(ddb, table_n):
    out = run(ddb, f'DELETE FROM "{table_n}" WHERE pk = \'zz\' AND sk = 1 AND tag = \'x\' RETURNING ALL OLD *')
    assert out["Items"] == []


def test_delete_with_a_false_predicate(ddb, table_n):
    err = expect_error(run, ddb, f'DELETE FROM "{table_n}" WHERE pk = \'a\' AND sk = 1 AND NOT begins_with(tag, \'o\')')
    assert_error(err, "ConditionalCheckFailedException", "The conditional request failed")
    assert _get(ddb, table_n, {"pk": S("a"), "sk": N(1)}) is not None
    run(ddb, f'DELETE FROM "{table_n}" WHERE pk = \'a\' AND sk = 1 AND begins_with(tag, \'o\')')
    assert _get(ddb, table_n, {"pk": S("a"), "sk": N(1)}) is None


@pytest.mark.parametrize("statement,message", [
    ("DELETE FROM \"{t}\" WHERE pk = 'a'", INCOMPLETE_KEY),
    ("DELETE FROM \"{t}\" WHERE tag = 'odd'", INCOMPLETE_KEY),
    ("DELETE FROM \"{t}\" WHERE pk = 'a' AND sk = 1 RETURNING MODIFIED OLD *",
     "Invalid returning clause: RETURNING MODIFIED OLD *. Only RETURNING ALL OLD * is allowed in DELETE statements."),
    ("DELETE FROM \"{t}\" WHERE pk = 'a' AND sk = 1 RETURNING ALL NEW *",
     "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is allowed in DELETE statements."),
    ("DELETE FROM \"{t}\" t WHERE pk = 'a' AND sk = 1", "Aliasing is not supported"),
])
def test_delete_errors(ddb, table_n, statement, message):
    err = expect_error(run, ddb, statement.format(t=table_n))
    assert_error(err, "ValidationException", message)
    assert _get(ddb, table_n, {"pk": S("a"), "sk": N(1)}) is not None


# ----- syntax and request errors -----------------------------------------------------------

SYNTAX_ERRORS = [
    ("SELECT * FROM \"{t}\" WHERE pk = 'a' foo", NOT_WELL_FORMED + "Unexpected token after expression"),
    ("SELECT * FROM \"{t}\" WHERE pk = 1 e5", NOT_WELL_FORMED + "Unexpected token after expression"),
    ("SELECT * FROM \"{t}\" WHERE pk = 'a')", NOT_WELL_FORMED + "Unexpected token after expression"),
    ("DELETE FROM \"{t}\" WHERE pk = 'a' ORDER BY pk", NOT_WELL_FORMED + "Unexpected token after expression"),
    ("SELECT * FROM \"{t}\" ORDER BY pk WHERE pk = 'a'", NOT_WELL_FORMED + "Unexpected token after expression"),
    ("SELECT * FROM \"{t}\" WHERE", NOT_WELL_FORMED + "Unexpected term"),
    ("SELECT * FROM \"{t}\" WHERE;", NOT_WELL_FORMED + "Unexpected term"),
    ("SELECT * FROM \"{t}\" WHERE NOT", NOT_WELL_FORMED + "Unexpected term"),
    ("SELECT * FROM \"{t}\" WHERE (", NOT_WELL_FORMED + "Unexpected term"),
    ("UPDATE \"{t}\" SET a = 1 WHERE", NOT_WELL_FORMED + "Unexpected term"),
    ("SELECT * FROM", NOT_WELL_FORMED + "Unexpected term"),
    ("SELECT * FROM \"{t}\" WHERE pk = 'p1' AND", NOT_WELL_FORMED + "Missing right-hand side expression of infix operator"),
    ("SELECT * FROM \"{t}\" WHERE pk = 'p1' OR", NOT_WELL_FORMED + "Missing right-hand side expression of infix operator"),
    ("SELECT * FROM \"{t}\" WHERE ORDER BY pk", NOT_WELL_FORMED + "Unexpected keyword"),
    ("SELECT * FROM \"{t}\" WHERE pk = 'a' AND x IS FOO", NOT_WELL_FORMED + "Expected type name"),
    ("SELECT * FROM \"{t}\" WHERE IS NULL", NOT_WELL_FORMED + "Unexpected operator"),
    ("SELECT * FROM \"{t}\" WHERE pk = LIKE", NOT_WELL_FORMED + "Unexpected operator"),
    ("DELETE FROM", NOT_WELL_FORMED + "Expected identifier for simple path"),
    ("DELETE FROM WHERE pk = 'a'", NOT_WELL_FORMED + "Expected identifier for simple path"),
    ("SELECT * FROM \"{t}\" WHERE pk = 1 # note", NOT_WELL_FORMED),
    ("SELECT * FROM \"{t}\" WHERE pk = 1 /* note", NOT_WELL_FORMED),
    ("SELECT * FROM \"{t}\" WHERE pk = 1e2147483648", NOT_WELL_FORMED),
    ("SELECT * FROM \"{t}\" x WHERE pk = 'x'", "Aliasing is not supported"),
    ("SELECT * FROM \"{t}\" AS x WHERE pk = 'x'", "Aliasing is not supported"),
    ("SELECT * FROM \"{t}\" WHERE pk = 1e-131",
     "Number underflow. Attempting to store a number with magnitude smaller than supported range under root"),
    ("SELECT * FROM \"{t}\" WHERE pk = 123456789012345678901234567890123456789",
     "Attempting to store more than 38 significant digits in a Number under root"),
    ("SELECT * FROM \"{t}\" WHERE pad = 'none'", NOT_WELL_FORMED + "Unexpected keyword"),
    ("SELECT * FROM \"{t}\" LIMIT 5", "Unsupported clause: LIMIT"),
    ("SELECT *, pk FROM \"{t}\"", "Other attributes should not be present in the projection when '*' is used."),
    # Stratus's wording: AWS was not recorded for these.
    ("SLECT * FROM \"{t}\"", NOT_WELL_FORMED + "Expected data manipulation"),
]


@pytest.mark.parametrize("statement,message", [pytest.param(s, m, id=f"{i}") for i, (s, m) in enumerate(SYNTAX_ERRORS)])
def test_syntax_errors(ddb, hash_table, statement, message):
    err = expect_error(run, ddb, statement.format(t=hash_table))
    assert_error(err, "ValidationException", message)


def test_too_few_parameters(ddb, hash_table):
    err = expect_error(run, ddb, f'UPDATE "{hash_table}" SET a = ?, b = ? WHERE pk = ?', S("1"), S("2"))
    assert_error(err, "ValidationException", "Number of parameters in request and statement don't match.")
    # Extra parameters are accepted.
    run(ddb, f'INSERT INTO "{hash_table}" VALUE {{\'pk\': ?}}', S("x"), S("unused"))


@pytest.mark.parametrize("request_members,message", [
    pytest.param({"Statement": ""}, "1 validation error detected: Value '' at 'statement' failed to satisfy "
                                    "constraint: Member must have length greater than or equal to 1", id="empty"),
    pytest.param({"Statement": "SELECT * FROM x", "Limit": 0},
                 "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
                 "Member must have value greater than or equal to 1", id="limit"),
    pytest.param({"Statement": "SELECT * FROM x", "Parameters": []},
                 "1 validation error detected: Value '[]' at 'parameters' failed to satisfy constraint: "
                 "Member must have length greater than or equal to 1", id="no-parameters"),
    pytest.param({}, "1 validation error detected: Value null at 'statement' failed to satisfy constraint: "
                     "Member must not be null", id="missing"),
])
def test_request_validation(ddb_raw, request_members, message):
    err = expect_error(ddb_raw.execute_statement, **request_members)
    assert_error(err, "ValidationException", message)


# ----- BatchExecuteStatement ---------------------------------------------------------------

def test_batch_reads(ddb, table_n):
    responses = ddb.batch_execute_statement(Statements=[
        {"Statement": f'SELECT sk, tag FROM "{table_n}" WHERE pk = ? AND sk = ?', "Parameters": [S("a"), N(2)]},
        {"Statement": f'SELECT * FROM "{table_n}" WHERE pk = \'a\' AND sk = 99'},
        {"Statement": f'SELECT * FROM "{table_n}" WHERE pk = \'a\''},
        {"Statement": 'SELECT * FROM "no-such-table-batch" WHERE pk = \'a\' AND sk = 1'},
        {"Statement": f'SELECT * FROM "{table_n}" WHERE'},
        {"Statement": f'SELECT "only" FROM "{table_n}" WHERE pk = \'b\' AND sk = 1 AND "only" = TRUE',
         "ConsistentRead": True},
        {"Statement": f'SELECT "only" FROM "{table_n}" WHERE pk = \'b\' AND sk = 1 AND "only" = FALSE'},
    ])["Responses"]
    assert responses == [
        {"TableName": table_n, "Item": {"sk": N(2), "tag": S("even")}},
        {"TableName": table_n},
        {"TableName": table_n, "Error": {
            "Code": "ValidationError",
            "Message": "Select statements within BatchExecuteStatement must specify the primary key in the "
                       "where clause."}},
        {"Error": {"Code": "ResourceNotFound", "Message": "Requested resource not found"}},
        {"Error": {"Code": "ValidationError", "Message": NOT_WELL_FORMED + "Unexpected term"}},
        {"TableName": table_n, "Item": {"only": {"BOOL": True}}},
        {"TableName": table_n},
    ]


def test_batch_writes(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": S("old"), "v": N(1)})
    ddb.put_item(TableName=hash_table, Item={"pk": S("gone"), "v": N(1)})
    responses = ddb.batch_execute_statement(Statements=[
        {"Statement": f'INSERT INTO "{hash_table}" VALUE {{\'pk\': ?, \'v\': 1}}', "Parameters": [S("new")]},
        {"Statement": f'INSERT INTO "{hash_table}" VALUE {{\'pk\': \'old\'}}'},
        {"Statement": f'UPDATE "{hash_table}" SET v = v + 1 WHERE pk = \'old\''},
        {"Statement": f'UPDATE "{hash_table}" SET v = 1 WHERE pk = \'missing\'',
         "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
        {"Statement": f'UPDATE "{hash_table}" SET v = 1 WHERE pk = \'old\' AND v = 100',
         "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
        {"Statement": f'DELETE FROM "{hash_table}" WHERE pk = \'gone\''},
        {"Statement": f'UPDATE "{hash_table}" SET a = ?, b = ? WHERE pk = ?', "Parameters": [S("1")]},
    ])["Responses"]
    assert responses == [
        {"TableName": hash_table},
        {"TableName": hash_table, "Error": {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}},
        {"TableName": hash_table},
        {"TableName": hash_table, "Error": {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}},
        {"TableName": hash_table, "Error": {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
                                            "Item": {"pk": S("old"), "v": N(2)}}},
        {"TableName": hash_table},
        {"Error": {"Code": "ValidationError", "Message": "Number of parameters in request and statement don't match."}},
    ]
    items = {item["pk"]["S"]: item for item in ddb.scan(TableName=hash_table)["Items"]}
    assert items == {"new": {"pk": S("new"), "v": N(1)}, "old": {"pk": S("old"), "v": N(2)}}


def test_batch_of_reads_and_writes_is_refused(ddb, hash_table):
    err = expect_error(ddb.batch_execute_statement, Statements=[
        {"Statement": f'SELECT * FROM "{hash_table}" WHERE pk = \'a\''},
        {"Statement": f'INSERT INTO "{hash_table}" VALUE {{\'pk\': \'a\'}}'},
    ])
    assert_error(err, "ValidationException", "Read and write requests together in the same batch is not supported.")
    assert ddb.scan(TableName=hash_table)["Items"] == []


def test_batch_limits(ddb_raw, hash_table):
    statement = {"Statement": f'SELECT * FROM "{hash_table}" WHERE pk = \'a\''}
    err = expect_error(ddb_raw.batch_execute_statement, Statements=[statement] * 26)
    assert_error(err, "ValidationException")
    message = err.response["Error"]["Message"]
    # How AWS renders the statements in this message is not recorded; the constraint is.
    assert message.startswith("1 validation error detected: Value '[BatchStatementRequest(statement=")
    assert message.endswith("' at 'statements' failed to satisfy constraint: "
                            "Member must have length less than or equal to 25")
    err = expect_error(ddb_raw.batch_execute_statement, Statements=[])
    assert_error(err, "ValidationException", "1 validation error detected: Value '[]' at 'statements' failed to "
                                             "satisfy constraint: Member must have length greater than or equal to 1")


def test_batch_consumed_capacity(ddb, table_n):
    out = ddb.batch_execute_statement(ReturnConsumedCapacity="TOTAL", Statements=[
        {"Statement": f'SELECT * FROM "{table_n}" WHERE pk = \'a\' AND sk = 1', "ConsistentRead": True},
        {"Statement": f'SELECT * FROM "{table_n}" WHERE pk = \'a\' AND sk = 2', "ConsistentRead": True},
    ])
    assert out["ConsumedCapacity"] == [{"TableName": table_n, "CapacityUnits": 2.0}]


# ----- ExecuteTransaction ------------------------------------------------------------------

def test_transaction_of_writes(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": S("counter"), "n": N(1)})
    ddb.put_item(TableName=hash_table, Item={"pk": S("gone"), "n": N(1)})
    ddb.put_item(TableName=hash_table, Item={"pk": S("guard"), "n": N(1)})
    out = ddb.execute_transaction(TransactStatements=[
        {"Statement": f'INSERT INTO "{hash_table}" VALUE {{\'pk\': ?, \'n\': 0}}', "Parameters": [S("new")]},
        {"Statement": f'UPDATE "{hash_table}" SET n = n + 1 WHERE pk = \'counter\''},
        {"Statement": f'DELETE FROM "{hash_table}" WHERE pk = \'gone\''},
        {"Statement": f'EXISTS(SELECT * FROM "{hash_table}" WHERE pk = \'guard\' AND n = 1)'},
    ], ReturnConsumedCapacity="TOTAL")
    assert "Responses" not in out
    assert out["ConsumedCapacity"][0]["TableName"] == hash_table
    items = {item["pk"]["S"]: item for item in ddb.scan(TableName=hash_table)["Items"]}
    assert items == {"new": {"pk": S("new"), "n": N(0)}, "counter": {"pk": S("counter"), "n": N(2)},
                     "guard": {"pk": S("guard"), "n": N(1)}}


def test_transaction_is_all_or_nothing(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": S("old"), "n": N(1)})
    ddb.put_item(TableName=hash_table, Item={"pk": S("guard"), "n": N(1)})
    err = expect_error(ddb.execute_transaction, TransactStatements=[
        {"Statement": f'INSERT INTO "{hash_table}" VALUE {{\'pk\': \'first\'}}'},
        {"Statement": f'UPDATE "{hash_table}" SET n = 5 WHERE pk = \'missing\''},
        {"Statement": f'INSERT INTO "{hash_table}" VALUE {{\'pk\': \'old\'}}'},
        {"Statement": f'EXISTS(SELECT * FROM "{hash_table}" WHERE pk = \'guard\' AND n = 9)',
         "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
    ])
    assert_error(err, "TransactionCanceledException",
                 "Transaction cancelled, please refer cancellation reasons for specific reasons "
                 "[None, ConditionalCheckFailed, DuplicateItem, ConditionalCheckFailed]")
    assert err.response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
        {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
         "Item": {"pk": S("guard"), "n": N(1)}},
    ]
    items = sorted(ddb.scan(TableName=hash_table)["Items"], key=lambda item: item["pk"]["S"])
    assert items == [{"pk": S("guard"), "n": N(1)}, {"pk": S("old"), "n": N(1)}]


def test_transaction_of_reads(ddb, table_n):
    out = ddb.execute_transaction(TransactStatements=[
        {"Statement": f'SELECT sk, n FROM "{table_n}" WHERE pk = ? AND sk = ?', "Parameters": [S("a"), N(3)]},
        {"Statement": f'SELECT * FROM "{table_n}" WHERE pk = \'a\' AND sk = 42'},
        {"Statement": f'SELECT "only" FROM "{table_n}" WHERE pk = \'b\' AND sk = 1 AND "only" = TRUE'},
    ])
    assert out["Responses"] == [{"Item": {"sk": N(3), "n": N(30)}}, {}, {"Item": {"only": {"BOOL": True}}}]


def test_transaction_token_runs_once(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": S("c"), "n": N(0)})
    request = {"TransactStatements": [{"Statement": f'UPDATE "{hash_table}" SET n = n + 1 WHERE pk = \'c\''}],
               "ClientRequestToken": "token-partiql-1"}
    ddb.execute_transaction(**request)
    ddb.execute_transaction(**request)
    assert _get(ddb, hash_table, {"pk": S("c")})["n"] == N(1)
    err = expect_error(ddb.execute_transaction, ClientRequestToken="token-partiql-1", TransactStatements=[
        {"Statement": f'UPDATE "{hash_table}" SET n = n + 2 WHERE pk = \'c\''}])
    assert_error(err, "IdempotentParameterMismatchException")


@pytest.mark.parametrize("statements,message", [
    ([f'SELECT * FROM "{{t}}" WHERE pk = \'a\' AND sk = 1', f'INSERT INTO "{{t}}" VALUE {{{{\'pk\': \'x\', \'sk\': 1}}}}'],
     "ExecuteTransaction API does not support both read and write operations in the same request."),
    (['SELECT * FROM "{t}" WHERE'],
     "Validation failed in TransactStatements[0]: " + NOT_WELL_FORMED + "Unexpected term"),
    (['SELECT * FROM "{t}" WHERE pk = \'a\' AND sk = 1', 'SELECT * FROM "{t}" WHERE pk = \'a\''],
     "Validation failed in TransactStatements[1]: Select statements within ExecuteTransaction must specify the "
     "primary key in the where clause."),
    (['UPDATE "{t}" SET v = 1 WHERE pk = \'a\''], "Validation failed in TransactStatements[0]: " + INCOMPLETE_KEY),
    (['EXISTS(SELECT * FROM "{t}" WHERE pk = \'a\' AND sk = 1)'],
     "Validation failed in TransactStatements[0]: EXISTS() must contain a single item read with additional condition"),
], ids=["mixed", "syntax", "read-without-key", "update-without-key", "exists-without-condition"])
def test_transaction_errors(ddb, table_n, statements, message):
    err = expect_error(ddb.execute_transaction,
                       TransactStatements=[{"Statement": s.format(t=table_n)} for s in statements])
    assert_error(err, "ValidationException", message)


def test_exists_outside_a_transaction(ddb, table_n):
    err = expect_error(run, ddb, f'EXISTS(SELECT * FROM "{table_n}" WHERE pk = \'a\' AND sk = 1 AND n = 10)')
    assert_error(err, "ValidationException", "EXISTS can only be used in ExecuteTransaction write requests.")


# ----- secondary indexes -------------------------------------------------------------------

def test_select_from_an_index(ddb, gsi_table):
    items = run(ddb, f'SELECT pk, n FROM "{gsi_table}"."by_tag" WHERE tag = \'odd\' ORDER BY n DESC')["Items"]
    assert items == [{"pk": S("p3"), "n": N(3)}, {"pk": S("p1"), "n": N(1)}]
    items = run(ddb, f'SELECT pk FROM "{gsi_table}"."by_tag" WHERE tag = \'even\' AND n > 2')["Items"]
    assert items == [{"pk": S("p4")}]
    items = run(ddb, f'SELECT pk FROM "{gsi_table}"."by_tag" WHERE n >= 3')["Items"]
    assert sorted(item["pk"]["S"] for item in items) == ["p3", "p4"]
