//! Engine tests over the in-memory store, with a clock the tests move: index builds racing
//! writes, and streams kept across a disable and re-enable.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use stratus_storage::{MemoryStore, Store};

use super::*;
use crate::index::IndexInput;
use crate::table::{BillingMode, IndexUpdate, StreamInput, StreamViewType};

/// Runs a future to completion on this thread (the in-memory store completes jobs at once).
pub(super) fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}

pub(super) struct TestClock(pub(super) AtomicI64);

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl TestClock {
    pub(super) fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

pub(super) const START_MS: i64 = 1_700_000_000_000;

pub(super) fn engine_over(store: &Arc<dyn Store>, clock: &Arc<TestClock>) -> Arc<Engine> {
    let clock: Arc<dyn Clock> = Arc::clone(clock) as Arc<dyn Clock>;
    Arc::new(Engine::open(Arc::clone(store), clock, "us-east-1", "123456789012").expect("open"))
}

pub(super) fn new_engine() -> (Arc<Engine>, Arc<dyn Store>, Arc<TestClock>) {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = Arc::new(TestClock(AtomicI64::new(START_MS)));
    (engine_over(&store, &clock), store, clock)
}

pub(super) fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_string())
}

pub(super) fn item(pairs: &[(&str, &str)]) -> Item {
    pairs.iter().map(|(name, value)| (name.to_string(), s(value))).collect()
}

fn create(engine: &Engine, name: &str, stream: Option<StreamInput>) {
    block_on(engine.create_table(CreateTableInput {
        table_name: name.to_string(),
        attribute_definitions: vec![("pk".to_string(), ScalarType::S)],
        key_schema: vec![("pk".to_string(), "HASH".to_string())],
        billing_mode: Some(BillingMode::PayPerRequest),
        stream,
        ..CreateTableInput::default()
    }))
    .expect("create table");
}

fn put(engine: &Arc<Engine>, table: &str, item: Item) {
    block_on(engine.put_item(PutItemInput {
        table_name: table.to_string(),
        item,
        ..PutItemInput::default()
    }))
    .expect("put");
}

fn update(engine: &Arc<Engine>, table: &str, pk: &str, expression: &str, values: &[(&str, &str)]) {
    let values: HashMap<String, AttributeValue> = values.iter().map(|(k, v)| (k.to_string(), s(v))).collect();
    block_on(engine.update_item(UpdateItemInput {
        table_name: table.to_string(),
        key: item(&[("pk", pk)]),
        update_expression: Some(expression.to_string()),
        expressions: Expressions {
            names: None,
            values: (!values.is_empty()).then_some(values),
        },
        ..UpdateItemInput::default()
    }))
    .expect("update");
}

fn delete(engine: &Arc<Engine>, table: &str, pk: &str) {
    block_on(engine.delete_item(DeleteItemInput {
        table_name: table.to_string(),
        key: item(&[("pk", pk)]),
        ..DeleteItemInput::default()
    }))
    .expect("delete");
}

/// Every entry of an index, read with Scan.
fn index_entries(engine: &Engine, table: &str, index: &str) -> Vec<Item> {
    let page = engine
        .scan(ScanInput {
            table_name: table.to_string(),
            index_name: Some(index.to_string()),
            ..ScanInput::default()
        })
        .expect("scan the index");
    assert!(page.last_evaluated_key.is_none(), "one page holds them all");
    page.items.unwrap_or_default()
}

