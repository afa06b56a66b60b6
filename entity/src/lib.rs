//! sea-orm models of the gateway's tables, as the migrations create them.
//!
//! Field types are the PostgreSQL ones. On SQLite, ids are canonical text and instants are
//! integer microseconds (see the migration), so rows are read and written through the
//! gateway's own codec (`src/store/codec.rs`) rather than through these models' value types;
//! the models name the tables and columns and serve backend-neutral queries such as counts.

pub mod center;
pub mod center_member;
pub mod session;
pub mod session_attendee;
pub mod staff_assignment;
pub mod teacher;
pub mod user;

pub mod prelude {
    pub use super::center::Entity as Center;
    pub use super::center_member::Entity as CenterMember;
    pub use super::session::Entity as Session;
    pub use super::session_attendee::Entity as SessionAttendee;
    pub use super::staff_assignment::Entity as StaffAssignment;
    pub use super::teacher::Entity as Teacher;
    pub use super::user::Entity as User;
}
