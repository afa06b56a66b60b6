//! The subcommands: serve (default), migrate, import, token, print-schema.

use std::io::Read;
use std::process::ExitCode;

use crate::auth::keys;
use crate::config::{Cli, Command, SettingsArgs};
use crate::domain::Role;
use crate::startup::Application;
use crate::store::Store;
use crate::{db, demo, graphql};

/// Help and version go to stdout as usual; a bad value is one line naming the variable.
pub fn report_parse_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = err.print();
        return ExitCode::SUCCESS;
    }
    if matches!(
        err.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        // One line naming the variable (clap names it in the value placeholder).
        let rendered = err.render().to_string();
        eprintln!(
            "{}",
            rendered.lines().next().unwrap_or("error: invalid value")
        );
    } else {
        let _ = err.print();
    }
    ExitCode::from(2)
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

pub async fn run(cli: Cli) -> ExitCode {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&settings).await,
        Command::Migrate => migrate(&settings).await,
        Command::Import { file } => import(&settings, &file).await,
        Command::Token { sub, roles, ttl } => token(&settings, &sub, &roles, ttl),
        Command::PrintSchema => {
            print!("{}", graphql::sdl());
            ExitCode::SUCCESS
        }
    }
}

async fn serve(settings: &SettingsArgs) -> ExitCode {
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(err) => return fail(err),
    };
    let addr = app.local_addr();
    tracing::info!(%addr, "listening");
    print_welcome(&app, settings);
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(format!("the server stopped: {err}")),
    }
}

/// First-run help: where GraphiQL is, and tokens and curl lines for the demo users. Written
/// with errors ignored: a closed stdout must not stop the server.
fn print_welcome(app: &Application, settings: &SettingsArgs) {
    use std::io::Write;
    let text = welcome(app, settings);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn welcome(app: &Application, settings: &SettingsArgs) -> String {
    use std::fmt::Write;
    let mut text = String::new();
    let base = format!("http://{}", app.local_addr());
    let _ = writeln!(text, "sessions-gateway is listening on {base}");
    if settings.graphiql {
        let _ = writeln!(text, "GraphiQL: {base}/graphiql");
    }
    let (Some(issuer), true) = (&app.keys_issuer, app.demo_loaded) else {
        return text;
    };
    let ttl = std::time::Duration::from_secs(12 * 3600);
    let mint = |sub: &str, role: &str| issuer.mint(sub, &[role.to_owned()], ttl);
    let (Ok(student), Ok(staff)) = (
        mint(demo::STUDENT_ID, "Student"),
        mint(demo::STAFF_ID, "StaffMember"),
    ) else {
        return text;
    };
    let _ = writeln!(text, "\nDemo tokens (valid 12 hours):");
    let _ = writeln!(
        text,
        "  student {} ({}):",
        demo::STUDENT_LOGIN,
        demo::STUDENT_ID
    );
    let _ = writeln!(text, "STUDENT_TOKEN={student}");
    let _ = writeln!(
        text,
        "  staff member {} ({}), assigned to the student's center:",
        demo::STAFF_LOGIN,
        demo::STAFF_ID
    );
    let _ = writeln!(text, "STAFF_TOKEN={staff}");
    if let Some(file) = &app.dev_secret_file {
        let _ = writeln!(
            text,
            "  (signed with the development secret in {}; set GATEWAY_JWT_SECRET in production)",
            file.display()
        );
    }
    let _ = writeln!(text, "\nTry:");
    let _ = writeln!(
        text,
        "curl -s -H \"Authorization: Bearer {student}\" {base}/users/me/sessions"
    );
    let _ = writeln!(
        text,
        "curl -s -H \"Authorization: Bearer {staff}\" {base}/users/{}/sessions",
        demo::STUDENT_LOGIN
    );
    let _ = writeln!(
        text,
        "curl -s -H \"Authorization: Bearer {student}\" -H 'Content-Type: application/json' -d '{{\"query\":\"{{ userSessions(userIdentifier: \\\"me\\\") {{ name startDateTime meetingUrl }} }}\"}}' {base}/graphql"
    );
    if settings.graphiql {
        let _ = writeln!(
            text,
            "GraphiQL as the student: {base}/graphiql?token={student}"
        );
    }
    text
}

async fn open_store(settings: &SettingsArgs) -> Result<Store, String> {
    settings.validate().map_err(|e| e.to_string())?;
    let connection = db::connect(settings).await.map_err(|e| e.to_string())?;
    Ok(Store::new(connection))
}

async fn migrate(settings: &SettingsArgs) -> ExitCode {
    let store = match open_store(settings).await {
        Ok(store) => store,
        Err(err) => return fail(err),
    };
    match db::migrate(settings, store.connection()).await {
        Ok(()) => {
            println!("migrations applied");
            ExitCode::SUCCESS
        }
        Err(err) => fail(err),
    }
}

async fn import(settings: &SettingsArgs, file: &std::path::Path) -> ExitCode {
    let bytes = if file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        if let Err(err) = std::io::stdin().read_to_end(&mut bytes) {
            return fail(format!("cannot read standard input: {err}"));
        }
        bytes
    } else {
        match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(err) => return fail(format!("cannot read {}: {err}", file.display())),
        }
    };
    let store = match open_store(settings).await {
        Ok(store) => store,
        Err(err) => return fail(err),
    };
    if let Err(err) = db::migrate(settings, store.connection()).await {
        return fail(err);
    }
    match store.import(&bytes).await {
        Ok(report) => {
            println!("imported {report}");
            ExitCode::SUCCESS
        }
        Err(err) => fail(err),
    }
}

fn token(
    settings: &SettingsArgs,
    sub: &str,
    roles: &[String],
    ttl: std::time::Duration,
) -> ExitCode {
    if let Err(err) = settings.validate() {
        return fail(err);
    }
    if sub.trim().is_empty() {
        return fail("--sub: the subject must not be empty");
    }
    if let Some(unknown) = roles.iter().find(|r| Role::from_name(r).is_none()) {
        let known: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
        return fail(format!(
            "--role: {unknown:?} is not a role the gateway knows ({})",
            known.join(", ")
        ));
    }
    if settings.jwt_secret.is_none()
        && settings.jwt_public_key.is_none()
        && settings.sqlite_file().is_none()
    {
        return fail("GATEWAY_JWT_SECRET: an in-memory database has no development secret file, so no server would accept this token; set a secret");
    }
    let keys = match keys::load(settings) {
        Ok(keys) => keys,
        Err(err) => return fail(err),
    };
    let Some(issuer) = keys.issuer else {
        return fail("GATEWAY_JWT_PUBLIC_KEY: a public key can only verify tokens; minting needs GATEWAY_JWT_SECRET");
    };
    match issuer.mint(sub, roles, ttl) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(err) => fail(format!("cannot mint the token: {err}")),
    }
}
