//! `/api/v1/openapi.json`: the OpenAPI 3.1 description of the buyer API.
//!
//! Hand-maintained from [`OPERATIONS`] rather than derived with utoipa's macros (the handlers
//! use our own extractors and `serde_json::Value` answers, which the derive cannot see). A test
//! requests every listed operation against a running server and checks that each one is routed
//! (not the 404 fallback), so the list cannot silently drift from the router.

use axum::Json;
use serde_json::{Map, Value, json};

/// (method, path, summary, needs a signed-in buyer, request body schema name)
pub const OPERATIONS: &[(&str, &str, &str, bool, Option<&str>)] = &[
    (
        "get",
        "/api/v1/events",
        "List events (filters: sport, day=YYYY-MM-DD, venue)",
        false,
        None,
    ),
    (
        "get",
        "/api/v1/events/{id}",
        "One event with its offers and capacity left",
        false,
        None,
    ),
    (
        "post",
        "/api/v1/accounts",
        "Sign up (always 202; an activation link is mailed)",
        false,
        Some("SignUp"),
    ),
    (
        "post",
        "/api/v1/accounts/activate",
        "Activate an account with the mailed token",
        false,
        Some("Token"),
    ),
    (
        "post",
        "/api/v1/auth/login",
        "Log in; sets the refresh cookie; merges a guest cart",
        false,
        Some("Login"),
    ),
    (
        "post",
        "/api/v1/auth/refresh",
        "Rotate the refresh cookie and get a new access token",
        false,
        None,
    ),
    (
        "post",
        "/api/v1/auth/logout",
        "End the session (revokes the refresh-token family)",
        false,
        None,
    ),
    (
        "post",
        "/api/v1/password/forgot",
        "Mail a password-reset link (always 202)",
        false,
        Some("Email"),
    ),
    (
        "post",
        "/api/v1/password/reset",
        "Set a new password with the mailed token",
        false,
        Some("Reset"),
    ),
    (
        "post",
        "/api/v1/password/change",
        "Change the password (the current one is required; every session ends)",
        true,
        Some("PasswordChange"),
    ),
    ("get", "/api/v1/me", "The signed-in account", true, None),
    ("get", "/api/v1/cart", "The account's cart", true, None),
    ("delete", "/api/v1/cart", "Empty the cart", true, None),
    (
        "put",
        "/api/v1/cart/items",
        "Set the quantity of an offer in the cart (1..=10)",
        true,
        Some("CartItem"),
    ),
    (
        "delete",
        "/api/v1/cart/items/{id}",
        "Remove an offer from the cart",
        true,
        None,
    ),
    (
        "post",
        "/api/v1/checkout",
        "Turn the cart into a pending order (Idempotency-Key header)",
        true,
        None,
    ),
    ("get", "/api/v1/orders", "The account's orders", true, None),
    ("get", "/api/v1/orders/{id}", "One order", true, None),
    (
        "post",
        "/api/v1/orders/{id}/cancel",
        "Cancel a pending order or refund a paid one",
        true,
        None,
    ),
    (
        "post",
        "/api/v1/payments/{id}/card",
        "Built-in processor: pay with a (test) card",
        false,
        Some("Card"),
    ),
    (
        "post",
        "/api/v1/payments/webhook",
        "Processor webhook (OG-Signature: t=..,v1=HMAC-SHA256)",
        false,
        Some("Webhook"),
    ),
    ("get", "/api/v1/tickets", "The account's tickets", true, None),
    ("get", "/api/v1/tickets/{id}", "One ticket", true, None),
    (
        "get",
        "/api/v1/tickets/{id}/qr.png",
        "The ticket's QR code as PNG",
        true,
        None,
    ),
    (
        "get",
        "/api/v1/tickets/{id}/qr.svg",
        "The ticket's QR code as SVG",
        true,
        None,
    ),
    (
        "post",
        "/api/v1/tickets/{id}/transfer",
        "Give the ticket to someone (always 202: an account holder gets it at once, anyone else is invited by mail to claim it)",
        true,
        Some("Transfer"),
    ),
    (
        "post",
        "/api/v1/tickets/{id}/binding",
        "Bind the ticket to this phone's P-256 key: the issuer-signed bound ticket, the issuer's time in ms and the rotation period (409 too_many_rebinds after the allowed moves to another phone)",
        true,
        Some("Binding"),
    ),
    (
        "post",
        "/api/v1/transfers/claim",
        "Claim a ticket someone gave you, with the token of the mailed invitation",
        true,
        Some("Token"),
    ),
    ("get", "/api/v1/openapi.json", "This document", false, None),
];

