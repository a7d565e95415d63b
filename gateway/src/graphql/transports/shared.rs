//! Identical subscriptions share one execution. Candidates subscribe with
//! the criteria a frontend offers them, so many of a region's subscribers
//! send the same document with the same variables: each such group runs
//! once (parsed, validated and resolved once, its results serialized once)
//! and its results are handed to every member. A member keeps only its
//! place in the group and a bounded buffer: an idle subscriber costs its
//! connection, not an execution.
//!
//! Requests are the same when their document, operation name, variables
//! and caller (subject, scopes, OPCO, CFA) are: a member sees exactly what
//! its own execution would have shown it. Queries and mutations sent over
//! a subscription transport run alone, as does a document that does not
//! parse (it is answered with its error).
//!
//! A member that lets its buffer fill is cut off (its `closer` is
//! cancelled), as a subscriber of its own would be; if the execution
//! itself is cut off, every member is.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;

use crate::domain::alerts::live::{Batches, Bound, Mailbox, Refused};

/// How long results ready one after the other are gathered into one entry
/// of the members' buffers: a detection's offers arrive together.
const GATHER: Duration = Duration::from_millis(20);

/// At most this many results in one entry.
const GATHER_MAX: usize = 4096;

/// One result of a subscription, serialized once for all its members.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The GraphQL response, as JSON.
    pub response: Arc<str>,
    /// For a request that cannot run (refused before execution: no data,
    /// errors without a path): its errors, as a JSON array. An operation
    /// that ran is a result, even with `data: null`.
    pub errors: Option<Arc<str>>,
}

impl From<&async_graphql::Response> for Outcome {
    fn from(r: &async_graphql::Response) -> Self {
        let failed = super::execute::is_request_error(r);
        let payload = super::execute::payload(r);
        Self {
            // The payload is JSON, serialized from strings and values.
            response: String::from_utf8_lossy(&payload).into(),
            errors: failed.then(|| {
                serde_json::to_string(&r.errors)
                    .expect("errors serialize")
                    .into()
            }),
        }
    }
}

type Batch = Arc<[Outcome]>;

/// The size of a batch's results.
fn size_of(batch: &[Outcome]) -> usize {
    batch
        .iter()
        .map(|o| o.response.len() + o.errors.as_ref().map_or(0, |e| e.len()))
        .sum()
}

struct Member {
    id: u64,
    queue: Arc<Mailbox<Batch>>,
    closer: CancellationToken,
}

impl Drop for Member {
    /// Out of its group (the execution ended, or the member was cut off),
    /// a member's stream ends once read.
    fn drop(&mut self) {
        self.queue.close();
    }
}

struct Group {
    /// Tells apart a group from a later one under the same key.
    id: u64,
    members: Vec<Member>,
    /// Stops the execution when the last member leaves.
    task: tokio::task::AbortHandle,
}

/// The shared executions of one process.
pub struct SharedSubscriptions {
    groups: Mutex<HashMap<Arc<str>, Group>>,
    next: AtomicU64,
    /// What a member's buffer holds.
    buffer: Bound,
}

impl std::fmt::Debug for SharedSubscriptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSubscriptions")
            .field("buffer", &self.buffer)
            .finish_non_exhaustive()
    }
}

impl SharedSubscriptions {
    /// No group yet; a member buffers `entries` entries and `bytes`
    /// bytes at most.
    pub fn new(entries: usize, bytes: usize) -> Self {
        Self {
            groups: Mutex::default(),
            next: AtomicU64::new(1),
            buffer: Bound {
                entries: entries.max(1),
                bytes,
            },
        }
    }

    /// How many subscribers, over all groups.
    pub fn members(&self) -> usize {
        self.groups
            .lock()
            .expect("groups lock")
            .values()
            .map(|g| g.members.len())
            .sum()
    }

    /// How many executions.
    pub fn groups(&self) -> usize {
        self.groups.lock().expect("groups lock").len()
    }

