//! The history of backup, restore-files, restore and drill jobs, kept in the vault (like the
//! portal's Backup jobs): one small JSON blob per job under `_pgvault/jobs/`, written when
//! the job starts (status `running`) and again when it ends (`succeeded`, `failed` or
//! `interrupted`, with the error). A job whose process was killed stays `running`.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use storage::rest::Properties;
use storage::runtime::{block_on, never};
use storage::RestClient;

use super::Context;
use crate::error::Error;

/// Where job records live; a name no restore point folder can take (see
/// `points::validate_server`).
pub const JOBS_FOLDER: &str = "_pgvault/jobs";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobRecord {
    pub id: String,
    /// backup, restore-files, restore or drill.
    pub kind: String,
    /// running, succeeded, failed or interrupted.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<String>,
    /// What else names the job: the restore target, or the source of a restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Bytes written (backup) or read (restores).
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A job being recorded. Recording is best effort: a vault that cannot take the record
/// (a read-only SAS, say) does not stop a restore; the caller is told once.
pub struct Job {
    client: Option<(RestClient, String)>,
    record: Mutex<JobRecord>,
}

impl Job {
    /// Starts recording a `kind` job in the context's vault; when it cannot be recorded, the
    /// job records nothing and the error says why.
    pub fn start(ctx: &Context, kind: &str, detail: Option<String>) -> (Job, Option<Error>) {
        let started_at = Utc::now();
        let id = format!("{}-{kind}-{:04x}", started_at.format("%Y%m%dT%H%M%S%.3fZ"), std::process::id() & 0xffff);
        let record = JobRecord { id, kind: kind.to_string(), status: "running".into(), server: None, point: None, detail, started_at, finished_at: None, bytes: 0, error: None };
        let mut job = Job { client: None, record: Mutex::new(record) };
        match ctx.client() {
            Ok(client) => job.client = Some((client, ctx.vault.container.clone())),
            Err(e) => return (job, Some(e)),
        }
        let problem = job.save().err();
        if problem.is_some() {
            job.client = None;
        }
        (job, problem)
    }

    /// A job that records nothing (its source is not a vault).
    pub fn unrecorded(kind: &str) -> Job {
        let record = JobRecord { id: String::new(), kind: kind.into(), status: "running".into(), server: None, point: None, detail: None, started_at: Utc::now(), finished_at: None, bytes: 0, error: None };
        Job { client: None, record: Mutex::new(record) }
    }

    pub fn set_server(&self, server: &str) {
        self.record.lock().expect("never poisoned").server = Some(server.to_string());
    }

    pub fn set_point(&self, server: &str, point: &str) {
        self.set_server(server);
        self.record.lock().expect("never poisoned").point = Some(point.to_string());
    }

    pub fn add_bytes(&self, bytes: u64) {
        self.record.lock().expect("never poisoned").bytes += bytes;
    }

    /// Records how the job ended; a failure to record is returned for the caller to mention.
    pub fn finish(self, error: Option<&Error>, interrupted: bool) -> Result<(), Error> {
        {
            let mut record = self.record.lock().expect("never poisoned");
            record.finished_at = Some(Utc::now());
            record.status = match error {
                None => "succeeded",
                Some(_) if interrupted => "interrupted",
                Some(_) => "failed",
            }
            .into();
            record.error = error.map(Error::to_string);
        }
        self.save()
    }

    fn save(&self) -> Result<(), Error> {
        let Some((client, container)) = &self.client else { return Ok(()) };
        let record = self.record.lock().expect("never poisoned").clone();
        let body = serde_json::to_vec_pretty(&record).expect("a job record serializes");
        let properties = Properties { content_type: Some("application/json"), content_encoding: None };
        // Written whatever the Ctrl-C state: the record of an interrupted job must land.
        block_on(client.put_blob(container, &format!("{JOBS_FOLDER}/{}.json", record.id), body.into(), &properties), &never)
            .map_err(|e| Error::storage("the job could not be recorded in the vault", e))
    }
}

/// The jobs recorded in the context's vault, newest first.
pub fn list(ctx: &Context) -> Result<Vec<JobRecord>, Error> {
    let store = ctx.store()?;
    let mut jobs = Vec::new();
    for path in super::points::blobs(ctx, &format!("{JOBS_FOLDER}/"))?.into_iter().map(|b| b.path) {
        let text = ctx.run(store.get(&path)).map_err(|e| Error::storage(&path, e))?;
        match serde_json::from_slice::<JobRecord>(&text) {
            Ok(job) => jobs.push(job),
            Err(e) => return Err(Error::Content(format!("{path}: not a job record: {e}"))),
        }
    }
    jobs.sort_by(|a, b| b.started_at.cmp(&a.started_at).then_with(|| b.id.cmp(&a.id)));
    Ok(jobs)
}
