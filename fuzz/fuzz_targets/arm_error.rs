//! ARM's error envelope from any bytes: a response body, an operation's status message (an
//! object, a JSON string, an envelope serialised inside a detail's message), and the report
//! and remediations built from the tree.
#![no_main]

use landfall_azure::{ArmErrorDetail, Error, FailedOperation};
use libfuzzer_sys::fuzz_target;

fn exercise(detail: ArmErrorDetail) {
    let _ = detail.summary();
    let _ = detail.root_causes();
    let _ = detail.find_code("QuotaExceeded");
    let report = Error::OperationFailed {
        url: "/subscriptions/s/resourceGroups/rg".into(),
        status: "Failed".into(),
        detail: Some(Box::new(detail)),
    }
    .report();
    let _ = serde_json::to_string(&report);
}

fuzz_target!(|data: &[u8]| {
    if let Some(d) = ArmErrorDetail::from_body(data) {
        exercise(d);
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Some(d) = ArmErrorDetail::from_status_message(&value) {
            exercise(d);
        }
        if let Some(op) = FailedOperation::from_operation(&value) {
            exercise(op.error);
        }
        for op in FailedOperation::all_in(&value) {
            exercise(op.error);
        }
    }
});