    /// A subscriber's results: those of the group under `key` (see
    /// [`key_of`]), which `run` starts when there is none, or of `run`
    /// alone when `key` is `None`. `run` is given the token that cuts the
    /// execution off; `closer` is cancelled if the subscriber is cut off.
    pub fn subscribe(
        self: &Arc<Self>,
        key: Option<String>,
        run: impl FnOnce(CancellationToken) -> BoxStream<'static, async_graphql::Response>,
        closer: CancellationToken,
    ) -> BoxStream<'static, Outcome> {
        let Some(key) = key else {
            return run(closer).map(|r| Outcome::from(&r)).boxed();
        };
        // One text for the group's entry and each member's.
        let key: Arc<str> = key.into();
        let queue = Arc::new(Mailbox::default());
        let member = self.next.fetch_add(1, Ordering::Relaxed);
        let mut groups = self.groups.lock().expect("groups lock");
        let group = match groups.get_mut(&key) {
            Some(g) => g,
            None => {
                let id = self.next.fetch_add(1, Ordering::Relaxed);
                let cut = CancellationToken::new();
                let results = run(cut.clone());
                let task = tokio::spawn(self.clone().fan_out(key.clone(), id, results, cut));
                groups.entry(key.clone()).or_insert(Group {
                    id,
                    members: Vec::new(),
                    task: task.abort_handle(),
                })
            }
        };
        group.members.push(Member {
            id: member,
            queue: queue.clone(),
            closer,
        });
        let group_id = group.id;
        self.gauge(&groups);
        drop(groups);
        Membership {
            queue,
            pending: Batches::default(),
            key,
            group: group_id,
            member,
            owner: self.clone(),
        }
        .boxed()
    }

    fn gauge(&self, groups: &HashMap<Arc<str>, Group>) {
        let members: usize = groups.values().map(|g| g.members.len()).sum();
        metrics::gauge!("passerelle_subscribers_active").set(members as f64);
        metrics::gauge!("passerelle_subscription_executions").set(groups.len() as f64);
    }

    /// Runs a group's execution, handing its results to the members.
    async fn fan_out(
        self: Arc<Self>,
        key: Arc<str>,
        id: u64,
        results: BoxStream<'static, async_graphql::Response>,
        cut: CancellationToken,
    ) {
        let mut results = results.fuse();
        loop {
            let first = tokio::select! {
                biased;
                _ = cut.cancelled() => None,
                r = results.next() => r,
            };
            let Some(first) = first else {
                break;
            };
            let mut batch = vec![Outcome::from(&first)];
            let until = tokio::time::Instant::now() + GATHER;
            while batch.len() < GATHER_MAX {
                match tokio::time::timeout_at(until, results.next()).await {
                    Ok(Some(r)) => batch.push(Outcome::from(&r)),
                    Ok(None) | Err(_) => break,
                }
            }
            let bytes = size_of(&batch);
            let batch: Batch = batch.into();
            let mut groups = self.groups.lock().expect("groups lock");
            let Some(group) = groups.get_mut(&key).filter(|g| g.id == id) else {
                return;
            };
            let mut cut_off = 0u64;
            let bound = self.buffer;
            group
                .members
                .retain(|m| match m.queue.push(batch.clone(), bytes, bound) {
                    Ok(()) => true,
                    Err(Refused::Full) => {
                        m.closer.cancel();
                        cut_off += 1;
                        false
                    }
                    Err(Refused::Gone) => false,
                });
            if group.members.is_empty() {
                groups.remove(&key);
                self.gauge(&groups);
                drop(groups);
                // The execution goes before the cut-off is counted: once it
                // is, nothing of the group is left.
                drop(results);
                metrics::counter!("passerelle_subscribers_cut_off_total").increment(cut_off);
                return;
            }
            self.gauge(&groups);
            drop(groups);
            metrics::counter!("passerelle_subscribers_cut_off_total").increment(cut_off);
        }
        // The execution ended (its results told) or was cut off: its
        // members' streams end once read; cut off, they are told to go.
        let mut groups = self.groups.lock().expect("groups lock");
        if groups.get(&key).is_some_and(|g| g.id == id) {
            if let Some(g) = groups.remove(&key) {
                if cut.is_cancelled() {
                    for m in &g.members {
                        m.closer.cancel();
                    }
                }
            }
        }
        self.gauge(&groups);
    }

    fn leave(&self, key: &str, group: u64, member: u64) {
        let mut groups = self.groups.lock().expect("groups lock");
        let Some(g) = groups.get_mut(key).filter(|g| g.id == group) else {
            return;
        };
        g.members.retain(|m| m.id != member);
        if g.members.is_empty() {
            if let Some(g) = groups.remove(key) {
                g.task.abort();
            }
        }
        self.gauge(&groups);
    }
}

/// The key of a subscription's group: `None` when it cannot be written
/// (it then runs alone).
pub fn key_of(
    query: &str,
    operation_name: Option<&str>,
    variables: Option<&serde_json::Map<String, serde_json::Value>>,
    caller: &crate::auth::Caller,
) -> Option<String> {
    // Variables in a canonical order: the same filter written in another
    // order is the same request.
    let variables: Option<std::collections::BTreeMap<&String, &serde_json::Value>> =
        variables.map(|v| v.iter().collect());
    serde_json::to_string(&(
        query,
        operation_name,
        variables,
        &caller.subject,
        &caller.scopes,
        &caller.opco,
        &caller.cfa,
    ))
    .ok()
}

/// A member's results. Dropped, it leaves its group.
struct Membership {
    queue: Arc<Mailbox<Batch>>,
    pending: Batches<Outcome>,
    key: Arc<str>,
    group: u64,
    member: u64,
    owner: Arc<SharedSubscriptions>,
}

