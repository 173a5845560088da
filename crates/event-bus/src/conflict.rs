use std::{future::Future, time::Duration};

use doc_store::StoreError;

use crate::BoxError;

/// An error that may be a guarded write losing a race (`StoreError::VersionConflict`):
/// the one failure that re-reading and deciding again can cure.
pub trait LostRace {
    fn is_lost_race(&self) -> bool;
}

impl LostRace for StoreError {
    fn is_lost_race(&self) -> bool {
        matches!(self, StoreError::VersionConflict { .. })
    }
}

impl LostRace for BoxError {
    fn is_lost_race(&self) -> bool {
        self.downcast_ref::<StoreError>()
            .is_some_and(LostRace::is_lost_race)
    }
}

/// How a read-decide-write step is run again while its guarded write loses races.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConflictRetry {
    /// Tries in all, the first one included.
    pub attempts: u32,
    /// Whether to pause a few milliseconds (0 to 4, by attempt) before the next try.
    /// Event handlers race each other in bursts and spread out; a request that raced
    /// re-reads at once.
    pub spread: bool,
}

impl ConflictRetry {
    /// What [`retry_on_conflict`] does for event handlers.
    const HANDLER: Self = Self {
        attempts: 20,
        spread: true,
    };

    /// Runs `step` until it ends in anything but a lost race, or `attempts` tries have
    /// all lost; then the last lost race is returned, for the caller to report as it
    /// sees fit.
    pub async fn run<T, E, F, Fut>(self, mut step: F) -> Result<T, E>
    where
        E: LostRace,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match step().await {
                Err(e) if attempt < self.attempts && e.is_lost_race() => {
                    if self.spread {
                        // So that racing writers do not collide again in step.
                        tokio::time::sleep(Duration::from_millis(u64::from(attempt % 5))).await;
                    }
                }
                other => return other,
            }
        }
    }
}

/// Runs a read-decide-write step again while its guarded write loses a race
/// (`StoreError::VersionConflict`), re-reading each time. Other errors, and a conflict
/// that persists past 20 attempts, go back to the caller (and from a handler, to the
/// bus's retry and parking).
pub async fn retry_on_conflict<T, F, Fut>(step: F) -> Result<T, BoxError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, BoxError>>,
{
    ConflictRetry::HANDLER.run(step).await
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

    #[tokio::test]
    async fn a_race_lost_every_time_gives_up_after_the_attempts_with_the_conflict() {
        let calls = AtomicU32::new(0);
        let retry = ConflictRetry {
            attempts: 5,
            spread: false,
        };
        let lost: Result<(), StoreError> = retry
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(StoreError::VersionConflict {
                    collection: "c".into(),
                    id: "i".into(),
                })
            })
            .await;
        assert!(lost.unwrap_err().is_lost_race());
        assert_eq!(calls.load(Ordering::SeqCst), 5);
    }
}
