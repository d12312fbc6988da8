//! `pgvault prune`: retention. Of each server's complete points, those a rule keeps stay:
//! the newest N, those of the last D days, the newest of each of the last W weeks and M
//! months (weeks and months that have a point), and always the newest point. Incomplete
//! points (no marker) older than a day are leftovers of failed backups and go too. Ages
//! come from the point ids (their start time), not from storage timestamps.
//!
//! A point is deleted marker first, so a prune cut short leaves an incomplete point, which
//! is never listed and which the next prune removes.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use crate::cli::Cli;
use crate::error::Error;
use crate::report::Report;
use crate::vault::jobs::JOBS_FOLDER;
use crate::vault::points::{self, MARKER};
use crate::vault::Context;

#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub keep_last: usize,
    pub keep_days: Option<u64>,
    pub keep_weekly: usize,
    pub keep_monthly: usize,
}

#[derive(Debug, Serialize)]
pub struct PointPlan {
    pub server: String,
    pub point: String,
    pub complete: bool,
    pub bytes: u64,
    /// Why it stays (empty: it is deleted).
    pub kept_by: Vec<String>,
    #[serde(skip)]
    blobs: Vec<String>,
}

/// What `policy` keeps and deletes in the context's vault, as of `now`.
pub fn plan(ctx: &Context, policy: &Policy, now: DateTime<Utc>) -> Result<Vec<PointPlan>, Error> {
    let mut folders: BTreeMap<(String, String), PointPlan> = BTreeMap::new();
    for blob in points::blobs(ctx, "")? {
        let parts: Vec<&str> = blob.path.splitn(3, '/').collect();
        // Only folders named as pgvault names points; anything else in the container stays.
        let [server, point, name] = parts[..] else { continue };
        if blob.path.starts_with(JOBS_FOLDER) || points::point_time(point).is_none() {
            continue;
        }
        let entry = folders.entry((server.to_string(), point.to_string())).or_insert_with(|| PointPlan {
            server: server.to_string(),
            point: point.to_string(),
            complete: false,
            bytes: 0,
            kept_by: Vec::new(),
            blobs: Vec::new(),
        });
        entry.complete |= name == MARKER;
        entry.bytes += blob.bytes.max(0) as u64;
        entry.blobs.push(blob.path);
    }
    let mut plans: Vec<PointPlan> = folders.into_values().collect();
    let mut servers: Vec<String> = plans.iter().map(|p| p.server.clone()).collect();
    servers.dedup();
    for server in servers {
        let mut complete: Vec<&mut PointPlan> = plans.iter_mut().filter(|p| p.server == server && p.complete).collect();
        complete.sort_by(|a, b| b.point.cmp(&a.point));
        let times: Vec<DateTime<Utc>> = complete.iter().map(|p| points::point_time(&p.point).expect("filtered above")).collect();
        for (plan, reasons) in complete.into_iter().zip(kept(&times, policy, now)) {
            plan.kept_by = reasons;
        }
    }
    let day_ago = now - chrono::Duration::days(1);
    for plan in plans.iter_mut().filter(|p| !p.complete && points::point_time(&p.point).is_some_and(|t| t > day_ago)) {
        plan.kept_by.push("incomplete, less than a day old (may be running)".into());
    }
    plans.sort_by(|a, b| a.server.cmp(&b.server).then(b.point.cmp(&a.point)));
    Ok(plans)
}

/// For points started at `times` (newest first), the rules that keep each.
fn kept(times: &[DateTime<Utc>], policy: &Policy, now: DateTime<Utc>) -> Vec<Vec<String>> {
    let mut reasons = vec![Vec::new(); times.len()];
    if let Some(first) = reasons.first_mut() {
        first.push("newest".to_string());
    }
    for r in reasons.iter_mut().take(policy.keep_last) {
        r.push(format!("last {}", policy.keep_last));
    }
    if let Some(days) = policy.keep_days {
        let since = now - chrono::Duration::days(days as i64);
        for (r, t) in reasons.iter_mut().zip(times) {
            if *t >= since {
                r.push(format!("{days} days"));
            }
        }
    }
    let mut newest_per = |count: usize, label: &str, period: &dyn Fn(&DateTime<Utc>) -> (i32, u32)| {
        let mut seen = Vec::new();
        for (r, t) in reasons.iter_mut().zip(times) {
            let p = period(t);
            if !seen.contains(&p) && seen.len() < count {
                seen.push(p);
                r.push(format!("{label} {}-{:02}", p.0, p.1));
            }
        }
    };
    newest_per(policy.keep_weekly, "week", &|t| (t.iso_week().year(), t.iso_week().week()));
    newest_per(policy.keep_monthly, "month", &|t| (t.year(), t.month()));
    reasons
}

