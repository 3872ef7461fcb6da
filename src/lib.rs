//! Probity: a case tracker for reports of favouritism and abuse in rural poverty-relief
//! programmes, for a county discipline inspection commission.

pub mod api_contract;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod cases;
pub mod clawbacks;
pub mod cli;
pub mod clock;
pub mod conflicts;
pub mod crypto;
pub mod custodian;
pub mod db;
pub mod divisions;
pub mod domain;
pub mod error;
pub mod evidence;
pub mod hashing;
pub mod health;
pub mod http;
pub mod idempotency;
pub mod jobs;
pub mod notify;
pub mod objections;
pub mod openapi;
pub mod remediation;
pub mod reminders;
pub mod reports;
pub mod routes;
pub mod routing;
pub mod settings;
pub mod startup;
pub mod suspensions;
pub mod telemetry;
pub mod users;
pub mod web;
