//! Item collection tests: the per-partition size counters checked against a recount of the
//! table's items and local index entries after every kind of write (put, update, delete,
//! batches, transactions, TTL deletions, index builds, tables written before counters existed),
//! and the 10 GB limit (lowered) refusing writes whole.

use std::collections::BTreeMap;

use stratus_storage::{Store, write};

use super::tests::{block_on, engine_over, new_engine, s};
use super::*;
use crate::error::CancellationReason;
use crate::index::IndexInput;
use crate::table::{BillingMode, IndexUpdate};

fn index_input(name: &str, range: &str, projection: &str, non_key: Option<&[&str]>) -> IndexInput {
    IndexInput {
        name: name.to_string(),
        key_schema: vec![
            ("pk".to_string(), "HASH".to_string()),
            (range.to_string(), "RANGE".to_string()),
        ],
        projection_type: Some(projection.to_string()),
        non_key_attributes: non_key.map(|names| names.iter().map(|n| n.to_string()).collect()),
        throughput: None,
    }
}

/// `pk`/`sk` with three local indexes (ALL on `lsk`, KEYS_ONLY on `lk2`, INCLUDE `a` on `lsk`)
/// and a global one on `grp`, which item collections leave out.
fn create_indexed(engine: &Engine, name: &str) {
    block_on(
        engine.create_table(CreateTableInput {
            table_name: name.to_string(),
            attribute_definitions: ["pk", "sk", "lsk", "lk2", "grp"]
                .iter()
                .map(|n| (n.to_string(), ScalarType::S))
                .collect(),
            key_schema: vec![
                ("pk".to_string(), "HASH".to_string()),
                ("sk".to_string(), "RANGE".to_string()),
            ],
            billing_mode: Some(BillingMode::PayPerRequest),
            local_indexes: Some(vec![
                index_input("lAll", "lsk", "ALL", None),
                index_input("lKeys", "lk2", "KEYS_ONLY", None),
                index_input("lIncl", "lsk", "INCLUDE", Some(&["a"])),
            ]),
            global_indexes: Some(vec![IndexInput {
                name: "gGrp".to_string(),
                key_schema: vec![("grp".to_string(), "HASH".to_string())],
                projection_type: Some("ALL".to_string()),
                ..IndexInput::default()
            }]),
            ..CreateTableInput::default()
        }),
    )
    .expect("create the indexed table");
}

fn create_plain(engine: &Engine, name: &str) {
    block_on(engine.create_table(CreateTableInput {
        table_name: name.to_string(),
        attribute_definitions: vec![("pk".to_string(), ScalarType::S), ("sk".to_string(), ScalarType::S)],
        key_schema: vec![
            ("pk".to_string(), "HASH".to_string()),
            ("sk".to_string(), "RANGE".to_string()),
        ],
        billing_mode: Some(BillingMode::PayPerRequest),
        ..CreateTableInput::default()
    }))
    .expect("create the plain table");
}

fn row(pk: &str, sk: &str, extra: &[(&str, &str)]) -> Item {
    let mut item: Item = [("pk", pk), ("sk", sk)]
        .iter()
        .map(|(n, v)| (n.to_string(), s(v)))
        .collect();
    item.extend(extra.iter().map(|(n, v)| (n.to_string(), s(v))));
    item
}

fn key(pk: &str, sk: &str) -> Item {
    row(pk, sk, &[])
}

fn put(engine: &Arc<Engine>, table: &str, item: Item) -> Result<WriteOutput, Error> {
    block_on(engine.put_item(PutItemInput {
        table_name: table.to_string(),
        item,
        ..PutItemInput::default()
    }))
}

fn update(engine: &Arc<Engine>, table: &str, key: Item, expression: &str, values: &[(&str, &str)]) -> WriteOutput {
    let values: HashMap<String, AttributeValue> = values.iter().map(|(k, v)| (k.to_string(), s(v))).collect();
    block_on(engine.update_item(UpdateItemInput {
        table_name: table.to_string(),
        key,
        update_expression: Some(expression.to_string()),
        expressions: Expressions {
            names: None,
            values: (!values.is_empty()).then_some(values),
        },
        ..UpdateItemInput::default()
    }))
    .expect("update")
}

