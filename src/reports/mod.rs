//! Reports (举报): public submission, receipt codes, encrypted identity and evidence, and the
//! reporter's follow-up.

pub mod routes;
