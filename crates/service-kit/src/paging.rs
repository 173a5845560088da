//! `?page=&per_page=` on list routes, what a caller may list or look at, and the page
//! envelope every list answers with.

use doc_store::{Collection, DocumentStore, Query, Versioned};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use utoipa::{IntoParams, ToSchema};

use crate::{ApiError, AuthUser};

pub const MAX_PER_PAGE: u64 = 100;

#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page number.
    #[param(minimum = 1, default = 1)]
    pub page: Option<u64>,
    /// Items per page, 1 to 100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<u64>,
}

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u64,
    pub per_page: u64,
}

impl PageRequest {
    pub fn skip(&self) -> u64 {
        (self.page - 1) * self.per_page
    }
}

impl TryFrom<PageParams> for PageRequest {
    type Error = ApiError;

    fn try_from(p: PageParams) -> Result<Self, ApiError> {
        let page = p.page.unwrap_or(1);
        let per_page = p.per_page.unwrap_or(20);
        if page == 0 {
            return Err(ApiError::invalid("page", "page starts at 1"));
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(ApiError::invalid(
                "per_page",
                format!("per_page must be between 1 and {MAX_PER_PAGE}"),
            ));
        }
        Ok(Self { page, per_page })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub per_page: u64,
    /// Items matching the request across all pages.
    pub total: u64,
}

impl<T> Paged<T> {
    pub fn new(items: Vec<T>, request: PageRequest, total: u64) -> Self {
        Self {
            items,
            page: request.page,
            per_page: request.per_page,
            total,
        }
    }

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
        let query = query.page(request.skip(), request.per_page);
        let page = collection.find(store, &query).await?;
        let items = page.items.into_iter().map(view).collect();
        Ok(Self::new(items, request, page.total))
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

    #[test]
    fn pages_default_to_the_first_twenty_and_skip_whole_pages() {
        let r = PageRequest::try_from(PageParams {
            page: None,
            per_page: None,
        })
        .unwrap();
        assert_eq!((r.page, r.per_page, r.skip()), (1, 20, 0));
        let r = PageRequest::try_from(PageParams {
            page: Some(3),
            per_page: Some(10),
        })
        .unwrap();
        assert_eq!(r.skip(), 20);
    }

    #[test]
    fn out_of_range_paging_names_the_parameter() {
        for (page, per_page, field) in [(0, 20, "page"), (1, 0, "per_page"), (1, 101, "per_page")] {
            let e = PageRequest::try_from(PageParams {
                page: Some(page),
                per_page: Some(per_page),
            })
            .unwrap_err();
            assert_eq!(e.body().details["field"], field);
        }
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
