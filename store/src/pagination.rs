//! Cursor pagination shared by every list.
//!
//! Rows have UUIDv7 keys, which sort by creation time, so a cursor is simply the last key seen
//! (opaque to callers: base64url).

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
    /// `limit` 0 or absent means the default; `cursor` empty or absent means the first page.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, StoreError> {
        let limit = match limit {
            None | Some(0) => DEFAULT_LIMIT,
            Some(n) if n <= MAX_LIMIT => n,
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
        assert_eq!(
            PageRequest::parse(Some(0), None).unwrap().limit,
            DEFAULT_LIMIT
        );
        assert_eq!(PageRequest::parse(Some(7), None).unwrap().limit, 7);
        assert!(PageRequest::parse(Some(MAX_LIMIT + 1), None).is_err());
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
    fn last_page_has_no_cursor() {
        let page = PageRequest::parse(Some(2), None)
            .unwrap()
            .finish(vec![Uuid::now_v7()], |u| *u);
        assert!(page.next_cursor.is_none());
    }
}