fn delete(engine: &Arc<Engine>, table: &str, key: Item) -> WriteOutput {
    block_on(engine.delete_item(DeleteItemInput {
        table_name: table.to_string(),
        key,
        ..DeleteItemInput::default()
    }))
    .expect("delete")
}

fn partition(pk: &str) -> Vec<u8> {
    key::partition_prefix(&s(pk)).expect("a partition")
}

fn scan_space(store: &Arc<dyn Store>, space: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut entries = Vec::new();
    store
        .scan(space, KeyRange::all(), false, &mut |key, value| {
            entries.push((key.to_vec(), value.to_vec()));
            ControlFlow::Continue(())
        })
        .expect("scan");
    entries
}

/// The stored counters of a table, by partition prefix.
fn counters(engine: &Engine, store: &Arc<dyn Store>, table: &str) -> BTreeMap<Vec<u8>, u64> {
    let table = engine.table(table).expect("table");
    scan_space(store, &table.collections_space())
        .into_iter()
        .map(|(key, value)| {
            let bytes: [u8; 8] = value.as_slice().try_into().expect("an 8-byte counter");
            (key, u64::from_be_bytes(bytes))
        })
        .collect()
}

/// The collections' sizes counted afresh from what is stored: every item of the table and every
/// entry of its local indexes, by the partition they belong to.
fn recount(engine: &Engine, store: &Arc<dyn Store>, table: &str) -> BTreeMap<Vec<u8>, u64> {
    let table = engine.table(table).expect("table");
    let mut sizes: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    let spaces = std::iter::once(table.space.clone()).chain(table.definition.local_indexes.iter().map(|i| i.space()));
    for space in spaces {
        for (_, value) in scan_space(store, &space) {
            let item = decode_item(&value).expect("decode");
            let pk = item.get("pk").expect("every entry holds the partition key");
            let prefix = key::partition_prefix(pk).expect("a partition");
            *sizes.entry(prefix).or_default() += item_size_bytes(&item) as u64;
        }
    }
    sizes
}

/// The counters are exactly the recount, and add up to the table's size plus its local
/// indexes' sizes as DescribeTable reports them.
fn assert_exact(engine: &Engine, store: &Arc<dyn Store>, table: &str) {
    let counted = counters(engine, store, table);
    assert_eq!(
        counted,
        recount(engine, store, table),
        "counters match the stored items of {table}"
    );
    let described = engine.describe_table(table).expect("describe");
    let local: i64 = described
        .indexes
        .iter()
        .filter(|i| i.definition.kind == IndexKind::Local)
        .map(|i| i.size_bytes)
        .sum();
    let total: u64 = counted.values().sum();
    assert_eq!(total as i64, described.size_bytes + local);
}

fn collection_of(output: &WriteOutput) -> (Item, u64) {
    let metrics = output.item_collection.clone().expect("ItemCollectionMetrics");
    (metrics.key, metrics.size_bytes)
}

fn pk_key(pk: &str) -> Item {
    Item::from([("pk".to_string(), s(pk))])
}

