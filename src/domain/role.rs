//! Roles named by the original service, held as a small bit set.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Role {
    StaffMember,
    Student,
    QA,
    ISUSTeacher,
    Administrator,
    FocusTool,
    ProspectWithTrial,
    User,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::StaffMember,
        Role::Student,
        Role::QA,
        Role::ISUSTeacher,
        Role::Administrator,
        Role::FocusTool,
        Role::ProspectWithTrial,
        Role::User,
    ];

    /// Role names are matched exactly, as ASP.NET's `IsInRole` does (ordinal comparison).
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.name() == name)
    }

    pub const fn name(self) -> &'static str {
        match self {
            Role::StaffMember => "StaffMember",
            Role::Student => "Student",
            Role::QA => "QA",
            Role::ISUSTeacher => "ISUSTeacher",
            Role::Administrator => "Administrator",
            Role::FocusTool => "FocusTool",
            Role::ProspectWithTrial => "ProspectWithTrial",
            Role::User => "User",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoleSet(u8);

impl RoleSet {
    pub const EMPTY: RoleSet = RoleSet(0);

    pub const fn of(roles: &[Role]) -> RoleSet {
        let mut bits = 0;
        let mut i = 0;
        while i < roles.len() {
            bits |= roles[i].bit();
            i += 1;
        }
        RoleSet(bits)
    }

    pub fn insert(&mut self, role: Role) {
        self.0 |= role.bit();
    }

    pub const fn contains(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    pub const fn intersects(self, other: RoleSet) -> bool {
        self.0 & other.0 != 0
    }
}

impl FromIterator<Role> for RoleSet {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Self {
        let mut set = RoleSet::EMPTY;
        for role in iter {
            set.insert(role);
        }
        set
    }
}
