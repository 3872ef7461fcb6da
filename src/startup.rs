//! Wiring: database, migrations, the clock, the jobs worker and the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::AuthState;
use crate::calendar::CalendarHandle;
use crate::clock::Clock;
use crate::db::{self, Backend, DbPool};
use crate::domain::schedule::Schedule;
use crate::error::extractors;
use crate::http::middleware::{catch_panics, problem_json_errors, security_headers};
use crate::http::request_span::ProbityRootSpan;
use crate::http::text_guard;
use crate::jobs::worker::Worker;
use crate::jobs::Registry;
use crate::notify::mailer::Mailer;
use crate::notify::EmailJob;
use crate::reports::{ReportsState, SweepExpiredReplays};
use crate::routes;
use crate::settings::Settings;

/// Extra routes mounted beside the real ones. Tests use it to mount probes (a panicking handler).
pub type ExtraRoutes = fn(&mut web::ServiceConfig);

/// Extra job kinds registered beside the real ones. Tests use it to add probe kinds.
pub type ExtraJobs = fn(&mut Registry);

pub struct Application {
    port: u16,
    server: Server,
    pool: DbPool,
    backend: Backend,
    clock: Clock,
    jobs: Arc<Worker>,
    worker: Option<(watch::Sender<bool>, JoinHandle<()>)>,
    calendar: CalendarHandle,
    /// Reloads the calendar on SIGHUP while serving; stopped with the server.
    sighup: Option<JoinHandle<()>>,
}

/// How an [`Application`] is put together beyond its settings: the clock (system unless a test
/// freezes it), extra routes and extra job kinds.
pub struct ApplicationBuilder {
    settings: Settings,
    clock: Clock,
    extra_routes: Option<ExtraRoutes>,
    extra_jobs: Option<ExtraJobs>,
}

impl ApplicationBuilder {
    /// The clock every handler and job reads; the system clock by default.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn extra_routes(mut self, extra: Option<ExtraRoutes>) -> Self {
        self.extra_routes = extra;
        self
    }

    pub fn extra_jobs(mut self, extra: Option<ExtraJobs>) -> Self {
        self.extra_jobs = extra;
        self
    }

    pub async fn build(self) -> anyhow::Result<Application> {
        Application::assemble(self).await
    }
}

/// The job kinds Probity runs: `email` when mail is on, the recurring sweeps, the daily
/// deadline reminders, which count working days on `calendar` (the instance's shared,
/// reloadable calendar), and the announcements of suspensions with their webhook deliveries.
/// Errors: the mail settings do not make a mailer; the webhook client cannot be built.
pub fn job_registry(settings: &Settings, calendar: CalendarHandle) -> anyhow::Result<Registry> {
    let mut registry = Registry::new();
    if settings.mail.enabled {
        registry.register::<EmailJob>(Mailer::from_settings(&settings.mail)?);
        // "There is news" to a reporter: opens the sealed address only when it sends.
        registry.register::<crate::notify::reporter_news::ReporterNews>(
            crate::notify::reporter_news::ReporterNewsState {
                mailer: Mailer::from_settings(&settings.mail)?,
                data_key: crate::crypto::DataKey::new(settings.secrets.key_bytes("data_key")),
            },
        );
    } else {
        tracing::warn!("mail is off (mail.enabled = false): email jobs stay pending");
    }
    registry
        .register::<SweepExpiredReplays>(())
        .recurring(Schedule::EveryMinutes(10), &SweepExpiredReplays {});
    registry
        .register::<crate::reminders::DailyReminders>(calendar)
        .recurring(
            Schedule::DailyInCounty,
            &crate::reminders::DailyReminders {},
        );
    // Issue 12: suspensions and lifts told to the benefit offices and webhook subscribers.
    registry.register::<crate::suspensions::announce::AnnounceSuspension>(
        crate::suspensions::announce::AnnounceState {
            offices: settings.benefits.offices.clone(),
            webhook_max_attempts: settings.webhooks.max_attempts,
        },
    );
    registry.register::<crate::suspensions::webhooks::WebhookDelivery>(
        crate::suspensions::webhooks::WebhookSender::new(
            crate::crypto::DataKey::new(settings.secrets.key_bytes("data_key")),
            Duration::from_secs(settings.webhooks.timeout_secs),
        )?,
    );
    Ok(registry)
}