#[test]
fn counters_follow_puts_updates_and_deletes() {
    let (engine, store, _) = new_engine();
    create_indexed(&engine, "t");
    // In all three local indexes, in the global one too.
    let first = put(
        &engine,
        "t",
        row(
            "p1",
            "s1",
            &[("lsk", "x"), ("lk2", "y"), ("a", "A"), ("b", "B"), ("grp", "g")],
        ),
    )
    .expect("put");
    let expected = |pk: &str| recount(&engine, &store, "t").get(&partition(pk)).copied().unwrap_or(0);
    assert_eq!(collection_of(&first), (pk_key("p1"), expected("p1")));
    assert_exact(&engine, &store, "t");
    // In no local index (sparse): only the item counts.
    let second = put(&engine, "t", row("p1", "s2", &[("b", "B"), ("grp", "g")])).expect("put");
    assert_eq!(second.item_collection.map(|m| m.size_bytes), Some(expected("p1")));
    put(&engine, "t", row("p2", "s1", &[("lsk", "x")])).expect("put");
    assert_exact(&engine, &store, "t");

    // Into one local index, out of another, a projected attribute changed, one not projected.
    update(&engine, "t", key("p1", "s2"), "SET lsk = :v", &[(":v", "new")]);
    assert_exact(&engine, &store, "t");
    update(&engine, "t", key("p1", "s1"), "REMOVE lk2", &[]);
    assert_exact(&engine, &store, "t");
    update(&engine, "t", key("p1", "s1"), "SET a = :v", &[(":v", "a longer value")]);
    assert_exact(&engine, &store, "t");
    // The global index's key, one byte longer: the item and its entry in the ALL local index
    // grow; the INCLUDE one does not hold it and the global index does not count.
    let before = expected("p1");
    let changed = update(&engine, "t", key("p1", "s2"), "SET grp = :v", &[(":v", "gg")]);
    assert_eq!(collection_of(&changed).1, before + 2);
    assert_exact(&engine, &store, "t");
    // An upsert creates an item.
    update(&engine, "t", key("p3", "s1"), "SET lsk = :v", &[(":v", "z")]);
    assert_exact(&engine, &store, "t");

    // A delete of a missing item reports the collection as it is.
    let missing = delete(&engine, "t", key("p1", "nope"));
    assert_eq!(collection_of(&missing), (pk_key("p1"), expected("p1")));
    let deleted = delete(&engine, "t", key("p1", "s1"));
    assert_eq!(collection_of(&deleted).1, expected("p1"));
    assert_exact(&engine, &store, "t");
    let emptied = delete(&engine, "t", key("p1", "s2"));
    assert_eq!(collection_of(&emptied), (pk_key("p1"), 0));
    assert!(
        !counters(&engine, &store, "t").contains_key(&partition("p1")),
        "an emptied collection leaves no counter"
    );
    assert_exact(&engine, &store, "t");
}

#[test]
fn tables_without_local_indexes_have_no_collections() {
    let (engine, store, _) = new_engine();
    create_plain(&engine, "plain");
    let output = put(&engine, "plain", row("p", "s", &[("a", "A")])).expect("put");
    assert_eq!(output.item_collection, None);
    assert_eq!(delete(&engine, "plain", key("p", "s")).item_collection, None);
    assert!(counters(&engine, &store, "plain").is_empty());
}

#[test]
fn a_write_that_would_grow_a_collection_past_the_limit_fails_and_writes_nothing() {
    let (engine, store, _) = new_engine();
    create_indexed(&engine, "t");
    assert_eq!(engine.item_collection_bytes_max(), ITEM_COLLECTION_BYTES_MAX);
    let first = row("p1", "s1", &[("lsk", "x"), ("a", "0123456789")]);
    let size = collection_of(&put(&engine, "t", first).expect("put")).1;
    // Room for exactly one more item of the same size.
    engine.set_item_collection_bytes_max(2 * size);
    put(&engine, "t", row("p1", "s2", &[("lsk", "x"), ("a", "0123456789")])).expect("fills it exactly");
    let counted = counters(&engine, &store, "t");
    let described = engine.describe_table("t").expect("describe");

    let refused = put(&engine, "t", row("p1", "s3", &[("lsk", "x")]));
    assert_eq!(refused.err(), Some(Error::ItemCollectionSizeLimitExceeded));
    assert_eq!(
        Error::ItemCollectionSizeLimitExceeded.message(),
        "Collection size exceeded."
    );
    let grown = block_on(engine.update_item(UpdateItemInput {
        table_name: "t".to_string(),
        key: key("p1", "s1"),
        update_expression: Some("SET a = :v".to_string()),
        expressions: Expressions {
            names: None,
            values: Some(HashMap::from([(":v".to_string(), s("01234567890"))])),
        },
        ..UpdateItemInput::default()
    }));
    assert_eq!(grown.err(), Some(Error::ItemCollectionSizeLimitExceeded));
    // Nothing written: the item, the counters, the figures.
    let fetched = engine
        .get_item(GetItemInput {
            table_name: "t".to_string(),
            key: key("p1", "s3"),
            ..GetItemInput::default()
        })
        .expect("get");
    assert_eq!(fetched.item, None);
    assert_eq!(counters(&engine, &store, "t"), counted);
    let after = engine.describe_table("t").expect("describe");
    assert_eq!(
        (after.item_count, after.size_bytes),
        (described.item_count, described.size_bytes)
    );

    // Other collections have their own room.
    put(&engine, "t", row("p2", "s1", &[("lsk", "x")])).expect("another partition");
    // Writes that keep or shrink a collection are allowed, even above the limit.
    engine.set_item_collection_bytes_max(size);
    update(&engine, "t", key("p1", "s1"), "SET a = :v", &[(":v", "9876543210")]);
    update(&engine, "t", key("p1", "s1"), "SET a = :v", &[(":v", "short")]);
    delete(&engine, "t", key("p1", "s2"));
    assert_exact(&engine, &store, "t");
}