impl Stream for Membership {
    type Item = Outcome;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Outcome>> {
        let this = &mut *self;
        this.pending.poll_next(cx, |cx| this.queue.poll_pop(cx))
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.owner.leave(&self.key, self.group, self.member);
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;

    use super::*;

    fn caller(subject: Option<&str>) -> crate::auth::Caller {
        crate::auth::Caller {
            subject: subject.map(str::to_owned),
            scopes: Vec::new(),
            opco: None,
            cfa: None,
            expires: None,
        }
    }

    #[test]
    fn only_the_same_subscription_of_the_same_caller_is_shared() {
        let sub = "subscription ($f: OfferFilter) { offerPublished(filter: $f) { offer { id } } }";
        let vars = |s: &str| serde_json::from_str::<serde_json::Map<_, _>>(s).unwrap();
        let a = key_of(
            sub,
            None,
            Some(&vars(r#"{"f": {"departement": "14"}, "g": 1}"#)),
            &caller(None),
        );
        let b = key_of(
            sub,
            None,
            Some(&vars(r#"{"g": 1, "f": {"departement": "14"}}"#)),
            &caller(None),
        );
        assert!(a.is_some());
        assert_eq!(a, b, "variables in another order");
        let other_vars = key_of(
            sub,
            None,
            Some(&vars(r#"{"f": {"departement": "50"}}"#)),
            &caller(None),
        );
        let other_caller = key_of(
            sub,
            None,
            Some(&vars(r#"{"f": {"departement": "14"}, "g": 1}"#)),
            &caller(Some("cfa-1")),
        );
        assert_ne!(a, other_vars);
        assert_ne!(a, other_caller);
        let two = "query A { a } subscription B { b }";
        assert_ne!(
            key_of(two, Some("A"), None, &caller(None)),
            key_of(two, Some("B"), None, &caller(None))
        );
    }

    fn response(n: i64) -> async_graphql::Response {
        async_graphql::Response::new(async_graphql::Value::from(n))
    }

    #[tokio::test]
    async fn members_share_one_execution_and_a_stalled_one_is_cut_off() {
        let shared = Arc::new(SharedSubscriptions::new(1, 1 << 20));
        let (tx, rx) = mpsc::unbounded_channel::<async_graphql::Response>();
        let rx = Arc::new(Mutex::new(Some(rx)));
        let runs = Arc::new(AtomicU64::new(0));
        let run = |_: CancellationToken| {
            runs.fetch_add(1, Ordering::Relaxed);
            let rx = rx.lock().unwrap().take().expect("run once");
            tokio_stream_of(rx)
        };
        let reader_closer = CancellationToken::new();
        let stalled_closer = CancellationToken::new();
        let key = Some("k".to_owned());
        let mut reader = shared.subscribe(key.clone(), run, reader_closer.clone());
        let _stalled = shared.subscribe(
            key.clone(),
            |_| unreachable!("the group runs already"),
            stalled_closer.clone(),
        );
        assert_eq!((shared.groups(), shared.members()), (1, 2));
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        for n in 0..3 {
            tx.send(response(n)).unwrap();
            let o = reader.next().await.unwrap();
            assert_eq!(&*o.response, format!(r#"{{"data":{n}}}"#));
            assert!(o.errors.is_none());
            // Past the gathering window, the next result is an entry of
            // its own.
            tokio::time::sleep(GATHER * 2).await;
        }
        // The stalled member's buffer (one entry) filled at the second.
        assert!(stalled_closer.is_cancelled() && !reader_closer.is_cancelled());
        assert_eq!(shared.members(), 1);
        drop(reader);
        assert_eq!((shared.groups(), shared.members()), (0, 0));
    }

    #[tokio::test]
    async fn a_member_is_cut_off_past_its_bytes_and_lets_them_go() {
        // Room for a hundred entries, but 2 KiB only.
        let shared = Arc::new(SharedSubscriptions::new(100, 2048));
        let (tx, rx) = mpsc::unbounded_channel::<async_graphql::Response>();
        let mut rx = Some(rx);
        let stalled_closer = CancellationToken::new();
        let reader_closer = CancellationToken::new();
        let key = Some("k".to_owned());
        let mut reader = shared.subscribe(
            key.clone(),
            |_| tokio_stream_of(rx.take().unwrap()),
            reader_closer.clone(),
        );
        let stalled = shared.subscribe(key, |_| unreachable!(), stalled_closer.clone());
        let big = || async_graphql::Response::new(async_graphql::Value::from("x".repeat(1500)));
        // The first entry is taken whatever its size: one that reads gets
        // every result.
        tx.send(big()).unwrap();
        assert!(reader.next().await.is_some());
        tokio::time::sleep(GATHER * 2).await;
        assert!(!stalled_closer.is_cancelled());
        tx.send(big()).unwrap();
        assert!(reader.next().await.is_some());
        tokio::time::sleep(GATHER * 2).await;
        assert!(stalled_closer.is_cancelled() && !reader_closer.is_cancelled());
        // Cut off, the stalled member's stream holds nothing: it ends at
        // once when read.
        let mut stalled = stalled;
        assert!(stalled.next().await.is_none());
        assert_eq!(shared.members(), 1);
    }

    fn tokio_stream_of(
        mut rx: mpsc::UnboundedReceiver<async_graphql::Response>,
    ) -> BoxStream<'static, async_graphql::Response> {
        futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
    }
}
