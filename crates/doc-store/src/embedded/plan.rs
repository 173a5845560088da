//! Which range a query walks. An index serves a query when the query fixes its leading
//! fields by equality: the range of keys under those values holds exactly the matches
//! of those filters. It also gives the query's order when the one field left after the
//! fixed ones is the sort field (or none is left and the sort is by id, which ends every
//! key). Among the indexes, the one fixing the most fields wins, then the one giving the
//! order; with none, the walk is the whole collection in id order. A unique field fixed
//! by equality beats them all: its range holds one document at most, whatever order
//! the query asks for.

use serde_json::Value;

use super::{IndexDef, key};
use crate::{Filter, Query};

#[derive(Debug, PartialEq)]
pub enum Source {
    /// The collection itself, in id order.
    Collection,
    /// The keys of `table` that start with `prefix` (the fixed fields' values).
    Index { table: String, prefix: Vec<u8> },
}

#[derive(Debug, PartialEq)]
pub struct Plan {
    pub source: Source,
    /// The walk yields documents in the query's order (so it can stop at a full page).
    pub sorted: bool,
    /// Every document the walk yields matches every filter (so skipping needs no read).
    pub covered: bool,
}

impl Plan {
    pub fn choose(query: &Query, indexes: &[IndexDef]) -> Plan {
        let sort = query.sort_field();
        let mut best = Plan {
            source: Source::Collection,
            sorted: sort == "_id",
            covered: query.filters.is_empty(),
        };
        let mut best_score = (false, 0, best.sorted);
        for index in indexes {
            let fixed: Vec<&Value> = index
                .fields
                .iter()
                .map_while(|field| equal_to(query, field))
                .collect();
            let k = fixed.len();
            let sorted = if sort == "_id" {
                k == index.fields.len()
            } else {
                k + 1 == index.fields.len() && index.fields[k] == sort
            };
            let score = (index.unique && k == 1, k, sorted);
            if score <= best_score {
                continue;
            }
            let mut prefix = Vec::new();
            for value in &fixed {
                key::push_value(&mut prefix, Some(value));
            }
            let covered = query.filters.iter().all(|f| match f {
                Filter::Eq(field, value) => index.fields[..k]
                    .iter()
                    .any(|fixed| fixed == field && equal_to(query, field) == Some(value)),
                Filter::Contains(..) => false,
            });
            best_score = score;
            best = Plan {
                source: Source::Index {
                    table: index.table.clone(),
                    prefix,
                },
                sorted,
                covered,
            };
        }
        best
    }
}

/// The value the query fixes `field` to (null included: it matches a missing field,
/// and both have the same key).
fn equal_to<'q>(query: &'q Query, field: &str) -> Option<&'q Value> {
    query.filters.iter().find_map(|f| match f {
        Filter::Eq(name, value) if name == field => Some(value),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SortOrder;

    fn index(fields: &[&str]) -> IndexDef {
        IndexDef {
            fields: fields.iter().map(|f| f.to_string()).collect(),
            unique: false,
            table: fields.join("+"),
        }
    }

    fn unique(field: &str) -> IndexDef {
        IndexDef {
            unique: true,
            ..index(&[field])
        }
    }

    fn chosen(query: &Query, indexes: &[IndexDef]) -> (Option<String>, bool, bool) {
        let plan = Plan::choose(query, indexes);
        let table = match plan.source {
            Source::Collection => None,
            Source::Index { table, .. } => Some(table),
        };
        (table, plan.sorted, plan.covered)
    }

    #[test]
    fn an_index_fixing_the_filters_and_giving_the_order_is_chosen() {
        let indexes = [
            index(&["user_id"]),
            index(&["created_at"]),
            index(&["user_id", "created_at"]),
        ];
        let q = Query::eq("user_id", "u1").sort_by("created_at", SortOrder::Desc);
        assert_eq!(
            chosen(&q, &indexes),
            (Some("user_id+created_at".into()), true, true)
        );
        let q = Query::all().sort_by("created_at", SortOrder::Asc);
        assert_eq!(
            chosen(&q, &indexes),
            (Some("created_at".into()), true, true)
        );
        // Equality on one field, in id order: the one-field index ends with the id.
        assert_eq!(
            chosen(&Query::eq("user_id", "u1"), &indexes),
            (Some("user_id".into()), true, true)
        );
    }

    #[test]
    fn a_unique_field_fixed_by_equality_beats_an_index_giving_the_order() {
        let indexes = [index(&["user_id", "created_at"]), unique("order_id")];
        let q = Query::eq("user_id", "u1")
            .and_eq("order_id", "o1")
            .sort_by("created_at", SortOrder::Desc);
        assert_eq!(
            chosen(&q, &indexes),
            (Some("order_id".into()), false, false)
        );
    }

    #[test]
    fn without_a_serving_index_the_walk_is_the_collection_or_an_unsorted_range() {
        let indexes = [index(&["owner_id"]), index(&["name"])];
        let q = Query::all().and_contains("name", "mug");
        assert_eq!(chosen(&q, &indexes), (None, true, false));
        let q = Query::all()
            .and_contains("name", "mug")
            .sort_by("name", SortOrder::Asc);
        assert_eq!(chosen(&q, &indexes), (Some("name".into()), true, false));
        let q = Query::eq("owner_id", "u1").sort_by("price", SortOrder::Asc);
        assert_eq!(chosen(&q, &indexes), (Some("owner_id".into()), false, true));
        let q = Query::eq("team", "red").sort_by("price", SortOrder::Asc);
        assert_eq!(chosen(&q, &indexes), (None, false, false));
        let q = Query::eq("owner_id", serde_json::Value::Null);
        assert_eq!(chosen(&q, &indexes), (Some("owner_id".into()), true, true));
    }
}
