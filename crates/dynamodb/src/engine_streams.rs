//! The engine's DynamoDB Streams and TimeToLive operations: listing and describing streams,
//! shard iterators and GetRecords, TTL settings, the TTL sweep and the 24-hour trim.

use std::ops::{Bound, ControlFlow};
use std::sync::Arc;

use stratus_storage::{KeyRange, write};

use super::{Engine, META_SPACE, WriteMeta, corrupt, retired_key, stream_space, ttl_space};
use crate::codec::decode_item;
use crate::error::Error;
use crate::key::KeySchema;
use crate::stream::{self, Iterator, StreamRecord};
use crate::table::{StreamState, TableDefinition, TtlState};
use crate::value::Item;

/// GetShardIterator's `ShardIteratorType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardIteratorType {
    TrimHorizon,
    Latest,
    AtSequenceNumber,
    AfterSequenceNumber,
}

impl ShardIteratorType {
    pub fn from_name(name: &str) -> Option<ShardIteratorType> {
        Some(match name {
            "TRIM_HORIZON" => ShardIteratorType::TrimHorizon,
            "LATEST" => ShardIteratorType::Latest,
            "AT_SEQUENCE_NUMBER" => ShardIteratorType::AtSequenceNumber,
            "AFTER_SEQUENCE_NUMBER" => ShardIteratorType::AfterSequenceNumber,
            _ => return None,
        })
    }
}

/// One stream in ListStreams: (StreamArn, TableName, StreamLabel).
pub type StreamListing = (String, String, String);

/// What a stream's readers need of the table it belongs, or belonged, to.
struct StreamOwner {
    name: String,
    key_schema: KeySchema,
    created_ms: i64,
}

impl StreamOwner {
    fn of(definition: &TableDefinition) -> StreamOwner {
        StreamOwner {
            name: definition.name.clone(),
            key_schema: definition.key_schema.clone(),
            created_ms: definition.created_at_ms,
        }
    }
}

/// What DescribeStream reports.
#[derive(Clone, Debug)]
pub struct StreamDescription {
    pub arn: String,
    pub table_name: String,
    pub stream: StreamState,
    pub key_schema: KeySchema,
    pub created_ms: i64,
    pub shard_id: String,
    /// First and (for a disabled stream) last sequence number held.
    pub first_sequence: Option<u64>,
    pub last_sequence: Option<u64>,
}

impl Engine {
    pub fn stream_arn(&self, table: &str, label: &str) -> String {
        format!("{}/stream/{label}", self.table_arn(table))
    }

    /// The ARN of the stream a shard iterator reads (for authorizing GetRecords); `None` for
    /// an iterator that does not decode or names a stream no longer there.
    pub fn iterator_stream_arn(&self, iterator: &str) -> Option<String> {
        let position = Iterator::decode(iterator)?;
        let stream = self.stream_by_id(&position.table, position.stream_id)?;
        Some(self.stream_arn(&position.table, &stream.label))
    }

    /// A kept stream of a table, or of a deleted table of that name, by its records space.
    fn stream_by_id(&self, table: &str, stream_id: u64) -> Option<StreamState> {
        if let Some(live) = self.catalog().get(table)
            && let Some(stream) = live.definition.stream_by_id(stream_id)
        {
            return Some(stream.clone());
        }
        self.retired()
            .iter()
            .filter(|d| d.name == table)
            .find_map(|d| d.stream_by_id(stream_id).cloned())
    }

    /// Streams, optionally of one table, in table order and each table's oldest first (a
    /// disabled stream is listed until it is dropped, 24 hours after it was disabled).
    pub fn list_streams(
        &self,
        table: Option<&str>,
        exclusive_start: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<StreamListing>, Option<String>), Error> {
        if let Some(name) = table
            && !self.catalog().contains_key(name)
            && !self.retired().iter().any(|d| d.name == name)
        {
            return Err(Error::ResourceNotFound(format!(
                "Requested resource not found: Table: {name} not found"
            )));
        }
        // A deleted table's streams come before those of a table created since under its name.
        // (One lock at a time: the retired list is copied out first.)
        let retired: Vec<Arc<TableDefinition>> = self.retired().clone();
        let catalog = self.catalog();
        let mut definitions: Vec<&TableDefinition> = retired
            .iter()
            .map(|d| d.as_ref())
            .chain(catalog.values().map(|t| &t.definition))
            .filter(|d| table.is_none_or(|name| d.name == name))
            .collect();
        definitions.sort_by(|a, b| a.name.cmp(&b.name));
        let mut streams: Vec<StreamListing> = definitions
            .into_iter()
            .flat_map(|d| {
                d.streams().map(|stream| {
                    (
                        self.stream_arn(&d.name, &stream.label),
                        d.name.clone(),
                        stream.label.clone(),
                    )
                })
            })
            .collect();
        drop(catalog);
        if let Some(start) = exclusive_start
            && let Some(position) = streams.iter().position(|(arn, _, _)| arn == start)
        {
            streams.drain(..=position);
        }
        let more = streams.len() > limit;
        streams.truncate(limit);
        let last = if more {
            streams.last().map(|(arn, _, _)| arn.clone())
        } else {
            None
        };
        Ok((streams, last))
    }

