//! The write-ahead log that makes group-committed writes durable with one `fdatasync` of an
//! append, instead of a full durable redb commit per batch (which costs several syncs).
//!
//! Files are `<database>.wal-<generation>`. Each record is `len32 ‖ crc32 ‖ payload`, the payload
//! a list of logical writes (put, delete, drop space) with whole values, so replaying a record
//! twice gives the same state. A checkpoint commits redb durably, records in redb the highest
//! generation it covers, and starts the next file; on open, records of later generations are
//! replayed in order, stopping at the first torn or corrupt record (a crash mid-append).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// One logical write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEntry {
    Put {
        space: String,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Delete {
        space: String,
        key: Vec<u8>,
    },
    DropSpace {
        space: String,
    },
}

const TAG_PUT: u8 = 1;
const TAG_DELETE: u8 = 2;
const TAG_DROP: u8 = 3;
/// A record larger than this is taken as corruption (a batch is at most 512 jobs of 16 MB).
const RECORD_BYTES_MAX: usize = 1 << 34;
/// Each log file is created this long (sparse, zero-filled): appends then rarely change the
/// file's size, so `fdatasync` has no size to persist. Zeros read back as "no more records".
const PREALLOCATED_BYTES: u64 = 64 * 1024 * 1024;

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Appends the encoding of one entry to a record payload.
pub fn encode_entry(out: &mut Vec<u8>, entry: &LogEntry) {
    match entry {
        LogEntry::Put { space, key, value } => {
            out.push(TAG_PUT);
            put_bytes(out, space.as_bytes());
            put_bytes(out, key);
            put_bytes(out, value);
        }
        LogEntry::Delete { space, key } => {
            out.push(TAG_DELETE);
            put_bytes(out, space.as_bytes());
            put_bytes(out, key);
        }
        LogEntry::DropSpace { space } => {
            out.push(TAG_DROP);
            put_bytes(out, space.as_bytes());
        }
    }
}

fn take<'a>(payload: &'a [u8], position: &mut usize) -> Option<&'a [u8]> {
    let length_bytes = payload.get(*position..*position + 4)?;
    let length = u32::from_le_bytes(length_bytes.try_into().ok()?) as usize;
    let start = *position + 4;
    let bytes = payload.get(start..start.checked_add(length)?)?;
    *position = start + length;
    Some(bytes)
}

/// Decodes a record payload; `None` if it is malformed.
pub fn decode_entries(payload: &[u8]) -> Option<Vec<LogEntry>> {
    let mut entries = Vec::new();
    let mut position = 0;
    while position < payload.len() {
        let tag = payload[position];
        position += 1;
        let space = String::from_utf8(take(payload, &mut position)?.to_vec()).ok()?;
        entries.push(match tag {
            TAG_PUT => {
                let key = take(payload, &mut position)?.to_vec();
                let value = take(payload, &mut position)?.to_vec();
                LogEntry::Put { space, key, value }
            }
            TAG_DELETE => LogEntry::Delete {
                space,
                key: take(payload, &mut position)?.to_vec(),
            },
            TAG_DROP => LogEntry::DropSpace { space },
            _ => return None,
        });
    }
    Some(entries)
}

/// The log file being appended to. The file is created on the first append, so opening a
/// store and checkpointing cost no syncs when nothing is written.
pub struct Wal {
    base: PathBuf,
    pub generation: u64,
    file: Option<File>,
    pub bytes: u64,
}

/// The path of generation `generation` of the log of `base`.
pub fn file_path(base: &Path, generation: u64) -> PathBuf {
    let mut name = base.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".wal-{generation}"));
    base.with_file_name(name)
}

/// Generations of the log files present next to `base`, in order.
pub fn generations(base: &Path) -> io::Result<Vec<u64>> {
    let directory = base
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let prefix = format!(
        "{}.wal-",
        base.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    let mut found = Vec::new();
    for entry in fs::read_dir(directory)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(generation) = name.strip_prefix(&prefix).and_then(|g| g.parse::<u64>().ok()) {
            found.push(generation);
        }
    }
    found.sort_unstable();
    Ok(found)
}

/// Reads the intact records of one log file, in order; stops at the first torn one.
pub fn read_records(path: &Path) -> io::Result<Vec<Vec<LogEntry>>> {
    let mut contents = Vec::new();
    File::open(path)?.read_to_end(&mut contents)?;
    let mut records = Vec::new();
    let mut position = 0;
    while let Some(header) = contents.get(position..position + 8) {
        let length = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let checksum = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if length == 0 || length > RECORD_BYTES_MAX {
            break;
        }
        let Some(payload) = contents.get(position + 8..position + 8 + length) else {
            break;
        };
        if crc32(payload) != checksum {
            break;
        }
        let Some(entries) = decode_entries(payload) else { break };
        records.push(entries);
        position += 8 + length;
    }
    Ok(records)
}