#[test]
fn batch_writes_are_checked_whole_before_any_is_applied() {
    let (engine, store, _) = new_engine();
    create_indexed(&engine, "t");
    create_plain(&engine, "plain");
    let size = collection_of(&put(&engine, "t", row("p1", "s0", &[("lsk", "x")])).expect("put")).1;
    engine.set_item_collection_bytes_max(3 * size);
    let same = |sk: &str| WriteRequest::Put(row("p1", sk, &[("lsk", "x")]));
    // The plain table's write and the first two into p1 fit; the third does not.
    let refused = block_on(engine.batch_write_item(vec![
        ("plain".to_string(), vec![WriteRequest::Put(row("q", "s", &[]))]),
        (
            "t".to_string(),
            vec![
                WriteRequest::Put(row("p2", "s1", &[])),
                same("s1"),
                same("s2"),
                same("s3"),
            ],
        ),
    ]));
    assert_eq!(refused.err(), Some(Error::ItemCollectionSizeLimitExceeded));
    assert_eq!(engine.describe_table("plain").expect("describe").item_count, 0);
    assert_eq!(engine.describe_table("t").expect("describe").item_count, 1);
    assert_exact(&engine, &store, "t");

    // A delete in the same batch makes room for the writes after it.
    let output = block_on(engine.batch_write_item(vec![
        ("plain".to_string(), vec![WriteRequest::Put(row("q", "s", &[]))]),
        (
            "t".to_string(),
            vec![
                WriteRequest::Delete(key("p1", "s0")),
                same("s1"),
                same("s2"),
                same("s3"),
                WriteRequest::Put(row("p2", "s1", &[("a", "A")])),
                WriteRequest::Delete(key("p3", "missing")),
            ],
        ),
    ]))
    .expect("the batch fits");
    let totals = recount(&engine, &store, "t");
    let size_of = |pk: &str| totals.get(&partition(pk)).copied().unwrap_or(0);
    assert_eq!(
        output.item_collections,
        vec![(
            "t".to_string(),
            vec![
                ItemCollectionMetrics {
                    key: pk_key("p1"),
                    size_bytes: size_of("p1"),
                },
                ItemCollectionMetrics {
                    key: pk_key("p2"),
                    size_bytes: size_of("p2"),
                },
                ItemCollectionMetrics {
                    key: pk_key("p3"),
                    size_bytes: 0,
                },
            ],
        )],
        "each collection once, at its size after the batch; the plain table has none"
    );
    assert_eq!(size_of("p1"), 3 * size);
    assert_exact(&engine, &store, "t");
}

