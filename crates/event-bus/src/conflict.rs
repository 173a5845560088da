use std::time::Duration;

use doc_store::StoreError;

use crate::BoxError;

const ATTEMPTS: u32 = 20;

/// Runs a read-decide-write step again while its guarded write loses a race
/// (`StoreError::VersionConflict`), re-reading each time. Other errors, and a conflict
/// that persists past 20 attempts, go back to the caller (and from a handler, to the
/// bus's retry and parking).
pub async fn retry_on_conflict<T, F, Fut>(mut step: F) -> Result<T, BoxError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, BoxError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match step().await {
            Err(e)
                if attempt < ATTEMPTS
                    && matches!(
                        e.downcast_ref::<StoreError>(),
                        Some(StoreError::VersionConflict { .. })
                    ) =>
            {
                // A little spread so that racing writers do not collide again in step.
                tokio::time::sleep(Duration::from_millis(u64::from(attempt % 5))).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_lost_race_is_retried_and_other_errors_are_not() {
        let calls = AtomicU32::new(0);
        let result = retry_on_conflict(|| async {
            if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                Err(Box::new(StoreError::VersionConflict {
                    collection: "c".into(),
                    id: "i".into(),
                }) as BoxError)
            } else {
                Ok(7)
            }
        })
        .await
        .unwrap();
        assert_eq!((result, calls.load(Ordering::SeqCst)), (7, 4));

        let calls = AtomicU32::new(0);
        let failed: Result<(), _> = retry_on_conflict(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), BoxError>("boom".into())
        })
        .await;
        assert!(failed.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
