//! The events read from one calendar gathered: one version of each event
//! (the highest `SEQUENCE`), its overrides held in it.

use std::collections::HashMap;

use crate::event::{Event, EventTime};

impl Event {
    /// Gathers the events read from one calendar: of the versions of an
    /// event (the same site and `UID`), the one of the highest `SEQUENCE`
    /// (the later of equals); each override (an event with a
    /// `RECURRENCE-ID`) into its event's `overrides`, the highest
    /// `SEQUENCE` again winning among those that replace the same
    /// occurrence. An override whose event is not in the calendar stands
    /// for itself, with the later ones of its `UID` as its overrides.
    pub fn gather(events: Vec<Event>) -> Vec<Event> {
        let mut out: Vec<Event> = Vec::with_capacity(events.len());
        let mut index: HashMap<(String, String), usize> = HashMap::new();
        let mut overrides = Vec::new();
        for e in events {
            if e.recurrence_id.is_some() {
                overrides.push(e);
                continue;
            }
            match index.get(&(e.site.clone(), e.partner_id.clone())) {
                Some(&i) if out[i].sequence <= e.sequence => out[i] = e,
                Some(_) => {}
                None => {
                    index.insert((e.site.clone(), e.partner_id.clone()), out.len());
                    out.push(e);
                }
            }
        }
        for o in overrides {
            let key = (o.site.clone(), o.partner_id.clone());
            let Some(&i) = index.get(&key) else {
                index.insert(key, out.len());
                out.push(o);
                continue;
            };
            let replaced = o.recurrence_id.map(EventTime::instant);
            let master = &mut out[i];
            match master
                .overrides
                .iter_mut()
                .find(|x| x.recurrence_id.map(EventTime::instant) == replaced)
            {
                Some(x) if x.sequence <= o.sequence => *x = o,
                Some(_) => {}
                None => master.overrides.push(o),
            }
        }
        for e in &mut out {
            e.overrides
                .sort_by_key(|o| o.recurrence_id.map(EventTime::instant));
        }
        out
    }
}
