//! Wiring: database, migrations, the outbox worker and the HTTP server.

use std::net::TcpListener;
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
use crate::db::{self, Backend, DbPool};
use crate::error::extractors;
use crate::http::middleware::{catch_panics, problem_json_errors, security_headers};
use crate::http::request_span::ProbityRootSpan;
use crate::notify::worker::{Mailer, OutboxWorker};
use crate::reports::ReportsState;
use crate::routes;
use crate::settings::Settings;

/// Extra routes mounted beside the real ones. Tests use it to mount probes (a panicking handler).
pub type ExtraRoutes = fn(&mut web::ServiceConfig);

pub struct Application {
    port: u16,
    server: Server,
    pool: DbPool,
    backend: Backend,
    worker: Option<(watch::Sender<bool>, JoinHandle<()>)>,
    sweeper: (watch::Sender<bool>, JoinHandle<()>),
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
        Self::build_with(settings, None).await
    }

    pub async fn build_with(
        settings: Settings,
        extra: Option<ExtraRoutes>,
    ) -> anyhow::Result<Application> {
        let (pool, backend) = open_database(&settings).await?;
        let address = (settings.server.host.as_str(), settings.server.port);
        let listener = TcpListener::bind(address).with_context(|| {
            format!(
                "cannot listen on {}:{}",
                settings.server.host, settings.server.port
            )
        })?;
        let port = listener.local_addr()?.port();

        let worker = if settings.mail.enabled {
            let mailer = Mailer::from_settings(&settings.mail)?;
            let (stop, stopped) = watch::channel(false);
            let worker = OutboxWorker::new(
                pool.clone(),
                settings.outbox.clone(),
                mailer,
                Duration::from_secs(settings.mail.timeout_secs),
            );
            Some((stop, tokio::spawn(worker.run(stopped))))
        } else {
            tracing::warn!(
                "mail is off (mail.enabled = false): notifications stay pending in the outbox"
            );
            None
        };

        let sweeper = {
            let (stop, stopped) = watch::channel(false);
            let task = tokio::spawn(crate::reports::sweep_expired_replays(pool.clone(), stopped));
            (stop, task)
        };
        // One bounded Argon2 pool for the whole process (issue 7, "Memory under load").
        let hashing = std::sync::Arc::new(crate::hashing::HashPool::new(
            settings.argon2.workers,
            settings.argon2.queue_capacity,
        ));
        let auth_state = web::Data::new(AuthState::new(&settings, hashing.clone())?);
        let reports_state = web::Data::new(ReportsState::new(&settings, pool.clone(), hashing));
        let json_limit = settings.server.json_body_limit;
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
                .app_data(known_paths.clone())
                .app_data(auth_state.clone())
                .app_data(reports_state.clone())
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
            .configure(|cfg| {
                if let Some(extra) = extra {
                    extra(cfg)
                }
            })
            .default_service(web::to(routes::no_route))
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
            worker,
            sweeper,
        })
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

    /// Stops the server gracefully (as SIGTERM does).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until a signal or `handle().stop(..)`. SIGTERM (and `stop(true)`) is graceful:
    /// in-flight requests finish first (up to `server.shutdown_timeout_secs`); SIGINT and SIGQUIT
    /// stop at once. The outbox worker then stops after its current pass.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some((stop, handle)) = self.worker {
            let _ = stop.send(true);
            let _ = handle.await;
        }
        let (stop, handle) = self.sweeper;
        let _ = stop.send(true);
        let _ = handle.await;
        tracing::info!("Probity stopped");
        result
    }
}