fn transact_put(table: &str, item: Item) -> TransactWriteItem {
    TransactWriteItem {
        table_name: table.to_string(),
        action: TransactAction::Put { item },
        condition_expression: None,
        expressions: Expressions::default(),
        return_old_on_condition_failure: false,
    }
}

#[test]
fn transactions_cancel_on_the_limit_and_report_the_collections_they_wrote() {
    let (engine, store, _) = new_engine();
    create_indexed(&engine, "t");
    let size = collection_of(&put(&engine, "t", row("p1", "s0", &[("lsk", "x")])).expect("put")).1;
    engine.set_item_collection_bytes_max(2 * size);
    let refused = block_on(engine.transact_write_items(
        vec![
            transact_put("t", row("p1", "s1", &[("lsk", "x")])),
            transact_put("t", row("p1", "s2", &[("lsk", "x")])),
        ],
        None,
        0,
    ));
    let none = CancellationReason {
        code: "None".to_string(),
        message: None,
        item: None,
    };
    let exceeded = CancellationReason {
        code: "ItemCollectionSizeLimitExceeded".to_string(),
        message: Some("Collection size exceeded.".to_string()),
        item: None,
    };
    assert_eq!(
        refused.err(),
        Some(Error::TransactionCanceled {
            reasons: vec![none, exceeded],
        })
    );
    assert_eq!(engine.describe_table("t").expect("describe").item_count, 1);
    assert_exact(&engine, &store, "t");

    let writes = vec![
        transact_put("t", row("p1", "s1", &[("lsk", "x")])),
        TransactWriteItem {
            table_name: "t".to_string(),
            action: TransactAction::Update {
                key: key("p2", "s1"),
                update_expression: "SET lsk = :v".to_string(),
            },
            condition_expression: None,
            expressions: Expressions {
                names: None,
                values: Some(HashMap::from([(":v".to_string(), s("y"))])),
            },
            return_old_on_condition_failure: false,
        },
        TransactWriteItem {
            table_name: "t".to_string(),
            action: TransactAction::ConditionCheck { key: key("p4", "s1") },
            condition_expression: Some("attribute_not_exists(pk)".to_string()),
            expressions: Expressions::default(),
            return_old_on_condition_failure: false,
        },
    ];
    let output = block_on(engine.transact_write_items(writes.clone(), Some("token".to_string()), 7))
        .expect("the transaction fits");
    let totals = recount(&engine, &store, "t");
    let expected = vec![(
        "t".to_string(),
        vec![
            ItemCollectionMetrics {
                key: pk_key("p1"),
                size_bytes: totals[&partition("p1")],
            },
            ItemCollectionMetrics {
                key: pk_key("p2"),
                size_bytes: totals[&partition("p2")],
            },
        ],
    )];
    assert_eq!(
        output.item_collections, expected,
        "a ConditionCheck writes no collection"
    );
    assert_exact(&engine, &store, "t");
    // A retry with the same token reports what the transaction did.
    let again = block_on(engine.transact_write_items(writes, Some("token".to_string()), 7)).expect("retry");
    assert_eq!(again.item_collections, expected);
}

#[test]
fn ttl_deletions_take_items_out_of_their_collection() {
    let (engine, store, clock) = new_engine();
    create_indexed(&engine, "t");
    block_on(engine.update_time_to_live("t", true, "expires")).expect("enable TTL");
    let now_seconds = clock.0.load(std::sync::atomic::Ordering::SeqCst) / 1000;
    let mut expiring = row("p1", "s1", &[("lsk", "x")]);
    expiring.insert(
        "expires".to_string(),
        AttributeValue::N(crate::number::Number::parse(&(now_seconds - 10).to_string()).expect("a number")),
    );
    put(&engine, "t", expiring).expect("put");
    put(&engine, "t", row("p1", "s2", &[("lsk", "x")])).expect("put");
    assert_exact(&engine, &store, "t");
    assert_eq!(block_on(engine.sweep_expired(0)).expect("sweep"), 1);
    assert_eq!(engine.describe_table("t").expect("describe").item_count, 1);
    assert_exact(&engine, &store, "t");
}