#[test]
fn writes_to_items_an_index_build_has_not_reached_keep_its_figures_right() {
    let (engine, _, _) = new_engine();
    create(&engine, "t", None);
    for n in 0..10 {
        put(&engine, "t", item(&[("pk", &format!("k{n}")), ("grp", "g")]));
    }
    let described = block_on(engine.update_table(UpdateTableInput {
        table_name: "t".to_string(),
        attribute_definitions: vec![("grp".to_string(), ScalarType::S)],
        index_updates: vec![IndexUpdate::Create(IndexInput {
            name: "byGrp".to_string(),
            key_schema: vec![("grp".to_string(), "HASH".to_string())],
            projection_type: Some("ALL".to_string()),
            ..IndexInput::default()
        })],
        ..UpdateTableInput::default()
    }))
    .expect("create the index");
    assert_eq!(described.indexes[0].definition.status, IndexStatus::Creating);
    // The build has not started: none of these items has an entry yet.
    update(&engine, "t", "k1", "SET grp = :g", &[(":g", "moved")]); // index key moved
    update(&engine, "t", "k2", "REMOVE grp", &[]); // leaves the index
    update(&engine, "t", "k3", "SET note = :n", &[(":n", "x")]); // same index key
    delete(&engine, "t", "k4"); // gone
    put(&engine, "t", item(&[("pk", "new"), ("grp", "g")])); // a new item
    block_on(engine.finish_index_changes()).expect("build the index");

    let described = engine.describe_table("t").expect("describe");
    let index = &described.indexes[0];
    assert_eq!(index.definition.status, IndexStatus::Active);
    let entries = index_entries(&engine, "t", "byGrp");
    let mut groups: Vec<(String, String)> = entries
        .iter()
        .filter_map(|entry| match (entry.get("pk"), entry.get("grp")) {
            (Some(AttributeValue::S(pk)), Some(AttributeValue::S(grp))) => Some((pk.clone(), grp.clone())),
            _ => None,
        })
        .collect();
    groups.sort();
    let mut expected: Vec<(String, String)> = ["k0", "k1", "k3", "k5", "k6", "k7", "k8", "k9", "new"]
        .iter()
        .map(|pk| (pk.to_string(), if *pk == "k1" { "moved" } else { "g" }.to_string()))
        .collect();
    expected.sort();
    assert_eq!(groups, expected);
    assert_eq!(index.item_count, 9, "ItemCount counts each entry once");
    let size: usize = entries.iter().map(item_size_bytes).sum();
    assert_eq!(index.size_bytes, size as i64, "IndexSizeBytes is the entries' size");
}

fn stream_update(engine: &Engine, table: &str, enabled: bool, view_type: Option<StreamViewType>) -> TableDescription {
    block_on(engine.update_table(UpdateTableInput {
        table_name: table.to_string(),
        stream: Some(StreamInput { enabled, view_type }),
        ..UpdateTableInput::default()
    }))
    .expect("update the stream")
}

/// The partition keys of every record a stream holds, read from TRIM_HORIZON to the end.
fn stream_keys(engine: &Engine, arn: &str) -> Vec<String> {
    let description = engine.describe_stream(arn).expect("describe the stream");
    let mut iterator = engine
        .get_shard_iterator(arn, &description.shard_id, ShardIteratorType::TrimHorizon, None)
        .expect("iterator");
    let mut keys = Vec::new();
    for _ in 0..10 {
        let (records, next) = engine.get_records(&iterator, 1000).expect("records");
        if records.is_empty() {
            break;
        }
        keys.extend(records.iter().filter_map(|r| match r.keys.get("pk") {
            Some(AttributeValue::S(pk)) => Some(pk.clone()),
            _ => None,
        }));
        match next {
            Some(next) => iterator = next,
            None => break,
        }
    }
    keys
}

const KEYS_ONLY: Option<StreamInput> = Some(StreamInput {
    enabled: true,
    view_type: Some(StreamViewType::KeysOnly),
});

/// Table "t" with a KEYS_ONLY stream holding "first", disabled, then a second stream of
/// `second_view` holding "second": the two streams' ARNs.
fn table_with_two_streams(engine: &Arc<Engine>, clock: &TestClock, second_view: StreamViewType) -> (String, String) {
    create(engine, "t", KEYS_ONLY);
    let old_arn = engine
        .describe_table("t")
        .expect("describe")
        .stream_arn
        .expect("a stream");
    put(engine, "t", item(&[("pk", "first")]));
    stream_update(engine, "t", false, None);
    clock.advance(10);
    let new_arn = stream_update(engine, "t", true, Some(second_view))
        .stream_arn
        .expect("the new stream");
    assert_ne!(new_arn, old_arn);
    put(engine, "t", item(&[("pk", "second")]));
    (old_arn, new_arn)
}

