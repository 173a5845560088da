//! The notification service's collections and the shape of what it stores in them.

use doc_store::{Collection, CollectionSpec};

use crate::domain::{Delivery, Notification};

/// Customers' notifications; the id is the id of the event each one reports.
pub const NOTIFICATIONS: Collection<Notification> = Collection::new("notifications");
/// One document per notification and channel; the id is [`Delivery::id`].
pub const DELIVERIES: Collection<Delivery> = Collection::new("deliveries");

pub const COLLECTIONS: &[CollectionSpec] = &[
    // Listing is by owner, newest first.
    NOTIFICATIONS.spec(&[], &[&["user_id", "created_at"]]),
    // The dispatcher looks for pending deliveries, earliest due first.
    DELIVERIES.spec(&[], &[&["status", "next_attempt_at"]]),
];