    /// The table (or deleted table) and stream an ARN names
    /// (`arn:aws:dynamodb:R:A:table/T/stream/LABEL`).
    fn stream_of(&self, arn: &str) -> Result<(StreamOwner, StreamState), Error> {
        let not_found = || Error::ResourceNotFound(format!("Requested resource not found: Stream: {arn} not found"));
        let rest = arn
            .strip_prefix(&format!("arn:aws:dynamodb:{}:{}:table/", self.region, self.account))
            .ok_or_else(not_found)?;
        let (table_name, label) = rest.split_once("/stream/").ok_or_else(not_found)?;
        if let Some(table) = self.catalog().get(table_name)
            && let Some(stream) = table.definition.stream_by_label(label)
        {
            return Ok((StreamOwner::of(&table.definition), stream.clone()));
        }
        self.retired()
            .iter()
            .rev()
            .filter(|d| d.name == table_name)
            .find_map(|d| d.stream_by_label(label).map(|s| (StreamOwner::of(d), s.clone())))
            .ok_or_else(not_found)
    }

    fn sequence_bounds(&self, stream_id: u64) -> Result<(Option<u64>, Option<u64>), Error> {
        let mut first = None;
        let mut last = None;
        let space = stream_space(stream_id);
        let read = |reverse: bool, slot: &mut Option<u64>| -> Result<(), Error> {
            self.store.scan(
                &space,
                KeyRange {
                    start: Bound::Unbounded,
                    end: Bound::Unbounded,
                },
                reverse,
                &mut |key, _| {
                    *slot = key.try_into().ok().map(u64::from_be_bytes);
                    ControlFlow::Break(())
                },
            )?;
            Ok(())
        };
        read(false, &mut first)?;
        read(true, &mut last)?;
        Ok((first, last))
    }

    pub fn describe_stream(&self, arn: &str) -> Result<StreamDescription, Error> {
        let (table, stream) = self.stream_of(arn)?;
        let (first, last) = self.sequence_bounds(stream.id)?;
        Ok(StreamDescription {
            arn: arn.to_string(),
            table_name: table.name.clone(),
            key_schema: table.key_schema.clone(),
            created_ms: table.created_ms,
            shard_id: stream::shard_id(stream.id),
            first_sequence: first,
            last_sequence: last,
            stream,
        })
    }

    pub fn get_shard_iterator(
        &self,
        arn: &str,
        shard_id: &str,
        kind: ShardIteratorType,
        sequence: Option<&str>,
    ) -> Result<String, Error> {
        let (table, stream_state) = self.stream_of(arn)?;
        if shard_id != stream::shard_id(stream_state.id) {
            return Err(Error::ResourceNotFound(
                "Requested resource not found: Shard does not exist".to_string(),
            ));
        }
        let (first, last) = self.sequence_bounds(stream_state.id)?;
        let needs_sequence = matches!(
            kind,
            ShardIteratorType::AtSequenceNumber | ShardIteratorType::AfterSequenceNumber
        );
        let sequence = match (needs_sequence, sequence) {
            (true, None) => {
                return Err(Error::validation(
                    "Sequence number must be specified for iterator type AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER",
                ));
            }
            (true, Some(text)) => Some(
                stream::parse_sequence(text)
                    .ok_or_else(|| Error::validation(format!("Invalid SequenceNumber: {text}")))?,
            ),
            (false, _) => None,
        };
        if let (Some(requested), Some(first)) = (sequence, first)
            && requested < first
        {
            return Err(Error::TrimmedDataAccess(
                "The operation attempted to read past the oldest stream record in a shard.".to_string(),
            ));
        }
        let after = match kind {
            ShardIteratorType::TrimHorizon => first.map_or(0, |f| f.saturating_sub(1)),
            ShardIteratorType::Latest => last.unwrap_or(self.sequence.load(std::sync::atomic::Ordering::SeqCst)),
            ShardIteratorType::AtSequenceNumber => sequence.unwrap_or(1).saturating_sub(1),
            ShardIteratorType::AfterSequenceNumber => sequence.unwrap_or(0),
        };
        Ok(Iterator {
            table: table.name.clone(),
            stream_id: stream_state.id,
            after,
            issued_ms: self.clock.now_ms(),
        }
        .encode())
    }