/// Creates the data folder (SQLite file, secrets, encrypted evidence) readable by this user only.
pub fn prepare_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the data folder {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting the data folder {}", dir.display()))?;
    }
    Ok(())
}

/// Opens the database named in settings and applies pending migrations.
pub async fn open_database(settings: &Settings) -> anyhow::Result<(DbPool, Backend)> {
    prepare_data_dir(&settings.data.dir)?;
    let url = settings.database.url.clone();
    let pool_size = settings.database.pool_size;
    let timeout = Duration::from_secs(settings.database.connect_timeout_secs);
    tokio::task::spawn_blocking(move || {
        let (pool, backend) = db::connect(&url, pool_size, timeout)?;
        let mut conn = pool.get().context("taking a connection for migrations")?;
        let applied = db::run_migrations(&mut conn)?;
        tracing::info!(
            backend = backend.name(),
            url = %db::mask_url(&url),
            applied = applied.len(),
            "database ready"
        );
        Ok((pool, backend))
    })
    .await?
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Self::builder(settings).build().await
    }

    pub async fn build_with(
        settings: Settings,
        extra: Option<ExtraRoutes>,
    ) -> anyhow::Result<Application> {
        Self::builder(settings).extra_routes(extra).build().await
    }

    pub fn builder(settings: Settings) -> ApplicationBuilder {
        ApplicationBuilder {
            settings,
            clock: Clock::system(),
            extra_routes: None,
            extra_jobs: None,
        }
    }

    async fn assemble(builder: ApplicationBuilder) -> anyhow::Result<Application> {
        let ApplicationBuilder {
            settings,
            clock,
            extra_routes: extra,
            extra_jobs,
        } = builder;
        // A bad calendar file stops the start, naming the file and line (issue 9, item 1).
        let calendar_dir = settings.calendar_dir();
        let calendar = CalendarHandle::open(&calendar_dir)
            .with_context(|| format!("loading the calendar from {}", calendar_dir.display()))?;
        let (pool, backend) = open_database(&settings).await?;
        let address = (settings.server.host.as_str(), settings.server.port);
        let listener = TcpListener::bind(address).with_context(|| {
            format!(
                "cannot listen on {}:{}",
                settings.server.host, settings.server.port
            )
        })?;
        let port = listener.local_addr()?.port();

        let mut registry = job_registry(&settings, calendar.clone())?;
        if let Some(extra_jobs) = extra_jobs {
            extra_jobs(&mut registry);
        }
        let jobs = Arc::new(Worker::new(
            pool.clone(),
            clock.clone(),
            settings.jobs.clone(),
            registry,
        ));
        let worker = if settings.jobs.worker_enabled {
            let (stop, stopped) = watch::channel(false);
            Some((stop, tokio::spawn(jobs.clone().run(stopped))))
        } else {
            tracing::warn!("jobs.worker_enabled = false: this instance runs no background jobs");
            None
        };
        let clock_data = web::Data::new(clock.clone());
        // One bounded Argon2 pool for the whole process (issue 7, "Memory under load").
        let hashing = std::sync::Arc::new(crate::hashing::HashPool::new(
            settings.argon2.workers,
            settings.argon2.queue_capacity,
        ));
        let auth_state = web::Data::new(AuthState::new(&settings, hashing.clone(), clock.clone())?);
        let reports_state = web::Data::new(ReportsState::new(
            &settings,
            pool.clone(),
            hashing,
            clock.clone(),
            calendar.clone(),
        ));
        let calendar_data = web::Data::new(calendar.clone());
        #[cfg(unix)]
        let sighup = crate::calendar::reload_on_sighup(calendar.clone());
        #[cfg(not(unix))]
        let sighup = None;
        let cases_state = web::Data::new(crate::cases::CasesState {
            clock: clock.clone(),
            deadlines: settings.deadlines.clone(),
            escalation: settings.accountability.escalation.clone(),
            calendar: calendar.clone(),
        });
        let clawbacks_state = web::Data::new(crate::clawbacks::ClawbacksState {
            clock: clock.clone(),
            data_key: crate::crypto::DataKey::new(settings.secrets.key_bytes("data_key")),
        });
        let suspensions_state = web::Data::new(crate::suspensions::SuspensionsState {
            clock: clock.clone(),
            data_key: crate::crypto::DataKey::new(settings.secrets.key_bytes("data_key")),
            webhooks: settings.webhooks.clone(),
            public_page: settings.benefits.public_page,
        });
        let console_state = web::Data::new(crate::console::ConsoleState::new(&settings));
        let json_limit = settings.server.json_body_limit;
        // The text gate reads JSON bodies up to the largest any handler accepts (report
        // submissions read up to 256 KiB themselves).
        let text_limit = json_limit.max(256 * 1024);
        let pool_data = web::Data::new(pool.clone());
        let api = routes::openapi();
        let known_paths = web::Data::new(routes::KnownPaths::from_openapi(&api));
        let mut server = HttpServer::new(move || {
            let (app, _) = App::new()
                // Registered first: the /api/v1 scope would otherwise swallow this path.
                .service(
                    SwaggerUi::new("/api/docs/{_:.*}").url("/api/v1/openapi.json", api.clone()),
                )
                .into_utoipa_app()
                .app_data(pool_data.clone())
                .app_data(clock_data.clone())
                .app_data(known_paths.clone())
                .app_data(auth_state.clone())
                .app_data(reports_state.clone())
                .app_data(calendar_data.clone())
                .app_data(cases_state.clone())
                .app_data(clawbacks_state.clone())
                .app_data(suspensions_state.clone())
                .app_data(console_state.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(json_limit)
                        .error_handler(extractors::json_error),
                )
                .app_data(web::QueryConfig::default().error_handler(extractors::query_error))
                .app_data(web::PathConfig::default().error_handler(extractors::path_error))
                .configure(routes::configure)
                .split_for_parts();
            app.route(
                "/api/docs",
                web::get().to(|| async {
                    HttpResponse::PermanentRedirect()
                        .insert_header(("Location", "/api/docs/"))
                        .finish()
                }),
            )
            .configure(crate::web::configure)
            .configure(crate::console::configure)
            .configure(|cfg| {
                if let Some(extra) = extra {
                    extra(cfg)
                }
            })
            .default_service(web::to(routes::no_route))
            .wrap(from_fn(move |req, next| {
                text_guard::text_guard(text_limit, req, next)
            }))
            .wrap(from_fn(catch_panics))
            .wrap(from_fn(problem_json_errors))
            .wrap(from_fn(security_headers))
            .wrap(TracingLogger::<ProbityRootSpan>::new())
        })
        .listen(listener)?
        .shutdown_timeout(settings.server.shutdown_timeout_secs);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.run();
        tracing::info!(
            address = %format!("http://{}:{}", settings.server.host, port),
            database = backend.name(),
            "Probity is listening"
        );
        Ok(Application {
            port,
            server,
            pool,
            backend,
            clock,
            jobs,
            worker,
            calendar,
            sighup,
        })
    }

    /// The shared working-day calendar this instance counts deadlines with.
    pub fn calendar(&self) -> CalendarHandle {
        self.calendar.clone()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The clock this instance reads (shared with its handlers and jobs).
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// This instance's jobs worker, for `run_once` / `wake` (tests, operators' tools).
    pub fn jobs(&self) -> Arc<Worker> {
        self.jobs.clone()
    }

    /// Stops the server gracefully (as SIGTERM does).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until a signal or `handle().stop(..)`. SIGTERM (and `stop(true)`) is graceful:
    /// in-flight requests finish first (up to `server.shutdown_timeout_secs`); SIGINT and SIGQUIT
    /// stop at once. SIGHUP reloads the working-day calendar (a bad file is logged and the
    /// calendar in use stays). The jobs worker then stops after its current pass.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some(sighup) = self.sighup {
            sighup.abort();
        }
        if let Some((stop, handle)) = self.worker {
            let _ = stop.send(true);
            let _ = handle.await;
        }
        tracing::info!("Probity stopped");
        result
    }
}
