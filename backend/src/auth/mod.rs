//! Authentication: who is calling. Passwords ([`password`]), signed tokens ([`tokens`]) and the
//! site owner's signed visitor identities ([`identity`]). The HTTP extractors that use them live
//! in `crate::http::extract`; what a caller may do is decided in `crate::domain::permissions`.

pub mod identity;
pub mod password;
pub mod tokens;

use crate::domain::StaffRole;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A staff member (owner, admin or agent).
    Staff(StaffCaller),
    /// A website visitor.
    Visitor(VisitorCaller),
}

/// An authenticated staff member, as of the moment their account was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffCaller {
    /// Their tenant.
    pub tenant_id: String,
    /// Their id.
    pub staff_id: String,
    /// Their display name.
    pub name: String,
    /// Their role.
    pub role: StaffRole,
}

/// An authenticated visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorCaller {
    /// Their tenant.
    pub tenant_id: String,
    /// Their id.
    pub visitor_id: String,
    /// Their display name, if known.
    pub name: Option<String>,
}

impl Caller {
    /// The caller's tenant.
    pub fn tenant_id(&self) -> &str {
        match self {
            Caller::Staff(s) => &s.tenant_id,
            Caller::Visitor(v) => &v.tenant_id,
        }
    }
}

impl StaffCaller {
    /// Owners and admins manage the tenant.
    pub fn is_manager(&self) -> bool {
        matches!(self.role, StaffRole::Owner | StaffRole::Admin)
    }
}