    /// Up to `limit` records after the iterator's position, and the iterator to read on from
    /// (none once a disabled stream's shard is read to its end).
    pub fn get_records(&self, iterator: &str, limit: usize) -> Result<(Vec<StreamRecord>, Option<String>), Error> {
        let Some(position) = Iterator::decode(iterator) else {
            return Err(Error::validation("Invalid ShardIterator"));
        };
        let now = self.clock.now_ms();
        if now - position.issued_ms > stream::ITERATOR_LIFETIME_MS {
            return Err(Error::ExpiredIterator(
                "Iterator expired. The iterator was created more than 15 minutes ago.".to_string(),
            ));
        }
        let Some(stream_state) = self.stream_by_id(&position.table, position.stream_id) else {
            return Err(Error::ResourceNotFound(
                "Requested resource not found: Stream not found".to_string(),
            ));
        };
        let start = (position.after + 1).to_be_bytes();
        let mut records = Vec::new();
        let mut failure = None;
        self.store.scan(
            &stream_space(stream_state.id),
            KeyRange {
                start: Bound::Included(&start),
                end: Bound::Unbounded,
            },
            false,
            &mut |key, value| {
                let Some(sequence) = key.try_into().ok().map(u64::from_be_bytes) else {
                    return ControlFlow::Continue(());
                };
                match StreamRecord::decode(sequence, value) {
                    Ok(record) => records.push(record),
                    Err(error) => {
                        failure = Some(corrupt(error));
                        return ControlFlow::Break(());
                    }
                }
                if records.len() >= limit {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )?;
        if let Some(error) = failure {
            return Err(error);
        }
        let after = records.last().map_or(position.after, |r| r.sequence);
        let exhausted = records.is_empty() && !stream_state.enabled;
        let next = (!exhausted).then(|| {
            Iterator {
                after,
                issued_ms: now,
                ..position
            }
            .encode()
        });
        Ok((records, next))
    }

    pub fn describe_time_to_live(&self, name: &str) -> Result<Option<TtlState>, Error> {
        let table = self
            .catalog()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::named_table_not_found(name))?;
        Ok(table.definition.ttl.clone())
    }

    /// UpdateTimeToLive: enabling indexes every item's expiry so the sweep reads only what is due.
    pub async fn update_time_to_live(
        self: &Arc<Self>,
        name: &str,
        enabled: bool,
        attribute: &str,
    ) -> Result<TtlState, Error> {
        let table = self
            .catalog()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::named_table_not_found(name))?;
        let current = table.definition.ttl.clone();
        match (&current, enabled) {
            (Some(ttl), true) if ttl.enabled && ttl.attribute == attribute => {
                return Err(Error::validation("TimeToLive is already enabled"));
            }
            (Some(ttl), true) if ttl.enabled => {
                return Err(Error::validation(format!(
                    "TimeToLive is active on a different AttributeName: current AttributeName is {}",
                    ttl.attribute
                )));
            }
            (Some(ttl), false) if !ttl.enabled => return Err(Error::validation("TimeToLive is already disabled")),
            (None, false) => return Err(Error::validation("TimeToLive is already disabled")),
            (Some(ttl), false) if ttl.attribute != attribute => {
                return Err(Error::validation(format!(
                    "TimeToLive is active on a different AttributeName: current AttributeName is {}",
                    ttl.attribute
                )));
            }
            _ => {}
        }
        let state = TtlState {
            attribute: attribute.to_string(),
            enabled,
        };
        let space = ttl_space(table.definition.id);
        let new_state = state.clone();
        let updated = self
            .replace_definition(name, move |definition| definition.ttl = Some(new_state))
            .await?;
        if !enabled {
            write(&self.store, move |txn| txn.drop_space(&space)).await?;
        } else if let Some(updated) = updated {
            self.index_expiries(&updated).await?;
        }
        Ok(state)
    }

