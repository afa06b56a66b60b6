//! The GraphQL schema of contract §6: built once at start, executed per request by `http.rs`.

pub mod http;
pub mod limits;
mod scalars;

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, Object, Schema, SchemaBuilder, ServerError,
};

use crate::domain::{Caller, TeacherSession};
use crate::error::AppError;
use crate::sessions;
use crate::store::Store;
pub use scalars::{DateTime, Guid, Long, UserIdentifierArg};

pub type GatewaySchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// What one `userSessions` selection adds to a document's complexity: each one may cost two
/// SQL statements, so the limit counts them far above plain fields.
pub const USER_SESSIONS_COST: usize = 50;

/// Limits applied while validating a document, before any resolver runs.
#[derive(Debug, Clone)]
pub struct SchemaLimits {
    pub depth: usize,
    pub complexity: usize,
    pub recursive_depth: usize,
    pub directives_per_field: usize,
    pub introspection: bool,
}

pub fn build_schema(store: Store, limits: &SchemaLimits) -> GatewaySchema {
    schema_builder(limits).data(store).finish()
}

/// The schema without data: what `print-schema` prints.
pub fn sdl() -> String {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .finish()
        .sdl()
}

fn schema_builder(limits: &SchemaLimits) -> SchemaBuilder<Query, EmptyMutation, EmptySubscription> {
    let mut builder = Schema::build(Query, EmptyMutation, EmptySubscription)
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .limit_recursive_depth(limits.recursive_depth)
        .limit_directives(limits.directives_per_field);
    if !limits.introspection {
        // Suggestions ("Did you mean …") would leak the schema that introspection hides.
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder
}

/// Maps the application error through the one table in `error.rs`.
pub fn to_server_error(err: &AppError, pos: Option<async_graphql::Pos>) -> ServerError {
    coded_error(err.graphql_message(), err.graphql_code(), pos)
}

/// A GraphQL error carrying `extensions.code`.
pub fn coded_error(
    message: impl Into<String>,
    code: &str,
    pos: Option<async_graphql::Pos>,
) -> ServerError {
    let mut error = ServerError::new(message, pos);
    error.extensions = Some(code_extension(code));
    error
}

pub fn code_extension(code: &str) -> async_graphql::ErrorExtensionValues {
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    extensions
}

pub struct Query;

#[Object]
impl Query {
    /// The sessions the named user attends, ordered by start then session id; null with an
    /// error when the caller may not read them.
    #[graphql(complexity = "USER_SESSIONS_COST + child_complexity")]
    async fn user_sessions(
        &self,
        ctx: &Context<'_>,
        user_identifier: UserIdentifierArg,
    ) -> Option<Vec<GqlTeacherSession>> {
        let store = ctx.data_unchecked::<Store>();
        let caller = ctx.data_opt::<Caller>().unwrap_or(&Caller::Anonymous);
        match sessions::user_sessions(store, caller, user_identifier.outcome()).await {
            Ok(list) => Some(list.into_iter().map(GqlTeacherSession).collect()),
            Err(err) => {
                null_with_error(ctx, &err);
                None
            }
        }
    }
}

/// Records `err` against this field and leaves the field null. (Returning `Err`, as
/// async-graphql's `guard` attribute does, drops the field from `data` altogether instead of
/// nulling it, so the checks run inside the resolver, in `sessions::user_sessions`.)
fn null_with_error(ctx: &Context<'_>, err: &AppError) {
    ctx.add_error(ctx.set_error_path(to_server_error(err, Some(ctx.item.pos))));
}

/// `TeacherSession` as GraphQL shows it; values come from the domain type unchanged.
pub struct GqlTeacherSession(TeacherSession);

#[Object(name = "TeacherSession")]
impl GqlTeacherSession {
    /// The teacher's display name.
    async fn name(&self) -> Option<&str> {
        self.0.teacher_name.as_deref()
    }
    /// How to reach the teacher.
    async fn contact(&self) -> Option<&str> {
        self.0.teacher_contact.as_deref()
    }
    /// URL of the teacher's photo.
    async fn photo(&self) -> Option<&str> {
        self.0.teacher_photo.as_deref()
    }
    /// Start, as whole Unix seconds.
    async fn start_date(&self) -> Long {
        Long(self.0.start.unix_seconds())
    }
    /// End, as whole Unix seconds.
    async fn end_date(&self) -> Long {
        Long(self.0.end.unix_seconds())
    }
    async fn partner_id(&self) -> Guid {
        Guid(self.0.partner_id)
    }
    async fn content_item_id(&self) -> Guid {
        Guid(self.0.content_item_id)
    }
    async fn teacher_id(&self) -> Guid {
        Guid(self.0.teacher_id)
    }
    async fn meeting_url(&self) -> &str {
        &self.0.meeting_url
    }
    async fn start_date_time(&self) -> DateTime {
        DateTime(self.0.start)
    }
    async fn end_date_time(&self) -> DateTime {
        DateTime(self.0.end)
    }
}
