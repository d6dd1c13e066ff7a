//! Who may do what: operator roles, the permissions they grant, and the one table that says
//! which permission every operator route needs ([`ROUTES`]), applied by one layer
//! (`web::auth::authorize`) over every operator route, API (`/api/v1/ops/...`) and console (`/ops/...`).
//!
//! | permission | admin | supervisor | support |
//! |---|---|---|---|
//! | `Read` (devices, events, conflicts, scans, revocation log, refunds due, tickets, search) | yes | yes | yes |
//! | `ResendMail` | yes | yes | yes |
//! | `ManageGates` (enrolment tokens, rename, rotate, revoke devices) | yes | yes | no |
//! | `RevokeTicket` (one ticket), `PaperException` | yes | yes | no |
//! | `ReadAudit` | yes | yes | no |
//! | `ManageEvents` (create, change, publish, cancel events and offers) | yes | no | no |
//! | `RevokeAccount` (a purchase, an account, a ban), `IssueComps`, `Money` (refunds), `Export` | yes | no | no |
//!
//! A route missing from the table is refused to everyone (fails closed). An action whose
//! requirement depends on its input (revoking a ticket or a whole account through the same
//! route) checks the stronger permission with [`crate::ops::auth::OperatorAuth::require`], the
//! same check.

use axum::http::Method;

/// What an operator account may do (`accounts.operator_role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything.
    Admin,
    /// The event day: gates, devices, conflicts, revocations of single tickets, and reading.
    Supervisor,
    /// Answering buyers: search and read, resend mails; no money, no changes.
    Support,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Supervisor, Role::Support];

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Support => "support",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == s)
    }

    /// The matrix of the module documentation.
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Supervisor => matches!(
                p,
                Read | ResendMail | ManageGates | RevokeTicket | PaperException | ReadAudit
            ),
            Role::Support => matches!(p, Read | ResendMail),
        }
    }
}

/// One thing an operator route or action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Read,
    ResendMail,
    ManageGates,
    RevokeTicket,
    PaperException,
    ReadAudit,
    ManageEvents,
    RevokeAccount,
    IssueComps,
    Money,
    Export,
}

