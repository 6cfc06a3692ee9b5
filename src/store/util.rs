//! Helpers over any [`ObjectStore`].
//!
//! Owns: conveniences built only on the trait (no backend specifics).
//! Must not depend on anything above `store`.

use super::{ObjectMeta, ObjectPath, ObjectStore, StoreError};

/// Lists every object under `prefix`, following continuation tokens page by page (pages of
/// 1,000 keys, S3's maximum). Works with any [`ObjectStore`].
///
/// The result is sorted by key: a store that pages in its own order (SeaweedFS listed natively
/// walks directories: `a/b` before `a-b`) still yields the trait's order here.
pub async fn list_all(
    store: &dyn ObjectStore,
    prefix: &ObjectPath,
) -> Result<Vec<ObjectMeta>, StoreError> {
    let mut objects = Vec::new();
    let mut continuation: Option<String> = None;
    loop {
        let page = store.list(prefix, continuation.clone(), 1000).await?;
        objects.extend(page.objects);
        match page.next {
            Some(token) if continuation.as_ref() == Some(&token) => {
                return Err(StoreError::Other {
                    path: prefix.uri(),
                    message: "the store returned the same continuation token twice".into(),
                });
            }
            Some(token) => continuation = Some(token),
            None => {
                objects.sort_by(|a, b| a.path.key().cmp(b.path.key()));
                return Ok(objects);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::ops::Range;

    use super::*;
    use crate::store::{BoxFuture, GetResult, ListPage, PutOptions, PutResult};

    /// Serves fixed pages: page `n` is returned for continuation token `n`.
    #[derive(Debug)]
    struct Paged {
        pages: Vec<(Vec<&'static str>, Option<&'static str>)>,
    }

    fn meta(key: &str) -> ObjectMeta {
        ObjectMeta {
            path: ObjectPath::new("bkt", key).unwrap(),
            size: 1,
            etag: "e".into(),
            last_modified_ms: 0,
        }
    }

    impl ObjectStore for Paged {
        fn get<'a>(
            &'a self,
            path: &'a ObjectPath,
            _: Option<Range<u64>>,
        ) -> BoxFuture<'a, Result<GetResult, StoreError>> {
            Box::pin(async move { Err(StoreError::NotFound { path: path.uri() }) })
        }
        fn head<'a>(
            &'a self,
            path: &'a ObjectPath,
        ) -> BoxFuture<'a, Result<ObjectMeta, StoreError>> {
            Box::pin(async move { Err(StoreError::NotFound { path: path.uri() }) })
        }
        fn put<'a>(
            &'a self,
            path: &'a ObjectPath,
            _: Vec<u8>,
            _: PutOptions,
        ) -> BoxFuture<'a, Result<PutResult, StoreError>> {
            Box::pin(
                async move { Err(StoreError::Other { path: path.uri(), message: "ro".into() }) },
            )
        }
        fn list<'a>(
            &'a self,
            _: &'a ObjectPath,
            continuation: Option<String>,
            _: usize,
        ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
            let index: usize = continuation.map_or(0, |t| t.parse().unwrap());
            let (keys, next) = self.pages[index].clone();
            Box::pin(async move {
                Ok(ListPage {
                    objects: keys.into_iter().map(meta).collect(),
                    next: next.map(str::to_owned),
                })
            })
        }
        fn delete<'a>(&'a self, _: &'a ObjectPath) -> BoxFuture<'a, Result<(), StoreError>> {
            Box::pin(async { Ok(()) })
        }
    }

    #[test]
    fn follows_tokens_and_sorts() {
        let store = Paged {
            pages: vec![
                (vec!["a/b", "a/c"], Some("1")),
                (vec!["a-b"], Some("2")),
                (vec!["a.b", "b"], None),
            ],
        };
        let prefix = ObjectPath::new("bkt", "").unwrap();
        let all = pollster::block_on(list_all(&store, &prefix)).unwrap();
        let keys: Vec<&str> = all.iter().map(|o| o.path.key()).collect();
        assert_eq!(keys, ["a-b", "a.b", "a/b", "a/c", "b"]);
    }

    #[test]
    fn a_repeated_token_is_an_error_not_a_loop() {
        let store = Paged { pages: vec![(vec!["a"], Some("1")), (vec!["b"], Some("1"))] };
        let prefix = ObjectPath::new("bkt", "").unwrap();
        let outcome = pollster::block_on(list_all(&store, &prefix));
        assert!(matches!(outcome, Err(StoreError::Other { .. })), "{outcome:?}");
    }
}