fn sync_directory(base: &Path) {
    let directory = base
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Ok(handle) = File::open(directory) {
        let _ = handle.sync_all();
    }
}

impl Wal {
    /// The log of `generation`, not yet created on disk.
    pub fn new(base: &Path, generation: u64) -> Wal {
        Wal {
            base: base.to_path_buf(),
            generation,
            file: None,
            bytes: 0,
        }
    }

    /// Creates (truncating) the file of this generation and makes its existence durable.
    fn create_file(&mut self) -> io::Result<&mut File> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(file_path(&self.base, self.generation))?;
        file.set_len(PREALLOCATED_BYTES)?;
        file.sync_all()?;
        sync_directory(&self.base);
        Ok(self.file.insert(file))
    }

    /// Appends one record and waits until it is on disk.
    pub fn append(&mut self, payload: &[u8]) -> io::Result<()> {
        let mut record = Vec::with_capacity(payload.len() + 8);
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.extend_from_slice(&crc32(payload).to_le_bytes());
        record.extend_from_slice(payload);
        let file = match self.file.as_mut() {
            Some(file) => file,
            None => self.create_file()?,
        };
        file.write_all(&record)?;
        file.sync_data()?;
        self.bytes += record.len() as u64;
        Ok(())
    }

    /// Moves to the next generation and removes this one's file (its records are checkpointed).
    pub fn rotate(&mut self) -> io::Result<()> {
        let had_file = self.file.take().is_some();
        let old = self.generation;
        self.generation += 1;
        self.bytes = 0;
        if had_file {
            fs::remove_file(file_path(&self.base, old))?;
            sync_directory(&self.base);
        }
        Ok(())
    }
}

/// CRC-32 (IEEE), table-free: records are small and this keeps the crate dependency-light.
pub fn crc32(bytes: &[u8]) -> u32 {
    // CRC-32 (IEEE, reflected 0xEDB88320), table-driven or with the CPU's instructions: the
    // log's checksums were always this CRC, so logs written before stay readable.
    crc32fast::hash(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bit-by-bit CRC the log used first: every checksum must stay the same.
    fn bitwise_crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                let mask = (crc & 1).wrapping_neg();
                crc = (crc >> 1) ^ (0xedb8_8320 & mask);
            }
        }
        !crc
    }

    #[test]
    fn the_checksum_is_crc32_ieee_as_before() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        let sample: Vec<u8> = (0..10_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for length in [0, 1, 7, 64, 1000, 10_000] {
            assert_eq!(crc32(&sample[..length]), bitwise_crc32(&sample[..length]));
        }
    }

    #[test]
    fn records_round_trip_and_a_torn_tail_is_ignored() {
        let directory = std::env::temp_dir().join(format!("stratus-wal-{}", std::process::id()));
        let _ = fs::remove_dir_all(&directory);
        fs::create_dir_all(&directory).expect("dir");
        let base = directory.join("data.redb");
        let mut wal = Wal::new(&base, 3);
        assert_eq!(
            generations(&base).expect("list"),
            Vec::<u64>::new(),
            "nothing is created before a write"
        );
        let entries = vec![
            LogEntry::Put {
                space: "s".into(),
                key: b"k".to_vec(),
                value: b"v".to_vec(),
            },
            LogEntry::Delete {
                space: "s".into(),
                key: b"gone".to_vec(),
            },
            LogEntry::DropSpace { space: "old".into() },
        ];
        let mut payload = Vec::new();
        entries.iter().for_each(|e| encode_entry(&mut payload, e));
        wal.append(&payload).expect("append");
        wal.append(&payload).expect("append");
        // A crash in the middle of the third append leaves a torn record.
        let mut file = OpenOptions::new().append(true).open(file_path(&base, 3)).expect("open");
        file.write_all(&[200, 0, 0, 0, 1, 2]).expect("write");
        drop(file);
        let records = read_records(&file_path(&base, 3)).expect("read");
        assert_eq!(records, vec![entries.clone(), entries]);
        assert_eq!(generations(&base).expect("list"), vec![3]);
        wal.rotate().expect("rotate");
        assert_eq!(generations(&base).expect("list"), Vec::<u64>::new());
        wal.append(&payload).expect("append");
        assert_eq!(generations(&base).expect("list"), vec![4]);
        let _ = fs::remove_dir_all(directory);
    }

    #[test]
    fn crc_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }
}