#[test]
fn collections_without_counters_are_measured_from_their_items() {
    let (engine, store, clock) = new_engine();
    create_indexed(&engine, "t");
    for sk in ["s1", "s2", "s3"] {
        put(&engine, "t", row("p1", sk, &[("lsk", sk), ("a", "A")])).expect("put");
    }
    put(&engine, "t", row("p2", "s1", &[("lsk", "x")])).expect("put");
    let before = recount(&engine, &store, "t");
    // As a table written before Stratus kept counters: no counters at all.
    let space = engine.table("t").expect("table").collections_space();
    block_on(write(&store, move |txn| txn.drop_space(&space))).expect("drop the counters");
    assert!(counters(&engine, &store, "t").is_empty());

    let engine = engine_over(&store, &clock);
    // Two bytes more in the item and in its entry in the ALL local index.
    let output = update(&engine, "t", key("p1", "s1"), "SET b = :v", &[(":v", "B")]);
    assert_eq!(collection_of(&output).1, before[&partition("p1")] + 4);
    // A delete of a missing item reports the measured size and writes nothing.
    let unchanged = delete(&engine, "t", key("p2", "missing"));
    assert_eq!(collection_of(&unchanged).1, before[&partition("p2")]);
    assert!(!counters(&engine, &store, "t").contains_key(&partition("p2")));
    update(&engine, "t", key("p2", "s1"), "SET b = :v", &[(":v", "B")]);
    assert_exact(&engine, &store, "t");
    // The limit holds against the measured size too.
    engine.set_item_collection_bytes_max(before[&partition("p2")]);
    let refused = put(&engine, "t", row("p2", "s2", &[]));
    assert_eq!(refused.err(), Some(Error::ItemCollectionSizeLimitExceeded));
}

#[test]
fn global_index_builds_leave_collections_alone_and_delete_table_drops_them() {
    let (engine, store, _) = new_engine();
    create_indexed(&engine, "t");
    for sk in ["s1", "s2"] {
        put(&engine, "t", row("p1", sk, &[("lsk", sk), ("other", "o")])).expect("put");
    }
    let counted = counters(&engine, &store, "t");
    block_on(engine.update_table(UpdateTableInput {
        table_name: "t".to_string(),
        attribute_definitions: vec![("other".to_string(), ScalarType::S)],
        index_updates: vec![IndexUpdate::Create(IndexInput {
            name: "gOther".to_string(),
            key_schema: vec![("other".to_string(), "HASH".to_string())],
            projection_type: Some("ALL".to_string()),
            ..IndexInput::default()
        })],
        ..UpdateTableInput::default()
    }))
    .expect("create a global index");
    block_on(engine.finish_index_changes()).expect("build it");
    assert_eq!(counters(&engine, &store, "t"), counted);
    assert_exact(&engine, &store, "t");

    let space = engine.table("t").expect("table").collections_space();
    block_on(engine.delete_table("t")).expect("delete the table");
    assert!(
        scan_space(&store, &space).is_empty(),
        "the counters went with the table"
    );
    // A new table of the same name starts empty.
    create_indexed(&engine, "t");
    let fresh = put(&engine, "t", row("p1", "s1", &[])).expect("put");
    assert_eq!(collection_of(&fresh).1, item_size_bytes(&row("p1", "s1", &[])) as u64);
}

#[test]
fn the_size_estimate_is_the_gigabyte_around_the_size() {
    let gib = 1024 * 1024 * 1024;
    let range = |size_bytes: u64| {
        ItemCollectionMetrics {
            key: Item::new(),
            size_bytes,
        }
        .size_estimate_range_gb()
    };
    assert_eq!(range(0), [0.0, 1.0]);
    assert_eq!(range(1), [0.0, 1.0]);
    assert_eq!(range(gib - 1), [0.0, 1.0]);
    assert_eq!(range(gib), [1.0, 2.0]);
    assert_eq!(range(10 * gib), [10.0, 11.0]);
}
