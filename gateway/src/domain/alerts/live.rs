//! The live subscribers of new offers: each with its filter, indexed, and
//! a bounded buffer of batches (a detection's offers it matches are one
//! entry, however many). A subscriber that lets its buffer fill is cut off
//! rather than buffered without bound: its connection is told to close
//! (`closer`), and it is dropped.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use passerelle_schema::Offer;
use rustc_hash::FxHashMap;
use tokio_util::sync::CancellationToken;

use super::index::{FilterIndex, Group};
use crate::domain::offers::OfferFilter;

/// The live subscribers of one process.
#[derive(Debug)]
pub struct LiveSubscribers {
    inner: Mutex<Inner>,
    next: AtomicU64,
    /// How many batches a subscriber's buffer holds.
    buffer: usize,
}

#[derive(Debug, Default)]
struct Inner {
    index: FilterIndex<u64>,
    senders: FxHashMap<u64, Subscriber>,
}

/// The offers of one publication a subscriber matches.
type Batch = Arc<[Arc<Offer>]>;

#[derive(Debug)]
struct Subscriber {
    mailbox: Arc<Mailbox<Batch>>,
    /// Cancelled when the subscriber is cut off for not reading.
    closer: CancellationToken,
}

impl Drop for Subscriber {
    /// Out of the subscribers (cut off, or the gateway stopping), its
    /// stream ends once read.
    fn drop(&mut self) {
        self.mailbox.close();
    }
}

/// A reader's bounded buffer: a lock, a queue that takes no room while
/// empty, and the waker of its reader (a channel keeps a block of slots
/// for each reader, idle or not). A live subscriber's batches of offers,
/// and a shared execution's results for each of its members, wait in one.
#[derive(Debug)]
pub struct Mailbox<T> {
    state: Mutex<Letters<T>>,
    reader: futures::task::AtomicWaker,
}

impl<T> Default for Mailbox<T> {
    fn default() -> Self {
        Self {
            state: Mutex::new(Letters {
                entries: Default::default(),
                bytes: 0,
                closed: false,
            }),
            reader: Default::default(),
        }
    }
}

#[derive(Debug)]
struct Letters<T> {
    /// Entries, each with its size in bytes.
    entries: std::collections::VecDeque<(T, usize)>,
    /// The bytes of the entries.
    bytes: usize,
    /// No more entries will come.
    closed: bool,
}

/// What a mailbox may hold: entries, and bytes (one entry larger than
/// that is taken when the mailbox is empty: a reader that reads gets every
/// entry).
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    /// Entries, at most.
    pub entries: usize,
    /// Bytes, at most.
    pub bytes: usize,
}

/// Why an entry was not taken.
pub enum Refused {
    /// The mailbox is full: its reader does not read.
    Full,
    /// The reader is gone.
    Gone,
}

impl<T> Mailbox<T> {
    /// Leaves `entry` (of `bytes`) for the reader, within `bound`. Full, the
    /// mailbox lets what it held go now, not when its reader does (a reader
    /// that never reads never goes).
    pub fn push(self: &Arc<Self>, entry: T, bytes: usize, bound: Bound) -> Result<(), Refused> {
        // The reader gone, nobody else holds the mailbox.
        if Arc::strong_count(self) == 1 {
            return Err(Refused::Gone);
        }
        let mut state = self.state.lock().expect("mailbox lock");
        let over_bytes = !state.entries.is_empty() && state.bytes + bytes > bound.bytes;
        if state.entries.len() >= bound.entries || over_bytes {
            state.entries = Default::default();
            state.bytes = 0;
            return Err(Refused::Full);
        }
        state.entries.push_back((entry, bytes));
        state.bytes += bytes;
        drop(state);
        self.reader.wake();
        Ok(())
    }

    /// No more entries will come: the reader's stream ends once read.
    pub fn close(&self) {
        self.state.lock().expect("mailbox lock").closed = true;
        self.reader.wake();
    }

    /// The next entry; `None` once closed and read.
    pub fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.reader.register(cx.waker());
        let mut state = self.state.lock().expect("mailbox lock");
        match state.entries.pop_front() {
            Some((entry, bytes)) => {
                state.bytes -= bytes;
                Poll::Ready(Some(entry))
            }
            None if state.closed => Poll::Ready(None),
            None => Poll::Pending,
        }
    }
}

/// What one publication reached.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// Offers handed to subscribers.
    pub notified: usize,
    /// Subscribers cut off for not reading.
    pub cut_off: usize,
}

impl LiveSubscribers {
    /// No subscriber yet; each will buffer `buffer` batches at most.
    pub fn new(buffer: usize) -> Self {
        Self {
            inner: Mutex::default(),
            next: AtomicU64::new(1),
            buffer: buffer.max(1),
        }
    }

