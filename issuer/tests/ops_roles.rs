//! Operator roles over HTTP: every operator route (API and console, as `ops::access::ROUTES`
//! lists them) tried by an admin, a supervisor and a support operator.

mod ops_support;

use og_issuer::ops::access::{Access, ROUTES, Role};
use og_shared::Offer;
use ops_support::spawn_app;
use serde_json::json;

fn operator(app: &ops_support::TestApp, role: Role) -> String {
    let email = format!("{}-{}@example.org", role.name(), og_issuer::trust::keys::random_32()[0]);
    app.db
        .write_sync(|tx| og_issuer::ops::auth::create_operator_with_role(tx, &email, role, og_issuer::now()))
        .unwrap()
        .1
        .to_string()
}

#[tokio::test]
async fn every_operator_route_lets_in_exactly_the_roles_it_names_and_answers_403_to_the_others() {
    let app = spawn_app().await;
    let admin = operator(&app, Role::Admin);
    let device = app.device(&admin, &[1], "Matrix gate").await;
    let serial = app.tickets(1, Offer::Solo, 1)[0].serial;
    let (csrf_cookie, csrf) = app.csrf();
    let mut wrong = Vec::new();
    for role in Role::ALL {
        let token = operator(&app, role);
        for (method, path, access) in ROUTES {
            let url = path
                .replace("/devices/{id}", &format!("/devices/{}", device.device_id))
                .replace("/refunds-due/{id}", "/refunds-due/999")
                .replace("/refunds/{id}", "/refunds/999")
                .replace("{id}", "2")
                .replace("{serial}", &serial.to_string());
            let mut req = app
                .client
                .request(method.clone(), app.url(&url))
                .bearer_auth(&token)
                .header("cookie", &csrf_cookie);
            if *method != axum::http::Method::GET {
                req = if path.starts_with("/api/") {
                    // A ticket revocation: the route's own requirement (a supervisor's).
                    if *path == "/api/v1/ops/revocations" {
                        req.json(&json!({ "kind": "ticket", "serial": 999_999, "reason": "fraud" }))
                    } else {
                        req.json(&json!({}))
                    }
                } else {
                    req.form(&[("csrf", csrf.as_str())])
                };
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
            let body = res.text().await.unwrap();
            let allowed = match access {
                Access::Open => true,
                Access::Needs(p) => role.allows(*p),
            };
            let ok = if allowed {
                status != 401
                    && status != 403
                    && status != 405
                    && (*access == Access::Open || location.as_deref() != Some("/ops/login"))
                    && !body.contains("no such page or API route")
            } else {
                status == 403
            };
            if !ok {
                wrong.push(format!(
                    "{method} {url} as {}: {status} {location:?} (allowed: {allowed})",
                    role.name()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_supervisor_revokes_one_ticket_but_cannot_revoke_a_whole_account() {
    let app = spawn_app().await;
    let supervisor = operator(&app, Role::Supervisor);
    let serial = app.tickets(1, Offer::Solo, 1)[0].serial;
    let one = app
        .post(
            "/api/v1/ops/revocations",
            Some(&supervisor),
            &json!({ "kind": "ticket", "serial": serial, "reason": "fraud" }),
        )
        .await;
    assert_eq!(one.status(), 201);
    let buyer = app.buyer("banned@example.org");
    let all = app
        .post(
            "/api/v1/ops/revocations",
            Some(&supervisor),
            &json!({ "kind": "account", "account_id": buyer, "reason": "account_banned" }),
        )
        .await;
    assert_eq!(all.status(), 403);
    assert_eq!(
        app.count("SELECT count(*) FROM accounts WHERE status = 'banned'"),
        0,
        "nobody was banned"
    );
}

#[tokio::test]
async fn a_support_operator_sees_the_console_but_is_told_why_a_change_is_refused() {
    let app = spawn_app().await;
    let support = operator(&app, Role::Support);
    let html = app.get("/ops", Some(&support)).await;
    assert_eq!(html.status(), 200);
    let refused = app.get("/ops/enrol", Some(&support)).await;
    assert_eq!(refused.status(), 403);
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("Your role (support) cannot manage gates and devices"),
        "{text}"
    );
}

#[tokio::test]
async fn a_role_change_takes_effect_at_the_next_request_of_the_same_token() {
    let app = spawn_app().await;
    let email = "changing@example.org";
    let token = app
        .db
        .write_sync(|tx| og_issuer::ops::auth::create_operator_with_role(tx, email, Role::Admin, og_issuer::now()))
        .unwrap()
        .1
        .to_string();
    let body = json!({ "event_ids": [1] });
    assert_eq!(
        app.post("/api/v1/ops/enrolment-tokens", Some(&token), &body)
            .await
            .status(),
        201
    );
    app.db
        .write_sync(|tx| og_issuer::ops::auth::create_operator_with_role(tx, email, Role::Support, og_issuer::now()))
        .unwrap();
    assert_eq!(
        app.post("/api/v1/ops/enrolment-tokens", Some(&token), &body)
            .await
            .status(),
        403
    );
}
