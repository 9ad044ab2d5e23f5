//! `/api/backups` (admins of the `Host`'s tenant): their site's backups — the snapshots the
//! installation's repository holds for it (by name: listing needs no passphrase), the last
//! one and failures since — and `POST` to ask for a restore point, which the installation's
//! next `t8k backup --due` takes. Restoring stays an installation action (`t8k restore`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use t8k_core::backup::{schedule, snapshot};

use crate::error::{ApiError, ApiResult};
use crate::guard::Admin;
use crate::state::{Shared, blocking};

pub async fn list(State(state): State<Shared>, Admin(s): Admin) -> ApiResult<Json<Value>> {
    blocking(&state, move |st| {
        let store = st.inst.store();
        let Some(settings) = st.inst.registry()?.0.backup else {
            return Ok(Json(
                json!({"configured": false, "snapshots": [], "last": null}),
            ));
        };
        let repo = t8k_core::store::open(&settings.repository, &st.inst.env, false)
            .map_err(t8k_core::Error::from)?;
        let snapshots: Vec<Value> = snapshot::names(repo.as_ref(), Some(&s.tenant))?
            .into_iter()
            .map(|n| json!({"snapshot": n.id, "time": n.time()}))
            .collect();
        let status = schedule::status(store, &s.tenant)?;
        Ok(Json(
            json!({"configured": true, "snapshots": snapshots, "last": status}),
        ))
    })
    .await
}

/// Asks for a snapshot at the installation's next scheduled backup run.
pub async fn request(
    State(state): State<Shared>,
    Admin(s): Admin,
) -> ApiResult<(StatusCode, Json<Value>)> {
    blocking(&state, move |st| {
        if st.inst.registry()?.0.backup.is_none() {
            return Err(ApiError::bad_request(
                "this installation has no backup repository yet; ask its operator (`t8k backup init`)",
            ));
        }
        let status = schedule::request(st.inst.store(), &s.tenant)?;
        Ok((StatusCode::ACCEPTED, Json(json!(status))))
    })
    .await
}
