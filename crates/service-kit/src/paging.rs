//! `?per_page=` with `?after=` (a cursor) or `?page=` on list routes, what a caller may
//! list or look at, and the page envelope every list answers with.
//!
//! A page ends with `has_more` and, when more follow, `next`: this list's own link with
//! `after` set to a cursor naming the page's last item. Following `next` costs one page
//! however deep it is, since the store starts its walk at the cursor. `page=N` still
//! works for clients written against it, at the cost of walking past the skipped
//! entries. There is no `total`: counting every match would cost the whole result on
//! every request, which is what paging is meant to avoid.

use axum::{extract::OriginalUri, http::request::Parts};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use doc_store::{Collection, Cursor, DocumentStore, Query, Versioned};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use utoipa::{IntoParams, ToSchema};

use crate::{ApiError, ApiQuery, AuthUser};

pub const MAX_PER_PAGE: u64 = 100;

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page number; costs the pages before it. Prefer following `next`.
    #[param(minimum = 1, default = 1)]
    pub page: Option<u64>,
    /// Items per page, 1 to 100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<u64>,
    /// Where the page starts: the cursor from the previous page's `next` (not with `page`).
    pub after: Option<String>,
}

/// A validated page request, and the link its `next` is built on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// The page asked for by number, `None` when by cursor.
    pub page: Option<u64>,
    pub per_page: u64,
    pub after: Option<Cursor>,
    /// The request's path and query without `page` and `after`.
    link: String,
}

impl PageRequest {
    pub fn skip(&self) -> u64 {
        // `new` refuses a page whose offset does not fit.
        self.page.map_or(0, |page| (page - 1) * self.per_page)
    }

    /// `query` limited to this page.
    pub fn apply(&self, query: Query) -> Query {
        if self.after.is_some() {
            query.page_after(self.after.clone(), self.per_page)
        } else {
            query.page(self.skip(), self.per_page)
        }
    }

    /// The link to the page starting after `cursor`.
    pub fn next_link(&self, cursor: &Cursor) -> String {
        let separator = if self.link.contains('?') { '&' } else { '?' };
        format!("{}{separator}after={}", self.link, encode_cursor(cursor))
    }

    /// Validates `params`; `uri` is the request's (path and query) for the `next` link.
    pub fn new(params: PageParams, uri: &axum::http::Uri) -> Result<Self, ApiError> {
        let per_page = params.per_page.unwrap_or(20);
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(ApiError::invalid(
                "per_page",
                format!("per_page must be between 1 and {MAX_PER_PAGE}"),
            ));
        }
        match params.page {
            Some(0) => return Err(ApiError::invalid("page", "page starts at 1")),
            Some(page) if (page - 1).checked_mul(per_page).is_none() => {
                return Err(ApiError::invalid("page", "page is too large"));
            }
            _ => {}
        }
        let after = match params.after {
            Some(_) if params.page.is_some() => {
                return Err(ApiError::invalid(
                    "after",
                    "a page is chosen by page or by after, not both",
                ));
            }
            Some(token) => Some(decode_cursor(&token).ok_or_else(|| {
                ApiError::invalid("after", "not a cursor from a next link of this list")
            })?),
            None => None,
        };
        let page = match after {
            Some(_) => None,
            None => Some(params.page.unwrap_or(1)),
        };
        Ok(Self {
            page,
            per_page,
            after,
            link: link_without_position(uri),
        })
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PageRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ApiQuery(params) = ApiQuery::<PageParams>::from_request_parts(parts, state).await?;
        // The URI the client sent, before any nesting stripped a prefix from it.
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.clone(), |original| original.0.clone());
        Self::new(params, &uri)
    }
}

/// The query string is decoded and encoded again, so `p%61ge` is `page` here as it is
/// to the handler.
fn link_without_position(uri: &axum::http::Uri) -> String {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    let kept: Vec<_> = pairs
        .into_iter()
        .filter(|(name, _)| name != "page" && name != "after")
        .collect();
    match serde_urlencoded::to_string(&kept) {
        Ok(query) if !query.is_empty() => format!("{}?{query}", uri.path()),
        _ => uri.path().to_owned(),
    }
}