#[test]
fn a_reenabled_stream_leaves_the_disabled_one_readable_for_24_hours() {
    let (engine, store, clock) = new_engine();
    let (old_arn, new_arn) = table_with_two_streams(&engine, &clock, StreamViewType::NewImage);

    let old = engine.describe_stream(&old_arn).expect("the old stream is still there");
    assert!(!old.stream.enabled);
    assert_eq!(old.stream.view_type, StreamViewType::KeysOnly);
    assert!(old.last_sequence.is_some(), "its shard is closed at its last record");
    assert_eq!(stream_keys(&engine, &old_arn), ["first"]);
    assert_eq!(stream_keys(&engine, &new_arn), ["second"]);
    let listed = |engine: &Engine| -> Vec<String> {
        let (streams, _) = engine.list_streams(Some("t"), None, 100).expect("list");
        streams.into_iter().map(|(arn, _, _)| arn).collect()
    };
    assert_eq!(listed(&engine), [old_arn.clone(), new_arn.clone()]);

    // Kept across a restart.
    let engine = engine_over(&store, &clock);
    assert_eq!(stream_keys(&engine, &old_arn), ["first"]);
    assert_eq!(listed(&engine), [old_arn.clone(), new_arn.clone()]);

    // Not yet 24 hours after it was disabled: kept.
    clock.advance(stream::RETENTION_MS - 20);
    block_on(engine.trim_streams()).expect("trim");
    assert!(engine.describe_stream(&old_arn).is_ok());
    clock.advance(20);
    block_on(engine.trim_streams()).expect("trim");
    let gone = engine.describe_stream(&old_arn).err().map(|e| e.aws_code());
    assert_eq!(gone, Some("ResourceNotFoundException"));
    assert_eq!(listed(&engine), [new_arn.as_str()]);
    assert!(engine.describe_stream(&new_arn).is_ok(), "the latest stream stays");
    let table = engine.table("t").expect("table");
    assert!(
        table.definition.previous_streams.is_empty(),
        "the expired stream left the definition"
    );
}

#[test]
fn a_deleted_tables_streams_stay_readable_for_24_hours_then_go() {
    let (engine, store, clock) = new_engine();
    let (old_arn, last_arn) = table_with_two_streams(&engine, &clock, StreamViewType::KeysOnly);
    let ids: Vec<u64> = engine
        .catalog()
        .get("t")
        .expect("table")
        .definition
        .streams()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids.len(), 2);
    block_on(engine.delete_table("t")).expect("delete");
    clock.advance(10);

    // The table is gone; its streams are disabled and still readable, also after a restart.
    assert!(engine.describe_table("t").is_err());
    let listed = |engine: &Engine, table: Option<&str>| -> Vec<String> {
        let (streams, _) = engine.list_streams(table, None, 100).expect("list");
        streams.into_iter().map(|(arn, _, _)| arn).collect()
    };
    assert_eq!(listed(&engine, None), [old_arn.clone(), last_arn.clone()]);
    let last = engine.describe_stream(&last_arn).expect("the last stream is kept");
    assert!(!last.stream.enabled, "disabled with its table");
    assert_eq!(stream_keys(&engine, &last_arn), ["second"]);
    assert_eq!(stream_keys(&engine, &old_arn), ["first"]);
    let engine = engine_over(&store, &clock);
    assert_eq!(stream_keys(&engine, &last_arn), ["second"]);

    // A new table of the same name has a stream of its own; the old ones are listed first.
    create(&engine, "t", KEYS_ONLY);
    let new_arn = engine
        .describe_table("t")
        .expect("describe")
        .stream_arn
        .expect("a stream");
    assert_eq!(
        listed(&engine, Some("t")),
        [old_arn.clone(), last_arn.clone(), new_arn.clone()]
    );

    // 24 hours after the delete, trimming drops them and their records.
    clock.advance(stream::RETENTION_MS - 20);
    block_on(engine.trim_streams()).expect("trim");
    assert!(engine.describe_stream(&last_arn).is_ok(), "not yet 24 hours");
    clock.advance(20);
    block_on(engine.trim_streams()).expect("trim");
    let gone = engine.describe_stream(&last_arn).err().map(|e| e.aws_code());
    assert_eq!(gone, Some("ResourceNotFoundException"));
    assert_eq!(listed(&engine, None), std::slice::from_ref(&new_arn));
    for id in ids {
        let mut records = 0;
        store
            .scan(&stream_space(id), KeyRange::all(), false, &mut |_, _| {
                records += 1;
                ControlFlow::Continue(())
            })
            .expect("scan");
        assert_eq!(records, 0, "stream {id} dropped");
    }
    let engine = engine_over(&store, &clock);
    assert_eq!(listed(&engine, None), [new_arn]);
}
