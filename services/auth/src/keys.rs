//! The signing key outlives restarts (tokens stay valid), and is created exactly once
//! even when several auth processes start together: the first insert wins.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use doc_store::{DocumentStore, Query, SortOrder, StoreError};
use service_kit::{Settings, TokenSigner};

use crate::store::{SIGNING_KEYS, SigningKey};

pub async fn load_or_create(
    store: &dyn DocumentStore,
    settings: &Settings,
) -> anyhow::Result<TokenSigner> {
    let newest = Query::all().sort_by("_id", SortOrder::Desc);
    let existing = SIGNING_KEYS.find_one(store, newest.clone()).await?;
    let key = match existing {
        Some(key) => key,
        None => {
            let kid = format!("k-{}", uuid::Uuid::now_v7().simple());
            let doc = SigningKey {
                seed: URL_SAFE_NO_PAD.encode(TokenSigner::generate_seed()),
                created_at: time::OffsetDateTime::now_utc(),
            };
            match store.commit(vec![SIGNING_KEYS.insert(&kid, &doc)]).await {
                Ok(()) | Err(StoreError::Duplicate { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            SIGNING_KEYS
                .find_one(store, newest)
                .await?
                .ok_or_else(|| anyhow::anyhow!("signing key vanished after creation"))?
        }
    };
    let seed: [u8; 32] = URL_SAFE_NO_PAD
        .decode(&key.value.seed)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("stored signing key {} is not 32 bytes", key.id))?;
    Ok(TokenSigner::from_seed(
        key.id,
        &seed,
        settings.jwt_issuer.clone(),
        settings.jwt_audience.clone(),
        Duration::from_secs(settings.access_token_ttl_secs),
    ))
}