impl Permission {
    /// "cannot ..." in a refusal.
    pub fn describe(self) -> &'static str {
        match self {
            Permission::Read => "read operations data",
            Permission::ResendMail => "resend mails",
            Permission::ManageGates => "manage gates and devices",
            Permission::RevokeTicket => "revoke tickets",
            Permission::PaperException => "record paper exceptions",
            Permission::ReadAudit => "read the audit log",
            Permission::ManageEvents => "create or change events and offers",
            Permission::RevokeAccount => "revoke purchases or ban accounts",
            Permission::IssueComps => "issue complimentary tickets",
            Permission::Money => "refund or settle money",
            Permission::Export => "export data",
        }
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (the console's sign-in and sign-out).
    Open,
    /// A signed-in operator whose role allows this.
    Needs(Permission),
}

use Access::{Needs, Open};
use Permission::*;

/// Every operator route (method, path as the router spells it) and what it needs.
pub const ROUTES: &[(Method, &str, Access)] = &[
    // JSON API
    (Method::POST, "/api/v1/ops/enrolment-tokens", Needs(ManageGates)),
    (Method::GET, "/api/v1/ops/devices", Needs(Read)),
    (Method::PATCH, "/api/v1/ops/devices/{id}", Needs(ManageGates)),
    (Method::POST, "/api/v1/ops/devices/{id}/revoke", Needs(ManageGates)),
    (Method::POST, "/api/v1/ops/devices/{id}/rotate", Needs(ManageGates)),
    (Method::GET, "/api/v1/ops/events", Needs(Read)),
    (Method::POST, "/api/v1/ops/events", Needs(ManageEvents)),
    (Method::PATCH, "/api/v1/ops/events/{id}", Needs(ManageEvents)),
    (Method::GET, "/api/v1/ops/events/{id}/scans-per-minute", Needs(Read)),
    (Method::GET, "/api/v1/ops/conflicts", Needs(Read)),
    (Method::GET, "/api/v1/ops/revocations", Needs(Read)),
    // A ticket; a purchase or an account also needs `RevokeAccount` (checked by the action).
    (Method::POST, "/api/v1/ops/revocations", Needs(RevokeTicket)),
    (Method::POST, "/api/v1/ops/comps", Needs(IssueComps)),
    (Method::GET, "/api/v1/ops/refunds-due", Needs(Read)),
    (Method::POST, "/api/v1/ops/refunds-due/{id}/settle", Needs(Money)),
    (Method::GET, "/api/v1/ops/tickets/{serial}", Needs(Read)),
    (Method::POST, "/api/v1/ops/tickets/{serial}/refund", Needs(Money)),
    (
        Method::POST,
        "/api/v1/ops/tickets/{serial}/paper-exception",
        Needs(PaperException),
    ),
    (Method::GET, "/api/v1/ops/audit", Needs(ReadAudit)),
    // Console
    (Method::GET, "/ops/login", Open),
    (Method::POST, "/ops/login", Open),
    (Method::POST, "/ops/logout", Open),
    (Method::GET, "/ops/console.js", Open),
    (Method::GET, "/ops", Needs(Read)),
    (Method::GET, "/ops/panels/devices", Needs(Read)),
    (Method::POST, "/ops/devices/{id}/revoke", Needs(ManageGates)),
    (Method::POST, "/ops/devices/{id}/rename", Needs(ManageGates)),
    (Method::POST, "/ops/devices/{id}/rotate", Needs(ManageGates)),
    (Method::GET, "/ops/enrol", Needs(ManageGates)),
    (Method::POST, "/ops/enrol", Needs(ManageGates)),
    (Method::GET, "/ops/events", Needs(Read)),
    (Method::GET, "/ops/events/new", Needs(ManageEvents)),
    (Method::POST, "/ops/events/new", Needs(ManageEvents)),
    (Method::GET, "/ops/events/{id}", Needs(Read)),
    (Method::GET, "/ops/events/{id}/panel", Needs(Read)),
    (Method::GET, "/ops/events/{id}/edit", Needs(ManageEvents)),
    (Method::POST, "/ops/events/{id}/edit", Needs(ManageEvents)),
    (Method::POST, "/ops/events/{id}/publish", Needs(ManageEvents)),
    (Method::GET, "/ops/events/{id}/scans", Needs(Read)),
    (Method::GET, "/ops/events/{id}/scans/panel", Needs(Read)),
    (Method::POST, "/ops/events/{id}/cancel", Needs(ManageEvents)),
    (Method::GET, "/ops/conflicts", Needs(Read)),
    (Method::GET, "/ops/panels/conflicts", Needs(Read)),
    (Method::GET, "/ops/revocations", Needs(Read)),
    (Method::POST, "/ops/revocations", Needs(RevokeTicket)),
    (Method::GET, "/ops/comp", Needs(IssueComps)),
    (Method::POST, "/ops/comp", Needs(IssueComps)),
    (Method::GET, "/ops/refunds", Needs(Read)),
    (Method::POST, "/ops/refunds/{id}/settle", Needs(Money)),
    (Method::GET, "/ops/audit", Needs(ReadAudit)),
    (Method::GET, "/ops/search", Needs(Read)),
    (Method::POST, "/ops/search/image", Needs(Read)),
    (Method::POST, "/ops/accounts/{id}/resend-activation", Needs(ResendMail)),
    (Method::GET, "/ops/tickets/{serial}", Needs(Read)),
    (Method::POST, "/ops/tickets/{serial}/revoke", Needs(RevokeTicket)),
    (Method::POST, "/ops/tickets/{serial}/refund", Needs(Money)),
    (
        Method::POST,
        "/ops/tickets/{serial}/paper-exception",
        Needs(PaperException),
    ),
    (Method::GET, "/ops/export", Needs(Export)),
    (Method::GET, "/ops/export/csv", Needs(Export)),
];

/// What `method path` (as the router spells the path) needs; `None`: not an operator route.
pub fn requirement(method: &Method, path: &str) -> Option<Access> {
    let m = if *method == Method::HEAD { &Method::GET } else { method };
    ROUTES
        .iter()
        .find(|(rm, rp, _)| rm == m && *rp == path)
        .map(|(_, _, a)| *a)
}

/// Whether a path belongs to the operators (API or console).
pub fn is_operator_path(path: &str) -> bool {
    path.starts_with("/api/v1/ops/") || path == "/ops" || path.starts_with("/ops/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_may_do_everything_and_support_only_reads_and_resends() {
        for p in [Read, ResendMail, ManageGates, RevokeTicket, ManageEvents, Money, Export] {
            assert!(Role::Admin.allows(p));
        }
        assert!(Role::Supervisor.allows(ManageGates) && Role::Supervisor.allows(RevokeTicket));
        assert!(!Role::Supervisor.allows(Money) && !Role::Supervisor.allows(ManageEvents));
        assert!(Role::Support.allows(Read) && Role::Support.allows(ResendMail));
        assert!(!Role::Support.allows(RevokeTicket) && !Role::Support.allows(Money));
    }

    #[test]
    fn every_route_is_listed_once() {
        for (i, (m, p, _)) in ROUTES.iter().enumerate() {
            assert!(is_operator_path(p), "{p}");
            assert!(
                !ROUTES[..i].iter().any(|(m2, p2, _)| m2 == m && p2 == p),
                "{m} {p} twice"
            );
        }
    }
}