/// A cursor as a client carries it: opaque, URL-safe, and only as trusted as any other
/// input (a forged one can only start a page somewhere else in the same list).
fn encode_cursor(cursor: &Cursor) -> String {
    let json = serde_json::to_vec(&(&cursor.value, &cursor.id)).expect("a cursor serialises");
    URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(token: &str) -> Option<Cursor> {
    let json = URL_SAFE_NO_PAD.decode(token).ok()?;
    let (value, id): (serde_json::Value, String) = serde_json::from_slice(&json).ok()?;
    // Sort values are plain; anything else did not come from a `next` link.
    let plain = !(value.is_object() || value.is_array());
    plain.then_some(Cursor { value, id })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// The page number asked for; absent when the page was asked for by cursor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    pub per_page: u64,
    /// Whether more items follow this page.
    pub has_more: bool,
    /// The link to the next page (this list's link with `after` set), null on the last.
    pub next: Option<String>,
}

impl<T> Paged<T> {
    /// Page `request` of the documents in `collection` that match `query`, in the order
    /// it sorts by, each shown with `view`.
    pub async fn find<D>(
        store: &dyn DocumentStore,
        collection: Collection<D>,
        query: Query,
        request: PageRequest,
        view: impl FnMut(Versioned<D>) -> T + Send,
    ) -> Result<Self, ApiError>
    where
        D: Serialize + DeserializeOwned,
    {
        let page = collection.find(store, &request.apply(query)).await?;
        Ok(Self {
            items: page.items.into_iter().map(view).collect(),
            page: request.page,
            per_page: request.per_page,
            has_more: page.next.is_some(),
            next: page.next.as_ref().map(|cursor| request.next_link(cursor)),
        })
    }
}

/// What `user` may list of the documents that name their owner in `owner_field`: all
/// of them for an admin, their own for anyone else. The lists' counterpart of
/// [`AuthUser::may_access`].
pub fn visible_to(user: &AuthUser, owner_field: &str) -> Query {
    if user.is_admin() {
        Query::all()
    } else {
        Query::eq(owner_field, user.id.as_str())
    }
}

/// Document `id` of `collection` if `user` may see it: it is theirs by `owner`, or they
/// are an admin. Anyone else gets `not_found`, as for a missing one, so that other
/// people's ids are not confirmed to exist. The one-document counterpart of
/// [`visible_to`].
pub async fn get_visible<D>(
    store: &dyn DocumentStore,
    collection: Collection<D>,
    id: &str,
    user: &AuthUser,
    owner: impl FnOnce(&D) -> &str,
    not_found: impl FnOnce() -> ApiError,
) -> Result<Versioned<D>, ApiError>
where
    D: Serialize + DeserializeOwned,
{
    collection
        .get(store, id)
        .await?
        .filter(|d| user.may_access(owner(&d.value)))
        .ok_or_else(not_found)
}

#[cfg(test)]
mod tests {
    use event_contracts::Role;

    use super::*;

    fn request(query: &str) -> Result<PageRequest, ApiError> {
        let uri: axum::http::Uri = format!("/api/v1/things{query}").parse().unwrap();
        let params = axum::extract::Query::<PageParams>::try_from_uri(&uri)
            .unwrap()
            .0;
        PageRequest::new(params, &uri)
    }

    #[test]
    fn pages_default_to_the_first_twenty_and_skip_whole_pages() {
        let r = request("").unwrap();
        assert_eq!((r.page, r.per_page, r.skip()), (Some(1), 20, 0));
        let r = request("?page=3&per_page=10").unwrap();
        assert_eq!(r.skip(), 20);
    }

    #[test]
    fn out_of_range_paging_names_the_parameter() {
        for (query, field) in [
            ("?page=0", "page"),
            ("?per_page=0", "per_page"),
            ("?per_page=101", "per_page"),
            ("?after=not-a-cursor", "after"),
            ("?page=2&after=WyJhIiwiYiJd", "after"),
            // ["{\"$ne\":1}" as an object, "b"]: not a sort value.
            ("?after=W3siJG5lIjoxfSwiYiJd", "after"),
            ("?page=18446744073709551615&per_page=100", "page"),
        ] {
            let e = request(query).unwrap_err();
            assert_eq!(e.body().details["field"], field, "{query}");
        }
    }

    #[test]
    fn next_keeps_the_filters_and_replaces_the_position() {
        let cursor = Cursor {
            value: serde_json::json!("Blue mug"),
            id: "p-9".into(),
        };
        let r = request("?name=blue%20mug&p%61ge=2&per_page=5").unwrap();
        let next = r.next_link(&cursor);
        let (path, token) = next.split_once("&after=").unwrap();
        assert_eq!(path, "/api/v1/things?name=blue+mug&per_page=5");
        assert_eq!(decode_cursor(token), Some(cursor.clone()));
        let followed = request(&next["/api/v1/things".len()..]).unwrap();
        assert_eq!(
            (followed.page, followed.after),
            (None, Some(cursor.clone()))
        );
        assert_eq!(
            request("").unwrap().next_link(&cursor),
            format!("/api/v1/things?after={token}")
        );
    }

    #[test]
    fn an_admin_lists_everything_and_anyone_else_only_their_own() {
        let caller = |role| AuthUser {
            id: "u1".into(),
            email: "u1@example.com".into(),
            role,
        };
        assert_eq!(visible_to(&caller(Role::Admin), "user_id"), Query::all());
        assert_eq!(
            visible_to(&caller(Role::Customer), "user_id"),
            Query::eq("user_id", "u1")
        );
    }
}
