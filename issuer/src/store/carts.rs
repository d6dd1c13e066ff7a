//! The queries of buyers' carts (`cart_items`): a cart's lines, setting, removing and clearing
//! them, one line's quantity. Called by `shop::orders` (the cart, checkout's emptying of it, the
//! merge of a guest cart at login); whether a line fits is decided there.

use super::sql::{Connection, OptionalExtension, Result, params};

/// An account's cart lines (`offer_id`, `quantity`), by offer.
pub fn items(conn: &Connection, account_id: i64) -> Result<Vec<(i64, i64)>> {
    let mut stmt =
        conn.prepare_cached("SELECT offer_id, quantity FROM cart_items WHERE account_id = ?1 ORDER BY offer_id")?;
    stmt.query_map([account_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
}

/// Sets the quantity of an offer in an account's cart (adds the line or replaces its quantity).
pub fn set(tx: &Connection, account_id: i64, offer_id: i64, quantity: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO cart_items (account_id, offer_id, quantity) VALUES (?1, ?2, ?3)
         ON CONFLICT (account_id, offer_id) DO UPDATE SET quantity = excluded.quantity",
        params![account_id, offer_id, quantity],
    )?;
    Ok(())
}

/// Removes an offer's line from an account's cart.
pub fn remove(tx: &Connection, account_id: i64, offer_id: i64) -> Result<()> {
    tx.execute(
        "DELETE FROM cart_items WHERE account_id = ?1 AND offer_id = ?2",
        params![account_id, offer_id],
    )?;
    Ok(())
}

/// Empties an account's cart.
pub fn clear(tx: &Connection, account_id: i64) -> Result<()> {
    tx.execute("DELETE FROM cart_items WHERE account_id = ?1", [account_id])?;
    Ok(())
}

/// How many of an offer the account's cart holds (0 when none), in one statement.
pub fn quantity_or_zero(conn: &Connection, account_id: i64, offer_id: i64) -> Result<i64> {
    conn.query_row(
        "SELECT COALESCE((SELECT quantity FROM cart_items WHERE account_id = ?1 AND offer_id = ?2), 0)",
        params![account_id, offer_id],
        |r| r.get(0),
    )
}

/// How many of an offer the account's cart holds, `None` without such a line.
pub fn quantity(conn: &Connection, account_id: i64, offer_id: i64) -> Result<Option<i64>> {
    conn.query_row(
        "SELECT quantity FROM cart_items WHERE account_id = ?1 AND offer_id = ?2",
        params![account_id, offer_id],
        |r| r.get(0),
    )
    .optional()
}
