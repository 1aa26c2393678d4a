//! Who may do what: pure functions over callers and records, unit-tested without a server.
//!
//! **Architecture Invariant**: every handler and WebSocket command asks one of these functions
//! before acting; none of them does I/O. Tenant isolation is the first check of each: a record of
//! another tenant is reported as not found, never as forbidden, so its existence does not leak.

use crate::auth::{Caller, StaffCaller};
use crate::domain::{Conversation, ConversationStatus, StaffRole};
use crate::error::AppError;

/// May `caller` read `conversation` (history, live events)? Visitors see only their own; staff
/// see every conversation of their tenant, and its staff room. A visitor never sees a staff
/// room: it does not exist for them.
pub fn can_view(caller: &Caller, conversation: &Conversation) -> Result<(), AppError> {
    match caller {
        Caller::Staff(s) if s.tenant_id == conversation.tenant_id => Ok(()),
        Caller::Visitor(v)
            if v.tenant_id == conversation.tenant_id
                && v.visitor_id == conversation.visitor_id
                && !conversation.is_staff_room() =>
        {
            Ok(())
        }
        _ => Err(AppError::NotFound),
    }
}

/// Refuses routing actions (claim, refuse, transfer, close, reopen) on the staff room, which
/// is nobody's to take or close.
fn not_staff_room(conversation: &Conversation) -> Result<(), AppError> {
    if conversation.is_staff_room() {
        Err(AppError::Conflict(
            "the staff room cannot be claimed, transferred, closed or reopened".into(),
        ))
    } else {
        Ok(())
    }
}

/// May `caller` post in `conversation`? Its visitor may; staff may once it is assigned to them,
/// and owners/admins may step into any claimed conversation. Every staff member posts in the
/// staff room. Nobody posts in a closed one.
pub fn can_post(caller: &Caller, conversation: &Conversation) -> Result<(), AppError> {
    can_view(caller, conversation)?;
    if conversation.is_staff_room() {
        return Ok(());
    }
    if conversation.status == ConversationStatus::Closed {
        return Err(AppError::ConversationClosed);
    }
    match caller {
        Caller::Visitor(_) => Ok(()),
        Caller::Staff(s) => match conversation.status {
            ConversationStatus::Unassigned => Err(AppError::Forbidden(
                "claim the conversation before replying",
            )),
            _ if conversation.assignee_id.as_deref() == Some(s.staff_id.as_str()) => Ok(()),
            _ if s.is_manager() => Ok(()),
            _ => Err(AppError::Forbidden(
                "this conversation is assigned to someone else",
            )),
        },
    }
}

/// May `caller` claim `conversation`? Any staff member of the tenant; the store decides the race.
pub fn can_claim(caller: &Caller, conversation: &Conversation) -> Result<(), AppError> {
    can_view(caller, conversation)?;
    not_staff_room(conversation)?;
    match caller {
        Caller::Staff(_) => Ok(()),
        Caller::Visitor(_) => Err(AppError::Forbidden("only staff can claim conversations")),
    }
}

/// May `caller` close `conversation`? Its visitor, its assignee, or an owner/admin.
pub fn can_close(caller: &Caller, conversation: &Conversation) -> Result<(), AppError> {
    can_view(caller, conversation)?;
    not_staff_room(conversation)?;
    match caller {
        Caller::Visitor(_) => Ok(()),
        Caller::Staff(s)
            if s.is_manager() || conversation.assignee_id.as_deref() == Some(&s.staff_id) =>
        {
            Ok(())
        }
        Caller::Staff(_) => Err(AppError::Forbidden(
            "only the assignee or an admin can close this conversation",
        )),
    }
}

