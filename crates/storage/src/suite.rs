//! One behaviour suite run over every backend, in-memory included.

use std::ops::{Bound, ControlFlow};
use std::sync::Arc;

use crate::{KeyRange, MemoryStore, Reader, RedbStore, Store, StoreError, write};

fn backends() -> Vec<(&'static str, Arc<dyn Store>, Option<std::path::PathBuf>)> {
    let directory = std::env::temp_dir().join(format!(
        "stratus-storage-suite-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).expect("temp dir");
    let path = directory.join("data.redb");
    let redb: Arc<dyn Store> = Arc::new(RedbStore::open(&path).expect("open redb"));
    vec![
        ("memory", Arc::new(MemoryStore::new()), None),
        ("redb", redb, Some(directory)),
    ]
}

fn collect(store: &dyn Reader, space: &str, range: KeyRange<'_>, reverse: bool) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    store
        .scan(space, range, reverse, &mut |key, _| {
            keys.push(key.to_vec());
            ControlFlow::Continue(())
        })
        .expect("scan");
    keys
}

#[tokio::test]
async fn put_get_scan_delete_on_every_backend() {
    for (name, store, directory) in backends() {
        assert_eq!(store.get("items", b"a").expect("get"), None, "{name}");
        write(&store, |txn| {
            for key in [b"b", b"a", b"c"] {
                txn.put("items", key, key)?;
            }
            Ok(())
        })
        .await
        .expect("write");
        assert_eq!(store.get("items", b"a").expect("get"), Some(b"a".to_vec()), "{name}");
        let all = collect(store.as_ref(), "items", KeyRange::all(), false);
        assert_eq!(all, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()], "{name}");
        let reversed = collect(store.as_ref(), "items", KeyRange::all(), true);
        assert_eq!(reversed, vec![b"c".to_vec(), b"b".to_vec(), b"a".to_vec()], "{name}");
        let tail = collect(
            store.as_ref(),
            "items",
            KeyRange {
                start: Bound::Excluded(b"a"),
                end: Bound::Unbounded,
            },
            false,
        );
        assert_eq!(tail, vec![b"b".to_vec(), b"c".to_vec()], "{name}");
        let inverted = KeyRange {
            start: Bound::Included(b"c"),
            end: Bound::Excluded(b"a"),
        };
        assert!(collect(store.as_ref(), "items", inverted, false).is_empty(), "{name}");

        // A job sees its own writes and those of jobs before it.
        let seen = write(&store, |txn| {
            txn.delete("items", b"b")?;
            txn.put("items", b"d", b"d")?;
            let mut keys = Vec::new();
            txn.scan("items", KeyRange::all(), false, &mut |k, _| {
                keys.push(k.to_vec());
                ControlFlow::Continue(())
            })?;
            Ok(keys)
        })
        .await
        .expect("write");
        assert_eq!(seen, vec![b"a".to_vec(), b"c".to_vec(), b"d".to_vec()], "{name}");

        write(&store, |txn| txn.drop_space("items")).await.expect("drop");
        assert!(
            collect(store.as_ref(), "items", KeyRange::all(), false).is_empty(),
            "{name}"
        );
        assert_eq!(store.get("missing-space", b"x").expect("get"), None, "{name}");
        drop(store);
        if let Some(directory) = directory {
            let _ = std::fs::remove_dir_all(directory);
        }
    }
}

#[tokio::test]
async fn redb_writes_survive_reopening() {
    let directory = std::env::temp_dir().join(format!("stratus-storage-reopen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).expect("temp dir");
    let path = directory.join("data.redb");
    {
        let store: Arc<dyn Store> = Arc::new(RedbStore::open(&path).expect("open"));
        let mut pending = Vec::new();
        for index in 0..100u32 {
            let store = Arc::clone(&store);
            pending.push(tokio::spawn(async move {
                write(&store, move |txn| txn.put("items", &index.to_be_bytes(), b"v")).await
            }));
        }
        for task in pending {
            task.await.expect("join").expect("write");
        }
    }
    let store = RedbStore::open(&path).expect("reopen");
    let keys = collect(&store, "items", KeyRange::all(), false);
    assert_eq!(keys.len(), 100);
    drop(store);
    let _ = std::fs::remove_dir_all(directory);
}

#[test]
fn a_closed_store_fails_writes_cleanly() {
    let directory = std::env::temp_dir().join(format!("stratus-storage-closed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).expect("temp dir");
    let redb = RedbStore::open(&directory.join("data.redb")).expect("open");
    redb.close();
    let store: Arc<dyn Store> = Arc::new(redb);
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let result = runtime.block_on(write(&store, |txn| txn.put("s", b"k", b"v")));
    assert!(matches!(result, Err(StoreError(_))));
    drop(store);
    let _ = std::fs::remove_dir_all(directory);
}
