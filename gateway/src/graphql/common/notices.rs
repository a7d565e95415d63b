//! Notices: what an answer should tell its caller that is not an error.
//! A filter on a département outside Normandy, for one, is answered empty
//! (Passerelle holds Normandy's data only), with a notice saying why.
//!
//! Notices are answered under the response's `extensions.notices`, each
//! with a `code`, a `message` and the `path` of the field it is about.

use std::sync::{Arc, Mutex};

use async_graphql::Context;
use serde_json::{json, Value};

/// The notices of one request, gathered as its fields resolve.
#[derive(Clone, Default)]
pub struct Notices(Arc<Mutex<Vec<Value>>>);

impl Notices {
    /// The notices gathered, as the response's `extensions.notices`;
    /// `None` when there is none.
    pub fn take(&self) -> Option<async_graphql::Value> {
        let notices = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        if notices.is_empty() {
            return None;
        }
        async_graphql::Value::from_json(Value::Array(notices)).ok()
    }
}

/// Tells the caller of the field being resolved `message`, under `code`.
pub fn notice(ctx: &Context<'_>, code: &'static str, message: String) {
    let Ok(notices) = ctx.data::<Notices>() else {
        return;
    };
    let path = ctx.path_node.map(|p| p.to_string_vec()).unwrap_or_default();
    let mut all = notices.0.lock().unwrap_or_else(|p| p.into_inner());
    let entry = json!({ "code": code, "message": message, "path": path });
    if !all.contains(&entry) {
        all.push(entry);
    }
}