    /// Writes the TTL index entry of every existing item (a batch of items per job).
    async fn index_expiries(&self, table: &Arc<super::Table>) -> Result<(), Error> {
        const BATCH: usize = 500;
        let Some(ttl) = table.definition.ttl.clone() else {
            return Ok(());
        };
        let mut after: Option<Vec<u8>> = None;
        loop {
            let mut entries: Vec<Vec<u8>> = Vec::new();
            let mut last: Option<Vec<u8>> = None;
            let mut seen = 0;
            self.store.scan(
                &table.space,
                KeyRange {
                    start: after.as_deref().map_or(Bound::Unbounded, Bound::Excluded),
                    end: Bound::Unbounded,
                },
                false,
                &mut |key, value| {
                    seen += 1;
                    last = Some(key.to_vec());
                    if let Ok(item) = decode_item(value)
                        && let Some(entry) =
                            stream::expiry_seconds(&item, &ttl.attribute).and_then(|e| stream::ttl_key(e, key))
                    {
                        entries.push(entry);
                    }
                    if seen >= BATCH {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                },
            )?;
            let space = ttl_space(table.definition.id);
            write(&self.store, move |txn| {
                for entry in &entries {
                    txn.put(&space, entry, &[])?;
                }
                Ok(())
            })
            .await?;
            if seen < BATCH {
                return Ok(());
            }
            after = last;
        }
    }

    /// Deletes items whose TTL expired at least `delay_ms` ago, as DynamoDB's own deletions
    /// (stream records carry the service identity). Returns how many went.
    pub async fn sweep_expired(self: &Arc<Self>, delay_ms: i64) -> Result<usize, Error> {
        let now_seconds = (self.clock.now_ms() - delay_ms).div_euclid(1000);
        let oldest = now_seconds - stream::TTL_IGNORED_AGE_SECONDS;
        let tables: Vec<Arc<super::Table>> = self
            .catalog()
            .values()
            .filter(|t| t.definition.ttl.as_ref().is_some_and(|ttl| ttl.enabled))
            .cloned()
            .collect();
        let mut deleted = 0;
        for table in tables {
            let Some(ttl) = table.definition.ttl.clone() else {
                continue;
            };
            let start = u64::try_from(oldest.max(0)).unwrap_or(0).to_be_bytes();
            // Strictly before now: an item expiring this second is not yet expired.
            let end = u64::try_from(now_seconds.max(0)).unwrap_or(0).to_be_bytes();
            let mut due: Vec<Vec<u8>> = Vec::new();
            self.store.scan(
                &ttl_space(table.definition.id),
                KeyRange {
                    start: Bound::Included(&start),
                    end: Bound::Excluded(&end),
                },
                false,
                &mut |key, _| {
                    due.push(key.get(8..).unwrap_or_default().to_vec());
                    if due.len() >= 1000 {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                },
            )?;
            if due.is_empty() {
                continue;
            }
            let engine = Arc::clone(self);
            let job_table = Arc::clone(&table);
            let meta = WriteMeta {
                by_service: true,
                ..self.meta()
            };
            let count = write(&self.store, move |txn| {
                let mut count = 0;
                if !engine.still_current(&job_table) {
                    return Ok(0);
                }
                for key in &due {
                    let Some(bytes) = txn.get(&job_table.space, key)? else {
                        continue;
                    };
                    let Ok(item) = decode_item(&bytes) else { continue };
                    let still_due = stream::expiry_seconds(&item, &ttl.attribute)
                        .is_some_and(|expiry| expiry < now_seconds && expiry >= oldest);
                    // A deletion only shrinks its item collection, so the limit never refuses it.
                    if still_due && job_table.store_item(txn, key, Some(&item), None, None, meta)?.is_ok() {
                        count += 1;
                    }
                }
                Ok(count)
            })
            .await?;
            deleted += count;
        }
        Ok(deleted)
    }

    /// Drops stream records older than 24 hours, and previous streams disabled more than 24
    /// hours ago.
    pub async fn trim_streams(&self) -> Result<(), Error> {
        let horizon = self.clock.now_ms() - stream::RETENTION_MS;
        let expired = |stream: &StreamState| stream.disabled_ms.is_some_and(|ms| ms < horizon);
        let tables: Vec<Arc<super::Table>> = self.catalog().values().cloned().collect();
        for table in &tables {
            let gone: Vec<u64> = table
                .definition
                .previous_streams
                .iter()
                .filter(|s| expired(s))
                .map(|s| s.id)
                .collect();
            if gone.is_empty() {
                continue;
            }
            let kept = gone.clone();
            let updated = self
                .replace_definition(&table.definition.name, move |definition| {
                    definition.previous_streams.retain(|s| !kept.contains(&s.id));
                })
                .await?;
            // A table deleted meanwhile took its streams' spaces with it.
            if updated.is_some() {
                write(&self.store, move |txn| {
                    for id in &gone {
                        txn.drop_space(&stream_space(*id))?;
                    }
                    Ok(())
                })
                .await?;
            }
        }
        // Deleted tables whose every stream was disabled more than 24 hours ago go, with their
        // records.
        let gone: Vec<Arc<TableDefinition>> = self
            .retired()
            .iter()
            .filter(|d| d.streams().all(|s| expired(s) || s.disabled_ms.is_none()))
            .cloned()
            .collect();
        if !gone.is_empty() {
            let dropped: Vec<(Vec<u8>, Vec<String>)> = gone
                .iter()
                .map(|d| (retired_key(d.id), d.streams().map(|s| stream_space(s.id)).collect()))
                .collect();
            write(&self.store, move |txn| {
                for (key, spaces) in &dropped {
                    txn.delete(META_SPACE, key)?;
                    for space in spaces {
                        txn.drop_space(space)?;
                    }
                }
                Ok(())
            })
            .await?;
            self.retired_mut().retain(|d| !gone.iter().any(|g| Arc::ptr_eq(g, d)));
        }
        let mut streams: Vec<u64> = self.retired().iter().flat_map(|d| d.streams().map(|s| s.id)).collect();
        streams.extend(
            self.catalog()
                .values()
                .flat_map(|t| t.definition.streams().map(|s| s.id)),
        );
        for stream_id in streams {
            let mut old: Vec<Vec<u8>> = Vec::new();
            self.store.scan(
                &stream_space(stream_id),
                KeyRange {
                    start: Bound::Unbounded,
                    end: Bound::Unbounded,
                },
                false,
                &mut |key, value| match StreamRecord::decode(0, value) {
                    Ok(record) if record.created_ms < horizon && old.len() < 10_000 => {
                        old.push(key.to_vec());
                        ControlFlow::Continue(())
                    }
                    _ => ControlFlow::Break(()),
                },
            )?;
            if old.is_empty() {
                continue;
            }
            let space = stream_space(stream_id);
            write(&self.store, move |txn| {
                for key in &old {
                    txn.delete(&space, key)?;
                }
                Ok(())
            })
            .await?;
        }
        Ok(())
    }

    /// The key attributes of an item (for callers rendering records).
    pub fn keys_of(&self, table: &str, item: &Item) -> Option<Item> {
        self.catalog()
            .get(table)
            .map(|t| t.definition.key_schema.key_item(item))
    }
}

/// Tags and point-in-time recovery: table settings kept in the definition.
impl Engine {
    /// The table a resource ARN names (`arn:aws:dynamodb:R:A:table/T`).
    fn table_for_arn(&self, arn: &str) -> Result<String, Error> {
        let not_found =
            || Error::ResourceNotFound(format!("Requested resource not found: ResourcArn: {arn} not found"));
        let name = arn
            .strip_prefix(&format!("arn:aws:dynamodb:{}:{}:table/", self.region, self.account))
            .ok_or_else(not_found)?;
        if name.contains('/') || !self.catalog().contains_key(name) {
            return Err(not_found());
        }
        Ok(name.to_string())
    }

    pub async fn tag_resource(&self, arn: &str, tags: Vec<(String, String)>) -> Result<(), Error> {
        let name = self.table_for_arn(arn)?;
        let current = self.catalog().get(&name).map(|t| t.definition.tags.len()).unwrap_or(0);
        let new_keys = tags
            .iter()
            .filter(|(k, _)| {
                self.catalog()
                    .get(&name)
                    .is_some_and(|t| !t.definition.tags.contains_key(k))
            })
            .count();
        if current + new_keys > 50 {
            return Err(Error::validation(
                "One or more parameter values were invalid: The number of tags exceeds the limit of 50",
            ));
        }
        self.replace_definition(&name, move |definition| {
            for (key, value) in tags {
                definition.tags.insert(key, value);
            }
        })
        .await?;
        Ok(())
    }

    pub async fn untag_resource(&self, arn: &str, keys: Vec<String>) -> Result<(), Error> {
        let name = self.table_for_arn(arn)?;
        self.replace_definition(&name, move |definition| {
            for key in &keys {
                definition.tags.remove(key);
            }
        })
        .await?;
        Ok(())
    }

    pub fn list_tags(&self, arn: &str) -> Result<Vec<(String, String)>, Error> {
        let name = self.table_for_arn(arn)?;
        Ok(self
            .catalog()
            .get(&name)
            .map(|t| t.definition.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }

    /// Whether point-in-time recovery is on (recorded; Stratus keeps no backups).
    pub fn point_in_time_recovery(&self, name: &str) -> Result<bool, Error> {
        self.catalog()
            .get(name)
            .map(|t| t.definition.point_in_time_recovery)
            .ok_or_else(|| Error::TableNotFound(format!("Table not found: {name}")))
    }

    pub async fn set_point_in_time_recovery(&self, name: &str, enabled: bool) -> Result<bool, Error> {
        if !self.catalog().contains_key(name) {
            return Err(Error::TableNotFound(format!("Table not found: {name}")));
        }
        self.replace_definition(name, move |definition| definition.point_in_time_recovery = enabled)
            .await?;
        Ok(enabled)
    }

    /// When the table was created, for EarliestRestorableDateTime.
    pub fn created_at_ms(&self, name: &str) -> Option<i64> {
        self.catalog().get(name).map(|t| t.definition.created_at_ms)
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// Where stream consumers (event source mappings) are up to, kept across restarts.
impl Engine {
    fn consumer_key(name: &str) -> Vec<u8> {
        format!("consumer/{name}").into_bytes()
    }

    /// The (stream id, last processed sequence number) a consumer recorded.
    pub fn consumer_position(&self, name: &str) -> Result<Option<(u64, u64)>, Error> {
        let Some(bytes) = self.store.get(super::META_SPACE, &Self::consumer_key(name))? else {
            return Ok(None);
        };
        if bytes.len() != 16 {
            return Ok(None);
        }
        let stream = u64::from_be_bytes(bytes[..8].try_into().map_err(|_| corrupt("consumer"))?);
        let sequence = u64::from_be_bytes(bytes[8..].try_into().map_err(|_| corrupt("consumer"))?);
        Ok(Some((stream, sequence)))
    }

    pub async fn set_consumer_position(&self, name: &str, stream_id: u64, sequence: u64) -> Result<(), Error> {
        let key = Self::consumer_key(name);
        let mut value = stream_id.to_be_bytes().to_vec();
        value.extend_from_slice(&sequence.to_be_bytes());
        write(&self.store, move |txn| txn.put(super::META_SPACE, &key, &value)).await?;
        Ok(())
    }

    /// A table's current stream: its ARN, id and last sequence number.
    pub fn table_stream(&self, table: &str) -> Option<(String, u64, u64)> {
        let stream = self.catalog().get(table)?.definition.active_stream().cloned()?;
        let (_, last) = self.sequence_bounds(stream.id).ok()?;
        Some((self.stream_arn(table, &stream.label), stream.id, last.unwrap_or(0)))
    }

    /// Records of a stream after `after`, at most `limit` (what a consumer polls).
    pub fn stream_records_after(&self, stream_id: u64, after: u64, limit: usize) -> Result<Vec<StreamRecord>, Error> {
        let start = (after + 1).to_be_bytes();
        let mut records = Vec::new();
        let mut failure = None;
        self.store.scan(
            &stream_space(stream_id),
            KeyRange {
                start: Bound::Included(&start),
                end: Bound::Unbounded,
            },
            false,
            &mut |key, value| {
                let Some(sequence) = key.try_into().ok().map(u64::from_be_bytes) else {
                    return ControlFlow::Continue(());
                };
                match StreamRecord::decode(sequence, value) {
                    Ok(record) => records.push(record),
                    Err(error) => {
                        failure = Some(corrupt(error));
                        return ControlFlow::Break(());
                    }
                }
                if records.len() >= limit {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )?;
        match failure {
            Some(error) => Err(error),
            None => Ok(records),
        }
    }
}
