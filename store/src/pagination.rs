//! Cursor pagination shared by every list.
//!
//! Rows have UUIDv7 keys, which sort by creation time, so a cursor is simply the last key seen
//! (opaque to callers: base64url). Every list pages the same way, whether its query pages in SQL
//! ([`PageRequest::fetch`] and [`PageRequest::finish`]) or it reads a short list whole
//! ([`PageRequest::page_of`]).

use crate::error::StoreError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use uuid::Uuid;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// A validated page request.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after: Option<Uuid>,
    pub limit: u32,
}

impl PageRequest {
    /// `limit` absent means the default, and 0 is refused like any other value out of range
    /// (a page of nothing is never what a caller meant); `cursor` empty or absent means the
    /// first page. Protobuf cannot tell an unset `limit` from 0: its adapters pass `None` for
    /// 0.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, StoreError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                return Err(StoreError::invalid(
                    "limit",
                    format!("must be between 1 and {MAX_LIMIT}"),
                ));
            }
        };
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                decode(c)
                    .ok_or_else(|| StoreError::bad_request("invalid cursor", Some("cursor")))?,
            ),
        };
        Ok(Self { after, limit })
    }

    /// Rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Pages a list read whole (a tenant's SLA schedules, policies, holidays: a handful of
    /// rows, each read with its parts): in key order, the rows after the cursor, cut to the
    /// page, so callers see the same paging as for lists paged in SQL.
    pub fn page_of<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> Uuid) -> Page<T> {
        rows.sort_by_key(&key);
        if let Some(after) = self.after {
            rows.retain(|r| key(r) > after);
        }
        rows.truncate(self.limit as usize + 1);
        self.finish(rows, key)
    }

    /// Cuts the fetched rows to the page and computes the next cursor.
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> Uuid) -> Page<T> {
        let more = rows.len() > self.limit as usize;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode(key(r)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn encode(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode(cursor: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(PageRequest::parse(Some(1), None).unwrap().limit, 1);
        assert_eq!(PageRequest::parse(Some(7), None).unwrap().limit, 7);
        assert_eq!(
            PageRequest::parse(Some(MAX_LIMIT), None).unwrap().limit,
            MAX_LIMIT
        );
        // 0 and too many are refused alike, naming `limit`.
        for refused in [0, MAX_LIMIT + 1] {
            match PageRequest::parse(Some(refused), None) {
                Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].field, "limit"),
                other => panic!("limit {refused}: {other:?}"),
            }
        }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = Uuid::now_v7();
        let page = PageRequest::parse(Some(1), None)
            .unwrap()
            .finish(vec![id, Uuid::now_v7()], |u| *u);
        assert_eq!(page.items, vec![id]);
        let cursor = page.next_cursor.unwrap();
        assert_eq!(
            PageRequest::parse(None, Some(&cursor)).unwrap().after,
            Some(id)
        );
        assert!(PageRequest::parse(None, Some("not a cursor!")).is_err());
        assert!(PageRequest::parse(None, Some("AAAA")).is_err());
    }

    #[test]
    fn a_list_read_whole_pages_like_one_paged_in_sql() {
        let mut ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
        let shuffled = vec![ids[3], ids[0], ids[4], ids[2], ids[1]];
        ids.sort();
        let first = PageRequest::parse(Some(2), None)
            .unwrap()
            .page_of(shuffled.clone(), |u| *u);
        assert_eq!(first.items, ids[..2]);
        let cursor = first.next_cursor.unwrap();
        let second = PageRequest::parse(Some(2), Some(&cursor))
            .unwrap()
            .page_of(shuffled.clone(), |u| *u);
        assert_eq!(second.items, ids[2..4]);
        let cursor = second.next_cursor.unwrap();
        let last = PageRequest::parse(Some(2), Some(&cursor))
            .unwrap()
            .page_of(shuffled, |u| *u);
        assert_eq!(last.items, ids[4..]);
        assert!(last.next_cursor.is_none());
    }

    #[test]
    fn last_page_has_no_cursor() {
        let page = PageRequest::parse(Some(2), None)
            .unwrap()
            .finish(vec![Uuid::now_v7()], |u| *u);
        assert!(page.next_cursor.is_none());
    }
}