    /// How many subscribers.
    pub fn len(&self) -> usize {
        self.inner.lock().expect("subscribers lock").senders.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Subscribes to the new offers `filter` matches; `closer` is cancelled
    /// if the subscriber stops reading.
    pub fn subscribe(
        self: &Arc<Self>,
        filter: OfferFilter,
        closer: CancellationToken,
    ) -> LiveSubscription {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mailbox = Arc::new(Mailbox::<Batch>::default());
        let mut inner = self.inner.lock().expect("subscribers lock");
        inner.index.insert(id, filter);
        inner.senders.insert(
            id,
            Subscriber {
                mailbox: mailbox.clone(),
                closer,
            },
        );
        metrics::gauge!("passerelle_subscriptions_active").set(inner.senders.len() as f64);
        LiveSubscription {
            mailbox,
            pending: Batches::default(),
            id,
            owner: self.clone(),
        }
    }

    fn unsubscribe(&self, id: u64) {
        let mut inner = self.inner.lock().expect("subscribers lock");
        inner.index.remove(id);
        inner.senders.remove(&id);
        metrics::gauge!("passerelle_subscriptions_active").set(inner.senders.len() as f64);
    }

    /// Hands each offer to the subscribers whose filter it matches: one
    /// entry of their buffer for all the offers of the call they match,
    /// shared by the subscribers of the same filter.
    pub fn publish(&self, offers: &[Arc<Offer>]) -> Reach {
        let mut reach = Reach::default();
        let mut inner = self.inner.lock().expect("subscribers lock");
        let mut matched: FxHashMap<Group, Vec<Arc<Offer>>> = FxHashMap::default();
        for offer in offers {
            for g in inner.index.matching(offer) {
                matched.entry(g).or_default().push(offer.clone());
            }
        }
        let mut cut_off = Vec::new();
        for (g, offers) in matched {
            let shared: Batch = offers.into();
            for id in inner.index.keys(g) {
                let Some(s) = inner.senders.get(id) else {
                    continue;
                };
                let bound = Bound {
                    entries: self.buffer,
                    bytes: usize::MAX,
                };
                match s.mailbox.push(shared.clone(), 0, bound) {
                    Ok(()) => reach.notified += shared.len(),
                    Err(Refused::Full) => {
                        s.closer.cancel();
                        cut_off.push(*id);
                    }
                    // Its stream is gone; its guard removes it.
                    Err(Refused::Gone) => {}
                }
            }
        }
        reach.cut_off = cut_off.len();
        for id in cut_off {
            inner.index.remove(id);
            inner.senders.remove(&id);
        }
        metrics::counter!("passerelle_subscription_offers_total").increment(reach.notified as u64);
        metrics::counter!("passerelle_subscribers_cut_off_total").increment(reach.cut_off as u64);
        metrics::gauge!("passerelle_subscriptions_active").set(inner.senders.len() as f64);
        reach
    }
}

/// A subscription: a stream of the new offers its filter matches. Dropped,
/// it unsubscribes.
#[derive(Debug)]
pub struct LiveSubscription {
    mailbox: Arc<Mailbox<Batch>>,
    /// The batch being read, and how far.
    pending: Batches<Arc<Offer>>,
    id: u64,
    owner: Arc<LiveSubscribers>,
}

/// Reads shared batches one item at a time: the batch being read and how
/// far, the next one polled once it is done.
#[derive(Debug)]
pub struct Batches<T> {
    pending: Option<(Arc<[T]>, usize)>,
}

impl<T> Default for Batches<T> {
    fn default() -> Self {
        Self { pending: None }
    }
}

impl<T: Clone> Batches<T> {
    /// The next item, from the batch being read or from the next one
    /// `poll_batch` gives.
    pub fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        mut poll_batch: impl FnMut(&mut Context<'_>) -> Poll<Option<Arc<[T]>>>,
    ) -> Poll<Option<T>> {
        loop {
            if let Some((batch, next)) = &mut self.pending {
                if let Some(item) = batch.get(*next) {
                    *next += 1;
                    return Poll::Ready(Some(item.clone()));
                }
                self.pending = None;
            }
            match poll_batch(cx) {
                Poll::Ready(Some(batch)) => self.pending = Some((batch, 0)),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl LiveSubscription {
    /// The next batch of offers its filter matched, whole; `None` once it
    /// was cut off or the gateway stops.
    pub async fn next_batch(&mut self) -> Option<Arc<[Arc<Offer>]>> {
        if let Some((batch, next)) = self.pending.pending.take() {
            if next < batch.len() {
                return Some(batch[next..].into());
            }
        }
        futures::future::poll_fn(|cx| self.mailbox.poll_pop(cx)).await
    }
}

impl futures::Stream for LiveSubscription {
    type Item = Arc<Offer>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        this.pending.poll_next(cx, |cx| this.mailbox.poll_pop(cx))
    }
}

impl Drop for LiveSubscription {
    fn drop(&mut self) {
        self.owner.unsubscribe(self.id);
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[tokio::test]
    async fn a_subscriber_that_does_not_read_is_cut_off_not_buffered() {
        let live = Arc::new(LiveSubscribers::new(2));
        let slow = CancellationToken::new();
        let reader = CancellationToken::new();
        let _stalled = live.subscribe(OfferFilter::default(), slow.clone());
        let mut reading = live.subscribe(OfferFilter::default(), reader.clone());
        let offer = Arc::new(crate::partners::packed::tests::offer());
        for _ in 0..2 {
            live.publish(std::slice::from_ref(&offer));
            reading.next().await.unwrap();
        }
        assert!(!slow.is_cancelled());
        let reach = live.publish(std::slice::from_ref(&offer));
        assert_eq!(
            reach,
            Reach {
                notified: 1,
                cut_off: 1
            }
        );
        assert!(slow.is_cancelled() && !reader.is_cancelled());
        assert_eq!(live.len(), 1);
        drop(reading);
        assert!(live.is_empty());
    }
}