/// May `staff` hand `conversation` over? It must be open (a waiting one is accepted, not
/// transferred). Its assignee and owners/admins may send it anywhere; any other staff member
/// may only take it over themselves (`to_self`), like an advisor stepping into a colleague's
/// chat.
pub fn can_transfer(
    staff: &StaffCaller,
    conversation: &Conversation,
    to_self: bool,
) -> Result<(), AppError> {
    can_view(&Caller::Staff(staff.clone()), conversation)?;
    not_staff_room(conversation)?;
    match conversation.status {
        ConversationStatus::Closed => return Err(AppError::ConversationClosed),
        ConversationStatus::Unassigned => {
            return Err(AppError::Conflict(
                "the conversation is waiting; accept it instead of transferring it".into(),
            ));
        }
        ConversationStatus::Open => {}
    }
    let holds_it = conversation.assignee_id.as_deref() == Some(staff.staff_id.as_str());
    if holds_it && to_self {
        return Err(AppError::Conflict(
            "the conversation is already yours".into(),
        ));
    }
    if holds_it || staff.is_manager() || to_self {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only the assignee or an admin can hand this conversation to someone else",
        ))
    }
}

/// May `staff` reopen `conversation`? Any staff member of the tenant may reopen a closed visitor
/// conversation (it becomes theirs); the store checks the rest atomically.
pub fn can_reopen(staff: &StaffCaller, conversation: &Conversation) -> Result<(), AppError> {
    can_view(&Caller::Staff(staff.clone()), conversation)?;
    not_staff_room(conversation)?;
    if conversation.status == ConversationStatus::Closed {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "the conversation is {}, not closed",
            conversation.status.as_str()
        )))
    }
}

/// May `actor` change `staff_id`'s routing profile? Everyone may change their own presence and
/// capacity; teams, and other people's profiles, are for owners and admins.
pub fn can_edit_agent(
    actor: &StaffCaller,
    staff_id: &str,
    changes_teams: bool,
) -> Result<(), AppError> {
    if actor.is_manager() || (actor.staff_id == staff_id && !changes_teams) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only owners and admins can change teams or other people's routing",
        ))
    }
}

/// May `actor` manage tenant settings?
pub fn can_manage_tenant(actor: &StaffCaller) -> Result<(), AppError> {
    if actor.is_manager() {
        Ok(())
    } else {
        Err(AppError::Forbidden("only owners and admins can do this"))
    }
}

/// May `actor` create an account with `role`? Owners create anyone; admins create agents.
pub fn can_create_staff(actor: &StaffCaller, role: StaffRole) -> Result<(), AppError> {
    match (actor.role, role) {
        (StaffRole::Owner, _) | (StaffRole::Admin, StaffRole::Agent) => Ok(()),
        (StaffRole::Admin, _) => Err(AppError::Forbidden(
            "only owners can create owners and admins",
        )),
        (StaffRole::Agent, _) => Err(AppError::Forbidden("only owners and admins can do this")),
    }
}

