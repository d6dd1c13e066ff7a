//! The queries of purchases (`purchases`: one purchase key, the tickets signed with it): made
//! when tickets are issued or re-issued (`trust::issuance`), their tag read when a purchase is
//! revoked (`trust::revocation`); an order's purchase when its buyer refunds it (`shop::orders`).

use super::sql::{Connection, OptionalExtension, Result, params};

/// A new purchase; answers its id.
pub fn insert(
    tx: &Connection,
    order_id: Option<i64>,
    account_id: i64,
    kind: &str,
    purchase_key: &[u8],
    purchase_tag_hex: &str,
    now: i64,
) -> Result<i64> {
    tx.query_row(
        "INSERT INTO purchases (order_id, account_id, kind, purchase_key, purchase_tag, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        params![order_id, account_id, kind, purchase_key, purchase_tag_hex, now],
        |r| r.get::<_, i64>(0),
    )
}

/// A purchase's tag (hex), if the purchase exists.
pub fn tag(conn: &Connection, purchase_id: i64) -> Result<Option<String>> {
    conn.query_row("SELECT purchase_tag FROM purchases WHERE id = ?1", [purchase_id], |r| {
        r.get(0)
    })
    .optional()
}

/// The purchase of an order, if its tickets were issued (`shop::orders`' refund of an order).
pub fn id_of_order(conn: &Connection, order_id: i64) -> Result<Option<i64>> {
    conn.query_row("SELECT id FROM purchases WHERE order_id = ?1", [order_id], |r| r.get(0))
        .optional()
}