fn schemas() -> Value {
    let s = |props: Value, required: &[&str]| json!({ "type": "object", "additionalProperties": false, "properties": props, "required": required });
    json!({
        "Error": s(json!({ "error": { "type": "object", "properties": {
            "code": { "type": "string", "description": "stable machine-readable code" },
            "message": { "type": "string" } } } }), &["error"]),
        "SignUp": s(json!({ "email": { "type": "string", "format": "email", "maxLength": 254 },
            "password": { "type": "string", "minLength": 8, "maxLength": 128 },
            "name": { "type": "string", "maxLength": 80 },
            "accept_terms": { "type": "boolean", "const": true,
                "description": "the buyer accepted the terms of sale (/terms) and the privacy policy (/privacy); recorded with the time" } }),
            &["email", "password", "accept_terms"]),
        "Token": s(json!({ "token": { "type": "string" } }), &["token"]),
        "Email": s(json!({ "email": { "type": "string", "format": "email" } }), &["email"]),
        "PasswordChange": s(json!({ "current_password": { "type": "string" },
            "new_password": { "type": "string", "minLength": 8, "maxLength": 128 } }), &["current_password", "new_password"]),
        "Reset": s(json!({ "token": { "type": "string" }, "password": { "type": "string", "minLength": 8, "maxLength": 128 } }), &["token", "password"]),
        "CartItem": s(json!({ "offer_id": { "type": "integer" }, "quantity": { "type": "integer", "minimum": 1, "maximum": 10 } }), &["offer_id", "quantity"]),
        "Login": s(json!({ "email": { "type": "string" }, "password": { "type": "string" },
            "cart": { "type": "array", "items": { "$ref": "#/components/schemas/CartItem" } } }), &["email", "password"]),
        "Card": s(json!({ "card_number": { "type": "string", "examples": ["4242 4242 4242 4242", "4000 0000 0000 0002"] } }), &["card_number"]),
        "Webhook": s(json!({ "id": { "type": "string" }, "type": { "type": "string", "enum": ["payment.succeeded", "payment.declined"] },
            "payment_id": { "type": "string" }, "amount_cents": { "type": "integer" }, "created": { "type": "integer" } }),
            &["id", "type", "payment_id", "amount_cents", "created"]),
        "Transfer": s(json!({ "to_email": { "type": "string", "format": "email" } }), &["to_email"]),
        "Binding": s(json!({ "public_key": { "type": "string", "maxLength": 200,
            "description": "base64url of a SEC1 P-256 public key, compressed (33 bytes) or uncompressed (65 bytes)" } }), &["public_key"]),
    })
}

/// The success answer of an operation, as the handler sends it.
pub fn success_status(method: &str, path: &str) -> &'static str {
    match (method, path) {
        ("post", "/api/v1/accounts" | "/api/v1/password/forgot" | "/api/v1/tickets/{id}/transfer") => "202",
        ("post", "/api/v1/checkout") => "201",
        ("post", "/api/v1/auth/logout") | ("delete", "/api/v1/cart") => "204",
        _ => "200",
    }
}

/// The header an operation cannot do without.
fn required_header(path: &str) -> Option<Value> {
    let (name, description, schema) = match path {
        "/api/v1/checkout" => (
            "Idempotency-Key",
            "8 to 64 characters chosen by the client; the same key returns the same order",
            json!({ "type": "string", "minLength": 8, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]+$" }),
        ),
        "/api/v1/payments/webhook" => (
            "OG-Signature",
            "t=<unix time>,v1=<hex HMAC-SHA256 of t.body with the webhook secret>",
            json!({ "type": "string" }),
        ),
        _ => return None,
    };
    Some(json!({ "name": name, "in": "header", "required": true, "description": description, "schema": schema }))
}

/// Builds the document.
pub fn build() -> Value {
    let mut paths = Map::new();
    for (method, path, summary, auth, body) in OPERATIONS {
        let error = json!({ "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } });
        let mut op = json!({
            "summary": summary,
            "responses": {
                success_status(method, path): { "description": "success" },
                "405": { "description": "method not allowed (see the Allow header)", "content": error },
                "413": { "description": "request body too large", "content": error },
                "429": { "description": "too many attempts", "content": error,
                    "headers": { "Retry-After": { "description": "seconds to wait", "schema": { "type": "integer" } } } },
                "4XX": { "description": "client error", "content": error }
            }
        });
        let mut params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": if *path == "/api/v1/payments/{id}/card" { "string" } else { "integer" } } }))
            .collect();
        params.extend(required_header(path));
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        if *auth {
            op["security"] = json!([{ "bearer": [] }, { "cookie": [] }]);
        }
        if let Some(b) = body {
            op["requestBody"] = json!({ "required": true, "content": { "application/json": {
                "schema": { "$ref": format!("#/components/schemas/{b}") } } } });
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "og-tickets issuer: buyer API", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" },
                "cookie": { "type": "apiKey", "in": "cookie", "name": crate::shop::auth::ACCESS_COOKIE }
            }
        }
    })
}

pub async fn document() -> Json<Value> {
    Json(build())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.route(...)` in `shop_api.rs` (path and methods), read from the source itself.
    fn routed() -> Vec<(String, String)> {
        let src = include_str!("shop_api.rs");
        let mut out = Vec::new();
        for line in src.lines().map(str::trim).filter(|l| l.starts_with(".route(")) {
            let path = if line.contains("WEBHOOK_PATH") {
                crate::shop::payment::WEBHOOK_PATH.to_owned()
            } else {
                line.split('"').nth(1).expect("a quoted path").to_owned()
            };
            for m in ["get", "post", "put", "delete"] {
                if [" ", "(", ".", ":"]
                    .iter()
                    .any(|pre| line.contains(&format!("{pre}{m}(")))
                {
                    out.push((m.to_owned(), path.replace("{payment_id}", "{id}")));
                }
            }
        }
        out
    }

    #[test]
    fn every_route_of_the_buyer_api_is_in_the_document_and_nothing_else() {
        let mut documented: Vec<(String, String)> = OPERATIONS
            .iter()
            .map(|(m, p, ..)| (m.to_string(), p.to_string()))
            .collect();
        let mut routes = routed();
        documented.sort();
        routes.sort();
        assert_eq!(routes.len(), 29, "{routes:?}");
        assert_eq!(documented, routes);
        let doc = build();
        for (m, p) in &routes {
            assert!(doc["paths"][p][m].is_object(), "{m} {p}");
        }
        assert!(doc["paths"]["/api/v1/checkout"]["post"]["responses"]["201"].is_object());
        assert!(doc["paths"]["/api/v1/accounts"]["post"]["responses"]["202"].is_object());
        assert!(doc["paths"]["/api/v1/auth/logout"]["post"]["responses"]["204"].is_object());
    }
}