/// May `actor` change the account `target_id` (currently `target_role`) to `new_role` /
/// `deactivate`? Owners change anyone but themselves' role or activity (so a tenant never loses
/// its last owner by accident); admins change agents; everyone may rename themselves and change
/// their own password.
pub fn can_update_staff(
    actor: &StaffCaller,
    target_id: &str,
    target_role: StaffRole,
    new_role: Option<StaffRole>,
    deactivate: bool,
) -> Result<(), AppError> {
    let is_self = actor.staff_id == target_id;
    let changes_standing = new_role.is_some_and(|r| r != target_role) || deactivate;
    if is_self {
        return if changes_standing {
            Err(AppError::Forbidden(
                "you cannot change your own role or deactivate yourself",
            ))
        } else {
            Ok(())
        };
    }
    match actor.role {
        StaffRole::Owner => Ok(()),
        StaffRole::Admin
            if target_role == StaffRole::Agent
                && new_role.is_none_or(|r| r == StaffRole::Agent) =>
        {
            Ok(())
        }
        StaffRole::Admin => Err(AppError::Forbidden("admins can only manage agents")),
        StaffRole::Agent => Err(AppError::Forbidden("only owners and admins can do this")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::VisitorCaller;
    use crate::domain::fixtures::conversation;

    fn staff(id: &str, role: StaffRole) -> StaffCaller {
        StaffCaller {
            tenant_id: "t1".into(),
            staff_id: id.into(),
            name: id.into(),
            role,
        }
    }

    fn visitor(id: &str, tenant: &str) -> Caller {
        Caller::Visitor(VisitorCaller {
            tenant_id: tenant.into(),
            visitor_id: id.into(),
            name: None,
        })
    }

    #[test]
    fn a_visitor_cannot_see_another_visitors_conversation() {
        let c = conversation(ConversationStatus::Open, None);
        assert!(can_view(&visitor("v1", "t1"), &c).is_ok());
        assert!(matches!(
            can_view(&visitor("v2", "t1"), &c),
            Err(AppError::NotFound)
        ));
    }

    #[test]
    fn every_staff_member_writes_in_the_staff_room_and_no_visitor_sees_it() {
        let room = Conversation::staff_room("t1", 0);
        let agent = Caller::Staff(staff("a1", StaffRole::Agent));
        assert!(can_post(&agent, &room).is_ok());
        assert!(can_post(&Caller::Staff(staff("o1", StaffRole::Owner)), &room).is_ok());
        // Even a visitor whose id is empty, like the room's.
        assert!(matches!(
            can_view(&visitor("", "t1"), &room),
            Err(AppError::NotFound)
        ));
        let mut outsider = staff("s9", StaffRole::Agent);
        outsider.tenant_id = "t2".into();
        assert!(matches!(
            can_post(&Caller::Staff(outsider), &room),
            Err(AppError::NotFound)
        ));
    }

    #[test]
    fn the_staff_room_is_never_claimed_transferred_closed_or_reopened() {
        let room = Conversation::staff_room("t1", 0);
        let owner = staff("o1", StaffRole::Owner);
        let conflict = |r: Result<(), AppError>| assert!(matches!(r, Err(AppError::Conflict(_))));
        conflict(can_claim(&Caller::Staff(owner.clone()), &room));
        conflict(can_close(&Caller::Staff(owner.clone()), &room));
        conflict(can_transfer(&owner, &room, true));
        conflict(can_reopen(&owner, &room));
    }

    #[test]
    fn only_a_closed_conversation_is_reopened() {
        let agent = staff("a1", StaffRole::Agent);
        assert!(
            can_reopen(
                &agent,
                &conversation(ConversationStatus::Closed, Some("a2"))
            )
            .is_ok()
        );
        for status in [ConversationStatus::Open, ConversationStatus::Unassigned] {
            assert!(matches!(
                can_reopen(&agent, &conversation(status, None)),
                Err(AppError::Conflict(_))
            ));
        }
    }

    #[test]
    fn staff_of_another_tenant_see_nothing() {
        let c = conversation(ConversationStatus::Unassigned, None);
        let mut outsider = staff("s9", StaffRole::Owner);
        outsider.tenant_id = "t2".into();
        assert!(matches!(
            can_view(&Caller::Staff(outsider), &c),
            Err(AppError::NotFound)
        ));
    }

    #[test]
    fn an_agent_replies_only_in_conversations_assigned_to_them() {
        let agent = Caller::Staff(staff("a1", StaffRole::Agent));
        assert!(can_post(&agent, &conversation(ConversationStatus::Open, Some("a1"))).is_ok());
        assert!(can_post(&agent, &conversation(ConversationStatus::Open, Some("a2"))).is_err());
        assert!(can_post(&agent, &conversation(ConversationStatus::Unassigned, None)).is_err());
    }

    #[test]
    fn an_admin_can_step_into_a_claimed_conversation() {
        let admin = Caller::Staff(staff("ad", StaffRole::Admin));
        assert!(can_post(&admin, &conversation(ConversationStatus::Open, Some("a2"))).is_ok());
    }

    #[test]
    fn nobody_posts_in_a_closed_conversation() {
        let c = conversation(ConversationStatus::Closed, Some("a1"));
        assert!(matches!(
            can_post(&visitor("v1", "t1"), &c),
            Err(AppError::ConversationClosed)
        ));
        assert!(matches!(
            can_post(&Caller::Staff(staff("a1", StaffRole::Agent)), &c),
            Err(AppError::ConversationClosed)
        ));
    }

    #[test]
    fn visitors_cannot_claim() {
        let c = conversation(ConversationStatus::Unassigned, None);
        assert!(can_claim(&visitor("v1", "t1"), &c).is_err());
        assert!(can_claim(&Caller::Staff(staff("a1", StaffRole::Agent)), &c).is_ok());
    }

    #[test]
    fn only_the_assignee_or_a_manager_closes() {
        let c = conversation(ConversationStatus::Open, Some("a1"));
        assert!(can_close(&Caller::Staff(staff("a1", StaffRole::Agent)), &c).is_ok());
        assert!(can_close(&Caller::Staff(staff("a2", StaffRole::Agent)), &c).is_err());
        assert!(can_close(&Caller::Staff(staff("o", StaffRole::Owner)), &c).is_ok());
        assert!(can_close(&visitor("v1", "t1"), &c).is_ok());
    }

    #[test]
    fn admins_create_agents_but_not_admins() {
        let admin = staff("ad", StaffRole::Admin);
        assert!(can_create_staff(&admin, StaffRole::Agent).is_ok());
        assert!(can_create_staff(&admin, StaffRole::Admin).is_err());
        assert!(can_create_staff(&staff("o", StaffRole::Owner), StaffRole::Admin).is_ok());
        assert!(can_create_staff(&staff("a", StaffRole::Agent), StaffRole::Agent).is_err());
    }

    #[test]
    fn nobody_deactivates_or_demotes_themselves() {
        let owner = staff("o", StaffRole::Owner);
        assert!(can_update_staff(&owner, "o", StaffRole::Owner, None, true).is_err());
        assert!(
            can_update_staff(&owner, "o", StaffRole::Owner, Some(StaffRole::Agent), false).is_err()
        );
        assert!(can_update_staff(&owner, "o", StaffRole::Owner, None, false).is_ok());
    }

    #[test]
    fn admins_manage_agents_only() {
        let admin = staff("ad", StaffRole::Admin);
        assert!(can_update_staff(&admin, "a", StaffRole::Agent, None, true).is_ok());
        assert!(
            can_update_staff(&admin, "a", StaffRole::Agent, Some(StaffRole::Admin), false).is_err()
        );
        assert!(can_update_staff(&admin, "o", StaffRole::Owner, None, true).is_err());
    }

    #[test]
    fn an_agent_can_take_over_a_colleagues_chat_but_not_give_it_away() {
        let c = conversation(ConversationStatus::Open, Some("a1"));
        let other = staff("a2", StaffRole::Agent);
        assert!(can_transfer(&other, &c, true).is_ok());
        assert!(matches!(
            can_transfer(&other, &c, false),
            Err(AppError::Forbidden(_))
        ));
        assert!(can_transfer(&staff("a1", StaffRole::Agent), &c, false).is_ok());
        assert!(can_transfer(&staff("boss", StaffRole::Admin), &c, false).is_ok());
    }

    #[test]
    fn waiting_and_closed_conversations_are_not_transferred() {
        let waiting = conversation(ConversationStatus::Unassigned, None);
        let closed = conversation(ConversationStatus::Closed, Some("a1"));
        let admin = staff("boss", StaffRole::Admin);
        assert!(matches!(
            can_transfer(&admin, &waiting, false),
            Err(AppError::Conflict(_))
        ));
        assert!(matches!(
            can_transfer(&admin, &closed, false),
            Err(AppError::ConversationClosed)
        ));
    }

    #[test]
    fn agents_set_their_own_capacity_but_only_admins_set_teams() {
        let agent = staff("a1", StaffRole::Agent);
        assert!(can_edit_agent(&agent, "a1", false).is_ok());
        assert!(can_edit_agent(&agent, "a1", true).is_err());
        assert!(can_edit_agent(&agent, "a2", false).is_err());
        assert!(can_edit_agent(&staff("boss", StaffRole::Owner), "a2", true).is_ok());
    }
}