/// Deletes the points `plans` does not keep, marker first; returns how many.
pub fn delete(ctx: &Context, plans: &[PointPlan]) -> Result<usize, Error> {
    let client = ctx.client()?;
    let mut deleted = 0;
    for plan in plans.iter().filter(|p| p.kept_by.is_empty()) {
        let mut blobs: Vec<&String> = plan.blobs.iter().collect();
        blobs.sort_by_key(|b| !b.ends_with(&format!("/{MARKER}")));
        for blob in blobs {
            ctx.run(client.delete_blob(&ctx.vault.container, blob)).map_err(|e| Error::storage(blob, e))?;
        }
        deleted += 1;
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        points::parse_time(text).unwrap()
    }

    #[test]
    fn retention_rules() {
        let now = at("2026-11-23T12:00:00Z");
        // Newest first: two this week, one a week ago, one a month ago, two in September.
        let times = ["2026-11-23T01:00:00Z", "2026-11-22T01:00:00Z", "2026-11-15T01:00:00Z", "2026-10-20T01:00:00Z", "2026-09-20T01:00:00Z", "2026-09-10T01:00:00Z"].map(at);
        let kept_count = |policy: &Policy| kept(&times, policy, now).iter().map(|r| !r.is_empty()).collect::<Vec<_>>();
        // Nothing asked: the newest stays all the same.
        assert_eq!(kept_count(&Policy::default()), [true, false, false, false, false, false]);
        assert_eq!(kept_count(&Policy { keep_last: 3, ..Default::default() }), [true, true, true, false, false, false]);
        assert_eq!(kept_count(&Policy { keep_days: Some(7), ..Default::default() }), [true, true, false, false, false, false]);
        // Weeks 2026-47 (22nd is a Sunday: week 47; 23rd: week 48), 46 ...
        assert_eq!(kept_count(&Policy { keep_weekly: 2, ..Default::default() }), [true, true, false, false, false, false]);
        assert_eq!(kept_count(&Policy { keep_monthly: 3, ..Default::default() }), [true, false, false, true, true, false]);
        let reasons = kept(&times, &Policy { keep_last: 1, keep_monthly: 1, ..Default::default() }, now);
        assert_eq!(reasons[0], vec!["newest", "last 1", "month 2026-11"]);
    }
}

/// Each point and what became of it; how many were deleted.
#[derive(Serialize)]
pub struct Pruned {
    points: Vec<PointPlan>,
    deleted: usize,
    dry_run: bool,
}

impl Report for Pruned {
    fn text(&self) -> String {
        let mut out = String::new();
        for p in &self.points {
            let what = if p.kept_by.is_empty() { if self.dry_run { "would delete".to_string() } else { "deleted".to_string() } } else { format!("keep ({})", p.kept_by.join(", ")) };
            let state = if p.complete { "" } else { " (incomplete)" };
            out.push_str(&format!("{:<20} {:<18} {:>14} {what}{state}\n", p.server, p.point, p.bytes));
        }
        let doomed: Vec<&PointPlan> = self.points.iter().filter(|p| p.kept_by.is_empty()).collect();
        let bytes: u64 = doomed.iter().map(|p| p.bytes).sum();
        if self.dry_run {
            out.push_str(&format!("dry run: {} point(s), {bytes} bytes would be deleted; add --yes to delete them\n", doomed.len()));
        } else {
            out.push_str(&format!("{} point(s) deleted, {bytes} bytes\n", self.deleted));
        }
        out
    }
}

pub fn command(cli: &Cli, vault: &str, policy: &Policy, yes: bool) -> Result<Pruned, Error> {
    let ctx = super::open(cli, "--vault", vault)?;
    let points = plan(&ctx, policy, chrono::Utc::now())?;
    let deleted = if yes { delete(&ctx, &points)? } else { 0 };
    Ok(Pruned { points, deleted, dry_run: !yes })
}
